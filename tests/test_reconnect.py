"""The shared reconnect rules: backoff with full jitter, give-up, and the state broadcast."""

from __future__ import annotations

import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

from trio_binance._reconnect import (
    ConnectionState,
    GaveUp,
    ReconnectPolicy,
    StateBroadcast,
    StateChange,
)


@given(
    initial=st.floats(0.001, 10),
    extra=st.floats(0, 100),
    multiplier=st.floats(1.5, 5),
    seed=st.integers(0, 2**32),
)
def test_delays_stay_within_the_growing_capped_ceiling(
    initial: float, extra: float, multiplier: float, seed: int
) -> None:
    policy = ReconnectPolicy(initial=initial, cap=initial + extra, multiplier=multiplier, seed=seed)
    delays = policy.delays()
    for attempt in range(80):
        delay = next(delays)
        assert 0 <= delay <= policy.ceiling(attempt) <= policy.cap
    assert policy.ceiling(200) == policy.cap


def test_same_seed_same_delays_and_jitter_is_real() -> None:
    first = ReconnectPolicy(seed=7).delays()
    second = ReconnectPolicy(seed=7).delays()
    a = [next(first) for _ in range(20)]
    assert a == [next(second) for _ in range(20)]
    assert len(set(a)) == 20  # full jitter: not a fixed schedule


def test_give_up_on_attempts_and_on_time() -> None:
    policy = ReconnectPolicy(max_attempts=3, give_up_after=60)
    policy.check(2, started=0, now=59)
    with pytest.raises(GaveUp, match="3 failed"):
        policy.check(3, started=0, now=1)
    with pytest.raises(GaveUp, match="without a connection"):
        policy.check(1, started=0, now=60)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial": 0},
        {"initial": 5, "cap": 1},
        {"multiplier": 0.5},
        {"max_attempts": 0},
        {"give_up_after": 0},
    ],
)
def test_bad_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="ReconnectPolicy"):
        ReconnectPolicy(**kwargs)  # type: ignore[arg-type]


async def test_watchers_see_current_state_then_changes_until_closed() -> None:
    broadcast = StateBroadcast(StateChange(ConnectionState.CONNECTING, "start", 0.0))
    seen: list[ConnectionState] = []

    async def watch(task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with broadcast.watch() as changes:
            task_status.started()
            async for change in changes:
                seen.append(change.state)

    async with trio.open_nursery() as nursery:
        await nursery.start(watch)
        broadcast.publish(ConnectionState.READY, "connected")
        broadcast.publish(ConnectionState.RECONNECTING, "dropped", attempt=1)
        broadcast.publish(ConnectionState.CLOSED, "bye")
    assert seen == [
        ConnectionState.CONNECTING,
        ConnectionState.READY,
        ConnectionState.RECONNECTING,
        ConnectionState.CLOSED,
    ]
    assert broadcast.current.state is ConnectionState.CLOSED


async def test_slow_watcher_keeps_the_latest_changes_and_never_blocks_the_publisher() -> None:
    broadcast = StateBroadcast(StateChange(ConnectionState.READY, "up", 0.0), buffer_size=2)
    async with broadcast.watch() as changes:
        for n in range(10):
            broadcast.publish(ConnectionState.DEGRADED, f"hiccup {n}")
        broadcast.publish(ConnectionState.CLOSED, "bye")
        reasons = [change.reason async for change in changes]
    assert reasons == ["hiccup 9", "bye"]
