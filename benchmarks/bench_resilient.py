"""What resilience costs per user-data event: a resilient stream against a plain one, and the
de-duplication of a rotation against the size of its record.

    python benchmarks/bench_resilient.py [--runs 7] [--events 20000]
                                         [--records 100,1000,10000] [--json [PATH]]

1. **Delivery.** One local exchange in this process, two accounts: ``alice`` subscribed
   through a plain ``connect()`` session, ``bob`` through ``connect_resilient()``. Each burst
   queues ``--events`` pre-encoded ``executionReport`` frames (the documented event, a new
   order id each) on one subscription's connection and times them from queueing to the last
   typed event held by the consumer. Runs alternate the two streams; figures are medians, the
   ratio is the median of each run's own ratio. The server shares the process (and the core),
   equally for both.
2. **De-duplication.** The pure splice (``trio_binance._dedup``) over decoded events: a
   predecessor recorded ``R`` events, the successor's first half of them are duplicates, then
   as many new ones. Reported: nanoseconds per successor event, including the one-time seek
   for the first one, and the same with no record at all (every event outside a rotation).
   Flat figures across ``R`` mean the per-event cost does not grow with the record.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

import msgspec
import trio
from _common import (
    add_output_arguments,
    describe_machine,
    fmt_ratio,
    median,
    print_table,
    spread,
    write_results,
)
from bench_user_data import documented_report

import trio_binance
from trio_binance._dedup import Splice, TailRecorder
from trio_binance.models import ExecutionReport, UserDataEvent, decode_user_event
from trio_binance.testing import Lifecycle, LocalExchange, StreamSubscription, open_local_exchange
from trio_binance.testing._limits import Limit, RateLimitConfig

PLAIN = "plain user_data()"
RESILIENT = "resilient user_data()"


def report_bodies(count: int, first_id: int = 0) -> list[bytes]:
    """Distinct reports: a new order id each, and event times ten to a millisecond."""
    report = documented_report()
    return [
        msgspec.json.encode({**report, "i": first_id + n, "E": report["E"] + (first_id + n) // 10})
        for n in range(count)
    ]


def frames(subscription: StreamSubscription, bodies: list[bytes]) -> list[str]:
    prefix = f'{{"subscriptionId":{subscription.subscription_id},"event":'
    return [f"{prefix}{body.decode()}}}" for body in bodies]


async def burst(subscription: StreamSubscription, events: Any, texts: list[str]) -> float:
    """Seconds from queueing ``texts`` to holding the last event, typed."""
    start = time.perf_counter()
    for text in texts:
        subscription.connection.push(text)
    taken = 0
    last = None
    async for event in events:
        taken += 1
        if taken == len(texts):
            last = event
            break
    elapsed = time.perf_counter() - start
    if not isinstance(last, ExecutionReport):
        raise RuntimeError(f"unexpected last event: {last!r}")
    return elapsed


async def measure_delivery(args: argparse.Namespace) -> dict[str, Any]:
    exchange = LocalExchange(
        limits=RateLimitConfig(request_weight=(Limit("REQUEST_WEIGHT", "MINUTE", 1, 10**12),)),
        lifecycle=Lifecycle(ping_interval=3600.0, pong_timeout=3600.0),
        outbox_size=1_000_000,
    )
    keys = exchange.create_demo_keys(["alice", "bob"])
    bodies = report_bodies(args.events)
    async with (
        open_local_exchange(exchange),
        trio_binance.connect(exchange.url, credentials=keys["alice"].ed25519) as plain,
        trio_binance.connect_resilient(
            exchange.url, credentials=keys["bob"].ed25519, dead_after=None
        ) as resilient,
        plain.user_data() as plain_events,
        resilient.user_data() as resilient_events,
    ):
        (alice,) = exchange.user_streams.subscriptions("alice")
        (bob,) = exchange.user_streams.subscriptions("bob")
        streams = {
            PLAIN: (alice, plain_events, frames(alice, bodies)),
            RESILIENT: (bob, resilient_events, frames(bob, bodies)),
        }
        for subscription, events, texts in streams.values():  # warm up
            await burst(subscription, events, texts[: min(len(texts), 2_000)])
        rates: dict[str, list[float]] = {name: [] for name in streams}
        order = list(streams)
        for run in range(args.runs):
            for name in order[run % 2 :] + order[: run % 2]:
                subscription, events, texts = streams[name]
                rates[name].append(len(texts) / await burst(subscription, events, texts))
    return {
        "events_per_second": rates,
        "median": {name: median(values) for name, values in rates.items()},
        "spread": {name: spread(values) for name, values in rates.items()},
        "resilient_vs_plain": median(
            r / p for r, p in zip(rates[RESILIENT], rates[PLAIN], strict=True)
        ),
    }


def splice_ns_per_event(record: int, runs: int) -> dict[str, float]:
    """Median ns per successor event: with a ``record``-event record, and with none."""
    old = [decode_user_event(body) for body in report_bodies(record)]
    # The successor's copies are decoded separately: equal by value, not the same objects.
    successor = [decode_user_event(body) for body in report_bodies(record, 0)[record // 2 :]]
    successor += [decode_user_event(body) for body in report_bodies(record // 2, record)]
    with_record, without = [], []
    for _ in range(runs):
        recorder: TailRecorder[UserDataEvent] = TailRecorder(record)
        for event in old:
            recorder.add(event)
        with_record.append(_time_splice(Splice(recorder), successor, record // 2))
        without.append(_time_splice(Splice(None), successor, 0))
    return {"with_record": median(with_record), "without_record": median(without)}


def _time_splice(splice: Splice[UserDataEvent], events: list[UserDataEvent], dups: int) -> float:
    is_duplicate = splice.is_duplicate
    start = time.perf_counter_ns()
    for event in events:
        is_duplicate(event)
    elapsed = time.perf_counter_ns() - start
    if splice.duplicates != dups or splice.diverged:
        raise RuntimeError(f"splice went wrong: {splice.duplicates} duplicates, not {dups}")
    return elapsed / len(events)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs (median)")
    parser.add_argument("--events", type=int, default=20_000, help="events per burst")
    parser.add_argument(
        "--records", default="100,1000,10000", help="record sizes for the splice (comma list)"
    )
    add_output_arguments(parser)
    args = parser.parse_args(argv)
    records = [int(size) for size in args.records.split(",")]

    print(f"# what resilience costs per user-data event\n\n{describe_machine()}")
    delivery = trio.run(measure_delivery, args)
    print(
        f"\n## {args.events:,}-event bursts to one subscriber, server in-process "
        f"(events/s, median of {args.runs} runs)\n"
    )
    print_table(
        ["stream", "events/s", "spread", "vs plain"],
        [
            [
                PLAIN,
                f"{delivery['median'][PLAIN]:,.0f}",
                f"{delivery['spread'][PLAIN]:.0%}",
                "1.00x",
            ],
            [
                RESILIENT,
                f"{delivery['median'][RESILIENT]:,.0f}",
                f"{delivery['spread'][RESILIENT]:.0%}",
                fmt_ratio(delivery["resilient_vs_plain"]),
            ],
        ],
    )
    splice = {record: splice_ns_per_event(record, args.runs) for record in records}
    print(f"\n## splice, ns per successor event (median of {args.runs} runs)\n")
    print_table(
        ["recorded events", "half of them duplicates", "no record"],
        [
            [f"{record:,}", f"{row['with_record']:,.0f}", f"{row['without_record']:,.0f}"]
            for record, row in splice.items()
        ],
    )
    results = {"delivery": delivery, "splice_ns_per_event": splice}
    path = write_results("bench_resilient", results, args.json)
    if path is not None:
        print(f"\nresults written to {path}")
    return results


if __name__ == "__main__":
    main()
