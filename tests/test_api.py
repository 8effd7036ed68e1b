"""The typed API end to end: every coroutine over real loopback to the local exchange.

A recording handler per method stands in for the exchange's own: it keeps the parameters the
exchange received (after its signature checks, which strip apiKey/signature/timestamp and
recvWindow of signed requests) and answers with the documented example result.
"""

from __future__ import annotations

import functools
import inspect
import json
import re
import warnings
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

import trio_binance
from trio_binance import (
    BadRequest,
    ExecutionStatusUnknown,
    InvalidParameter,
    PartialSuccess,
    RateLimited,
)
from trio_binance._api import (
    API_METHODS,
    CancelReplaceFailed,
    CancelReplacePartiallyFailed,
)
from trio_binance._client_ids import CLIENT_IDS_BY_METHOD, check_client_id
from trio_binance._credentials import Ed25519Credentials, generate_ed25519
from trio_binance.models import (
    METHOD_RESULTS,
    CancelReplaceResult,
    CancelRestrictions,
    KlineInterval,
    OrderStatus,
    OrderType,
    Side,
    SymbolStatus,
    Ticker24hr,
    TimeInForce,
)
from trio_binance.testing import ExchangeError, LocalExchange, Reply, Request, open_local_exchange

FIXTURE = Path(__file__).parent / "fixtures" / "spec" / "methods.json"
SIGNING_PARAMS = ("apiKey", "signature", "timestamp")
CLIENT_ID = re.compile(r"[.A-Z:/a-z0-9_-]{1,36}")
DAY_MS = 24 * 60 * 60 * 1000


@functools.cache
def documented() -> dict[str, dict[str, Any]]:
    entries = json.loads(FIXTURE.read_text(encoding="utf-8"))["methods"]
    return {entry["method"]: entry for entry in entries}


def example(method: str, index: int = 0) -> Any:
    return documented()[method]["responses"][index]["result"]


def first_example(method: str) -> Any:
    return next(f["result"] for f in documented()[method]["responses"] if "result" in f)


def error_example(method: str, status: int, index: int = 0) -> dict[str, Any]:
    errors = [f["error"] for f in documented()[method]["responses"] if f["status"] == status]
    error: dict[str, Any] = errors[index]
    return error


# --- the exchange and the session ----------------------------------------------------------


@dataclass
class Recorder:
    """Answers every documented method with its example and keeps what arrived."""

    answers: dict[str, Any] = field(default_factory=dict)
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def install(self, exchange: LocalExchange) -> None:
        for method in documented():
            exchange.register(method, self.handler(method))

    def handler(self, method: str) -> Callable[[Request], Any]:
        def answer(request: Request) -> Any:
            params = {k: v for k, v in request.params.items() if k not in SIGNING_PARAMS}
            self.received.append((request.method, params))
            return self.answers[method] if method in self.answers else first_example(method)

        return answer


@dataclass
class Api:
    exchange: LocalExchange
    session: trio_binance.Session
    recorder: Recorder

    def sent(self) -> int:
        return self.session.statistics().requests_sent


def ed25519_key(exchange: LocalExchange) -> Ed25519Credentials:
    credentials = generate_ed25519("testkey1")
    exchange.keys.add_credentials(credentials, "alice")
    return credentials


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    """A session logged on with an Ed25519 key; recorders installed once it is connected
    (connecting syncs the clock with ``time`` and logs on with the exchange's own handlers)."""
    async with open_local_exchange(LocalExchange()) as exchange:
        credentials = ed25519_key(exchange)
        async with trio_binance.connect(
            exchange.url, credentials=credentials, clock_refresh=None
        ) as session:
            recorder = Recorder()
            recorder.install(exchange)
            yield Api(exchange, session, recorder)


@pytest.fixture
async def public_session() -> AsyncIterator[Api]:
    """A session without credentials: enough to see that a refused call sends nothing."""
    async with (
        open_local_exchange(LocalExchange()) as exchange,
        trio_binance.connect(exchange.url) as session,
    ):
        recorder = Recorder()
        recorder.install(exchange)
        yield Api(exchange, session, recorder)


# --- one realistic call per method -------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """A typed call, the parameters the exchange must receive, and which example answers."""

    method: str
    arguments: dict[str, Any]
    wire: dict[str, Any]
    example: int = 0

    @property
    def coroutine(self) -> str:
        return API_METHODS[self.method]


LIMIT_SELL: dict[str, Any] = {
    "symbol": "BTCUSDT",
    "side": Side.SELL,
    "type": OrderType.LIMIT,
    "time_in_force": TimeInForce.GTC,
    "price": Decimal("23416.10000000"),
    "quantity": "0.00847000",
}
LIMIT_SELL_WIRE = {
    "symbol": "BTCUSDT",
    "side": "SELL",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "price": "23416.10000000",
    "quantity": "0.00847000",
}
DAY: dict[str, Any] = {"start_time": 1660780800000, "end_time": 1660867200000}
DAY_WIRE = {"startTime": 1660780800000, "endTime": 1660867200000}

CALLS = [
    Call("ping", {}, {}),
    Call("time", {}, {}),
    Call(
        "exchangeInfo",
        {"symbols": ["BNBBTC"], "show_permission_sets": False},
        {"symbols": ["BNBBTC"], "showPermissionSets": False},
    ),
    Call("executionRules", {"symbol": "BAZUSD"}, {"symbol": "BAZUSD"}),
    Call(
        "depth",
        {"symbol": "BNBBTC", "limit": 5, "symbol_status": SymbolStatus.TRADING},
        {"symbol": "BNBBTC", "limit": 5, "symbolStatus": "TRADING"},
    ),
    Call("trades.recent", {"symbol": "BNBBTC", "limit": 1}, {"symbol": "BNBBTC", "limit": 1}),
    Call(
        "trades.historical",
        {"symbol": "BNBBTC", "from_id": 0, "limit": 1},
        {"symbol": "BNBBTC", "fromId": 0, "limit": 1},
    ),
    Call(
        "blockTrades.historical",
        {"symbol": "BNBBTC", "from_id": 582, "limit": 1},
        {"symbol": "BNBBTC", "fromId": 582, "limit": 1},
    ),
    Call(
        "trades.aggregate",
        {"symbol": "BNBBTC", "from_id": 50000000, "limit": 1},
        {"symbol": "BNBBTC", "fromId": 50000000, "limit": 1},
    ),
    Call(
        "klines",
        {
            "symbol": "BNBBTC",
            "interval": KlineInterval.HOUR_1,
            "start_time": 1655969280000,
            "time_zone": "-1:30",
            "limit": 1,
        },
        {
            "symbol": "BNBBTC",
            "interval": "1h",
            "startTime": 1655969280000,
            "timeZone": "-1:30",
            "limit": 1,
        },
    ),
    Call(
        "uiKlines",
        {"symbol": "BNBBTC", "interval": "1M", "start_time": 1655969280000, "limit": 1},
        {"symbol": "BNBBTC", "interval": "1M", "startTime": 1655969280000, "limit": 1},
    ),
    Call("avgPrice", {"symbol": "BNBBTC"}, {"symbol": "BNBBTC"}),
    Call(
        "ticker.24hr",
        {"symbol": "BNBBTC", "type": "MINI"},
        {"symbol": "BNBBTC", "type": "MINI"},
        example=1,
    ),
    Call(
        "ticker.tradingDay",
        {"symbols": ["BNBBTC", "BTCUSDT"], "time_zone": "00:00"},
        {"symbols": ["BNBBTC", "BTCUSDT"], "timeZone": "00:00"},
        example=1,
    ),
    Call(
        "ticker",
        {"symbols": ("BNBBTC", "BTCUSDT"), "window_size": "7d"},
        {"symbols": ["BNBBTC", "BTCUSDT"], "windowSize": "7d"},
        example=2,
    ),
    Call("ticker.price", {"symbol": "BNBBTC"}, {"symbol": "BNBBTC"}),
    Call(
        "ticker.book",
        {"symbols": ["BNBBTC", "BTCUSDT"]},
        {"symbols": ["BNBBTC", "BTCUSDT"]},
        example=1,
    ),
    Call("referencePrice", {"symbol": "BAZUSD"}, {"symbol": "BAZUSD"}),
    Call(
        "referencePrice.calculation",
        {"symbol": "BAZUSD", "symbol_status": "TRADING"},
        {"symbol": "BAZUSD", "symbolStatus": "TRADING"},
        example=1,
    ),
    # session.logon has security type NONE, so the exchange leaves recvWindow in its params.
    Call("session.logon", {"recv_window": Decimal("6000.346")}, {"recvWindow": "6000.346"}),
    Call("session.status", {}, {}),
    Call("session.logout", {}, {}),
    Call(
        "order.place",
        {**LIMIT_SELL, "new_order_resp_type": "FULL", "strategy_type": 1_000_000},
        {**LIMIT_SELL_WIRE, "newOrderRespType": "FULL", "strategyType": 1_000_000},
        example=2,
    ),
    Call(
        "order.test",
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "MARKET",
            "quote_order_qty": Decimal("100.00"),
            "compute_commission_rates": True,
        },
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "MARKET",
            "quoteOrderQty": "100.00",
            "computeCommissionRates": True,
        },
        example=1,
    ),
    Call(
        "order.cancel",
        {
            "symbol": "BTCUSDT",
            "orig_client_order_id": "4d96324ff9d44481926157",
            "cancel_restrictions": CancelRestrictions.ONLY_NEW,
        },
        {
            "symbol": "BTCUSDT",
            "origClientOrderId": "4d96324ff9d44481926157",
            "cancelRestrictions": "ONLY_NEW",
        },
    ),
    Call(
        "order.cancelReplace",
        {
            **LIMIT_SELL,
            "cancel_replace_mode": "ALLOW_FAILURE",
            "cancel_orig_client_order_id": "4d96324ff9d44481926157",
        },
        {
            **LIMIT_SELL_WIRE,
            "cancelReplaceMode": "ALLOW_FAILURE",
            "cancelOrigClientOrderId": "4d96324ff9d44481926157",
        },
    ),
    Call(
        "order.amend.keepPriority",
        {"symbol": "BTCUSDT", "orig_client_order_id": "my_test_order1", "new_qty": Decimal("5")},
        {"symbol": "BTCUSDT", "origClientOrderId": "my_test_order1", "newQty": "5"},
    ),
    Call("openOrders.cancelAll", {"symbol": "BTCUSDT"}, {"symbol": "BTCUSDT"}),
    Call(
        "orderList.place",
        {
            "symbol": "BTCUSDT",
            "side": "SELL",
            "price": "23420.00000000",
            "quantity": "0.00650000",
            "stop_price": "23410.00000000",
            "stop_limit_price": "23405.00000000",
            "stop_limit_time_in_force": "GTC",
            "new_order_resp_type": "RESULT",
        },
        {
            "symbol": "BTCUSDT",
            "side": "SELL",
            "price": "23420.00000000",
            "quantity": "0.00650000",
            "stopPrice": "23410.00000000",
            "stopLimitPrice": "23405.00000000",
            "stopLimitTimeInForce": "GTC",
            "newOrderRespType": "RESULT",
        },
    ),
    Call(
        "orderList.place.oco",
        {
            "symbol": "LTCBNB",
            "side": "BUY",
            "quantity": Decimal(1),
            "above_type": "STOP_LOSS_LIMIT",
            "above_price": "1.5",
            "above_stop_price": "1.50000001",
            "above_time_in_force": "GTC",
            "below_type": "LIMIT_MAKER",
            "below_price": Decimal("1.49999999"),
        },
        {
            "symbol": "LTCBNB",
            "side": "BUY",
            "quantity": "1",
            "aboveType": "STOP_LOSS_LIMIT",
            "abovePrice": "1.5",
            "aboveStopPrice": "1.50000001",
            "aboveTimeInForce": "GTC",
            "belowType": "LIMIT_MAKER",
            "belowPrice": "1.49999999",
        },
    ),
    Call(
        "orderList.place.oto",
        {
            "symbol": "LTCBNB",
            "working_type": "LIMIT",
            "working_side": "SELL",
            "working_price": Decimal(1),
            "working_quantity": "1",
            "working_time_in_force": "GTC",
            "pending_type": "MARKET",
            "pending_side": "BUY",
            "pending_quantity": "1",
        },
        {
            "symbol": "LTCBNB",
            "workingType": "LIMIT",
            "workingSide": "SELL",
            "workingPrice": "1",
            "workingQuantity": "1",
            "workingTimeInForce": "GTC",
            "pendingType": "MARKET",
            "pendingSide": "BUY",
            "pendingQuantity": "1",
        },
    ),
    Call(
        "orderList.place.otoco",
        {
            "symbol": "LTCBNB",
            "working_type": "LIMIT",
            "working_side": "BUY",
            "working_price": "1.5",
            "working_quantity": "1",
            "working_time_in_force": "GTC",
            "pending_side": "SELL",
            "pending_quantity": "5",
            "pending_above_type": "STOP_LOSS",
            "pending_above_stop_price": "0.5",
            "pending_below_type": "LIMIT_MAKER",
            "pending_below_price": "5",
        },
        {
            "symbol": "LTCBNB",
            "workingType": "LIMIT",
            "workingSide": "BUY",
            "workingPrice": "1.5",
            "workingQuantity": "1",
            "workingTimeInForce": "GTC",
            "pendingSide": "SELL",
            "pendingQuantity": "5",
            "pendingAboveType": "STOP_LOSS",
            "pendingAboveStopPrice": "0.5",
            "pendingBelowType": "LIMIT_MAKER",
            "pendingBelowPrice": "5",
        },
    ),
    Call(
        "orderList.place.opo",
        {
            "symbol": "BTCUSDT",
            "working_type": "LIMIT",
            "working_side": "BUY",
            "working_price": "101496",
            "working_quantity": "0.0007",
            "working_time_in_force": "GTC",
            "pending_type": "MARKET",
            "pending_side": "SELL",
        },
        {
            "symbol": "BTCUSDT",
            "workingType": "LIMIT",
            "workingSide": "BUY",
            "workingPrice": "101496",
            "workingQuantity": "0.0007",
            "workingTimeInForce": "GTC",
            "pendingType": "MARKET",
            "pendingSide": "SELL",
        },
    ),
    Call(
        "orderList.place.opoco",
        {
            "symbol": "BTCUSDT",
            "working_type": "LIMIT",
            "working_side": "BUY",
            "working_price": "102496",
            "working_quantity": "0.0017",
            "working_time_in_force": "GTC",
            "pending_side": "SELL",
            "pending_above_type": "LIMIT_MAKER",
            "pending_above_price": "104261",
            "pending_below_type": "STOP_LOSS_LIMIT",
            "pending_below_stop_price": "10100",
            "pending_below_price": "101613",
            "pending_below_time_in_force": "IOC",
        },
        {
            "symbol": "BTCUSDT",
            "workingType": "LIMIT",
            "workingSide": "BUY",
            "workingPrice": "102496",
            "workingQuantity": "0.0017",
            "workingTimeInForce": "GTC",
            "pendingSide": "SELL",
            "pendingAboveType": "LIMIT_MAKER",
            "pendingAbovePrice": "104261",
            "pendingBelowType": "STOP_LOSS_LIMIT",
            "pendingBelowStopPrice": "10100",
            "pendingBelowPrice": "101613",
            "pendingBelowTimeInForce": "IOC",
        },
    ),
    Call(
        "orderList.cancel",
        {"symbol": "BTCUSDT", "order_list_id": 1274512},
        {"symbol": "BTCUSDT", "orderListId": 1274512},
    ),
    Call(
        "sor.order.place",
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "quantity": Decimal("0.5"),
            "time_in_force": "GTC",
            "price": Decimal("31000"),
        },
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "quantity": "0.5",
            "timeInForce": "GTC",
            "price": "31000",
        },
    ),
    Call(
        "sor.order.test",
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "quantity": "0.1",
            "time_in_force": "GTC",
            "price": "0.1",
            "compute_commission_rates": True,
        },
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "quantity": "0.1",
            "timeInForce": "GTC",
            "price": "0.1",
            "computeCommissionRates": True,
        },
        example=1,
    ),
    Call("account.status", {"omit_zero_balances": True}, {"omitZeroBalances": True}),
    Call(
        "order.status",
        {"symbol": "BTCUSDT", "order_id": 12569099453},
        {"symbol": "BTCUSDT", "orderId": 12569099453},
    ),
    Call("openOrders.status", {"symbol": "BTCUSDT"}, {"symbol": "BTCUSDT"}),
    Call(
        "allOrders",
        {"symbol": "BTCUSDT", **DAY, "limit": 5},
        {"symbol": "BTCUSDT", **DAY_WIRE, "limit": 5},
    ),
    Call(
        "orderList.status",
        {"orig_client_order_id": "08985fedd9ea2cf6b28996"},
        {"origClientOrderId": "08985fedd9ea2cf6b28996"},
    ),
    Call("openOrderLists.status", {}, {}),
    Call("allOrderLists", {**DAY, "limit": 5}, {**DAY_WIRE, "limit": 5}),
    Call("myTrades", {"symbol": "BTCUSDT", **DAY}, {"symbol": "BTCUSDT", **DAY_WIRE}),
    Call("account.rateLimits.orders", {}, {}),
    Call(
        "myPreventedMatches",
        {"symbol": "BTCUSDT", "order_id": 35},
        {"symbol": "BTCUSDT", "orderId": 35},
    ),
    Call(
        "myAllocations",
        {"symbol": "BTCUSDT", "order_id": 500},
        {"symbol": "BTCUSDT", "orderId": 500},
    ),
    Call("account.commission", {"symbol": "BTCUSDT"}, {"symbol": "BTCUSDT"}),
    Call(
        "order.amendments",
        {"symbol": "BTCUSDT", "order_id": 23, "limit": 1000},
        {"symbol": "BTCUSDT", "orderId": 23, "limit": 1000},
    ),
    Call("myFilters", {"symbol": "BTCUSDT"}, {"symbol": "BTCUSDT"}),
    Call("userDataStream.subscribe", {}, {}),
    Call("userDataStream.unsubscribe", {"subscription_id": 0}, {"subscriptionId": 0}),
    Call("session.subscriptions", {}, {}),
    Call("userDataStream.subscribe.signature", {}, {}),
]
CALLS_BY_METHOD = {call.method: call for call in CALLS}


def test_every_documented_method_is_called_end_to_end() -> None:
    assert set(CALLS_BY_METHOD) == set(documented()) == set(API_METHODS)


async def invoke(session: trio_binance.Session, call: Call, **changes: Any) -> Any:
    coroutine = getattr(session, call.coroutine)
    arguments = {**call.arguments, **changes}
    if call.method == "orderList.place":
        with pytest.warns(DeprecationWarning, match=r"place_oco \(orderList\.place\.oco\)"):
            return await coroutine(**arguments)
    return await coroutine(**arguments)


def split_client_ids(method: str, params: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The parameters the caller gave, and the client ids the library generated."""
    generated = [name for name, _ in CLIENT_IDS_BY_METHOD.get(method, ()) if name in params]
    given = {name: value for name, value in params.items() if name not in generated}
    return given, [params[name] for name in generated]


# The local exchange asks userDataStream.subscribe for a timestamp, but the documented request
# has no parameters at all (web-socket-api.md, "Subscribe to User Data Stream"): its bug.
EXCHANGE_BUGS: dict[str, str] = {}


def with_known_bugs(calls: list[Call]) -> list[Any]:
    return [
        pytest.param(call, id=call.coroutine, marks=pytest.mark.xfail(reason=reason, strict=True))
        if (reason := EXCHANGE_BUGS.get(call.method))
        else pytest.param(call, id=call.coroutine)
        for call in calls
    ]


@pytest.mark.parametrize("call", with_known_bugs(CALLS))
async def test_each_coroutine_sends_its_method_with_canonical_params(api: Api, call: Call) -> None:
    api.recorder.answers[call.method] = example(call.method, call.example)
    result = await invoke(api.session, call)

    [(method, params)] = api.recorder.received
    assert method == call.method
    given, generated = split_client_ids(call.method, params)
    assert given == call.wire
    expected_ids = {name for name, leg in CLIENT_IDS_BY_METHOD.get(call.method, ())}
    assert len(generated) == len(expected_ids)  # every leg of every order gets its id
    assert all(CLIENT_ID.fullmatch(client_id) for client_id in generated)
    assert len(set(generated)) == len(generated)

    expected = msgspec.json.decode(
        json.dumps(example(call.method, call.example)).encode(), type=METHOD_RESULTS[call.method]
    )
    assert result == expected


async def test_one_symbol_gives_one_ticker_and_several_give_a_list(api: Api) -> None:
    one = await api.session.ticker_24hr(symbol="BNBBTC")
    assert isinstance(one, Ticker24hr)
    api.recorder.answers["ticker.24hr"] = example("ticker.24hr", 2)
    several = await api.session.ticker_24hr(symbols=["BNBBTC", "BTCUSDT"])
    assert isinstance(several, list)
    assert [ticker.symbol for ticker in several] == ["BNBBTC", "BTCUSDT"]
    every = await api.session.ticker_24hr()
    assert isinstance(every, list)
    assert api.recorder.received[-1] == ("ticker.24hr", {})


# --- client order ids --------------------------------------------------------------------


async def test_a_client_order_id_prefix_starts_every_generated_id(api: Api) -> None:
    api.session.client_order_id_prefix = "bot7-"
    await invoke(api.session, CALLS_BY_METHOD["orderList.place.otoco"])
    _, params = api.recorder.received[-1]
    _, generated = split_client_ids("orderList.place.otoco", params)
    assert len(generated) == 4
    assert all(client_id.startswith("bot7-") and len(client_id) <= 36 for client_id in generated)


@pytest.mark.parametrize("prefix", ["x" * 17, "bad prefix", "é"])
async def test_a_bad_prefix_is_refused_when_set(api: Api, prefix: str) -> None:
    with pytest.raises(InvalidParameter, match="client_order_id_prefix"):
        api.session.client_order_id_prefix = prefix
    assert api.session.client_order_id_prefix == ""


async def test_ids_the_caller_chose_are_sent_as_they_are(api: Api) -> None:
    await api.session.place_order(**LIMIT_SELL, new_client_order_id="my:order/1.a_b-c")
    _, params = api.recorder.received[-1]
    assert params["newClientOrderId"] == "my:order/1.a_b-c"


async def test_an_unknown_outcome_names_the_generated_client_ids(api: Api) -> None:
    msg = "Timeout waiting for response from backend server."
    api.exchange.faults.arm(Reply(503, -1007, msg, after_execute=True), method="order.place")
    with pytest.raises(ExecutionStatusUnknown) as caught:
        await api.session.place_order(**LIMIT_SELL)
    [(_, params)] = api.recorder.received  # executed: the exchange has the order
    assert caught.value.client_order_ids == (params["newClientOrderId"],)


async def test_an_unknown_order_list_outcome_names_every_leg(api: Api) -> None:
    api.exchange.faults.arm(Reply(503, -1007, "Timeout."), method="orderList.place.oto")
    with pytest.raises(ExecutionStatusUnknown) as caught:
        await invoke(api.session, CALLS_BY_METHOD["orderList.place.oto"])
    assert len(caught.value.client_order_ids) == 3
    assert all(CLIENT_ID.fullmatch(client_id) for client_id in caught.value.client_order_ids)


# --- order.cancelReplace errors ----------------------------------------------------------


def refuse_with(status: int, code: int, msg: str, data: Any) -> Callable[[Request], Any]:
    def handler(request: Request) -> Any:
        raise ExchangeError(status, code, msg, data)

    return handler


@pytest.mark.parametrize("index", [0, 1, 2])
async def test_cancel_replace_409_raises_with_both_halves_decoded(api: Api, index: int) -> None:
    error = error_example("order.cancelReplace", 409, index)
    api.exchange.register(
        "order.cancelReplace", refuse_with(409, -2021, error["msg"], error["data"])
    )
    with pytest.raises(CancelReplacePartiallyFailed) as caught:
        await invoke(api.session, CALLS_BY_METHOD["order.cancelReplace"])
    failure = caught.value
    assert isinstance(failure, PartialSuccess)
    assert (failure.status, failure.code) == (409, -2021)
    data = error["data"]
    assert failure.cancel_result == CancelReplaceResult(data["cancelResult"])
    assert failure.new_order_result == CancelReplaceResult(data["newOrderResult"])
    assert failure.cancel_response is not None
    assert failure.new_order_response is not None
    failed, succeeded = (
        (failure.new_order_response, failure.cancel_response)
        if data["newOrderResult"] == "FAILURE"
        else (failure.cancel_response, failure.new_order_response)
    )
    assert failed.is_error
    assert (
        failed.code
        == data["newOrderResponse" if failed is failure.new_order_response else "cancelResponse"][
            "code"
        ]
    )
    assert not succeeded.is_error
    assert succeeded.as_order().status in (OrderStatus.CANCELED, OrderStatus.NEW)


async def test_cancel_replace_400_raises_with_halves_decoded(api: Api) -> None:
    error = error_example("order.cancelReplace", 400)
    api.exchange.register(
        "order.cancelReplace", refuse_with(400, -2022, error["msg"], error["data"])
    )
    with pytest.raises(CancelReplaceFailed) as caught:
        await invoke(api.session, CALLS_BY_METHOD["order.cancelReplace"])
    assert isinstance(caught.value, BadRequest)
    assert caught.value.cancel_result == CancelReplaceResult.FAILURE
    assert caught.value.cancel_response is not None
    assert caught.value.cancel_response.code == -2011
    assert caught.value.new_order_response is None


async def test_cancel_replace_errors_without_halves_stay_as_they_are(api: Api) -> None:
    refusals = [
        (400, -1102, "Mandatory parameter missing.", BadRequest),
        (429, -1015, "Too many new orders.", RateLimited),
    ]
    for status, code, msg, kind in refusals:
        api.exchange.register("order.cancelReplace", refuse_with(status, code, msg, None))
        with pytest.raises(kind) as caught:
            await invoke(api.session, CALLS_BY_METHOD["order.cancelReplace"])
        assert type(caught.value) is kind


# --- validation: refused before anything is sent ------------------------------------------

BUY: dict[str, Any] = {"symbol": "BTCUSDT", "side": "BUY"}
LIMIT_BUY: dict[str, Any] = {
    **BUY,
    "type": "LIMIT",
    "time_in_force": "GTC",
    "price": "1",
    "quantity": "1",
}
STOP_TYPES: dict[str, Any] = {"stop_price": "1", "quantity": "1"}
OCO: dict[str, Any] = {
    **BUY,
    "quantity": "1",
    "above_type": "LIMIT_MAKER",
    "above_price": "2",
    "below_type": "STOP_LOSS",
    "below_stop_price": "1",
}
OTO: dict[str, Any] = {
    "symbol": "BTCUSDT",
    "working_type": "LIMIT",
    "working_side": "BUY",
    "working_price": "1",
    "working_quantity": "1",
    "working_time_in_force": "GTC",
    "pending_type": "LIMIT_MAKER",
    "pending_side": "SELL",
    "pending_quantity": "1",
    "pending_price": "2",
}
OTOCO: dict[str, Any] = {
    k: v for k, v in OTO.items() if k not in ("pending_type", "pending_price")
} | {
    "pending_above_type": "LIMIT_MAKER",
    "pending_above_price": "2",
}
OPO: dict[str, Any] = {k: v for k, v in OTO.items() if k != "pending_quantity"}
OPOCO: dict[str, Any] = {k: v for k, v in OTOCO.items() if k != "pending_quantity"}
CANCEL_REPLACE: dict[str, Any] = {
    **LIMIT_BUY,
    "cancel_replace_mode": "STOP_ON_FAILURE",
    "cancel_order_id": 1,
}
LEGACY_OCO: dict[str, Any] = {**BUY, "price": "1", "quantity": "1", "stop_price": "2"}


def without(arguments: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in arguments.items() if k not in names}


# (coroutine, arguments, the parameter the error must name)
REFUSALS: list[tuple[str, dict[str, Any], str]] = [
    # "Mandatory parameters based on type" (order.place), one row at a time
    ("place_order", without(LIMIT_BUY, "time_in_force"), "time_in_force"),
    ("place_order", without(LIMIT_BUY, "price"), "price"),
    ("place_order", without(LIMIT_BUY, "quantity"), "quantity"),
    ("place_order", {**BUY, "type": "LIMIT_MAKER", "quantity": "1"}, "price"),
    ("place_order", {**BUY, "type": "LIMIT_MAKER", "price": "1"}, "quantity"),
    ("place_order", {**BUY, "type": "MARKET"}, "quantity"),
    ("place_order", {**BUY, "type": "STOP_LOSS", "quantity": "1"}, "stop_price"),
    ("place_order", {**BUY, "type": "STOP_LOSS", "trailing_delta": 100}, "quantity"),
    (
        "place_order",
        {**BUY, "type": "STOP_LOSS_LIMIT", "price": "1", **STOP_TYPES},
        "time_in_force",
    ),
    (
        "place_order",
        {**BUY, "type": "STOP_LOSS_LIMIT", "time_in_force": "GTC", **STOP_TYPES},
        "price",
    ),
    ("place_order", {**BUY, "type": "TAKE_PROFIT", "quantity": "1"}, "stop_price"),
    (
        "place_order",
        {**BUY, "type": "TAKE_PROFIT_LIMIT", "time_in_force": "GTC", "price": "1", "quantity": "1"},
        "stop_price",
    ),
    # mutually exclusive or jointly required
    (
        "place_order",
        {**BUY, "type": "MARKET", "quantity": "1", "quote_order_qty": "10"},
        "quote_order_qty",
    ),
    (
        "place_order",
        {**LIMIT_BUY, "peg_price_type": "PRIMARY_PEG", "peg_offset_type": "PRICE_LEVEL"},
        "peg_offset_value",
    ),
    ("place_order", {**LIMIT_BUY, "time_in_force": "IOC", "iceberg_qty": "0.1"}, "time_in_force"),
    # obviously invalid values
    ("place_order", {**LIMIT_BUY, "quantity": "-1"}, "quantity"),
    ("place_order", {**LIMIT_BUY, "price": "0"}, "price"),
    ("place_order", {**LIMIT_BUY, "price": "1,5"}, "price"),
    ("place_order", {**LIMIT_BUY, "price": " 1"}, "price"),
    ("place_order", {**LIMIT_BUY, "price": "NaN"}, "price"),
    ("place_order", {**LIMIT_BUY, "price": Decimal("Infinity")}, "price"),
    ("place_order", {**LIMIT_BUY, "price": 1}, "price"),
    ("place_order", {**LIMIT_BUY, "symbol": ""}, "symbol"),
    ("place_order", {**LIMIT_BUY, "side": ""}, "side"),
    ("place_order", {**LIMIT_BUY, "new_client_order_id": "no spaces"}, "new_client_order_id"),
    ("place_order", {**LIMIT_BUY, "new_client_order_id": "x" * 37}, "new_client_order_id"),
    ("place_order", {**LIMIT_BUY, "strategy_type": 999_999}, "strategy_type"),
    (
        "place_order",
        {**LIMIT_BUY, "peg_offset_value": 101, "peg_offset_type": "PRICE_LEVEL"},
        "peg_offset_value",
    ),
    (
        "place_order",
        {**BUY, "type": "STOP_LOSS", "quantity": "1", "trailing_delta": 0},
        "trailing_delta",
    ),
    ("place_order", {**LIMIT_BUY, "recv_window": 60_001}, "recv_window"),
    ("place_order", {**LIMIT_BUY, "recv_window": "5000.0001"}, "recv_window"),
    ("place_order", {**LIMIT_BUY, "recv_window": 0}, "recv_window"),
    ("test_order", without(LIMIT_BUY, "price"), "price"),
    ("test_order", {**LIMIT_BUY, "compute_commission_rates": "yes"}, "compute_commission_rates"),
    ("cancel_order", {"symbol": "BTCUSDT"}, "order_id"),
    ("cancel_replace_order", without(CANCEL_REPLACE, "cancel_order_id"), "cancel_order_id"),
    ("cancel_replace_order", without(CANCEL_REPLACE, "time_in_force"), "time_in_force"),
    ("amend_order_keep_priority", {"symbol": "BTCUSDT", "order_id": 1, "new_qty": "0"}, "new_qty"),
    ("amend_order_keep_priority", {"symbol": "BTCUSDT", "new_qty": "1"}, "order_id"),
    ("place_oco", without(OCO, "below_stop_price"), "below_stop_price"),
    ("place_oco", without(OCO, "above_price"), "above_price"),
    (
        "place_oco",
        {**OCO, "above_type": "STOP_LOSS_LIMIT", "above_stop_price": "3"},
        "above_time_in_force",
    ),
    ("place_oto", {**OTO, "working_type": "MARKET"}, "working_type"),
    ("place_oto", without(OTO, "working_time_in_force"), "working_time_in_force"),
    ("place_oto", {**OTO, "pending_type": "LIMIT"}, "pending_time_in_force"),
    ("place_oto", without(OTO, "pending_price"), "pending_price"),
    (
        "place_otoco",
        {**OTOCO, "pending_above_type": "STOP_LOSS_LIMIT"},
        "pending_above_time_in_force",
    ),
    ("place_otoco", {**OTOCO, "pending_below_type": "STOP_LOSS"}, "pending_below_stop_price"),
    ("place_opo", {**OPO, "pending_type": "TAKE_PROFIT"}, "pending_stop_price"),
    (
        "place_opoco",
        {**OPOCO, "pending_below_type": "TAKE_PROFIT_LIMIT", "pending_below_stop_price": "1"},
        "pending_below_time_in_force",
    ),
    ("cancel_order_list", {"symbol": "BTCUSDT"}, "order_list_id"),
    ("place_sor_order", {**BUY, "type": "STOP_LOSS", "quantity": "1"}, "type"),
    ("place_sor_order", {**BUY, "type": "LIMIT", "quantity": "1", "time_in_force": "GTC"}, "price"),
    ("test_sor_order", {**BUY, "type": "LIMIT", "quantity": "1", "price": "1"}, "time_in_force"),
    # market data and queries
    ("exchange_info", {"symbol": "BTCUSDT", "symbols": ["ETHUSDT"]}, "symbols"),
    ("exchange_info", {"symbols": ["ETHUSDT"], "permissions": ["SPOT"]}, "permissions"),
    ("exchange_info", {"symbol": "BTCUSDT", "symbol_status": "TRADING"}, "symbol_status"),
    ("exchange_info", {"permissions": []}, "permissions"),
    ("execution_rules", {"symbols": ["BTCUSDT"], "symbol_status": "HALT"}, "symbol_status"),
    ("depth", {"symbol": "BTCUSDT", "limit": 0}, "limit"),
    ("depth", {"symbol": "BTCUSDT", "limit": 5001}, "limit"),
    ("depth", {"symbol": "BTCUSDT", "limit": True}, "limit"),
    ("recent_trades", {"symbol": "BTCUSDT", "limit": 1001}, "limit"),
    ("historical_trades", {"symbol": "BTCUSDT", "from_id": -1}, "from_id"),
    ("aggregate_trades", {"symbol": "BTCUSDT", "from_id": 1, "start_time": 1}, "from_id"),
    ("klines", {"symbol": "BTCUSDT", "interval": "1h", "time_zone": "+14:01"}, "time_zone"),
    ("klines", {"symbol": "BTCUSDT", "interval": "1h", "time_zone": "-12:30"}, "time_zone"),
    ("klines", {"symbol": "BTCUSDT", "interval": "1h", "time_zone": "5:75"}, "time_zone"),
    ("klines", {"symbol": "BTCUSDT", "interval": "1h", "start_time": 2, "end_time": 1}, "end_time"),
    ("ui_klines", {"symbol": "BTCUSDT", "interval": ""}, "interval"),
    ("ticker_24hr", {"symbol": "BTCUSDT", "symbols": ["ETHUSDT"]}, "symbols"),
    ("trading_day_ticker", {}, "symbol"),
    ("ticker", {"symbol": "BTCUSDT", "symbols": ["ETHUSDT"]}, "symbols"),
    ("ticker", {"symbol": "BTCUSDT", "window_size": "8d"}, "window_size"),
    ("ticker", {"symbol": "BTCUSDT", "window_size": "1d2h"}, "window_size"),
    ("ticker", {"symbol": "BTCUSDT", "window_size": "0m"}, "window_size"),
    ("price_ticker", {"symbols": "BTCUSDT"}, "symbols"),
    ("book_ticker", {"symbols": []}, "symbols"),
    ("average_price", {"symbol": " BTCUSDT"}, "symbol"),
    ("order_status", {"symbol": "BTCUSDT"}, "order_id"),
    ("order_list_status", {}, "order_list_id"),
    ("all_orders", {"symbol": "BTCUSDT", "start_time": 0, "end_time": DAY_MS + 1}, "end_time"),
    ("all_order_lists", {"start_time": 0, "end_time": DAY_MS + 1}, "end_time"),
    ("my_trades", {"symbol": "BTCUSDT", "order_id": 1, "start_time": 1}, "order_id"),
    ("my_trades", {"symbol": "BTCUSDT", "from_id": 1, "end_time": 1}, "from_id"),
    ("prevented_matches", {"symbol": "BTCUSDT"}, "prevented_match_id"),
    (
        "prevented_matches",
        {"symbol": "BTCUSDT", "prevented_match_id": 1, "order_id": 1},
        "order_id",
    ),
    (
        "prevented_matches",
        {"symbol": "BTCUSDT", "prevented_match_id": 1, "limit": 5},
        "prevented_match_id",
    ),
    ("allocations", {"symbol": "BTCUSDT", "start_time": 1, "order_id": 1}, "start_time"),
    ("allocations", {"symbol": "BTCUSDT", "start_time": 0, "end_time": DAY_MS + 1}, "end_time"),
    ("order_amendments", {"symbol": "BTCUSDT", "order_id": -1}, "order_id"),
    ("unsubscribe_user_data", {"subscription_id": True}, "subscription_id"),
    ("account_status", {"omit_zero_balances": 1}, "omit_zero_balances"),
    ("logon", {"recv_window": "abc"}, "recv_window"),
]


@pytest.mark.parametrize(
    ("coroutine", "arguments", "name"),
    REFUSALS,
    ids=[f"{coroutine}-{name}-{index}" for index, (coroutine, _, name) in enumerate(REFUSALS)],
)
async def test_bad_input_is_refused_naming_the_parameter_and_nothing_is_sent(
    public_session: Api, coroutine: str, arguments: dict[str, Any], name: str
) -> None:
    before = public_session.sent()
    with pytest.raises(InvalidParameter) as caught:
        await getattr(public_session.session, coroutine)(**arguments)
    assert caught.value.name == name
    assert name in str(caught.value)
    assert public_session.sent() == before
    assert public_session.recorder.received == []


async def test_the_legacy_oco_warns_and_checks_its_stop_leg(public_session: Api) -> None:
    session = public_session.session
    with (
        pytest.warns(DeprecationWarning, match="deprecated"),
        pytest.raises(InvalidParameter) as caught,
    ):
        await session.place_oco_legacy(**without(LEGACY_OCO, "stop_price"))
    assert caught.value.name == "stop_price"
    with (
        pytest.warns(DeprecationWarning, match="deprecated"),
        pytest.raises(InvalidParameter) as caught,
    ):
        await session.place_oco_legacy(**LEGACY_OCO, stop_limit_price="1")
    assert caught.value.name == "stop_limit_time_in_force"
    with (
        pytest.warns(DeprecationWarning, match="deprecated"),
        pytest.raises(InvalidParameter) as caught,
    ):
        await session.place_oco_legacy(
            **LEGACY_OCO, stop_iceberg_qty="1", stop_limit_price="1", stop_limit_time_in_force="FOK"
        )
    assert caught.value.name == "stop_limit_time_in_force"
    assert public_session.sent() == 0


async def test_every_parameter_of_every_coroutine_refuses_a_float(public_session: Api) -> None:
    """Each keyword argument of each coroutine is checked, and errors name it."""
    session = public_session.session
    checked = 0
    for call in CALLS:
        coroutine = getattr(session, call.coroutine)
        for name in inspect.signature(coroutine).parameters:
            arguments = {**call.arguments, name: 0.5}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                with pytest.raises(InvalidParameter) as caught:
                    await coroutine(**arguments)
            assert caught.value.name == name, (call.coroutine, name)
            checked += 1
    assert checked > 400
    assert public_session.sent() == 0


@pytest.mark.parametrize(
    "arguments",
    [
        # "If pegPriceType is specified, price becomes optional."
        {**without(LIMIT_BUY, "price"), "peg_price_type": "PRIMARY_PEG"},
        # None means "not sent"
        {**LIMIT_BUY, "stop_price": None, "trailing_delta": None},
        {**BUY, "type": "STOP_LOSS", "quantity": "1", "trailing_delta": 50},
        {**BUY, "type": "LIMIT_MAKER", "price": "1", "quantity": "1", "iceberg_qty": "0.1"},
        # a type Binance may add later is not second-guessed
        {**BUY, "type": "SOME_NEW_TYPE", "quantity": "1"},
    ],
)
async def test_valid_variations_are_sent(api: Api, arguments: dict[str, Any]) -> None:
    await api.session.place_order(**arguments)
    [(method, params)] = api.recorder.received
    assert method == "order.place"
    assert params["symbol"] == "BTCUSDT"


async def test_both_order_ids_may_be_given(api: Api) -> None:
    # order.cancel: "orderId is searched first, then the origClientOrderId from that result is
    # checked against that order" -- both together are allowed.
    await api.session.cancel_order(symbol="BTCUSDT", order_id=1, orig_client_order_id="abc")
    ((method, params),) = api.recorder.received
    new_id = params.pop("newClientOrderId")  # generated: how an unknown cancel is found
    assert (method, params) == (
        "order.cancel",
        {"symbol": "BTCUSDT", "orderId": 1, "origClientOrderId": "abc"},
    )
    assert isinstance(new_id, str)
    check_client_id("newClientOrderId", new_id)


# --- prices and quantities: exact text, never a float --------------------------------------

decimals = st.decimals(
    min_value=Decimal("1e-18"), max_value=Decimal("1e18"), allow_nan=False, allow_infinity=False
)
price_forms: st.SearchStrategy[Decimal | str] = decimals.flatmap(
    lambda d: st.sampled_from([d, str(d), format(d, "f"), format(d, "e"), format(d, "E")])
)
PLAIN_DECIMAL = re.compile(r"\d+(\.\d+)?")


async def sent_prices(values: list[Decimal | str]) -> list[str]:
    """Each value as the price of a test order, as the local exchange received it."""
    async with open_local_exchange(LocalExchange()) as exchange:
        credentials = ed25519_key(exchange)
        async with trio_binance.connect(
            exchange.url, credentials=credentials, clock_refresh=None
        ) as session:
            recorder = Recorder()
            recorder.install(exchange)
            for value in values:
                await session.test_order(**{**LIMIT_BUY, "price": value})
    return [params["price"] for _, params in recorder.received]


@settings(max_examples=15, deadline=None)
@given(st.lists(price_forms, min_size=1, max_size=25))
def test_any_decimal_or_decimal_text_reaches_the_wire_as_the_same_plain_text(
    values: list[Decimal | str],
) -> None:
    wire = trio.run(sent_prices, values)
    for value, text in zip(values, wire, strict=True):
        assert PLAIN_DECIMAL.fullmatch(text), text  # no exponent, no sign, no spaces
        assert Decimal(text) == Decimal(value)
        number = Decimal(value)
        assert text == format(number, "f")  # Decimal, str(Decimal) and '1.5e3' agree


@settings(max_examples=30)
@given(st.floats(allow_nan=True, allow_infinity=True))
async def test_float_prices_are_refused(value: float) -> None:
    async with (
        open_local_exchange(LocalExchange()) as exchange,
        trio_binance.connect(exchange.url) as session,
    ):
        with pytest.raises(InvalidParameter, match="float") as caught:
            await session.place_order(**{**LIMIT_BUY, "price": value})
        assert caught.value.name == "price"
        assert session.statistics().requests_sent == 0
