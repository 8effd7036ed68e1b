"""Market stream names as the local exchange reads them (web-socket-streams.md, "Detailed
Stream information"): what a name subscribes to, for which symbol, at which speed.

Only the documented spellings are streams: symbols are lowercase ("All symbols for streams are
lowercase"), ``@100ms`` is the only speed option (diff and partial depth), ``@+08:00`` the only
time zone option (klines). Anything else is refused as an invalid stream, the answer Binance
gives to a malformed name.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Final

from trio_binance.testing._market_data import HOUR_MS, KLINE_INTERVALS

_SYMBOL: Final = re.compile(r"^[a-z0-9\-_.]{1,20}$")
_ROLLING_WINDOWS: Final = {"1h": HOUR_MS, "4h": 4 * HOUR_MS, "1d": 24 * HOUR_MS}
_DEPTH_LEVELS: Final = frozenset({"5", "10", "20"})
UTC_PLUS_8_MS: Final = 8 * HOUR_MS
FAST_MS: Final = 100
SLOW_MS: Final = 1000


class Kind(enum.Enum):
    """What a stream carries."""

    TRADE = "trade"
    AGG_TRADE = "aggTrade"
    BLOCK_TRADE = "blockTrade"
    KLINE = "kline"
    MINI_TICKER = "miniTicker"
    TICKER = "ticker"
    ROLLING_TICKER = "rollingTicker"
    BOOK_TICKER = "bookTicker"
    AVG_PRICE = "avgPrice"
    REFERENCE_PRICE = "referencePrice"
    PARTIAL_DEPTH = "partialDepth"
    DIFF_DEPTH = "diffDepth"
    ALL_MINI_TICKERS = "allMiniTickers"
    ALL_ROLLING_TICKERS = "allRollingTickers"


_PLAIN: Final = {
    "trade": Kind.TRADE,
    "aggTrade": Kind.AGG_TRADE,
    "blockTrade": Kind.BLOCK_TRADE,
    "miniTicker": Kind.MINI_TICKER,
    "ticker": Kind.TICKER,
    "bookTicker": Kind.BOOK_TICKER,
    "avgPrice": Kind.AVG_PRICE,
    "referencePrice": Kind.REFERENCE_PRICE,
}


@dataclass(frozen=True, slots=True)
class Stream:
    """One stream name, read.

    ``symbol`` is the exchange's (uppercase) symbol, ``None`` for the all-market streams;
    ``interval`` the kline interval or the rolling window (``1h``...); ``offset_ms`` the kline
    time zone; ``levels`` the partial depth; ``period_ms`` how often a periodic stream is sent.
    """

    name: str
    kind: Kind
    symbol: str | None = None
    interval: str = ""
    offset_ms: int = 0
    levels: int = 0
    period_ms: int = SLOW_MS

    @property
    def window_ms(self) -> int:
        """A rolling window ticker's window."""
        return _ROLLING_WINDOWS[self.interval]


def parse_stream(name: str) -> Stream | None:
    """The stream ``name`` names, or ``None`` when it is not a documented stream name."""
    head, found, tail = name.partition("@")
    if not found:
        return None
    if head.startswith("!"):
        return _all_market(name, head, tail)
    if not _SYMBOL.match(head):
        return None
    symbol = head.upper()
    base, _, option = tail.partition("@")
    kind = _PLAIN.get(base)
    if kind is not None:
        return None if option else Stream(name, kind, symbol)
    if base.startswith("kline_"):
        return _kline(name, symbol, base.removeprefix("kline_"), option)
    if base.startswith("ticker_"):
        window = base.removeprefix("ticker_")
        if window not in _ROLLING_WINDOWS or option:
            return None
        return Stream(name, Kind.ROLLING_TICKER, symbol, interval=window)
    if base.startswith("depth"):
        return _depth(name, symbol, base.removeprefix("depth"), option)
    return None


def _all_market(name: str, head: str, tail: str) -> Stream | None:
    if tail != "arr":
        return None
    if head == "!miniTicker":
        return Stream(name, Kind.ALL_MINI_TICKERS)
    window = head.removeprefix("!ticker_")
    if window != head and window in _ROLLING_WINDOWS:
        return Stream(name, Kind.ALL_ROLLING_TICKERS, interval=window)
    return None


def _kline(name: str, symbol: str, interval: str, option: str) -> Stream | None:
    if interval not in KLINE_INTERVALS or option not in ("", "+08:00"):
        return None
    offset = UTC_PLUS_8_MS if option else 0
    return Stream(name, Kind.KLINE, symbol, interval=interval, offset_ms=offset)


def _depth(name: str, symbol: str, levels: str, option: str) -> Stream | None:
    if option not in ("", "100ms"):
        return None
    period = FAST_MS if option else SLOW_MS
    if not levels:
        return Stream(name, Kind.DIFF_DEPTH, symbol, period_ms=period)
    if levels not in _DEPTH_LEVELS:
        return None
    return Stream(name, Kind.PARTIAL_DEPTH, symbol, levels=int(levels), period_ms=period)
