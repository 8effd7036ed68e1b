"""Results of the market data requests.

Spec: web-socket-api.md, "Market data requests". Results of ``ticker*`` requests are one
object for ``symbol`` and a list for ``symbols`` (or no symbol), hence ``X | list[X]`` in the
registry; FULL and MINI responses share one struct whose FULL-only fields are optional,
because msgspec cannot tell two untagged object types apart.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from trio_binance.models._base import Model
from trio_binance.models._enums import ReferencePriceCalculationType


class PriceLevel(Model, frozen=True, kw_only=True, array_like=True):
    """One ``[price, quantity]`` level of an order book (``depth``)."""

    price: Decimal
    qty: Decimal


class OrderBook(Model, frozen=True, kw_only=True):
    """Result of ``depth``: bids from highest price down, asks from lowest price up."""

    last_update_id: int
    bids: tuple[PriceLevel, ...] = ()
    asks: tuple[PriceLevel, ...] = ()


class Trade(Model, frozen=True, kw_only=True):
    """One public trade: ``trades.recent``, ``trades.historical``, ``blockTrades.historical``.

    Block trades carry no ``isBestMatch``, hence its default.
    """

    id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    time: int
    is_buyer_maker: bool
    is_best_match: bool | None = None


class AggregateTrade(Model, frozen=True, kw_only=True):
    """One aggregate trade of ``trades.aggregate`` (single-letter wire keys)."""

    aggregate_trade_id: int = msgspec.field(name="a")
    price: Decimal = msgspec.field(name="p")
    qty: Decimal = msgspec.field(name="q")
    first_trade_id: int = msgspec.field(name="f")
    last_trade_id: int = msgspec.field(name="l")
    time: int = msgspec.field(name="T")
    is_buyer_maker: bool = msgspec.field(name="m")
    is_best_match: bool = msgspec.field(name="M")


class Kline(Model, frozen=True, kw_only=True, array_like=True):
    """One candlestick of ``klines`` / ``uiKlines``, sent as a JSON array.

    The array's twelfth element is documented as "unused field, ignore"; msgspec ignores
    trailing elements beyond the declared fields, so it (and any element Binance appends
    later) never breaks decoding.
    """

    open_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    close_time: int
    quote_volume: Decimal
    trade_count: int
    taker_buy_base_volume: Decimal
    taker_buy_quote_volume: Decimal


class AveragePrice(Model, frozen=True, kw_only=True):
    """Result of ``avgPrice``."""

    mins: int
    price: Decimal
    close_time: int


class MiniTicker(Model, frozen=True, kw_only=True):
    """Price statistics common to every ticker; the whole result of ``type=MINI`` requests.

    ``count`` (number of trades) is sent by Binance in FULL tickers but not shown in the spec
    examples, so it is optional.
    """

    symbol: str
    open_price: Decimal
    high_price: Decimal
    low_price: Decimal
    last_price: Decimal
    volume: Decimal
    quote_volume: Decimal
    open_time: int
    close_time: int
    first_id: int
    last_id: int
    count: int | None = None


class RollingWindowTicker(MiniTicker, frozen=True, kw_only=True):
    """Result of ``ticker`` and ``ticker.tradingDay``; FULL-only fields are ``None`` for MINI."""

    price_change: Decimal | None = None
    price_change_percent: Decimal | None = None
    weighted_avg_price: Decimal | None = None


class Ticker24hr(RollingWindowTicker, frozen=True, kw_only=True):
    """Result of ``ticker.24hr``; FULL-only fields are ``None`` for MINI."""

    prev_close_price: Decimal | None = None
    last_qty: Decimal | None = None
    bid_price: Decimal | None = None
    bid_qty: Decimal | None = None
    ask_price: Decimal | None = None
    ask_qty: Decimal | None = None


class PriceTicker(Model, frozen=True, kw_only=True):
    """Result of ``ticker.price``."""

    symbol: str
    price: Decimal


class BookTicker(Model, frozen=True, kw_only=True):
    """Result of ``ticker.book``: best bid and ask."""

    symbol: str
    bid_price: Decimal
    bid_qty: Decimal
    ask_price: Decimal
    ask_qty: Decimal


class ReferencePrice(Model, frozen=True, kw_only=True):
    """Result of ``referencePrice``.

    ``reference_price`` is ``None`` while no reference price is set. The spec documents a
    status-200 result that is only ``{"code": -2043, "msg": ...}`` when a reference price was
    never set, so every field is optional and ``code``/``msg`` are kept.
    """

    symbol: str | None = None
    reference_price: Decimal | None = None
    timestamp: int | None = None
    code: int | None = None
    msg: str | None = None


class ReferencePriceCalculation(Model, frozen=True, kw_only=True):
    """Result of ``referencePrice.calculation``; fields depend on ``calculation_type``."""

    symbol: str
    calculation_type: ReferencePriceCalculationType
    # ARITHMETIC_MEAN
    bucket_count: int | None = None
    bucket_width_ms: int | None = None
    # EXTERNAL
    external_calculation_id: int | None = None
