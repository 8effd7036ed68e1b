"""The local exchange's market data methods, end to end over loopback.

Trades are made by two accounts through the matching engine; every answer is read back with
a real session, so what is checked is what a client receives.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trio_binance
from trio_binance import BadRequest
from trio_binance.models._registry import METHOD_RESULTS
from trio_binance.testing import Lifecycle, LocalExchange, open_local_exchange
from trio_binance.testing._config import (
    DEMO_BALANCES,
    ExchangeConfig,
    account_config,
    default_config,
    symbol_config,
)
from trio_binance.testing._engine import Effects, Order, OrderRequest
from trio_binance.testing._limits import Limit, RateLimitConfig
from trio_binance.testing._market_data import install_market_data

D = Decimal
SPEC = Path(__file__).parent.parent / "fixtures" / "spec"
T0 = 1_655_969_000_000  # 2022-06-23 07:23:20 UTC: the spec's klines example falls after it
HOUR = 3_600_000
DAY = 24 * HOUR
UNLIMITED = RateLimitConfig(request_weight=(Limit("REQUEST_WEIGHT", "MINUTE", 1, 10**9),))
SYMBOL = "BTCUSDT"

MARKET_METHODS = (
    "exchangeInfo",
    "executionRules",
    "depth",
    "trades.recent",
    "trades.historical",
    "blockTrades.historical",
    "trades.aggregate",
    "klines",
    "uiKlines",
    "avgPrice",
    "ticker.24hr",
    "ticker.tradingDay",
    "ticker",
    "ticker.price",
    "ticker.book",
    "referencePrice",
    "referencePrice.calculation",
)


# --- an exchange with two traders --------------------------------------------------------


def loose_config() -> ExchangeConfig:
    """BTCUSDT without price bands or minimum notional, so random trades always pass."""
    btc = symbol_config(
        SYMBOL,
        "BTC",
        "USDT",
        step_size="0.001",
        min_qty="0.001",
        min_notional="0",
        percent_price=None,
    )
    accounts = tuple(account_config(name, DEMO_BALANCES) for name in ("alice", "bob"))
    return ExchangeConfig((btc, *default_config().symbols[1:]), accounts)


def new_exchange(**options: Any) -> LocalExchange:
    options.setdefault("start_time_ms", T0)
    exchange = LocalExchange(limits=UNLIMITED, **options)
    if exchange.handler("depth") is None:  # not yet wired into LocalExchange itself
        install_market_data(exchange)
    return exchange


@asynccontextmanager
async def market(
    exchange: LocalExchange | None = None, query: str = ""
) -> AsyncIterator[tuple[LocalExchange, trio_binance.Session]]:
    async with (
        open_local_exchange(exchange or new_exchange()) as served,
        trio_binance.connect(served.url + query) as session,
    ):
        yield served, session


class Traders:
    """alice and bob trading BTCUSDT through the engine; ``at`` sets the trade time."""

    def __init__(self, exchange: LocalExchange) -> None:
        self.exchange = exchange
        self._ids = itertools.count(1)

    def order(
        self,
        account: str,
        side: str,
        qty: str,
        price: str | None,
        *,
        at: int | None = None,
        symbol: str = SYMBOL,
    ) -> Order:
        request = OrderRequest(
            symbol,
            side,
            "LIMIT" if price else "MARKET",
            f"c{next(self._ids)}",
            quantity=D(qty),
            price=D(price) if price else None,
            time_in_force="GTC" if price else None,
        )
        now = self.exchange.now_ms() if at is None else at
        return self.exchange.engine.place_order(account, request, Effects(now))

    def trade(self, price: str, qty: str, *, taker: str = "BUY", at: int | None = None) -> None:
        """One trade: alice rests the maker side, bob takes all of it."""
        maker_side = "SELL" if taker == "BUY" else "BUY"
        self.order("alice", maker_side, qty, price, at=at)
        self.order("bob", taker, qty, price, at=at)

    def cancel(self, order: Order) -> None:
        self.exchange.engine.cancel_order(
            order.account_id,
            order.symbol,
            order_id=order.order_id,
            orig_client_order_id=None,
            new_client_order_id=f"x{next(self._ids)}",
            restriction=None,
            fx=Effects(self.exchange.now_ms()),
        )


async def error_of(session: trio_binance.Session, method: str, params: Mapping[str, Any]) -> int:
    with pytest.raises(BadRequest) as caught:
        await session.request(method, params)
    return caught.value.code


# --- JSON shapes -------------------------------------------------------------------------


def load(name: str) -> Any:
    return json.loads((SPEC / name).read_text())


FILTER_SHAPES = {
    name: shape
    for group in load("filters.json").values()
    for name, shape in group.items()
    if isinstance(shape, dict)
}
# Documented as optional: "sors" is "Present only when SOR is available".
OPTIONAL_KEYS = {"sors"}


def json_type(value: Any) -> str:
    return type(value).__name__


def shape_errors(actual: Any, documented: Any, path: str = "result") -> list[str]:
    """Where ``actual`` differs from ``documented`` in field names or JSON types; lists are
    compared element-wise against the documented element (by position for mixed arrays
    such as klines, by ``filterType`` for filters)."""
    if isinstance(documented, dict):
        if not isinstance(actual, dict):
            return [f"{path}: {json_type(actual)}, documented object"]
        missing = set(documented) - set(actual) - OPTIONAL_KEYS
        extra = set(actual) - set(documented)
        errors = [f"{path}: keys missing {sorted(missing)} extra {sorted(extra)}"] * bool(
            missing or extra
        )
        for key in set(actual) & set(documented):
            errors += shape_errors(actual[key], documented[key], f"{path}.{key}")
        return errors
    if isinstance(documented, list):
        if not isinstance(actual, list):
            return [f"{path}: {json_type(actual)}, documented array"]
        return _list_errors(actual, documented, path)
    if json_type(actual) != json_type(documented):
        return [f"{path}: {json_type(actual)} {actual!r}, documented {json_type(documented)}"]
    return []


def _list_errors(actual: list[Any], documented: list[Any], path: str) -> list[str]:
    if not documented:
        return []
    if all(isinstance(item, dict) and "filterType" in item for item in documented):
        return [
            error
            for i, item in enumerate(actual)
            for error in shape_errors(item, FILTER_SHAPES[item["filterType"]], f"{path}[{i}]")
        ]
    if all(not shape_errors(item, documented[0]) for item in documented):
        return [
            error
            for i, item in enumerate(actual)
            for error in shape_errors(item, documented[0], f"{path}[{i}]")
        ]
    if len(actual) != len(documented):  # a positional array (a kline)
        return [f"{path}: {len(actual)} elements, documented {len(documented)}"]
    return [
        error
        for i, (item, doc) in enumerate(zip(actual, documented, strict=True))
        for error in shape_errors(item, doc, f"{path}[{i}]")
    ]


def test_shape_errors_catch_wrong_names_types_and_elements() -> None:
    documented = {"a": "1", "b": [[1, "x"], [2, "y"]], "c": [{"filterType": "MAX_POSITION"}]}
    good = {"a": "2", "b": [[3, "z"]], "c": [{"filterType": "ICEBERG_PARTS", "limit": 3}]}
    assert shape_errors(good, documented) == []
    assert shape_errors({**good, "a": 2}, documented)
    assert shape_errors({**good, "d": 1}, documented)
    assert shape_errors({**good, "b": [["3", "z"]]}, documented)
    assert shape_errors({**good, "c": [{"filterType": "ICEBERG_PARTS", "limit": "3"}]}, documented)
    kline = [1, "o", 2]
    assert shape_errors([[1, "p", 3]], [kline]) == []
    assert shape_errors([[1, "p"]], [kline])


# --- every documented example ------------------------------------------------------------

LOCAL_SYMBOLS = {"BNBBTC": "ETHBTC", "BAZUSD": SYMBOL}
SIGNING = {"apiKey", "signature", "timestamp"}
# Documented example ids far beyond a young exchange's history, moved to its first id.
FIRST_IDS = {"trades.aggregate": {"fromId": 1}}
# Requests that reach the documented response variants the examples do not show.
VARIANTS: Mapping[str, Sequence[Mapping[str, Any]]] = {
    "ticker.24hr": [{"symbol": SYMBOL, "type": "MINI"}, {"symbols": [SYMBOL, "ETHBTC"]}, {}],
    "ticker.tradingDay": [
        {"symbol": SYMBOL},
        {"symbol": SYMBOL, "type": "MINI"},
        {"symbols": [SYMBOL, "ETHBTC"], "type": "MINI"},
    ],
    "ticker": [{"symbol": SYMBOL}, {"symbol": SYMBOL, "type": "MINI", "windowSize": "15m"}],
    "ticker.price": [{"symbols": [SYMBOL, "ETHBTC"]}, {}],
    "ticker.book": [{"symbol": SYMBOL}],
}
# The local exchange never sets or calculates a reference price: only those answers occur.
UNREACHABLE = {
    ("referencePrice", 0),
    ("referencePrice", 1),
    ("referencePrice.calculation", 1),
    ("referencePrice.calculation", 2),
}


def documented(method: str) -> dict[str, Any]:
    return next(item for item in load("methods.json")["methods"] if item["method"] == method)


def local_params(method: str, params: Mapping[str, Any]) -> dict[str, Any]:
    def local(value: Any) -> Any:
        if isinstance(value, list):
            return [local(item) for item in value]
        return LOCAL_SYMBOLS.get(value, value) if isinstance(value, str) else value

    kept = {name: local(value) for name, value in params.items() if name not in SIGNING}
    return {**kept, **FIRST_IDS.get(method, {})}


def example_requests(method: str) -> list[dict[str, Any]]:
    requests = [local_params(method, r.get("params", {})) for r in documented(method)["requests"]]
    return requests + [dict(variant) for variant in VARIANTS.get(method, ())]


def seed_activity(traders: Traders) -> None:
    """Trades in BTCUSDT and ETHBTC, and a book on both sides of each."""
    traders.trade("100", "0.5")
    traders.trade("101", "0.2", taker="SELL")
    traders.order("alice", "SELL", "1", "105")
    traders.order("bob", "BUY", "1", "95")
    traders.order("alice", "SELL", "1", "0.05", symbol="ETHBTC")
    traders.order("bob", "BUY", "0.5", "0.05", symbol="ETHBTC")
    traders.order("bob", "BUY", "1", "0.04", symbol="ETHBTC")


@pytest.mark.parametrize("method", MARKET_METHODS)
async def test_documented_examples_get_documented_shapes_and_decode(
    method: str, autojump_clock: trio.testing.MockClock
) -> None:
    async with market() as (exchange, session):
        traders = Traders(exchange)
        seed_activity(traders)
        await trio.sleep(3600)  # the klines example's startTime is 07:28; now is past 08:23
        seed_activity(traders)
        spec = documented(method)
        matched: set[int] = set()
        for params in example_requests(method):
            if spec["responses"][0].get("status") != 200:
                expected = spec["responses"][0]["error"]["code"]
                assert await error_of(session, method, params) == expected
                matched.add(0)
                continue
            result = await session.request(method, params)
            assert result or method == "blockTrades.historical", (method, params)
            fits = [
                i
                for i, response in enumerate(spec["responses"])
                if "result" in response and not shape_errors(result, response["result"])
            ]
            assert fits, (params, [shape_errors(result, r["result"]) for r in spec["responses"]])
            matched.update(fits)
            await session.request(method, params, result_type=METHOD_RESULTS[method])
        unmatched = {i for i in range(len(spec["responses"])) if (method, i) not in UNREACHABLE}
        assert unmatched <= matched


# --- trades --------------------------------------------------------------------------------


async def test_recent_and_historical_trades_are_the_engine_trades_in_order() -> None:
    async with market() as (exchange, session):
        traders = Traders(exchange)
        traders.trade("100", "0.5", at=T0 + 1)
        traders.trade("101.5", "0.25", taker="SELL", at=T0 + 2)
        traders.trade("99", "1", at=T0 + 3)
        recent = await session.request("trades.recent", {"symbol": SYMBOL})
        assert [(t["id"], t["price"], t["qty"], t["quoteQty"], t["time"]) for t in recent] == [
            (1, "100.00000000", "0.50000000", "50.00000000", T0 + 1),
            (2, "101.50000000", "0.25000000", "25.37500000", T0 + 2),
            (3, "99.00000000", "1.00000000", "99.00000000", T0 + 3),
        ]
        # The buyer is the maker exactly when the taker sold.
        assert [t["isBuyerMaker"] for t in recent] == [False, True, False]
        last_two = await session.request("trades.recent", {"symbol": SYMBOL, "limit": 2})
        assert [t["id"] for t in last_two] == [2, 3]
        history = await session.request(
            "trades.historical", {"symbol": SYMBOL, "fromId": 2, "limit": 1}
        )
        assert [t["id"] for t in history] == [2]
        newest = await session.request("trades.historical", {"symbol": SYMBOL, "limit": 1})
        assert [t["id"] for t in newest] == [3]


async def test_aggregate_trades_group_one_taker_order_per_price() -> None:
    async with market() as (exchange, session):
        traders = Traders(exchange)
        for price, qty in (("100", "0.1"), ("100", "0.2"), ("101", "0.3")):
            traders.order("alice", "SELL", qty, price, at=T0)
        traders.order("bob", "BUY", "0.6", "101", at=T0 + 5)  # trades 1, 2 at 100; 3 at 101
        traders.trade("101", "0.4", at=T0 + 5)  # another taker order at the same price and time
        traders.trade("102", "0.5", taker="SELL", at=T0 + 9)
        aggregates = await session.request("trades.aggregate", {"symbol": SYMBOL})
        summary = [(a["a"], a["p"], a["q"], a["f"], a["l"], a["T"], a["m"]) for a in aggregates]
        assert summary == [
            (1, "100.00000000", "0.30000000", 1, 2, T0 + 5, False),
            (2, "101.00000000", "0.30000000", 3, 3, T0 + 5, False),
            (3, "101.00000000", "0.40000000", 4, 4, T0 + 5, False),
            (4, "102.00000000", "0.50000000", 5, 5, T0 + 9, True),
        ]
        assert all(a["M"] for a in aggregates)

        async def ids(**params: Any) -> list[int]:
            found = await session.request("trades.aggregate", {"symbol": SYMBOL, **params})
            return [a["a"] for a in found]

        assert await ids(fromId=2, limit=2) == [2, 3]
        assert await ids(limit=2) == [3, 4]
        assert await ids(startTime=T0 + 5, limit=2) == [1, 2]
        assert await ids(endTime=T0 + 5, limit=2) == [2, 3]
        assert await ids(startTime=T0 + 6, endTime=T0 + 9) == [4]
        assert await ids(startTime=(T0 + 9) * 1000) == [4]  # microseconds are accepted
        params = {"symbol": SYMBOL, "fromId": 1, "startTime": T0}
        assert await error_of(session, "trades.aggregate", params) == -1128


async def test_aggregate_ids_survive_the_engine_forgetting_old_trades() -> None:
    config = loose_config()
    small = ExchangeConfig(config.symbols, config.accounts, trade_history_limit=3)
    async with market(new_exchange(config=small)) as (exchange, session):
        traders = Traders(exchange)
        for n in range(3):
            traders.trade("100", "0.1", at=T0 + n)
        first = await session.request("trades.aggregate", {"symbol": SYMBOL})
        for n in range(3, 5):
            traders.trade("100", "0.1", at=T0 + n)
        later = await session.request("trades.aggregate", {"symbol": SYMBOL})
        assert [a["a"] for a in first] == [1, 2, 3]
        assert [(a["a"], a["f"]) for a in later] == [(3, 3), (4, 4), (5, 5)]


# --- klines --------------------------------------------------------------------------------

TRADE_SEQUENCES = st.lists(
    st.tuples(
        st.integers(0, 4 * 60 * 60_000),  # when, within four hours
        st.integers(9_000, 11_000),  # price in cents
        st.integers(1, 500),  # quantity in thousandths
        st.sampled_from(["BUY", "SELL"]),  # taker side
    ),
    min_size=1,
    max_size=25,
).map(sorted)


@dataclass(frozen=True)
class Fill:
    time: int
    price: Decimal
    qty: Decimal
    taker_buys: bool


def make_trades(traders: Traders, sequence: Sequence[tuple[int, int, int, str]]) -> list[Fill]:
    fills = []
    for offset, cents, thousandths, taker in sequence:
        price, qty = D(cents) / 100, D(thousandths) / 1000
        traders.trade(str(price), str(qty), taker=taker, at=T0 + offset)
        fills.append(Fill(T0 + offset, price, qty, taker == "BUY"))
    return fills


def kline_fills(kline: Sequence[Any], fills: Sequence[Fill]) -> list[Fill]:
    return [fill for fill in fills if kline[0] <= fill.time <= kline[6]]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequence=TRADE_SEQUENCES, interval=st.sampled_from(["1m", "5m", "15m", "1h"]))
async def test_klines_and_24h_ticker_summarise_random_trades(
    sequence: list[tuple[int, int, int, str]], interval: str
) -> None:
    exchange = new_exchange(config=loose_config(), start_time_ms=T0 + 5 * HOUR)
    async with market(exchange) as (exchange, session):
        fills = make_trades(Traders(exchange), sequence)
        klines = await session.request(
            "klines", {"symbol": SYMBOL, "interval": interval, "limit": 1000}
        )
        ticker = await session.request("ticker.24hr", {"symbol": SYMBOL})

    assert klines[0][0] <= fills[0].time and klines[-1][6] >= T0 + 5 * HOUR
    previous_close = None
    for kline in klines:
        open_, high, low, close = (D(kline[i]) for i in range(1, 5))
        assert high >= max(open_, close) and min(open_, close) >= low
        inside = kline_fills(kline, fills)
        assert kline[8] == len(inside)
        assert D(kline[5]) == sum((f.qty for f in inside), D(0))
        assert D(kline[7]) == sum((f.qty * f.price for f in inside), D(0))
        assert D(kline[9]) == sum((f.qty for f in inside if f.taker_buys), D(0))
        if inside:
            assert (open_, close) == (inside[0].price, inside[-1].price)
            assert (high, low) == (max(f.price for f in inside), min(f.price for f in inside))
        else:  # a quiet interval stays at the previous close
            assert open_ == high == low == close == previous_close
        previous_close = close
    assert [k[0] for k in klines[1:]] == [k[6] + 1 for k in klines[:-1]]
    assert sum(k[8] for k in klines) == len(fills)
    assert sum(D(k[5]) for k in klines) == sum(f.qty for f in fills)

    assert ticker["count"] == len(fills)
    assert D(ticker["volume"]) == sum(f.qty for f in fills)
    assert D(ticker["openPrice"]) == fills[0].price
    assert D(ticker["lastPrice"]) == fills[-1].price
    assert D(ticker["highPrice"]) == max(f.price for f in fills)
    assert D(ticker["lowPrice"]) == min(f.price for f in fills)
    assert D(ticker["priceChange"]) == fills[-1].price - fills[0].price


async def test_klines_time_range_and_limit_select_by_open_time() -> None:
    exchange = new_exchange(start_time_ms=T0 + 10 * HOUR)
    async with market(exchange) as (exchange, session):
        traders = Traders(exchange)
        hour0 = T0 // HOUR * HOUR
        traders.trade("100", "1", at=hour0 + 1)
        traders.trade("110", "1", at=hour0 + 3 * HOUR)

        async def opens(**params: Any) -> list[int]:
            found = await session.request("klines", {"symbol": SYMBOL, "interval": "1h", **params})
            return [(k[0] - hour0) // HOUR for k in found]

        assert await opens() == list(range(11))  # first trade's hour to now's
        assert await opens(limit=2) == [9, 10]  # the most recent
        assert await opens(startTime=hour0 + 1, limit=2) == [1, 2]  # open >= startTime
        assert await opens(startTime=hour0 - DAY, limit=1) == [0]  # nothing before trading
        assert await opens(endTime=hour0 + 3 * HOUR, limit=2) == [2, 3]  # open <= endTime
        assert await opens(startTime=hour0 + 2 * HOUR, endTime=hour0 + 4 * HOUR) == [2, 3, 4]
        assert await opens(endTime=hour0 - 1) == []
        ui = await session.request("uiKlines", {"symbol": SYMBOL, "interval": "1h"})
        plain = await session.request("klines", {"symbol": SYMBOL, "interval": "1h"})
        assert ui == plain


@pytest.mark.parametrize(
    ("interval", "time_zone", "open_time", "close_time"),
    [
        ("1s", None, "2022-06-23T07:23:20", "2022-06-23T07:23:20.999"),
        ("3m", None, "2022-06-23T07:21:00", "2022-06-23T07:23:59.999"),
        ("1d", None, "2022-06-23T00:00:00", "2022-06-23T23:59:59.999"),
        ("1d", "8", "2022-06-22T16:00:00", "2022-06-23T15:59:59.999"),
        ("1d", "-1:00", "2022-06-23T01:00:00", "2022-06-24T00:59:59.999"),
        ("1h", "05:45", "2022-06-23T07:15:00", "2022-06-23T08:14:59.999"),
        ("3d", None, "2022-06-21T00:00:00", "2022-06-23T23:59:59.999"),  # from the epoch
        ("1w", None, "2022-06-20T00:00:00", "2022-06-26T23:59:59.999"),  # from Monday
        ("1M", None, "2022-06-01T00:00:00", "2022-06-30T23:59:59.999"),
        ("1M", "+14:00", "2022-05-31T10:00:00", "2022-06-30T09:59:59.999"),
    ],
)
async def test_kline_intervals_open_on_their_boundaries_in_the_time_zone(
    interval: str, time_zone: str | None, open_time: str, close_time: str
) -> None:
    async with market() as (exchange, session):
        Traders(exchange).trade("100", "1", at=T0)
        params = {"symbol": SYMBOL, "interval": interval, "limit": 1, "timeZone": time_zone}
        (kline,) = await session.request("klines", params)
    assert (kline[0], kline[6]) == (epoch_ms(open_time), epoch_ms(close_time))


def epoch_ms(text: str) -> int:
    moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


# --- tickers and prices --------------------------------------------------------------------


async def test_24h_ticker_rolls_and_reports_the_book(
    autojump_clock: trio.testing.MockClock,
) -> None:
    long_lived = new_exchange(lifecycle=Lifecycle(max_age=3 * 24 * 3600))
    async with market(long_lived) as (exchange, session):
        traders = Traders(exchange)
        traders.trade("90", "1")
        await trio.sleep(25 * 3600)
        traders.trade("100", "0.5")
        traders.trade("104", "0.5", taker="SELL")
        traders.order("alice", "SELL", "2", "106")
        traders.order("bob", "BUY", "3", "98")
        ticker = await session.request("ticker.24hr", {"symbol": SYMBOL})
        mini = await session.request("ticker.24hr", {"symbols": [SYMBOL], "type": "MINI"})
    assert ticker["closeTime"] - ticker["openTime"] == DAY
    assert (ticker["firstId"], ticker["lastId"], ticker["count"]) == (2, 3, 2)
    assert ticker["prevClosePrice"] == "90.00000000"  # the last price before the window
    assert (ticker["openPrice"], ticker["lastPrice"]) == ("100.00000000", "104.00000000")
    assert (ticker["priceChange"], ticker["priceChangePercent"]) == ("4.00000000", "4.000")
    assert ticker["weightedAvgPrice"] == "102.00000000"
    assert (ticker["lastQty"], ticker["volume"], ticker["quoteVolume"]) == (
        "0.50000000",
        "1.00000000",
        "102.00000000",
    )
    assert (ticker["bidPrice"], ticker["bidQty"]) == ("98.00000000", "3.00000000")
    assert (ticker["askPrice"], ticker["askQty"]) == ("106.00000000", "2.00000000")
    assert isinstance(mini, list)
    assert mini[0] == {key: ticker[key] for key in mini[0]}
    assert "priceChange" not in mini[0]


async def test_rolling_ticker_window_opens_on_a_minute_and_trading_day_on_midnight(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with market() as (exchange, session):
        traders = Traders(exchange)
        traders.trade("100", "1")
        await trio.sleep(20 * 60 + 0.5)
        traders.trade("102", "1")
        window = await session.request("ticker", {"symbol": SYMBOL, "windowSize": "15m"})
        week = await session.request("ticker", {"symbol": SYMBOL, "windowSize": "7d"})
        day = await session.request("ticker.tradingDay", {"symbol": SYMBOL, "timeZone": "-8"})
    # "openTime always start[s] on a minute boundary", up to 59999 ms before now - 15m.
    widened_by = window["closeTime"] - 15 * 60_000 - window["openTime"]
    assert window["openTime"] % 60_000 == 0 and 0 <= widened_by < 60_000
    assert (window["count"], window["openPrice"]) == (1, "102.00000000")
    assert (week["count"], week["priceChangePercent"]) == (2, "2.000")
    # 07:43 UTC on 2022-06-23 is still 2022-06-22 in UTC-8.
    assert (day["openTime"], day["closeTime"]) == (
        epoch_ms("2022-06-22T08:00:00"),
        epoch_ms("2022-06-23T07:59:59.999"),
    )
    assert day["count"] == 2


async def test_tickers_of_a_quiet_symbol_are_zero() -> None:
    async with market() as (_, session):
        ticker = await session.request("ticker.24hr", {"symbol": "ETHUSDT"})
        price = await session.request("ticker.price", {"symbol": "ETHUSDT"})
        book = await session.request("ticker.book", {"symbol": "ETHUSDT"})
        klines = await session.request("klines", {"symbol": "ETHUSDT", "interval": "1m"})
    assert (ticker["firstId"], ticker["lastId"], ticker["count"]) == (-1, -1, 0)
    assert ticker["lastPrice"] == ticker["volume"] == "0.00000000"
    assert ticker["priceChangePercent"] == "0.000"
    assert price == {"symbol": "ETHUSDT", "price": "0.00000000"}
    assert {book[key] for key in ("bidPrice", "bidQty", "askPrice", "askQty")} == {"0.00000000"}
    assert klines == []


async def test_price_tickers_and_average_price(autojump_clock: trio.testing.MockClock) -> None:
    async with market() as (exchange, session):
        traders = Traders(exchange)
        traders.trade("100", "3")
        await trio.sleep(600)  # out of the 5-minute average
        traders.trade("110", "1")
        traders.trade("120", "3")
        last_trade = exchange.now_ms()
        await trio.sleep(1)
        average = await session.request("avgPrice", {"symbol": SYMBOL})
        every = await session.request("ticker.price", {})
        two = await session.request("ticker.price", {"symbols": ["ETHBTC", SYMBOL]})
    assert average == {"mins": 5, "price": "117.50000000", "closeTime": last_trade}
    assert [t["symbol"] for t in every] == [SYMBOL, "ETHUSDT", "ETHBTC"]
    assert two == [
        {"symbol": "ETHBTC", "price": "0.00000000"},
        {"symbol": SYMBOL, "price": "120.00000000"},
    ]


# --- the book ------------------------------------------------------------------------------

RESTING = st.lists(
    st.tuples(
        st.sampled_from(["BUY", "SELL"]),
        st.integers(1, 40),  # ticks away from 100 (bids below, asks above)
        st.integers(1, 300),  # quantity in thousandths
        st.booleans(),  # cancel it again
    ),
    max_size=25,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders=RESTING, limit=st.integers(1, 10))
async def test_depth_and_book_ticker_reflect_the_book(
    orders: list[tuple[str, int, int, bool]], limit: int
) -> None:
    async with market(new_exchange(config=loose_config())) as (exchange, session):
        traders = Traders(exchange)
        levels: dict[tuple[str, Decimal], Decimal] = {}
        update_ids = [(await session.request("depth", {"symbol": SYMBOL}))["lastUpdateId"]]
        for side, ticks, thousandths, cancel in orders:
            price = D(100) + (ticks if side == "SELL" else -ticks)
            qty = D(thousandths) / 1000
            account = "alice" if side == "SELL" else "bob"
            placed = traders.order(account, side, str(qty), str(price))
            levels[side, price] = levels.get((side, price), D(0)) + qty
            if cancel:
                traders.cancel(placed)
                levels[side, price] -= qty
            update_ids.append((await session.request("depth", {"symbol": SYMBOL}))["lastUpdateId"])
        depth = await session.request("depth", {"symbol": SYMBOL, "limit": limit})
        book = await session.request("ticker.book", {"symbol": SYMBOL})

    assert all(later > earlier for earlier, later in itertools.pairwise(update_ids))
    bids = sorted(((p, q) for (s, p), q in levels.items() if s == "BUY" and q), reverse=True)
    asks = sorted((p, q) for (s, p), q in levels.items() if s == "SELL" and q)
    assert [(D(p), D(q)) for p, q in depth["bids"]] == bids[:limit]
    assert [(D(p), D(q)) for p, q in depth["asks"]] == asks[:limit]
    best_bid, best_ask = (bids or [(D(0), D(0))])[0], (asks or [(D(0), D(0))])[0]
    assert (D(book["bidPrice"]), D(book["bidQty"])) == best_bid
    assert (D(book["askPrice"]), D(book["askQty"])) == best_ask


async def test_depth_update_id_moves_on_trades_and_default_limit_is_100() -> None:
    async with market(new_exchange(config=loose_config())) as (exchange, session):
        traders = Traders(exchange)
        for n in range(120):
            traders.order("bob", "BUY", "0.001", str(D(50) + D(n) / 10))
        before = await session.request("depth", {"symbol": SYMBOL})
        traders.order("alice", "SELL", "0.001", None)  # takes the best bid
        after = await session.request("depth", {"symbol": SYMBOL})
    assert len(before["bids"]) == 100 and before["bids"][0][0] == "61.90000000"
    assert after["lastUpdateId"] > before["lastUpdateId"]
    assert after["bids"][0][0] == "61.80000000"


# --- exchangeInfo and other general requests ----------------------------------------------


def listing_config() -> ExchangeConfig:
    base = default_config()
    halted = symbol_config("BNBUSDT", "BNB", "USDT", status="HALT")
    margin_only = symbol_config("XRPUSDT", "XRP", "USDT", permission_sets=(("MARGIN",),))
    group = symbol_config("DOGEUSDT", "DOGE", "USDT", permission_sets=(("TRD_GRP_004",),))
    return ExchangeConfig((*base.symbols, halted, margin_only, group), base.accounts)


async def test_exchange_info_lists_configured_symbols_and_limits() -> None:
    async with market(new_exchange(config=listing_config())) as (exchange, session):

        async def listed(**params: Any) -> list[str]:
            info = await session.request("exchangeInfo", params)
            return [item["symbol"] for item in info["symbols"]]

        everything = ["BTCUSDT", "ETHUSDT", "ETHBTC", "BNBUSDT", "XRPUSDT"]
        assert await listed() == everything  # SPOT, MARGIN and LEVERAGED symbols
        assert await listed(permissions="TRD_GRP_004") == ["DOGEUSDT"]
        assert await listed(permissions=["MARGIN", "TRD_GRP_004"]) == ["XRPUSDT", "DOGEUSDT"]
        assert await listed(symbolStatus="HALT") == ["BNBUSDT"]
        assert await listed(symbols=["ETHBTC", "BTCUSDT"]) == ["ETHBTC", "BTCUSDT"]
        info = await session.request("exchangeInfo", {"symbol": "BTCUSDT"})
        hidden = await session.request(
            "exchangeInfo", {"symbol": "BTCUSDT", "showPermissionSets": False}
        )
    config = exchange.engine.config
    assert info["rateLimits"] == exchange.limiter.config.exchange_info()
    assert info["exchangeFilters"] == [item.as_json() for item in config.exchange_filters]
    assert info["symbols"] == [config.symbols[0].as_json()]
    assert info["symbols"][0]["permissionSets"] == [["SPOT"]]
    assert hidden["symbols"][0]["permissionSets"] == []


async def test_execution_rules_and_reference_prices() -> None:
    async with market() as (_, session):
        rules = await session.request("executionRules", {"symbol": SYMBOL})
        every = await session.request("executionRules", {})
        reference = await session.request("referencePrice", {"symbol": SYMBOL})
        code = await error_of(session, "referencePrice.calculation", {"symbol": SYMBOL})
        blocks = await session.request("blockTrades.historical", {"symbol": SYMBOL, "fromId": 1})
    assert rules == {"symbolRules": [{"symbol": SYMBOL, "rules": []}]}
    assert [item["symbol"] for item in every["symbolRules"]] == [SYMBOL, "ETHUSDT", "ETHBTC"]
    assert reference == {"code": -2043, "msg": "This symbol doesn't have a reference price."}
    assert code == -2043
    assert blocks == []


async def test_symbol_status_filters_lists_and_refuses_a_single_symbol() -> None:
    async with market(new_exchange(config=listing_config())) as (_, session):
        halted = await session.request("ticker.price", {"symbolStatus": "HALT"})
        some = await session.request(
            "ticker.book", {"symbols": ["BTCUSDT", "BNBUSDT"], "symbolStatus": "TRADING"}
        )
        none = await session.request(
            "ticker.24hr", {"symbols": ["BTCUSDT"], "symbolStatus": "BREAK"}
        )
        single = {"symbol": "BNBUSDT", "symbolStatus": "TRADING"}
        for method in ("depth", "ticker.price", "ticker.book", "ticker.24hr", "ticker"):
            assert await error_of(session, method, single) == -1220
    assert [item["symbol"] for item in halted] == ["BNBUSDT"]
    assert [item["symbol"] for item in some] == ["BTCUSDT"]
    assert none == []


# --- timestamps ----------------------------------------------------------------------------


async def test_microsecond_time_unit_writes_every_timestamp_in_microseconds() -> None:
    async with market(query="?timeUnit=MICROSECOND") as (exchange, session):
        Traders(exchange).trade("100", "1", at=T0)
        minute = T0 // 60_000 * 60_000
        (trade,) = await session.request("trades.recent", {"symbol": SYMBOL})
        (aggregate,) = await session.request("trades.aggregate", {"symbol": SYMBOL})
        (kline,) = await session.request(  # a startTime in microseconds is accepted too
            "klines", {"symbol": SYMBOL, "interval": "1m", "startTime": minute * 1000}
        )
        average = await session.request("avgPrice", {"symbol": SYMBOL})
        ticker = await session.request("ticker.24hr", {"symbol": SYMBOL})
        info = await session.request("exchangeInfo", {"symbol": SYMBOL})
    assert trade["time"] == aggregate["T"] == average["closeTime"] == T0 * 1000
    assert (kline[0], kline[6]) == (minute * 1000, (minute + 60_000) * 1000 - 1)
    assert ticker["closeTime"] - ticker["openTime"] == DAY * 1000
    assert info["serverTime"] >= T0 * 1000


# --- refusals ------------------------------------------------------------------------------

REFUSALS: list[tuple[str, dict[str, Any], int]] = [
    ("depth", {}, -1102),
    ("depth", {"symbol": "NOPE"}, -1121),
    ("depth", {"symbol": "btcusdt"}, -1100),
    ("depth", {"symbol": SYMBOL, "limit": 5001}, -1130),
    ("depth", {"symbol": SYMBOL, "limit": "ten"}, -1100),
    ("depth", {"symbol": SYMBOL, "symbolStatus": "OPEN"}, -1122),
    ("depth", {"symbol": SYMBOL, "colour": "red"}, -1104),
    ("trades.recent", {"symbol": SYMBOL, "limit": 1001}, -1130),
    ("trades.historical", {"symbol": SYMBOL, "fromId": "x"}, -1100),
    ("blockTrades.historical", {"symbol": SYMBOL}, -1102),
    ("trades.aggregate", {"symbol": SYMBOL, "fromId": 1, "endTime": T0}, -1128),
    ("klines", {"symbol": SYMBOL}, -1102),
    ("klines", {"symbol": SYMBOL, "interval": "2m"}, -1120),
    ("klines", {"symbol": SYMBOL, "interval": "1H"}, -1120),
    ("uiKlines", {"symbol": SYMBOL, "interval": "1h", "timeZone": "15"}, -1130),
    ("klines", {"symbol": SYMBOL, "interval": "1h", "timeZone": "-12:30"}, -1130),
    ("klines", {"symbol": SYMBOL, "interval": "1h", "timeZone": "5:75"}, -1130),
    ("klines", {"symbol": SYMBOL, "interval": "1h", "limit": 0}, -1130),
    ("avgPrice", {"symbol": "NOPE"}, -1121),
    ("ticker.24hr", {"symbol": SYMBOL, "symbols": [SYMBOL]}, -1128),
    ("ticker.24hr", {"symbols": [SYMBOL, SYMBOL]}, -1151),
    ("ticker.24hr", {"symbols": [SYMBOL, "NOPE"]}, -1121),
    ("ticker.24hr", {"symbols": "BTCUSDT"}, -1100),
    ("ticker.24hr", {"symbols": []}, -1102),
    ("ticker.24hr", {"type": "HALF"}, -1139),
    ("ticker.tradingDay", {}, -1102),
    ("ticker.tradingDay", {"symbol": SYMBOL, "timeZone": "UTC"}, -1130),
    ("ticker", {"type": "MINI"}, -1102),
    ("ticker", {"symbol": SYMBOL, "windowSize": "8d"}, -1130),
    ("ticker", {"symbol": SYMBOL, "windowSize": "60m"}, -1130),
    ("ticker", {"symbol": SYMBOL, "windowSize": "1d2h"}, -1130),
    ("ticker", {"symbols": [f"S{n}" for n in range(201)]}, -1130),
    ("ticker.price", {"symbols": '["BTCUSDT","BTCUSDT"]'}, -1151),
    ("ticker.book", {"symbol": "NOPE"}, -1121),
    ("exchangeInfo", {"symbol": "NOPE"}, -1121),
    ("exchangeInfo", {"symbol": SYMBOL, "permissions": ["SPOT"]}, -1128),
    ("exchangeInfo", {"symbols": [SYMBOL], "symbolStatus": "TRADING"}, -1128),
    ("exchangeInfo", {"symbolStatus": "CLOSED"}, -1122),
    ("exchangeInfo", {"permissions": ["spot"]}, -1100),
    ("exchangeInfo", {"showPermissionSets": "maybe"}, -1100),
    ("executionRules", {"symbol": SYMBOL, "symbolStatus": "TRADING"}, -1128),
    ("referencePrice", {}, -1102),
]


async def test_documented_refusals() -> None:
    async with market() as (_, session):
        codes = [await error_of(session, method, params) for method, params, _ in REFUSALS]
    assert codes == [code for _, _, code in REFUSALS]


def test_every_market_method_has_a_documented_example() -> None:
    assert {m for m in MARKET_METHODS if documented(m)["requests"]} == set(MARKET_METHODS)
