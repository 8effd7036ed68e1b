"""User-data floods with a ledger: publish numbered events, then prove none was lost,
duplicated or reordered on the way to a subscriber.

::

    flood = UserEventFlood(exchange, "alice", count=10_000)
    nursery.start_soon(flood.run)
    ... collect flood.number_of(event) for each event received ...
    report = flood.verify(numbers)
    assert report.perfect, report

Each event is a ``balanceUpdate`` of a made-up asset whose clear time ``T`` is its number, so
events stay distinct even when many share one millisecond (``E``). The flood paces itself in
trio time (``batch`` events, then ``interval`` seconds), so it runs across whatever a test
makes happen meanwhile: rotations, drops, a 24 h cut.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import trio

from trio_binance.models import BalanceUpdate
from trio_binance.testing._server import LocalExchange

__all__ = ["FloodReport", "UserEventFlood"]


@dataclass(frozen=True)
class FloodReport:
    """What a subscriber got from a flood."""

    published: int
    received: int
    lost: int
    """Numbers never received."""
    duplicated: int
    """Receipts beyond the first of a number."""
    reordered: int
    """Receipts with a lower number than the receipt before."""

    @property
    def perfect(self) -> bool:
        return self.lost == self.duplicated == self.reordered == 0


class UserEventFlood:
    """``count`` numbered user-data events for ``account``, published by :meth:`run`."""

    def __init__(
        self,
        exchange: LocalExchange,
        account: str,
        count: int,
        *,
        batch: int = 20,
        interval: float = 0.001,
        asset: str = "FLOODCOIN",
    ) -> None:
        if count < 0 or batch < 1 or interval < 0:
            raise ValueError("UserEventFlood needs count >= 0, batch >= 1, interval >= 0")
        self.exchange = exchange
        self.account = account
        self.count = count
        self.batch = batch
        self.interval = interval
        self.asset = asset
        self.published = 0
        self.done = trio.Event()

    async def run(self, count: int | None = None) -> None:
        """Publish the next ``count`` events (all that remain by default), ``batch`` at a
        time, ``interval`` trio seconds apart (``0``: a checkpoint, no time passes)."""
        end = self.count if count is None else min(self.count, self.published + count)
        for number in range(self.published, end):
            self.exchange.publish_user_event(
                self.account,
                {
                    "e": "balanceUpdate",
                    "E": self.exchange.now_ms(),
                    "a": self.asset,
                    "d": "1",
                    "T": number,
                },
            )
            self.published += 1
            if self.published % self.batch == 0:
                await trio.sleep(self.interval)
        if self.published == self.count:
            self.done.set()

    def number_of(self, event: object) -> int | None:
        """The flood number of ``event``, or ``None`` if it is not one of this flood's."""
        if isinstance(event, BalanceUpdate) and event.asset == self.asset:
            return event.clear_time
        return None

    def verify(self, numbers: Iterable[int]) -> FloodReport:
        """Compare the numbers a subscriber received, in order, with what was published."""
        received = list(numbers)
        seen: set[int] = set()
        duplicated = reordered = 0
        previous = -1
        for number in received:
            if number in seen:
                duplicated += 1
                continue
            seen.add(number)
            if number < previous:
                reordered += 1
            previous = number
        lost = sum(1 for number in range(self.published) if number not in seen)
        return FloodReport(self.published, len(received), lost, duplicated, reordered)
