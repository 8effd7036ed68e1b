"""Stream connection rules without I/O: names, URLs, pacing, spreading, frame classification."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_binance._exceptions import InvalidParameter, ProtocolError
from trio_binance._stream_control import (
    INCOMING_MESSAGES_PER_SECOND,
    MAX_URL_STREAM_CHARS,
    FrameClassifier,
    Pacer,
    all_tagged,
    assign_streams,
    chunks,
    normalize_stream,
    normalize_streams,
    stream_url,
)
from trio_binance.models import ControlError, ControlReply, StreamMessage
from trio_binance.models._streams import TradeEvent, UnknownStreamEvent

TRADE = json.dumps(
    {
        "e": "trade",
        "E": 1,
        "s": "BNBBTC",
        "t": 12345,
        "p": "0.001",
        "q": "100",
        "T": 1,
        "m": True,
        "M": True,
    }
)


@given(
    st.lists(st.floats(0, 30, allow_nan=False), max_size=60),
    st.integers(1, INCOMING_MESSAGES_PER_SECOND),
)
def test_pacing_never_exceeds_the_limit_in_any_window(requests: list[float], limit: int) -> None:
    """Messages asked for at any times go out with at most ``limit`` in any 1 s window."""
    pacer = Pacer(limit)
    now = 0.0
    sent = []
    for at in sorted(requests):
        now = max(now, at)
        now += pacer.delay(now)
        pacer.sent(now)
        sent.append(now)
    for i, start in enumerate(sent):
        in_window = [t for t in sent[i:] if t < start + 1.0]
        assert len(in_window) <= limit
    # and it never waits when there is room
    if sent:
        assert sent[0] == min(requests)


def test_pacer_rejects_budgets_above_the_exchange_limit() -> None:
    with pytest.raises(ValueError, match="limit"):
        Pacer(6)
    with pytest.raises(ValueError, match="limit"):
        Pacer(0)
    with pytest.raises(ValueError, match="period"):
        Pacer(4, period=0)


def test_stream_names_are_normalised() -> None:
    assert normalize_stream("BNBBTC@aggTrade") == "bnbbtc@aggTrade"
    assert normalize_stream("!miniTicker@arr") == "!miniTicker@arr"
    assert normalize_streams(["a@trade", "A@trade", "b@trade"]) == ["a@trade", "b@trade"]
    for bad in ["", "bnbbtc", "x/y@trade", "a b@trade", "@trade", "é@trade"]:
        with pytest.raises(InvalidParameter):
            normalize_stream(bad)
    with pytest.raises(InvalidParameter):
        normalize_streams("bnbbtc@trade")


def test_urls_keep_the_options_and_choose_the_endpoint() -> None:
    assert stream_url("wss://h:9443", ["a@trade", "b@trade"], raw=False) == (
        "wss://h:9443/stream?streams=a@trade/b@trade",
        [],
    )
    assert stream_url("ws://h/ws?timeUnit=MICROSECOND", ["a@trade", "b@trade"], raw=True) == (
        "ws://h/ws/a@trade?timeUnit=MICROSECOND",
        ["b@trade"],
    )
    assert stream_url("ws://h", ["a@kline_1m@+08:00"], raw=False)[0] == (
        "ws://h/stream?streams=a@kline_1m@%2B08:00"
    )
    url, rest = stream_url("ws://h/stream?streams=x@trade&timeUnit=microsecond", ["a@x"], raw=False)
    assert url == "ws://h/stream?streams=a@x&timeUnit=microsecond" and rest == []
    with pytest.raises(InvalidParameter):
        stream_url("http://h", ["a@trade"], raw=False)
    with pytest.raises(InvalidParameter):
        stream_url("ws://h", [], raw=False)


def test_a_long_list_is_partly_subscribed_after_connecting() -> None:
    names = [f"sym{i:05d}usdt@aggTrade" for i in range(1024)]
    url, rest = stream_url("ws://h", names, raw=False)
    assert len(url) < MAX_URL_STREAM_CHARS + 100
    in_url = url.split("streams=")[1].split("/")
    assert in_url + rest == names and rest


@given(st.lists(st.integers(0, 1024), max_size=5), st.integers(0, 5000), st.integers(1, 1024))
def test_streams_are_spread_without_exceeding_capacity(
    loads: list[int], count: int, capacity: int
) -> None:
    loads = [min(load, capacity) for load in loads]
    new = [f"s{i}@trade" for i in range(count)]
    plan = assign_streams(new, loads, capacity)
    assert [name for part in plan for name in part] == new
    assert len(plan) >= len(loads)
    for index, part in enumerate(plan):
        assert len(part) + (loads[index] if index < len(loads) else 0) <= capacity
    assert all(plan[len(loads) :])  # no empty new connection


def test_assign_rejects_no_capacity_and_chunks_split() -> None:
    with pytest.raises(ValueError, match="capacity"):
        assign_streams(["a@trade"], [], 0)
    assert chunks(["a", "b", "c"], 2) == [["a", "b"], ["c"]]


def test_combined_frames_replies_and_errors() -> None:
    classifier = FrameClassifier(combined=True)
    message = classifier.decode(json.dumps({"stream": "bnbbtc@trade", "data": json.loads(TRADE)}))
    assert isinstance(message, StreamMessage) and isinstance(message.event, TradeEvent)
    assert classifier.decode('{"result":null,"id":1}') == ControlReply(id=1, result=None)
    assert classifier.decode('{"code":0,"msg":"Unknown property","id":5}') == ControlError(
        code=0, msg="Unknown property", id=5
    )


def test_raw_frames_are_named_by_the_connection_stream() -> None:
    classifier = FrameClassifier(combined=False, sole_stream="bnbbtc@trade")
    message = classifier.decode(TRADE)
    assert isinstance(message, StreamMessage) and message.stream == "bnbbtc@trade"
    # A reply on the fast path is recognised after the payload decode fails.
    assert classifier.decode('{"result":["bnbbtc@trade"],"id":3}') == ControlReply(
        id=3, result=("bnbbtc@trade",)
    )
    classifier.replies_expected = True
    assert classifier.decode('{"result":true,"id":2}') == ControlReply(id=2, result=True)
    assert isinstance(classifier.decode(TRADE), StreamMessage)
    # While "combined" is being switched on, wrapped and raw payloads both decode.
    wrapped = classifier.decode(json.dumps({"stream": "x@trade", "data": json.loads(TRADE)}))
    assert isinstance(wrapped, StreamMessage) and wrapped.stream == "x@trade"


def test_raw_arrays_and_unknown_payloads() -> None:
    classifier = FrameClassifier(combined=False, sole_stream="!new@arr")
    classifier.replies_expected = True
    message = classifier.decode("[1, 2]")
    assert isinstance(message, StreamMessage) and isinstance(message.event, UnknownStreamEvent)


def test_bad_raw_frames_raise_protocol_errors() -> None:
    classifier = FrameClassifier(combined=False, sole_stream="bnbbtc@trade")
    for frame in ["not json", '{"e":"trade"}']:
        with pytest.raises(ProtocolError):
            classifier.decode(frame)
    with pytest.raises(ProtocolError):
        FrameClassifier(combined=False).decode(TRADE)


def test_the_one_pass_path_falls_back_for_anything_else() -> None:
    classifier = FrameClassifier(combined=True, tagged=True)
    message = classifier.decode(json.dumps({"stream": "bnbbtc@trade", "data": json.loads(TRADE)}))
    assert isinstance(message, StreamMessage) and isinstance(message.event, TradeEvent)
    assert classifier.decode('{"result":null,"id":7}') == ControlReply(id=7, result=None)
    unknown = classifier.decode('{"stream":"x@new","data":{"e":"newThing","v":1}}')
    assert isinstance(unknown, StreamMessage) and isinstance(unknown.event, UnknownStreamEvent)
    with pytest.raises(ProtocolError):
        classifier.decode('{"stream":"bnbbtc@trade","data":{"e":"trade","p":"x"}}')
    with pytest.raises(ProtocolError):
        classifier.decode("{not json")


def test_which_streams_are_tagged() -> None:
    assert all_tagged(["a@trade", "a@depth@100ms", "a@kline_1m@+08:00", "a@ticker_1h"])
    assert not all_tagged(["a@trade", "a@bookTicker"])
    assert not all_tagged(["a@depth5"])
    assert not all_tagged(["!miniTicker@arr"])
