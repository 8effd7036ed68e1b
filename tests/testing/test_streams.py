"""The local exchange's market streams over real loopback connections, under autojump_clock.

Payloads are decoded with the library's own stream models, so every test here also proves the
shapes match web-socket-streams.md.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
import trio
import trio.testing
import trio_websocket

import trio_binance
from trio_binance.models._streams import (
    AggTradeEvent,
    AllMiniTickers,
    AllRollingWindowTickers,
    AvgPriceEvent,
    BookTickerEvent,
    DepthUpdateEvent,
    KlineEvent,
    MiniTickerEvent,
    PartialDepthEvent,
    ReferencePriceEvent,
    ServerShutdown,
    StreamMessage,
    Ticker1dEvent,
    Ticker1hEvent,
    Ticker4hEvent,
    TickerEvent,
    TradeEvent,
    decode_combined_frame,
    decode_stream_payload,
)
from trio_binance.testing import Lifecycle, LocalExchange, MarketActivity, open_local_exchange

START_MS = 1_750_000_000_000
BTC = "btcusdt"


@pytest.fixture
async def exchange(autojump_clock: trio.testing.MockClock) -> AsyncIterator[LocalExchange]:
    async with open_local_exchange(LocalExchange(start_time_ms=START_MS)) as served:
        yield served


@asynccontextmanager
async def connect(
    exchange: LocalExchange, path: str
) -> AsyncIterator[trio_websocket.WebSocketConnection]:
    async with trio_websocket.open_websocket_url(exchange.streams_url + path) as ws:
        stream = ws._stream
        yield ws
    # After a close the server started, trio-websocket leaves the socket open.
    await trio.aclose_forcefully(stream)


async def refused_status(exchange: LocalExchange, path: str) -> int:
    """The HTTP status of a refused handshake (the socket closed here, not leaked)."""
    port = int(exchange.streams_url.rsplit(":", 1)[1])
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    statuses = []
    try:
        async with trio.open_nursery() as nursery:
            await trio_websocket.wrap_client_stream(nursery, stream, "127.0.0.1", path)
            nursery.cancel_scope.cancel()
    except* trio_websocket.ConnectionRejected as group:
        statuses = [
            error.status_code
            for error in group.exceptions
            if isinstance(error, trio_websocket.ConnectionRejected)
        ]
    finally:
        await trio.aclose_forcefully(stream)
    assert len(statuses) == 1, "the handshake was accepted"
    return int(statuses[0])


async def control(ws: trio_websocket.WebSocketConnection, frame: dict[str, Any] | str) -> Any:
    """Send a control message; return the first reply (skipping stream payloads)."""
    await ws.send_message(frame if isinstance(frame, str) else msgspec.json.encode(frame).decode())
    while True:
        reply = msgspec.json.decode(await ws.get_message())
        if "stream" in reply or "e" in reply:
            continue
        return reply


async def closing_reason_or_none(
    ws: trio_websocket.WebSocketConnection,
) -> trio_websocket.CloseReason | None:
    """Read until the connection ends; the server's close reason, or ``None`` if it was cut
    (trio-websocket then reports 1006, "abnormal closure", which no server sends)."""
    try:
        while True:
            await ws.get_message()
    except trio_websocket.ConnectionClosed as closed:
        reason = closed.reason
    return None if reason is None or reason.code == 1006 else reason


async def closing_reason(ws: trio_websocket.WebSocketConnection) -> trio_websocket.CloseReason:
    """Read until the server closes; its close reason."""
    try:
        while True:
            await ws.get_message()
    except trio_websocket.ConnectionClosed as closed:
        reason = closed.reason
    if reason is None:
        raise AssertionError("closed without a close reason")
    return reason


async def frames_for(ws: trio_websocket.WebSocketConnection, seconds: float) -> list[str]:
    frames: list[str] = []
    with trio.move_on_after(seconds):
        while True:
            frames.append(str(await ws.get_message()))
    return frames


def place(exchange: LocalExchange, account: str, **params: str) -> Any:
    return exchange.act(account, "order.place", {"symbol": "BTCUSDT", **params})


def cross_a_trade(exchange: LocalExchange, price: str = "30000", qty: str = "0.5") -> None:
    """A resting SELL from alice, then bob buys part of it at market."""
    place(
        exchange, "alice", side="SELL", type="LIMIT", timeInForce="GTC", price=price, quantity="1"
    )
    place(exchange, "bob", side="BUY", type="MARKET", quantity=qty)


def by_stream(frames: list[str]) -> dict[str, list[Any]]:
    events: dict[str, list[Any]] = defaultdict(list)
    for frame in frames:
        message = decode_combined_frame(frame)
        assert isinstance(message, StreamMessage), frame
        events[message.stream].append(message.event)
    return events


# --- every stream kind --------------------------------------------------------------------

EXPECTED_TYPES: dict[str, type | tuple[type, ...]] = {
    f"{BTC}@trade": TradeEvent,
    f"{BTC}@aggTrade": AggTradeEvent,
    f"{BTC}@bookTicker": BookTickerEvent,
    f"{BTC}@depth": DepthUpdateEvent,
    f"{BTC}@depth@100ms": DepthUpdateEvent,
    f"{BTC}@depth5": PartialDepthEvent,
    f"{BTC}@depth10@100ms": PartialDepthEvent,
    f"{BTC}@depth20": PartialDepthEvent,
    f"{BTC}@kline_1s": KlineEvent,
    f"{BTC}@kline_1m": KlineEvent,
    f"{BTC}@kline_1M": KlineEvent,
    f"{BTC}@kline_1d@+08:00": KlineEvent,
    f"{BTC}@miniTicker": MiniTickerEvent,
    f"{BTC}@ticker": TickerEvent,
    f"{BTC}@ticker_1h": Ticker1hEvent,
    f"{BTC}@ticker_4h": Ticker4hEvent,
    f"{BTC}@ticker_1d": Ticker1dEvent,
    f"{BTC}@avgPrice": AvgPriceEvent,
    f"{BTC}@referencePrice": ReferencePriceEvent,
    "!miniTicker@arr": AllMiniTickers,
    "!ticker_1h@arr": AllRollingWindowTickers,
    "!ticker_4h@arr": AllRollingWindowTickers,
    "!ticker_1d@arr": AllRollingWindowTickers,
}


async def test_every_stream_kind_is_sent_and_decodes_with_its_model(
    autojump_clock: trio.testing.MockClock,
    exchange: LocalExchange,
) -> None:
    names = "/".join(EXPECTED_TYPES)
    async with connect(exchange, f"/stream?streams={names}") as ws:
        cross_a_trade(exchange)
        events = by_stream(await frames_for(ws, 2.5))
    assert set(events) == set(EXPECTED_TYPES)
    for name, expected in EXPECTED_TYPES.items():
        assert all(isinstance(event, expected) for event in events[name]), name


SPEC_EXAMPLES = {
    example["title"]: example["payload"]
    for example in json.loads(
        (Path(__file__).parent.parent / "fixtures" / "spec" / "stream_events.json").read_text(
            encoding="utf-8"
        )
    )["streams"]
}
SPEC_EXAMPLE_OF = {
    f"{BTC}@trade": "Trade Streams",
    f"{BTC}@aggTrade": "Aggregate Trade Streams",
    f"{BTC}@bookTicker": "Individual Symbol Book Ticker Streams",
    f"{BTC}@depth": "Diff. Depth Stream",
    f"{BTC}@depth@100ms": "Diff. Depth Stream",
    f"{BTC}@depth5": "Partial Book Depth Streams",
    f"{BTC}@kline_1m": "Kline/Candlestick Streams for UTC",
    f"{BTC}@kline_1d@+08:00": "Kline/Candlestick Streams with timezone offset",
    f"{BTC}@miniTicker": "Individual Symbol Mini Ticker Stream",
    f"{BTC}@ticker": "Individual Symbol Ticker Streams",
    f"{BTC}@ticker_1h": "Individual Symbol Rolling Window Statistics Streams",
    f"{BTC}@avgPrice": "Average Price",
    "!miniTicker@arr": "All Market Mini Tickers Stream",
    "!ticker_1h@arr": "All Market Rolling Window Statistics Streams",
}
# The spec shows these arrays as placeholders: arrays of the single-symbol payloads.
SPEC_EXAMPLES["All Market Mini Tickers Stream"] = [
    SPEC_EXAMPLES["Individual Symbol Mini Ticker Stream"]
]
SPEC_EXAMPLES["All Market Rolling Window Statistics Streams"] = [
    SPEC_EXAMPLES["Individual Symbol Rolling Window Statistics Streams"]
]


def shape(value: Any) -> Any:
    """A JSON value's field names, in order, and JSON types (a list: its first item's)."""
    if isinstance(value, dict):
        return [(key, shape(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def first_payloads(frames: list[str]) -> dict[str, Any]:
    """Per stream of a combined connection, its first payload (with both sides of the book
    when one came)."""
    served: dict[str, Any] = {}
    for frame in frames:
        message = msgspec.json.decode(frame)
        if message["stream"] not in served or (
            "[]" in served[message["stream"]][1] and "[]" not in frame
        ):
            served[message["stream"]] = (message["data"], frame)
    return {name: payload for name, (payload, _) in served.items()}


TIME_FIELDS = {"E", "T", "O", "C"}
"""Times wherever they appear; "t" is one only in a kline and in referencePrice."""


def assert_times_in_microseconds(in_ms: Any, in_us: Any, *, times: set[str], path: str) -> None:
    """Every time field of ``in_us`` is ``in_ms``'s in microseconds; everything else equal."""
    if isinstance(in_ms, dict):
        assert list(in_ms) == list(in_us), path
        nested = times | ({"t"} if in_ms.get("e") == "referencePrice" else set())
        for key, value in in_ms.items():
            inner = TIME_FIELDS | {"t"} if key == "k" else nested
            assert_times_in_microseconds(value, in_us[key], times=inner, path=f"{path}.{key}")
    elif isinstance(in_ms, list):
        assert len(in_ms) == len(in_us), path
        for index, (a, b) in enumerate(zip(in_ms, in_us, strict=True)):
            assert_times_in_microseconds(a, b, times=times, path=f"{path}[{index}]")
    elif (
        isinstance(in_ms, int) and not isinstance(in_ms, bool) and path.rsplit(".", 1)[-1] in times
    ):
        assert in_ms * 1000 <= in_us <= in_ms * 1000 + 999, path  # a close time: x999 µs
    else:
        assert in_ms == in_us, path


async def test_every_payload_has_the_spec_examples_fields_in_order_with_their_json_types(
    exchange: LocalExchange,
) -> None:
    names = "/".join(SPEC_EXAMPLE_OF)
    async with (
        connect(exchange, f"/stream?streams={names}") as milli,
        connect(exchange, f"/stream?streams={names}&timeUnit=MICROSECOND") as micro,
    ):
        place(
            exchange,
            "bob",
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            price="29000",
            quantity="1",
        )
        cross_a_trade(exchange)  # a bid and an ask change in one diff depth event
        in_ms = first_payloads(await frames_for(milli, 2.5))
        in_us = first_payloads(await frames_for(micro, 0.1))
    assert set(in_ms) == set(in_us) == set(SPEC_EXAMPLE_OF)
    for name, title in SPEC_EXAMPLE_OF.items():
        assert shape(in_ms[name]) == shape(SPEC_EXAMPLES[title]), name
        assert_times_in_microseconds(in_ms[name], in_us[name], times=TIME_FIELDS, path=name)


def server_falls_behind_after_the_handshake(monkeypatch: pytest.MonkeyPatch) -> None:
    accept = trio_websocket.WebSocketRequest.accept

    async def accept_then_fall_behind(
        self: trio_websocket.WebSocketRequest, *args: Any, **kwargs: Any
    ) -> trio_websocket.WebSocketConnection:
        ws = await accept(self, *args, **kwargs)
        # A busy server: its task runs again only after the client has seen the handshake.
        await trio.sleep(1)
        return ws

    monkeypatch.setattr(trio_websocket.WebSocketRequest, "accept", accept_then_fall_behind)


@pytest.mark.parametrize("path", [f"/ws/{BTC}@trade", f"/stream?streams={BTC}@trade"])
async def test_a_trade_made_as_soon_as_connect_returns_is_never_missed(
    exchange: LocalExchange, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server_falls_behind_after_the_handshake(monkeypatch)
    async with connect(exchange, path) as ws:
        cross_a_trade(exchange)  # no round trip first
        with trio.fail_after(5):
            frame = await ws.get_message()
    message = decode_combined_frame(frame) if "streams=" in path else None
    event = message.event if isinstance(message, StreamMessage) else None
    event = event or decode_stream_payload(f"{BTC}@trade", frame)
    assert isinstance(event, TradeEvent)


async def test_more_events_than_the_queue_holds_before_the_connection_starts_cut_it(
    exchange: LocalExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    server_falls_behind_after_the_handshake(monkeypatch)
    exchange.outbox_size = 3
    async with connect(exchange, f"/ws/{BTC}@trade") as ws:
        for _ in range(4):
            cross_a_trade(exchange)  # 4 trades, 3 places
        with trio.fail_after(5):
            reason = await closing_reason_or_none(ws)
    assert reason is None  # cut, no close frame
    assert exchange.market_streams.subscribers(f"{BTC}@trade") == 0


async def test_raw_payloads_decode_by_stream_name(
    autojump_clock: trio.testing.MockClock, exchange: LocalExchange
) -> None:
    async with connect(exchange, f"/ws/{BTC}@bookTicker") as ws:
        cross_a_trade(exchange)
        payload = str(await ws.get_message())
    assert not payload.startswith('{"stream"')
    event = decode_stream_payload(f"{BTC}@bookTicker", payload)
    assert isinstance(event, BookTickerEvent)
    assert (event.best_ask_price, event.best_ask_quantity) == (Decimal(30000), Decimal(1))


async def test_trade_and_aggregate_trade_match_the_trade(
    autojump_clock: trio.testing.MockClock, exchange: LocalExchange
) -> None:
    async with connect(exchange, f"/stream?streams={BTC}@trade/{BTC}@aggTrade") as ws:
        cross_a_trade(exchange, price="30100", qty="0.25")
        events = by_stream([str(await ws.get_message()) for _ in range(2)])
    (trade,) = events[f"{BTC}@trade"]
    (aggregate,) = events[f"{BTC}@aggTrade"]
    (kept,) = exchange.engine.trades("BTCUSDT")
    assert (trade.trade_id, trade.price, trade.quantity) == (kept.id, kept.price, kept.qty)
    assert trade.is_buyer_maker is False  # the buyer took liquidity
    assert trade.trade_time == kept.time
    # The same numbering as the trades.aggregate method.
    (record,) = exchange.market_data.aggregate_trades("BTCUSDT")
    assert (aggregate.aggregate_trade_id, aggregate.first_trade_id) == (record.id, kept.id)
    assert aggregate.quantity == Decimal("0.25")


async def test_time_unit_microsecond_writes_event_and_trade_times_in_microseconds(
    autojump_clock: trio.testing.MockClock,
    exchange: LocalExchange,
) -> None:
    async with (
        connect(exchange, f"/ws/{BTC}@trade?timeUnit=MICROSECOND") as micro,
        connect(exchange, f"/ws/{BTC}@trade") as milli,
    ):
        cross_a_trade(exchange)
        in_us = decode_stream_payload(f"{BTC}@trade", await micro.get_message())
        in_ms = decode_stream_payload(f"{BTC}@trade", await milli.get_message())
    assert isinstance(in_us, TradeEvent) and isinstance(in_ms, TradeEvent)
    assert in_us.trade_time == in_ms.trade_time * 1000
    assert in_us.event_time == in_ms.event_time * 1000


async def test_kline_closes_once_when_the_next_candle_opens(
    autojump_clock: trio.testing.MockClock, exchange: LocalExchange
) -> None:
    async with connect(exchange, f"/ws/{BTC}@kline_1s") as ws:
        await ws.get_message()  # the stream is running: the trade's candle will be sent
        cross_a_trade(exchange)
        payloads = await frames_for(ws, 2.5)
    candles = [decode_stream_payload(f"{BTC}@kline_1s", p) for p in payloads]
    klines = [c.kline for c in candles if isinstance(c, KlineEvent)]
    (trade,) = exchange.engine.trades("BTCUSDT")
    opened = trade.time // 1000 * 1000
    first_closed = next(k for k in klines if k.is_closed)
    assert first_closed.start_time == opened and first_closed.trade_count == 1
    assert first_closed.volume == Decimal("0.5")
    quiet = [k for k in klines if k.start_time == opened + 1000]
    assert quiet and quiet[0].first_trade_id == -1 and quiet[0].close_price == Decimal(30000)
    assert sum(k.is_closed for k in klines if k.start_time == opened) == 1


async def test_utc_plus_8_klines_open_at_the_utc_plus_8_midnight(
    autojump_clock: trio.testing.MockClock, exchange: LocalExchange
) -> None:
    async with connect(exchange, f"/ws/{BTC}@kline_1d@+08:00") as ws:
        event = decode_stream_payload(f"{BTC}@kline_1d@+08:00", await ws.get_message())
    assert isinstance(event, KlineEvent)
    day = 86_400_000
    assert (event.kline.start_time + 8 * 3_600_000) % day == 0
    assert event.kline.close_time == event.kline.start_time + day - 1


async def test_all_market_arrays_carry_only_the_symbols_that_changed(
    autojump_clock: trio.testing.MockClock,
    exchange: LocalExchange,
) -> None:
    async with connect(exchange, "/ws/!miniTicker@arr") as ws:
        first = decode_stream_payload("!miniTicker@arr", await ws.get_message())
        cross_a_trade(exchange)
        second = decode_stream_payload("!miniTicker@arr", await ws.get_message())
    assert isinstance(first, AllMiniTickers) and isinstance(second, AllMiniTickers)
    assert {t.symbol for t in first.tickers} == set(exchange.engine.symbol_names())
    assert [t.symbol for t in second.tickers] == ["BTCUSDT"]


async def test_unknown_symbol_is_accepted_and_stays_silent(
    autojump_clock: trio.testing.MockClock, exchange: LocalExchange
) -> None:
    async with connect(exchange, "/ws/nosuchcoin@trade/nosuchcoin@ticker") as ws:
        assert await frames_for(ws, 3) == []
        reply = await control(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 1})
    assert reply == {"result": ["nosuchcoin@trade", "nosuchcoin@ticker"], "id": 1}


# --- control messages ---------------------------------------------------------------------


async def test_subscribe_list_unsubscribe(
    autojump_clock: trio.testing.MockClock, exchange: LocalExchange
) -> None:
    async with connect(exchange, "/ws") as ws:
        subscribe = {"method": "SUBSCRIBE", "params": [f"{BTC}@aggTrade", f"{BTC}@depth"], "id": 1}
        assert await control(ws, subscribe) == {"result": None, "id": 1}
        listing = await control(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 3})
        assert listing == {"result": [f"{BTC}@aggTrade", f"{BTC}@depth"], "id": 3}
        unsubscribe = {"method": "UNSUBSCRIBE", "params": [f"{BTC}@depth"], "id": 312}
        assert await control(ws, unsubscribe) == {"result": None, "id": 312}
        await trio.sleep(1)
        listing = await control(ws, {"method": "LIST_SUBSCRIPTIONS", "id": "abc"})
        assert listing == {"result": [f"{BTC}@aggTrade"], "id": "abc"}
        cross_a_trade(exchange)
        event = decode_stream_payload(f"{BTC}@aggTrade", await ws.get_message())
    assert isinstance(event, AggTradeEvent)
    assert exchange.market_streams.subscribers(f"{BTC}@aggTrade") == 0  # forgotten on close


async def test_combined_property_switches_the_payload_wrapping(
    autojump_clock: trio.testing.MockClock, exchange: LocalExchange
) -> None:
    async with connect(exchange, f"/ws/{BTC}@trade") as ws:
        assert await control(ws, {"method": "GET_PROPERTY", "params": ["combined"], "id": 2}) == {
            "result": False,
            "id": 2,
        }
        set_on = {"method": "SET_PROPERTY", "params": ["combined", True], "id": 5}
        assert await control(ws, set_on) == {"result": None, "id": 5}
        cross_a_trade(exchange)
        wrapped = decode_combined_frame(await ws.get_message())
    assert isinstance(wrapped, StreamMessage) and wrapped.stream == f"{BTC}@trade"
    async with connect(exchange, "/stream") as ws:
        reply = await control(ws, {"method": "GET_PROPERTY", "params": ["combined"], "id": 2})
    assert reply == {"result": True, "id": 2}


METHODS = "`SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`"


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (
            '{"method": "SET_PROPERTY", "params": ["nope", true], "id": 7}',
            {"code": 0, "msg": "Unknown property", "id": 7},
        ),
        (
            '{"method": "GET_PROPERTY", "params": ["nope"], "id": 7}',
            {"code": 0, "msg": "Unknown property", "id": 7},
        ),
        (
            '{"method": "SET_PROPERTY", "params": ["combined", "yes"], "id": 7}',
            {"code": 1, "msg": "Invalid value type: expected Boolean", "id": 7},
        ),
        (
            '{"method": "SET_PROPERTY", "params": [1, true], "id": 7}',
            {"code": 2, "msg": "Invalid request: property name must be a string", "id": 7},
        ),
        (
            '{"method": "GET_PROPERTY", "id": 7}',
            {"code": 2, "msg": "Invalid request: property name must be a string", "id": 7},
        ),
        (
            '{"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 1.5}',
            {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"},
        ),
        (
            '{"method": "SUBSCRIBE", "params": ["btcusdt@trade"]}',
            {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"},
        ),
        (
            '{"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": "not-alnum"}',
            {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"},
        ),
        (
            '{"method": "SUBSCRIBEX", "params": [], "id": 1}',
            {
                "code": 2,
                "msg": f"Invalid request: unknown variant `SUBSCRIBEX`, expected one of {METHODS}"
                " at line 1 column 23",
            },
        ),
        (
            '{"method": "GET_PROPERTY", "params": ["combined", 1], "id": 7}',
            {"code": 2, "msg": "Invalid request: too many parameters", "id": 7},
        ),
        (
            '{"method": "LIST_SUBSCRIPTIONS", "params": ["x"], "id": 7}',
            {"code": 2, "msg": "Invalid request: too many parameters", "id": 7},
        ),
        (
            '{"params": ["btcusdt@trade"], "id": 1}',
            {"code": 2, "msg": "Invalid request: missing field `method` at line 1 column 38"},
        ),
        (
            '{"method": "SUBSCRIBE", "params": [}',
            {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 36"},
        ),
        (
            '{"method": "SUBSCRIBE", "params": ["BTCUSDT@trade"], "id": 9}',
            {"code": 2, "msg": "Invalid request: invalid stream", "id": 9},
        ),
    ],
)
async def test_refusals_follow_the_error_messages_table(
    autojump_clock: trio.testing.MockClock,
    exchange: LocalExchange,
    frame: str,
    expected: dict[str, Any],
) -> None:
    async with connect(exchange, "/ws") as ws:
        assert await control(ws, frame) == expected
        # The connection stays usable, and nothing was subscribed.
        assert await control(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 1}) == {
            "result": [],
            "id": 1,
        }


async def test_ids_of_every_accepted_form_are_echoed(
    autojump_clock: trio.testing.MockClock, exchange: LocalExchange
) -> None:
    async with connect(exchange, "/ws") as ws:
        for request_id in (-(2**63), 2**63 - 1, "a" * 36, None):
            reply = await control(ws, {"method": "LIST_SUBSCRIPTIONS", "id": request_id})
            assert reply == {"result": [], "id": request_id}
            await trio.sleep(0.5)


# --- limits and lifecycle -----------------------------------------------------------------


async def test_five_messages_a_second_pass_and_a_sixth_closes_with_1008(
    autojump_clock: trio.testing.MockClock,
    exchange: LocalExchange,
) -> None:
    list_request = {"method": "LIST_SUBSCRIPTIONS", "id": 1}
    async with connect(exchange, "/ws") as ws:
        for _ in range(3):  # 5 per second, for three seconds: fine
            for _ in range(5):
                assert await control(ws, list_request) == {"result": [], "id": 1}
            await trio.sleep(1)
        for _ in range(5):
            await control(ws, list_request)
        await ws.send_message(msgspec.json.encode(list_request).decode())
        reason = await closing_reason(ws)
    assert (reason.code, reason.reason) == (1008, "Too many requests")


async def test_ping_and_pong_frames_count_as_messages(
    autojump_clock: trio.testing.MockClock, exchange: LocalExchange
) -> None:
    async with connect(exchange, "/ws") as ws:
        for _ in range(5):
            await ws.ping()
        await ws.send_message('{"method": "LIST_SUBSCRIPTIONS", "id": 1}')
        reason = await closing_reason(ws)
    assert reason.code == 1008


async def test_a_connection_listens_to_at_most_1024_streams(
    autojump_clock: trio.testing.MockClock, exchange: LocalExchange
) -> None:
    names = [f"coin{n}@trade" for n in range(1025)]
    async with connect(exchange, "/ws") as ws:
        for start in range(0, 1024, 256):
            batch = {"method": "SUBSCRIBE", "params": names[start : start + 256], "id": start}
            assert await control(ws, batch) == {"result": None, "id": start}
            await trio.sleep(0.5)  # 5 messages a second at most
        over = {"method": "SUBSCRIBE", "params": names[1024:], "id": 9}
        assert await control(ws, over) == {
            "code": 2,
            "msg": "Invalid request: too many streams",
            "id": 9,
        }
        await trio.sleep(1)
        again = {"method": "SUBSCRIBE", "params": names[:3], "id": 10}  # already there
        assert await control(ws, again) == {"result": None, "id": 10}
        listing = await control(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 11})
    assert listing["result"] == names[:1024]
    assert await refused_status(exchange, "/stream?streams=" + "/".join(names)) == 400
    async with connect(exchange, "/stream?streams=" + "/".join(names[:1024])) as ws:
        listing = await control(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 1})
    assert listing["result"] == names[:1024]


async def test_bad_paths_and_stream_names_are_refused_at_the_handshake(
    autojump_clock: trio.testing.MockClock,
    exchange: LocalExchange,
) -> None:
    assert await refused_status(exchange, "/nowhere") == 404
    for path in ("/ws/BTCUSDT@trade", "/ws/btcusdt@depth7", "/ws?timeUnit=HOURS"):
        assert await refused_status(exchange, path) == 400


async def test_streams_are_cut_at_24_hours(autojump_clock: trio.testing.MockClock) -> None:
    lifecycle = Lifecycle(max_age=3600.0)
    async with (
        open_local_exchange(LocalExchange(lifecycle=lifecycle)) as exchange,
        connect(exchange, f"/ws/{BTC}@depth") as ws,
    ):
        opened = trio.current_time()
        reason = await closing_reason(ws)
    assert trio.current_time() - opened == pytest.approx(3600.0)
    assert reason.code == 1000


async def test_server_shutdown_in_raw_and_combined_form(
    autojump_clock: trio.testing.MockClock, exchange: LocalExchange
) -> None:
    async with connect(exchange, "/ws") as raw, connect(exchange, "/stream") as combined:
        await exchange.send_server_shutdown()
        raw_event = decode_stream_payload("!serverShutdown", await raw.get_message())
        wrapped = decode_combined_frame(await combined.get_message())
    assert isinstance(raw_event, ServerShutdown)
    assert isinstance(wrapped, StreamMessage) and wrapped.stream == "!serverShutdown"
    assert isinstance(wrapped.event, ServerShutdown)


# --- the local order book procedure -------------------------------------------------------


async def depth_snapshot(exchange: LocalExchange, symbol: str) -> dict[str, Any]:
    request = {"id": 1, "method": "depth", "params": {"symbol": symbol, "limit": 5000}}
    async with trio_websocket.open_websocket_url(exchange.url) as api:
        await api.send_message(msgspec.json.encode(request).decode())
        reply: dict[str, Any] = msgspec.json.decode(await api.get_message())
    return dict(reply["result"])


class LocalBook:
    """The procedure of "How to manage a local order book correctly", kept minimal."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.update_id: int = snapshot["lastUpdateId"]
        self.bids = {Decimal(p): Decimal(q) for p, q in snapshot["bids"]}
        self.asks = {Decimal(p): Decimal(q) for p, q in snapshot["asks"]}

    def apply(self, event: DepthUpdateEvent) -> bool:
        """Apply one event; ``False`` when events were missed (resync needed)."""
        if event.final_update_id < self.update_id:
            return True
        if event.first_update_id > self.update_id + 1:
            return False
        for side, levels in ((self.bids, event.bids), (self.asks, event.asks)):
            for level in levels:
                if level.qty:
                    side[level.price] = level.qty
                else:
                    side.pop(level.price, None)
        self.update_id = event.final_update_id
        return True

    def levels(self) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        return sorted(self.bids.items(), reverse=True), sorted(self.asks.items())


async def follow_book(
    exchange: LocalExchange, stream: str, activity: MarketActivity, seconds: float
) -> tuple[LocalBook, list[DepthUpdateEvent]]:
    """Buffer, snapshot, discard, apply (the documented procedure) while ``activity`` trades
    for ``seconds``; then let the last events arrive."""
    symbol = stream.split("@", maxsplit=1)[0].upper()
    async with connect(exchange, f"/ws/{stream}") as ws:
        async with trio.open_nursery() as trading:
            await trading.start(activity.run, exchange)
            first = decode_stream_payload(stream, await ws.get_message())
            assert isinstance(first, DepthUpdateEvent)
            snapshot = await depth_snapshot(exchange, symbol)
            assert snapshot["lastUpdateId"] >= first.first_update_id
            payloads = await frames_for(ws, seconds)
            trading.cancel_scope.cancel()
        payloads += await frames_for(ws, 2.5)
    events = [first]
    for payload in payloads:
        event = decode_stream_payload(stream, payload)
        assert isinstance(event, DepthUpdateEvent)
        events.append(event)
    book = LocalBook(snapshot)
    for event in events:
        if event.final_update_id > snapshot["lastUpdateId"]:
            assert book.apply(event)
    return book, events


async def test_diff_depth_and_snapshot_rebuild_the_exchange_book_exactly(
    autojump_clock: trio.testing.MockClock,
    exchange: LocalExchange,
) -> None:
    activity = MarketActivity(seed=11, interval=0.01, symbols=["BTCUSDT"])
    for stream in (f"{BTC}@depth@100ms", f"{BTC}@depth"):
        book, events = await follow_book(exchange, stream, activity, 20)
        truth = exchange.engine.book_levels("BTCUSDT")
        assert book.update_id == truth.last_update_id
        assert book.levels() == (list(truth.bids), list(truth.asks))
        assert truth.bids and truth.asks
        # Consecutive events chain: U is the previous u + 1.
        assert all(
            b.first_update_id == a.final_update_id + 1 for a, b in itertools.pairwise(events)
        )
    assert activity.actions["take"] > 100 and activity.refused == 0


async def test_diff_depth_stays_exact_when_the_engine_changes_behind_its_back(
    autojump_clock: trio.testing.MockClock,
    exchange: LocalExchange,
) -> None:
    """Changes made straight on the engine (no request) are found by comparing books."""
    from trio_binance.testing._engine import Effects

    stream = f"{BTC}@depth@100ms"
    async with connect(exchange, f"/ws/{stream}") as ws:
        place(
            exchange,
            "alice",
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            price="100",
            quantity="1",
        )
        first = decode_stream_payload(stream, await ws.get_message())
        (resting,) = exchange.engine.account("alice").open_orders.values()
        exchange.engine.cancel_order(
            "alice",
            "BTCUSDT",
            order_id=resting.order_id,
            orig_client_order_id=None,
            new_client_order_id="behind-its-back",
            restriction=None,
            fx=Effects(exchange.now_ms()),
        )
        second = decode_stream_payload(stream, await ws.get_message())
    assert isinstance(first, DepthUpdateEvent) and isinstance(second, DepthUpdateEvent)
    assert second.first_update_id == first.final_update_id + 1
    assert second.final_update_id == exchange.engine.book_levels("BTCUSDT").last_update_id
    assert [(level.price, level.qty) for level in second.bids] == [(Decimal(100), Decimal(0))]


# --- faults -------------------------------------------------------------------------------


async def diff_events(exchange: LocalExchange, stream: str, count: int) -> list[DepthUpdateEvent]:
    events: list[DepthUpdateEvent] = []
    async with connect(exchange, f"/ws/{stream}") as ws:
        for n in range(count):
            price = str(100 + n)
            place(
                exchange,
                "alice",
                side="BUY",
                type="LIMIT",
                timeInForce="GTC",
                price=price,
                quantity="1",
            )
            await trio.sleep(0.15)  # longer than a tick, so each order gets its own event
        with trio.move_on_after(1):
            while True:
                event = decode_stream_payload(stream, await ws.get_message())
                assert isinstance(event, DepthUpdateEvent)
                events.append(event)
    return events


async def test_skipped_diff_event_leaves_a_gap(
    autojump_clock: trio.testing.MockClock, exchange: LocalExchange
) -> None:
    stream = f"{BTC}@depth@100ms"
    exchange.stream_faults.skip(stream)
    events = await diff_events(exchange, stream, 3)
    assert [e.first_update_id for e in events] == [2, 3]  # the event of update 1 never came


async def test_repeated_diff_event_arrives_twice(
    autojump_clock: trio.testing.MockClock, exchange: LocalExchange
) -> None:
    stream = f"{BTC}@depth@100ms"
    exchange.stream_faults.repeat(stream)
    events = await diff_events(exchange, stream, 2)
    assert [e.first_update_id for e in events] == [1, 1, 2]


async def test_held_diff_event_arrives_after_the_next(
    autojump_clock: trio.testing.MockClock, exchange: LocalExchange
) -> None:
    stream = f"{BTC}@depth@100ms"
    exchange.stream_faults.hold(stream)
    events = await diff_events(exchange, stream, 3)
    assert [e.first_update_id for e in events] == [2, 1, 3]


async def test_a_cut_fault_drops_the_connection(
    autojump_clock: trio.testing.MockClock, exchange: LocalExchange
) -> None:
    exchange.stream_faults.cut(f"{BTC}@trade", close_frame=True)
    async with connect(exchange, f"/ws/{BTC}@trade") as ws:
        cross_a_trade(exchange)
        reason = await closing_reason(ws)
    assert reason.code == 1001
    assert not exchange.stream_faults.armed


async def test_a_resync_after_a_gap_rebuilds_the_book(
    autojump_clock: trio.testing.MockClock, exchange: LocalExchange
) -> None:
    """A follower that sees the gap, snapshots again and carries on ends exact."""
    stream = f"{BTC}@depth@100ms"
    activity = MarketActivity(seed=5, interval=0.01, symbols=["BTCUSDT"])
    book: LocalBook | None = None
    resyncs = 0

    async def follow(ws: trio_websocket.WebSocketConnection, seconds: float) -> None:
        nonlocal book, resyncs
        with trio.move_on_after(seconds):
            while True:
                event = decode_stream_payload(stream, await ws.get_message())
                assert isinstance(event, DepthUpdateEvent)
                if book is None or not book.apply(event):
                    resyncs += 1
                    book = LocalBook(await depth_snapshot(exchange, "BTCUSDT"))
                    book.apply(event)

    async with connect(exchange, f"/ws/{stream}") as ws:
        async with trio.open_nursery() as trading:
            await trading.start(activity.run, exchange)
            await follow(ws, 3)
            exchange.stream_faults.skip(stream)  # one lost event: the next shows the gap
            await follow(ws, 3)
            trading.cancel_scope.cancel()
        await follow(ws, 1)
    assert resyncs == 2
    assert book is not None
    truth = exchange.engine.book_levels("BTCUSDT")
    assert book.update_id == truth.last_update_id
    assert book.levels() == (list(truth.bids), list(truth.asks))


async def test_orders_sent_over_the_api_reach_the_streams(
    autojump_clock: trio.testing.MockClock, exchange: LocalExchange
) -> None:
    keys = exchange.create_demo_keys(["alice", "bob"])
    stream = f"{BTC}@depth@100ms"
    async with (
        connect(exchange, f"/stream?streams={stream}/{BTC}@trade") as ws,
        trio_binance.connect(exchange.url, credentials=keys["alice"].ed25519) as alice,
        trio_binance.connect(exchange.url, credentials=keys["bob"].ed25519) as bob,
    ):
        await alice.place_order(
            symbol="BTCUSDT",
            side="SELL",
            type="LIMIT",
            time_in_force="GTC",
            price="30000",
            quantity="1",
        )
        await bob.place_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.4")
        events = by_stream([str(await ws.get_message()) for _ in range(2)])
    (trade,) = events[f"{BTC}@trade"]
    (depth,) = events[stream]
    assert trade.quantity == Decimal("0.4")
    assert [(level.price, level.qty) for level in depth.asks] == [(Decimal(30000), Decimal("0.6"))]
    assert depth.final_update_id == exchange.engine.book_levels("BTCUSDT").last_update_id
