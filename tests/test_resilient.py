"""The resilient session against the local exchange's lifecycle and faults, under autojump_clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import trio
import trio.testing

import trio_binance
from trio_binance import ConnectionState, ReconnectPolicy, StateChange, UserDataGap
from trio_binance.testing import LocalExchange, UserEventFlood

POLICY = ReconnectPolicy(initial=0.5, cap=8.0, seed=7)


@pytest.fixture
async def resilient(
    local_exchange: LocalExchange,
) -> AsyncIterator[trio_binance.ResilientSession]:
    credentials = local_exchange.demo_keys["alice"].ed25519
    async with trio_binance.connect_resilient(
        local_exchange.url, credentials=credentials, policy=POLICY
    ) as session:
        yield session


class StateLog:
    """Every state change of a session, recorded by a background watcher."""

    def __init__(self) -> None:
        self.changes: list[StateChange] = []

    async def run(self, session: trio_binance.ResilientSession, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        async with session.states() as changes:
            task_status.started()
            async for change in changes:
                self.changes.append(change)

    @property
    def states(self) -> list[ConnectionState]:
        return [change.state for change in self.changes]


async def test_requests_and_user_data_survive_a_requested_rotation(
    local_exchange: LocalExchange,
    resilient: trio_binance.ResilientSession,
    autojump_clock: trio.testing.MockClock,
) -> None:
    flood = UserEventFlood(local_exchange, "alice", 2000)
    numbers: list[int] = []
    async with resilient.user_data() as events, trio.open_nursery() as nursery:
        first = resilient.current
        nursery.start_soon(flood.run)
        await trio.sleep(0.02)
        await resilient.rotate()
        assert resilient.current is not first
        async for item in events:
            number = flood.number_of(item)
            if number is not None:
                numbers.append(number)
            if len(numbers) == flood.count:
                break
    report = flood.verify(numbers)
    assert report.perfect, report
    stats = resilient.statistics()
    assert stats.rotations == 1
    assert stats.duplicates_dropped > 0
    assert (await resilient.server_time()).server_time > 0
