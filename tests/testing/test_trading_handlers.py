"""Trading and account handlers answer with the documented shapes, errors and events.

Shapes are checked against the response examples extracted from web-socket-api.md
(tests/fixtures/spec/methods.json) and the events of user-data-stream.md
(tests/fixtures/spec/user_data_events.json): same field names, same JSON types; fields the
docs call conditional may be absent on either side.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_binance.testing._config import default_config
from trio_binance.testing._engine import Exchange, ExchangeError
from trio_binance.testing._error_messages import (
    ERROR_MESSAGES,
    FILTER_FAILURE_MESSAGES,
    ORDER_REJECTION_MESSAGES,
)
from trio_binance.testing._trading import Outcome, TradingService

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "spec"
METHODS: dict[str, dict[str, Any]] = {
    m["method"]: m for m in json.loads((FIXTURES / "methods.json").read_text())["methods"]
}
EVENTS: dict[str, dict[str, Any]] = {
    e["event_type"]: e["event"]
    for e in json.loads((FIXTURES / "user_data_events.json").read_text())
}

# web-socket-api.md "Conditional fields in Order Responses" and user-data-stream.md
# "Conditional Fields in Execution Report": present only when the order uses them.
CONDITIONAL = frozenset(
    {
        "stopPrice",
        "trailingDelta",
        "trailingTime",
        "icebergQty",
        "preventedMatchId",
        "preventedQuantity",
        "strategyId",
        "strategyType",
        "usedSor",
        "workingFloor",
        "pegPriceType",
        "pegOffsetType",
        "pegOffsetValue",
        "peggedPrice",
        "expiryReason",
        "listStatus",
        *("v", "W", "d", "D", "j", "J", "A", "B", "u", "U", "Cs", "pl", "pL", "pY"),
        *("b", "a", "k", "uS", "gP", "gOT", "gOV", "gp", "eR"),
    }
)
# Documented as null in the example, a value when there is one.
NULLABLE = frozenset({"N", "newOrderResponse"})
# Messages a method's own documentation gives (order.cancel, "Regarding cancelRestrictions").
METHOD_DOC_MESSAGES = frozenset({"Invalid cancelRestrictions"})

NOW = 1_700_000_000_000
D = Decimal


def documented(method: str, index: int = 0) -> dict[str, Any]:
    response: dict[str, Any] = METHODS[method]["responses"][index]
    return response


def json_type(value: Any) -> str:
    return type(value).__name__


def shape_problems(ours: Any, doc: Any, path: str = "$") -> list[str]:
    """Where ``ours`` differs from ``doc`` in field names or JSON types."""
    if isinstance(doc, dict):
        if not isinstance(ours, dict):
            return [f"{path}: {json_type(ours)} instead of an object"]
        problems = [f"{path}.{k}: missing" for k in doc.keys() - ours.keys() - CONDITIONAL]
        problems += [f"{path}.{k}: not documented" for k in ours.keys() - doc.keys() - CONDITIONAL]
        for key in doc.keys() & ours.keys():
            if key in NULLABLE and (doc[key] is None or ours[key] is None):
                continue
            problems += shape_problems(ours[key], doc[key], f"{path}.{key}")
        return problems
    if isinstance(doc, list):
        if not isinstance(ours, list):
            return [f"{path}: {json_type(ours)} instead of an array"]
        if len(doc) == len(ours):
            pairs = list(zip(ours, doc, strict=True))
        else:
            pairs = [(item, doc[0]) for item in ours] if doc else []
        return [p for i, (o, d) in enumerate(pairs) for p in shape_problems(o, d, f"{path}[{i}]")]
    if json_type(ours) != json_type(doc):
        return [f"{path}: {json_type(ours)} instead of {json_type(doc)}"]
    return []


def assert_shape(ours: Any, doc: Any) -> None:
    assert shape_problems(ours, doc) == []


def is_documented(code: int, msg: str) -> bool:
    if msg in ORDER_REJECTION_MESSAGES or msg in FILTER_FAILURE_MESSAGES:
        return True
    if msg in METHOD_DOC_MESSAGES or msg == "Filter failure: PERCENT_PRICE_BY_SIDE":
        return True
    templates = ERROR_MESSAGES.get(code, ())
    return any(re.fullmatch(re.escape(t).replace("%s", ".+"), msg) for t in templates)


class Client:
    """Calls handlers the way the server will: account id, wire params, time."""

    def __init__(self) -> None:
        self.service = TradingService(Exchange(default_config()), random.Random(7))
        self.now = NOW
        self.events: list[tuple[str, dict[str, Any]]] = []

    def call(self, method: str, account: str = "alice", **params: Any) -> Any:
        return self.outcome(method, account, **params).result

    def outcome(self, method: str, account: str = "alice", **params: Any) -> Outcome:
        self.now += 1
        handler = self.service.handler(method)
        assert handler is not None, method
        outcome = handler(account, params, self.now)
        self.events += outcome.events
        return outcome

    def error(self, method: str, account: str = "alice", **params: Any) -> ExchangeError:
        with pytest.raises(ExchangeError) as caught:
            self.call(method, account, **params)
        error = caught.value
        assert is_documented(error.code, error.msg), (error.code, error.msg)
        self.events += error.events
        return error

    def limit(self, side: str, qty: str, price: str, account: str = "alice", **more: Any) -> Any:
        return self.call(
            "order.place",
            account,
            symbol="BTCUSDT",
            side=side,
            type="LIMIT",
            timeInForce="GTC",
            quantity=qty,
            price=price,
            **more,
        )

    def trade_at(self, price: str) -> None:
        """A trade between the demo accounts, to set the last price."""
        self.limit("SELL", "0.001", price, account="bob")
        self.limit("BUY", "0.001", price, account="alice")


@pytest.fixture
def client() -> Client:
    return Client()


def sell_oco(client: Client, **more: Any) -> Any:
    client.trade_at("30000")
    return client.call(
        "orderList.place.oco",
        symbol="BTCUSDT",
        side="SELL",
        quantity="0.01",
        aboveType="LIMIT_MAKER",
        abovePrice="31000",
        belowType="STOP_LOSS_LIMIT",
        belowPrice="28900",
        belowStopPrice="29000",
        belowTimeInForce="GTC",
        **more,
    )


def oto(client: Client, **more: Any) -> Any:
    return client.call(
        "orderList.place.oto",
        symbol="BTCUSDT",
        workingType="LIMIT",
        workingSide="SELL",
        workingPrice="30000",
        workingQuantity="0.01",
        workingTimeInForce="GTC",
        pendingType="MARKET",
        pendingSide="BUY",
        pendingQuantity="0.01",
        **more,
    )


# --- order.place / order.test ----------------------------------------------------------------


@pytest.mark.parametrize(("response_type", "index"), [("ACK", 0), ("RESULT", 1), ("FULL", 2)])
def test_order_place_response_types(client: Client, response_type: str, index: int) -> None:
    client.limit("BUY", "0.002", "23416.1", account="bob")
    result = client.limit("SELL", "0.00847", "23416.1", newOrderRespType=response_type)
    expected = documented("order.place", index)["result"]
    if response_type == "FULL":
        # The FULL example omits fields it says are "identical to RESULT response".
        expected = documented("order.place", 1)["result"] | {"fills": expected["fills"]}
    assert_shape(result, expected)
    if response_type == "FULL":
        assert result["status"] == "PARTIALLY_FILLED"
        assert [f["qty"] for f in result["fills"]] == ["0.00200000"]


def test_order_place_defaults_full_for_limit_and_market_ack_for_others(client: Client) -> None:
    assert "fills" in client.limit("BUY", "0.001", "20000")
    client.trade_at("30000")
    stop = client.call(
        "order.place",
        symbol="BTCUSDT",
        side="SELL",
        type="STOP_LOSS",
        quantity="0.001",
        stopPrice="25000",
    )
    assert set(stop) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}


def test_order_place_generates_client_ids_from_the_injected_random(client: Client) -> None:
    first = client.limit("BUY", "0.001", "20000")["clientOrderId"]
    again = Client().limit("BUY", "0.001", "20000")["clientOrderId"]
    assert first == again
    assert re.fullmatch(r"[A-Za-z0-9]{22}", first)


def test_order_place_accepts_json_numbers(client: Client) -> None:
    result = client.call(
        "order.place",
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity=1,
        price=20000.5,
        newOrderRespType="RESULT",
    )
    assert (result["origQty"], result["price"]) == ("1.00000000", "20000.50000000")


def test_order_test_validates_without_placing(client: Client) -> None:
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
    params |= {"quantity": "0.001", "price": "20000"}
    outcome = client.outcome("order.test", **params)
    assert outcome.result == {}
    assert (outcome.events, outcome.orders_placed) == ([], 0)
    assert client.call("openOrders.status") == []
    rates = client.call("order.test", computeCommissionRates=True, **params)
    assert_shape(rates, documented("order.test", 1)["result"])
    assert rates["standardCommissionForOrder"] == {"maker": "0.00100000", "taker": "0.00100000"}
    assert client.error("order.test", **(params | {"price": "20000.001"})).code == -1013


# --- parameter errors ---------------------------------------------------------------------------

BASE = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
BASE |= {"quantity": "0.001", "price": "20000"}


@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        (
            {"timeInForce": None},
            -1102,
            "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.",
        ),
        (
            {"price": ""},
            -1102,
            "Mandatory parameter 'price' was not sent, was empty/null, or malformed.",
        ),
        (
            {"type": "MARKET", "price": None, "timeInForce": None, "quantity": None},
            -1102,
            "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
        ),
        (
            {"type": "STOP_LOSS", "price": None, "timeInForce": None},
            -1102,
            "Param 'stopPrice' or 'trailingDelta' must be sent, but both were empty/null!",
        ),
        (
            {"type": "MARKET", "timeInForce": None},
            -1106,
            "Parameter 'price' sent when not required.",
        ),
        ({"type": "MARKET", "price": None}, -1114, "TimeInForce parameter sent when not required."),
        ({"quoteOrderQty": "10"}, -1106, "Parameter 'quoteOrderQty' sent when not required."),
        ({"stopPrice": "1"}, -1106, "Parameter 'stopPrice' sent when not required."),
        ({"side": "HOLD"}, -1117, "Invalid side."),
        ({"type": "ICEBERG"}, -1116, "Invalid orderType."),
        ({"timeInForce": "GTD"}, -1115, "Invalid timeInForce."),
        (
            {"price": "1e4"},
            -1100,
            "Illegal characters found in parameter 'price'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
        ),
        ({"price": "20000.000000001"}, -1111, "Parameter 'price' has too much precision."),
        ({"quantity": "0.000000001"}, -1111, "Parameter 'quantity' has too much precision."),
        ({"price": "20000.015"}, -1013, "Filter failure: PRICE_FILTER"),
        ({"price": "20000.5", "quantity": "0.000001"}, -1013, "Filter failure: LOT_SIZE"),
        ({"quantity": "0.0001"}, -1013, "Filter failure: NOTIONAL"),
        ({"symbol": "NOPE"}, -1121, "Invalid symbol."),
        (
            {"symbol": "btcusdt"},
            -1100,
            "Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'.",
        ),
        (
            {"newClientOrderId": "has space"},
            -1100,
            "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.",
        ),
        (
            {"colour": "red"},
            -1104,
            "Not all sent parameters were read; read '6' parameter(s) but was sent '7'.",
        ),
        (
            {"trailingDelta": 100, "type": "STOP_LOSS_LIMIT", "price": "20000"},
            -2010,
            "Trailing stop orders are not supported for this symbol.",
        ),
        (
            {"pegPriceType": "PRIMARY_PEG"},
            -2010,
            "Pegged orders are not supported for this symbol.",
        ),
        ({"strategyType": 5}, -1134, "`strategyType` was less than 1000000."),
        (
            {"selfTradePreventionMode": "TRANSFER"},
            -1130,
            "Data sent for parameter 'selfTradePreventionMode' is not valid.",
        ),
        ({"icebergQty": "0.002"}, -2010, "IcebergQty exceeds QTY."),
        (
            {"side": "SELL", "quantity": "101"},
            -2010,
            "Account has insufficient balance for requested action.",
        ),
    ],
)
def test_order_place_refusals(
    client: Client, change: Mapping[str, Any], code: int, message: str
) -> None:
    params = {k: v for k, v in (BASE | dict(change)).items() if v is not None}
    error = client.error("order.place", **params)
    assert (error.status, error.code, error.msg) == (400, code, message)
    assert client.call("openOrders.status") == []


def test_duplicate_client_order_id_of_an_open_order(client: Client) -> None:
    client.limit("BUY", "0.001", "20000", newClientOrderId="mine")
    assert (
        client.error("order.place", **BASE, newClientOrderId="mine").msg == "Duplicate order sent."
    )


def test_percent_price_by_side_uses_the_average_price(client: Client) -> None:
    client.trade_at("30000")
    assert client.error("order.place", **(BASE | {"price": "5000"})).msg == (
        "Filter failure: PERCENT_PRICE_BY_SIDE"
    )


# --- cancel -----------------------------------------------------------------------------------


def test_order_cancel_of_a_single_order(client: Client) -> None:
    placed = client.limit("BUY", "0.001", "20000")
    result = client.call(
        "order.cancel",
        symbol="BTCUSDT",
        origClientOrderId=placed["clientOrderId"],
        newClientOrderId="gone",
    )
    assert_shape(result, documented("order.cancel", 0)["result"])
    assert (result["status"], result["clientOrderId"]) == ("CANCELED", "gone")
    assert result["origClientOrderId"] == placed["clientOrderId"]
    again = client.error("order.cancel", symbol="BTCUSDT", orderId=placed["orderId"])
    assert (again.code, again.msg) == (-2011, "Unknown order sent.")


def test_order_cancel_of_an_order_list_leg_cancels_the_list(client: Client) -> None:
    placed = sell_oco(client)
    leg = placed["orders"][0]["orderId"]
    result = client.call("order.cancel", symbol="BTCUSDT", orderId=leg)
    assert_shape(result, documented("order.cancel", 1)["result"])
    assert [r["status"] for r in result["orderReports"]] == ["CANCELED", "CANCELED"]
    assert result["listOrderStatus"] == "ALL_DONE"


def test_order_cancel_parameter_errors(client: Client) -> None:
    missing = client.error("order.cancel", symbol="BTCUSDT")
    assert (
        missing.msg
        == "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"
    )
    placed = client.limit("BUY", "0.001", "20000")
    bad = client.error(
        "order.cancel", symbol="BTCUSDT", orderId=placed["orderId"], cancelRestrictions="ANY"
    )
    assert {"code": bad.code, "msg": bad.msg} == METHODS["order.cancel"]["other_examples"][0]
    refused = client.error(
        "order.cancel",
        symbol="BTCUSDT",
        orderId=placed["orderId"],
        cancelRestrictions="ONLY_PARTIALLY_FILLED",
    )
    assert {"code": refused.code, "msg": refused.msg} == METHODS["order.cancel"]["other_examples"][
        1
    ]
    mismatch = client.error(
        "order.cancel", symbol="BTCUSDT", orderId=placed["orderId"], origClientOrderId="other"
    )
    assert mismatch.code == -2039


def test_open_orders_cancel_all(client: Client) -> None:
    client.limit("BUY", "0.001", "20000")
    sell_oco(client)
    result = client.call("openOrders.cancelAll", symbol="BTCUSDT")
    assert_shape(result, documented("openOrders.cancelAll")["result"])
    assert client.call("openOrders.status") == []
    nothing = client.error("openOrders.cancelAll", symbol="BTCUSDT")
    assert (nothing.code, nothing.msg) == (-2011, "Unknown order sent.")


# --- cancel-replace ----------------------------------------------------------------------------


def replace_params(order_id: int, **more: Any) -> dict[str, Any]:
    return {
        "symbol": "BTCUSDT",
        "cancelReplaceMode": "STOP_ON_FAILURE",
        "cancelOrderId": order_id,
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "price": "20001",
        "quantity": "0.001",
        **more,
    }


def test_cancel_replace_success(client: Client) -> None:
    placed = client.limit("BUY", "0.001", "20000")
    # The documented success example shows a RESULT-format new order.
    params = replace_params(placed["orderId"], newOrderRespType="RESULT")
    outcome = client.outcome("order.cancelReplace", **params)
    # "newOrderResponse: format is identical to order.place format" -- the example leaves
    # out workingTime, which order.place's RESULT example (and the 409 example) show.
    expected = documented("order.cancelReplace", 0)["result"]
    expected |= {"newOrderResponse": documented("order.place", 1)["result"]}
    assert_shape(outcome.result, expected)
    assert outcome.orders_placed == 1
    assert [o["price"] for o in client.call("openOrders.status")] == ["20001.00000000"]


def assert_error_like(error: ExchangeError, response: Mapping[str, Any]) -> None:
    assert error.status == response["status"]
    assert_shape(error.error_json(), response["error"])
    assert (error.code, error.msg) == (response["error"]["code"], response["error"]["msg"])


def test_cancel_replace_stop_on_failure_does_not_place(client: Client) -> None:
    error = client.error("order.cancelReplace", **replace_params(999))
    assert_error_like(error, documented("order.cancelReplace", 1))
    assert error.data["newOrderResponse"] is None
    assert error.orders_placed == 1  # counted although not attempted
    assert client.call("openOrders.status") == []


def test_cancel_replace_cancel_succeeds_new_order_fails(client: Client) -> None:
    client.limit("SELL", "0.001", "20000", account="bob")
    placed = client.limit("BUY", "0.001", "19000")
    params = replace_params(placed["orderId"], type="LIMIT_MAKER", timeInForce=None, price="20000")
    error = client.error(
        "order.cancelReplace", **{k: v for k, v in params.items() if v is not None}
    )
    assert_error_like(error, documented("order.cancelReplace", 2))
    assert error.data["newOrderResponse"] == {
        "code": -2010,
        "msg": "Order would immediately match and take.",
    }
    assert [e["x"] for a, e in error.events if e["e"] == "executionReport"] == ["CANCELED"]


def test_cancel_replace_allow_failure_places_anyway(client: Client) -> None:
    error = client.error(
        "order.cancelReplace", **replace_params(999, cancelReplaceMode="ALLOW_FAILURE")
    )
    assert_error_like(error, documented("order.cancelReplace", 3))
    assert len(client.call("openOrders.status")) == 1


def test_cancel_replace_both_fail(client: Client) -> None:
    client.limit("SELL", "0.001", "20000", account="bob")
    params = replace_params(
        999, cancelReplaceMode="ALLOW_FAILURE", type="LIMIT_MAKER", price="20000"
    )
    del params["timeInForce"]
    error = client.error("order.cancelReplace", **params)
    assert_error_like(error, documented("order.cancelReplace", 4))


def test_cancel_replace_with_the_order_count_exhausted(client: Client) -> None:
    placed = client.limit("BUY", "0.001", "20000")
    refusal = ExchangeError(
        429, -1015, "Too many new orders; current limit is 50 orders per 10 SECOND."
    )
    params = replace_params(placed["orderId"], orderRateLimitExceededMode="CANCEL_ONLY")
    with pytest.raises(ExchangeError) as caught:
        client.service.cancel_replace("alice", params, NOW, new_order_refusal=refusal)
    assert_error_like(caught.value, documented("order.cancelReplace", 6))
    assert client.call("openOrders.status") == []


# --- amend -------------------------------------------------------------------------------------


def test_amend_keep_priority(client: Client) -> None:
    placed = client.limit("BUY", "0.01", "20000", newClientOrderId="my_test_order1")
    result = client.call(
        "order.amend.keepPriority",
        symbol="BTCUSDT",
        origClientOrderId="my_test_order1",
        newQty="0.005",
    )
    assert_shape(result, documented("order.amend.keepPriority", 0)["result"])
    assert (result["amendedOrder"]["qty"], result["amendedOrder"]["origClientOrderId"]) == (
        "0.00500000",
        "my_test_order1",
    )
    history = client.call("order.amendments", symbol="BTCUSDT", orderId=placed["orderId"])
    assert_shape(history, documented("order.amendments")["result"])
    assert [(h["origQty"], h["newQty"]) for h in history] == [("0.01000000", "0.00500000")]
    replaced = [e for _, e in client.events if e.get("x") == "REPLACED"]
    assert [(e["C"], e["q"]) for e in replaced] == [("my_test_order1", "0.00500000")]


def test_amend_of_an_order_list_leg(client: Client) -> None:
    placed = oto(client)
    pending = placed["orders"][1]["orderId"]
    result = client.call(
        "order.amend.keepPriority", symbol="BTCUSDT", orderId=pending, newQty="0.005"
    )
    assert_shape(result, documented("order.amend.keepPriority", 1)["result"])


# --- order lists --------------------------------------------------------------------------------


def test_order_list_place_oco(client: Client) -> None:
    outcome = client.outcome(
        "orderList.place.oco",
        symbol="BTCUSDT",
        side="BUY",
        quantity="0.01",
        aboveType="STOP_LOSS_LIMIT",
        abovePrice="31000",
        aboveStopPrice="30900",
        aboveTimeInForce="GTC",
        belowType="LIMIT_MAKER",
        belowPrice="29000",
    )
    assert_shape(outcome.result, documented("orderList.place.oco")["result"])
    assert outcome.orders_placed == 2
    assert [r["type"] for r in outcome.result["orderReports"]] == ["STOP_LOSS_LIMIT", "LIMIT_MAKER"]
    assert outcome.result["orderReports"][0]["workingTime"] == -1  # the stop waits


def test_order_list_place_deprecated_oco(client: Client) -> None:
    client.trade_at("23415")
    result = client.call(
        "orderList.place",
        symbol="BTCUSDT",
        side="SELL",
        price="23420",
        quantity="0.0065",
        stopPrice="23410",
        stopLimitPrice="23405",
        stopLimitTimeInForce="GTC",
        newOrderRespType="RESULT",
    )
    assert_shape(result, documented("orderList.place")["result"])


def test_order_list_place_oto_and_otoco(client: Client) -> None:
    outcome = client.outcome(
        "orderList.place.oto",
        symbol="BTCUSDT",
        workingType="LIMIT",
        workingSide="SELL",
        workingPrice="30000",
        workingQuantity="0.01",
        workingTimeInForce="GTC",
        pendingType="MARKET",
        pendingSide="BUY",
        pendingQuantity="0.01",
    )
    assert_shape(outcome.result, documented("orderList.place.oto")["result"])
    assert [r["status"] for r in outcome.result["orderReports"]] == ["NEW", "PENDING_NEW"]
    client.trade_at("20000")
    otoco = client.outcome(
        "orderList.place.otoco",
        symbol="BTCUSDT",
        workingType="LIMIT",
        workingSide="BUY",
        workingPrice="19000",
        workingQuantity="0.01",
        workingTimeInForce="GTC",
        pendingSide="SELL",
        pendingQuantity="0.01",
        pendingAboveType="LIMIT_MAKER",
        pendingAbovePrice="21000",
        pendingBelowType="STOP_LOSS",
        pendingBelowStopPrice="18000",
    )
    assert_shape(otoco.result, documented("orderList.place.otoco")["result"])
    assert otoco.orders_placed == 3


def test_order_list_cancel_and_queries(client: Client) -> None:
    placed = sell_oco(client, listClientOrderId="my_list")
    status = client.call("orderList.status", origClientOrderId="my_list")
    assert_shape(status, documented("orderList.status")["result"])
    assert_shape(
        client.call("openOrderLists.status"), documented("openOrderLists.status")["result"]
    )
    result = client.call("orderList.cancel", symbol="BTCUSDT", orderListId=placed["orderListId"])
    assert_shape(result, documented("orderList.cancel")["result"])
    assert result["listStatusType"] == "ALL_DONE"
    assert client.call("openOrderLists.status") == []
    history = client.call("allOrderLists")
    assert_shape(history, documented("allOrderLists")["result"])
    assert client.error("orderList.status", orderListId=999).code == -2013


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"aboveType": "MARKET"}, -1158),
        ({"aboveType": "STOP_LOSS", "aboveStopPrice": "31000", "abovePrice": None}, -1197),
        ({"abovePrice": "29500"}, -2010),
        ({"belowIcebergQty": "0.001", "belowTimeInForce": "IOC"}, -1160),
    ],
)
def test_oco_refusals(client: Client, change: Mapping[str, Any], code: int) -> None:
    client.trade_at("30000")
    params = {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "quantity": "0.01",
        "aboveType": "LIMIT_MAKER",
        "abovePrice": "31000",
        "belowType": "STOP_LOSS_LIMIT",
        "belowPrice": "28900",
        "belowStopPrice": "29000",
        "belowTimeInForce": "GTC",
    } | dict(change)
    error = client.error(
        "orderList.place.oco", **{k: v for k, v in params.items() if v is not None}
    )
    assert error.code == code


# --- queries ------------------------------------------------------------------------------------


def test_order_status_open_orders_and_history(client: Client) -> None:
    placed = client.limit("SELL", "0.00847", "23416.1")
    status = client.call("order.status", symbol="BTCUSDT", orderId=placed["orderId"])
    assert_shape(status, documented("order.status")["result"])
    assert_shape(
        client.call("openOrders.status", symbol="BTCUSDT"),
        documented("openOrders.status")["result"],
    )
    assert_shape(client.call("allOrders", symbol="BTCUSDT"), documented("allOrders")["result"])
    missing = client.error("order.status", symbol="BTCUSDT", orderId=12345)
    assert (missing.code, missing.msg) == (-2013, "Order does not exist.")


def test_order_status_of_an_old_empty_cancel_is_archived(client: Client) -> None:
    placed = client.limit("BUY", "0.001", "20000")
    client.call("order.cancel", symbol="BTCUSDT", orderId=placed["orderId"])
    client.now += 91 * 24 * 3600 * 1000
    assert client.error("order.status", symbol="BTCUSDT", orderId=placed["orderId"]).code == -2026


def test_my_trades(client: Client) -> None:
    client.limit("BUY", "0.00635", "23416.1", account="bob")
    placed = client.limit("SELL", "0.00635", "23416.1")
    trades = client.call("myTrades", symbol="BTCUSDT", orderId=placed["orderId"])
    assert_shape(trades, documented("myTrades")["result"])
    assert [(t["isBuyer"], t["isMaker"], t["commissionAsset"]) for t in trades] == [
        (False, False, "USDT")
    ]
    combo = client.error("myTrades", symbol="BTCUSDT", fromId=1, startTime=NOW)
    assert combo.code == -1128
    window = client.error(
        "allOrders", symbol="BTCUSDT", startTime=NOW, endTime=NOW + 25 * 3600 * 1000
    )
    assert (window.code, window.msg) == (-1127, "More than 24 hours between startTime and endTime.")
    assert client.error("myTrades", symbol="BTCUSDT", limit=1001).code == -1130


def test_my_prevented_matches(client: Client) -> None:
    maker = client.limit("SELL", "0.0013", "23000")
    taker = client.limit("BUY", "0.0013", "23000", selfTradePreventionMode="EXPIRE_MAKER")
    assert taker["status"] == "NEW"  # the maker expired; nothing else to trade with
    result = client.call("myPreventedMatches", symbol="BTCUSDT", orderId=maker["orderId"])
    assert_shape(result, documented("myPreventedMatches")["result"])
    assert result[0]["makerPreventedQuantity"] == "0.00130000"
    status = client.call("order.status", symbol="BTCUSDT", orderId=maker["orderId"])
    assert (status["status"], status["preventedQuantity"]) == ("EXPIRED_IN_MATCH", "0.00130000")
    assert client.error("myPreventedMatches", symbol="BTCUSDT").code == -1128


def test_account_methods(client: Client) -> None:
    status = client.call("account.status")
    assert_shape(status, documented("account.status")["result"])
    assets = {b["asset"] for b in status["balances"]}
    assert "BNB" in assets
    omitted = client.call("account.status", omitZeroBalances=True)
    assert "BNB" not in {b["asset"] for b in omitted["balances"]}
    commission = client.call("account.commission", symbol="BTCUSDT")
    assert_shape(commission, documented("account.commission")["result"])
    filters = client.call("myFilters", symbol="BTCUSDT")
    example = documented("myFilters")["result"]
    assert filters.keys() == example.keys()
    for group in ("exchangeFilters", "symbolFilters"):
        by_type = {f["filterType"]: f for f in filters[group]}
        for documented_filter in example[group]:
            assert_shape(by_type[documented_filter["filterType"]], documented_filter)
    limits = documented("account.rateLimits.orders")["result"]
    outcome = client.service.account_rate_limits_orders("alice", {}, NOW, limits)
    assert outcome.result == limits


# --- events ---------------------------------------------------------------------------------------


def test_events_have_the_documented_fields(client: Client) -> None:
    sell_oco(client)
    client.limit("BUY", "0.005", "31000", account="bob")
    client.limit("SELL", "0.001", "40000")
    client.call("openOrders.cancelAll", symbol="BTCUSDT")
    seen = set()
    for account, event in client.events:
        assert account in ("alice", "bob")
        assert_shape(event, EVENTS[event["e"]])
        assert event["E"] > NOW
        seen.add(event["e"])
    assert seen == {"executionReport", "listStatus", "outboundAccountPosition"}


def test_a_trade_reports_to_both_sides_then_their_balances(client: Client) -> None:
    client.limit("SELL", "0.002", "30000", account="bob")
    outcome = client.outcome("order.place", **(BASE | {"price": "30000", "quantity": "0.002"}))
    kinds = [(account, e["e"], e.get("x")) for account, e in outcome.events]
    assert kinds == [
        ("alice", "executionReport", "NEW"),
        ("alice", "executionReport", "TRADE"),
        ("bob", "executionReport", "TRADE"),
        ("alice", "outboundAccountPosition", None),
        ("bob", "outboundAccountPosition", None),
    ]
    trade = outcome.events[1][1]
    assert (trade["l"], trade["L"], trade["n"], trade["N"], trade["m"]) == (
        "0.00200000",
        "30000.00000000",
        "0.00000200",
        "BTC",
        False,
    )
    assert [t.price for t in outcome.market.trades] == [D(30000)]


def test_stp_reports_trade_prevention(client: Client) -> None:
    client.limit("SELL", "0.002", "30000")
    outcome = client.outcome(
        "order.place",
        **(
            BASE
            | {"price": "30000", "quantity": "0.002", "selfTradePreventionMode": "EXPIRE_TAKER"}
        ),
    )
    prevention = [e for _, e in outcome.events if e.get("x") == "TRADE_PREVENTION"]
    assert len(prevention) == 1
    assert_shape(prevention[0], EVENTS["executionReport"])
    assert (prevention[0]["X"], prevention[0]["A"], prevention[0]["l"]) == (
        "EXPIRED_IN_MATCH",
        "0.00200000",
        "0.00000000",
    )
    assert outcome.result["preventedQuantity"] == "0.00200000"


# --- robustness ------------------------------------------------------------------------------------

WIRE_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1, max_value=1e6),
    st.sampled_from(
        [
            "",
            "BTCUSDT",
            "BUY",
            "SELL",
            "LIMIT",
            "MARKET",
            "GTC",
            "IOC",
            "0.001",
            "30000",
            "1e3",
            "x y",
        ]
    ),
    st.lists(st.integers(0, 3), max_size=2),
)
PARAM_NAMES = st.sampled_from(
    [
        "symbol",
        "side",
        "type",
        "timeInForce",
        "quantity",
        "price",
        "quoteOrderQty",
        "stopPrice",
        "icebergQty",
        "newClientOrderId",
        "orderId",
        "limit",
        "startTime",
        "aboveType",
        "workingType",
        "bogus",
    ]
)


@settings(max_examples=150, deadline=None)
@given(
    method=st.sampled_from(
        sorted(TradingService(Exchange(default_config()), random.Random()).methods())
    ),
    params=st.dictionaries(PARAM_NAMES, WIRE_VALUES, max_size=6),
)
def test_any_wire_params_get_a_result_or_a_documented_error(
    method: str, params: dict[str, Any]
) -> None:
    error = call_anything(method, params)
    if error is not None:
        assert error.status in (400, 409)
        assert is_documented(error.code, error.msg), (error.code, error.msg)


def call_anything(method: str, params: dict[str, Any]) -> ExchangeError | None:
    service = TradingService(Exchange(default_config()), random.Random(1))
    handler = service.handler(method)
    try:
        if handler is None:
            service.account_rate_limits_orders("alice", params, NOW, [])
        else:
            handler("alice", params, NOW)
    except ExchangeError as error:
        return error
    return None


def test_a_deposit_sends_balance_update_then_account_position(client: Client) -> None:
    outcome = client.service.adjust_balance("alice", "BNB", D("1.5"), NOW)
    assert [e["e"] for _, e in outcome.events] == ["balanceUpdate", "outboundAccountPosition"]
    for _, event in outcome.events:
        assert_shape(event, EVENTS[event["e"]])
    assert outcome.events[0][1]["d"] == "1.50000000"
    assert outcome.events[1][1]["B"] == [{"a": "BNB", "f": "1.50000000", "l": "0.00000000"}]
