"""The cached argument checks of the typed API decide exactly as the plain per-call version.

``checked_params`` looks each argument's wire name and check up once per (method, argument),
works each order leg's wire names out once, and takes amounts already in plain decimal text
as they are. The reference below does all of it afresh on every call, as the typed API did
before: over random argument sets of every method both must produce the same wire
parameters, in the same order, or the same ``InvalidParameter``.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_binance import InvalidParameter
from trio_binance._api import (
    _CHECKS_BY_SUFFIX,
    _LIMIT_MAX,
    _ORDER_LEGS,
    _REQUIRED_BY_TYPE,
    _RULES,
    API_METHODS,
    ApiMethods,
    _amount,
    _any_integer,
    _at_most_one,
    _check_time_range,
    _client_id,
    _decimal,
    _enum,
    _flag,
    _iceberg_needs_gtc,
    _integer,
    _invalid,
    _peg_offset_value,
    _permissions,
    _positive_integer,
    _recv_window,
    _strategy_type,
    _symbol,
    _symbols,
    _time_zone,
    _together,
    _window_size,
    checked_params,
    python_name,
)
from trio_binance._params import decimal_text
from trio_binance.models import OrderType, Side, TimeInForce

# --- the reference: everything recomputed on every call ---------------------------------


def reference_wire_name(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def reference_amount(wire: str, value: object) -> str:
    """Every amount through Decimal, text or not."""
    number = _decimal(wire, value)
    if not number.is_finite() or number <= 0:
        raise _invalid(wire, f"must be above zero, got {value}")
    return decimal_text(number)


def reference_value(method: str, wire: str, value: object) -> object:
    if wire == "limit":
        return _integer(wire, value, minimum=1, maximum=_LIMIT_MAX[method])
    for suffix, check in _CHECKS_BY_SUFFIX:
        if wire.lower().endswith(suffix):
            return (reference_amount if check is _amount else check)(wire, value)
    raise AssertionError(f"no check for {wire!r}")


def reference_leg(prefix: str, name: str) -> str:
    return prefix + name[0].upper() + name[1:] if prefix else name


def reference_order(params: Mapping[str, object], prefix: str, own_quantity: bool) -> None:
    order_type = params.get(reference_leg(prefix, "type"))
    pegged = reference_leg(prefix, "pegPriceType") in params
    for alternatives in _REQUIRED_BY_TYPE.get(str(order_type), ()):
        if ("quantity" in alternatives and not own_quantity) or (
            alternatives[0] == "price" and pegged
        ):
            continue
        names = [reference_leg(prefix, name) for name in alternatives]
        if not any(name in params for name in names):
            either = "".join(f" (or {python_name(name)!r})" for name in names[1:])
            raise _invalid(names[0], f"is required for a {order_type} order{either}")
    if order_type == "MARKET":
        _at_most_one(reference_leg(prefix, "quantity"), reference_leg(prefix, "quoteOrderQty"))(
            params
        )
    _together(reference_leg(prefix, "pegOffsetType"), reference_leg(prefix, "pegOffsetValue"))(
        params
    )
    _iceberg_needs_gtc(reference_leg(prefix, "icebergQty"), reference_leg(prefix, "timeInForce"))(
        params
    )


def reference_params(method: str, arguments: Mapping[str, object]) -> dict[str, object]:
    params = {
        reference_wire_name(name): reference_value(method, reference_wire_name(name), value)
        for name, value in arguments.items()
        if value is not None
    }
    for rule in _RULES.get(method, ()):
        rule(params)
    for prefix, own_quantity in _ORDER_LEGS.get(method, ()):
        reference_order(params, prefix, own_quantity)
    _check_time_range(method, params)
    return params


# --- random argument sets ---------------------------------------------------------------


def parameters(method: str) -> list[str]:
    coroutine = getattr(ApiMethods, API_METHODS[method])
    return [
        name
        for name, parameter in inspect.signature(coroutine).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    ]


def check_of(method: str, name: str) -> Any:
    wire = reference_wire_name(name)
    if wire == "limit":
        return "limit"
    return next(check for suffix, check in _CHECKS_BY_SUFFIX if wire.lower().endswith(suffix))


# Values each check accepts, so that many argument sets get past every value check and reach
# the rules; any value may also be drawn for any parameter, to exercise the refusals.
GOOD: dict[Any, list[object]] = {
    _client_id: ["myOrder1", "a" * 36],
    _recv_window: [5000, "1.5", Decimal("60000")],
    _symbols: [["BTCUSDT", "ETHUSDT"]],
    _symbol: ["BTCUSDT"],
    _permissions: ["SPOT", ["SPOT", "MARGIN"]],
    _time_zone: ["8", "-1:30"],
    _window_size: ["1d", "59m"],
    _strategy_type: [1_000_000],
    _any_integer: [-5, 7],
    _peg_offset_value: [0, 100],
    _positive_integer: [1, 250],
    _amount: [Decimal("0.001"), "25000.10", "2E-5", "0.00847000", "007.5", "1.", "+3"],
    _enum: ["LIMIT", "MARKET", "GTC", "IOC", "BUY", OrderType.LIMIT, Side.SELL, TimeInForce.FOK],
    _flag: [True, False],
    _integer: [0, 1_700_000_000_000, 1_700_000_000_001],
    "limit": [1, 500, 5000],
}
ANY_VALUE = st.sampled_from(
    [
        0,
        -1,
        True,
        2.5,
        "",
        " BTCUSDT",
        "abc",
        "NaN",
        "0",
        "0.000",
        "-0.5",
        "1:75",
        "99d",
        Decimal("-1"),
        Decimal("Infinity"),
        [],
        ["BTCUSDT", 3],
        "x" * 37,
        OrderType.MARKET,
        2**70,
    ]
)


@st.composite
def calls(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    method = draw(st.sampled_from(sorted(API_METHODS)))
    arguments: dict[str, object] = {}
    for name in parameters(method):
        good = st.sampled_from(GOOD[check_of(method, name)])
        arguments[name] = draw(st.one_of(st.none(), st.none(), good, good, good, ANY_VALUE))
    return method, arguments


def outcome(method: str, arguments: Mapping[str, object], check: Any) -> object:
    try:
        params = check(method, arguments)
    except InvalidParameter as error:
        return ("refused", error.name, str(error))
    return ("sent", list(params.items()))


@settings(max_examples=1500, deadline=None)
@given(calls())
def test_cached_checks_decide_exactly_as_the_reference(call: tuple[str, dict[str, object]]) -> None:
    method, arguments = call
    assert outcome(method, arguments, checked_params) == outcome(
        method, arguments, reference_params
    )


def test_random_calls_reach_both_outcomes() -> None:
    """The generator is useful: it produces accepted calls and every kind of refusal."""
    seen: set[str] = set()

    @settings(max_examples=300, deadline=None, database=None)
    @given(calls())
    def record(call: tuple[str, dict[str, object]]) -> None:
        result = outcome(*call, reference_params)
        assert isinstance(result, tuple)
        seen.add(str(result[0]))

    record()
    assert seen == {"sent", "refused"}


def outcome_of_amount(check: Any, value: object) -> object:
    try:
        return ("accepted", check("price", value))
    except InvalidParameter as error:
        return ("refused", error.name, str(error))


# Text near the plain decimal form: digits (ASCII and not), signs, points, exponents, spaces.
AMOUNT_TEXT = st.text(alphabet="0123456789.-+eE _\u0661", max_size=12) | st.from_regex(
    r"\A[+-]?[0-9]{0,4}(\.[0-9]{0,9})?([eE][+-]?[0-9]{1,2})?\Z"
)


@settings(max_examples=2000, deadline=None)
@given(AMOUNT_TEXT)
def test_amount_text_is_accepted_as_is_only_when_decimal_would_give_it_back(value: str) -> None:
    assert outcome_of_amount(_amount, value) == outcome_of_amount(reference_amount, value)


def test_the_amount_shortcut_takes_plain_text_and_refuses_zero() -> None:
    assert _amount("price", "0.00847000") == "0.00847000"
    assert _amount("price", "007.50") == "7.50"  # leading zeros: through Decimal
    with pytest.raises(InvalidParameter, match="must be above zero"):
        _amount("price", "0.000")


def test_the_cache_keeps_errors_naming_the_python_parameter() -> None:
    arguments = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "time_in_force": "GTC"}
    order = {"time_in_force": "IOC", "price": "2", "quantity": "1"}
    for _ in range(2):  # the second call is served from the cache
        with pytest.raises(InvalidParameter, match="parameter 'time_in_force' must be GTC"):
            checked_params("order.place", {**arguments, **order, "iceberg_qty": "1"})
        with pytest.raises(InvalidParameter, match="parameter 'price' is a float"):
            checked_params("order.place", {**arguments, "price": 1.5, "quantity": "1"})
