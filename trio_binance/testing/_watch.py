"""Recording a resilient session's state changes in a test, and waiting for one.

::

    recorder = StateRecorder()
    await nursery.start(recorder.run, session)
    await recorder.wait_for(ConnectionState.ROTATING)
    assert recorder.states == [READY, ROTATING, READY]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import trio

from trio_binance._reconnect import ConnectionState, StateChange

if TYPE_CHECKING:
    from trio_binance._resilient import ResilientSession

__all__ = ["StateRecorder"]


class StateRecorder:
    """Every state change of a session (from the one current when it starts), in order."""

    def __init__(self) -> None:
        self.changes: list[StateChange] = []
        self._changed = trio.Event()

    @property
    def states(self) -> list[ConnectionState]:
        return [change.state for change in self.changes]

    async def run(
        self, session: ResilientSession, *, task_status: Any = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Record until the session is closed; ``await nursery.start(recorder.run, session)``."""
        async with session.states() as changes:
            task_status.started()
            async for change in changes:
                self.changes.append(change)
                self._changed.set()
                self._changed = trio.Event()

    async def wait_for(self, state: ConnectionState, *, after: int = 0) -> StateChange:
        """The first change to ``state`` at index ``after`` or later, waiting for it."""
        while True:
            for change in self.changes[after:]:
                if change.state is state:
                    return change
            await self._changed.wait()
