"""Symbol and exchange filter checks (filters.md), with the documented failure messages.

Every check answers ``None`` (passes) or a :class:`Rejection` carrying the code and message
Binance sends: ``-1013 "Filter failure: <FILTER_TYPE>"`` (errors.md, "Filter failures") and
``-1111 "Parameter '%s' has too much precision."`` for values finer than the asset allows.
The engine turns a rejection into its error; this module knows nothing of orders or books.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any, NamedTuple

from trio_binance.testing._config import (
    ExchangeFilter,
    ExchangeMaxNumAlgoOrders,
    ExchangeMaxNumIcebergOrders,
    ExchangeMaxNumOrderLists,
    ExchangeMaxNumOrders,
    IcebergParts,
    LotSize,
    MarketLotSize,
    MaxNumAlgoOrders,
    MaxNumIcebergOrders,
    MaxNumOrderAmends,
    MaxNumOrderLists,
    MaxNumOrders,
    MaxPosition,
    MinNotional,
    Notional,
    PercentPrice,
    PercentPriceBySide,
    PriceFilter,
    SymbolConfig,
)

FILTER_FAILURE = -1013
BAD_PRECISION = -1111

# Orders that execute at market once live: their notional uses a reference price.
MARKET_TYPES = frozenset({"MARKET", "STOP_LOSS", "TAKE_PROFIT"})
ALGO_TYPES = frozenset({"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"})


class Rejection(NamedTuple):
    code: int
    msg: str


@dataclass(frozen=True, slots=True)
class OrderShape:
    """The parts of an order that filters look at."""

    side: str
    type: str
    quantity: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    quote_order_qty: Decimal | None = None
    iceberg_qty: Decimal | None = None

    @property
    def is_market(self) -> bool:
        return self.type in MARKET_TYPES


@dataclass(frozen=True, slots=True)
class OpenCounts:
    """Open orders of one account, counting the ones being placed."""

    orders: int = 0
    algo_orders: int = 0
    iceberg_orders: int = 0
    order_lists: int = 0


@dataclass(frozen=True, slots=True)
class FilterContext:
    """What filters need beyond the order: market prices and the account's open orders.

    ``reference_price`` is the average price over the filter's window (filters.md says the
    reference price, else the volume-weighted average, else the last price); ``None`` when
    the symbol never traded, in which case price-relative checks cannot fail.
    """

    reference_price: Callable[[int], Decimal | None]
    symbol_counts: OpenCounts = OpenCounts()
    exchange_counts: OpenCounts = OpenCounts()
    position: Decimal = Decimal(0)


def is_multiple(value: Decimal, step: Decimal) -> bool:
    # "not step" rather than "step == 0": no int-to-Decimal comparison (every order asks).
    return not step or not value % step


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """``value`` rounded down to a whole number of ``step`` (unchanged when step is 0)."""
    if step == 0:
        return value
    return (value // step) * step


def decimal_places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def precision_rejection(
    symbol: SymbolConfig, shape: OrderShape, names: Mapping[str, str] | None = None
) -> Rejection | None:
    """-1111 for a value with more decimals than its asset's precision.

    ``names`` maps ``price``/``quantity``/... to the parameter name to report (order lists
    name their legs' parameters ``abovePrice``, ``workingQuantity``...).
    """
    names = names or {}
    base, quote = symbol.base_asset_precision, symbol.quote_precision
    checks = (
        ("quantity", shape.quantity, base),
        ("price", shape.price, quote),
        ("stopPrice", shape.stop_price, quote),
        ("quoteOrderQty", shape.quote_order_qty, quote),
        ("icebergQty", shape.iceberg_qty, base),
    )
    for field, value, places in checks:
        if value is not None and _too_precise(value, places):
            name = names.get(field, field)
            return Rejection(BAD_PRECISION, f"Parameter '{name}' has too much precision.")
    return None


def _too_precise(value: Decimal, places: int) -> bool:
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -places:
        return False  # written with few enough decimals (nearly always): no normalize() needed
    return decimal_places(value) > places


def filter_rejection(
    symbol: SymbolConfig,
    shape: OrderShape,
    context: FilterContext,
    exchange_filters: tuple[ExchangeFilter, ...] = (),
) -> Rejection | None:
    """The first filter ``shape`` fails, in the symbol's filter order, then exchange filters."""
    return first_failure(filter_plan(symbol, exchange_filters), shape, context)


FilterPlan = tuple[tuple[Any, Callable[[Any, OrderShape, FilterContext], bool]], ...]
"""Each filter with its check, in the order they apply."""


def filter_plan(
    symbol: SymbolConfig, exchange_filters: tuple[ExchangeFilter, ...] = ()
) -> FilterPlan:
    """The checks :func:`filter_rejection` runs; the engine keeps one per symbol, as every
    order runs them all."""
    items = (*symbol.filters, *exchange_filters)
    return tuple((item, _CHECKS[type(item)]) for item in items if type(item) in _CHECKS)


def first_failure(plan: FilterPlan, shape: OrderShape, context: FilterContext) -> Rejection | None:
    """The first filter of ``plan`` that ``shape`` fails."""
    for item, check in plan:
        if not check(item, shape, context):
            return Rejection(FILTER_FAILURE, f"Filter failure: {item.filter_type}")
    return None


def amend_rejection(symbol: SymbolConfig, amendments_so_far: int) -> Rejection | None:
    """MAX_NUM_ORDER_AMENDS: the order was already amended as often as allowed."""
    limit = symbol.find_filter(MaxNumOrderAmends)
    if limit is not None and amendments_so_far >= limit.max_num_order_amends:
        return Rejection(FILTER_FAILURE, "Filter failure: MAX_NUM_ORDER_AMENDS")
    return None


# --- one check per filter type ------------------------------------------------------------


def _price_ok(item: PriceFilter, shape: OrderShape, _: FilterContext) -> bool:
    # filters.md PRICE_FILTER: applies to price and stopPrice; a zero bound disables it.
    stop, price = shape.stop_price, shape.price
    if stop is not None and not _price_in_filter(stop, item):
        return False
    return price is None or shape.is_market or _price_in_filter(price, item)


def _price_in_filter(value: Decimal, item: PriceFilter) -> bool:
    return (
        (not item.min_price or value >= item.min_price)
        and (not item.max_price or value <= item.max_price)
        and is_multiple(value, item.tick_size)
    )


def _percent_ok(item: PercentPrice, shape: OrderShape, context: FilterContext) -> bool:
    reference = context.reference_price(item.avg_price_mins)
    if reference is None or shape.price is None or shape.is_market:
        return True
    low, high = reference * item.multiplier_down, reference * item.multiplier_up
    return low <= shape.price <= high


def _percent_by_side_ok(
    item: PercentPriceBySide, shape: OrderShape, context: FilterContext
) -> bool:
    reference = context.reference_price(item.avg_price_mins)
    if reference is None or shape.price is None or shape.is_market:
        return True
    if shape.side == "BUY":
        up, down = item.bid_multiplier_up, item.bid_multiplier_down
    else:
        up, down = item.ask_multiplier_up, item.ask_multiplier_down
    return reference * down <= shape.price <= reference * up


def _quantity_in_lot(value: Decimal, item: LotSize | MarketLotSize) -> bool:
    return (
        (not item.min_qty or value >= item.min_qty)
        and (not item.max_qty or value <= item.max_qty)
        and is_multiple(value, item.step_size)
    )


def _lot_size_ok(item: LotSize, shape: OrderShape, _: FilterContext) -> bool:
    quantity, iceberg = shape.quantity, shape.iceberg_qty
    if quantity is not None and not _quantity_in_lot(quantity, item):
        return False
    return iceberg is None or _quantity_in_lot(iceberg, item)


def _market_lot_size_ok(item: MarketLotSize, shape: OrderShape, _: FilterContext) -> bool:
    if not shape.is_market or shape.quantity is None:
        return True
    return _quantity_in_lot(shape.quantity, item)


def _notional(shape: OrderShape, context: FilterContext, avg_price_mins: int) -> Decimal | None:
    """price * quantity; market orders use quoteOrderQty or the reference price."""
    if shape.quote_order_qty is not None:
        return shape.quote_order_qty
    if shape.quantity is None:
        return None
    if not shape.is_market and shape.price is not None:
        return shape.price * shape.quantity
    price = shape.stop_price if shape.stop_price is not None else None
    if price is None:
        price = context.reference_price(avg_price_mins)
    return None if price is None else price * shape.quantity


def _min_notional_ok(item: MinNotional, shape: OrderShape, context: FilterContext) -> bool:
    if shape.is_market and not item.apply_to_market:
        return True
    notional = _notional(shape, context, item.avg_price_mins)
    return notional is None or notional >= item.min_notional


def _notional_ok(item: Notional, shape: OrderShape, context: FilterContext) -> bool:
    notional = _notional(shape, context, item.avg_price_mins)
    if notional is None:
        return True
    check_min = item.apply_min_to_market or not shape.is_market
    check_max = item.apply_max_to_market or not shape.is_market
    if check_min and notional < item.min_notional:
        return False
    return not (check_max and item.max_notional != 0 and notional > item.max_notional)


def _iceberg_parts_ok(item: IcebergParts, shape: OrderShape, _: FilterContext) -> bool:
    if shape.iceberg_qty is None or shape.quantity is None or shape.iceberg_qty == 0:
        return True
    return math.ceil(shape.quantity / shape.iceberg_qty) <= item.limit


def _max_orders_ok(item: MaxNumOrders, _: OrderShape, context: FilterContext) -> bool:
    return context.symbol_counts.orders <= item.max_num_orders


def _max_algo_ok(item: MaxNumAlgoOrders, _: OrderShape, context: FilterContext) -> bool:
    return context.symbol_counts.algo_orders <= item.max_num_algo_orders


def _max_iceberg_ok(item: MaxNumIcebergOrders, _: OrderShape, context: FilterContext) -> bool:
    return context.symbol_counts.iceberg_orders <= item.max_num_iceberg_orders


def _max_lists_ok(item: MaxNumOrderLists, _: OrderShape, context: FilterContext) -> bool:
    return context.symbol_counts.order_lists <= item.max_num_order_lists


def _max_position_ok(item: MaxPosition, shape: OrderShape, context: FilterContext) -> bool:
    # filters.md MAX_POSITION: only BUY orders are refused.
    if shape.side != "BUY":
        return True
    return context.position + (shape.quantity or Decimal(0)) <= item.max_position


def _exchange_orders_ok(item: ExchangeMaxNumOrders, _: OrderShape, c: FilterContext) -> bool:
    return c.exchange_counts.orders <= item.max_num_orders


def _exchange_algo_ok(item: ExchangeMaxNumAlgoOrders, _: OrderShape, c: FilterContext) -> bool:
    return c.exchange_counts.algo_orders <= item.max_num_algo_orders


def _exchange_iceberg_ok(
    item: ExchangeMaxNumIcebergOrders, _: OrderShape, c: FilterContext
) -> bool:
    return c.exchange_counts.iceberg_orders <= item.max_num_iceberg_orders


def _exchange_lists_ok(item: ExchangeMaxNumOrderLists, _: OrderShape, c: FilterContext) -> bool:
    return c.exchange_counts.order_lists <= item.max_num_order_lists


_CHECKS: Mapping[type[Any], Callable[[Any, OrderShape, FilterContext], bool]] = MappingProxyType(
    {
        PriceFilter: _price_ok,
        PercentPrice: _percent_ok,
        PercentPriceBySide: _percent_by_side_ok,
        LotSize: _lot_size_ok,
        MarketLotSize: _market_lot_size_ok,
        MinNotional: _min_notional_ok,
        Notional: _notional_ok,
        IcebergParts: _iceberg_parts_ok,
        MaxNumOrders: _max_orders_ok,
        MaxNumAlgoOrders: _max_algo_ok,
        MaxNumIcebergOrders: _max_iceberg_ok,
        MaxNumOrderLists: _max_lists_ok,
        MaxPosition: _max_position_ok,
        ExchangeMaxNumOrders: _exchange_orders_ok,
        ExchangeMaxNumAlgoOrders: _exchange_algo_ok,
        ExchangeMaxNumIcebergOrders: _exchange_iceberg_ok,
        ExchangeMaxNumOrderLists: _exchange_lists_ok,
    }
)
