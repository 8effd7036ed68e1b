"""Lossless user data under stress: a 100,000-event flood through forced drops and rotations.

The promise (DESIGN.md, "user-data events are never dropped silently and always arrive in
order"): every event of the account reaches the consumer exactly once and in order, except
where the consumer is told that events may be missing -- ``UserDataStreamLost`` on a plain
session, a ``UserDataGap`` item on a resilient one. The check is strict: between two markers
the numbers received are consecutive, and every number never received lies in a hole that a
marker explains.

Everything runs in trio's autojump time over real loopback WebSockets.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import trio
import trio.testing

import trio_binance
from trio_binance import UserDataStreamLost
from trio_binance.models import BalanceUpdate
from trio_binance.testing import LocalExchange

EVENTS = 100_000
ASSET = "FLOODCOIN"
BATCH = 50  # events published per trio tick of the publisher
QUIET = 5.0  # trio seconds of silence after the last publish that end a consumer


class Marker:
    """Where the consumer was told that events may be missing."""

    def __init__(self, why: str) -> None:
        self.why = why

    def __repr__(self) -> str:
        return f"<marker {self.why}>"


@dataclass
class Ledger:
    """What was published and what arrived, in arrival order."""

    count: int
    published: int = 0
    done: trio.Event = field(default_factory=trio.Event)
    arrived: list[int | Marker] = field(default_factory=list)
    milestones: list[tuple[int, trio.Event]] = field(default_factory=list)

    async def published_at_least(self, count: int) -> None:
        if self.published < count and not self.done.is_set():
            reached = trio.Event()
            self.milestones.append((count, reached))
            await reached.wait()

    def _note_progress(self) -> None:
        waiting = []
        for count, reached in self.milestones:
            if self.published >= count or self.done.is_set():
                reached.set()
            else:
                waiting.append((count, reached))
        self.milestones = waiting

    async def publish(self, exchange: LocalExchange, account: str) -> None:
        for number in range(self.count):
            exchange.publish_user_event(
                account,
                {"e": "balanceUpdate", "E": exchange.now_ms(), "a": ASSET, "d": "1", "T": number},
            )
            self.published += 1
            if self.published % BATCH == 0:
                self._note_progress()
                await trio.sleep(0.001)
        self.done.set()
        self._note_progress()

    def take(self, item: object) -> None:
        if isinstance(item, BalanceUpdate) and item.asset == ASSET:
            self.arrived.append(item.clear_time)
        elif not isinstance(item, BalanceUpdate):
            self.arrived.append(Marker(type(item).__name__))

    @property
    def numbers(self) -> list[int]:
        return [item for item in self.arrived if isinstance(item, int)]

    @property
    def markers(self) -> int:
        return sum(isinstance(item, Marker) for item in self.arrived)

    def unexplained(self) -> list[str]:
        """Every loss, duplicate or reordering that no marker accounts for."""
        problems: list[str] = []
        previous = -1
        marked = False
        seen: set[int] = set()
        for item in self.arrived:
            if isinstance(item, Marker):
                marked = True
                continue
            if item in seen:
                problems.append(f"{item} arrived twice")
            elif item < previous:
                problems.append(f"{item} arrived after {previous}")
            elif item > previous + 1 and not marked:
                problems.append(f"{item - previous - 1} events lost after {previous}, no marker")
            seen.add(item)
            previous = max(previous, item)
            marked = False
        if previous < self.published - 1 and not marked:
            problems.append(f"events after {previous} lost, no marker")
        return problems

    def all_quiet(self) -> bool:
        return self.done.is_set() and bool(self.numbers) and self.numbers[-1] == self.count - 1


async def chaos(
    exchange: LocalExchange, ledger: Ledger, rng: random.Random, act: Any, times: int
) -> int:
    """``times`` disruptions spread over the flood; returns how many happened."""
    done = 0
    step = ledger.count // (times + 1)
    for n in range(1, times + 1):
        await ledger.published_at_least(n * step + rng.randrange(step // 2))
        if ledger.done.is_set():
            break
        await act(rng)
        done += 1
    return done


async def consume(events: AsyncIterator[Any], ledger: Ledger) -> None:
    """Take events until the flood is over and the stream has been quiet for ``QUIET``."""
    while not ledger.all_quiet():
        with trio.move_on_after(QUIET) as quiet:
            item = await events.__anext__()
        if quiet.cancelled_caught:
            if ledger.done.is_set():
                return
            continue
        ledger.take(item)


@pytest.fixture
def alice(local_exchange: LocalExchange) -> trio_binance.Credentials:
    return local_exchange.demo_keys["alice"].ed25519


async def test_plain_session_flood_with_drops_loses_nothing_unannounced(
    local_exchange: LocalExchange,
    alice: trio_binance.Credentials,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """100,000 events, the connection cut 20 times: the consumer reconnects after each
    ``UserDataStreamLost``; what it misses is only ever what was published while it had no
    subscription, and each such hole comes after the exception that announced it."""
    ledger = Ledger(EVENTS)
    rng = random.Random(2024)
    first_subscription = trio.Event()

    async def drop(_: random.Random) -> None:
        await local_exchange.drop_all()

    async def consumer() -> None:
        while not ledger.all_quiet():
            async with (
                trio_binance.connect(local_exchange.url, credentials=alice) as session,
                session.user_data() as events,
            ):
                first_subscription.set()
                try:
                    await consume(events, ledger)
                except UserDataStreamLost as lost:
                    ledger.take(lost)
                    continue
            if ledger.done.is_set():
                return

    async with trio.open_nursery() as nursery:
        nursery.start_soon(consumer)
        await first_subscription.wait()
        nursery.start_soon(ledger.publish, local_exchange, "alice")
        drops = await chaos(local_exchange, ledger, rng, drop, times=20)
    assert drops == 20
    assert ledger.published == EVENTS
    assert ledger.unexplained() == []
    assert 1 <= ledger.markers <= drops
    # most of the flood arrived: the holes are only what was published while reconnecting
    assert len(ledger.numbers) > EVENTS * 0.5


async def test_plain_session_slow_consumer_overflow_is_announced(
    local_exchange: LocalExchange,
    alice: trio_binance.Credentials,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A consumer that stops reading: the stream ends with ``UserDataOverflow`` after the
    buffered events, never by silently dropping some."""
    ledger = Ledger(5_000)
    async with (
        trio_binance.connect(local_exchange.url, credentials=alice) as session,
        session.user_data(buffer_size=1_000) as events,
    ):
        await ledger.publish(local_exchange, "alice")  # nobody reads meanwhile

        async def read_all() -> None:
            async for event in events:
                ledger.take(event)

        with pytest.raises(trio_binance.UserDataOverflow) as overflow:
            await read_all()
        ledger.take(overflow.value)
    assert ledger.numbers == list(range(1_000))
    assert ledger.unexplained() == []
    assert "4000" in str(overflow.value) or "4,000" in str(overflow.value)


# --- the resilient session ----------------------------------------------------------------

resilient = pytest.importorskip("trio_binance._resilient")


async def flood_through_resilient_session(
    exchange: LocalExchange,
    credentials: trio_binance.Credentials,
    *,
    rotations: int,
    drops: int,
    seed: int,
) -> tuple[Ledger, Any]:
    ledger = Ledger(EVENTS)
    rng = random.Random(seed)
    policy = trio_binance.ReconnectPolicy(initial=0.05, cap=0.5, seed=seed)
    plan = ["rotate"] * rotations + ["drop"] * drops
    rng.shuffle(plan)
    async with trio_binance.connect_resilient(
        exchange.url, credentials=credentials, policy=policy
    ) as session:

        async def disrupt(_: random.Random) -> None:
            if plan.pop() == "rotate":
                await session.rotate()
            else:
                await exchange.drop_all()

        async with session.user_data() as events, trio.open_nursery() as nursery:
            nursery.start_soon(ledger.publish, exchange, "alice")
            nursery.start_soon(chaos, exchange, ledger, rng, disrupt, rotations + drops)
            await consume(events, ledger)
            stream_stats = events.statistics()
        stats = session.statistics()
    return ledger, (stats, stream_stats)


async def test_resilient_flood_through_rotations_is_perfect(
    local_exchange: LocalExchange,
    alice: trio_binance.Credentials,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Make-before-break rotations lose nothing: 100,000 events through 10 rotations arrive
    exactly once, in order, with no gap marker at all."""
    ledger, (stats, stream_stats) = await flood_through_resilient_session(
        local_exchange, alice, rotations=10, drops=0, seed=11
    )
    assert stats.rotations == 10
    assert ledger.markers == 0
    assert ledger.numbers == list(range(EVENTS))
    assert stream_stats.gaps == 0


async def test_resilient_flood_through_rotations_and_drops_marks_every_loss(
    local_exchange: LocalExchange,
    alice: trio_binance.Credentials,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Rotations and connection drops, interleaved at random: every event arrives exactly
    once and in order, except in holes each preceded by a ``UserDataGap``."""
    ledger, (stats, stream_stats) = await flood_through_resilient_session(
        local_exchange, alice, rotations=8, drops=8, seed=5
    )
    assert stats.rotations == 8
    assert stats.reconnects >= 1
    assert ledger.unexplained() == []
    assert ledger.markers == stream_stats.gaps <= 8
    assert len(ledger.numbers) > EVENTS * 0.5


async def test_a_cancelled_subscribe_leaves_no_subscription_behind(
    local_exchange: LocalExchange,
    alice: trio_binance.Credentials,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Found by the soak: a caller cancelled after its subscribe was written left an active
    subscription on the exchange that the session did not know of, and the next
    ``user_data()`` for the account was refused (-2035). The session now ends it."""
    async with trio_binance.connect(local_exchange.url, credentials=alice) as session:
        local_exchange.faults.delay(1.0, "userDataStream.subscribe")  # executed, answered late
        with trio.move_on_after(0.5) as cancelled:
            async with session.user_data():
                pytest.fail("the subscribe was meant to be cancelled")  # pragma: no cover
        assert cancelled.cancelled_caught
        assert await session.user_data_subscriptions() == []
        async with session.user_data() as events:
            local_exchange.publish_user_event(
                "alice", {"e": "balanceUpdate", "E": 1, "a": ASSET, "d": "1", "T": 7}
            )
            event = await events.__anext__()
            assert isinstance(event, BalanceUpdate)
        assert session.statistics().subscriptions == 0
