"""Soak: many requests through ONE session, with random faults and random caller cancellations.

    python benchmarks/soak.py [--requests 1000000] [--concurrency 64] [--seed 1]
                              [--fault-rate 0.2] [--cancel-rate 0.05] [--tracemalloc]
                              [--autojump] [--transport NAME] [--json [PATH]]

A :class:`~trio_binance.testing.LocalExchange` runs in the same event loop, on loopback. One
session (on ``--transport``, the default one unless named), logged on with an Ed25519 demo
key, serves ``--concurrency`` worker tasks; each
takes the next request number ``n`` and calls ``echo`` with ``{"n": n}``. Before a request,
a fault may be armed (``--fault-rate``), chosen at random from: a late reply, a garbage frame
before the reply, a malformed reply, a duplicated reply, an error reply, a "status unknown"
5xx after execution, and silence. A request may also be cancelled by its caller at a random
moment (``--cancel-rate``); a silenced request is always cancelled by its caller's deadline.
Every 1,000 requests a user-data subscription is opened and left (sometimes cancelled while
subscribing).

Checked at the end (the script exits non-zero if any fails):

* every request got exactly one outcome, and a result always carried its own ``n`` (no reply
  ever reached the wrong caller);
* the outcome of each request is one the library documents for what happened to it;
* ``session.statistics()``: nothing in flight, nothing queued, no subscription left, session
  open; the exchange has no subscription left either.

Memory: the resident set size (``/proc/self/statm``) after a warm-up (the first 10% of the
requests) and at the end; with ``--tracemalloc``, the traced Python heap too (slower). The
exchange runs in the same process, so its memory is in the figure.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import random
import resource
import sys
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, get_args

import _common  # benchmarks/ is on sys.path: run as a script, or put there by the tests
import trio
import trio.testing

import trio_binance
from trio_binance import (
    ApiError,
    ExecutionStatusUnknown,
    ProtocolError,
)
from trio_binance._transport import DEFAULT_TRANSPORT, TransportName
from trio_binance.testing import (
    Delay,
    Duplicate,
    Fault,
    Garbage,
    LocalExchange,
    Malformed,
    Reply,
    Request,
    Silent,
    open_local_exchange,
)
from trio_binance.testing._limits import Limit, RateLimitConfig

SUBSCRIPTION_EVERY = 1_000
WARM_UP_FRACTION = 0.1
SILENT_DEADLINE = 0.05  # seconds (trio time) a caller waits for a reply that never comes
GARBAGE_FRAMES: tuple[str | bytes, ...] = (
    "",
    "{",
    "null",
    "[1, 2",
    '{"id": 999999999999999, "status": 200, "result": {}}',
    '{"subscriptionId": 424242, "event": {"e": "balanceUpdate"}}',
    '{"event": {"e": "somethingNew"}}',
    b"\x00\x01",
    "[" * 5_000 + "]" * 5_000,
)
OUTCOMES = ("ok", "cancelled", "protocol_error", "api_error", "unknown", "unexpected")
FAULT_KINDS = ("delay", "garbage", "malformed", "duplicate", "reply", "unknown", "silent")
# The outcomes each fault may give its request (a cancelled caller gives "cancelled").
ALLOWED: dict[str, set[str]] = {
    "none": {"ok", "cancelled"},
    "delay": {"ok", "cancelled"},
    "garbage": {"ok", "cancelled"},
    "duplicate": {"ok", "cancelled"},
    "malformed": {"protocol_error", "cancelled"},
    "reply": {"api_error", "cancelled"},
    "unknown": {"unknown", "cancelled"},
    "silent": {"cancelled"},
}


def echo(request: Request) -> dict[str, Any]:
    return request.params


def rss_bytes() -> int:
    """The current resident set size; the peak (``ru_maxrss``) where ``/proc`` is missing."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # pragma: no cover - not Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@dataclass
class Soak:
    requests: int
    concurrency: int
    fault_rate: float
    cancel_rate: float
    rng: random.Random
    trace: bool = False
    transport: TransportName | None = None
    next_n: int = 0
    # One byte per request, allocated up front: the harness's own bookkeeping must not grow
    # while memory is measured (a dict of a million outcomes would be ~100 MB).
    outcomes: bytearray = field(default_factory=bytearray)
    duplicates: list[int] = field(default_factory=list)
    misrouted: list[int] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    subscriptions_opened: int = 0
    memory: dict[str, int] = field(default_factory=dict)

    def fault(self) -> tuple[str, Fault | None]:
        if self.rng.random() >= self.fault_rate:
            return "none", None
        kind = self.rng.choice(FAULT_KINDS)
        chosen: dict[str, Fault] = {
            "delay": Delay(self.rng.uniform(0, 0.01)),
            "garbage": Garbage(self.rng.choice(GARBAGE_FRAMES)),
            "malformed": Malformed(),
            "duplicate": Duplicate(),
            "reply": Reply(400, -1100, "Illegal characters found in a parameter."),
            "unknown": Reply(503, -1007, "Timeout waiting for response.", after_execute=True),
            "silent": Silent(),
        }
        return kind, chosen[kind]

    def __post_init__(self) -> None:
        self.outcomes = bytearray(self.requests)

    def record(self, n: int, fault: str, outcome: str) -> None:
        if self.outcomes[n]:
            self.duplicates.append(n)
        self.outcomes[n] = OUTCOMES.index(outcome) + 1
        self.pairs[fault, outcome] += 1

    async def one_request(self, exchange: LocalExchange, session: trio_binance.Session) -> None:
        n = self.next_n
        self.next_n += 1
        # Each fault kind has its own method name (all answered by ``echo``), so a fault armed
        # here is taken by a request of the same kind even when callers overtake each other.
        kind, fault = self.fault()
        method = "echo" if fault is None else f"echo.{kind}"
        if fault is not None:
            exchange.faults.arm(fault, method=method)
            self.faults[kind] += 1
        deadline = SILENT_DEADLINE if kind == "silent" else float("inf")
        if self.rng.random() < self.cancel_rate:
            deadline = min(deadline, self.rng.choice([0.0, 0.0001, 0.001, 0.005]))
        outcome = "cancelled"
        with trio.move_on_after(deadline):
            outcome = await self.outcome_of(session, method, n)
        self.record(n, kind, outcome)
        if n % SUBSCRIPTION_EVERY == 0:
            await self.churn_subscription(session)
        if n == int(self.requests * WARM_UP_FRACTION):
            self.measure("warm")
        if self.requests >= 10 and n % (self.requests // 10) == 0:
            print(f"  {n:,} requests started, RSS {rss_bytes() / 2**20:.1f} MiB", flush=True)

    async def outcome_of(self, session: trio_binance.Session, method: str, n: int) -> str:
        try:
            result = await session.request(method, {"n": n})
        except ExecutionStatusUnknown:
            return "unknown"
        except ApiError:
            return "api_error"
        except ProtocolError:
            return "protocol_error"
        except trio_binance.BinanceError as exc:
            self.unexpected.append(f"request {n}: {exc!r}")
            return "unexpected"
        if result != {"n": n}:
            self.misrouted.append(n)
        return "ok"

    async def churn_subscription(self, session: trio_binance.Session) -> None:
        with trio.move_on_after(self.rng.choice([0.0, 0.001, 1.0])):
            async with session.user_data():
                self.subscriptions_opened += 1

    async def worker(self, exchange: LocalExchange, session: trio_binance.Session) -> None:
        while self.next_n < self.requests:
            await self.one_request(exchange, session)

    def measure(self, label: str) -> None:
        gc.collect()
        self.memory[f"rss_{label}"] = rss_bytes()
        if self.trace:
            self.memory[f"traced_{label}"] = tracemalloc.get_traced_memory()[0]

    async def run(self) -> dict[str, Any]:
        unlimited = RateLimitConfig(
            request_weight=(Limit("REQUEST_WEIGHT", "MINUTE", 1, 10**12),),
            orders=(),
        )
        exchange = LocalExchange(limits=unlimited)
        for method in ("echo", *(f"echo.{kind}" for kind in FAULT_KINDS)):
            exchange.register(method, echo)
        keys = exchange.create_demo_keys(["alice"])
        started = time.perf_counter()
        async with (
            open_local_exchange(exchange) as served,
            trio_binance.connect(
                served.url, credentials=keys["alice"].ed25519, transport=self.transport
            ) as session,
        ):
            self.measure("start")
            async with trio.open_nursery() as nursery:
                for _ in range(self.concurrency):
                    nursery.start_soon(self.worker, served, session)
            served.faults.clear()  # faults armed for requests that never came
            self.measure("end")
            stats = session.statistics()
            leftover_subscriptions = sum(
                served.user_streams.active_on(c) for c in served.connections
            )
        elapsed = time.perf_counter() - started
        return self.report(stats, leftover_subscriptions, elapsed)

    def report(
        self, stats: trio_binance.SessionStatistics, server_subs: int, elapsed: float
    ) -> dict[str, Any]:
        missing = self.outcomes.count(0)
        wrong = {
            f"{fault}->{outcome}": count
            for (fault, outcome), count in self.pairs.items()
            if outcome not in ALLOWED[fault]
        }
        checks = {
            "every request has exactly one outcome": not missing and not self.duplicates,
            "no result reached the wrong caller": not self.misrouted,
            "only documented outcomes": not wrong and not self.unexpected,
            "nothing in flight or queued": stats.in_flight == 0 and stats.queued == 0,
            "no subscription left": stats.subscriptions == 0 and server_subs == 0,
            "session still open": not stats.closed,
        }
        memory: dict[str, float] = dict(self.memory)
        if "rss_warm" in memory:
            memory["rss_growth_percent_after_warm_up"] = round(
                100 * (memory["rss_end"] - memory["rss_warm"]) / memory["rss_warm"], 2
            )
        if "traced_warm" in memory:
            memory["traced_growth_percent_after_warm_up"] = round(
                100 * (memory["traced_end"] - memory["traced_warm"]) / memory["traced_warm"], 2
            )
        return {
            "transport": self.transport or DEFAULT_TRANSPORT,
            "requests": self.requests,
            "concurrency": self.concurrency,
            "seconds": round(elapsed, 1),
            "requests_per_second": round(self.requests / elapsed) if elapsed else None,
            "outcomes": {
                o: sum(c for (_, oc), c in self.pairs.items() if oc == o) for o in OUTCOMES
            },
            "faults_armed": dict(self.faults),
            "outcomes_by_fault": {f"{f}->{o}": c for (f, o), c in sorted(self.pairs.items())},
            "subscriptions_opened": self.subscriptions_opened,
            "session": {
                "requests_sent": stats.requests_sent,
                "frames_received": stats.frames_received,
                "protocol_errors": stats.protocol_errors,
                "late_replies": stats.late_replies,
            },
            "memory": memory,
            "checks": checks,
            "wrong_outcomes": wrong,
            "unexpected": self.unexpected[:10],
            "passed": all(checks.values()),
        }


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--cancel-rate", type=float, default=0.05)
    parser.add_argument(
        "--log-level", default="ERROR", help="for trio_binance's loggers (each fault logs)"
    )
    parser.add_argument("--tracemalloc", action="store_true", help="also trace the Python heap")
    parser.add_argument(
        "--autojump", action="store_true", help="trio's autojump clock (delays take no time)"
    )
    parser.add_argument(
        "--transport", choices=get_args(TransportName), help="the session's transport"
    )
    _common.add_output_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    soak = Soak(
        requests=args.requests,
        concurrency=args.concurrency,
        fault_rate=args.fault_rate,
        cancel_rate=args.cancel_rate,
        rng=random.Random(args.seed),
        trace=args.tracemalloc,
        transport=args.transport,
    )
    if args.tracemalloc:
        tracemalloc.start()
    clock = trio.testing.MockClock(autojump_threshold=0) if args.autojump else None
    library_logger = logging.getLogger("trio_binance")
    level = library_logger.level
    library_logger.setLevel(args.log_level)
    try:
        results = trio.run(soak.run, clock=clock)
    finally:
        library_logger.setLevel(level)
        if args.tracemalloc:
            tracemalloc.stop()
    print_report(results)
    _common.write_results("soak", results, args.json)
    return results


def print_report(results: dict[str, Any]) -> None:
    print(
        f"{results['requests']:,} requests on {results['transport']}, "
        f"{results['concurrency']} callers, "
        f"{results['seconds']} s ({results['requests_per_second']:,} req/s)"
    )
    print("outcomes:", results["outcomes"])
    print("faults armed:", results["faults_armed"])
    print("session:", results["session"])
    print("memory:", results["memory"])
    for check, ok in results["checks"].items():
        print(f"  [{'ok' if ok else 'FAILED'}] {check}")
    if results["wrong_outcomes"] or results["unexpected"]:
        print("wrong outcomes:", results["wrong_outcomes"], results["unexpected"])


if __name__ == "__main__":
    sys.exit(0 if main()["passed"] else 1)
