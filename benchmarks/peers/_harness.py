"""What every contender process of the peer benchmark shares: arguments, loops, the report.

A contender is a small script run in a fresh process per run (``client_*.py`` here), so
import time and peak RSS are its own. It measures, in this order, against the server at
``--url``: the import of its library; ``--requests`` ``order.place`` round trips with one in
flight (p50, p99, CPU per request); ``--throughput-requests`` with ``--concurrency`` in
flight (requests/s, CPU per request); ``--stream-frames`` trade frames decoded from a market
stream (frames/s, first frame to last); then prints one JSON line of figures and exits.

Only the standard library here: the module runs in the project's environment (for
trio_binance) and in the peers' environment (for the asyncio libraries).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

SYMBOL = "BTCUSDT"
STREAM = "btcusdt@trade"
PRICE = "23416.10000000"
QUANTITY = "0.00847000"
API_KEY = "benchmark-api-key"
API_SECRET = "benchmark-secret-key-0123456789abcdef"  # no real account behind any of this
DEADLINE = 300.0  # s: a contender that has not finished by then has hung

Call = Callable[[], Awaitable[object]]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="one contender of bench_peers.py")
    parser.add_argument("--url", required=True, help="ws://host:port of the benchmark server")
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--throughput-requests", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--stream-frames", type=int, default=50_000)
    parser.add_argument("--transport", default="default", help="trio_binance's transport")
    parser.add_argument("--bare", action="store_true", help="bare trio-websocket frames only")
    parser.add_argument("--untyped", action="store_true", help="session.request, no checks")
    parser.add_argument("--floor", action="store_true", help="bare websockets.trio requests")
    return parser.parse_args(argv)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile, as ``benchmarks/_common.py`` computes it."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def latency_figures(samples_ns: Sequence[int], cpu_seconds: float) -> dict[str, float]:
    return {
        "p50_us": percentile(samples_ns, 0.5) / 1000,
        "p99_us": percentile(samples_ns, 0.99) / 1000,
        "latency_cpu_us": cpu_seconds * 1e6 / len(samples_ns),
    }


def throughput_figures(total: int, elapsed: float, cpu_seconds: float) -> dict[str, float]:
    return {"rps": total / elapsed, "cpu_us": cpu_seconds * 1e6 / total}


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


def report(import_s: float, figures: dict[str, float]) -> None:
    """The one line the benchmark reads: this contender's figures as JSON."""
    document: dict[str, Any] = {"import_s": import_s, **figures, "peak_rss_mib": peak_rss_mib()}
    print(json.dumps(document), flush=True)


class FrameCounter:
    """Counts decoded stream frames; times from the first to the ``expected``-th."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.count = 0
        self.first = 0.0
        self.last = 0.0

    def add(self, frames: int = 1) -> bool:
        """Count ``frames`` more; ``True`` once all expected frames are in."""
        if self.count == 0:
            self.first = time.perf_counter()
        self.count += frames
        if self.count >= self.expected:
            self.last = time.perf_counter()
            return True
        return False

    def figures(self) -> dict[str, float]:
        # The first frame starts the clock, so it is not counted in the rate.
        elapsed = self.last - self.first
        rate = (self.count - 1) / elapsed if elapsed > 0 else float("nan")
        return {"frames_per_s": rate}


# --- the measuring loops ------------------------------------------------------------------


async def latency(call: Call, count: int) -> dict[str, float]:
    """One call at a time, each timed: the same loop under asyncio and Trio."""
    perf = time.perf_counter_ns
    samples: list[int] = []
    cpu = time.process_time()
    for _ in range(count):
        start = perf()
        await call()
        samples.append(perf() - start)
    return latency_figures(samples, time.process_time() - cpu)


async def asyncio_throughput(call: Call, total: int, concurrency: int) -> dict[str, float]:
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    cpu = time.process_time()
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return throughput_figures(total, time.perf_counter() - start, time.process_time() - cpu)


async def asyncio_requests(call: Call, args: argparse.Namespace) -> dict[str, float]:
    """Warm up, then the latency and throughput phases."""
    await latency(call, max(10, args.requests // 10))
    await asyncio_throughput(call, max(10, args.concurrency * 2), args.concurrency)
    figures = await latency(call, args.requests)
    figures.update(await asyncio_throughput(call, args.throughput_requests, args.concurrency))
    return figures


CLOSE_GRACE = 1.0  # s: some peers take up to 10 s to close; the figures are already out


async def asyncio_close(close: Call) -> None:
    """Close a peer's client, giving up after ``CLOSE_GRACE`` (its figures are reported)."""
    try:
        async with asyncio.timeout(CLOSE_GRACE):
            await close()
    except TimeoutError:
        pass
