"""Symbol and exchange filters refuse exactly what filters.md says, with errors.md's messages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_binance.testing._config import (
    ExchangeMaxNumOrders,
    IcebergParts,
    LotSize,
    MarketLotSize,
    MaxNumAlgoOrders,
    MaxNumOrderAmends,
    MaxNumOrders,
    MaxPosition,
    MinNotional,
    Notional,
    PercentPrice,
    PercentPriceBySide,
    PriceFilter,
    SymbolConfig,
    SymbolFilter,
    symbol_config,
)
from trio_binance.testing._error_messages import ERROR_MESSAGES, FILTER_FAILURE_MESSAGES
from trio_binance.testing._filters import (
    FilterContext,
    OpenCounts,
    OrderShape,
    Rejection,
    amend_rejection,
    filter_rejection,
    floor_to_step,
    is_multiple,
    precision_rejection,
)

D = Decimal


def symbol_with(*filters: SymbolFilter) -> SymbolConfig:
    return SymbolConfig("BTCUSDT", "BTC", "USDT", tuple(filters))


def context(
    reference: Decimal | None = None,
    counts: OpenCounts | None = None,
    position: Decimal | None = None,
) -> FilterContext:
    counts = counts or OpenCounts(1)
    return FilterContext(lambda _minutes: reference, counts, counts, position or D(0))


def limit(price: str, qty: str, side: str = "BUY", **extra: Decimal) -> OrderShape:
    return OrderShape(side, "LIMIT", D(qty), D(price), **extra)


def failure(name: str) -> Rejection:
    return Rejection(-1013, f"Filter failure: {name}")


def test_failure_messages_follow_the_documented_pattern() -> None:
    # errors.md lists "Filter failure: <filterType>" for every filter but PERCENT_PRICE_BY_SIDE,
    # which Binance reports the same way.
    documented = {message.removeprefix("Filter failure: ") for message in FILTER_FAILURE_MESSAGES}
    for item in symbol_config().filters:
        assert item.filter_type in documented | {"PERCENT_PRICE_BY_SIDE"}


# --- PRICE_FILTER ---------------------------------------------------------------------------

PRICE = PriceFilter(D("0.01"), D("1000"), D("0.01"))


@pytest.mark.parametrize(
    ("price", "ok"),
    [("0.01", True), ("1000", True), ("0.001", False), ("1000.01", False), ("5.005", False)],
)
def test_price_filter_bounds_and_tick(price: str, ok: bool) -> None:
    outcome = filter_rejection(symbol_with(PRICE), limit(price, "1"), context())
    assert outcome == (None if ok else failure("PRICE_FILTER"))


def test_price_filter_checks_stop_price_too() -> None:
    shape = OrderShape("SELL", "STOP_LOSS", D(1), stop_price=D("5.005"))
    assert filter_rejection(symbol_with(PRICE), shape, context()) == failure("PRICE_FILTER")


def test_zero_price_filter_bounds_are_disabled() -> None:
    disabled = PriceFilter(D(0), D(0), D(0))
    assert filter_rejection(symbol_with(disabled), limit("123456.789", "1"), context()) is None


@settings(max_examples=50)
@given(ticks=st.integers(1, 10**6), offset=st.integers(1, 99))
def test_price_filter_accepts_exact_ticks_only(ticks: int, offset: int) -> None:
    tick = D("0.01")
    on_tick = ticks * tick
    off_tick = on_tick + D(offset) / 10_000
    price_filter = PriceFilter(D(0), D(0), tick)
    assert filter_rejection(symbol_with(price_filter), limit(str(on_tick), "1"), context()) is None
    rejected = filter_rejection(symbol_with(price_filter), limit(str(off_tick), "1"), context())
    assert rejected == failure("PRICE_FILTER")


# --- PERCENT_PRICE(_BY_SIDE) ----------------------------------------------------------------


def test_percent_price_by_side_uses_each_sides_multipliers() -> None:
    item = PercentPriceBySide(D("1.2"), D("0.2"), D("5"), D("0.8"), 1)
    config = symbol_with(item)
    ctx = context(reference=D(100))
    assert filter_rejection(config, limit("120", "1", "BUY"), ctx) is None
    assert filter_rejection(config, limit("121", "1", "BUY"), ctx) == failure(
        "PERCENT_PRICE_BY_SIDE"
    )
    assert filter_rejection(config, limit("121", "1", "SELL"), ctx) is None
    assert filter_rejection(config, limit("79", "1", "SELL"), ctx) == failure(
        "PERCENT_PRICE_BY_SIDE"
    )


def test_percent_price_passes_without_a_reference_price() -> None:
    config = symbol_with(PercentPrice(D("1.1"), D("0.9"), 5))
    assert filter_rejection(config, limit("1000000", "1"), context(reference=None)) is None
    assert filter_rejection(config, limit("111", "1"), context(reference=D(100))) == failure(
        "PERCENT_PRICE"
    )


# --- LOT_SIZE / MARKET_LOT_SIZE / ICEBERG_PARTS ----------------------------------------------

LOT = LotSize(D("0.001"), D("100"), D("0.001"))


@pytest.mark.parametrize(
    ("qty", "ok"), [("0.001", True), ("100", True), ("0.0005", False), ("100.001", False)]
)
def test_lot_size_bounds(qty: str, ok: bool) -> None:
    outcome = filter_rejection(symbol_with(LOT), limit("1", qty), context())
    assert outcome == (None if ok else failure("LOT_SIZE"))


@settings(max_examples=50)
@given(steps=st.integers(1, 100_000), remainder=st.integers(1, 9))
def test_lot_size_step(steps: int, remainder: int) -> None:
    on_step = steps * D("0.001")
    assert filter_rejection(symbol_with(LOT), limit("1", str(on_step)), context()) is None
    off_step = on_step + D(remainder) / 10_000
    assert filter_rejection(symbol_with(LOT), limit("1", str(off_step)), context()) == failure(
        "LOT_SIZE"
    )


def test_lot_size_applies_to_iceberg_quantity() -> None:
    shape = limit("1", "1", iceberg_qty=D("0.0001"))
    assert filter_rejection(symbol_with(LOT), shape, context()) == failure("LOT_SIZE")


def test_market_lot_size_only_constrains_market_orders() -> None:
    config = symbol_with(MarketLotSize(D("0.1"), D("1"), D("0.1")))
    market = OrderShape("BUY", "MARKET", D("5"))
    assert filter_rejection(config, market, context()) == failure("MARKET_LOT_SIZE")
    assert filter_rejection(config, limit("1", "5"), context()) is None
    quote_only = OrderShape("BUY", "MARKET", quote_order_qty=D(100))
    assert filter_rejection(config, quote_only, context()) is None


def test_iceberg_parts_counts_ceil_of_quantity_over_iceberg() -> None:
    config = symbol_with(IcebergParts(10))
    assert filter_rejection(config, limit("1", "10", iceberg_qty=D(1)), context()) is None
    too_many = limit("1", "10.5", iceberg_qty=D(1))
    assert filter_rejection(config, too_many, context()) == failure("ICEBERG_PARTS")


# --- notional ----------------------------------------------------------------------------------


def test_notional_range_for_limit_orders() -> None:
    config = symbol_with(Notional(D(10), False, D(1000), False, 5))
    assert filter_rejection(config, limit("5", "2"), context()) is None
    assert filter_rejection(config, limit("5", "1.9"), context()) == failure("NOTIONAL")
    assert filter_rejection(config, limit("5", "201"), context()) == failure("NOTIONAL")


def test_notional_for_market_orders_uses_reference_price_when_applied() -> None:
    applied = symbol_with(Notional(D(10), True, D(1000), True, 5))
    skipped = symbol_with(Notional(D(10), False, D(1000), False, 5))
    small = OrderShape("SELL", "MARKET", D("0.5"))
    assert filter_rejection(applied, small, context(reference=D(10))) == failure("NOTIONAL")
    assert filter_rejection(skipped, small, context(reference=D(10))) is None
    assert filter_rejection(applied, small, context(reference=None)) is None
    by_quote = OrderShape("BUY", "MARKET", quote_order_qty=D(5))
    assert filter_rejection(applied, by_quote, context()) == failure("NOTIONAL")


def test_min_notional_apply_to_market() -> None:
    config = symbol_with(MinNotional(D(10), True, 5))
    assert filter_rejection(config, limit("1", "9"), context()) == failure("MIN_NOTIONAL")
    market = OrderShape("BUY", "MARKET", D(1))
    assert filter_rejection(config, market, context(reference=D(11))) is None
    assert filter_rejection(config, market, context(reference=D(9))) == failure("MIN_NOTIONAL")


# --- counts and position --------------------------------------------------------------------


def test_order_counts_include_the_orders_being_placed() -> None:
    config = symbol_with(MaxNumOrders(2), MaxNumAlgoOrders(1))
    assert filter_rejection(config, limit("1", "1"), context(counts=OpenCounts(2))) is None
    assert filter_rejection(config, limit("1", "1"), context(counts=OpenCounts(3))) == failure(
        "MAX_NUM_ORDERS"
    )
    stop = OrderShape("SELL", "STOP_LOSS", D(1), stop_price=D(1))
    assert filter_rejection(config, stop, context(counts=OpenCounts(2, 2))) == failure(
        "MAX_NUM_ALGO_ORDERS"
    )


def test_exchange_filters_come_after_symbol_filters() -> None:
    config = symbol_with(MaxNumOrders(10))
    exchange = (ExchangeMaxNumOrders(2),)
    ctx = context(counts=OpenCounts(3))
    assert filter_rejection(config, limit("1", "1"), ctx, exchange) == failure(
        "EXCHANGE_MAX_NUM_ORDERS"
    )


def test_max_position_refuses_buys_only() -> None:
    config = symbol_with(MaxPosition(D(10)))
    ctx = context(position=D(9))
    assert filter_rejection(config, limit("1", "2", "BUY"), ctx) == failure("MAX_POSITION")
    assert filter_rejection(config, limit("1", "2", "SELL"), ctx) is None


def test_amendments_are_capped() -> None:
    config = symbol_with(MaxNumOrderAmends(2))
    assert amend_rejection(config, 1) is None
    assert amend_rejection(config, 2) == failure("MAX_NUM_ORDER_AMENDS")


# --- precision ---------------------------------------------------------------------------------


def test_precision_is_refused_with_the_parameter_name() -> None:
    config = SymbolConfig("BTCUSDT", "BTC", "USDT", base_asset_precision=3, quote_precision=2)
    assert ERROR_MESSAGES[-1111] == ("Parameter '%s' has too much precision.",)
    assert precision_rejection(config, limit("1.23", "1.234")) is None
    assert precision_rejection(config, limit("1.234", "1")) == Rejection(
        -1111, "Parameter 'price' has too much precision."
    )
    named = precision_rejection(config, limit("1", "0.0001"), {"quantity": "workingQuantity"})
    assert named == Rejection(-1111, "Parameter 'workingQuantity' has too much precision.")


def test_trailing_zeros_are_not_precision() -> None:
    config = SymbolConfig("BTCUSDT", "BTC", "USDT", quote_precision=2)
    assert precision_rejection(config, limit("1.2300000000", "1")) is None


@settings(max_examples=50)
@given(
    value=st.decimals(min_value=0, max_value=10**6, places=6),
    step=st.sampled_from(["0.01", "1", "0.5"]),
)
def test_floor_to_step_gives_the_largest_multiple_not_above(value: Decimal, step: str) -> None:
    size = D(step)
    floored = floor_to_step(value, size)
    assert is_multiple(floored, size)
    assert floored <= value < floored + size
