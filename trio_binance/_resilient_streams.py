"""User-data streams that outlive connections: a chain of subscriptions, one per connection,
joined exactly once and in order (see :mod:`trio_binance._dedup`), with a
:class:`~trio_binance.UserDataGap` item wherever continuity cannot be proven.

The resilient session (:mod:`trio_binance._resilient`) decides when a stream gets a new
subscription (``_new_feed`` + ``_pump`` on the new connection) and when an old one is
unsubscribed (``detaching``); this module keeps each feed's events in their place:

* a feed's task subscribes at once (so the exchange starts sending) but delivers only when its
  turn comes, i.e. when its predecessor has delivered everything it will ever deliver; until
  then the core stream buffers its events;
* a predecessor still delivering records what it delivers from the moment its successor's
  subscribe is sent; the successor skips what the record proves it already delivered;
* a predecessor that ended any other way than by our own unsubscribe (the connection lost, an
  overflow, a termination by the exchange) leaves a gap: the successor yields the marker first.

An event that cannot be decoded travels the same way, in its place (as :class:`_Malformed`,
compared by its bytes, so the overlap of a rotation skips its second copy like any other
event); the consumer's iterator raises its ``ProtocolError`` there, as the plain stream does,
and iterating again goes on with the next event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import msgspec
import trio

from trio_binance._credentials import Credentials
from trio_binance._dedup import Splice, TailRecorder
from trio_binance._exceptions import BinanceError, ProtocolError
from trio_binance._gap import UserDataGap
from trio_binance._session import Session
from trio_binance._transport import TransportClosed
from trio_binance._user_data import (
    UserDataStream,
    UserDataStreamLost,
    UserDataStreamTerminated,
)
from trio_binance.models import UserDataEvent

__all__ = [
    "ResilientUserDataStream",
    "ResilientUserDataStreamStatistics",
    "StreamTotals",
    "UserDataItem",
]

logger = logging.getLogger("trio_binance.resilient")

UserDataItem = UserDataEvent | UserDataGap
"""What a resilient user-data stream yields: an event, or a gap marker."""


class _Malformed:
    """An event that could not be decoded, kept in order with the others."""

    __slots__ = ("error", "key")

    def __init__(self, error: ProtocolError) -> None:
        self.error = error
        self.key = error.raw if error.raw is not None else str(error).encode()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Malformed) and other.key == self.key

    __hash__ = None  # type: ignore[assignment]  # compared, never hashed


_Item = UserDataEvent | _Malformed


class StreamTotals:
    """What a session keeps for all its streams: counters over their whole life, and how a
    stream asks for a new subscription."""

    def __init__(self, resubscribe: Callable[[ResilientUserDataStream], None]) -> None:
        self.gaps = 0
        self.duplicates = 0
        self.resubscribe = resubscribe


class ResilientUserDataStreamStatistics(msgspec.Struct, frozen=True, gc=False):
    """A snapshot of a resilient stream, from :meth:`ResilientUserDataStream.statistics`."""

    delivered: int
    """Events (not gap markers) handed to the consumer."""
    buffered: int
    gaps: int
    duplicates_dropped: int
    malformed: int
    """Events that could not be decoded: each raised ``ProtocolError`` from the iterator (its
    ``raw`` holds the event as received), in its place among the others."""
    subscriptions: int
    """Subscriptions made so far, one per connection it lived on."""


# --- one subscription of a stream ------------------------------------------------------------


class _Feed:
    """One subscription of a resilient stream, on one connection."""

    def __init__(self, predecessor: _Feed | None) -> None:
        self.predecessor = predecessor
        self.successor: _Feed | None = None
        self.session: Session | None = None
        self.subscription_id: int | None = None
        self.scope = trio.CancelScope()
        self.started = False
        self.turn = trio.Event()
        """Set when every event before this feed's has been delivered."""
        self.splice: Splice[_Item] = Splice(None)
        self.gap: UserDataGap | None = None
        self.recorder: TailRecorder[_Item] | None = None
        self.detaching = False
        self.withdrawn = False
        """Taken out of the chain before its turn (see ``_withdraw``): it delivers nothing."""
        self.ended = trio.Event()
        self.exited = trio.Event()
        """Set when its task is over (unsubscribed, or its connection gone)."""
        self.clean = False
        self.end_reason = ""
        self.ended_at = 0.0


class ResilientUserDataStream:
    """The user-data events of one account, across every connection of a resilient session.

    Iterate it with ``async for``: each item is a typed event from :mod:`trio_binance.models`,
    or a :class:`~trio_binance.UserDataGap` where events may be missing. Events are delivered
    exactly once and in the exchange's order. An event that cannot be decoded raises
    ``ProtocolError`` in its place (its ``raw`` holds the event as received) and ends
    nothing: iterating again continues with the next item. The stream ends only when its
    block is left, the session closes or gives up (:class:`UserDataStreamLost`), or a
    re-subscription is refused (that refusal is raised).
    """

    def __init__(
        self, totals: StreamTotals, credentials: Credentials | None, buffer_size: int
    ) -> None:
        self._totals = totals
        self._credentials = credentials
        self.buffer_size = buffer_size
        self._send, self._receive = trio.open_memory_channel[UserDataItem | _Malformed](buffer_size)
        self._last: _Feed | None = None
        self._end: BaseException | None = None
        self._left = False
        self._last_event_time: int | None = None
        self._delivered = 0
        self._gaps = 0
        self._duplicates = 0
        self._malformed = 0
        self._subscriptions = 0

    def __repr__(self) -> str:
        state = "ended" if self._end is not None or self._left else "open"
        return f"<ResilientUserDataStream {state} subscriptions={self._subscriptions}>"

    def statistics(self) -> ResilientUserDataStreamStatistics:
        return ResilientUserDataStreamStatistics(
            delivered=self._delivered,
            buffered=self._send.statistics().current_buffer_used,
            gaps=self._gaps,
            duplicates_dropped=self._duplicates,
            malformed=self._malformed,
            subscriptions=self._subscriptions,
        )

    # --- the consumer's side ---

    def __aiter__(self) -> ResilientUserDataStream:
        return self

    async def __anext__(self) -> UserDataItem:
        try:
            item = await self._receive.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            if self._end is None or self._left:
                raise StopAsyncIteration from None
            raise self._end from None
        if isinstance(item, _Malformed):
            self._malformed += 1
            error = item.error
            raise ProtocolError(f"resilient user data: {error}", raw=error.raw) from error
        if not isinstance(item, UserDataGap):
            self._delivered += 1
        return item

    # --- the chain of subscriptions ---

    def _new_feed(self) -> _Feed:
        """The next subscription, created before its subscribe is sent (see ``_dedup``)."""
        predecessor = self._last
        feed = _Feed(predecessor)
        if predecessor is None:
            feed.turn.set()
        else:
            predecessor.successor = feed
            if predecessor.ended.is_set():
                self._hand_over(predecessor, feed)
            else:
                predecessor.recorder = TailRecorder(self.buffer_size)
        self._last = feed
        return feed

    def _abandon(self, feed: _Feed) -> None:
        """``feed``'s subscribe failed: the chain goes on from its predecessor."""
        predecessor = feed.predecessor
        if predecessor is not None:
            predecessor.successor = None
            if not predecessor.ended.is_set():
                predecessor.recorder = None
        self._last = predecessor

    def _withdraw(self, session: Session) -> None:
        """``session`` was lost while this stream's subscription on it still waited for its
        turn (a rotation's replacement, lost while re-subscribing): take it out of the chain.

        Sound because its turn had not come: its predecessor had not ended, so it was
        subscribed during the whole life of the lost subscription and receives every event
        the lost one did; it simply carries on, and no gap is signalled for nothing. A
        subscription whose turn had come (its predecessor ended) stays, and its end is a gap.
        """
        feed = self._last
        if feed is None or feed.session is not session or feed.turn.is_set():
            return
        feed.withdrawn = True
        feed.scope.cancel()
        self._abandon(feed)

    def _hand_over(self, predecessor: _Feed, successor: _Feed) -> None:
        successor.splice = Splice(predecessor.recorder)
        if not predecessor.clean:
            successor.gap = UserDataGap(
                reason=predecessor.end_reason,
                last_event_time=self._last_event_time,
                lost_at=predecessor.ended_at,
                resumed_at=trio.current_time(),
            )
        successor.turn.set()

    def _feed_on(self, session: Session) -> _Feed | None:
        feed = self._last
        while feed is not None and feed.session is not session:
            feed = feed.predecessor
        return feed

    def _needs_feed_on(self, session: Session) -> bool:
        last = self._last
        return not self.closed and (
            last is None or last.session is not session or last.ended.is_set()
        )

    @property
    def closed(self) -> bool:
        return self._left or self._end is not None

    async def _pump(self, feed: _Feed, session: Session, *, task_status: Any) -> None:
        """Subscribe on ``session``, then (in turn) deliver its events; never raises once
        subscribed."""
        end: BaseException | None = None
        try:
            with feed.scope:
                try:
                    async with session.user_data(
                        credentials=self._credentials, buffer_size=self.buffer_size
                    ) as core:
                        feed.session = session
                        feed.subscription_id = core.subscription_id
                        feed.started = True
                        self._subscriptions += 1
                        task_status.started()
                        await feed.turn.wait()
                        await self._deliver(feed, core)
                except (BinanceError, trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                    if not feed.started:
                        raise
                    end = exc
            if feed.started:
                self._finish(feed, end)
        finally:
            feed.exited.set()
            self._forget(feed)

    async def _deliver(self, feed: _Feed, core: UserDataStream) -> None:
        if feed.gap is not None:
            await self._emit_gap(feed.gap)
        splice = feed.splice
        while True:
            event: _Item
            try:
                event = await core.__anext__()
            except StopAsyncIteration:
                return
            except ProtocolError as exc:
                event = _Malformed(exc)
            if splice.is_duplicate(event):
                self._duplicates += 1
                self._totals.duplicates += 1
                continue
            if splice.diverged:
                splice.diverged = False
                await self._emit_gap(
                    UserDataGap(
                        reason="the new subscription's events disagree with the old one's",
                        last_event_time=self._last_event_time,
                        lost_at=trio.current_time(),
                        resumed_at=trio.current_time(),
                    )
                )
            recorder = feed.recorder
            if recorder is not None:
                recorder.add(event)
            try:  # room in the buffer (nearly always): no extra trip through the scheduler
                self._send.send_nowait(event)
            except trio.WouldBlock:
                await self._send.send(event)
            event_time = getattr(event, "event_time", None)
            if isinstance(event_time, int):
                self._last_event_time = event_time

    async def _emit_gap(self, gap: UserDataGap) -> None:
        self._gaps += 1
        self._totals.gaps += 1
        logger.info("user data gap: %s", gap.reason)
        await self._send.send(gap)

    def _finish(self, feed: _Feed, end: BaseException | None) -> None:
        if feed.withdrawn:
            feed.ended.set()
            return
        feed.clean = feed.detaching and isinstance(end, UserDataStreamTerminated)
        feed.end_reason = _describe_end(end)
        feed.ended_at = trio.current_time()
        feed.ended.set()
        if feed.successor is not None:
            self._hand_over(feed, feed.successor)
        elif not feed.clean and not self.closed:
            # Ended on a connection that may still serve (an overflow, a termination by the
            # exchange): ask for a new subscription; a lost connection is the supervisor's.
            self._totals.resubscribe(self)

    def _forget(self, feed: _Feed) -> None:
        """A feed whose task is over is not needed by anyone: let it (and its connection's
        session) go, so a stream that lives for months does not keep every old session."""
        feed.session = None
        feed.recorder = None
        feed.splice = Splice(None)
        successor = feed.successor
        if successor is not None and successor.started and feed.ended.is_set():
            successor.predecessor = None

    def _fail(self, error: BaseException) -> None:
        """No more events: the consumer gets ``error`` after those already buffered."""
        if self._end is None:
            self._end = error
        self._send.close()
        feed = self._last
        while feed is not None:
            feed.scope.cancel()
            feed = feed.predecessor

    async def _exited(self) -> None:
        feed = self._last
        while feed is not None:
            await feed.exited.wait()
            feed = feed.predecessor

    def _leave(self) -> None:
        self._left = True
        self._fail(StopAsyncIteration())
        self._receive.close()


def _describe_end(end: BaseException | None) -> str:
    if isinstance(end, UserDataStreamLost) and isinstance(end.reason, TransportClosed):
        return f"subscription lost with its connection ({end.reason.describe()})"
    if end is None:
        return "subscription ended"
    return f"subscription ended: {end}"
