"""What reconnecting connections share: the backoff policy and the connection-state stream.

Both the resilient WebSocket API session and the market-stream client reconnect by the same
rules, so the rules live here once:

* :class:`ReconnectPolicy` -- exponential backoff with *full jitter* (each delay drawn
  uniformly from ``[0, min(cap, initial * multiplier**attempt)]``), a seedable random source so
  tests replay exactly, and a give-up rule (attempts and/or total time without a connection);
* :class:`ConnectionState` and :class:`StateChange` -- the typed states an application watches
  to pause trading while it is blind;
* :class:`StateBroadcast` -- fan-out of state changes to any number of watchers, each with a
  small bounded buffer that keeps the *latest* changes (a watcher that falls behind loses
  intermediate states, never the current one, and never blocks the publisher).

No I/O happens here: time and randomness come from the caller.
"""

from __future__ import annotations

import enum
import random
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import asynccontextmanager

import msgspec
import trio

__all__ = [
    "ConnectionState",
    "GaveUp",
    "ReconnectPolicy",
    "StateBroadcast",
    "StateChange",
]


class GaveUp(Exception):
    """The reconnect policy gave up: too many attempts or too long without a connection."""


class ReconnectPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Exponential backoff with full jitter, a cap and a give-up rule.

    ``initial`` and ``cap`` are seconds. ``max_attempts`` counts consecutive failed attempts
    (``None``: never give up on count); ``give_up_after`` is the longest time, in seconds,
    to keep trying without a successful connection (``None``: no limit). ``seed`` makes the
    jitter reproducible (``None``: seeded from the OS).
    """

    initial: float = 0.5
    cap: float = 30.0
    multiplier: float = 2.0
    max_attempts: int | None = None
    give_up_after: float | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.cap:
            raise ValueError("ReconnectPolicy needs 0 < initial <= cap")
        if self.multiplier < 1:
            raise ValueError("ReconnectPolicy.multiplier must be at least 1")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("ReconnectPolicy.max_attempts must be at least 1 (or None)")
        if self.give_up_after is not None and self.give_up_after <= 0:
            raise ValueError("ReconnectPolicy.give_up_after must be positive (or None)")

    def ceiling(self, attempt: int) -> float:
        """The largest delay before retry number ``attempt`` (0-based)."""
        # min() before the power would overflow for large attempts: cap the exponent instead.
        exponent = min(attempt, 64)
        return float(min(self.cap, self.initial * self.multiplier**exponent))

    def delays(self) -> Iterator[float]:
        """Endless jittered delays, one per consecutive failed attempt."""
        rng = random.Random(self.seed)
        attempt = 0
        while True:
            yield rng.uniform(0.0, self.ceiling(attempt))
            attempt += 1

    def check(self, failures: int, started: float, now: float) -> None:
        """Raise :class:`GaveUp` if ``failures`` in a row since ``started`` are too many."""
        if self.max_attempts is not None and failures >= self.max_attempts:
            raise GaveUp(f"gave up after {failures} failed connection attempts")
        if self.give_up_after is not None and now - started >= self.give_up_after:
            raise GaveUp(f"gave up after {now - started:.1f} s without a connection")


class ConnectionState(enum.Enum):
    """Where a reconnecting connection stands."""

    CONNECTING = "connecting"  # first connection being opened (and logged on, subscribed)
    READY = "ready"  # connected, logged on, every subscription in place
    ROTATING = "rotating"  # a replacement is being opened while the old one still serves
    DEGRADED = "degraded"  # serving, but something is wrong (e.g. a subscription lost)
    RECONNECTING = "reconnecting"  # no usable connection; waiting to retry or retrying
    CLOSED = "closed"  # for good: closed by the user, or the policy gave up


class StateChange(msgspec.Struct, frozen=True):
    """One state transition: the new state, why, and when (``trio.current_time()``)."""

    state: ConnectionState
    reason: str
    at: float
    attempt: int = 0  # consecutive failed attempts so far (RECONNECTING)


class StateBroadcast:
    """The current state plus fan-out of every change to watchers with bounded buffers."""

    def __init__(self, initial: StateChange, *, buffer_size: int = 16) -> None:
        self._current = initial
        self._buffer_size = buffer_size
        self._watchers: set[_Watcher] = set()

    @property
    def current(self) -> StateChange:
        return self._current

    def publish(self, state: ConnectionState, reason: str, *, attempt: int = 0) -> StateChange:
        change = StateChange(state, reason, trio.current_time(), attempt)
        self._current = change
        for watcher in self._watchers:
            watcher.push(change)
        return change

    @asynccontextmanager
    async def watch(self) -> AsyncIterator[AsyncIterator[StateChange]]:
        """``async with broadcast.watch() as changes:`` -- the current state, then each change.

        Iteration ends after ``CLOSED``.
        """
        watcher = _Watcher(self._buffer_size)
        watcher.push(self._current)
        self._watchers.add(watcher)
        changes = watcher.changes()
        try:
            yield changes
        finally:
            self._watchers.discard(watcher)
            # A watcher that stopped iterating early leaves the generator suspended: close it
            # here rather than at garbage collection (trio warns about that).
            await changes.aclose()


class _Watcher:
    def __init__(self, size: int) -> None:
        self._pending: deque[StateChange] = deque(maxlen=size)  # oldest dropped when full
        self._event = trio.Event()

    def push(self, change: StateChange) -> None:
        self._pending.append(change)
        self._event.set()

    async def changes(self) -> AsyncGenerator[StateChange, None]:
        while True:
            while not self._pending:
                await self._event.wait()
                self._event = trio.Event()
            change = self._pending.popleft()
            yield change
            if change.state is ConnectionState.CLOSED:
                return
