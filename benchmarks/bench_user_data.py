"""User data events delivered to a subscriber on both transports, against bare WebSocket
clients receiving the frames.

    python benchmarks/bench_user_data.py [--runs 7] [--events 50000]
                                         [--server subprocess|inproc] [--json [PATH]]

The server is a :class:`~trio_binance.testing.LocalExchange` with user data streams
installed and one extra handler, ``bench.burst``, that queues ``--events`` pre-encoded
``{"subscriptionId", "event"}`` frames on the calling connection before its reply. The events
are the documented ``executionReport`` (tests/fixtures/spec/user_data_events.json) with a
different order id each, ~640 bytes a frame. Five clients, each on its own connection,
measured on the client side from sending ``bench.burst`` to holding the last event:

* **trio_binance**: ``async with session.user_data() as events`` (default 10,000-event
  buffer: a consumer that keeps up never overflows), ``async for`` to typed
  ``ExecutionReport`` events -- the receive task, the envelope decode, the stream's buffer and
  the typed decode (``Decimal``, enums) in the consumer;
* **bare + our codec**: trio-websocket, then ``FrameDecoder`` and ``decode_user_event`` inline
  in the receiving task: what decoding costs without the session's tasks;
* **bare trio-websocket**: ``get_message()`` and nothing else: the raw frame rate;
* **trio_binance fast** and **bare websockets**: the same two ends on the fast transport
  (``transport="websockets"``) and on websockets' Trio client alone (``recv()``).

Each run measures every client in turn (order rotating by run); figures are medians over
runs, ratios the median of each run's own ratio. ``--server subprocess`` (the default) serves
from a child process so the server does not share the client's core.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

import msgspec
import trio
import trio_websocket
import websockets.trio.client
from _common import (
    REPO_ROOT,
    add_output_arguments,
    describe_machine,
    fmt_ratio,
    median,
    print_table,
    spread,
    write_results,
)

from trio_binance import Ed25519Credentials, connect, generate_ed25519
from trio_binance._protocol import FrameDecoder, UserDataFrame
from trio_binance._session import Session
from trio_binance._transport import (
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_MESSAGE_QUEUE_SIZE,
    DEFAULT_RECEIVE_BUFFER_SIZE,
)
from trio_binance.models import ExecutionReport, decode_user_event
from trio_binance.testing import Lifecycle, LocalExchange, Request, open_local_exchange
from trio_binance.testing._limits import Limit, RateLimitConfig
from trio_binance.testing._user_streams import install_user_streams

BURST = "bench.burst"  # not a Binance method: queues a burst of user data frames
EVENTS = REPO_ROOT / "tests" / "fixtures" / "spec" / "user_data_events.json"
API_KEY = "benchkey"


def documented_report() -> dict[str, Any]:
    (entry,) = (e for e in json.loads(EVENTS.read_text()) if e["event_type"] == "executionReport")
    event = dict(entry["event"])
    event.pop("v", None)  # a conditional STP field
    return event


class Burst:
    """Pre-encoded frames, per subscription id, so the server only queues them."""

    def __init__(self) -> None:
        self._report = documented_report()
        self._bodies: list[bytes] = []
        self._frames: dict[int, list[str]] = {}

    def frames(self, subscription_id: int, count: int) -> list[str]:
        while len(self._bodies) < count:
            event = {**self._report, "i": len(self._bodies)}
            self._bodies.append(msgspec.json.encode(event))
        cached = self._frames.get(subscription_id, [])
        if len(cached) < count:
            prefix = f'{{"subscriptionId":{subscription_id},"event":'
            cached = [f"{prefix}{body.decode()}}}" for body in self._bodies[:count]]
            self._frames[subscription_id] = cached
        return cached[:count]

    def handler(self, request: Request) -> dict[str, Any]:
        for frame in self.frames(request.params["subscriptionId"], request.params["count"]):
            request.connection.push(frame)
        return {}


def bench_exchange(public_key_pem: str) -> LocalExchange:
    """The server; it knows one Ed25519 key, whose private half only the client holds."""
    unlimited = Limit("REQUEST_WEIGHT", "MINUTE", 1, 10**12)
    exchange = LocalExchange(
        limits=RateLimitConfig(request_weight=(unlimited,)),
        lifecycle=Lifecycle(ping_interval=3600.0, pong_timeout=3600.0),
        outbox_size=1_000_000,
    )
    install_user_streams(exchange)
    exchange.keys.add(API_KEY, "bench", public_key_pem=public_key_pem)
    exchange.register(BURST, Burst().handler)
    return exchange


# --- the three clients -------------------------------------------------------------------


class Ours:
    name = "trio_binance"

    def __init__(self, session: Session) -> None:
        self.session = session

    async def burst(self, count: int) -> float:
        """Seconds from asking for ``count`` events to holding the last one, typed."""
        async with self.session.user_data() as events, trio.open_nursery() as nursery:
            params = {"subscriptionId": events.subscription_id, "count": count}
            start = time.perf_counter()
            nursery.start_soon(self.session.request, BURST, params)
            taken = 0
            last = None
            async for event in events:
                taken += 1
                if taken == count:
                    last = event
                    break
            elapsed = time.perf_counter() - start
            if not isinstance(last, ExecutionReport) or last.order_id != count - 1:
                raise RuntimeError(f"unexpected last event: {last!r}")
        return elapsed


class OursFast(Ours):
    name = "trio_binance fast"


class Bare:
    name = "bare trio-websocket"

    def __init__(self, ws: trio_websocket.WebSocketConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    def request(self, count: int) -> str:
        params = {"subscriptionId": 0, "count": count}
        return json.dumps({"id": next(self.ids), "method": BURST, "params": params})

    async def burst(self, count: int) -> float:
        get = self.ws.get_message
        start = time.perf_counter()
        await self.ws.send_message(self.request(count))
        for _ in range(count):
            await get()
        elapsed = time.perf_counter() - start
        await get()  # the reply
        return elapsed


class BareCodec(Bare):
    name = "bare + our codec"

    async def burst(self, count: int) -> float:
        get = self.ws.get_message
        decode = FrameDecoder().decode
        start = time.perf_counter()
        await self.ws.send_message(self.request(count))
        for _ in range(count):
            frame = decode(await get())
            assert isinstance(frame, UserDataFrame)
            event = decode_user_event(frame.event)
        elapsed = time.perf_counter() - start
        await get()
        if not isinstance(event, ExecutionReport) or event.order_id != count - 1:
            raise RuntimeError(f"unexpected last event: {event!r}")
        return elapsed


class BareWebsockets:
    name = "bare websockets"

    def __init__(self, ws: websockets.trio.client.ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    async def burst(self, count: int) -> float:
        recv = self.ws.recv
        params = {"subscriptionId": 0, "count": count}
        request = json.dumps({"id": next(self.ids), "method": BURST, "params": params})
        start = time.perf_counter()
        await self.ws.send(request)
        for _ in range(count):
            await recv()
        elapsed = time.perf_counter() - start
        await recv()  # the reply
        return elapsed


Client = Ours | Bare | BareCodec | BareWebsockets
CLIENTS = (Bare.name, BareWebsockets.name, BareCodec.name, Ours.name, OursFast.name)


def open_bare(url: str) -> Any:
    return trio_websocket.open_websocket_url(
        url,
        max_message_size=DEFAULT_MAX_MESSAGE_SIZE,
        receive_buffer_size=DEFAULT_RECEIVE_BUFFER_SIZE,
        message_queue_size=DEFAULT_MESSAGE_QUEUE_SIZE,
    )


def open_bare_websockets(url: str) -> websockets.trio.client.connect:
    """websockets' Trio client configured like the fast transport."""
    return websockets.trio.client.connect(
        url,
        compression=None,
        proxy=None,
        ping_interval=None,
        max_size=DEFAULT_MAX_MESSAGE_SIZE,
        max_queue=DEFAULT_MESSAGE_QUEUE_SIZE,
    )


async def measure(url: str, key: Ed25519Credentials, args: argparse.Namespace) -> dict[str, Any]:
    async with (
        connect(url, credentials=key) as session,
        connect(url, credentials=key, transport="websockets") as fast_session,
        open_bare(url) as ws_bare,
        open_bare(url) as ws_codec,
        open_bare_websockets(url) as ws_fast,
    ):
        clients: list[Client] = [
            Bare(ws_bare),
            BareWebsockets(ws_fast),
            BareCodec(ws_codec),
            Ours(session),
            OursFast(fast_session),
        ]
        for client in clients:  # warm up: server caches, decoders, the first subscription
            await client.burst(min(args.events, 5_000))
        rates: dict[str, list[float]] = {client.name: [] for client in clients}
        cpu: dict[str, list[float]] = {client.name: [] for client in clients}
        for run in range(args.runs):
            shift = run % len(clients)
            for client in clients[shift:] + clients[:shift]:
                cpu_before = time.process_time()
                elapsed = await client.burst(args.events)
                cpu_spent = time.process_time() - cpu_before
                rates[client.name].append(args.events / elapsed)
                cpu[client.name].append(cpu_spent * 1e6 / args.events)
    return summarise(rates, cpu)


def summarise(rates: dict[str, list[float]], cpu: dict[str, list[float]]) -> dict[str, Any]:
    """Medians over runs; ratios to bare are each run's own ratio, then the median."""
    bare_rates, bare_cpu = rates[Bare.name], cpu[Bare.name]
    return {
        "events_per_second": rates,
        "client_cpu_us_per_event": cpu,
        "median": {name: median(values) for name, values in rates.items()},
        "spread": {name: spread(values) for name, values in rates.items()},
        "median_cpu_us": {name: median(values) for name, values in cpu.items()},
        "vs_bare": {
            name: median(o / b for o, b in zip(values, bare_rates, strict=True))
            for name, values in rates.items()
        },
        "cpu_vs_bare": {
            name: median(o / b for o, b in zip(values, bare_cpu, strict=True))
            for name, values in cpu.items()
        },
        "fast_vs_default": median(
            f / d for f, d in zip(rates[OursFast.name], rates[Ours.name], strict=True)
        ),
        "fast_vs_bare_websockets": median(
            f / b for f, b in zip(rates[OursFast.name], rates[BareWebsockets.name], strict=True)
        ),
    }


# --- where the server runs ---------------------------------------------------------------


async def run_inproc(args: argparse.Namespace) -> dict[str, Any]:
    key = generate_ed25519(API_KEY)
    async with open_local_exchange(bench_exchange(key.public_key_pem())) as exchange:
        return await measure(exchange.url, key, args)


def run_subprocess(args: argparse.Namespace) -> dict[str, Any]:
    """Serve from a child process (this script with ``--serve``) and measure against it."""
    key = generate_ed25519(API_KEY)
    with subprocess.Popen(
        [sys.executable, __file__, "--serve", key.public_key_pem()],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as server:
        assert server.stdin is not None
        assert server.stdout is not None
        try:
            url = server.stdout.readline().strip()
            if not url.startswith("ws://"):
                raise RuntimeError(f"the benchmark server did not start: {url!r}")
            return trio.run(measure, url, key, args)
        finally:
            server.stdin.close()  # the server exits at end of input
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


async def serve(public_key_pem: str) -> None:
    """The child-process server: print the URL, serve until standard input ends."""
    async with open_local_exchange(bench_exchange(public_key_pem)) as exchange:
        print(exchange.url, flush=True)
        stdin = trio.lowlevel.FdStream(os.dup(sys.stdin.fileno()))
        while await stdin.receive_some():
            pass


# --- reporting ---------------------------------------------------------------------------


def report(result: dict[str, Any], args: argparse.Namespace, where: str) -> None:
    print(
        f"\n## {args.events:,}-event bursts, one subscriber, server {where} "
        f"(events/s, median of {args.runs} runs)\n"
    )
    rows = [
        [
            name,
            f"{result['median'][name]:,.0f}",
            f"{result['spread'][name]:.0%}",
            fmt_ratio(result["vs_bare"][name]),
            f"{result['median_cpu_us'][name]:.1f}",
            f"{1e6 / result['median_cpu_us'][name]:,.0f}",
            fmt_ratio(result["cpu_vs_bare"][name]),
        ]
        for name in CLIENTS
    ]
    header = ["client", "events/s", "spread", "vs bare", "CPU µs/event", "CPU-bound/s", "CPU x"]
    print_table(header, rows)
    print(
        f"\nfast transport, paired: {fmt_ratio(result['fast_vs_default'])} trio_binance's "
        f"events/s on the default transport, {fmt_ratio(result['fast_vs_bare_websockets'])} "
        "bare websockets'."
    )
    print(
        "\nevents/s: wall clock, request sent to last event held (bounded by how fast the "
        "server sends\nwhen the client keeps up); CPU µs/event: the client process's CPU time "
        "per event, and\nCPU-bound/s the rate that cost allows one core."
    )


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs (median)")
    parser.add_argument("--events", type=int, default=50_000, help="events per burst")
    parser.add_argument("--server", choices=["inproc", "subprocess"], default="subprocess")
    parser.add_argument("--serve", metavar="PUBLIC_KEY_PEM", help=argparse.SUPPRESS)
    add_output_arguments(parser)
    args = parser.parse_args(argv)

    if args.serve:
        trio.run(serve, args.serve)
        return {}
    print(f"# user data events delivered, both transports\n\n{describe_machine()}")
    if args.server == "inproc":
        result = trio.run(run_inproc, args)
        where = "in-process"
    else:
        result = run_subprocess(args)
        where = "in a child process"
    report(result, args, where)
    results = {"arguments": vars(args), "server": where, **result}
    path = write_results("bench_user_data", results, args.json)
    if path is not None:
        print(f"\nresults written to {path}")
    return results


if __name__ == "__main__":
    main()
