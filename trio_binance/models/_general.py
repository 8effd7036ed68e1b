"""Results of the general requests: ping, time, exchangeInfo, executionRules.

Spec: web-socket-api.md, "General requests"; filters.md for the filter objects.
"""

from __future__ import annotations

from decimal import Decimal

from trio_binance.models._base import Model
from trio_binance.models._common import RateLimit
from trio_binance.models._enums import (
    ExecutionRule,
    FilterType,
    OrderType,
    Permission,
    SelfTradePreventionMode,
    SymbolStatus,
)


class Empty(Model, frozen=True, kw_only=True):
    """An empty result ``{}``: ``ping``, ``userDataStream.unsubscribe``."""


class ServerTime(Model, frozen=True, kw_only=True):
    """Result of ``time``."""

    server_time: int


class Filter(Model, frozen=True, kw_only=True):
    """One symbol, exchange or asset filter (filters.md); returned inside ``exchangeInfo``
    and ``myFilters``.

    Why one flat struct instead of a tagged union per ``filterType``: Binance adds filter
    types over time, and a msgspec tagged union rejects an unknown tag, which would make
    ``exchangeInfo`` undecodable the day a new filter ships. Here ``filter_type`` keeps the
    raw type (an ``OpenEnum``), each known filter's fields are optional, and a new filter
    still decodes (its unknown fields are dropped, its type is visible).

    ``limit`` is an integer part count for ``ICEBERG_PARTS`` but a decimal quantity for
    ``MAX_ASSET``, so it keeps whichever the wire sends.
    """

    filter_type: FilterType
    # PRICE_FILTER
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    tick_size: Decimal | None = None
    # PERCENT_PRICE, PERCENT_PRICE_BY_SIDE (and MIN_NOTIONAL, NOTIONAL for avg_price_mins)
    multiplier_up: Decimal | None = None
    multiplier_down: Decimal | None = None
    bid_multiplier_up: Decimal | None = None
    bid_multiplier_down: Decimal | None = None
    ask_multiplier_up: Decimal | None = None
    ask_multiplier_down: Decimal | None = None
    avg_price_mins: int | None = None
    # LOT_SIZE, MARKET_LOT_SIZE
    min_qty: Decimal | None = None
    max_qty: Decimal | None = None
    step_size: Decimal | None = None
    # MIN_NOTIONAL, NOTIONAL
    min_notional: Decimal | None = None
    apply_to_market: bool | None = None
    max_notional: Decimal | None = None
    apply_min_to_market: bool | None = None
    apply_max_to_market: bool | None = None
    # ICEBERG_PARTS (int), MAX_ASSET (decimal)
    limit: int | Decimal | None = None
    # MAX_NUM_* and EXCHANGE_MAX_NUM_*
    max_num_orders: int | None = None
    max_num_algo_orders: int | None = None
    max_num_iceberg_orders: int | None = None
    max_num_order_amends: int | None = None
    max_num_order_lists: int | None = None
    # MAX_POSITION
    max_position: Decimal | None = None
    # TRAILING_DELTA
    min_trailing_above_delta: int | None = None
    max_trailing_above_delta: int | None = None
    min_trailing_below_delta: int | None = None
    max_trailing_below_delta: int | None = None
    # MAX_ASSET
    asset: str | None = None


class SymbolInfo(Model, frozen=True, kw_only=True):
    """One entry of ``exchangeInfo.symbols``.

    Trading-feature flags that Binance added over the years default to ``False`` so a
    server that predates them (or a trimmed simulator) still decodes.
    """

    symbol: str
    status: SymbolStatus
    base_asset: str
    base_asset_precision: int
    quote_asset: str
    quote_precision: int
    quote_asset_precision: int
    base_commission_precision: int | None = None
    quote_commission_precision: int | None = None
    order_types: tuple[OrderType, ...] = ()
    iceberg_allowed: bool = False
    oco_allowed: bool = False
    oto_allowed: bool = False
    opo_allowed: bool = False
    quote_order_qty_market_allowed: bool = False
    allow_trailing_stop: bool = False
    cancel_replace_allowed: bool = False
    amend_allowed: bool = False
    peg_instructions_allowed: bool = False
    is_spot_trading_allowed: bool = False
    is_margin_trading_allowed: bool = False
    filters: tuple[Filter, ...] = ()
    permissions: tuple[Permission, ...] = ()
    # exchangeInfo: [["A","B"]] means A or B; [["A"],["B"]] means A and B.
    permission_sets: tuple[tuple[Permission, ...], ...] = ()
    default_self_trade_prevention_mode: SelfTradePreventionMode | None = None
    allowed_self_trade_prevention_modes: tuple[SelfTradePreventionMode, ...] = ()


class SorInfo(Model, frozen=True, kw_only=True):
    """One entry of ``exchangeInfo.sors``: symbols that SOR routes between.

    A plain struct is enough: new keys are ignored, and the list is absent when SOR is not
    available, hence the empty default on ``ExchangeInfo.sors``.
    """

    base_asset: str
    symbols: tuple[str, ...] = ()


class ExchangeInfo(Model, frozen=True, kw_only=True):
    """Result of ``exchangeInfo``."""

    timezone: str
    server_time: int
    rate_limits: tuple[RateLimit, ...] = ()
    # Same flat Filter struct as symbol filters: unknown exchange filters must decode too.
    exchange_filters: tuple[Filter, ...] = ()
    symbols: tuple[SymbolInfo, ...] = ()
    sors: tuple[SorInfo, ...] = ()


class ExecutionRuleInfo(Model, frozen=True, kw_only=True):
    """One rule of ``executionRules``; flat with optional fields for the same reason as
    ``Filter``: a new ``ruleType`` must not break decoding."""

    rule_type: ExecutionRule
    # PRICE_RANGE
    bid_limit_mult_up: Decimal | None = None
    bid_limit_mult_down: Decimal | None = None
    ask_limit_mult_up: Decimal | None = None
    ask_limit_mult_down: Decimal | None = None


class SymbolExecutionRules(Model, frozen=True, kw_only=True):
    """The rules of one symbol in ``executionRules``."""

    symbol: str
    rules: tuple[ExecutionRuleInfo, ...] = ()


class ExecutionRules(Model, frozen=True, kw_only=True):
    """Result of ``executionRules``."""

    symbol_rules: tuple[SymbolExecutionRules, ...] = ()
