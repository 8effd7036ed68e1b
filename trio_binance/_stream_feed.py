"""A subscriber's bounded buffer of stream messages, with an explicit overflow policy.

The streams' receive task hands each decoded message to every feed that wants its stream
with :meth:`StreamFeed.push`, which never blocks: the receive task must keep reading, or the
connection stops answering pings and the exchange drops it. What happens when a consumer
falls behind is chosen per feed:

* :attr:`Overflow.FAIL` (the default): the feed ends with :class:`StreamOverflow`, raised by
  its iterator after the messages buffered before the overflow; nothing is lost silently;
* :attr:`Overflow.DROP_OLDEST`: the oldest buffered message makes room and is counted in
  ``dropped`` -- for market data where only the latest state matters (a local order book
  notices the hole by its update ids and resynchronises).
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Iterable

import msgspec
import trio

from trio_binance._exceptions import BinanceError
from trio_binance.models._streams import StreamMessage

DEFAULT_FEED_SIZE = 10_000


class Overflow(enum.Enum):
    """What a full feed does with the next message."""

    FAIL = "fail"
    DROP_OLDEST = "drop_oldest"


class StreamFeedEnded(BinanceError):
    """A feed ended by itself: no more messages will come on it."""


class StreamOverflow(StreamFeedEnded):
    """The consumer fell ``buffer_size`` messages behind; ``lost`` messages were discarded.

    ``lost`` keeps counting messages that arrive while the feed is still open.
    """

    def __init__(self, buffer_size: int) -> None:
        super().__init__(f"stream consumer fell {buffer_size} messages behind")
        self.buffer_size = buffer_size
        self.lost = 0

    def __str__(self) -> str:
        return f"{super().__str__()} ({self.lost} lost)"


class StreamsClosed(StreamFeedEnded):
    """The market streams behind the feed were closed (``reason`` says why, if abnormal)."""

    def __init__(self, reason: BaseException | None) -> None:
        why = f": {reason}" if reason is not None else ""
        super().__init__(f"market streams closed{why}")
        self.reason = reason


class FeedStatistics(msgspec.Struct, frozen=True, gc=False):
    """A snapshot of a feed, from :meth:`StreamFeed.statistics`."""

    streams: tuple[str, ...]
    delivered: int
    buffered: int
    buffer_size: int
    dropped: int
    """Messages discarded by ``DROP_OLDEST`` (or after an overflow ended the feed)."""
    ended: bool


class StreamFeed:
    """Messages of some streams, in arrival order; iterate with ``async for``.

    Each item is a :class:`~trio_binance.models.StreamMessage`: the stream name and its
    typed event.
    """

    def __init__(
        self, streams: Iterable[str], *, buffer_size: int = DEFAULT_FEED_SIZE, overflow: Overflow
    ) -> None:
        if buffer_size < 1:
            raise ValueError("buffer_size must be at least 1")
        self.streams: frozenset[str] = frozenset(streams)
        self.buffer_size = buffer_size
        self.overflow = Overflow(overflow)
        self._buffer: deque[StreamMessage] = deque()
        self._arrived = trio.Event()
        self._end: StreamFeedEnded | None = None
        self._dropped = 0
        self._delivered = 0

    def __repr__(self) -> str:
        return (
            f"<StreamFeed {len(self.streams)} streams {self.overflow.value} "
            f"buffered={len(self._buffer)}/{self.buffer_size}>"
        )

    @property
    def ended(self) -> bool:
        return self._end is not None

    # --- the receive task's side (never blocks) ---

    def push(self, message: StreamMessage) -> None:
        if self._end is not None:
            if isinstance(self._end, StreamOverflow):
                self._end.lost += 1
            return
        if len(self._buffer) >= self.buffer_size:
            if self.overflow is Overflow.FAIL:
                self._end = StreamOverflow(self.buffer_size)
                self._end.lost = 1
                self._arrived.set()
                return
            self._buffer.popleft()
            self._dropped += 1
        self._buffer.append(message)
        self._arrived.set()

    def close(self, end: StreamFeedEnded) -> None:
        """End the feed; the consumer gets what is buffered, then ``end`` raised."""
        if self._end is None:
            self._end = end
        self._arrived.set()

    # --- the consumer's side ---

    def __aiter__(self) -> StreamFeed:
        return self

    async def __anext__(self) -> StreamMessage:
        while not self._buffer:
            if self._end is not None:
                raise self._ending()
            await self._arrived.wait()
            self._arrived = trio.Event()
        self._delivered += 1
        return self._buffer.popleft()

    def receive_nowait(self) -> StreamMessage:
        """The next buffered message; ``trio.WouldBlock`` if none (raises the end if over)."""
        if self._buffer:
            self._delivered += 1
            return self._buffer.popleft()
        if self._end is not None:
            raise self._end
        raise trio.WouldBlock

    def _ending(self) -> BaseException:
        # A normal close (the block left) just ends iteration; anything else is an error.
        if isinstance(self._end, StreamsClosed) and self._end.reason is None:
            return StopAsyncIteration()
        assert self._end is not None
        return self._end

    def statistics(self) -> FeedStatistics:
        lost = self._end.lost if isinstance(self._end, StreamOverflow) else 0
        return FeedStatistics(
            streams=tuple(sorted(self.streams)),
            delivered=self._delivered,
            buffered=len(self._buffer),
            buffer_size=self.buffer_size,
            dropped=self._dropped + lost,
            ended=self.ended,
        )
