"""Round trips through a session on both transports against bare WebSocket clients, on the
same local exchange.

    python benchmarks/bench_roundtrip.py [--runs 9] [--server both|inproc|subprocess]
                                         [--requests 2000] [--throughput-requests 5000]
                                         [--concurrency 100]
                                         [--profile ours|fast|bare|bare-websockets]
                                         [--json [PATH]]

The server is a :class:`~trio_binance.testing.LocalExchange` with rate limits lifted and a
trivial handler that answers ``bench.order`` with the documented ``order.place`` RESULT body
(so the client has a realistic 752-byte frame to decode). Five clients talk to it over
loopback, each on its own connection:

* **trio_binance**: ``await session.request("bench.order", params, result_type=OrderResult)``,
  the whole path: canonical parameters, the send task, the receive task, the envelope decode
  and the typed result (Decimals, enums), on the default transport (trio-websocket);
* **trio_binance fast**: the same session on the fast transport (``transport="websockets"``);
* **bare**: trio-websocket configured like our transport, sending a pre-encoded frame and
  awaiting the next message, decoding nothing: the floor any client on trio-websocket has;
* **bare websockets**: the same with websockets' Trio client configured like the fast
  transport: the floor of the fast transport;
* **bare + our codec**: bare, plus encoding the request and decoding the reply the way the
  session does, inline in the caller's task. It splits the gap in two: codec (this minus
  bare) and the session's tasks and hand-offs (trio_binance minus this).

"fast / default" is each run's own ratio of the two sessions' figures (p50, requests/s), then
the median: the paired comparison the two transports get on a loaded machine.

Measured in the same process and run, the clients taking turns to cancel drift:

* **latency**: one request in flight; p50/p99 of each run's round trips, median over runs;
  "- bare" is the median of the runs' own differences;
* **throughput**: ``--concurrency`` tasks each looping on a request (so that many are in
  flight) until ``--throughput-requests`` are answered; requests/s, median over runs; "vs
  bare" is the median of the runs' own ratios.

``--server inproc`` runs the exchange in the client's event loop (one core for both);
``--server subprocess`` runs it in a child process (this script with ``--serve``), client and
server pinned to a CPU each (``--pin separate``; ``same`` pins both to one CPU, ``none`` lets
the OS place them). CPU time per request is reported for the
client's process and for a child-process server. ``--profile ours`` (or ``fast``, ``bare``,
``bare-websockets``) runs one client under cProfile against a child-process server and prints
where its time goes.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import functools
import io
import json
import os
import pstats
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any

import trio
import trio_websocket
import websockets.trio.client
from _common import (
    REPO_ROOT,
    add_output_arguments,
    describe_machine,
    median,
    percentile,
    print_table,
    write_results,
)

from trio_binance import connect
from trio_binance._params import canonical_params
from trio_binance._protocol import FrameDecoder, RequestEncoder, ResultResponse, decode_result
from trio_binance._session import Session
from trio_binance._transport import (
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_MESSAGE_QUEUE_SIZE,
    DEFAULT_RECEIVE_BUFFER_SIZE,
    TransportName,
)
from trio_binance.models import OrderResult
from trio_binance.testing import Lifecycle, LocalExchange, Request, open_local_exchange
from trio_binance.testing._limits import Limit, RateLimitConfig

METHOD = "bench.order"  # not a Binance method: a handler of our own, whatever else is served
PARAMS: dict[str, object] = {
    "symbol": "BTCUSDT",
    "side": "SELL",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "price": Decimal("23416.10000000"),
    "quantity": Decimal("0.00847000"),
}
SPEC_METHODS = REPO_ROOT / "tests" / "fixtures" / "spec" / "methods.json"
TARGET_P50_EXTRA_US = 60.0
TARGET_THROUGHPUT_RATIO = 0.9
LATENCY_BLOCK = 100  # requests per client before switching to the other one


def documented_result() -> dict[str, Any]:
    """The documented ``order.place`` response with ``newOrderRespType=RESULT``."""
    spec = json.loads(SPEC_METHODS.read_text(encoding="utf-8"))
    (method,) = (m for m in spec["methods"] if m["method"] == "order.place")
    (result,) = (
        r["result"]
        for r in method["responses"]
        if "price" in r["result"] and "fills" not in r["result"]
    )
    return dict(result)


def bench_exchange() -> LocalExchange:
    """A local exchange with limits no benchmark reaches and no pings to interleave."""
    unlimited = Limit("REQUEST_WEIGHT", "MINUTE", 1, 10**12)
    exchange = LocalExchange(
        limits=RateLimitConfig(request_weight=(unlimited,)),
        lifecycle=Lifecycle(ping_interval=3600.0, pong_timeout=3600.0),
    )
    body = documented_result()

    def handler(request: Request) -> dict[str, Any]:
        return body

    exchange.register(METHOD, handler)
    return exchange


# --- the two clients ---------------------------------------------------------------------


class Ours:
    name = "trio_binance"

    def __init__(self, session: Session) -> None:
        self.session = session

    async def call(self) -> None:
        await self.session.request(METHOD, PARAMS, result_type=OrderResult)


class OursFast(Ours):
    name = "trio_binance fast"


class Bare:
    name = "bare trio-websocket"

    def __init__(self, ws: trio_websocket.WebSocketConnection) -> None:
        self.ws = ws
        self.frame = RequestEncoder().encode(1, METHOD, canonical_params(PARAMS)).decode()

    async def call(self) -> None:
        await self.ws.send_message(self.frame)
        await self.ws.get_message()


class BareWebsockets:
    """Bare websockets (Trio client), configured like the fast transport: its floor.

    websockets lets one task receive at a time, so (like any client that keeps several
    requests in flight on it) a reader task hands each reply to the next waiting caller; the
    bench server answers in order.
    """

    name = "bare websockets"

    def __init__(self, ws: websockets.trio.client.ClientConnection) -> None:
        self.ws = ws
        self.frame = RequestEncoder().encode(1, METHOD, canonical_params(PARAMS))
        self.waiting: collections.deque[trio.Event] = collections.deque()

    async def read(self) -> None:
        recv = self.ws.recv
        waiting = self.waiting
        while True:
            await recv()
            waiting.popleft().set()

    async def call(self) -> None:
        replied = trio.Event()
        self.waiting.append(replied)
        await self.ws.send(self.frame, text=True)
        await replied.wait()


class BareCodec:
    """Bare trio-websocket plus our codec inline, in the caller's task: no session tasks.

    ``bare + codec`` minus ``bare`` is what encoding and decoding cost; ``trio_binance``
    minus ``bare + codec`` is what the session's tasks and hand-offs cost.
    """

    name = "bare + our codec"

    def __init__(self, ws: trio_websocket.WebSocketConnection) -> None:
        self.ws = ws
        self.encoder = RequestEncoder()
        self.decoder = FrameDecoder()

    async def call(self) -> None:
        encoder = self.encoder
        frame = encoder.encode(encoder.next_id(), METHOD, canonical_params(PARAMS))
        await self.ws.send_message(frame.decode())
        reply = self.decoder.decode(await self.ws.get_message())
        if not isinstance(reply, ResultResponse):
            raise RuntimeError(f"unexpected reply: {reply!r}")
        decode_result(reply.result, OrderResult)


Client = Ours | Bare | BareWebsockets | BareCodec


async def latencies(client: Client, count: int, into: list[int]) -> None:
    call = client.call
    perf = time.perf_counter_ns
    for _ in range(count):
        start = perf()
        await call()
        into.append(perf() - start)


async def throughput(client: Client, total: int, concurrency: int) -> float:
    """Requests per second with ``concurrency`` tasks each looping on a request."""
    remaining = total
    call = client.call

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(concurrency):
            nursery.start_soon(worker)
    return total / (time.perf_counter() - start)


def process_cpu_seconds(pid: int | None) -> float | None:
    """CPU time (user + system) used so far by process ``pid``; ``None`` is this process."""
    if pid is None:
        return time.process_time()
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:  # not Linux: no figure
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measured_throughput(
    client: Client, args: argparse.Namespace, server_pid: int | None
) -> dict[str, float | None]:
    """requests/s, and CPU µs per request of this process and of a child-process server."""
    client_before = process_cpu_seconds(None)
    server_before = process_cpu_seconds(server_pid) if server_pid else None
    rps = await throughput(client, args.throughput_requests, args.concurrency)
    client_after = process_cpu_seconds(None)
    server_after = process_cpu_seconds(server_pid) if server_pid else None
    per_request = 1e6 / args.throughput_requests
    return {
        "rps": rps,
        "cpu_us": _delta(client_before, client_after, per_request),
        "server_cpu_us": _delta(server_before, server_after, per_request),
    }


def _delta(before: float | None, after: float | None, scale: float) -> float | None:
    return None if before is None or after is None else (after - before) * scale


# --- one setup (server placement), all runs -----------------------------------------------


def open_bare(url: str) -> Any:
    """trio-websocket configured like the default transport."""
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


FAST: TransportName = "websockets"


async def measure_setup(
    url: str, args: argparse.Namespace, server_pid: int | None = None
) -> dict[str, Any]:
    async with (
        connect(url) as session,
        connect(url, transport=FAST) as fast_session,
        open_bare(url) as ws,
        open_bare_websockets(url) as ws_fast,
        trio.open_nursery() as nursery,
    ):
        bare_fast = BareWebsockets(ws_fast)
        nursery.start_soon(bare_fast.read)
        clients: list[Client] = [
            Bare(ws),
            bare_fast,
            BareCodec(ws),
            Ours(session),
            OursFast(fast_session),
        ]
        for client in clients:  # warm up: connections, caches, the first decoders
            await latencies(client, max(10, args.requests // 10), [])
            await throughput(client, max(10, args.concurrency * 2), args.concurrency)

        runs: dict[str, dict[str, list[Any]]] = {
            c.name: {"p50_us": [], "p99_us": [], "rps": [], "cpu_us": [], "server_cpu_us": []}
            for c in clients
        }
        blocks = max(1, args.requests // LATENCY_BLOCK)
        per_block = max(1, args.requests // blocks)
        for run in range(args.runs):
            samples: dict[str, list[int]] = {c.name: [] for c in clients}
            for block in range(blocks):
                for client in _alternate(clients, run + block):
                    await latencies(client, per_block, samples[client.name])
            for client in clients:
                runs[client.name]["p50_us"].append(percentile(samples[client.name], 0.5) / 1000)
                runs[client.name]["p99_us"].append(percentile(samples[client.name], 0.99) / 1000)
            for client in _alternate(clients, run):
                figures = await measured_throughput(client, args, server_pid)
                for key, value in figures.items():
                    runs[client.name][key].append(value)
        nursery.cancel_scope.cancel()

    return summarise(runs)


def summarise(runs: dict[str, dict[str, list[Any]]]) -> dict[str, Any]:
    """Medians over runs; differences and ratios against bare are taken run by run."""
    bare = runs[Bare.name]
    vs_bare: dict[str, dict[str, Any]] = {}
    for name, series in runs.items():
        if name == Bare.name:
            continue
        p50 = [o - b for o, b in zip(series["p50_us"], bare["p50_us"], strict=True)]
        p99 = [o - b for o, b in zip(series["p99_us"], bare["p99_us"], strict=True)]
        rps = [o / b for o, b in zip(series["rps"], bare["rps"], strict=True)]
        vs_bare[name] = {
            "p50_extra_us": median(p50),
            "p99_extra_us": median(p99),
            "throughput_ratio": median(rps),
            "runs": {"p50_extra_us": p50, "p99_extra_us": p99, "throughput_ratio": rps},
        }
    return {
        "runs": runs,
        "median": {
            name: {k: median(v) if None not in v else None for k, v in series.items()}
            for name, series in runs.items()
        },
        "vs_bare": vs_bare,
        "p50_extra_us": vs_bare[Ours.name]["p50_extra_us"],
        "throughput_ratio": vs_bare[Ours.name]["throughput_ratio"],
        "fast_vs_default": paired_ratios(runs[OursFast.name], runs[Ours.name]),
        "fast_vs_bare_websockets": paired_ratios(runs[OursFast.name], runs[BareWebsockets.name]),
    }


def paired_ratios(contender: dict[str, list[Any]], base: dict[str, list[Any]]) -> dict[str, Any]:
    """Each run's own ratio of ``contender`` to ``base`` (p50, p99, requests/s), the median."""
    ratios = {
        key: [c / b for c, b in zip(contender[key], base[key], strict=True)]
        for key in ("p50_us", "p99_us", "rps")
    }
    return {"median": {key: median(values) for key, values in ratios.items()}, "runs": ratios}


def _alternate(clients: list[Client], turn: int) -> list[Client]:
    """The clients in a rotated order, so each takes each position in turn."""
    shift = turn % len(clients)
    return clients[shift:] + clients[:shift]


async def run_inproc(args: argparse.Namespace) -> dict[str, Any]:
    async with open_local_exchange(bench_exchange()) as exchange:
        return await measure_setup(exchange.url, args)


def run_subprocess(
    args: argparse.Namespace,
    body: Callable[[str, int], Awaitable[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """Serve from a child process (this script with ``--serve``) and measure against it."""
    with subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as server:
        assert server.stdin is not None
        assert server.stdout is not None
        unpin = pin_cpus(args.pin, server.pid)
        try:
            url = server.stdout.readline().strip()
            if not url.startswith("ws://"):
                raise RuntimeError(f"the benchmark server did not start: {url!r}")
            if body is None:
                return trio.run(measure_setup, url, args, server.pid)
            return trio.run(body, url, server.pid)
        finally:
            unpin()
            server.stdin.close()  # the server exits at end of input
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def pin_cpus(mode: str, server_pid: int) -> Callable[[], None]:
    """Pin this process and the server to CPUs; returns what undoes it for this process.

    ``separate``: a CPU each. ``same``: both on one CPU. ``none``: the OS decides, which on a
    2-CPU VM flips between the two placements from run to run (and the figures with it).
    """
    if mode == "none" or not hasattr(os, "sched_setaffinity"):
        return lambda: None
    mine = os.sched_getaffinity(0)
    cpus = sorted(mine)
    if mode == "separate" and len(cpus) < 2:
        return lambda: None
    os.sched_setaffinity(0, {cpus[0]})
    os.sched_setaffinity(server_pid, {cpus[1] if mode == "separate" else cpus[0]})
    return lambda: os.sched_setaffinity(0, mine)


def child_setup_name(pin: str) -> str:
    return {
        "separate": "child process, own CPU",
        "same": "child process, same CPU",
    }.get(pin, "child process, unpinned")


async def serve() -> None:
    """The child-process server: print the URL, serve until standard input ends."""
    async with open_local_exchange(bench_exchange()) as exchange:
        print(exchange.url, flush=True)
        await trio.to_thread.run_sync(sys.stdin.read)


# --- profiling ---------------------------------------------------------------------------


async def profiled(url: str, server_pid: int, args: argparse.Namespace) -> dict[str, Any]:
    """cProfile one client alone (latency, then throughput) against a child-process server."""
    async with (
        connect(url, transport=FAST if args.profile == "fast" else None) as session,
        open_bare(url) as ws,
        open_bare_websockets(url) as ws_fast,
        trio.open_nursery() as nursery,
    ):
        bare_fast = BareWebsockets(ws_fast)
        nursery.start_soon(bare_fast.read)
        clients: dict[str, Client] = {
            "ours": Ours(session),
            "fast": OursFast(session),
            "bare": Bare(ws),
            "bare-websockets": bare_fast,
        }
        client = clients[args.profile]
        await latencies(client, 200, [])
        profiler = cProfile.Profile()
        profiler.enable()
        await latencies(client, args.requests, [])
        await throughput(client, args.throughput_requests, args.concurrency)
        profiler.disable()
        nursery.cancel_scope.cancel()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(args.profile_lines)
    stats.sort_stats("cumulative").print_stats(args.profile_lines)
    print(f"# cProfile of the {client.name} client: {args.requests:,} requests one at a time, ")
    print(f"# then {args.throughput_requests:,} with {args.concurrency} in flight")
    print(out.getvalue())
    return {}


# --- reporting ---------------------------------------------------------------------------


CLIENTS = (Bare.name, BareWebsockets.name, BareCodec.name, Ours.name, OursFast.name)


def report(setups: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    print(f"\n## latency, one request in flight (µs, median of {args.runs} runs)\n")
    rows = []
    for setup, result in setups.items():
        for name in CLIENTS:
            figures = result["median"][name]
            versus = result["vs_bare"].get(name)
            target = ""
            if name == Ours.name:
                target = _verdict(result["p50_extra_us"] <= TARGET_P50_EXTRA_US)
            if name == OursFast.name:
                target = _with_range(result["fast_vs_default"], "p50_us", "{:.2f}x")
            rows.append(
                [
                    setup,
                    name,
                    f"{figures['p50_us']:.1f}",
                    f"{figures['p99_us']:.1f}",
                    _with_range(versus, "p50_extra_us", "{:+.1f}") if versus else "",
                    target,
                ]
            )
    header = ["server", "client", "p50", "p99", "p50 - bare (runs)"]
    header.append(f"<= +{TARGET_P50_EXTRA_US:.0f} / fast:default p50")
    print_table(header, rows)

    print(
        f"\n## throughput, {args.concurrency} in flight (median of {args.runs} runs)\n\n"
        "CPU is µs of CPU time per request: of the client's process (which, in-process, also "
        "runs the server) and of the child-process server.\n"
    )
    rows = []
    for setup, result in setups.items():
        for name in CLIENTS:
            figures = result["median"][name]
            versus = result["vs_bare"].get(name)
            target = ""
            if name == Ours.name:
                target = _verdict(result["throughput_ratio"] >= TARGET_THROUGHPUT_RATIO)
            if name == OursFast.name:
                target = _with_range(result["fast_vs_default"], "rps", "{:.2f}x")
            rows.append(
                [
                    setup,
                    name,
                    f"{figures['rps']:,.0f}",
                    _with_range(versus, "throughput_ratio", "{:.2f}x") if versus else "",
                    target,
                    _cpu(figures["cpu_us"]),
                    _cpu(figures["server_cpu_us"]),
                ]
            )
    header = ["server", "client", "requests/s", "vs bare (runs)"]
    header.append(f">= {TARGET_THROUGHPUT_RATIO}x / fast:default")
    print_table([*header, "client CPU", "server CPU"], rows)
    print("\n## the fast transport, paired (median of the runs' own ratios, lowest..highest)\n")
    rows = []
    for setup, result in setups.items():
        for base, key in (
            ("trio_binance", "fast_vs_default"),
            (BareWebsockets.name, "fast_vs_bare_websockets"),
        ):
            rows.append(
                [
                    setup,
                    f"fast / {base}",
                    _with_range(result[key], "p50_us", "{:.2f}x"),
                    _with_range(result[key], "p99_us", "{:.2f}x"),
                    _with_range(result[key], "rps", "{:.2f}x"),
                ]
            )
    print_table(["server", "ratio", "p50", "p99", "requests/s"], rows)
    print(
        f"\nlatency: {args.requests:,} requests per client per run, clients taking turns in "
        f"blocks of {LATENCY_BLOCK}; throughput: {args.throughput_requests:,} requests per "
        "client per run, client order rotating by run"
    )


def _with_range(versus: dict[str, Any], key: str, fmt: str) -> str:
    """The median and, in brackets, the lowest and highest of the runs."""
    runs = versus["runs"][key]
    middle = versus["median"][key] if "median" in versus else versus[key]
    low, high = (fmt.format(v).lstrip("+").rstrip("x") for v in (min(runs), max(runs)))
    return f"{fmt.format(middle)} ({low}..{high})"


def _cpu(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _verdict(met: bool) -> str:
    return "met" if met else "missed"


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="timed runs (median)")
    parser.add_argument("--requests", type=int, default=2_000, help="latency samples per run")
    parser.add_argument("--throughput-requests", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=100, help="requests in flight")
    parser.add_argument("--server", choices=["both", "inproc", "subprocess"], default="both")
    parser.add_argument(
        "--pin",
        choices=["separate", "same", "none"],
        default="separate",
        help="CPUs of client and child-process server (default: one each)",
    )
    parser.add_argument(
        "--profile",
        choices=["ours", "fast", "bare", "bare-websockets"],
        help="cProfile one client instead of measuring",
    )
    parser.add_argument("--profile-lines", type=int, default=30)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    add_output_arguments(parser)
    args = parser.parse_args(argv)

    if args.serve:
        trio.run(serve)
        return {}
    if args.profile:
        return run_subprocess(args, functools.partial(profiled, args=args))

    print(f"# session.request round trips, both transports\n\n{describe_machine()}")
    setups: dict[str, dict[str, Any]] = {}
    if args.server in ("both", "inproc"):
        setups["in-process"] = trio.run(run_inproc, args)
    if args.server in ("both", "subprocess"):
        setups[child_setup_name(args.pin)] = run_subprocess(args)
    report(setups, args)

    results = {"arguments": vars(args), "setups": setups}
    path = write_results("bench_roundtrip", results, args.json)
    if path is not None:
        print(f"\nresults written to {path}")
    return results


if __name__ == "__main__":
    main()
