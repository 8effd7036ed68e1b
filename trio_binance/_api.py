"""Typed coroutines for every WebSocket API method: ``await session.depth(symbol="BTCUSDT")``.

Conventions, the same for every method:

* one ``async def`` per documented method, named for what it does (``API_METHODS`` maps each
  wire method name to its coroutine);
* keyword-only parameters whose names are the snake_case of the wire names
  (``timeInForce`` -> ``time_in_force``, ``newOrderRespType`` -> ``new_order_resp_type``);
* prices and quantities are ``Decimal`` or decimal text, never ``float``; enums accept the
  member or its string; ids, times and limits are ``int``;
* the result is decoded into the model of ``models.METHOD_RESULTS``.

Every call is checked before anything is sent: values (by wire name), then the method's
cross-parameter rules (mutually exclusive or jointly required parameters), then the
parameters each order type makes mandatory. A failed check raises ``InvalidParameter`` naming
the Python parameter. Order-creating calls then get every client order id they lack
(``_client_ids``). Everything goes through ``request()``, the session's escape hatch.
"""

from __future__ import annotations

import enum
import functools
import inspect
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal, TypeAlias, TypeVar

import msgspec

from trio_binance._client_ids import add_client_ids, check_client_id, check_client_id_prefix
from trio_binance._exceptions import ApiError, BadRequest, InvalidParameter, PartialSuccess
from trio_binance._methods import is_signed
from trio_binance._params import CanonicalParams, WireValue, decimal_text
from trio_binance.models import (
    AccountCommission,
    AccountFilters,
    AccountInfo,
    AccountTrade,
    AggregateTrade,
    Allocation,
    AmendResult,
    AveragePrice,
    BookTicker,
    CancelReplaceMode,
    CancelReplaceResponse,
    CancelReplaceResult,
    CancelRestrictions,
    Empty,
    ExchangeInfo,
    ExecutionRules,
    Kline,
    KlineInterval,
    Order,
    OrderAmendment,
    OrderBook,
    OrderList,
    OrderListResult,
    OrderRateLimitExceededMode,
    OrderReport,
    OrderResponseType,
    OrderResult,
    OrderType,
    PegOffsetType,
    PegPriceType,
    Permission,
    PreventedMatch,
    PriceTicker,
    RateLimit,
    ReferencePrice,
    ReferencePriceCalculation,
    RollingWindowTicker,
    SelfTradePreventionMode,
    ServerTime,
    SessionStatus,
    Side,
    Subscription,
    SymbolStatus,
    TestOrderResult,
    Ticker24hr,
    TimeInForce,
    Trade,
)

T = TypeVar("T")

Amount: TypeAlias = Decimal | str
"""A price or quantity: a ``Decimal`` or its text (``"0.001"``); floats are refused."""
RecvWindow: TypeAlias = Decimal | str | int
TickerType: TypeAlias = Literal["FULL", "MINI"]

# --- names -------------------------------------------------------------------------------

_CAPITAL = re.compile(r"(?<!^)(?=[A-Z])")


def wire_name(python_name: str) -> str:
    """``time_in_force`` -> ``timeInForce``."""
    first, *rest = python_name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def python_name(wire: str) -> str:
    """``timeInForce`` -> ``time_in_force``: how errors name a parameter."""
    return _CAPITAL.sub("_", wire).lower()


def _invalid(wire: str, problem: str) -> InvalidParameter:
    return InvalidParameter(python_name(wire), problem)


# --- values, checked by wire name --------------------------------------------------------

# Plain decimal text, optionally with an exponent (converted to plain text before sending);
# stricter than Decimal(), which also takes whitespace, underscores, "NaN" and "Infinity".
_DECIMAL_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# web-socket-api.md, klines: timeZone "Hours and minutes (e.g. -1:00, 05:45)" or "Only hours".
_TIME_ZONE = re.compile(r"([+-]?)(\d{1,2})(?::(\d{2}))?")
# web-socket-api.md, ticker: windowSize 1m..59m, 1h..23h, 1d..7d; units cannot be combined.
_WINDOW_SIZE = re.compile(r"(\d{1,2})([mhd])")
_WINDOW_MAX: Mapping[str, int] = MappingProxyType({"m": 59, "h": 23, "d": 7})
# "recvWindow: The value cannot be greater than 60000. Supports up to three decimal places".
_MAX_RECV_WINDOW = Decimal(60000)
_RECV_WINDOW_STEP = Decimal("0.001")
# "strategyType: Values smaller than 1000000 are reserved and cannot be used."
_MIN_STRATEGY_TYPE = 1_000_000
# "pegOffsetValue: Price level to peg the price to (max: 100)".
_MAX_PEG_OFFSET = 100


def _decimal(wire: str, value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        raise _invalid(wire, f"is a float ({value!r}); pass a Decimal or a str")
    if not isinstance(value, str):
        raise _invalid(wire, f"must be a Decimal or a str, got {type(value).__name__}")
    if not _DECIMAL_TEXT.fullmatch(value):
        raise _invalid(wire, f"{value!r} is not a decimal number")
    return Decimal(value)


# Text already in the form decimal_text gives (ASCII digits, no sign, exponent or leading
# zero): the common way to pass an amount, accepted as it is without building a Decimal.
_PLAIN_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")


def _amount(wire: str, value: object) -> str:
    """A price or quantity above zero, as plain decimal text (no exponent)."""
    if type(value) is str and _PLAIN_DECIMAL.fullmatch(value) and value.strip("0."):
        return value  # a non-zero digit: above zero (tests/test_api_fast_path.py)
    number = _decimal(wire, value)
    if not number.is_finite() or number <= 0:
        raise _invalid(wire, f"must be above zero, got {value}")
    return decimal_text(number)  # finite: cannot fail, so no name to spell


def _recv_window(wire: str, value: object) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    else:
        number = _decimal(wire, value)
    if not number.is_finite() or not 0 < number <= _MAX_RECV_WINDOW:
        raise _invalid(wire, f"must be above 0 and at most 60000 ms, got {value}")
    if number != number.quantize(_RECV_WINDOW_STEP):
        raise _invalid(wire, f"has more than three decimal places: {value}")
    return value if isinstance(value, int) else decimal_text(number)


def _integer(wire: str, value: object, minimum: int = 0, maximum: int | None = None) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _invalid(wire, f"must be an int, got {type(value).__name__}")
    if value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and at most {maximum}"
        raise _invalid(wire, f"must be at least {minimum}{upper}, got {value}")
    return value


def _any_integer(wire: str, value: object) -> int:
    # strategyId is "Arbitrary numeric value": any LONG.
    return _integer(wire, value, minimum=-(2**63))


def _positive_integer(wire: str, value: object) -> int:
    return _integer(wire, value, minimum=1)


def _strategy_type(wire: str, value: object) -> int:
    return _integer(wire, value, minimum=_MIN_STRATEGY_TYPE)


def _peg_offset_value(wire: str, value: object) -> int:
    return _integer(wire, value, maximum=_MAX_PEG_OFFSET)


def _enum(wire: str, value: object) -> str:
    """An enum member or its string; values Binance adds later pass through."""
    if isinstance(value, enum.Enum):
        value = value.value
    if not isinstance(value, str) or not value:
        raise _invalid(wire, f"must be a non-empty str or enum member, got {value!r}")
    return value


def _symbol(wire: str, value: object) -> str:
    if not isinstance(value, str) or not value or value != value.strip():
        raise _invalid(wire, f"must be a symbol such as 'BTCUSDT', got {value!r}")
    return value


def _symbols(wire: str, value: object) -> WireValue:
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise _invalid(wire, f"must be a non-empty list of symbols, got {value!r}")
    return [_symbol(wire, symbol) for symbol in value]


def _permissions(wire: str, value: object) -> WireValue:
    # exchangeInfo: "permissions accepts either a list of permissions, or a single permission".
    if isinstance(value, str | enum.Enum):
        return _enum(wire, value)
    if not isinstance(value, Sequence) or not value:
        raise _invalid(wire, f"must be a permission or a non-empty list of them, got {value!r}")
    return [_enum(wire, permission) for permission in value]


def _flag(wire: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _invalid(wire, f"must be a bool, got {type(value).__name__}")
    return value


def _time_zone(wire: str, value: object) -> str:
    """web-socket-api.md, klines: "Accepted range is strictly [-12:00 to +14:00] inclusive"."""
    match = _TIME_ZONE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise _invalid(
            wire, f"must be hours or hours:minutes such as '8' or '-1:30', got {value!r}"
        )
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    offset = (-1 if sign == "-" else 1) * (hours * 60 + minutes)
    if minutes >= 60 or not -12 * 60 <= offset <= 14 * 60:
        raise _invalid(wire, f"must be between -12:00 and +14:00, got {value!r}")
    return match.group(0)


def _client_id(wire: str, value: object) -> str:
    return check_client_id(value, python_name(wire))


def _window_size(wire: str, value: object) -> str:
    match = _WINDOW_SIZE.fullmatch(value) if isinstance(value, str) else None
    if match is None or not 1 <= int(match.group(1)) <= _WINDOW_MAX[match.group(2)]:
        raise _invalid(wire, f"must be 1m-59m, 1h-23h or 1d-7d, got {value!r}")
    return match.group(0)


_Check: TypeAlias = Callable[[str, object], WireValue]

# First match wins, on the lower-cased wire name; every parameter of every typed method
# ends with one of these (tests/test_api.py checks it).
_CHECKS_BY_SUFFIX: tuple[tuple[str, _Check], ...] = (
    ("clientorderid", _client_id),
    ("recvwindow", _recv_window),
    ("symbols", _symbols),
    ("symbol", _symbol),
    ("permissions", _permissions),
    ("timezone", _time_zone),
    ("windowsize", _window_size),
    ("strategytype", _strategy_type),
    ("strategyid", _any_integer),
    ("pegoffsetvalue", _peg_offset_value),
    ("trailingdelta", _positive_integer),
    ("price", _amount),
    ("qty", _amount),
    ("quantity", _amount),
    ("type", _enum),
    ("side", _enum),
    ("timeinforce", _enum),
    ("interval", _enum),
    ("status", _enum),
    ("mode", _enum),
    ("restrictions", _enum),
    ("rates", _flag),
    ("balances", _flag),
    ("sets", _flag),
    ("id", _integer),
    ("time", _integer),
)

# Documented "Maximum" of each method's `limit` (the minimum is 1 everywhere).
_LIMIT_MAX: Mapping[str, int] = MappingProxyType(
    {
        "depth": 5000,
        "trades.recent": 1000,
        "trades.historical": 1000,
        "blockTrades.historical": 1000,
        "trades.aggregate": 1000,
        "klines": 1000,
        "uiKlines": 1000,
        "allOrders": 1000,
        "allOrderLists": 1000,
        "myTrades": 1000,
        "myPreventedMatches": 1000,
        "myAllocations": 1000,
        "order.amendments": 1000,
    }
)


def _check_for(method: str, wire: str) -> _Check:
    if wire == "limit":
        return functools.partial(_integer, minimum=1, maximum=_LIMIT_MAX[method])
    lowered = wire.lower()
    for suffix, check in _CHECKS_BY_SUFFIX:
        if lowered.endswith(suffix):
            return check
    raise AssertionError(f"no check for parameter {wire!r} of {method}")  # pragma: no cover


# Pure (the tables above are read-only), so caching changes no behaviour: it saves renaming
# and searching the suffixes for every argument of every call. Bounded: the typed methods
# have a few hundred (method, argument) pairs in all.
@functools.lru_cache(maxsize=2048)
def _parameter(method: str, name: str) -> tuple[str, _Check]:
    """The wire name of argument ``name`` of ``method``, and the check of its values."""
    wire = wire_name(name)
    return wire, _check_for(method, wire)


# --- rules across parameters, per method -------------------------------------------------

_Rule: TypeAlias = Callable[[Mapping[str, object]], None]


def _at_most_one(*names: str) -> _Rule:
    def rule(params: Mapping[str, object]) -> None:
        present = [name for name in names if name in params]
        if len(present) > 1:
            raise _invalid(present[1], f"cannot be combined with {python_name(present[0])!r}")

    return rule


def _at_least_one(*names: str) -> _Rule:
    def rule(params: Mapping[str, object]) -> None:
        if not any(name in params for name in names):
            others = " or ".join(repr(python_name(name)) for name in names[1:])
            raise _invalid(names[0], f"or {others} is required")

    return rule


def _exactly_one(*names: str) -> _Rule:
    at_least, at_most = _at_least_one(*names), _at_most_one(*names)

    def rule(params: Mapping[str, object]) -> None:
        at_least(params)
        at_most(params)

    return rule


def _not_with(name: str, *others: str) -> _Rule:
    def rule(params: Mapping[str, object]) -> None:
        for other in others:
            if name in params and other in params:
                raise _invalid(name, f"cannot be combined with {python_name(other)!r}")

    return rule


def _together(*names: str) -> _Rule:
    def rule(params: Mapping[str, object]) -> None:
        present = [name for name in names if name in params]
        if present and len(present) < len(names):
            missing = next(name for name in names if name not in params)
            raise _invalid(missing, f"is required with {python_name(present[0])!r}")

    return rule


def _one_of_values(name: str, *allowed: str) -> _Rule:
    def rule(params: Mapping[str, object]) -> None:
        if name in params and params[name] not in allowed:
            raise _invalid(name, f"must be one of {', '.join(allowed)}, got {params[name]!r}")

    return rule


def _iceberg_needs_gtc(iceberg: str, time_in_force: str) -> _Rule:
    # order.place: "An order with an icebergQty must have timeInForce set to GTC."
    def rule(params: Mapping[str, object]) -> None:
        if iceberg in params and params.get(time_in_force, "GTC") != "GTC":
            raise _invalid(time_in_force, f"must be GTC with {python_name(iceberg)!r}")

    return rule


_WORKING_TYPES = _one_of_values("workingType", "LIMIT", "LIMIT_MAKER")
_SOR_TYPES = _one_of_values("type", "LIMIT", "MARKET")  # "sor.order.place only supports ..."
_ORDER_ID = _at_least_one("orderId", "origClientOrderId")  # both: "orderId is searched first"
_SINGLE_OR_LIST = _at_most_one("symbol", "symbols")

# Each method's documented restrictions on combining parameters ("Notes" under its table).
_RULES: Mapping[str, tuple[_Rule, ...]] = MappingProxyType(
    {
        "exchangeInfo": (
            _at_most_one("symbol", "symbols", "permissions"),
            _not_with("symbolStatus", "symbol", "symbols"),
        ),
        "executionRules": (_at_most_one("symbol", "symbols", "symbolStatus"),),
        "trades.aggregate": (_not_with("fromId", "startTime", "endTime"),),
        "ticker.24hr": (_SINGLE_OR_LIST,),
        "ticker.tradingDay": (_exactly_one("symbol", "symbols"),),
        "ticker": (_exactly_one("symbol", "symbols"),),
        "ticker.price": (_SINGLE_OR_LIST,),
        "ticker.book": (_SINGLE_OR_LIST,),
        "order.cancel": (_ORDER_ID,),
        "order.cancelReplace": (_at_least_one("cancelOrderId", "cancelOrigClientOrderId"),),
        "order.amend.keepPriority": (_ORDER_ID,),
        "orderList.place": (
            _at_least_one("stopPrice", "trailingDelta"),
            _together("stopLimitPrice", "stopLimitTimeInForce"),
            _iceberg_needs_gtc("stopIcebergQty", "stopLimitTimeInForce"),
        ),
        "orderList.place.oto": (_WORKING_TYPES,),
        "orderList.place.otoco": (_WORKING_TYPES,),
        "orderList.place.opo": (_WORKING_TYPES,),
        "orderList.place.opoco": (_WORKING_TYPES,),
        "orderList.cancel": (_at_least_one("orderListId", "listClientOrderId"),),
        "sor.order.place": (_SOR_TYPES,),
        "sor.order.test": (_SOR_TYPES,),
        "order.status": (_ORDER_ID,),
        "orderList.status": (_at_least_one("orderListId", "origClientOrderId"),),
        "myTrades": (
            _not_with("fromId", "startTime", "endTime"),
            _not_with("orderId", "startTime", "endTime"),
        ),
        # "These are the combinations supported": symbol + preventedMatchId, or symbol +
        # orderId (+ fromPreventedMatchId (+ limit)).
        "myPreventedMatches": (
            _exactly_one("preventedMatchId", "orderId"),
            _not_with("preventedMatchId", "fromPreventedMatchId", "limit"),
        ),
        # "Supported parameter combinations": a time range, or by allocation id and/or order.
        "myAllocations": (
            _not_with("startTime", "fromAllocationId", "orderId"),
            _not_with("endTime", "fromAllocationId", "orderId"),
        ),
    }
)

# "The time between startTime and endTime can't be longer than 24 hours."
_DAY_MS = 24 * 60 * 60 * 1000
_MAX_SPAN_MS: Mapping[str, int] = MappingProxyType(
    {"allOrders": _DAY_MS, "allOrderLists": _DAY_MS, "myTrades": _DAY_MS, "myAllocations": _DAY_MS}
)


def _check_time_range(method: str, params: Mapping[str, object]) -> None:
    start, end = params.get("startTime"), params.get("endTime")
    if not (isinstance(start, int) and isinstance(end, int)):
        return
    if end < start:
        raise _invalid("endTime", f"({end}) is before start_time ({start})")
    span = _MAX_SPAN_MS.get(method)
    if span is not None and end - start > span:
        raise _invalid("endTime", "is more than 24 hours after start_time")


# --- parameters each order type makes mandatory ------------------------------------------

# web-socket-api.md, order.place, "Certain parameters (*) become mandatory based on the order
# type"; the order lists apply the same table to each leg ("Mandatory parameters based on
# pendingType or workingType"). Each requirement is met by any one of its alternatives.
_REQUIRED_BY_TYPE: Mapping[str, tuple[tuple[str, ...], ...]] = MappingProxyType(
    {
        "LIMIT": (("timeInForce",), ("price",), ("quantity",)),
        "LIMIT_MAKER": (("price",), ("quantity",)),
        "MARKET": (("quantity", "quoteOrderQty"),),
        "STOP_LOSS": (("quantity",), ("stopPrice", "trailingDelta")),
        "STOP_LOSS_LIMIT": (
            ("timeInForce",),
            ("price",),
            ("quantity",),
            ("stopPrice", "trailingDelta"),
        ),
        "TAKE_PROFIT": (("quantity",), ("stopPrice", "trailingDelta")),
        "TAKE_PROFIT_LIMIT": (
            ("timeInForce",),
            ("price",),
            ("quantity",),
            ("stopPrice", "trailingDelta"),
        ),
    }
)

# The orders each method places, as (parameter prefix, has its own quantity). OCO legs share
# `quantity`, OTOCO pending legs share `pendingQuantity`; OPO/OPOCO pending legs take theirs
# from the working order (their tables have no pending quantity).
_WORKING_THEN_OCO = (("working", True), ("pendingAbove", False), ("pendingBelow", False))
_ORDER_LEGS: Mapping[str, tuple[tuple[str, bool], ...]] = MappingProxyType(
    {
        "order.place": (("", True),),
        "order.test": (("", True),),
        "order.cancelReplace": (("", True),),
        "sor.order.place": (("", True),),
        "sor.order.test": (("", True),),
        "orderList.place.oco": (("above", False), ("below", False)),
        "orderList.place.oto": (("working", True), ("pending", True)),
        "orderList.place.otoco": (
            ("working", True),
            ("pendingAbove", False),
            ("pendingBelow", False),
        ),
        "orderList.place.opo": (("working", True), ("pending", False)),
        "orderList.place.opoco": (
            ("working", True),
            ("pendingAbove", False),
            ("pendingBelow", False),
        ),
    }
)


def _leg(prefix: str, name: str) -> str:
    """The wire name of parameter ``name`` of the leg ``prefix``: ``working`` + ``price``."""
    return prefix + name[0].upper() + name[1:] if prefix else name


class _LegCheck:
    """The order-type rules of one leg, with its wire names worked out once.

    Built for each entry of ``_ORDER_LEGS`` at import: a check then costs a few dict lookups
    (tests/test_api_fast_path.py holds it to the plain version over random orders).
    """

    __slots__ = (
        "_iceberg",
        "_iceberg_gtc",
        "_market_quantity",
        "_peg_offset_type",
        "_peg_offset_value",
        "_pegged",
        "_pegged_offset",
        "_required",
        "_required_pegged",
        "_type",
    )

    def __init__(self, prefix: str, *, own_quantity: bool) -> None:
        self._type = _leg(prefix, "type")
        # "If pegPriceType is specified, price becomes optional."
        self._pegged = _leg(prefix, "pegPriceType")
        required: dict[str, tuple[tuple[str, ...], ...]] = {}
        required_pegged: dict[str, tuple[tuple[str, ...], ...]] = {}
        for order_type, requirements in _REQUIRED_BY_TYPE.items():
            # Legs sharing the list's quantity are not asked for one of their own.
            kept = [
                alternatives
                for alternatives in requirements
                if own_quantity or "quantity" not in alternatives
            ]
            named = tuple(tuple(_leg(prefix, name) for name in names) for names in kept)
            required[order_type] = named
            required_pegged[order_type] = tuple(
                leg_names
                for names, leg_names in zip(kept, named, strict=True)
                if names[0] != "price"
            )
        self._required: Mapping[str, tuple[tuple[str, ...], ...]] = required
        self._required_pegged: Mapping[str, tuple[tuple[str, ...], ...]] = required_pegged
        self._market_quantity = _at_most_one(
            _leg(prefix, "quantity"), _leg(prefix, "quoteOrderQty")
        )
        # Pegged orders: "pegOffsetType and pegOffsetValue ... must be specified together."
        self._peg_offset_type = _leg(prefix, "pegOffsetType")
        self._peg_offset_value = _leg(prefix, "pegOffsetValue")
        self._pegged_offset = _together(self._peg_offset_type, self._peg_offset_value)
        self._iceberg = _leg(prefix, "icebergQty")
        self._iceberg_gtc = _iceberg_needs_gtc(self._iceberg, _leg(prefix, "timeInForce"))

    def __call__(self, params: Mapping[str, object]) -> None:
        order_type = str(params.get(self._type))
        table = self._required_pegged if self._pegged in params else self._required
        for names in table.get(order_type, ()):
            for name in names:
                if name in params:
                    break
            else:
                either = "".join(f" (or {python_name(name)!r})" for name in names[1:])
                raise _invalid(names[0], f"is required for a {order_type} order{either}")
        if order_type == "MARKET":
            self._market_quantity(params)
        # The two rules below only run where they could fail: most orders have neither.
        if (self._peg_offset_type in params) is not (self._peg_offset_value in params):
            self._pegged_offset(params)
        if self._iceberg in params:
            self._iceberg_gtc(params)


_LEG_CHECKS: Mapping[str, tuple[_LegCheck, ...]] = MappingProxyType(
    {
        method: tuple(_LegCheck(prefix, own_quantity=own) for prefix, own in legs)
        for method, legs in _ORDER_LEGS.items()
    }
)


def checked_params(method: str, arguments: Mapping[str, object]) -> CanonicalParams:
    """The wire parameters of a typed call to ``method``.

    Names become camelCase, ``None`` values are left out, every value is checked and made
    canonical, then the method's rules are applied. Raises ``InvalidParameter``.
    """
    checks = _method_checks(method)
    by_name = checks.parameters
    params = CanonicalParams()
    for name, value in arguments.items():
        if value is not None:
            wire, check = by_name.get(name) or _parameter(method, name)
            params[wire] = check(wire, value)
    for rule in checks.rules:
        rule(params)
    return params


class _MethodChecks:
    """What :func:`checked_params` applies to one method, looked up once per method.

    ``parameters``: the wire name and value check of each argument of the typed method;
    ``rules``: its rules across parameters, then each order leg's, then the time range (for
    methods that take one). tests/test_api_fast_path.py holds it to the plain version.
    """

    __slots__ = ("parameters", "rules")

    def __init__(self, method: str) -> None:
        names = _argument_names(method)
        self.parameters: Mapping[str, tuple[str, _Check]] = {
            name: _parameter(method, name) for name in names or ()
        }
        wires = {wire for wire, _ in self.parameters.values()}
        rules: list[_Rule] = [*_RULES.get(method, ()), *_LEG_CHECKS.get(method, ())]
        if names is None or {"startTime", "endTime"} <= wires:
            rules.append(functools.partial(_check_time_range, method))
        self.rules: tuple[_Rule, ...] = tuple(rules)


def _argument_names(method: str) -> tuple[str, ...] | None:
    """The keyword arguments of the typed method for ``method``; ``None`` if there is none."""
    python_method = API_METHODS.get(method)
    if python_method is None:
        return None
    signature = inspect.signature(getattr(ApiMethods, python_method))
    return tuple(
        name
        for name, parameter in signature.parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    )


# Pure and bounded (one entry per method the typed API calls).
@functools.lru_cache(maxsize=256)
def _method_checks(method: str) -> _MethodChecks:
    return _MethodChecks(method)


# --- order.cancelReplace errors ----------------------------------------------------------


class CancelReplaceError(ApiError):
    """``order.cancelReplace`` failed at least in part; both halves come decoded.

    ``cancel_response`` and ``new_order_response`` are ``OrderReport`` objects (``is_error``
    is true for a half that failed, with its ``code``/``msg``) or ``None`` for a half that
    was not attempted; ``cancel_result``/``new_order_result`` say ``SUCCESS``, ``FAILURE``
    or ``NOT_ATTEMPTED``.
    """

    response: CancelReplaceResponse

    @property
    def cancel_result(self) -> CancelReplaceResult:
        return self.response.cancel_result

    @property
    def new_order_result(self) -> CancelReplaceResult:
        return self.response.new_order_result

    @property
    def cancel_response(self) -> OrderReport | None:
        return self.response.cancel_response

    @property
    def new_order_response(self) -> OrderReport | None:
        return self.response.new_order_response


class CancelReplacePartiallyFailed(CancelReplaceError, PartialSuccess):
    """409 (-2021): one half of ``order.cancelReplace`` succeeded and the other failed.

    The successful half was executed: an order was cancelled, or a new one placed. Spec:
    web-socket-api.md, "Cancel and replace order", responses with ``"status": 409``.
    """


class CancelReplaceFailed(CancelReplaceError, BadRequest):
    """400 (-2022): neither half of ``order.cancelReplace`` took effect; ``data`` says why."""


def _with_halves(error: ApiError) -> CancelReplaceError | None:
    """``error`` re-raised with both halves decoded, or ``None`` when it has none."""
    if isinstance(error, PartialSuccess):
        kind: type[CancelReplaceError] = CancelReplacePartiallyFailed
    elif isinstance(error, BadRequest):
        kind = CancelReplaceFailed
    else:
        return None
    try:
        response = msgspec.convert(error.data, CancelReplaceResponse)
    except msgspec.ValidationError:
        return None  # a 400 for bad parameters carries no halves
    decoded = kind(
        error.status,
        error.code,
        error.msg,
        data=error.data,
        rate_limits=error.rate_limits,
        method=error.method,
    )
    decoded.response = response
    return decoded


# --- the typed API -----------------------------------------------------------------------

API_METHODS: Mapping[str, str] = MappingProxyType(
    {
        "ping": "ping",
        "time": "server_time",
        "exchangeInfo": "exchange_info",
        "executionRules": "execution_rules",
        "depth": "depth",
        "trades.recent": "recent_trades",
        "trades.historical": "historical_trades",
        "blockTrades.historical": "historical_block_trades",
        "trades.aggregate": "aggregate_trades",
        "klines": "klines",
        "uiKlines": "ui_klines",
        "avgPrice": "average_price",
        "ticker.24hr": "ticker_24hr",
        "ticker.tradingDay": "trading_day_ticker",
        "ticker": "ticker",
        "ticker.price": "price_ticker",
        "ticker.book": "book_ticker",
        "referencePrice": "reference_price",
        "referencePrice.calculation": "reference_price_calculation",
        "session.logon": "logon",
        "session.status": "session_status",
        "session.logout": "logout",
        "order.place": "place_order",
        "order.test": "test_order",
        "order.cancel": "cancel_order",
        "order.cancelReplace": "cancel_replace_order",
        "order.amend.keepPriority": "amend_order_keep_priority",
        "openOrders.cancelAll": "cancel_open_orders",
        "orderList.place": "place_oco_legacy",
        "orderList.place.oco": "place_oco",
        "orderList.place.oto": "place_oto",
        "orderList.place.otoco": "place_otoco",
        "orderList.place.opo": "place_opo",
        "orderList.place.opoco": "place_opoco",
        "orderList.cancel": "cancel_order_list",
        "sor.order.place": "place_sor_order",
        "sor.order.test": "test_sor_order",
        "account.status": "account_status",
        "order.status": "order_status",
        "openOrders.status": "open_orders",
        "allOrders": "all_orders",
        "orderList.status": "order_list_status",
        "openOrderLists.status": "open_order_lists",
        "allOrderLists": "all_order_lists",
        "myTrades": "my_trades",
        "account.rateLimits.orders": "order_rate_limits",
        "myPreventedMatches": "prevented_matches",
        "myAllocations": "allocations",
        "account.commission": "account_commission",
        "order.amendments": "order_amendments",
        "myFilters": "relevant_filters",
        "userDataStream.subscribe": "subscribe_user_data",
        "userDataStream.unsubscribe": "unsubscribe_user_data",
        "session.subscriptions": "user_data_subscriptions",
        "userDataStream.subscribe.signature": "subscribe_user_data_signature",
    }
)
"""Wire method name -> the coroutine of :class:`ApiMethods` that sends it."""


class ApiMethods:
    """Mixed into :class:`~trio_binance.Session`: one typed coroutine per documented method.

    Each checks its arguments (``InvalidParameter`` names the first bad one; nothing is sent
    then), sends through :meth:`request` and returns the decoded result. Errors from the
    exchange and from the connection are those of ``request``.
    """

    _client_order_id_prefix = ""

    if TYPE_CHECKING:

        async def request(
            self,
            method: str,
            params: Mapping[str, object] | None = None,
            *,
            result_type: type[T],
            signed: bool = False,
        ) -> T: ...

    @property
    def client_order_id_prefix(self) -> str:
        """Starts every client order id this session generates (at most 16 characters of
        ``[.A-Z:/a-z0-9_-]``); empty by default."""
        return self._client_order_id_prefix

    @client_order_id_prefix.setter
    def client_order_id_prefix(self, prefix: str) -> None:
        self._client_order_id_prefix = check_client_id_prefix(prefix)

    async def _call(self, method: str, result_type: type[T], /, **arguments: object) -> T:
        """Every typed call: checked, then given every client order id it lacks (order
        placing and cancelling methods), so an ``OutcomeUnknown`` error always names the
        orders to look up."""
        params = checked_params(method, arguments)
        add_client_ids(method, params, self._client_order_id_prefix)
        return await self.request(method, params, result_type=result_type, signed=is_signed(method))

    # --- general requests ---------------------------------------------------------------

    async def ping(self) -> Empty:
        """Test connectivity (``ping``).

        Weight 1; security NONE.
        """
        return await self._call("ping", Empty)

    async def server_time(self) -> ServerTime:
        """The exchange's clock in epoch milliseconds (``time``).

        Weight 1; security NONE.
        """
        return await self._call("time", ServerTime)

    async def exchange_info(
        self,
        *,
        symbol: str | None = None,
        symbols: Sequence[str] | None = None,
        permissions: Permission | str | Sequence[Permission | str] | None = None,
        show_permission_sets: bool | None = None,
        symbol_status: SymbolStatus | str | None = None,
    ) -> ExchangeInfo:
        """Trading rules, rate limits and symbols (``exchangeInfo``).

        Weight 20; security NONE. ``InvalidParameter`` when more than one of ``symbol``,
        ``symbols`` and ``permissions`` is given, or ``symbol_status`` with a symbol.
        """
        return await self._call(
            "exchangeInfo",
            ExchangeInfo,
            symbol=symbol,
            symbols=symbols,
            permissions=permissions,
            show_permission_sets=show_permission_sets,
            symbol_status=symbol_status,
        )

    async def execution_rules(
        self,
        *,
        symbol: str | None = None,
        symbols: Sequence[str] | None = None,
        symbol_status: SymbolStatus | str | None = None,
    ) -> ExecutionRules:
        """Execution rules (price ranges) of one, several or all symbols (``executionRules``).

        Weight 2 per symbol (at most 40); 40 by symbol_status or for all symbols; security
        NONE. ``InvalidParameter`` when more than one of the three parameters is given.
        """
        return await self._call(
            "executionRules",
            ExecutionRules,
            symbol=symbol,
            symbols=symbols,
            symbol_status=symbol_status,
        )

    # --- market data requests -----------------------------------------------------------

    async def depth(
        self,
        *,
        symbol: str,
        limit: int | None = None,
        symbol_status: SymbolStatus | str | None = None,
    ) -> OrderBook:
        """The order book of ``symbol``, ``limit`` levels a side (default 100) (``depth``).

        Weight 5, 25, 50 or 250 for a limit up to 100, 500, 1000 or 5000; security NONE.
        ``InvalidParameter`` for an empty symbol or a limit outside 1–5000.
        """
        return await self._call(
            "depth", OrderBook, symbol=symbol, limit=limit, symbol_status=symbol_status
        )

    async def recent_trades(self, *, symbol: str, limit: int | None = None) -> list[Trade]:
        """The latest trades of ``symbol`` (``trades.recent``).

        Weight 25; security NONE. ``InvalidParameter`` for a limit outside 1–1000.
        """
        return await self._call("trades.recent", list[Trade], symbol=symbol, limit=limit)

    async def historical_trades(
        self, *, symbol: str, from_id: int | None = None, limit: int | None = None
    ) -> list[Trade]:
        """Older trades of ``symbol``, from trade id ``from_id`` (``trades.historical``).

        Weight 25; security NONE. ``InvalidParameter`` for a negative id or a limit outside
        1–1000.
        """
        return await self._call(
            "trades.historical", list[Trade], symbol=symbol, from_id=from_id, limit=limit
        )

    async def historical_block_trades(
        self, *, symbol: str, from_id: int, limit: int | None = None
    ) -> list[Trade]:
        """Block trades of ``symbol`` from block trade id ``from_id`` (``blockTrades.historical``).

        Weight 25; security NONE. ``InvalidParameter`` for a negative id or a limit outside
        1–1000.
        """
        return await self._call(
            "blockTrades.historical", list[Trade], symbol=symbol, from_id=from_id, limit=limit
        )

    async def aggregate_trades(
        self,
        *,
        symbol: str,
        from_id: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        limit: int | None = None,
    ) -> list[AggregateTrade]:
        """Aggregate trades of ``symbol``, by id or by time (``trades.aggregate``).

        Weight 4; security NONE. ``InvalidParameter`` for ``from_id`` with a time bound,
        ``end_time`` before ``start_time`` or a limit outside 1–1000.
        """
        return await self._call(
            "trades.aggregate",
            list[AggregateTrade],
            symbol=symbol,
            from_id=from_id,
            start_time=start_time,
            end_time=end_time,
            limit=limit,
        )

    async def klines(
        self,
        *,
        symbol: str,
        interval: KlineInterval | str,
        start_time: int | None = None,
        end_time: int | None = None,
        time_zone: str | None = None,
        limit: int | None = None,
    ) -> list[Kline]:
        """Candlesticks of ``symbol`` (``klines``).

        Weight 2; security NONE. ``InvalidParameter`` for a time zone outside -12:00..+14:00,
        ``end_time`` before ``start_time`` or a limit outside 1–1000.
        """
        return await self._call(
            "klines",
            list[Kline],
            symbol=symbol,
            interval=interval,
            start_time=start_time,
            end_time=end_time,
            time_zone=time_zone,
            limit=limit,
        )

    async def ui_klines(
        self,
        *,
        symbol: str,
        interval: KlineInterval | str,
        start_time: int | None = None,
        end_time: int | None = None,
        time_zone: str | None = None,
        limit: int | None = None,
    ) -> list[Kline]:
        """Candlesticks of ``symbol`` tuned for charts (``uiKlines``).

        Weight 2; security NONE. ``InvalidParameter`` as for :meth:`klines`.
        """
        return await self._call(
            "uiKlines",
            list[Kline],
            symbol=symbol,
            interval=interval,
            start_time=start_time,
            end_time=end_time,
            time_zone=time_zone,
            limit=limit,
        )

    async def average_price(self, *, symbol: str) -> AveragePrice:
        """The current average price of ``symbol`` (``avgPrice``).

        Weight 2; security NONE. ``InvalidParameter`` for an empty symbol.
        """
        return await self._call("avgPrice", AveragePrice, symbol=symbol)

    async def ticker_24hr(
        self,
        *,
        symbol: str | None = None,
        symbols: Sequence[str] | None = None,
        type: TickerType | None = None,
        symbol_status: SymbolStatus | str | None = None,
    ) -> Ticker24hr | list[Ticker24hr]:
        """24-hour price statistics: one ticker for ``symbol``, a list otherwise
        (``ticker.24hr``).

        Weight 2 for 1–20 symbols, 40 for 21–100, 80 for more or for all symbols; security
        NONE. ``InvalidParameter`` for ``symbol`` with ``symbols``.
        """
        arguments = {"symbol": symbol, "symbols": symbols, "symbol_status": symbol_status}
        if symbol is not None:
            return await self._call("ticker.24hr", Ticker24hr, type=type, **arguments)
        return await self._call("ticker.24hr", list[Ticker24hr], type=type, **arguments)

    async def trading_day_ticker(
        self,
        *,
        symbol: str | None = None,
        symbols: Sequence[str] | None = None,
        time_zone: str | None = None,
        type: TickerType | None = None,
        symbol_status: SymbolStatus | str | None = None,
    ) -> RollingWindowTicker | list[RollingWindowTicker]:
        """Price statistics of the trading day: one ticker for ``symbol``, a list for
        ``symbols`` (``ticker.tradingDay``).

        Weight 4 per symbol, at most 200; security NONE. ``InvalidParameter`` unless exactly
        one of ``symbol`` and ``symbols`` is given.
        """
        arguments = {"symbol": symbol, "symbols": symbols, "symbol_status": symbol_status}
        method = "ticker.tradingDay"
        if symbol is not None:
            return await self._call(
                method, RollingWindowTicker, time_zone=time_zone, type=type, **arguments
            )
        return await self._call(
            method, list[RollingWindowTicker], time_zone=time_zone, type=type, **arguments
        )

    async def ticker(
        self,
        *,
        symbol: str | None = None,
        symbols: Sequence[str] | None = None,
        type: TickerType | None = None,
        window_size: str | None = None,
        symbol_status: SymbolStatus | str | None = None,
    ) -> RollingWindowTicker | list[RollingWindowTicker]:
        """Price statistics over a rolling ``window_size`` (``"15m"``, ``"4h"``, ``"7d"``;
        default 1d): one ticker for ``symbol``, a list for ``symbols`` (``ticker``).

        Weight 4 per symbol, at most 200; security NONE. ``InvalidParameter`` unless exactly
        one of ``symbol`` and ``symbols`` is given, or for a window outside 1m..7d.
        """
        arguments = {"symbol": symbol, "symbols": symbols, "symbol_status": symbol_status}
        if symbol is not None:
            return await self._call(
                "ticker", RollingWindowTicker, type=type, window_size=window_size, **arguments
            )
        return await self._call(
            "ticker", list[RollingWindowTicker], type=type, window_size=window_size, **arguments
        )

    async def price_ticker(
        self,
        *,
        symbol: str | None = None,
        symbols: Sequence[str] | None = None,
        symbol_status: SymbolStatus | str | None = None,
    ) -> PriceTicker | list[PriceTicker]:
        """The latest price: one for ``symbol``, a list otherwise (``ticker.price``).

        Weight 2 for one symbol, 4 for several or all; security NONE. ``InvalidParameter``
        for ``symbol`` with ``symbols``.
        """
        arguments = {"symbol": symbol, "symbols": symbols, "symbol_status": symbol_status}
        if symbol is not None:
            return await self._call("ticker.price", PriceTicker, **arguments)
        return await self._call("ticker.price", list[PriceTicker], **arguments)

    async def book_ticker(
        self,
        *,
        symbol: str | None = None,
        symbols: Sequence[str] | None = None,
        symbol_status: SymbolStatus | str | None = None,
    ) -> BookTicker | list[BookTicker]:
        """Best bid and ask: one for ``symbol``, a list otherwise (``ticker.book``).

        Weight 2 for one symbol, 4 for several or all; security NONE. ``InvalidParameter``
        for ``symbol`` with ``symbols``.
        """
        arguments = {"symbol": symbol, "symbols": symbols, "symbol_status": symbol_status}
        if symbol is not None:
            return await self._call("ticker.book", BookTicker, **arguments)
        return await self._call("ticker.book", list[BookTicker], **arguments)

    async def reference_price(self, *, symbol: str) -> ReferencePrice:
        """The reference price of ``symbol`` (``referencePrice``).

        Weight 2; security NONE. ``InvalidParameter`` for an empty symbol.
        """
        return await self._call("referencePrice", ReferencePrice, symbol=symbol)

    async def reference_price_calculation(
        self, *, symbol: str, symbol_status: SymbolStatus | str | None = None
    ) -> ReferencePriceCalculation:
        """How the reference price of ``symbol`` is computed (``referencePrice.calculation``).

        Weight 2; security NONE. ``InvalidParameter`` for an empty symbol.
        """
        return await self._call(
            "referencePrice.calculation",
            ReferencePriceCalculation,
            symbol=symbol,
            symbol_status=symbol_status,
        )

    # --- authentication requests --------------------------------------------------------

    async def logon(self, *, recv_window: RecvWindow | None = None) -> SessionStatus:
        """Authenticate the connection with the session's key (``session.logon``, signed).

        Weight 2; security NONE. ``InvalidParameter`` for a recv_window above 60000 ms.
        """
        return await self._call("session.logon", SessionStatus, recv_window=recv_window)

    async def session_status(self) -> SessionStatus:
        """Which API key, if any, authenticates the connection (``session.status``).

        Weight 2; security NONE.
        """
        return await self._call("session.status", SessionStatus)

    async def logout(self) -> SessionStatus:
        """Forget the API key the connection logged on with (``session.logout``).

        Weight 2; security NONE.
        """
        return await self._call("session.logout", SessionStatus)

    # --- trading requests ---------------------------------------------------------------

    async def place_order(
        self,
        *,
        symbol: str,
        side: Side | str,
        type: OrderType | str,
        time_in_force: TimeInForce | str | None = None,
        price: Amount | None = None,
        quantity: Amount | None = None,
        quote_order_qty: Amount | None = None,
        new_client_order_id: str | None = None,
        new_order_resp_type: OrderResponseType | str | None = None,
        stop_price: Amount | None = None,
        trailing_delta: int | None = None,
        iceberg_qty: Amount | None = None,
        strategy_id: int | None = None,
        strategy_type: int | None = None,
        self_trade_prevention_mode: SelfTradePreventionMode | str | None = None,
        peg_price_type: PegPriceType | str | None = None,
        peg_offset_value: int | None = None,
        peg_offset_type: PegOffsetType | str | None = None,
        recv_window: RecvWindow | None = None,
    ) -> OrderResult:
        """Place an order (``order.place``); ``new_client_order_id`` is generated if not given.

        Weight 1 (0 when it succeeds); security TRADE. ``InvalidParameter`` for a parameter
        its ``type`` makes mandatory missing, ``quantity`` with ``quote_order_qty``, an
        amount that is not above zero or a malformed client order id.
        """
        return await self._call(
            "order.place",
            OrderResult,
            symbol=symbol,
            side=side,
            type=type,
            time_in_force=time_in_force,
            price=price,
            quantity=quantity,
            quote_order_qty=quote_order_qty,
            new_client_order_id=new_client_order_id,
            new_order_resp_type=new_order_resp_type,
            stop_price=stop_price,
            trailing_delta=trailing_delta,
            iceberg_qty=iceberg_qty,
            strategy_id=strategy_id,
            strategy_type=strategy_type,
            self_trade_prevention_mode=self_trade_prevention_mode,
            peg_price_type=peg_price_type,
            peg_offset_value=peg_offset_value,
            peg_offset_type=peg_offset_type,
            recv_window=recv_window,
        )

    async def test_order(
        self,
        *,
        symbol: str,
        side: Side | str,
        type: OrderType | str,
        time_in_force: TimeInForce | str | None = None,
        price: Amount | None = None,
        quantity: Amount | None = None,
        quote_order_qty: Amount | None = None,
        new_client_order_id: str | None = None,
        new_order_resp_type: OrderResponseType | str | None = None,
        stop_price: Amount | None = None,
        trailing_delta: int | None = None,
        iceberg_qty: Amount | None = None,
        strategy_id: int | None = None,
        strategy_type: int | None = None,
        self_trade_prevention_mode: SelfTradePreventionMode | str | None = None,
        peg_price_type: PegPriceType | str | None = None,
        peg_offset_value: int | None = None,
        peg_offset_type: PegOffsetType | str | None = None,
        compute_commission_rates: bool | None = None,
        recv_window: RecvWindow | None = None,
    ) -> TestOrderResult:
        """Validate an order without placing it (``order.test``).

        Weight 1; 20 with compute_commission_rates; security TRADE. ``InvalidParameter`` as
        for :meth:`place_order`.
        """
        return await self._call(
            "order.test",
            TestOrderResult,
            symbol=symbol,
            side=side,
            type=type,
            time_in_force=time_in_force,
            price=price,
            quantity=quantity,
            quote_order_qty=quote_order_qty,
            new_client_order_id=new_client_order_id,
            new_order_resp_type=new_order_resp_type,
            stop_price=stop_price,
            trailing_delta=trailing_delta,
            iceberg_qty=iceberg_qty,
            strategy_id=strategy_id,
            strategy_type=strategy_type,
            self_trade_prevention_mode=self_trade_prevention_mode,
            peg_price_type=peg_price_type,
            peg_offset_value=peg_offset_value,
            peg_offset_type=peg_offset_type,
            compute_commission_rates=compute_commission_rates,
            recv_window=recv_window,
        )

    async def cancel_order(
        self,
        *,
        symbol: str,
        order_id: int | None = None,
        orig_client_order_id: str | None = None,
        new_client_order_id: str | None = None,
        cancel_restrictions: CancelRestrictions | str | None = None,
        recv_window: RecvWindow | None = None,
    ) -> OrderReport:
        """Cancel an order, or the whole order list it belongs to (``order.cancel``).

        Weight 1 (0 when it succeeds); security TRADE. ``InvalidParameter`` unless
        ``order_id`` or ``orig_client_order_id`` is given.
        """
        return await self._call(
            "order.cancel",
            OrderReport,
            symbol=symbol,
            order_id=order_id,
            orig_client_order_id=orig_client_order_id,
            new_client_order_id=new_client_order_id,
            cancel_restrictions=cancel_restrictions,
            recv_window=recv_window,
        )

    async def cancel_replace_order(
        self,
        *,
        symbol: str,
        cancel_replace_mode: CancelReplaceMode | str,
        side: Side | str,
        type: OrderType | str,
        cancel_order_id: int | None = None,
        cancel_orig_client_order_id: str | None = None,
        cancel_new_client_order_id: str | None = None,
        time_in_force: TimeInForce | str | None = None,
        price: Amount | None = None,
        quantity: Amount | None = None,
        quote_order_qty: Amount | None = None,
        new_client_order_id: str | None = None,
        new_order_resp_type: OrderResponseType | str | None = None,
        stop_price: Amount | None = None,
        trailing_delta: int | None = None,
        iceberg_qty: Amount | None = None,
        strategy_id: int | None = None,
        strategy_type: int | None = None,
        self_trade_prevention_mode: SelfTradePreventionMode | str | None = None,
        cancel_restrictions: CancelRestrictions | str | None = None,
        order_rate_limit_exceeded_mode: OrderRateLimitExceededMode | str | None = None,
        peg_price_type: PegPriceType | str | None = None,
        peg_offset_value: int | None = None,
        peg_offset_type: PegOffsetType | str | None = None,
        recv_window: RecvWindow | None = None,
    ) -> CancelReplaceResponse:
        """Cancel an order and place a new one in its place (``order.cancelReplace``).

        Weight 1 (0 when it succeeds); security TRADE. ``InvalidParameter`` unless
        ``cancel_order_id`` or ``cancel_orig_client_order_id`` is given, and as for
        :meth:`place_order`. Not transactional: a 409 raises
        :class:`CancelReplacePartiallyFailed` and a 400 whose halves are known raises
        :class:`CancelReplaceFailed`, both with ``cancel_response`` and
        ``new_order_response`` decoded.
        """
        try:
            return await self._call(
                "order.cancelReplace",
                CancelReplaceResponse,
                symbol=symbol,
                cancel_replace_mode=cancel_replace_mode,
                cancel_order_id=cancel_order_id,
                cancel_orig_client_order_id=cancel_orig_client_order_id,
                cancel_new_client_order_id=cancel_new_client_order_id,
                side=side,
                type=type,
                time_in_force=time_in_force,
                price=price,
                quantity=quantity,
                quote_order_qty=quote_order_qty,
                new_client_order_id=new_client_order_id,
                new_order_resp_type=new_order_resp_type,
                stop_price=stop_price,
                trailing_delta=trailing_delta,
                iceberg_qty=iceberg_qty,
                strategy_id=strategy_id,
                strategy_type=strategy_type,
                self_trade_prevention_mode=self_trade_prevention_mode,
                cancel_restrictions=cancel_restrictions,
                order_rate_limit_exceeded_mode=order_rate_limit_exceeded_mode,
                peg_price_type=peg_price_type,
                peg_offset_value=peg_offset_value,
                peg_offset_type=peg_offset_type,
                recv_window=recv_window,
            )
        except (PartialSuccess, BadRequest) as error:
            decoded = _with_halves(error)
            if decoded is None:
                raise
            raise decoded from None

    async def amend_order_keep_priority(
        self,
        *,
        symbol: str,
        new_qty: Amount,
        order_id: int | None = None,
        orig_client_order_id: str | None = None,
        new_client_order_id: str | None = None,
        recv_window: RecvWindow | None = None,
    ) -> AmendResult:
        """Reduce an open order's quantity, keeping its place in the book
        (``order.amend.keepPriority``).

        Weight 4 (0 when the amendment expires the order); security TRADE.
        ``InvalidParameter`` unless ``order_id`` or ``orig_client_order_id`` is given, or for
        a new_qty that is not above zero.
        """
        return await self._call(
            "order.amend.keepPriority",
            AmendResult,
            symbol=symbol,
            order_id=order_id,
            orig_client_order_id=orig_client_order_id,
            new_client_order_id=new_client_order_id,
            new_qty=new_qty,
            recv_window=recv_window,
        )

    async def cancel_open_orders(
        self, *, symbol: str, recv_window: RecvWindow | None = None
    ) -> list[OrderReport]:
        """Cancel every open order and order list on ``symbol`` (``openOrders.cancelAll``).

        Weight 1 (0 when it succeeds); security TRADE. ``InvalidParameter`` for an empty
        symbol.
        """
        return await self._call(
            "openOrders.cancelAll", list[OrderReport], symbol=symbol, recv_window=recv_window
        )

    async def place_oco_legacy(
        self,
        *,
        symbol: str,
        side: Side | str,
        price: Amount,
        quantity: Amount,
        stop_price: Amount | None = None,
        trailing_delta: int | None = None,
        list_client_order_id: str | None = None,
        limit_client_order_id: str | None = None,
        limit_iceberg_qty: Amount | None = None,
        limit_strategy_id: int | None = None,
        limit_strategy_type: int | None = None,
        stop_client_order_id: str | None = None,
        stop_limit_price: Amount | None = None,
        stop_limit_time_in_force: TimeInForce | str | None = None,
        stop_iceberg_qty: Amount | None = None,
        stop_strategy_id: int | None = None,
        stop_strategy_type: int | None = None,
        new_order_resp_type: OrderResponseType | str | None = None,
        self_trade_prevention_mode: SelfTradePreventionMode | str | None = None,
        recv_window: RecvWindow | None = None,
    ) -> OrderListResult:
        """Place an OCO with the deprecated ``orderList.place``; prefer :meth:`place_oco`.

        Weight 1 (0 when it succeeds); security TRADE. Warns ``DeprecationWarning``.
        ``InvalidParameter`` unless ``stop_price`` or ``trailing_delta`` is given, or for
        ``stop_limit_price`` without ``stop_limit_time_in_force`` (and the reverse).
        """
        warnings.warn(
            "orderList.place is deprecated by Binance; use place_oco (orderList.place.oco)",
            DeprecationWarning,
            stacklevel=2,
        )
        return await self._call(
            "orderList.place",
            OrderListResult,
            symbol=symbol,
            side=side,
            price=price,
            quantity=quantity,
            list_client_order_id=list_client_order_id,
            limit_client_order_id=limit_client_order_id,
            limit_iceberg_qty=limit_iceberg_qty,
            limit_strategy_id=limit_strategy_id,
            limit_strategy_type=limit_strategy_type,
            stop_price=stop_price,
            trailing_delta=trailing_delta,
            stop_client_order_id=stop_client_order_id,
            stop_limit_price=stop_limit_price,
            stop_limit_time_in_force=stop_limit_time_in_force,
            stop_iceberg_qty=stop_iceberg_qty,
            stop_strategy_id=stop_strategy_id,
            stop_strategy_type=stop_strategy_type,
            new_order_resp_type=new_order_resp_type,
            self_trade_prevention_mode=self_trade_prevention_mode,
            recv_window=recv_window,
        )

    async def place_oco(
        self,
        *,
        symbol: str,
        side: Side | str,
        quantity: Amount,
        above_type: OrderType | str,
        below_type: OrderType | str,
        list_client_order_id: str | None = None,
        above_client_order_id: str | None = None,
        above_iceberg_qty: Amount | None = None,
        above_price: Amount | None = None,
        above_stop_price: Amount | None = None,
        above_trailing_delta: int | None = None,
        above_time_in_force: TimeInForce | str | None = None,
        above_strategy_id: int | None = None,
        above_strategy_type: int | None = None,
        above_peg_price_type: PegPriceType | str | None = None,
        above_peg_offset_type: PegOffsetType | str | None = None,
        above_peg_offset_value: int | None = None,
        below_client_order_id: str | None = None,
        below_iceberg_qty: Amount | None = None,
        below_price: Amount | None = None,
        below_stop_price: Amount | None = None,
        below_trailing_delta: int | None = None,
        below_time_in_force: TimeInForce | str | None = None,
        below_strategy_id: int | None = None,
        below_strategy_type: int | None = None,
        below_peg_price_type: PegPriceType | str | None = None,
        below_peg_offset_type: PegOffsetType | str | None = None,
        below_peg_offset_value: int | None = None,
        new_order_resp_type: OrderResponseType | str | None = None,
        self_trade_prevention_mode: SelfTradePreventionMode | str | None = None,
        recv_window: RecvWindow | None = None,
    ) -> OrderListResult:
        """Place a one-cancels-the-other pair (``orderList.place.oco``).

        Weight 1 (0 when it succeeds); security TRADE. ``InvalidParameter`` when a leg lacks
        what its type makes mandatory (e.g. ``below_stop_price`` or ``below_trailing_delta``
        for a STOP_LOSS leg).
        """
        return await self._call(
            "orderList.place.oco",
            OrderListResult,
            symbol=symbol,
            side=side,
            quantity=quantity,
            list_client_order_id=list_client_order_id,
            above_type=above_type,
            above_client_order_id=above_client_order_id,
            above_iceberg_qty=above_iceberg_qty,
            above_price=above_price,
            above_stop_price=above_stop_price,
            above_trailing_delta=above_trailing_delta,
            above_time_in_force=above_time_in_force,
            above_strategy_id=above_strategy_id,
            above_strategy_type=above_strategy_type,
            above_peg_price_type=above_peg_price_type,
            above_peg_offset_type=above_peg_offset_type,
            above_peg_offset_value=above_peg_offset_value,
            below_type=below_type,
            below_client_order_id=below_client_order_id,
            below_iceberg_qty=below_iceberg_qty,
            below_price=below_price,
            below_stop_price=below_stop_price,
            below_trailing_delta=below_trailing_delta,
            below_time_in_force=below_time_in_force,
            below_strategy_id=below_strategy_id,
            below_strategy_type=below_strategy_type,
            below_peg_price_type=below_peg_price_type,
            below_peg_offset_type=below_peg_offset_type,
            below_peg_offset_value=below_peg_offset_value,
            new_order_resp_type=new_order_resp_type,
            self_trade_prevention_mode=self_trade_prevention_mode,
            recv_window=recv_window,
        )

    async def place_oto(
        self,
        *,
        symbol: str,
        working_type: OrderType | str,
        working_side: Side | str,
        working_price: Amount,
        working_quantity: Amount,
        pending_type: OrderType | str,
        pending_side: Side | str,
        pending_quantity: Amount,
        list_client_order_id: str | None = None,
        new_order_resp_type: OrderResponseType | str | None = None,
        self_trade_prevention_mode: SelfTradePreventionMode | str | None = None,
        working_client_order_id: str | None = None,
        working_iceberg_qty: Amount | None = None,
        working_time_in_force: TimeInForce | str | None = None,
        working_strategy_id: int | None = None,
        working_strategy_type: int | None = None,
        working_peg_price_type: PegPriceType | str | None = None,
        working_peg_offset_type: PegOffsetType | str | None = None,
        working_peg_offset_value: int | None = None,
        pending_client_order_id: str | None = None,
        pending_price: Amount | None = None,
        pending_stop_price: Amount | None = None,
        pending_trailing_delta: int | None = None,
        pending_iceberg_qty: Amount | None = None,
        pending_time_in_force: TimeInForce | str | None = None,
        pending_strategy_id: int | None = None,
        pending_strategy_type: int | None = None,
        pending_peg_price_type: PegPriceType | str | None = None,
        pending_peg_offset_type: PegOffsetType | str | None = None,
        pending_peg_offset_value: int | None = None,
        recv_window: RecvWindow | None = None,
    ) -> OrderListResult:
        """Place a one-triggers-the-other list: a working order whose fill places the
        pending order (``orderList.place.oto``).

        Weight 1 (0 when it succeeds); security TRADE. ``InvalidParameter`` for a working
        type other than LIMIT or LIMIT_MAKER, or a leg lacking what its type makes mandatory.
        """
        return await self._call(
            "orderList.place.oto",
            OrderListResult,
            symbol=symbol,
            list_client_order_id=list_client_order_id,
            new_order_resp_type=new_order_resp_type,
            self_trade_prevention_mode=self_trade_prevention_mode,
            working_type=working_type,
            working_side=working_side,
            working_client_order_id=working_client_order_id,
            working_price=working_price,
            working_quantity=working_quantity,
            working_iceberg_qty=working_iceberg_qty,
            working_time_in_force=working_time_in_force,
            working_strategy_id=working_strategy_id,
            working_strategy_type=working_strategy_type,
            working_peg_price_type=working_peg_price_type,
            working_peg_offset_type=working_peg_offset_type,
            working_peg_offset_value=working_peg_offset_value,
            pending_type=pending_type,
            pending_side=pending_side,
            pending_client_order_id=pending_client_order_id,
            pending_price=pending_price,
            pending_stop_price=pending_stop_price,
            pending_trailing_delta=pending_trailing_delta,
            pending_quantity=pending_quantity,
            pending_iceberg_qty=pending_iceberg_qty,
            pending_time_in_force=pending_time_in_force,
            pending_strategy_id=pending_strategy_id,
            pending_strategy_type=pending_strategy_type,
            pending_peg_price_type=pending_peg_price_type,
            pending_peg_offset_type=pending_peg_offset_type,
            pending_peg_offset_value=pending_peg_offset_value,
            recv_window=recv_window,
        )

    async def place_otoco(
        self,
        *,
        symbol: str,
        working_type: OrderType | str,
        working_side: Side | str,
        working_price: Amount,
        working_quantity: Amount,
        pending_side: Side | str,
        pending_quantity: Amount,
        pending_above_type: OrderType | str,
        pending_below_type: OrderType | str | None = None,
        list_client_order_id: str | None = None,
        new_order_resp_type: OrderResponseType | str | None = None,
        self_trade_prevention_mode: SelfTradePreventionMode | str | None = None,
        working_client_order_id: str | None = None,
        working_iceberg_qty: Amount | None = None,
        working_time_in_force: TimeInForce | str | None = None,
        working_strategy_id: int | None = None,
        working_strategy_type: int | None = None,
        working_peg_price_type: PegPriceType | str | None = None,
        working_peg_offset_type: PegOffsetType | str | None = None,
        working_peg_offset_value: int | None = None,
        pending_above_client_order_id: str | None = None,
        pending_above_price: Amount | None = None,
        pending_above_stop_price: Amount | None = None,
        pending_above_trailing_delta: int | None = None,
        pending_above_iceberg_qty: Amount | None = None,
        pending_above_time_in_force: TimeInForce | str | None = None,
        pending_above_strategy_id: int | None = None,
        pending_above_strategy_type: int | None = None,
        pending_above_peg_price_type: PegPriceType | str | None = None,
        pending_above_peg_offset_type: PegOffsetType | str | None = None,
        pending_above_peg_offset_value: int | None = None,
        pending_below_client_order_id: str | None = None,
        pending_below_price: Amount | None = None,
        pending_below_stop_price: Amount | None = None,
        pending_below_trailing_delta: int | None = None,
        pending_below_iceberg_qty: Amount | None = None,
        pending_below_time_in_force: TimeInForce | str | None = None,
        pending_below_strategy_id: int | None = None,
        pending_below_strategy_type: int | None = None,
        pending_below_peg_price_type: PegPriceType | str | None = None,
        pending_below_peg_offset_type: PegOffsetType | str | None = None,
        pending_below_peg_offset_value: int | None = None,
        recv_window: RecvWindow | None = None,
    ) -> OrderListResult:
        """Place a one-triggers-one-cancels-the-other list: a working order whose fill
        places an OCO pair (``orderList.place.otoco``).

        Weight 1 (0 when it succeeds); security TRADE. ``InvalidParameter`` as for
        :meth:`place_oto`.
        """
        return await self._call(
            "orderList.place.otoco",
            OrderListResult,
            symbol=symbol,
            list_client_order_id=list_client_order_id,
            new_order_resp_type=new_order_resp_type,
            self_trade_prevention_mode=self_trade_prevention_mode,
            working_type=working_type,
            working_side=working_side,
            working_client_order_id=working_client_order_id,
            working_price=working_price,
            working_quantity=working_quantity,
            working_iceberg_qty=working_iceberg_qty,
            working_time_in_force=working_time_in_force,
            working_strategy_id=working_strategy_id,
            working_strategy_type=working_strategy_type,
            working_peg_price_type=working_peg_price_type,
            working_peg_offset_type=working_peg_offset_type,
            working_peg_offset_value=working_peg_offset_value,
            pending_side=pending_side,
            pending_quantity=pending_quantity,
            pending_above_type=pending_above_type,
            pending_above_client_order_id=pending_above_client_order_id,
            pending_above_price=pending_above_price,
            pending_above_stop_price=pending_above_stop_price,
            pending_above_trailing_delta=pending_above_trailing_delta,
            pending_above_iceberg_qty=pending_above_iceberg_qty,
            pending_above_time_in_force=pending_above_time_in_force,
            pending_above_strategy_id=pending_above_strategy_id,
            pending_above_strategy_type=pending_above_strategy_type,
            pending_above_peg_price_type=pending_above_peg_price_type,
            pending_above_peg_offset_type=pending_above_peg_offset_type,
            pending_above_peg_offset_value=pending_above_peg_offset_value,
            pending_below_type=pending_below_type,
            pending_below_client_order_id=pending_below_client_order_id,
            pending_below_price=pending_below_price,
            pending_below_stop_price=pending_below_stop_price,
            pending_below_trailing_delta=pending_below_trailing_delta,
            pending_below_iceberg_qty=pending_below_iceberg_qty,
            pending_below_time_in_force=pending_below_time_in_force,
            pending_below_strategy_id=pending_below_strategy_id,
            pending_below_strategy_type=pending_below_strategy_type,
            pending_below_peg_price_type=pending_below_peg_price_type,
            pending_below_peg_offset_type=pending_below_peg_offset_type,
            pending_below_peg_offset_value=pending_below_peg_offset_value,
            recv_window=recv_window,
        )

    async def place_opo(
        self,
        *,
        symbol: str,
        working_type: OrderType | str,
        working_side: Side | str,
        working_price: Amount,
        working_quantity: Amount,
        pending_type: OrderType | str,
        pending_side: Side | str,
        list_client_order_id: str | None = None,
        new_order_resp_type: OrderResponseType | str | None = None,
        self_trade_prevention_mode: SelfTradePreventionMode | str | None = None,
        working_client_order_id: str | None = None,
        working_iceberg_qty: Amount | None = None,
        working_time_in_force: TimeInForce | str | None = None,
        working_strategy_id: int | None = None,
        working_strategy_type: int | None = None,
        working_peg_price_type: PegPriceType | str | None = None,
        working_peg_offset_type: PegOffsetType | str | None = None,
        working_peg_offset_value: int | None = None,
        pending_client_order_id: str | None = None,
        pending_price: Amount | None = None,
        pending_stop_price: Amount | None = None,
        pending_trailing_delta: int | None = None,
        pending_iceberg_qty: Amount | None = None,
        pending_time_in_force: TimeInForce | str | None = None,
        pending_strategy_id: int | None = None,
        pending_strategy_type: int | None = None,
        pending_peg_price_type: PegPriceType | str | None = None,
        pending_peg_offset_type: PegOffsetType | str | None = None,
        pending_peg_offset_value: int | None = None,
        recv_window: RecvWindow | None = None,
    ) -> OrderListResult:
        """Place a one-pays-the-other list: the pending order trades what the working order
        bought or sold (``orderList.place.opo``).

        Weight 1 (0 when it succeeds); security TRADE. ``InvalidParameter`` as for
        :meth:`place_oto`.
        """
        return await self._call(
            "orderList.place.opo",
            OrderListResult,
            symbol=symbol,
            list_client_order_id=list_client_order_id,
            new_order_resp_type=new_order_resp_type,
            self_trade_prevention_mode=self_trade_prevention_mode,
            working_type=working_type,
            working_side=working_side,
            working_client_order_id=working_client_order_id,
            working_price=working_price,
            working_quantity=working_quantity,
            working_iceberg_qty=working_iceberg_qty,
            working_time_in_force=working_time_in_force,
            working_strategy_id=working_strategy_id,
            working_strategy_type=working_strategy_type,
            working_peg_price_type=working_peg_price_type,
            working_peg_offset_type=working_peg_offset_type,
            working_peg_offset_value=working_peg_offset_value,
            pending_type=pending_type,
            pending_side=pending_side,
            pending_client_order_id=pending_client_order_id,
            pending_price=pending_price,
            pending_stop_price=pending_stop_price,
            pending_trailing_delta=pending_trailing_delta,
            pending_iceberg_qty=pending_iceberg_qty,
            pending_time_in_force=pending_time_in_force,
            pending_strategy_id=pending_strategy_id,
            pending_strategy_type=pending_strategy_type,
            pending_peg_price_type=pending_peg_price_type,
            pending_peg_offset_type=pending_peg_offset_type,
            pending_peg_offset_value=pending_peg_offset_value,
            recv_window=recv_window,
        )

    async def place_opoco(
        self,
        *,
        symbol: str,
        working_type: OrderType | str,
        working_side: Side | str,
        working_price: Amount,
        working_quantity: Amount,
        pending_side: Side | str,
        pending_above_type: OrderType | str,
        pending_below_type: OrderType | str | None = None,
        list_client_order_id: str | None = None,
        new_order_resp_type: OrderResponseType | str | None = None,
        self_trade_prevention_mode: SelfTradePreventionMode | str | None = None,
        working_client_order_id: str | None = None,
        working_iceberg_qty: Amount | None = None,
        working_time_in_force: TimeInForce | str | None = None,
        working_strategy_id: int | None = None,
        working_strategy_type: int | None = None,
        working_peg_price_type: PegPriceType | str | None = None,
        working_peg_offset_type: PegOffsetType | str | None = None,
        working_peg_offset_value: int | None = None,
        pending_above_client_order_id: str | None = None,
        pending_above_price: Amount | None = None,
        pending_above_stop_price: Amount | None = None,
        pending_above_trailing_delta: int | None = None,
        pending_above_iceberg_qty: Amount | None = None,
        pending_above_time_in_force: TimeInForce | str | None = None,
        pending_above_strategy_id: int | None = None,
        pending_above_strategy_type: int | None = None,
        pending_above_peg_price_type: PegPriceType | str | None = None,
        pending_above_peg_offset_type: PegOffsetType | str | None = None,
        pending_above_peg_offset_value: int | None = None,
        pending_below_client_order_id: str | None = None,
        pending_below_price: Amount | None = None,
        pending_below_stop_price: Amount | None = None,
        pending_below_trailing_delta: int | None = None,
        pending_below_iceberg_qty: Amount | None = None,
        pending_below_time_in_force: TimeInForce | str | None = None,
        pending_below_strategy_id: int | None = None,
        pending_below_strategy_type: int | None = None,
        pending_below_peg_price_type: PegPriceType | str | None = None,
        pending_below_peg_offset_type: PegOffsetType | str | None = None,
        pending_below_peg_offset_value: int | None = None,
        recv_window: RecvWindow | None = None,
    ) -> OrderListResult:
        """Place a one-pays-one-cancels-the-other list: a working order whose fill places an
        OCO pair trading its proceeds (``orderList.place.opoco``).

        Weight 1 (0 when it succeeds); security TRADE. ``InvalidParameter`` as for
        :meth:`place_oto`.
        """
        return await self._call(
            "orderList.place.opoco",
            OrderListResult,
            symbol=symbol,
            list_client_order_id=list_client_order_id,
            new_order_resp_type=new_order_resp_type,
            self_trade_prevention_mode=self_trade_prevention_mode,
            working_type=working_type,
            working_side=working_side,
            working_client_order_id=working_client_order_id,
            working_price=working_price,
            working_quantity=working_quantity,
            working_iceberg_qty=working_iceberg_qty,
            working_time_in_force=working_time_in_force,
            working_strategy_id=working_strategy_id,
            working_strategy_type=working_strategy_type,
            working_peg_price_type=working_peg_price_type,
            working_peg_offset_type=working_peg_offset_type,
            working_peg_offset_value=working_peg_offset_value,
            pending_side=pending_side,
            pending_above_type=pending_above_type,
            pending_above_client_order_id=pending_above_client_order_id,
            pending_above_price=pending_above_price,
            pending_above_stop_price=pending_above_stop_price,
            pending_above_trailing_delta=pending_above_trailing_delta,
            pending_above_iceberg_qty=pending_above_iceberg_qty,
            pending_above_time_in_force=pending_above_time_in_force,
            pending_above_strategy_id=pending_above_strategy_id,
            pending_above_strategy_type=pending_above_strategy_type,
            pending_above_peg_price_type=pending_above_peg_price_type,
            pending_above_peg_offset_type=pending_above_peg_offset_type,
            pending_above_peg_offset_value=pending_above_peg_offset_value,
            pending_below_type=pending_below_type,
            pending_below_client_order_id=pending_below_client_order_id,
            pending_below_price=pending_below_price,
            pending_below_stop_price=pending_below_stop_price,
            pending_below_trailing_delta=pending_below_trailing_delta,
            pending_below_iceberg_qty=pending_below_iceberg_qty,
            pending_below_time_in_force=pending_below_time_in_force,
            pending_below_strategy_id=pending_below_strategy_id,
            pending_below_strategy_type=pending_below_strategy_type,
            pending_below_peg_price_type=pending_below_peg_price_type,
            pending_below_peg_offset_type=pending_below_peg_offset_type,
            pending_below_peg_offset_value=pending_below_peg_offset_value,
            recv_window=recv_window,
        )

    async def cancel_order_list(
        self,
        *,
        symbol: str,
        order_list_id: int | None = None,
        list_client_order_id: str | None = None,
        new_client_order_id: str | None = None,
        recv_window: RecvWindow | None = None,
    ) -> OrderListResult:
        """Cancel an order list (``orderList.cancel``).

        Weight 1 (0 when it succeeds); security TRADE. ``InvalidParameter`` unless
        ``order_list_id`` or ``list_client_order_id`` is given.
        """
        return await self._call(
            "orderList.cancel",
            OrderListResult,
            symbol=symbol,
            order_list_id=order_list_id,
            list_client_order_id=list_client_order_id,
            new_client_order_id=new_client_order_id,
            recv_window=recv_window,
        )

    async def place_sor_order(
        self,
        *,
        symbol: str,
        side: Side | str,
        type: OrderType | str,
        quantity: Amount,
        time_in_force: TimeInForce | str | None = None,
        price: Amount | None = None,
        new_client_order_id: str | None = None,
        new_order_resp_type: OrderResponseType | str | None = None,
        iceberg_qty: Amount | None = None,
        strategy_id: int | None = None,
        strategy_type: int | None = None,
        self_trade_prevention_mode: SelfTradePreventionMode | str | None = None,
        recv_window: RecvWindow | None = None,
    ) -> list[OrderResult]:
        """Place an order through smart order routing (``sor.order.place``).

        Weight 1 (0 when it succeeds); security TRADE. ``InvalidParameter`` for a type other
        than LIMIT or MARKET, or a LIMIT order without ``price`` and ``time_in_force``.
        """
        return await self._call(
            "sor.order.place",
            list[OrderResult],
            symbol=symbol,
            side=side,
            type=type,
            time_in_force=time_in_force,
            price=price,
            quantity=quantity,
            new_client_order_id=new_client_order_id,
            new_order_resp_type=new_order_resp_type,
            iceberg_qty=iceberg_qty,
            strategy_id=strategy_id,
            strategy_type=strategy_type,
            self_trade_prevention_mode=self_trade_prevention_mode,
            recv_window=recv_window,
        )

    async def test_sor_order(
        self,
        *,
        symbol: str,
        side: Side | str,
        type: OrderType | str,
        quantity: Amount,
        time_in_force: TimeInForce | str | None = None,
        price: Amount | None = None,
        new_client_order_id: str | None = None,
        new_order_resp_type: OrderResponseType | str | None = None,
        iceberg_qty: Amount | None = None,
        strategy_id: int | None = None,
        strategy_type: int | None = None,
        self_trade_prevention_mode: SelfTradePreventionMode | str | None = None,
        compute_commission_rates: bool | None = None,
        recv_window: RecvWindow | None = None,
    ) -> TestOrderResult:
        """Validate a smart-order-routing order without placing it (``sor.order.test``).

        Weight 1; 20 with compute_commission_rates; security TRADE. ``InvalidParameter`` as
        for :meth:`place_sor_order`.
        """
        return await self._call(
            "sor.order.test",
            TestOrderResult,
            symbol=symbol,
            side=side,
            type=type,
            time_in_force=time_in_force,
            price=price,
            quantity=quantity,
            new_client_order_id=new_client_order_id,
            new_order_resp_type=new_order_resp_type,
            iceberg_qty=iceberg_qty,
            strategy_id=strategy_id,
            strategy_type=strategy_type,
            self_trade_prevention_mode=self_trade_prevention_mode,
            compute_commission_rates=compute_commission_rates,
            recv_window=recv_window,
        )

    # --- account requests ---------------------------------------------------------------

    async def account_status(
        self, *, omit_zero_balances: bool | None = None, recv_window: RecvWindow | None = None
    ) -> AccountInfo:
        """Balances, commissions and permissions of the account (``account.status``).

        Weight 20; security USER_DATA. ``InvalidParameter`` for a non-bool
        ``omit_zero_balances`` or a recv_window above 60000 ms.
        """
        return await self._call(
            "account.status",
            AccountInfo,
            omit_zero_balances=omit_zero_balances,
            recv_window=recv_window,
        )

    async def order_status(
        self,
        *,
        symbol: str,
        order_id: int | None = None,
        orig_client_order_id: str | None = None,
        recv_window: RecvWindow | None = None,
    ) -> Order:
        """One order's execution status (``order.status``).

        Weight 4; security USER_DATA. ``InvalidParameter`` unless ``order_id`` or
        ``orig_client_order_id`` is given.
        """
        return await self._call(
            "order.status",
            Order,
            symbol=symbol,
            order_id=order_id,
            orig_client_order_id=orig_client_order_id,
            recv_window=recv_window,
        )

    async def open_orders(
        self, *, symbol: str | None = None, recv_window: RecvWindow | None = None
    ) -> list[Order]:
        """Open orders on ``symbol``, or on every symbol (``openOrders.status``).

        Weight 6 for one symbol, 80 for all; security USER_DATA. ``InvalidParameter`` for an
        empty symbol.
        """
        return await self._call(
            "openOrders.status", list[Order], symbol=symbol, recv_window=recv_window
        )

    async def all_orders(
        self,
        *,
        symbol: str,
        order_id: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        limit: int | None = None,
        recv_window: RecvWindow | None = None,
    ) -> list[Order]:
        """Orders on ``symbol`` of any status, by id or by time (``allOrders``).

        Weight 20; security USER_DATA. ``InvalidParameter`` for a time range longer than
        24 hours or reversed, or a limit outside 1–1000.
        """
        return await self._call(
            "allOrders",
            list[Order],
            symbol=symbol,
            order_id=order_id,
            start_time=start_time,
            end_time=end_time,
            limit=limit,
            recv_window=recv_window,
        )

    async def order_list_status(
        self,
        *,
        order_list_id: int | None = None,
        orig_client_order_id: str | None = None,
        recv_window: RecvWindow | None = None,
    ) -> OrderList:
        """One order list's status; ``orig_client_order_id`` is its ``listClientOrderId``
        (``orderList.status``).

        Weight 4; security USER_DATA. ``InvalidParameter`` unless ``order_list_id`` or
        ``orig_client_order_id`` is given.
        """
        return await self._call(
            "orderList.status",
            OrderList,
            order_list_id=order_list_id,
            orig_client_order_id=orig_client_order_id,
            recv_window=recv_window,
        )

    async def open_order_lists(self, *, recv_window: RecvWindow | None = None) -> list[OrderList]:
        """Open order lists (``openOrderLists.status``).

        Weight 6; security USER_DATA. ``InvalidParameter`` for a recv_window above 60000 ms.
        """
        return await self._call("openOrderLists.status", list[OrderList], recv_window=recv_window)

    async def all_order_lists(
        self,
        *,
        from_id: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        limit: int | None = None,
        recv_window: RecvWindow | None = None,
    ) -> list[OrderList]:
        """Order lists of any status, by id or by time (``allOrderLists``).

        Weight 20; security USER_DATA. ``InvalidParameter`` for a time range longer than
        24 hours or reversed, or a limit outside 1–1000.
        """
        return await self._call(
            "allOrderLists",
            list[OrderList],
            from_id=from_id,
            start_time=start_time,
            end_time=end_time,
            limit=limit,
            recv_window=recv_window,
        )

    async def my_trades(
        self,
        *,
        symbol: str,
        order_id: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        from_id: int | None = None,
        limit: int | None = None,
        recv_window: RecvWindow | None = None,
    ) -> list[AccountTrade]:
        """The account's trades on ``symbol`` (``myTrades``).

        Weight 20; 5 with order_id; security USER_DATA. ``InvalidParameter`` for ``from_id``
        or ``order_id`` with a time bound, a time range longer than 24 hours or a limit
        outside 1–1000.
        """
        return await self._call(
            "myTrades",
            list[AccountTrade],
            symbol=symbol,
            order_id=order_id,
            start_time=start_time,
            end_time=end_time,
            from_id=from_id,
            limit=limit,
            recv_window=recv_window,
        )

    async def order_rate_limits(self, *, recv_window: RecvWindow | None = None) -> list[RateLimit]:
        """The account's unfilled order counts (``account.rateLimits.orders``).

        Weight 40; security USER_DATA. ``InvalidParameter`` for a recv_window above 60000 ms.
        """
        return await self._call(
            "account.rateLimits.orders", list[RateLimit], recv_window=recv_window
        )

    async def prevented_matches(
        self,
        *,
        symbol: str,
        prevented_match_id: int | None = None,
        order_id: int | None = None,
        from_prevented_match_id: int | None = None,
        limit: int | None = None,
        recv_window: RecvWindow | None = None,
    ) -> list[PreventedMatch]:
        """Orders that expired because of self-trade prevention (``myPreventedMatches``).

        Weight 2 by prevented_match_id, 20 by order_id; security USER_DATA.
        ``InvalidParameter`` unless exactly one of ``prevented_match_id`` and ``order_id``
        is given, or for paging parameters with ``prevented_match_id``.
        """
        return await self._call(
            "myPreventedMatches",
            list[PreventedMatch],
            symbol=symbol,
            prevented_match_id=prevented_match_id,
            order_id=order_id,
            from_prevented_match_id=from_prevented_match_id,
            limit=limit,
            recv_window=recv_window,
        )

    async def allocations(
        self,
        *,
        symbol: str,
        start_time: int | None = None,
        end_time: int | None = None,
        from_allocation_id: int | None = None,
        limit: int | None = None,
        order_id: int | None = None,
        recv_window: RecvWindow | None = None,
    ) -> list[Allocation]:
        """Allocations from smart-order-routing orders (``myAllocations``).

        Weight 20; security USER_DATA. ``InvalidParameter`` for a time bound with
        ``from_allocation_id`` or ``order_id``, or a time range longer than 24 hours.
        """
        return await self._call(
            "myAllocations",
            list[Allocation],
            symbol=symbol,
            start_time=start_time,
            end_time=end_time,
            from_allocation_id=from_allocation_id,
            limit=limit,
            order_id=order_id,
            recv_window=recv_window,
        )

    async def account_commission(
        self, *, symbol: str, recv_window: RecvWindow | None = None
    ) -> AccountCommission:
        """The account's commission rates on ``symbol`` (``account.commission``).

        Weight 20; security USER_DATA. ``InvalidParameter`` for an empty symbol.
        """
        return await self._call(
            "account.commission", AccountCommission, symbol=symbol, recv_window=recv_window
        )

    async def order_amendments(
        self,
        *,
        symbol: str,
        order_id: int,
        from_execution_id: int | None = None,
        limit: int | None = None,
        recv_window: RecvWindow | None = None,
    ) -> list[OrderAmendment]:
        """Every amendment of one order (``order.amendments``).

        Weight 4; security USER_DATA. ``InvalidParameter`` for a negative id or a limit
        outside 1–1000.
        """
        return await self._call(
            "order.amendments",
            list[OrderAmendment],
            symbol=symbol,
            order_id=order_id,
            from_execution_id=from_execution_id,
            limit=limit,
            recv_window=recv_window,
        )

    async def relevant_filters(
        self, *, symbol: str, recv_window: RecvWindow | None = None
    ) -> AccountFilters:
        """The exchange, symbol and asset filters that apply to the account on ``symbol``
        (``myFilters``).

        Weight 40; security USER_DATA. ``InvalidParameter`` for an empty symbol.
        """
        return await self._call("myFilters", AccountFilters, symbol=symbol, recv_window=recv_window)

    # --- user data stream requests (events are routed by the session's subscriptions) ---

    async def subscribe_user_data(self) -> Subscription:
        """Subscribe the logged-on account's user data stream (``userDataStream.subscribe``).

        Weight 2; security USER_STREAM. Low level: events of the returned subscription are
        dropped unless a sink is registered with ``add_subscription``.
        """
        return await self._call("userDataStream.subscribe", Subscription)

    async def unsubscribe_user_data(self, *, subscription_id: int | None = None) -> Empty:
        """Stop one user data subscription, or all of them (``userDataStream.unsubscribe``).

        Weight 2; security NONE. ``InvalidParameter`` for a negative id.
        """
        return await self._call(
            "userDataStream.unsubscribe", Empty, subscription_id=subscription_id
        )

    async def user_data_subscriptions(self) -> list[Subscription]:
        """The connection's active user data subscriptions (``session.subscriptions``).

        Weight 2; security NONE.
        """
        return await self._call("session.subscriptions", list[Subscription])

    async def subscribe_user_data_signature(
        self, *, recv_window: RecvWindow | None = None
    ) -> Subscription:
        """Subscribe the user data stream of the session's key by signature, logged on or
        not (``userDataStream.subscribe.signature``).

        Weight 2; security USER_STREAM. Low level, like :meth:`subscribe_user_data`.
        ``InvalidParameter`` for a recv_window above 60000 ms.
        """
        return await self._call(
            "userDataStream.subscribe.signature", Subscription, recv_window=recv_window
        )


__all__ = [
    "API_METHODS",
    "Amount",
    "ApiMethods",
    "CancelReplaceError",
    "CancelReplaceFailed",
    "CancelReplacePartiallyFailed",
    "checked_params",
    "python_name",
    "wire_name",
]
