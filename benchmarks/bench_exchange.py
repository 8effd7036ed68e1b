"""How many HMAC-signed ``order.place`` requests per second the local exchange answers.

The exchange runs alone in a child process (one core); this process sends pre-signed
``order.place`` frames over one pipelined connection (a window of requests in flight) and
counts the replies. Two accounts alternate a BUY and a SELL at one price, so every other order
trades: every request runs the signature check, the filters, the matching engine, the rate
limiter and the user-data events, as in a real session. Target: >= 5,000 requests/s.

    .venv/bin/python benchmarks/bench_exchange.py            # 5 runs of 20,000 requests
    .venv/bin/python benchmarks/bench_exchange.py --requests 2000 --runs 1

``--logic-only`` skips the WebSocket transport: it runs the exchange in this process and
hands each decoded frame to the request pipeline directly, so the figure is the exchange
logic alone (authentication, limits, filters, matching, events, encoding); ``--profile``
does the same once under cProfile and prints the hottest functions. ``--with-streams`` adds
an in-process subscriber to the symbol's trade, aggTrade, bookTicker and 100 ms diff depth
streams (flushed every 500 requests, ~100 ms at 5,000 requests/s): the cost of rendering
market streams, against the same run without.

    .venv/bin/python benchmarks/bench_exchange.py --logic-only
    .venv/bin/python benchmarks/bench_exchange.py --logic-only --with-streams
    .venv/bin/python benchmarks/bench_exchange.py --profile --requests 5000
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

import msgspec
import trio
import trio_websocket

from trio_binance._credentials import HmacCredentials
from trio_binance._params import canonical_params
from trio_binance._protocol import RequestDecoder, RequestFrame
from trio_binance.testing import Limit, LocalExchange, RateLimitConfig
from trio_binance.testing._stream_names import parse_stream

KEYS = {"alice": "benchHmacAlice", "bob": "benchHmacBob"}
SECRET = "bench-secret-not-a-real-key-0123456789abcdef"
UNLIMITED = 10**12


def bench_exchange() -> LocalExchange:
    """An exchange with rate limits lifted and the two benchmark accounts' keys."""
    limits = RateLimitConfig(
        request_weight=(Limit("REQUEST_WEIGHT", "MINUTE", 1, UNLIMITED),),
        orders=(Limit("ORDERS", "SECOND", 10, UNLIMITED), Limit("ORDERS", "DAY", 1, UNLIMITED)),
    )
    exchange = LocalExchange(limits=limits)
    for account, api_key in KEYS.items():
        exchange.keys.add(api_key, account, hmac_secret=SECRET)
    return exchange


async def serve() -> None:
    """The child process: the benchmark exchange, printing its URL."""
    exchange = bench_exchange()
    async with trio.open_nursery() as nursery:
        url = await nursery.start(exchange.serve)
        print(url, flush=True)


def signed_frames(count: int) -> list[str]:
    """Pre-signed frames: alice buys and bob sells at one price, turn about."""
    signers = [HmacCredentials(KEYS["alice"], SECRET), HmacCredentials(KEYS["bob"], SECRET)]
    encoder = msgspec.json.Encoder()
    now = int(time.time() * 1000)
    frames = []
    for n in range(count):
        signer = signers[n % 2]
        params = canonical_params(
            {
                "symbol": "BTCUSDT",
                "side": "BUY" if n % 2 == 0 else "SELL",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "price": "30000",
                "quantity": "0.001",
                "newClientOrderId": f"bench{n}",
                "recvWindow": 60000,
                "timestamp": now,
                "apiKey": signer.api_key,
            }
        )
        params["signature"] = signer.sign_params(params)
        frames.append(encoder.encode({"id": n, "method": "order.place", "params": params}).decode())
    return frames


async def pipeline(url: str, frames: list[str], window: int) -> tuple[float, int]:
    """Send ``frames`` keeping ``window`` in flight; seconds taken and errors seen."""
    errors = 0
    slots = trio.Semaphore(window)
    async with trio_websocket.open_websocket_url(url, message_queue_size=window * 2) as ws:

        async def send_all() -> None:
            for frame in frames:
                await slots.acquire()
                await ws.send_message(frame)

        start = trio.current_time()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(send_all)
            for _ in frames:
                reply = msgspec.json.decode(await ws.get_message())
                errors += reply.get("status") != 200
                slots.release()
        return trio.current_time() - start, errors


class _LoopbackConnection:
    """What the request pipeline reads of a connection, for the logic-only mode."""

    id = 1
    ip = "127.0.0.1"
    session_key = None
    return_rate_limits = True
    drop_after_reply = False


class _CountingSubscriber:
    """A stream subscriber that counts what it is given (``--with-streams``)."""

    id = 1
    per_ms = 1

    def __init__(self) -> None:
        self.events = 0

    def deliver(self, stream: str, payload: str) -> None:
        self.events += 1


STREAMS = ("btcusdt@trade", "btcusdt@aggTrade", "btcusdt@bookTicker", "btcusdt@depth@100ms")
FLUSH_EVERY = 500


async def answer_in_process(
    frames: list[str], with_streams: bool = False
) -> tuple[float, float, int]:
    """Decode and answer ``frames`` with no transport: seconds taken, CPU seconds used and
    errors seen."""
    exchange = bench_exchange()
    exchange.now_ms()  # fix the epoch, as serving does
    subscriber = _CountingSubscriber()
    if with_streams:
        for name in STREAMS:
            stream = parse_stream(name)
            assert stream is not None
            exchange.market_streams.subscribe(subscriber, stream)
    decoder = RequestDecoder()
    connection: Any = _LoopbackConnection()
    errors = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    for n, text in enumerate(frames, 1):
        frame = decoder.decode(text)
        assert isinstance(frame, RequestFrame)
        reply = exchange._answer(connection, frame, frame.method)
        errors += b'"status":200' not in reply
        if with_streams and n % FLUSH_EVERY == 0:
            exchange.market_streams.send_periodic(n // FLUSH_EVERY)
    if with_streams and subscriber.events < len(frames):
        raise SystemExit(f"only {subscriber.events} stream events: nothing was measured")
    return time.perf_counter() - start, time.process_time() - cpu_start, errors


def logic_only(count: int, runs: int, with_streams: bool = False) -> None:
    rates, us = [], []
    for _ in range(runs):
        seconds, cpu, errors = trio.run(answer_in_process, signed_frames(count), with_streams)
        if errors:
            raise SystemExit(f"{errors} requests failed; the benchmark would measure errors")
        rates.append(count / seconds)
        us.append(cpu / count * 1e6)
    streams = ", streams subscribed" if with_streams else ""
    print(f"| figure (logic only, no transport{streams}) | median | min | max |")
    print("|---|---:|---:|---:|")
    print(
        f"| requests/s | {statistics.median(rates):,.0f} | {min(rates):,.0f} | {max(rates):,.0f} |"
    )
    print(f"| CPU µs per request | {statistics.median(us):.0f} | {min(us):.0f} | {max(us):.0f} |")
    print(f"\n{runs} runs of {count:,} signed order.place, answered in process")


def profile(count: int) -> None:
    import cProfile
    import pstats

    frames = signed_frames(count)
    profiler = cProfile.Profile()
    profiler.enable()
    trio.run(answer_in_process, frames)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(40)


def child_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--logic-only", action="store_true", help="no transport, in process")
    parser.add_argument("--profile", action="store_true", help="cProfile the logic-only mode")
    parser.add_argument(
        "--with-streams", action="store_true", help="logic only, with market streams subscribed"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        trio.run(serve)
        return 0
    if args.profile:
        profile(args.requests)
        return 0
    if args.logic_only or args.with_streams:
        logic_only(args.requests, args.runs, args.with_streams)
        return 0
    rates, cpu_per_request = [], []
    for _ in range(args.runs):
        rate, cpu = one_run(args.requests, args.window)
        rates.append(rate)
        cpu_per_request.append(cpu)
    print("| figure | median | min | max |")
    print("|---|---:|---:|---:|")
    print(
        f"| requests/s | {statistics.median(rates):,.0f} | {min(rates):,.0f} | {max(rates):,.0f} |"
    )
    us = [c * 1e6 for c in cpu_per_request]
    cpu_cells = f"{statistics.median(us):.0f} | {min(us):.0f} | {max(us):.0f}"
    print(f"| exchange CPU per request (µs) | {cpu_cells} |")
    print(f"\n{args.runs} runs of {args.requests:,} signed order.place, {args.window} in flight")
    return 0


def one_run(count: int, window: int) -> tuple[float, float]:
    frames = signed_frames(count)
    cpu_before = child_cpu_seconds()
    server = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--serve"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        seconds, errors = trio.run(pipeline, url, frames, window)
    finally:
        server.terminate()
        server.wait()
    if errors:
        raise SystemExit(f"{errors} requests failed; the benchmark would measure errors")
    return count / seconds, (child_cpu_seconds() - cpu_before) / count


if __name__ == "__main__":
    sys.exit(main())
