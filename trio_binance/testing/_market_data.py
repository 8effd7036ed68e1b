"""Public market data methods of the local exchange, computed from its own trading activity.

``exchangeInfo`` and ``executionRules`` describe the configuration; ``depth`` and ``ticker.book``
read the book; ``trades.*``, ``klines``/``uiKlines``, ``avgPrice`` and the ``ticker*`` methods
are computed from the engine's public trade history (web-socket-api.md, "General requests"
and "Market data requests"). Parameters are read with the trading handlers'
:class:`~trio_binance.testing._trading.Params`, so malformed, missing and unknown parameters
get the same documented errors everywhere.

Readings of behaviour the spec leaves open (each also noted where it is implemented):

* klines exist from the interval of the oldest remembered trade to the interval holding
  "now"; an interval without trades is flat at the previous close, with zero volume and
  count, as Binance shows quiet intervals. ``uiKlines`` returns the same candles: the spec
  says its data is "modified ... for presentation" but not how.
* a ticker window without trades has zero prices and volumes, ``firstId``/``lastId`` -1 and
  ``count`` 0; a symbol that never traded has price 0 in ``ticker.price`` and ``avgPrice``
  (whose ``closeTime``, "Last trade time", is then the request time), an empty book side
  zero price and quantity in ``ticker.book``.
* ``ticker.24hr``/``ticker.price``/``ticker.book`` without ``symbol(s)`` cover every listed
  symbol, ``symbolStatus`` leaving out the others (CHANGELOG 2025-10-28).
* a 15-digit or longer ``startTime``/``endTime`` is in microseconds; results are written in
  microseconds on connections opened with ``timeUnit=MICROSECOND`` (General API Information).
* ``executionRules`` lists no rules and ``referencePrice`` reports that no reference price
  was ever set: the local exchange has neither.
* refusals the spec describes without a code use the generic documented ones: -1128 for
  parameters that may not be combined, -1130 for values out of range (``limit``,
  ``timeZone``, ``windowSize``, more than 200 ``ticker`` symbols).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import takewhile
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import msgspec

from trio_binance.testing._config import (
    MinNotional,
    Notional,
    PercentPrice,
    PercentPriceBySide,
    SymbolConfig,
)
from trio_binance.testing._engine import Exchange, ExchangeError, PublicTrade
from trio_binance.testing._trading import Formats, Params, either, illegal, invalid, mandatory

if TYPE_CHECKING:
    from trio_binance.testing._server import LocalExchange, Request

JsonDict = dict[str, Any]
_T = TypeVar("_T")

ZERO = Decimal(0)
SECOND_MS = 1000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Weekly klines open on Mondays; 1970-01-05 is the first Monday after the epoch.
_FIRST_MONDAY_MS = 4 * DAY_MS
# "Timestamp parameters ... can be passed in milliseconds or microseconds" (General API
# Information): 10**14 ms is the year 5138, 10**14 us is 1973, so the size tells them apart.
_MICROSECONDS_FROM = 10**14

_SYMBOL = re.compile(r"^[A-Z0-9-_.]{1,20}$")
_SYMBOLS_RANGE = '^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$'
_PERMISSION = re.compile(r"^[A-Z0-9_]{1,30}$")
_TIME_ZONE = re.compile(r"^([+-]?)([0-9]{1,2})(?::([0-9]{2}))?$")
_WINDOW_SIZE = re.compile(r"^([1-9][0-9]?)([mhd])$")
_WINDOW_UNITS = {"m": (MINUTE_MS, 59), "h": (HOUR_MS, 23), "d": (DAY_MS, 7)}

SYMBOL_STATUSES = ("TRADING", "HALT", "BREAK")
TICKER_TYPES = ("FULL", "MINI")
# exchangeInfo without parameters: "all symbols with ["SPOT", "MARGIN", "LEVERAGED"]
# permissions".
DEFAULT_PERMISSIONS = ("SPOT", "MARGIN", "LEVERAGED")
MAX_ROLLING_SYMBOLS = 200  # "ticker": "Maximum number of symbols in one request: 200."
NO_REFERENCE_PRICE = "This symbol doesn't have a reference price."

KLINE_INTERVALS: Mapping[str, int | None] = {
    "1s": SECOND_MS,
    "1m": MINUTE_MS,
    "3m": 3 * MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS,
    "1h": HOUR_MS,
    "2h": 2 * HOUR_MS,
    "4h": 4 * HOUR_MS,
    "6h": 6 * HOUR_MS,
    "8h": 8 * HOUR_MS,
    "12h": 12 * HOUR_MS,
    "1d": DAY_MS,
    "3d": 3 * DAY_MS,
    "1w": WEEK_MS,
    "1M": None,  # calendar months
}
"""Every documented kline interval (case-sensitive) and its length; months vary."""


Handler = Callable[["Request"], Any]


def install_market_data(exchange: LocalExchange) -> MarketData:
    """Answer the public market data methods on ``exchange`` from its own activity."""
    market = MarketData(exchange)
    for method, handler in market.handlers().items():
        exchange.register(method, handler)
    return market


# --- errors ----------------------------------------------------------------------------------


def bad_combination() -> ExchangeError:
    return ExchangeError(400, -1128, "Combination of optional parameters invalid.")


def bad_interval() -> ExchangeError:
    return ExchangeError(400, -1120, "Invalid interval.")


def bad_symbol_status() -> ExchangeError:
    return ExchangeError(400, -1122, "Invalid symbolStatus.")


def status_mismatch() -> ExchangeError:
    return ExchangeError(
        400, -1220, "The symbol's status does not match the requested symbolStatus."
    )


def duplicate_symbols() -> ExchangeError:
    return ExchangeError(400, -1151, "Symbol is present multiple times in the list.")


def bad_ticker_type() -> ExchangeError:
    return ExchangeError(400, -1139, "Invalid ticker type.")


# --- reading parameters ----------------------------------------------------------------------


def _json_list(value: Any, name: str, legal: str) -> list[Any]:
    """A JSON array parameter, sent as an array or as its JSON text."""
    if isinstance(value, str):
        try:
            value = msgspec.json.decode(value)
        except msgspec.DecodeError:
            raise illegal(name, legal) from None
    if not isinstance(value, list):
        raise illegal(name, legal)
    return value


def read_symbol_list(raw: Mapping[str, Any]) -> list[str] | None:
    """``symbols``: a non-empty list of distinct, well-formed names (-1100, -1102, -1151)."""
    value = raw.get("symbols")
    if value is None or value == "":
        return None
    names = _json_list(value, "symbols", _SYMBOLS_RANGE)
    if not all(isinstance(name, str) and _SYMBOL.match(name) for name in names):
        raise illegal("symbols", _SYMBOLS_RANGE)
    if not names:
        raise mandatory("symbols")
    if len(set(names)) != len(names):
        raise duplicate_symbols()
    return names


def read_permissions(raw: Mapping[str, Any]) -> list[str] | None:
    """exchangeInfo ``permissions``: "either a list of permissions, or a single permission"."""
    value = raw.get("permissions")
    if value is None or value == "":
        return None
    if isinstance(value, str) and not value.startswith("["):
        value = [value]
    names = _json_list(value, "permissions", _PERMISSION.pattern)
    if not names or not all(isinstance(name, str) and _PERMISSION.match(name) for name in names):
        raise illegal("permissions", _PERMISSION.pattern)
    return names


def read_symbol_status(p: Params) -> str | None:
    return p.choice("symbolStatus", SYMBOL_STATUSES, error=bad_symbol_status())


def read_ticker_type(p: Params) -> bool:
    """Whether the ticker is FULL (the default) rather than MINI (-1139 for anything else)."""
    return p.choice("type", TICKER_TYPES, error=bad_ticker_type()) != "MINI"


def read_timestamp(p: Params, name: str, *, round_up: bool) -> int | None:
    """A time bound in milliseconds; microseconds are rounded to keep the same bound."""
    value = p.integer(name)
    if value is None or value < _MICROSECONDS_FROM:
        return value
    return -(-value // 1000) if round_up else value // 1000


def read_time_zone(p: Params) -> int:
    """``timeZone`` as an offset in ms: ``-1:00``, ``05:45``, ``8``...; strictly within
    [-12:00, +14:00] ("Klines" notes). Default 0 (UTC)."""
    text = p.text("timeZone")
    if text is None:
        return 0
    match = _TIME_ZONE.match(text)
    if match is None:
        raise invalid("timeZone")
    sign, hours, minutes = match.groups()
    if int(minutes or 0) >= 60:
        raise invalid("timeZone")
    offset = int(hours) * 60 + int(minutes or 0)
    offset = -offset if sign == "-" else offset
    if not -12 * 60 <= offset <= 14 * 60:
        raise invalid("timeZone")
    return offset * MINUTE_MS


def read_window_size(p: Params) -> int:
    """``ticker`` ``windowSize``: ``1m``..``59m``, ``1h``..``23h``, ``1d``..``7d``; default 1d."""
    text = p.text("windowSize")
    if text is None:
        return DAY_MS
    match = _WINDOW_SIZE.match(text)
    if match is None:
        raise invalid("windowSize")
    count, unit = int(match[1]), match[2]
    length, most = _WINDOW_UNITS[unit]
    if count > most:
        raise invalid("windowSize")
    return count * length


@dataclass(frozen=True, slots=True)
class SymbolChoice:
    """The ``symbol``/``symbols``/``symbolStatus`` parameters of one request."""

    symbol: str | None
    symbols: list[str] | None
    status: str | None

    @classmethod
    def read(cls, p: Params, raw: Mapping[str, Any]) -> SymbolChoice:
        symbol = p.text("symbol", pattern=_SYMBOL)
        return cls(symbol, read_symbol_list(raw), read_symbol_status(p))


@dataclass(frozen=True, slots=True)
class TimeUnit:
    """How timestamps are written: ms, or us on a connection opened with
    ``timeUnit=MICROSECOND`` (General API Information)."""

    per_ms: int = 1

    @classmethod
    def of(cls, request: Request) -> TimeUnit:
        path = request.connection.ws.path or ""
        values = parse_qs(urlsplit(path).query).get("timeUnit", [])
        micro = any(value.upper() == "MICROSECOND" for value in values)
        return cls(1000 if micro else 1)

    def at(self, ms: int) -> int:
        return ms * self.per_ms

    def just_before(self, ms: int) -> int:
        """The last instant before ``ms``: a kline's or trading day's close time."""
        return ms * self.per_ms - 1


# --- time windows ----------------------------------------------------------------------------


def _trade_time(trade: PublicTrade) -> int:
    return trade.time


def chronological(
    items: Sequence[_T],
    key: Callable[[_T], int],
    start: int | None,
    end: int | None,
    limit: int,
) -> list[_T]:
    """General API Information, "Data is returned in chronological order": without
    startTime/endTime the most recent items; with startTime the oldest from it; with
    endTime the most recent up to it; with both like startTime, not past endTime."""
    low = 0 if start is None else bisect_left(items, start, key=key)
    high = len(items) if end is None else bisect_right(items, end, key=key)
    if start is not None:
        return list(items[low : max(low, min(high, low + limit))])
    return list(items[max(low, high - limit) : high])


def trades_between(trades: Sequence[PublicTrade], start: int, end: int) -> Sequence[PublicTrade]:
    """The trades from ``start`` to ``end`` inclusive (the history is in time order)."""
    low = bisect_left(trades, start, key=_trade_time)
    return trades[low : bisect_right(trades, end, lo=low, key=_trade_time)]


@dataclass(frozen=True, slots=True)
class KlineCalendar:
    """Where the intervals of one kline size start, in a time zone ("Klines" notes: "kline
    intervals are interpreted in that timezone"; startTime/endTime stay UTC epoch times)."""

    length_ms: int | None  # None: calendar months
    offset_ms: int = 0

    @classmethod
    def of(cls, interval: str, offset_ms: int) -> KlineCalendar:
        if interval not in KLINE_INTERVALS:
            raise bad_interval()
        return cls(KLINE_INTERVALS[interval], offset_ms)

    def open_at(self, ms: int) -> int:
        """The open time of the interval holding ``ms``."""
        if self.length_ms is None:
            day = _EPOCH + timedelta(milliseconds=ms + self.offset_ms)
            return self._month_start(day.year, day.month)
        anchor = _FIRST_MONDAY_MS if self.length_ms == WEEK_MS else 0
        since_anchor = ms + self.offset_ms - anchor
        return since_anchor // self.length_ms * self.length_ms + anchor - self.offset_ms

    def next_open(self, open_ms: int) -> int:
        if self.length_ms is not None:
            return open_ms + self.length_ms
        local = _EPOCH + timedelta(milliseconds=open_ms + self.offset_ms)
        year, month = divmod(local.year * 12 + local.month, 12)
        return self._month_start(year, month + 1)

    def previous_open(self, open_ms: int) -> int:
        if self.length_ms is not None:
            return open_ms - self.length_ms
        return self.open_at(open_ms - 1)

    def _month_start(self, year: int, month: int) -> int:
        start = datetime(year, month, 1, tzinfo=UTC)
        return (start - _EPOCH) // timedelta(milliseconds=1) - self.offset_ms

    def opens(
        self, first: int, last: int, start: int | None, end: int | None, limit: int
    ) -> list[int]:
        """Open times of the klines to return, among those from ``first`` to ``last``; a
        kline is in range when its open time is within [startTime, endTime]."""
        if start is not None:
            open_ms = self.open_at(start)
            open_ms = max(first, open_ms if open_ms >= start else self.next_open(open_ms))
            stop = last if end is None else min(last, end)
            forward: list[int] = []
            while open_ms <= stop and len(forward) < limit:
                forward.append(open_ms)
                open_ms = self.next_open(open_ms)
            return forward
        open_ms = last if end is None else min(last, self.open_at(end))
        backward: list[int] = []
        while open_ms >= first and len(backward) < limit:
            backward.append(open_ms)
            open_ms = self.previous_open(open_ms)
        return backward[::-1]


# --- trade statistics ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TradeStats:
    """Open, high, low, close and volumes of a run of trades (a kline or a ticker window)."""

    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal
    taker_buy_volume: Decimal
    taker_buy_quote_volume: Decimal
    last_qty: Decimal
    first_id: int
    last_id: int
    count: int

    @classmethod
    def of(cls, trades: Sequence[PublicTrade]) -> TradeStats | None:
        if not trades:
            return None
        prices = [trade.price for trade in trades]
        # The buyer took liquidity when it was not the maker.
        taker_buys = [trade for trade in trades if not trade.is_buyer_maker]
        return cls(
            open=prices[0],
            high=max(prices),
            low=min(prices),
            close=prices[-1],
            volume=sum((trade.qty for trade in trades), ZERO),
            quote_volume=sum((trade.quote_qty for trade in trades), ZERO),
            taker_buy_volume=sum((trade.qty for trade in taker_buys), ZERO),
            taker_buy_quote_volume=sum((trade.quote_qty for trade in taker_buys), ZERO),
            last_qty=trades[-1].qty,
            first_id=trades[0].id,
            last_id=trades[-1].id,
            count=len(trades),
        )

    @classmethod
    def flat(cls, price: Decimal) -> TradeStats:
        """No trades: every price at ``price`` (zero for a ticker window), no volume."""
        return cls(price, price, price, price, ZERO, ZERO, ZERO, ZERO, ZERO, -1, -1, 0)

    def price_change_percent(self) -> str:
        """Three decimals, as the examples show ("1.020")."""
        if not self.open:
            return "0.000"
        percent = ((self.close - self.open) / self.open * 100).quantize(Decimal("0.001"))
        return format(percent, "f") if percent else "0.000"  # never "-0.000"

    def weighted_average(self) -> Decimal:
        return self.quote_volume / self.volume if self.volume else ZERO


def kline_json(
    open_ms: int, close_ms: int, stats: TradeStats, fmt: Formats, unit: TimeUnit
) -> list[Any]:
    return [
        unit.at(open_ms),
        fmt.price(stats.open),
        fmt.price(stats.high),
        fmt.price(stats.low),
        fmt.price(stats.close),
        fmt.qty(stats.volume),
        unit.just_before(close_ms),
        fmt.quote(stats.quote_volume),
        stats.count,
        fmt.qty(stats.taker_buy_volume),
        fmt.quote(stats.taker_buy_quote_volume),
        "0",  # "Unused field, ignore"
    ]


@dataclass(frozen=True, slots=True)
class TickerWindow:
    """One symbol's trades over a ticker window, with what the ticker JSON needs."""

    symbol: str
    fmt: Formats
    stats: TradeStats
    open_ms: int
    close_time: int  # in the connection's time unit

    def mini(self, unit: TimeUnit) -> JsonDict:
        stats, fmt = self.stats, self.fmt
        return {
            "symbol": self.symbol,
            "openPrice": fmt.price(stats.open),
            "highPrice": fmt.price(stats.high),
            "lowPrice": fmt.price(stats.low),
            "lastPrice": fmt.price(stats.close),
            "volume": fmt.qty(stats.volume),
            "quoteVolume": fmt.quote(stats.quote_volume),
            "openTime": unit.at(self.open_ms),
            "closeTime": self.close_time,
            "firstId": stats.first_id,
            "lastId": stats.last_id,
            "count": stats.count,
        }

    def change(self) -> JsonDict:
        stats, fmt = self.stats, self.fmt
        return {
            "symbol": self.symbol,
            "priceChange": fmt.price(stats.close - stats.open),
            "priceChangePercent": stats.price_change_percent(),
            "weightedAvgPrice": fmt.price(stats.weighted_average()),
        }

    def full(self, unit: TimeUnit) -> JsonDict:
        """``ticker`` / ``ticker.tradingDay`` FULL: the change figures, then the MINI ones."""
        return {**self.change(), **self.mini(unit)}


# --- aggregate trades ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AggregateTrade:
    """Consecutive trades of one taker order at one price and time ("Aggregate trades")."""

    id: int
    price: Decimal
    qty: Decimal
    first_trade_id: int
    last_trade_id: int
    time: int
    is_buyer_maker: bool
    taker_order_id: int

    def takes_in(self, trade: PublicTrade) -> bool:
        return (
            trade.id == self.last_trade_id + 1
            and trade.price == self.price
            and trade.time == self.time
            and taker_order_id(trade) == self.taker_order_id
        )


def taker_order_id(trade: PublicTrade) -> int:
    return trade.seller_order_id if trade.is_buyer_maker else trade.buyer_order_id


class AggregateTape:
    """One symbol's aggregate trades, numbered 1, 2, ... once and for all as trades arrive,
    so ids stay the same when the engine forgets old trades."""

    def __init__(self, history_limit: int) -> None:
        self._records: deque[AggregateTrade] = deque(maxlen=history_limit)
        self._seen_trade_id = 0
        self._next_id = 1

    def catch_up(self, history: Sequence[PublicTrade]) -> tuple[AggregateTrade, ...]:
        """Aggregate the trades of ``history`` not seen yet; all aggregates, oldest first."""
        self.update(history)
        return tuple(self._records)

    def update(self, history: Sequence[PublicTrade]) -> None:
        """Aggregate the trades of ``history`` not seen yet."""
        fresh = list(takewhile(lambda trade: trade.id > self._seen_trade_id, reversed(history)))
        for trade in reversed(fresh):
            self._add(trade)

    def after(self, aggregate_id: int) -> list[AggregateTrade]:
        """The aggregates numbered after ``aggregate_id``, oldest first (newest are at the
        end, so this reads only them)."""
        newer = takewhile(lambda record: record.id > aggregate_id, reversed(self._records))
        return list(newer)[::-1]

    @property
    def last_id(self) -> int:
        """The number of the newest aggregate (0 before the first)."""
        return self._next_id - 1

    def _add(self, trade: PublicTrade) -> None:
        self._seen_trade_id = trade.id
        last = self._records[-1] if self._records else None
        if last is not None and last.takes_in(trade):
            self._records[-1] = replace(last, qty=last.qty + trade.qty, last_trade_id=trade.id)
            return
        record = AggregateTrade(
            self._next_id,
            trade.price,
            trade.qty,
            trade.id,
            trade.id,
            trade.time,
            trade.is_buyer_maker,
            taker_order_id(trade),
        )
        self._next_id += 1
        self._records.append(record)


# --- the methods -----------------------------------------------------------------------------


class MarketData:
    """The market data handlers of one local exchange (state: aggregate-trade numbering)."""

    def __init__(self, exchange: LocalExchange) -> None:
        self._exchange = exchange
        self._tapes: dict[str, AggregateTape] = {}

    def handlers(self) -> dict[str, Handler]:
        return {
            "exchangeInfo": self.exchange_info,
            "executionRules": self.execution_rules,
            "depth": self.depth,
            "trades.recent": self.trades_recent,
            "trades.historical": self.trades_historical,
            "blockTrades.historical": self.block_trades_historical,
            "trades.aggregate": self.trades_aggregate,
            "klines": self.klines,
            "uiKlines": self.klines,
            "avgPrice": self.avg_price,
            "ticker.24hr": self.ticker_24hr,
            "ticker.tradingDay": self.ticker_trading_day,
            "ticker": self.ticker,
            "ticker.price": self.ticker_price,
            "ticker.book": self.ticker_book,
            "referencePrice": self.reference_price,
            "referencePrice.calculation": self.reference_price_calculation,
        }

    # --- shared helpers ---

    @property
    def engine(self) -> Exchange:
        return self._exchange.engine

    def _config(self, symbol: str) -> SymbolConfig:
        return self.engine.symbol(symbol).config  # -1121 for an unknown symbol

    def _formats(self, symbol: str) -> Formats:
        return Formats(self._config(symbol))

    def _symbol(self, p: Params) -> str:
        symbol = p.required_text("symbol", _SYMBOL)
        self._config(symbol)
        return symbol

    def _check_status(self, symbol: str, status: str | None) -> None:
        """A single symbol whose status differs from ``symbolStatus``: -1220."""
        if status is not None and self._config(symbol).status != status:
            raise status_mismatch()

    def _resolve(self, choice: SymbolChoice, *, required: bool) -> tuple[list[str], bool]:
        """The symbols a ticker-style request asks for, and whether it named one (an object
        result) rather than a list. Without either parameter: every listed symbol; with
        ``symbolStatus`` non-matching symbols of a list are left out (CHANGELOG 2025-10-28)."""
        if choice.symbol is not None and choice.symbols is not None:
            raise bad_combination()
        if choice.symbol is not None:
            self._check_status(choice.symbol, choice.status)
            return [choice.symbol], True
        if choice.symbols is None and required:
            raise either("symbol", "symbols")
        names = choice.symbols if choice.symbols is not None else self.engine.symbol_names()
        configs = [self._config(name) for name in names]
        return [c.symbol for c in configs if choice.status in (None, c.status)], False

    # --- general requests ---

    def exchange_info(self, request: Request) -> JsonDict:
        """exchangeInfo: "Only one of symbol, symbols, permissions"; symbolStatus "cannot be
        used in combination with symbol or symbols"."""
        p = Params(
            request.params,
            ("symbol", "symbols", "permissions", "showPermissionSets", "symbolStatus"),
        )
        choice = SymbolChoice.read(p, request.params)
        permissions = read_permissions(request.params)
        show_permission_sets = p.boolean("showPermissionSets") is not False
        p.finish()
        named = [choice.symbol, choice.symbols, permissions]
        if sum(value is not None for value in named) > 1:
            raise bad_combination()
        if choice.status is not None and (choice.symbol or choice.symbols):
            raise bad_combination()
        symbols = [
            self._symbol_info(config, show_permission_sets)
            for config in self._listed_configs(choice, permissions)
        ]
        engine_config = self.engine.config
        return {
            "timezone": "UTC",
            "serverTime": TimeUnit.of(request).at(request.now_ms),
            "rateLimits": self._exchange.limiter.config.exchange_info(),
            "exchangeFilters": [item.as_json() for item in engine_config.exchange_filters],
            "symbols": symbols,
        }

    def _listed_configs(
        self, choice: SymbolChoice, permissions: list[str] | None
    ) -> list[SymbolConfig]:
        if choice.symbol is not None or choice.symbols is not None:
            names = [choice.symbol] if choice.symbol is not None else choice.symbols or []
            return [self._config(name) for name in names]
        wanted = set(permissions or DEFAULT_PERMISSIONS)
        configs = [self._config(name) for name in self.engine.symbol_names()]
        return [
            config
            for config in configs
            if wanted.intersection(_flat(config.permission_sets))
            and choice.status in (None, config.status)
        ]

    @staticmethod
    def _symbol_info(config: SymbolConfig, show_permission_sets: bool) -> JsonDict:
        info = config.as_json()
        if not show_permission_sets:
            info["permissionSets"] = []
        return info

    def execution_rules(self, request: Request) -> JsonDict:
        """executionRules: "No combination of multiple parameters is allowed". The local
        exchange has no price-range rules, so every symbol lists none."""
        p = Params(request.params, ("symbol", "symbols", "symbolStatus"))
        choice = SymbolChoice.read(p, request.params)
        p.finish()
        if sum(value is not None for value in (choice.symbol, choice.symbols, choice.status)) > 1:
            raise bad_combination()
        names, _ = self._resolve(choice, required=False)
        return {"symbolRules": [{"symbol": name, "rules": []} for name in names]}

    # --- the book ---

    def depth(self, request: Request) -> JsonDict:
        """depth: limit default 100, maximum 5000; bids best (highest) first, asks lowest."""
        p = Params(request.params, ("symbol", "limit", "symbolStatus"))
        symbol = self._symbol(p)
        limit = p.limit(default=100, maximum=5000)
        status = read_symbol_status(p)
        p.finish()
        self._check_status(symbol, status)
        book = self.engine.book_levels(symbol)
        fmt = self._formats(symbol)
        return {
            "lastUpdateId": book.last_update_id,
            "bids": [[fmt.price(price), fmt.qty(qty)] for price, qty in book.bids[:limit]],
            "asks": [[fmt.price(price), fmt.qty(qty)] for price, qty in book.asks[:limit]],
        }

    def ticker_book(self, request: Request) -> JsonDict | list[JsonDict]:
        p = Params(request.params, ("symbol", "symbols", "symbolStatus"))
        choice = SymbolChoice.read(p, request.params)
        p.finish()
        names, single = self._resolve(choice, required=False)
        tickers = [self._book_ticker(name) for name in names]
        return tickers[0] if single else tickers

    def _book_ticker(self, symbol: str) -> JsonDict:
        book = self.engine.book_levels(symbol)
        fmt = self._formats(symbol)
        bid_price, bid_qty = book.bids[0] if book.bids else (ZERO, ZERO)
        ask_price, ask_qty = book.asks[0] if book.asks else (ZERO, ZERO)
        return {
            "symbol": symbol,
            "bidPrice": fmt.price(bid_price),
            "bidQty": fmt.qty(bid_qty),
            "askPrice": fmt.price(ask_price),
            "askQty": fmt.qty(ask_qty),
        }

    # --- trades ---

    def trades_recent(self, request: Request) -> list[JsonDict]:
        """trades.recent: the most recent trades, limit default 500, maximum 1000."""
        p = Params(request.params, ("symbol", "limit"))
        symbol = self._symbol(p)
        limit = p.limit(default=500, maximum=1000)
        p.finish()
        trades = self.engine.trades(symbol)
        return self._trades_json(symbol, trades[-limit:], TimeUnit.of(request))

    def trades_historical(self, request: Request) -> list[JsonDict]:
        """trades.historical: from trade id ``fromId`` on; "If fromId is not specified, the
        most recent trades are returned"."""
        p = Params(request.params, ("symbol", "fromId", "limit"))
        symbol = self._symbol(p)
        from_id = p.integer("fromId")
        limit = p.limit(default=500, maximum=1000)
        p.finish()
        trades = self.engine.trades(symbol)
        if from_id is None:
            chosen = trades[-limit:]
        else:
            low = bisect_left(trades, from_id, key=lambda trade: trade.id)
            chosen = trades[low : low + limit]
        return self._trades_json(symbol, chosen, TimeUnit.of(request))

    def _trades_json(
        self, symbol: str, trades: Iterable[PublicTrade], unit: TimeUnit
    ) -> list[JsonDict]:
        fmt = self._formats(symbol)
        return [
            {
                "id": trade.id,
                "price": fmt.price(trade.price),
                "qty": fmt.qty(trade.qty),
                "quoteQty": fmt.quote(trade.quote_qty),
                "time": unit.at(trade.time),
                "isBuyerMaker": trade.is_buyer_maker,
                "isBestMatch": True,
            }
            for trade in trades
        ]

    def block_trades_historical(self, request: Request) -> list[JsonDict]:
        """blockTrades.historical: the local exchange makes no block trades."""
        p = Params(request.params, ("symbol", "fromId", "limit"))
        self._symbol(p)
        p.integer("fromId", required=True)
        p.limit(default=500, maximum=1000)
        p.finish()
        return []

    def trades_aggregate(self, request: Request) -> list[JsonDict]:
        """trades.aggregate: ``fromId`` "cannot be used together with startTime and endTime".
        The one-hour limit on startTime..endTime was removed (CHANGELOG 2023-07-11), and
        the current spec sets no maximum range, so none is enforced."""
        p = Params(request.params, ("symbol", "fromId", "startTime", "endTime", "limit"))
        symbol = self._symbol(p)
        from_id = p.integer("fromId")
        start = read_timestamp(p, "startTime", round_up=True)
        end = read_timestamp(p, "endTime", round_up=False)
        limit = p.limit(default=500, maximum=1000)
        p.finish()
        if from_id is not None and (start is not None or end is not None):
            raise bad_combination()
        records = self.aggregate_trades(symbol)
        if from_id is not None:
            low = bisect_left(records, from_id, key=lambda record: record.id)
            chosen = list(records[low : low + limit])
        else:
            chosen = chronological(records, lambda record: record.time, start, end, limit)
        fmt, unit = self._formats(symbol), TimeUnit.of(request)
        return [_aggregate_json(record, fmt, unit) for record in chosen]

    def aggregate_trades(self, symbol: str) -> tuple[AggregateTrade, ...]:
        """Every remembered aggregate trade of ``symbol``, oldest first."""
        return self.aggregate_tape(symbol).catch_up(self.engine.symbol(symbol).trades)

    def aggregate_tape(self, symbol: str) -> AggregateTape:
        """The aggregate trade numbering of ``symbol`` (the same for methods and streams)."""
        tape = self._tapes.get(symbol)
        if tape is None:
            tape = self._tapes[symbol] = AggregateTape(self.engine.config.trade_history_limit)
        return tape

    # --- klines ---

    def klines(self, request: Request) -> list[list[Any]]:
        """klines and uiKlines (the same candles; see the module notes)."""
        p = Params(
            request.params, ("symbol", "interval", "startTime", "endTime", "timeZone", "limit")
        )
        symbol = self._symbol(p)
        interval = p.required_text("interval")
        start = read_timestamp(p, "startTime", round_up=True)
        end = read_timestamp(p, "endTime", round_up=False)
        calendar = KlineCalendar.of(interval, read_time_zone(p))
        limit = p.limit(default=500, maximum=1000)
        p.finish()
        trades = self.engine.trades(symbol)
        if not trades:
            return []
        first = calendar.open_at(trades[0].time)
        last = calendar.open_at(max(request.now_ms, trades[-1].time))
        opens = calendar.opens(first, last, start, end, limit)
        fmt, unit = self._formats(symbol), TimeUnit.of(request)
        return [_kline(trades, calendar, open_ms, fmt, unit) for open_ms in opens]

    # --- prices and tickers ---

    def avg_price(self, request: Request) -> JsonDict:
        """avgPrice over the symbol's ``avgPriceMins`` (5 without a filter that sets it)."""
        p = Params(request.params, ("symbol",))
        symbol = self._symbol(p)
        p.finish()
        minutes = _average_minutes(self._config(symbol))
        price = self.engine.average_price(symbol, request.now_ms, minutes)
        trades = self.engine.trades(symbol)
        close_time = trades[-1].time if trades else request.now_ms  # "Last trade time"
        return {
            "mins": minutes,
            "price": self._formats(symbol).price(price),
            "closeTime": TimeUnit.of(request).at(close_time),
        }

    def ticker_price(self, request: Request) -> JsonDict | list[JsonDict]:
        p = Params(request.params, ("symbol", "symbols", "symbolStatus"))
        choice = SymbolChoice.read(p, request.params)
        p.finish()
        names, single = self._resolve(choice, required=False)
        tickers = [
            {"symbol": name, "price": self._formats(name).price(self.engine.last_price(name))}
            for name in names
        ]
        return tickers[0] if single else tickers

    def ticker_24hr(self, request: Request) -> JsonDict | list[JsonDict]:
        """ticker.24hr: the rolling 24 hours up to now, FULL (default) or MINI."""
        p = Params(request.params, ("symbol", "symbols", "type", "symbolStatus"))
        choice = SymbolChoice.read(p, request.params)
        full = read_ticker_type(p)
        p.finish()
        names, single = self._resolve(choice, required=False)
        unit = TimeUnit.of(request)
        now = request.now_ms
        tickers = [
            self._ticker_24hr(self._window(name, now - DAY_MS, now, unit.at(now)), full, unit)
            for name in names
        ]
        return tickers[0] if single else tickers

    def _ticker_24hr(self, window: TickerWindow, full: bool, unit: TimeUnit) -> JsonDict:
        if not full:
            return window.mini(unit)
        symbol, fmt, stats = window.symbol, window.fmt, window.stats
        book = self._book_ticker(symbol)
        return {
            **window.change(),
            "prevClosePrice": fmt.price(
                _last_price_before(self.engine.trades(symbol), window.open_ms)
            ),
            "lastPrice": fmt.price(stats.close),
            "lastQty": fmt.qty(stats.last_qty),
            **{key: book[key] for key in ("bidPrice", "bidQty", "askPrice", "askQty")},
            **window.mini(unit),
        }

    def ticker_trading_day(self, request: Request) -> JsonDict | list[JsonDict]:
        """ticker.tradingDay: today so far, the day starting at midnight in ``timeZone``."""
        p = Params(request.params, ("symbol", "symbols", "timeZone", "type", "symbolStatus"))
        choice = SymbolChoice.read(p, request.params)
        day = KlineCalendar.of("1d", read_time_zone(p))
        full = read_ticker_type(p)
        p.finish()
        names, single = self._resolve(choice, required=True)
        unit = TimeUnit.of(request)
        opens = day.open_at(request.now_ms)
        closes = day.next_open(opens)
        tickers = [
            self._window(name, opens, closes - 1, unit.just_before(closes)) for name in names
        ]
        result = [window.full(unit) if full else window.mini(unit) for window in tickers]
        return result[0] if single else result

    def ticker(self, request: Request) -> JsonDict | list[JsonDict]:
        """ticker: a rolling ``windowSize`` up to now whose open "always start[s] on a minute
        boundary"; at most 200 symbols."""
        p = Params(request.params, ("symbol", "symbols", "type", "windowSize", "symbolStatus"))
        choice = SymbolChoice.read(p, request.params)
        full = read_ticker_type(p)
        size = read_window_size(p)
        p.finish()
        if choice.symbols is not None and len(choice.symbols) > MAX_ROLLING_SYMBOLS:
            raise invalid("symbols")
        names, single = self._resolve(choice, required=True)
        unit = TimeUnit.of(request)
        now = request.now_ms
        opens = (now - size) // MINUTE_MS * MINUTE_MS
        tickers = [self._window(name, opens, now, unit.at(now)) for name in names]
        result = [window.full(unit) if full else window.mini(unit) for window in tickers]
        return result[0] if single else result

    def _window(self, symbol: str, open_ms: int, close_ms: int, close_time: int) -> TickerWindow:
        trades = trades_between(self.engine.trades(symbol), open_ms, close_ms)
        stats = TradeStats.of(trades) or TradeStats.flat(ZERO)
        return TickerWindow(symbol, self._formats(symbol), stats, open_ms, close_time)

    # --- reference prices ---

    def reference_price(self, request: Request) -> JsonDict:
        """referencePrice: "If no reference price has ever been set" the result is an error
        object with status 200, exactly as documented."""
        p = Params(request.params, ("symbol",))
        self._symbol(p)
        p.finish()
        return {"code": -2043, "msg": NO_REFERENCE_PRICE}

    def reference_price_calculation(self, request: Request) -> JsonDict:
        """referencePrice.calculation: "If reference price is not being calculated": 400."""
        p = Params(request.params, ("symbol", "symbolStatus"))
        symbol = self._symbol(p)
        status = read_symbol_status(p)
        p.finish()
        self._check_status(symbol, status)
        raise ExchangeError(400, -2043, NO_REFERENCE_PRICE)


# --- helpers ---------------------------------------------------------------------------------


def _flat(groups: Iterable[Iterable[str]]) -> set[str]:
    return {name for group in groups for name in group}


def _average_minutes(config: SymbolConfig) -> int:
    found = (
        config.find_filter(PercentPriceBySide)
        or config.find_filter(PercentPrice)
        or config.find_filter(Notional)
        or config.find_filter(MinNotional)
    )
    return found.avg_price_mins if found is not None else 5


def _last_price_before(trades: Sequence[PublicTrade], ms: int) -> Decimal:
    """The price of the last trade before ``ms`` (``prevClosePrice``), zero without one."""
    low = bisect_left(trades, ms, key=_trade_time)
    return trades[low - 1].price if low else ZERO


def _aggregate_json(record: AggregateTrade, fmt: Formats, unit: TimeUnit) -> JsonDict:
    return {
        "a": record.id,
        "p": fmt.price(record.price),
        "q": fmt.qty(record.qty),
        "f": record.first_trade_id,
        "l": record.last_trade_id,
        "T": unit.at(record.time),
        "m": record.is_buyer_maker,
        "M": True,
    }


def _kline(
    trades: Sequence[PublicTrade],
    calendar: KlineCalendar,
    open_ms: int,
    fmt: Formats,
    unit: TimeUnit,
) -> list[Any]:
    """One kline; an interval without trades is flat at the previous close (module notes)."""
    close_ms = calendar.next_open(open_ms)
    low = bisect_left(trades, open_ms, key=_trade_time)
    high = bisect_left(trades, close_ms, lo=low, key=_trade_time)
    stats = TradeStats.of(trades[low:high])
    if stats is None:
        stats = TradeStats.flat(trades[low - 1].price if low else ZERO)
    return kline_json(open_ms, close_ms, stats, fmt, unit)
