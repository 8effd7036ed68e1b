"""A local order book kept in step with a diff depth stream, free of I/O.

The procedure is web-socket-streams.md, "How to manage a local order book correctly":

1. buffer the diff events; note the ``U`` of the first;
2. take a depth snapshot; if its ``lastUpdateId`` is strictly less than that ``U``, take
   another;
3. discard buffered events whose ``u`` is <= ``lastUpdateId``; set the book to the snapshot;
4. apply the buffered events, then every later one: an event whose ``u`` is below the book's
   update id is ignored; one whose ``U`` is above the book's update id + 1 means events were
   missed: the book is discarded and the procedure restarts.

:class:`BookSync` is that procedure as a state machine. It is fed events and snapshots and
says what it needs next; the caller (``_order_book_sync``) does the I/O. The book it exposes
is always consistent: the levels as of :attr:`BookSync.last_update_id`, never a half-applied
event. While it resynchronises (:attr:`BookStatus.RESYNCING`) it keeps the last consistent
book, now stale, until a new snapshot replaces it whole.
"""

from __future__ import annotations

import enum
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from trio_binance.models._market import OrderBook, PriceLevel
from trio_binance.models._streams import DepthUpdateEvent

# Events buffered while waiting for a snapshot; beyond this the oldest go (a later gap
# check notices if that loses anything).
DEFAULT_BUFFER_LIMIT: Final = 10_000
_ZERO: Final = Decimal(0)


class BookStatus(enum.Enum):
    SYNCING = "syncing"  # no consistent book yet
    SYNCED = "synced"  # the book follows the stream
    RESYNCING = "resyncing"  # events were missed; the book shown is stale until resynced


class Need(enum.Enum):
    """What :class:`BookSync` needs next."""

    NOTHING = "nothing"
    EVENT = "event"  # a first diff event, before a snapshot is useful
    SNAPSHOT = "snapshot"


class BookSide:
    """One side of a book: price -> quantity, with the prices kept sorted."""

    __slots__ = ("_levels", "_prices", "descending")

    def __init__(self, *, descending: bool) -> None:
        self.descending = descending
        self._levels: dict[Decimal, Decimal] = {}
        self._prices: list[Decimal] = []  # ascending

    def __len__(self) -> int:
        return len(self._levels)

    def set(self, price: Decimal, quantity: Decimal) -> None:
        """Set a level's quantity; a zero quantity removes the level."""
        levels = self._levels
        if quantity == _ZERO:
            if levels.pop(price, None) is not None:
                prices = self._prices
                del prices[bisect_left(prices, price)]
            return
        if price not in levels:
            insort(self._prices, price)
        levels[price] = quantity

    def replace(self, levels: Iterable[PriceLevel]) -> None:
        self._levels = {level.price: level.qty for level in levels if level.qty != _ZERO}
        self._prices = sorted(self._levels)

    def quantity(self, price: Decimal) -> Decimal:
        return self._levels.get(price, _ZERO)

    def best(self) -> PriceLevel | None:
        if not self._prices:
            return None
        price = self._prices[-1] if self.descending else self._prices[0]
        return PriceLevel(price=price, qty=self._levels[price])

    def top(self, count: int | None = None) -> tuple[PriceLevel, ...]:
        """The best ``count`` levels (all with ``None``), best first."""
        prices = self._prices
        if count is None or count >= len(prices):
            chosen = reversed(prices) if self.descending else iter(prices)
        elif self.descending:
            chosen = reversed(prices[len(prices) - count :]) if count > 0 else iter(())
        else:
            chosen = iter(prices[: max(count, 0)])
        levels = self._levels
        return tuple(PriceLevel(price=p, qty=levels[p]) for p in chosen)

    def as_dict(self) -> dict[Decimal, Decimal]:
        return dict(self._levels)


class BookSync:
    """The local order book procedure for one symbol; see the module docstring."""

    def __init__(self, *, buffer_limit: int = DEFAULT_BUFFER_LIMIT) -> None:
        if buffer_limit < 1:
            raise ValueError("buffer_limit must be at least 1")
        self.bids = BookSide(descending=True)
        self.asks = BookSide(descending=False)
        self.status = BookStatus.SYNCING
        self.last_update_id: int | None = None
        """The update id the book is consistent at (``None`` before the first snapshot)."""
        self.resyncs = 0
        """Times events were found missing and the procedure restarted."""
        self.snapshots_refused = 0
        """Snapshots older than the first buffered event (step 4: take another)."""
        self._buffer: deque[DepthUpdateEvent] = deque(maxlen=buffer_limit)

    @property
    def synced(self) -> bool:
        return self.status is BookStatus.SYNCED

    @property
    def need(self) -> Need:
        if self.status is BookStatus.SYNCED:
            return Need.NOTHING
        return Need.SNAPSHOT if self._buffer else Need.EVENT

    @property
    def first_buffered_id(self) -> int | None:
        """The ``U`` of the first buffered event (step 2), if any."""
        return self._buffer[0].first_update_id if self._buffer else None

    # --- events ---

    def feed(self, event: DepthUpdateEvent) -> bool:
        """Take one diff event; ``True`` if the book changed."""
        if self.status is not BookStatus.SYNCED:
            self._buffer.append(event)
            return False
        return self._apply(event)

    def _apply(self, event: DepthUpdateEvent) -> bool:
        book_id = self.last_update_id
        assert book_id is not None
        # "If the event last update ID (u) is less than the update ID of your local order
        # book, ignore the event." An event with u equal to it is already in the book too
        # (the book's id is the u of the last event applied, or the snapshot's id, which
        # covers it): ignoring it changes nothing, applying it again would not either.
        if event.final_update_id <= book_id:
            return False
        if event.first_update_id > book_id + 1:
            self._restart(event)
            return False
        for level in event.bids:
            self.bids.set(level.price, level.qty)
        for level in event.asks:
            self.asks.set(level.price, level.qty)
        self.last_update_id = event.final_update_id
        return True

    def _restart(self, event: DepthUpdateEvent) -> None:
        """Events were missed: discard the book's standing, buffer again from ``event``."""
        if self.last_update_id is not None:  # before a first book, it is still syncing
            self.status = BookStatus.RESYNCING
        self.resyncs += 1
        self._buffer.clear()
        self._buffer.append(event)

    # --- snapshots ---

    def apply_snapshot(self, snapshot: OrderBook) -> bool:
        """Set the book from a depth snapshot; ``False`` if a newer snapshot is needed.

        ``False`` also when applying the buffered events found a gap (the buffer then starts
        after it and a new snapshot is needed) -- :attr:`need` says what to do next.
        """
        if self.status is BookStatus.SYNCED:
            return True
        first = self.first_buffered_id
        if first is None:
            raise RuntimeError("a snapshot is only useful after the first diff event")
        if snapshot.last_update_id < first:  # step 4: the snapshot is older than the events
            self.snapshots_refused += 1
            return False
        buffered = [e for e in self._buffer if e.final_update_id > snapshot.last_update_id]
        self._buffer.clear()
        if buffered and buffered[0].first_update_id > snapshot.last_update_id + 1:
            self._restart(buffered[0])  # the events right after the snapshot are missing
            self._buffer.extend(buffered[1:])
            return False
        self.bids.replace(snapshot.bids)
        self.asks.replace(snapshot.asks)
        self.last_update_id = snapshot.last_update_id
        self.status = BookStatus.SYNCED
        for index, event in enumerate(buffered):
            self._apply(event)
            if self.status is not BookStatus.SYNCED:  # a gap inside the buffer
                self._buffer.extend(buffered[index + 1 :])
                return False
        return True
