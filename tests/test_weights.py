"""Request weights and order counts against the spec (web-socket-api.md, CHANGELOG.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_binance._weights import (
    CONNECTION_WEIGHT,
    UNKNOWN_METHOD_WEIGHT,
    WEIGHT_RULES,
    ZERO_WEIGHT_ON_SUCCESS,
    is_documented,
    order_count,
    request_weight,
    symbol_count,
    weight_after,
)

METHODS_JSON = Path(__file__).parent / "fixtures" / "spec" / "methods.json"


def spec_methods() -> list[dict[str, Any]]:
    methods: list[dict[str, Any]] = json.loads(METHODS_JSON.read_text())["methods"]
    return methods


def retired_methods() -> list[str]:
    return [entry["method"] for entry in json.loads(METHODS_JSON.read_text())["retired"]]


def symbols(n: int) -> list[str]:
    return [f"S{i}USDT" for i in range(n)]


# -- coverage of the spec ---------------------------------------------------------------


def test_the_fixture_lists_the_methods() -> None:
    assert len(spec_methods()) > 50


@pytest.mark.parametrize("entry", spec_methods(), ids=lambda entry: entry["method"])
def test_every_documented_method_has_a_weight_rule(entry: dict[str, Any]) -> None:
    assert is_documented(entry["method"]), f"no weight rule for {entry['method']}"


@pytest.mark.parametrize(
    "entry",
    [entry for entry in spec_methods() if entry["weight"].strip().isdigit()],
    ids=lambda entry: entry["method"],
)
def test_fixed_weights_are_the_documented_numbers(entry: dict[str, Any]) -> None:
    assert request_weight(entry["method"], {}) == int(entry["weight"])


def test_no_rule_is_left_for_a_method_the_spec_does_not_document() -> None:
    documented = {entry["method"] for entry in spec_methods()}
    assert set(WEIGHT_RULES) == documented


@pytest.mark.parametrize("method", retired_methods())
def test_retired_methods_have_no_rule(method: str) -> None:
    assert not is_documented(method)
    assert request_weight(method, {}) == UNKNOWN_METHOD_WEIGHT


def test_unknown_methods_get_the_conservative_default() -> None:
    assert request_weight("no.such.method", {"symbol": "BTCUSDT"}) == UNKNOWN_METHOD_WEIGHT
    assert (
        max(
            request_weight(entry["method"], {})
            for entry in spec_methods()
            if entry["weight"].strip().isdigit()
        )
        <= UNKNOWN_METHOD_WEIGHT
    )


def test_the_version_prefix_is_ignored() -> None:
    assert request_weight("v3/depth", {"limit": 5000}) == 250
    assert is_documented("v3/order.place")
    assert order_count("v3/orderList.place.otoco", {}) == 3


def test_connecting_costs_two() -> None:
    assert CONNECTION_WEIGHT == 2


# -- parameter-dependent weights at their boundaries --------------------------------------


@pytest.mark.parametrize(
    ("limit", "weight"),
    [
        (None, 5),  # default limit 100
        (1, 5),
        (100, 5),
        (101, 25),
        (500, 25),
        (501, 50),
        (1000, 50),
        (1001, 250),
        (5000, 250),
        ("500", 25),
        ("1001", 250),
    ],
)
def test_depth_weight_follows_the_limit(limit: int | str | None, weight: int) -> None:
    assert request_weight("depth", {"symbol": "BNBBTC", "limit": limit}) == weight


@pytest.mark.parametrize(
    ("params", "weight"),
    [
        ({"symbol": "BNBBTC"}, 2),
        ({"symbols": symbols(1)}, 2),
        ({"symbols": symbols(20)}, 2),
        ({"symbols": symbols(21)}, 40),
        ({"symbols": symbols(100)}, 40),
        ({"symbols": symbols(101)}, 80),
        ({}, 80),
        ({"type": "MINI"}, 80),
    ],
)
def test_ticker_24hr_weight_follows_the_symbol_count(params: dict[str, Any], weight: int) -> None:
    assert request_weight("ticker.24hr", params) == weight


@pytest.mark.parametrize("method", ["ticker", "ticker.tradingDay"])
@pytest.mark.parametrize(
    ("params", "weight"),
    [
        ({"symbol": "BNBBTC"}, 4),
        ({"symbols": symbols(1)}, 4),
        ({"symbols": symbols(2)}, 8),
        ({"symbols": symbols(49)}, 196),
        ({"symbols": symbols(50)}, 200),
        ({"symbols": symbols(51)}, 200),
        ({"symbols": symbols(100)}, 200),
    ],
)
def test_rolling_and_trading_day_tickers_cost_4_per_symbol_up_to_200(
    method: str, params: dict[str, Any], weight: int
) -> None:
    assert request_weight(method, params) == weight


@pytest.mark.parametrize(
    ("params", "weight"),
    [
        ({"symbol": "BAZUSD"}, 2),
        ({"symbols": symbols(3)}, 6),
        ({"symbols": symbols(20)}, 40),
        ({"symbols": symbols(21)}, 40),
        ({"symbolStatus": "TRADING"}, 40),
        ({}, 40),
    ],
)
def test_execution_rules_weight(params: dict[str, Any], weight: int) -> None:
    assert request_weight("executionRules", params) == weight


@pytest.mark.parametrize("method", ["ticker.price", "ticker.book"])
@pytest.mark.parametrize(
    ("params", "weight"),
    [({"symbol": "BNBBTC"}, 2), ({"symbols": symbols(2)}, 4), ({}, 4)],
)
def test_price_and_book_tickers(method: str, params: dict[str, Any], weight: int) -> None:
    assert request_weight(method, params) == weight


@pytest.mark.parametrize(
    ("method", "params", "weight"),
    [
        ("openOrders.status", {"symbol": "BTCUSDT"}, 6),
        ("openOrders.status", {}, 80),
        ("myTrades", {"symbol": "BTCUSDT"}, 20),
        ("myTrades", {"symbol": "BTCUSDT", "orderId": 12}, 5),
        ("myPreventedMatches", {"symbol": "BTCUSDT", "preventedMatchId": 1}, 2),
        ("myPreventedMatches", {"symbol": "BTCUSDT", "orderId": 35}, 20),
        ("order.test", {"symbol": "BTCUSDT"}, 1),
        ("order.test", {"computeCommissionRates": False}, 1),
        ("order.test", {"computeCommissionRates": True}, 20),
        ("order.test", {"computeCommissionRates": "true"}, 20),
        ("sor.order.test", {"computeCommissionRates": True}, 20),
        ("sor.order.test", {}, 1),
    ],
)
def test_conditional_weights(method: str, params: dict[str, Any], weight: int) -> None:
    assert request_weight(method, params) == weight


def test_symbols_may_be_sent_as_json_text() -> None:
    assert symbol_count({"symbols": '["BTCUSDT","BNBBTC","ETHBTC"]'}) == 3
    assert request_weight("ticker", {"symbols": json.dumps(symbols(30))}) == 120


# -- weight once the outcome is known (CHANGELOG 2026-03-27 and 2026-04-02) ---------------

CHANGELOG_ZERO_ON_SUCCESS = {
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


def test_the_zero_on_success_methods_are_those_of_the_changelog() -> None:
    assert ZERO_WEIGHT_ON_SUCCESS == CHANGELOG_ZERO_ON_SUCCESS


@pytest.mark.parametrize("method", sorted(CHANGELOG_ZERO_ON_SUCCESS))
def test_successful_order_requests_weigh_nothing_and_failed_ones_full(method: str) -> None:
    assert weight_after(method, {}, succeeded=True) == 0
    assert weight_after(f"v3/{method}", {}, succeeded=True) == 0
    assert weight_after(method, {}, succeeded=False) == request_weight(method, {}) == 1


def test_an_amendment_weighs_nothing_only_when_it_expires_the_order() -> None:
    method = "order.amend.keepPriority"
    assert weight_after(method, {}, succeeded=True) == 4
    assert weight_after(method, {}, succeeded=True, order_expired=True) == 0
    assert weight_after(method, {}, succeeded=False, order_expired=True) == 4


@pytest.mark.parametrize("method", ["order.test", "sor.order.test", "order.status", "depth"])
def test_other_methods_cost_the_same_whatever_the_outcome(method: str) -> None:
    params = {"symbol": "BTCUSDT", "computeCommissionRates": True, "limit": 1000}
    expected = request_weight(method, params)
    assert weight_after(method, params, succeeded=True, order_expired=True) == expected
    assert weight_after(method, params, succeeded=False) == expected


# -- unfilled order counts ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "orders"),
    [
        ("order.place", 1),
        ("order.test", 0),
        ("order.cancel", 0),
        ("order.cancelReplace", 1),
        ("order.amend.keepPriority", 0),
        ("openOrders.cancelAll", 0),
        ("orderList.place", 1),  # deprecated OCO: documented as 1
        ("orderList.place.oco", 2),
        ("orderList.place.oto", 2),
        ("orderList.place.otoco", 3),
        ("orderList.place.opo", 2),
        ("orderList.place.opoco", 3),
        ("orderList.cancel", 0),
        ("sor.order.place", 1),
        ("sor.order.test", 0),
        ("account.status", 0),
    ],
)
def test_order_counts_are_the_documented_ones(method: str, orders: int) -> None:
    assert order_count(method, {"symbol": "BTCUSDT"}) == orders


# -- properties ---------------------------------------------------------------------------

SYMBOL_COUNT_METHODS = ["ticker.24hr", "ticker", "ticker.tradingDay", "executionRules"]
ALL_SYMBOLS_METHODS = ["ticker.24hr", "ticker.price", "ticker.book", "executionRules"]

symbol_lists = st.integers(min_value=0, max_value=300).map(symbols)
params_strategy = st.fixed_dictionaries(
    {},
    optional={
        "symbol": st.just("BTCUSDT"),
        "symbols": symbol_lists,
        "limit": st.one_of(st.integers(-10, 20_000), st.text(max_size=6)),
        "orderId": st.integers(1, 10**12),
        "preventedMatchId": st.integers(1, 10**6),
        "computeCommissionRates": st.one_of(st.booleans(), st.sampled_from(["true", "false"])),
        "symbolStatus": st.sampled_from(["TRADING", "HALT", "BREAK"]),
    },
)


@given(method=st.sampled_from(sorted(WEIGHT_RULES)), params=params_strategy)
def test_every_weight_is_a_positive_int(method: str, params: dict[str, Any]) -> None:
    weight = request_weight(method, params)
    assert type(weight) is int
    assert weight > 0


@given(
    method=st.sampled_from(SYMBOL_COUNT_METHODS),
    n=st.integers(min_value=1, max_value=300),
    more=st.integers(min_value=0, max_value=300),
)
def test_weight_never_drops_as_symbols_are_added(method: str, n: int, more: int) -> None:
    fewer = request_weight(method, {"symbols": symbols(n)})
    assert fewer <= request_weight(method, {"symbols": symbols(n + more)})


@given(method=st.sampled_from(ALL_SYMBOLS_METHODS), n=st.integers(min_value=1, max_value=300))
def test_naming_no_symbol_costs_at_least_as_much_as_naming_some(method: str, n: int) -> None:
    assert request_weight(method, {"symbols": symbols(n)}) <= request_weight(method, {})
    assert request_weight(method, {"symbol": "BTCUSDT"}) <= request_weight(method, {})


@given(
    method=st.sampled_from(sorted(WEIGHT_RULES)),
    params=params_strategy,
    succeeded=st.booleans(),
    order_expired=st.booleans(),
)
def test_the_final_weight_never_exceeds_the_charged_one(
    method: str, params: dict[str, Any], succeeded: bool, order_expired: bool
) -> None:
    final = weight_after(method, params, succeeded=succeeded, order_expired=order_expired)
    assert final in (0, request_weight(method, params))
    if not succeeded:
        assert final == request_weight(method, params)
