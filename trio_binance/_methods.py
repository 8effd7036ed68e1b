"""The catalogue of WebSocket API methods: security type, signing, status and weight of each.

Facts from web-socket-api.md (each method's title, "Weight" paragraph and parameter table),
written out as code so nothing reads the spec at run time; tests/test_api_coverage.py checks
the table against tests/fixtures/spec/methods.json. ``weight`` is the documented text as
extracted; ``weight_summary`` says the same in one line for docstrings and the docs.

Security types (web-socket-api.md, "Request security"): ``NONE`` public, ``TRADE`` and
``USER_DATA`` need a signed request (or a logged-on session), ``USER_STREAM`` needs an API
key. ``session.logon`` has security type ``NONE`` but is itself signed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from trio_binance._weights import canonical_method

SECURITY_TYPES = ("NONE", "TRADE", "USER_DATA", "USER_STREAM")


@dataclass(frozen=True, slots=True)
class MethodInfo:
    """What the spec says about one method."""

    name: str
    security: str
    signed: bool
    weight: str
    """The documented "Weight" paragraph, as extracted from the spec."""
    weight_summary: str
    """The same rule in one line (request weight units)."""
    deprecated: bool = False


@dataclass(frozen=True, slots=True)
class RetiredMethod:
    """A method that was documented once and is not served any more."""

    name: str
    announced: str
    unavailable_from: str


# Methods that weigh 0 when they succeed (CHANGELOG 2026-03-27, see _weights.py).
_FREE_ON_SUCCESS = "1 (0 when it succeeds)"


def _catalogue(*methods: MethodInfo) -> Mapping[str, MethodInfo]:
    return MappingProxyType({method.name: method for method in methods})


METHODS: Mapping[str, MethodInfo] = _catalogue(
    # General requests
    MethodInfo("ping", "NONE", False, "1", "1"),
    MethodInfo("time", "NONE", False, "1", "1"),
    MethodInfo("exchangeInfo", "NONE", False, "20", "20"),
    MethodInfo(
        "executionRules",
        "NONE",
        False,
        "Parameter | Weight| `symbol` | 2 `symbols` | 2 for each `symbol`, capped at a max of "
        "40| `symbolStatus` |40| None |40|",
        "2 per symbol (at most 40); 40 by symbol_status or for all symbols",
    ),
    # Market data requests
    MethodInfo(
        "depth",
        "NONE",
        False,
        "Adjusted based on the limit: | Limit | Weight | | 1–100 | 5 | | 101–500 | 25| | "
        "501–1000 | 50 | | 1001–5000 | 250 |",
        "5, 25, 50 or 250 for a limit up to 100, 500, 1000 or 5000",
    ),
    MethodInfo("trades.recent", "NONE", False, "25", "25"),
    MethodInfo("trades.historical", "NONE", False, "25", "25"),
    MethodInfo("blockTrades.historical", "NONE", False, "25", "25"),
    MethodInfo("trades.aggregate", "NONE", False, "4", "4"),
    MethodInfo("klines", "NONE", False, "2", "2"),
    MethodInfo("uiKlines", "NONE", False, "2", "2"),
    MethodInfo("avgPrice", "NONE", False, "2", "2"),
    MethodInfo(
        "ticker.24hr",
        "NONE",
        False,
        "Adjusted based on the number of requested symbols: | Symbols | Weight | | 1–20 | 2 | "
        "| 21–100 | 40 | | 101 or more | 80 | | all symbols | 80 |",
        "2 for 1–20 symbols, 40 for 21–100, 80 for more or for all symbols",
    ),
    MethodInfo(
        "ticker.tradingDay",
        "NONE",
        False,
        "4 for each requested <tt>symbol</tt>. <br/><br/> The weight for this request will cap "
        "at 200 once the number of `symbols` in the request is more than 50.",
        "4 per symbol, at most 200",
    ),
    MethodInfo(
        "ticker",
        "NONE",
        False,
        "Adjusted based on the number of requested symbols: | Symbols | Weight | | 1–50 | 4 per "
        "symbol | | 51–100 | 200 |",
        "4 per symbol, at most 200",
    ),
    MethodInfo(
        "ticker.price",
        "NONE",
        False,
        "Adjusted based on the number of requested symbols: | Parameter | Weight | | `symbol` "
        "| 2 | | `symbols` | 4 | | none | 4 |",
        "2 for one symbol, 4 for several or all",
    ),
    MethodInfo(
        "ticker.book",
        "NONE",
        False,
        "Adjusted based on the number of requested symbols: | Parameter | Weight | | `symbol` "
        "| 2 | | `symbols` | 4 | | none | 4 |",
        "2 for one symbol, 4 for several or all",
    ),
    MethodInfo("referencePrice", "NONE", False, "2", "2"),
    MethodInfo("referencePrice.calculation", "NONE", False, "2", "2"),
    # Authentication requests
    MethodInfo("session.logon", "NONE", True, "2", "2"),
    MethodInfo("session.status", "NONE", False, "2", "2"),
    MethodInfo("session.logout", "NONE", False, "2", "2"),
    # Trading requests
    MethodInfo("order.place", "TRADE", True, "1", _FREE_ON_SUCCESS),
    MethodInfo(
        "order.test",
        "TRADE",
        True,
        "|Condition| Request Weight| |Without `computeCommissionRates`| 1| |With "
        "`computeCommissionRates`|20|",
        "1; 20 with compute_commission_rates",
    ),
    MethodInfo("order.cancel", "TRADE", True, "1", _FREE_ON_SUCCESS),
    MethodInfo("order.cancelReplace", "TRADE", True, "1", _FREE_ON_SUCCESS),
    MethodInfo(
        "order.amend.keepPriority", "TRADE", True, "4", "4 (0 when the amendment expires the order)"
    ),
    MethodInfo("openOrders.cancelAll", "TRADE", True, "1", _FREE_ON_SUCCESS),
    MethodInfo("orderList.place", "TRADE", True, "1", _FREE_ON_SUCCESS, deprecated=True),
    MethodInfo("orderList.place.oco", "TRADE", True, "1", _FREE_ON_SUCCESS),
    MethodInfo("orderList.place.oto", "TRADE", True, "1", _FREE_ON_SUCCESS),
    MethodInfo("orderList.place.otoco", "TRADE", True, "1", _FREE_ON_SUCCESS),
    MethodInfo("orderList.place.opo", "TRADE", True, "1", _FREE_ON_SUCCESS),
    MethodInfo("orderList.place.opoco", "TRADE", True, "1", _FREE_ON_SUCCESS),
    MethodInfo("orderList.cancel", "TRADE", True, "1", _FREE_ON_SUCCESS),
    MethodInfo("sor.order.place", "TRADE", True, "1", _FREE_ON_SUCCESS),
    MethodInfo(
        "sor.order.test",
        "TRADE",
        True,
        "|Condition | Request Weight| |Without `computeCommissionRates`| 1 | |With "
        "`computeCommissionRates` |20 |",
        "1; 20 with compute_commission_rates",
    ),
    # Account requests
    MethodInfo("account.status", "USER_DATA", True, "20", "20"),
    MethodInfo("order.status", "USER_DATA", True, "4", "4"),
    MethodInfo(
        "openOrders.status",
        "USER_DATA",
        True,
        "Adjusted based on the number of requested symbols: | Parameter | Weight | | `symbol` "
        "| 6 | | none | 80 |",
        "6 for one symbol, 80 for all",
    ),
    MethodInfo("allOrders", "USER_DATA", True, "20", "20"),
    MethodInfo("orderList.status", "USER_DATA", True, "4", "4"),
    MethodInfo("openOrderLists.status", "USER_DATA", True, "6", "6"),
    MethodInfo("allOrderLists", "USER_DATA", True, "20", "20"),
    MethodInfo(
        "myTrades",
        "USER_DATA",
        True,
        "Condition| Weight| |Without orderId|20| |With orderId|5|",
        "20; 5 with order_id",
    ),
    MethodInfo("account.rateLimits.orders", "USER_DATA", True, "40", "40"),
    MethodInfo(
        "myPreventedMatches",
        "USER_DATA",
        True,
        "Case | Weight If `symbol` is invalid | 2 Querying by `preventedMatchId` | 2 Querying by "
        "`orderId` | 20",
        "2 by prevented_match_id, 20 by order_id",
    ),
    MethodInfo("myAllocations", "USER_DATA", True, "20", "20"),
    MethodInfo("account.commission", "USER_DATA", True, "20", "20"),
    MethodInfo("order.amendments", "USER_DATA", True, "4", "4"),
    MethodInfo("myFilters", "USER_DATA", True, "40", "40"),
    # User Data Stream requests
    MethodInfo("userDataStream.subscribe", "USER_STREAM", False, "2", "2"),
    MethodInfo("userDataStream.unsubscribe", "NONE", False, "2", "2"),
    MethodInfo("session.subscriptions", "NONE", False, "2", "2"),
    MethodInfo("userDataStream.subscribe.signature", "USER_STREAM", True, "2", "2"),
)
"""Every documented method, in the order of the spec."""

# CHANGELOG.md, 2026-01-21: the listen-key methods stop working on 2026-02-20; the user data
# stream is subscribed with userDataStream.subscribe(.signature) instead.
RETIRED: Mapping[str, RetiredMethod] = MappingProxyType(
    {
        name: RetiredMethod(name, announced="2026-01-21", unavailable_from="2026-02-20")
        for name in ("userDataStream.ping", "userDataStream.start", "userDataStream.stop")
    }
)


def method_info(method: str) -> MethodInfo | None:
    """The catalogue entry of ``method`` (``v3/`` prefix allowed); ``None`` if undocumented."""
    return METHODS.get(canonical_method(method))


def security_of(method: str) -> str:
    """The security type of ``method``; ``KeyError`` for a method the spec does not document."""
    info = method_info(method)
    if info is None:
        raise KeyError(f"{method!r} is not a documented WebSocket API method")
    return info.security


def is_signed(method: str) -> bool:
    """Whether ``method`` needs ``timestamp`` and ``signature``; ``False`` when undocumented."""
    info = method_info(method)
    return info is not None and info.signed


__all__ = [
    "METHODS",
    "RETIRED",
    "SECURITY_TYPES",
    "MethodInfo",
    "RetiredMethod",
    "is_signed",
    "method_info",
    "security_of",
]
