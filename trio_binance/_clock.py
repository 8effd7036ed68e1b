"""The exchange's clock, as seen from here: the local wall clock plus a measured offset.

Signed requests carry a ``timestamp`` that the exchange checks against its own clock and
``recvWindow`` (web-socket-api.md, "Timing security"): a request more than 1000 ms ahead of
the exchange, or older than ``recvWindow``, is rejected with -1021. The offset is measured
with ``time`` requests: the exchange read its clock somewhere during the round trip, so the
midpoint of the round trip is the best local estimate of that moment, and the sample with the
shortest round trip bounds the error best.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

WallClock = Callable[[], float]
"""Seconds since the epoch, like ``time.time`` (injectable, so tests can use trio's clock)."""


@dataclass(frozen=True)
class ClockSample:
    sent_at: float
    server_time_ms: int
    received_at: float

    @property
    def round_trip_ms(self) -> float:
        return (self.received_at - self.sent_at) * 1000

    @property
    def offset_ms(self) -> float:
        midpoint_ms = (self.sent_at + self.received_at) * 500
        return self.server_time_ms - midpoint_ms


class ExchangeClock:
    """The local estimate of the exchange clock; timestamps for signed requests."""

    def __init__(self, wall_clock: WallClock = time.time, *, microseconds: bool = False) -> None:
        self.wall_clock = wall_clock
        self.microseconds = microseconds
        self.offset_ms = 0.0
        self.round_trip_ms: float | None = None
        self.synced_at: float | None = None

    def now_ms(self) -> float:
        return self.wall_clock() * 1000 + self.offset_ms

    def timestamp(self) -> int:
        """A ``timestamp`` parameter for now: milliseconds, or microseconds if configured."""
        now_ms = self.now_ms()
        return int(now_ms * 1000) if self.microseconds else int(now_ms)

    def update(self, samples: list[ClockSample]) -> None:
        """Adopt the offset of the sample with the shortest round trip."""
        if not samples:
            return
        best = min(samples, key=lambda sample: sample.round_trip_ms)
        self.offset_ms = best.offset_ms
        self.round_trip_ms = best.round_trip_ms
        self.synced_at = best.received_at
