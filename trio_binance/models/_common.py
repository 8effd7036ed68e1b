"""Models that appear in every part of the protocol."""

from __future__ import annotations

from trio_binance.models._base import Model, OpenEnum


class RateLimitType(OpenEnum):
    REQUEST_WEIGHT = "REQUEST_WEIGHT"
    ORDERS = "ORDERS"
    RAW_REQUESTS = "RAW_REQUESTS"
    CONNECTIONS = "CONNECTIONS"


class RateLimitInterval(OpenEnum):
    SECOND = "SECOND"
    MINUTE = "MINUTE"
    HOUR = "HOUR"
    DAY = "DAY"


class RateLimit(Model, frozen=True):
    """One entry of a response's ``rateLimits`` array (or of ``exchangeInfo.rateLimits``).

    ``count`` is absent in ``exchangeInfo``, where only the limit itself is described.
    """

    rate_limit_type: RateLimitType
    interval: RateLimitInterval
    interval_num: int
    limit: int
    count: int | None = None

    @property
    def window_ms(self) -> int:
        """The length of this limit's window in milliseconds."""
        return _INTERVAL_MS.get(self.interval, 0) * self.interval_num


_INTERVAL_MS = {
    RateLimitInterval.SECOND: 1_000,
    RateLimitInterval.MINUTE: 60_000,
    RateLimitInterval.HOUR: 3_600_000,
    RateLimitInterval.DAY: 86_400_000,
}
