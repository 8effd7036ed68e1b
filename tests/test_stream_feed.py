"""Per-subscriber buffers: the receive side never blocks, the policy decides what a full
buffer does, and nothing is lost without being counted or raised."""

from __future__ import annotations

import pytest
import trio

from trio_binance import Overflow, StreamFeed, StreamOverflow, StreamsClosed
from trio_binance.models import StreamMessage
from trio_binance.models._streams import UnknownStreamEvent


def message(n: int) -> StreamMessage:
    return StreamMessage("x@new", UnknownStreamEvent(stream="x@new", raw=str(n).encode()))


def numbers(messages: list[StreamMessage]) -> list[int]:
    return [int(m.event.raw) for m in messages]  # type: ignore[union-attr]


async def drain(feed: StreamFeed) -> list[StreamMessage]:
    taken = []
    while True:
        try:
            taken.append(feed.receive_nowait())
        except trio.WouldBlock:
            return taken


async def test_drop_oldest_keeps_the_latest_and_counts() -> None:
    feed = StreamFeed(["x@new"], buffer_size=3, overflow=Overflow.DROP_OLDEST)
    for n in range(10):
        feed.push(message(n))
    assert numbers(await drain(feed)) == [7, 8, 9]
    stats = feed.statistics()
    assert stats.dropped == 7 and stats.delivered == 3 and not stats.ended


async def test_fail_delivers_what_was_buffered_then_raises_with_the_loss() -> None:
    feed = StreamFeed(["x@new"], buffer_size=2, overflow=Overflow.FAIL)
    for n in range(5):
        feed.push(message(n))
    got = [await feed.__anext__(), await feed.__anext__()]
    assert numbers(got) == [0, 1]
    with pytest.raises(StreamOverflow) as info:
        await feed.__anext__()
    assert info.value.lost == 3 and "3 lost" in str(info.value)
    assert feed.statistics().dropped == 3 and feed.ended


async def test_a_waiting_consumer_wakes_and_a_normal_close_ends_iteration() -> None:
    feed = StreamFeed([], buffer_size=4, overflow=Overflow.FAIL)
    got: list[StreamMessage] = []

    async def consume() -> None:
        async for item in feed:
            got.append(item)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(consume)
        await trio.testing.wait_all_tasks_blocked()
        feed.push(message(1))
        await trio.testing.wait_all_tasks_blocked()
        feed.push(message(2))
        feed.close(StreamsClosed(None))
        feed.push(message(3))  # after the end: ignored
    assert numbers(got) == [1, 2]


async def test_an_abnormal_close_is_raised_after_the_buffer() -> None:
    feed = StreamFeed([], buffer_size=4, overflow=Overflow.DROP_OLDEST)
    feed.push(message(1))
    reason = RuntimeError("gave up")
    feed.close(StreamsClosed(reason))
    assert numbers([await feed.__anext__()]) == [1]
    with pytest.raises(StreamsClosed) as info:
        await feed.__anext__()
    assert info.value.reason is reason
    with pytest.raises(StreamsClosed):
        feed.receive_nowait()


def test_buffer_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="buffer_size"):
        StreamFeed([], buffer_size=0, overflow=Overflow.FAIL)
    assert "drop_oldest" in repr(StreamFeed([], overflow=Overflow.DROP_OLDEST))
