"""Faults a test can arm on the local exchange's market streams, in the style of
:class:`~trio_binance.testing.FaultPlan`: lost, repeated and reordered events (what a local
order book must detect and recover from) and cut connections.

A fault is armed for a stream name (or any stream), for one connection (or all), for a number
of events (or until cleared); the next matching event takes it::

    exchange.stream_faults.skip("btcusdt@depth@100ms")     # a gap in U/u
    exchange.stream_faults.hold("btcusdt@depth@100ms")     # the next two swap places
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from trio_binance.testing._faults import RuleBook


@dataclass(frozen=True)
class SkipEvent:
    """Never send this event (a diff depth follower sees a gap in ``U``/``u``)."""


@dataclass(frozen=True)
class RepeatEvent:
    """Send this event twice in a row."""


@dataclass(frozen=True)
class HoldEvent:
    """Send this event just after the next event of the same stream (out of order)."""


@dataclass(frozen=True)
class CutConnection:
    """Drop the connection instead of sending this event: with a close frame (code 1001)
    or, by default, by cutting the TCP stream."""

    close_frame: bool = False


StreamFault: TypeAlias = SkipEvent | RepeatEvent | HoldEvent | CutConnection


@dataclass
class StreamRule:
    """An armed stream fault. ``remaining`` is ``None`` for a fault that stays until
    cleared."""

    fault: StreamFault
    stream: str | None = None
    connection: int | None = None
    remaining: int | None = 1
    taken: int = 0

    def matches(self, stream: str, connection: int) -> bool:
        return (self.stream is None or self.stream == stream) and (
            self.connection is None or self.connection == connection
        )


class StreamFaultPlan(RuleBook[StreamRule]):
    """The stream faults armed on one local exchange, taken in the order they were armed."""

    def arm(
        self,
        fault: StreamFault,
        *,
        stream: str | None = None,
        connection: int | None = None,
        times: int | None = 1,
    ) -> StreamRule:
        """Apply ``fault`` to the next ``times`` matching events (``None``: all of them)."""
        return self._add(StreamRule(fault, stream, connection, times))

    def take(self, stream: str, connection: int) -> StreamFault | None:
        """The fault for this event, if one is armed; counts one use of it."""
        rule = self._take(stream, connection)
        return None if rule is None else rule.fault

    # --- named scenarios -----------------------------------------------------------------

    def skip(self, stream: str | None = None, *, times: int | None = 1) -> StreamRule:
        return self.arm(SkipEvent(), stream=stream, times=times)

    def repeat(self, stream: str | None = None, *, times: int | None = 1) -> StreamRule:
        return self.arm(RepeatEvent(), stream=stream, times=times)

    def hold(self, stream: str | None = None, *, times: int | None = 1) -> StreamRule:
        return self.arm(HoldEvent(), stream=stream, times=times)

    def cut(self, stream: str | None = None, *, close_frame: bool = False) -> StreamRule:
        return self.arm(CutConnection(close_frame), stream=stream)
