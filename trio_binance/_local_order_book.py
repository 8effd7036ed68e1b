"""A local order book that follows a diff depth stream: ``async with local_order_book(...)``.

The I/O around :class:`~trio_binance._order_book.BookSync`: diff events come from a feed of
:class:`~trio_binance.MarketStreams` (its own, dropping the oldest when the book falls behind
-- the update ids reveal the hole and the book resynchronises), snapshots from the WebSocket
API ``depth`` method of a :class:`~trio_binance.Session`. One task applies events, another
fetches snapshots while events keep being buffered.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Final, Literal, Protocol

import msgspec
import trio

from trio_binance._exceptions import ExecutionStatusUnknown, InvalidParameter, RateLimited
from trio_binance._market_streams import MarketStreams
from trio_binance._nursery import background_nursery
from trio_binance._order_book import BookStatus, BookSync, Need
from trio_binance._stream_feed import Overflow, StreamFeed
from trio_binance.models._market import OrderBook, PriceLevel
from trio_binance.models._streams import DepthUpdateEvent

logger = logging.getLogger("trio_binance.order_book")

MAX_SNAPSHOT_LIMIT: Final = 5000
DEFAULT_FEED_SIZE: Final = 10_000
# Wait between snapshot attempts that failed or came too early (each costs request weight).
DEFAULT_SNAPSHOT_RETRY: Final = 1.0


class DepthSource(Protocol):
    """What the book needs from a session: the ``depth`` method."""

    async def depth(self, *, symbol: str, limit: int | None = None) -> OrderBook: ...


class BookUpdate(msgspec.Struct, frozen=True, gc=False):
    """A change notification: the book's update id and status after the change."""

    last_update_id: int | None
    status: BookStatus


class BookStatistics(msgspec.Struct, frozen=True, gc=False):
    status: BookStatus
    last_update_id: int | None
    bid_levels: int
    ask_levels: int
    events_applied: int
    resyncs: int
    snapshots: int
    snapshots_refused: int


class LocalOrderBook:
    """The order book of one symbol, kept consistent with the exchange's.

    Made by :func:`local_order_book`. Every query answers from a consistent book: the
    exchange's book as of :attr:`last_update_id`. While :attr:`status` is not ``SYNCED`` that
    book is stale (or empty, before the first snapshot).
    """

    def __init__(self, symbol: str, sync: BookSync) -> None:
        self.symbol = symbol
        self._sync = sync
        self._version = 0
        self._changed = trio.Event()
        self._events_applied = 0
        self._snapshots = 0
        self._snapshot_wanted = trio.Event()

    def __repr__(self) -> str:
        return (
            f"<LocalOrderBook {self.symbol} {self.status.value} "
            f"last_update_id={self.last_update_id}>"
        )

    @property
    def status(self) -> BookStatus:
        return self._sync.status

    @property
    def synced(self) -> bool:
        return self._sync.synced

    @property
    def last_update_id(self) -> int | None:
        return self._sync.last_update_id

    def best_bid(self) -> PriceLevel | None:
        return self._sync.bids.best()

    def best_ask(self) -> PriceLevel | None:
        return self._sync.asks.best()

    def bids(self, depth: int | None = None) -> tuple[PriceLevel, ...]:
        """The best ``depth`` bids (all with ``None``), highest price first."""
        return self._sync.bids.top(depth)

    def asks(self, depth: int | None = None) -> tuple[PriceLevel, ...]:
        """The best ``depth`` asks (all with ``None``), lowest price first."""
        return self._sync.asks.top(depth)

    def quantity(self, side: Literal["bid", "ask"], price: Decimal | str) -> Decimal:
        """The quantity at ``price`` on ``side`` (zero where there is no level)."""
        book_side = {"bid": self._sync.bids, "ask": self._sync.asks}.get(side)
        if book_side is None:
            raise InvalidParameter("side", "must be 'bid' or 'ask'")
        return book_side.quantity(Decimal(price))

    def statistics(self) -> BookStatistics:
        sync = self._sync
        return BookStatistics(
            status=sync.status,
            last_update_id=sync.last_update_id,
            bid_levels=len(sync.bids),
            ask_levels=len(sync.asks),
            events_applied=self._events_applied,
            resyncs=sync.resyncs,
            snapshots=self._snapshots,
            snapshots_refused=sync.snapshots_refused,
        )

    def updates(self) -> BookUpdates:
        """Each change of the book from now on, as ``async for update in book.updates()``.

        Changes made while the consumer was busy are coalesced into one notification: the
        book itself always shows the latest state.
        """
        return BookUpdates(self)

    async def wait_synced(self) -> None:
        """Return once the book follows the stream (at once if it does)."""
        while not self.synced:
            await self._changed.wait()

    # --- the book's tasks ---

    def _notify(self) -> None:
        self._version += 1
        self._changed.set()
        self._changed = trio.Event()

    async def _follow(self, feed: StreamFeed) -> None:
        sync = self._sync
        async for message in feed:
            event = message.event
            if type(event) is not DepthUpdateEvent:
                continue
            before = sync.status
            if sync.feed(event):
                self._events_applied += 1
                self._notify()
            elif sync.status is not before:  # a gap: resyncing now
                logger.info("%s order book: events missed, resynchronising", self.symbol)
                self._notify()
            if sync.need is Need.SNAPSHOT:
                self._snapshot_wanted.set()

    async def _keep_snapshots_coming(self, source: DepthSource, limit: int, retry: float) -> None:
        sync = self._sync
        while True:
            await self._snapshot_wanted.wait()
            if sync.need is not Need.SNAPSHOT:
                self._snapshot_wanted = trio.Event()
                continue
            try:
                snapshot = await source.depth(symbol=self.symbol, limit=limit)
            except (RateLimited, ExecutionStatusUnknown) as exc:  # passing: try again later
                logger.warning("%s order book: snapshot failed: %s", self.symbol, exc)
                await trio.sleep(retry)
                continue
            self._snapshots += 1
            before = (sync.status, sync.last_update_id)
            if not sync.apply_snapshot(snapshot) and sync.need is Need.SNAPSHOT:
                await trio.sleep(retry)  # too old, or the events after it are missing
            if (sync.status, sync.last_update_id) != before:
                self._notify()


class BookUpdates:
    """The change notifications of a :class:`LocalOrderBook` (an async iterator)."""

    def __init__(self, book: LocalOrderBook) -> None:
        self._book = book
        self._seen = book._version

    def __aiter__(self) -> BookUpdates:
        return self

    async def __anext__(self) -> BookUpdate:
        book = self._book
        while book._version == self._seen:
            await book._changed.wait()
        self._seen = book._version
        return BookUpdate(book.last_update_id, book.status)


@asynccontextmanager
async def local_order_book(
    streams: MarketStreams,
    session: DepthSource,
    symbol: str,
    *,
    update_speed: Literal["100ms", "1000ms"] = "100ms",
    snapshot_limit: int = MAX_SNAPSHOT_LIMIT,
    buffer_size: int = DEFAULT_FEED_SIZE,
    snapshot_retry: float = DEFAULT_SNAPSHOT_RETRY,
) -> AsyncIterator[LocalOrderBook]:
    """Follow ``symbol``'s order book for the block.

    Diff events come from ``streams`` (``<symbol>@depth@100ms``, or ``<symbol>@depth`` for
    ``update_speed="1000ms"``), snapshots of ``snapshot_limit`` levels a side from
    ``session.depth``. The book may not be synced yet when the body starts: check
    :attr:`LocalOrderBook.status` or ``await book.wait_synced()``.

    Levels beyond the snapshot's ``snapshot_limit`` are only known once they change.
    A snapshot refused for a passing reason (rate limited, 5xx) is retried every
    ``snapshot_retry`` seconds; any other refusal (an unknown symbol, say) or a closed session
    ends the block with that error.
    """
    if not isinstance(symbol, str) or not symbol.isalnum():
        raise InvalidParameter("symbol", "must be a symbol such as 'BNBBTC'")
    if not 1 <= snapshot_limit <= MAX_SNAPSHOT_LIMIT:
        raise InvalidParameter("snapshot_limit", f"must be 1..{MAX_SNAPSHOT_LIMIT}")
    if update_speed not in ("100ms", "1000ms"):
        raise InvalidParameter("update_speed", "must be '100ms' or '1000ms'")
    stream = f"{symbol.lower()}@depth" + ("@100ms" if update_speed == "100ms" else "")
    book = LocalOrderBook(symbol.upper(), BookSync(buffer_limit=buffer_size))
    async with (
        streams.listen([stream], buffer_size=buffer_size, overflow=Overflow.DROP_OLDEST) as feed,
        background_nursery() as nursery,
    ):
        nursery.start_soon(book._follow, feed)
        nursery.start_soon(book._keep_snapshots_coming, session, snapshot_limit, snapshot_retry)
        yield book


__all__ = [
    "BookStatistics",
    "BookStatus",
    "BookUpdate",
    "BookUpdates",
    "DepthSource",
    "LocalOrderBook",
    "local_order_book",
]
