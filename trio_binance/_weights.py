"""Request weights and unfilled-order counts of every WebSocket API method.

Shared by the client's rate governor (to predict what a request will cost) and by the local
exchange (to charge it), so both sides agree by construction. Pure functions over tables, no
I/O. Source: web-socket-api.md, each method's "Weight" and "Unfilled Order Count" paragraphs,
and CHANGELOG.md for the rules that are not in those paragraphs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, TypeAlias

import msgspec

WeightRule: TypeAlias = Callable[[Mapping[str, Any]], int]

# web-socket-api.md, "IP limits": "Connecting to WebSocket API costs 2 weight."
CONNECTION_WEIGHT = 2

# A method missing from the table (new upstream, or misspelt) is assumed to weigh 40, the
# heaviest fixed weight documented (account.rateLimits.orders, myFilters): a governor that
# over-counts an unknown request slows down a little, one that under-counts it risks a ban.
UNKNOWN_METHOD_WEIGHT = 40

# "Request method names may be prefixed with explicit version: e.g., "v3/order.place"."
_VERSION_PREFIX = "v3/"


def canonical_method(method: str) -> str:
    """The method name without its optional ``v3/`` version prefix."""
    return method.removeprefix(_VERSION_PREFIX)


# -- reading parameters -------------------------------------------------------------------


def _int_param(params: Mapping[str, Any], name: str, default: int) -> int:
    """An integer parameter sent as an int or as decimal text; ``default`` when absent or bad.

    A malformed value makes the request fail, and a failed request is charged like one with
    the default value.
    """
    value = params.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    return default


def _is_set(params: Mapping[str, Any], name: str) -> bool:
    return params.get(name) is not None


def _is_true(params: Mapping[str, Any], name: str) -> bool:
    value = params.get(name)
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _listed_symbols(value: object) -> int:
    """How many symbols a ``symbols`` value names: a list or its JSON text; else one."""
    if isinstance(value, str):
        try:
            value = msgspec.json.decode(value)
        except msgspec.DecodeError:
            return 1
    if isinstance(value, list | tuple):
        return len(value)
    return 1


def symbol_count(params: Mapping[str, Any]) -> int | None:
    """How many symbols a request names; ``None`` when it names none (meaning all symbols)."""
    if _is_set(params, "symbol"):
        return 1
    if _is_set(params, "symbols"):
        return _listed_symbols(params["symbols"])
    return None


def _tier(value: int, tiers: tuple[tuple[int, int], ...], above: int) -> int:
    """The weight of the first ``(up_to, weight)`` tier that holds ``value``, else ``above``."""
    for up_to, weight in tiers:
        if value <= up_to:
            return weight
    return above


# -- weight rules, one per documented shape -----------------------------------------------


def _fixed(weight: int) -> WeightRule:
    def rule(params: Mapping[str, Any]) -> int:
        return weight

    return rule


# "Order book": Limit 1-100 -> 5, 101-500 -> 25, 501-1000 -> 50, 1001-5000 -> 250.
# Default limit 100. Out-of-range limits fail; they are charged as the nearest tier.
_DEPTH_TIERS = ((100, 5), (500, 25), (1000, 50), (5000, 250))


def _depth(params: Mapping[str, Any]) -> int:
    return _tier(_int_param(params, "limit", 100), _DEPTH_TIERS, above=250)


# "24hr ticker price change statistics": 1-20 symbols -> 2, 21-100 -> 40, 101+ or all -> 80.
_TICKER_24HR_TIERS = ((20, 2), (100, 40))


def _ticker_24hr(params: Mapping[str, Any]) -> int:
    count = symbol_count(params)
    return 80 if count is None else _tier(count, _TICKER_24HR_TIERS, above=80)


def _per_symbol(weight: int, cap: int, unnamed: int) -> WeightRule:
    """``weight`` per named symbol up to ``cap``; ``unnamed`` when no symbol is named.

    "ticker": 1-50 symbols -> 4 per symbol, 51-100 -> 200. "ticker.tradingDay": 4 per symbol,
    capped at 200 above 50 symbols (the same function). "executionRules": 2 per symbol capped
    at 40, 40 with ``symbolStatus`` or nothing. An empty list is charged as one symbol.
    """

    def rule(params: Mapping[str, Any]) -> int:
        count = symbol_count(params)
        if count is None:
            return unnamed
        return min(weight * max(count, 1), cap)

    return rule


def _one_or_many(one: int, many: int) -> WeightRule:
    """``one`` with ``symbol``; ``many`` with ``symbols`` or with neither (all symbols)."""

    def rule(params: Mapping[str, Any]) -> int:
        return one if _is_set(params, "symbol") else many

    return rule


def _with_param(name: str, present: int, absent: int) -> WeightRule:
    """One weight when parameter ``name`` is sent, another when it is not."""

    def rule(params: Mapping[str, Any]) -> int:
        return present if _is_set(params, name) else absent

    return rule


def _test_order(params: Mapping[str, Any]) -> int:
    # "Test new order": 1 without computeCommissionRates, 20 with it (sent as true).
    return 20 if _is_true(params, "computeCommissionRates") else 1


def _prevented_matches(params: Mapping[str, Any]) -> int:
    # "Account prevented matches": 20 when querying by orderId, 2 by preventedMatchId (and 2
    # for an invalid symbol, which only the exchange can tell; it charges 2 then).
    if _is_set(params, "orderId") and not _is_set(params, "preventedMatchId"):
        return 20
    return 2


WEIGHT_RULES: Mapping[str, WeightRule] = MappingProxyType(
    {
        # General requests
        "ping": _fixed(1),
        "time": _fixed(1),
        "exchangeInfo": _fixed(20),
        "executionRules": _per_symbol(2, cap=40, unnamed=40),
        # Market data requests
        "depth": _depth,
        "trades.recent": _fixed(25),
        "trades.historical": _fixed(25),
        "blockTrades.historical": _fixed(25),
        "trades.aggregate": _fixed(4),
        "klines": _fixed(2),
        "uiKlines": _fixed(2),
        "avgPrice": _fixed(2),
        "ticker.24hr": _ticker_24hr,
        "ticker.tradingDay": _per_symbol(4, cap=200, unnamed=4),
        "ticker": _per_symbol(4, cap=200, unnamed=4),
        "ticker.price": _one_or_many(2, 4),
        "ticker.book": _one_or_many(2, 4),
        "referencePrice": _fixed(2),
        "referencePrice.calculation": _fixed(2),
        # Authentication requests
        "session.logon": _fixed(2),
        "session.status": _fixed(2),
        "session.logout": _fixed(2),
        # Trading requests
        "order.place": _fixed(1),
        "order.test": _test_order,
        "order.cancel": _fixed(1),
        "order.cancelReplace": _fixed(1),
        "order.amend.keepPriority": _fixed(4),
        "openOrders.cancelAll": _fixed(1),
        "orderList.place": _fixed(1),
        "orderList.place.oco": _fixed(1),
        "orderList.place.oto": _fixed(1),
        "orderList.place.otoco": _fixed(1),
        "orderList.place.opo": _fixed(1),
        "orderList.place.opoco": _fixed(1),
        "orderList.cancel": _fixed(1),
        "sor.order.place": _fixed(1),
        "sor.order.test": _test_order,
        # Account requests
        "account.status": _fixed(20),
        "order.status": _fixed(4),
        "openOrders.status": _with_param("symbol", present=6, absent=80),
        "allOrders": _fixed(20),
        "orderList.status": _fixed(4),
        "openOrderLists.status": _fixed(6),
        "allOrderLists": _fixed(20),
        "myTrades": _with_param("orderId", present=5, absent=20),
        "account.rateLimits.orders": _fixed(40),
        "myPreventedMatches": _prevented_matches,
        "myAllocations": _fixed(20),
        "account.commission": _fixed(20),
        "order.amendments": _fixed(4),
        "myFilters": _fixed(40),
        # User Data Stream requests
        "userDataStream.subscribe": _fixed(2),
        "userDataStream.unsubscribe": _fixed(2),
        "session.subscriptions": _fixed(2),
        "userDataStream.subscribe.signature": _fixed(2),
    }
)

# CHANGELOG 2026-03-27: these methods weigh 0 "when the request is successful. Failed requests
# are still charged the documented weight."
ZERO_WEIGHT_ON_SUCCESS = frozenset(
    {
        "order.place",
        "sor.order.place",
        "order.cancel",
        "openOrders.cancelAll",
        "order.cancelReplace",
        "orderList.place",
        "orderList.place.oco",
        "orderList.place.oto",
        "orderList.place.otoco",
        "orderList.place.opo",
        "orderList.place.opoco",
        "orderList.cancel",
    }
)

# CHANGELOG 2026-04-02: an amendment weighs 0 "only ... when the order expires because of the
# amendment. Successful requests that do not cause the order to expire are still charged."
ZERO_WEIGHT_WHEN_ORDER_EXPIRES = frozenset({"order.amend.keepPriority"})

# Each method's "Unfilled Order Count" paragraph. The deprecated orderList.place (OCO) is
# documented as 1, not 2; the spec wins. cancelReplace counts 1 even when its new order is
# NOT_ATTEMPTED ("Cancel and replace order"). Methods not listed add no orders.
ORDER_COUNTS: Mapping[str, int] = MappingProxyType(
    {
        "order.place": 1,
        "order.cancelReplace": 1,
        "order.amend.keepPriority": 0,
        "orderList.place": 1,
        "orderList.place.oco": 2,
        "orderList.place.oto": 2,
        "orderList.place.otoco": 3,
        "orderList.place.opo": 2,
        "orderList.place.opoco": 3,
        "sor.order.place": 1,
    }
)


def is_documented(method: str) -> bool:
    """Whether ``method`` (with or without ``v3/``) has a documented weight rule."""
    return canonical_method(method) in WEIGHT_RULES


def request_weight(method: str, params: Mapping[str, Any] | None = None) -> int:
    """The documented REQUEST_WEIGHT of a request, as charged before it runs."""
    rule = WEIGHT_RULES.get(canonical_method(method))
    if rule is None:
        return UNKNOWN_METHOD_WEIGHT
    return rule(params or {})


def weight_after(
    method: str,
    params: Mapping[str, Any] | None = None,
    *,
    succeeded: bool,
    order_expired: bool = False,
) -> int:
    """The weight a request finally costs, once its outcome is known.

    ``succeeded`` means a 200 response: a 409 (cancelReplace half done) is a failure here.
    ``order_expired`` says an ``order.amend.keepPriority`` expired the order it amended.
    """
    name = canonical_method(method)
    if succeeded and name in ZERO_WEIGHT_ON_SUCCESS:
        return 0
    if succeeded and order_expired and name in ZERO_WEIGHT_WHEN_ORDER_EXPIRES:
        return 0
    return request_weight(name, params)


def order_count(method: str, params: Mapping[str, Any] | None = None) -> int:
    """How many orders a successful request adds to the ORDERS (unfilled order count) limits.

    No documented count depends on the parameters; ``params`` keeps the signature symmetric
    with :func:`request_weight` should one ever do.
    """
    return ORDER_COUNTS.get(canonical_method(method), 0)
