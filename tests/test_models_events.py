"""User-data events and market stream payloads decode into their models, field by field."""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_binance._exceptions import InvalidParameter, ProtocolError
from trio_binance.models._enums import ExecutionType, OrderStatus, Side
from trio_binance.models._market import PriceLevel
from trio_binance.models._streams import (
    KNOWN_STREAM_EVENT_TYPES,
    AggTradeEvent,
    AllMiniTickers,
    AllRollingWindowTickers,
    AvgPriceEvent,
    BlockTradeEvent,
    BookTickerEvent,
    ControlError,
    ControlReply,
    DepthUpdateEvent,
    KlineCandle,
    KlineEvent,
    MiniTickerEvent,
    PartialDepthEvent,
    ReferencePriceEvent,
    RollingWindowTickerEvent,
    ServerShutdown,
    StreamKind,
    StreamMessage,
    Ticker1dEvent,
    Ticker1hEvent,
    Ticker4hEvent,
    TickerEvent,
    TradeEvent,
    UnknownStreamEvent,
    decode_combined_frame,
    decode_stream_payload,
    get_property_request,
    list_subscriptions_request,
    set_property_request,
    stream_kind,
    subscribe_request,
    unsubscribe_request,
)
from trio_binance.models._user_data import (
    KNOWN_USER_EVENT_TYPES,
    BalanceUpdate,
    EventStreamTerminated,
    ExecutionReport,
    ExternalLockUpdate,
    ListStatus,
    ListStatusOrder,
    OutboundAccountPosition,
    PositionBalance,
    UnknownUserEvent,
    decode_user_event,
)

FIXTURES = Path(__file__).parent / "fixtures" / "spec"
USER_EVENTS: list[dict[str, Any]] = json.loads(
    (FIXTURES / "user_data_events.json").read_text(encoding="utf-8")
)
STREAM_FIXTURE: dict[str, Any] = json.loads(
    (FIXTURES / "stream_events.json").read_text(encoding="utf-8")
)
STREAMS: list[dict[str, Any]] = STREAM_FIXTURE["streams"]
CONTROL_MESSAGES: list[dict[str, Any]] = STREAM_FIXTURE["control_messages"]

# The only wire keys deliberately left unmapped: the spec documents each as "Ignore".
IGNORED_KEYS: dict[type, frozenset[str]] = {
    ExecutionReport: frozenset({"M"}),
    AggTradeEvent: frozenset({"M"}),
    TradeEvent: frozenset({"M"}),
    KlineCandle: frozenset({"B"}),
}

USER_EVENT_CLASSES: dict[str, type] = {
    "executionReport": ExecutionReport,
    "outboundAccountPosition": OutboundAccountPosition,
    "balanceUpdate": BalanceUpdate,
    "listStatus": ListStatus,
    "eventStreamTerminated": EventStreamTerminated,
    "externalLockUpdate": ExternalLockUpdate,
}

STREAM_CLASSES: dict[StreamKind, type] = {
    StreamKind.SERVER_SHUTDOWN: ServerShutdown,
    StreamKind.REFERENCE_PRICE: ReferencePriceEvent,
    StreamKind.AGG_TRADE: AggTradeEvent,
    StreamKind.TRADE: TradeEvent,
    StreamKind.BLOCK_TRADE: BlockTradeEvent,
    StreamKind.KLINE: KlineEvent,
    StreamKind.MINI_TICKER: MiniTickerEvent,
    StreamKind.ALL_MINI_TICKERS: AllMiniTickers,
    StreamKind.TICKER: TickerEvent,
    StreamKind.ROLLING_WINDOW_TICKER: Ticker1hEvent,
    StreamKind.ALL_ROLLING_WINDOW_TICKERS: AllRollingWindowTickers,
    StreamKind.BOOK_TICKER: BookTickerEvent,
    StreamKind.AVG_PRICE: AvgPriceEvent,
    StreamKind.PARTIAL_DEPTH: PartialDepthEvent,
    StreamKind.DIFF_DEPTH: DepthUpdateEvent,
}

# Every conditional executionReport field, with the example value of the spec's table
# (user-data-stream.md, "Conditional Fields in Execution Report").
CONDITIONAL_EXECUTION_FIELDS: dict[str, Any] = {
    "d": 4,
    "D": 1668680518494,
    "j": 1,
    "J": 1000000,
    "v": 3,
    "A": "3.000000",
    "B": "3.000000",
    "u": 1,
    "U": 37,
    "Cs": "BTCUSDT",
    "pl": "2.123456",
    "pL": "0.10000001",
    "pY": "0.21234562",
    "W": 1668683798379,
    "b": "ONE_PARTY_TRADE_REPORT",
    "a": 1234,
    "k": "SOR",
    "uS": True,
    "gP": "PRIMARY_PEG",
    "gOT": "PRICE_LEVEL",
    "gOV": 5,
    "gp": "1.00000000",
    "eR": "INSUFFICIENT_LIQUIDITY",
}


def encode(value: Any) -> bytes:
    return json.dumps(value).encode()


def user_event(event_type: str) -> dict[str, Any]:
    return next(e["event"] for e in USER_EVENTS if e["event_type"] == event_type)


def stream_example(title: str) -> dict[str, Any]:
    return next(s for s in STREAMS if s["title"] == title and not s["combined"])


# --- the generic "every documented key is mapped, to the right value" check -------------


def wire_keys(cls: type) -> set[str]:
    """The keys a Struct decodes: its fields' encode names and its tag field, if any."""
    names = {field.encode_name for field in msgspec.structs.fields(cls)}
    tag_field = cls.__struct_config__.tag_field  # type: ignore[attr-defined]
    return names | ({tag_field} if tag_field else set())


def assert_fully_mapped(decoded: Any, payload: Any, path: str = "$") -> None:
    """Every key of ``payload`` (but the documented "Ignore" ones) lands in ``decoded`` with
    an equal value; Decimals compare by value, enums by their string, nested Structs and
    arrays recursively."""
    if isinstance(decoded, msgspec.Struct) and isinstance(payload, dict):
        cls = type(decoded)
        unmapped = set(payload) - wire_keys(cls) - IGNORED_KEYS.get(cls, frozenset())
        assert not unmapped, f"{path}: {cls.__name__} ignores documented keys {unmapped}"
        for field in msgspec.structs.fields(cls):
            if field.encode_name in payload:
                value = getattr(decoded, field.name)
                assert_fully_mapped(value, payload[field.encode_name], f"{path}.{field.name}")
    elif isinstance(decoded, msgspec.Struct) and isinstance(payload, list):  # array_like
        values = msgspec.structs.astuple(decoded)
        assert len(values) == len(payload), path
        for index, (value, item) in enumerate(zip(values, payload, strict=True)):
            assert_fully_mapped(value, item, f"{path}[{index}]")
    elif isinstance(decoded, tuple):
        assert len(decoded) == len(payload), path
        for index, (value, item) in enumerate(zip(decoded, payload, strict=True)):
            assert_fully_mapped(value, item, f"{path}[{index}]")
    elif isinstance(decoded, Decimal):
        assert isinstance(payload, str), f"{path}: Decimal from non-string {payload!r}"
        assert decoded == Decimal(payload), path
    else:
        assert type(decoded) is not float, f"{path}: float value"
        assert decoded == payload, f"{path}: {decoded!r} != {payload!r}"


# The public attribute for each wire key, read off the spec's comments ("// Order ID" ...).
# Decoding the examples cannot catch two swapped keys of equal value ("P" and "F" are both
# "0.00000000"), so the names users write (``event.order_id``) are pinned here.
ATTRIBUTES: dict[type, str] = {
    ExecutionReport: """
        E=event_time s=symbol c=client_order_id S=side o=order_type f=time_in_force
        q=quantity p=price P=stop_price F=iceberg_quantity g=order_list_id
        C=original_client_order_id x=execution_type X=order_status r=reject_reason
        i=order_id l=last_executed_quantity z=cumulative_filled_quantity
        L=last_executed_price n=commission N=commission_asset T=transaction_time
        t=trade_id I=execution_id w=is_on_book m=is_maker O=order_creation_time
        Z=cumulative_quote_quantity Y=last_quote_quantity Q=quote_order_quantity
        V=self_trade_prevention_mode W=working_time d=trailing_delta D=trailing_time
        j=strategy_id J=strategy_type v=prevented_match_id A=prevented_quantity
        B=last_prevented_quantity u=trade_group_id U=counter_order_id Cs=counter_symbol
        pl=prevented_execution_quantity pL=prevented_execution_price
        pY=prevented_execution_quote_quantity b=match_type a=allocation_id
        k=working_floor uS=used_sor gP=peg_price_type gOT=peg_offset_type
        gOV=peg_offset_value gp=pegged_price eR=expiry_reason""",
    OutboundAccountPosition: "E=event_time u=last_update_time B=balances",
    PositionBalance: "a=asset f=free l=locked",
    BalanceUpdate: "E=event_time a=asset d=delta T=clear_time",
    ListStatus: """
        E=event_time s=symbol g=order_list_id c=contingency_type l=list_status_type
        L=list_order_status r=list_reject_reason C=list_client_order_id
        T=transaction_time O=orders""",
    ListStatusOrder: "s=symbol i=order_id c=client_order_id",
    EventStreamTerminated: "E=event_time",
    ExternalLockUpdate: "E=event_time a=asset d=delta T=transaction_time",
    ServerShutdown: "E=event_time",
    ReferencePriceEvent: "s=symbol r=reference_price t=engine_time",
    AggTradeEvent: """
        E=event_time s=symbol a=aggregate_trade_id p=price q=quantity f=first_trade_id
        l=last_trade_id T=trade_time m=is_buyer_maker""",
    TradeEvent: "E=event_time s=symbol t=trade_id p=price q=quantity T=trade_time m=is_buyer_maker",
    BlockTradeEvent: """
        E=event_time s=symbol t=block_trade_id p=price q=quantity T=trade_time
        m=is_buyer_maker""",
    KlineEvent: "E=event_time s=symbol k=kline",
    KlineCandle: """
        t=start_time T=close_time s=symbol i=interval f=first_trade_id L=last_trade_id
        o=open_price c=close_price h=high_price l=low_price v=volume n=trade_count
        x=is_closed q=quote_volume V=taker_buy_volume Q=taker_buy_quote_volume""",
    MiniTickerEvent: """
        E=event_time s=symbol c=close_price o=open_price h=high_price l=low_price
        v=volume q=quote_volume""",
    TickerEvent: """
        E=event_time s=symbol p=price_change P=price_change_percent
        w=weighted_average_price x=prev_close_price c=last_price Q=last_quantity
        b=best_bid_price B=best_bid_quantity a=best_ask_price A=best_ask_quantity
        o=open_price h=high_price l=low_price v=volume q=quote_volume O=open_time
        C=close_time F=first_trade_id L=last_trade_id n=trade_count""",
    RollingWindowTickerEvent: """
        E=event_time s=symbol p=price_change P=price_change_percent o=open_price
        h=high_price l=low_price c=last_price w=weighted_average_price v=volume
        q=quote_volume O=open_time C=close_time F=first_trade_id L=last_trade_id
        n=trade_count""",
    BookTickerEvent: """
        u=update_id s=symbol b=best_bid_price B=best_bid_quantity a=best_ask_price
        A=best_ask_quantity""",
    AvgPriceEvent: "E=event_time s=symbol i=interval w=average_price T=last_trade_time",
    PartialDepthEvent: "lastUpdateId=last_update_id bids=bids asks=asks",
    DepthUpdateEvent: """
        E=event_time s=symbol U=first_update_id u=final_update_id b=bids a=asks""",
}


@pytest.mark.parametrize("cls", list(ATTRIBUTES), ids=lambda cls: cls.__name__)
def test_each_wire_key_has_its_documented_attribute(cls: type) -> None:
    expected = dict(pair.split("=") for pair in ATTRIBUTES[cls].split())
    assert {f.encode_name: f.name for f in msgspec.structs.fields(cls)} == expected


# --- user-data events ----------------------------------------------------------------------


@pytest.mark.parametrize("example", USER_EVENTS, ids=lambda e: e["event_type"])
def test_documented_user_event_decodes_with_every_field(example: dict[str, Any]) -> None:
    event = decode_user_event(encode(example["event"]))
    assert type(event) is USER_EVENT_CLASSES[example["event_type"]]
    assert_fully_mapped(event, example["event"])


@pytest.mark.parametrize("example", USER_EVENTS, ids=lambda e: e["event_type"])
def test_user_event_decodes_from_the_frames_raw_event(example: dict[str, Any]) -> None:
    # The session decodes the {"subscriptionId", "event"} envelope once, event left as Raw.
    class Frame(msgspec.Struct):
        event: msgspec.Raw

    frame = msgspec.json.decode(encode(example["frame"]), type=Frame)
    assert decode_user_event(frame.event) == decode_user_event(encode(example["event"]))


def test_every_documented_user_event_type_is_known_and_covered() -> None:
    documented = {example["event_type"] for example in USER_EVENTS}
    assert documented == set(USER_EVENT_CLASSES)
    assert documented | {"serverShutdown"} == KNOWN_USER_EVENT_TYPES


def test_execution_report_maps_every_conditional_field() -> None:
    payload = user_event("executionReport") | CONDITIONAL_EXECUTION_FIELDS
    report = decode_user_event(encode(payload))
    assert isinstance(report, ExecutionReport)
    assert_fully_mapped(report, payload)
    assert report.counter_symbol == "BTCUSDT"
    assert report.prevented_execution_price == Decimal("0.10000001")
    assert report.used_sor is True
    assert report.expiry_reason == "INSUFFICIENT_LIQUIDITY"


def test_execution_report_conditional_fields_default_when_absent() -> None:
    payload = {k: v for k, v in user_event("executionReport").items() if k not in {"v", "W"}}
    report = decode_user_event(encode(payload))
    assert isinstance(report, ExecutionReport)
    assert report.prevented_match_id is None
    assert report.working_time is None
    assert report.expiry_reason is None
    assert report.used_sor is False


def execution_report(**changes: Any) -> ExecutionReport:
    report = decode_user_event(encode(user_event("executionReport") | changes))
    assert isinstance(report, ExecutionReport)
    return report


@pytest.mark.parametrize("status", list(OrderStatus))
def test_is_final_only_for_statuses_that_never_change(status: OrderStatus) -> None:
    final = {"FILLED", "CANCELED", "REJECTED", "EXPIRED", "EXPIRED_IN_MATCH"}
    assert execution_report(X=status.value).is_final is (status.value in final)


def test_average_price_is_none_before_any_fill() -> None:
    assert execution_report().average_price is None


@given(
    quantity=st.decimals(min_value="0.00000001", max_value="100000", places=8),
    price=st.decimals(min_value="0.00000001", max_value="100000", places=8),
)
def test_average_price_is_exact_quote_over_quantity(quantity: Decimal, price: Decimal) -> None:
    quote = quantity * price
    report = execution_report(z=str(quantity), Z=str(quote))
    assert report.average_price == quote / quantity
    assert report.cumulative_filled_quantity == quantity  # exact: never went through float


def test_last_fill_describes_the_trade_of_a_trade_report() -> None:
    report = execution_report(
        x="TRADE", X="PARTIALLY_FILLED", t=77, l="0.5", L="0.1026", Y="0.0513", n="0.001",
        N="BNB", m=True, T=1499405658700,
    )  # fmt: skip
    fill = report.last_fill
    assert fill is not None
    assert (fill.trade_id, fill.quantity, fill.price) == (77, Decimal("0.5"), Decimal("0.1026"))
    assert (fill.quote_quantity, fill.commission) == (Decimal("0.0513"), Decimal("0.001"))
    assert (fill.commission_asset, fill.is_maker, fill.time) == ("BNB", True, 1499405658700)


@pytest.mark.parametrize("execution_type", [t for t in ExecutionType if t != "TRADE"])
def test_no_last_fill_unless_execution_type_is_trade(execution_type: ExecutionType) -> None:
    assert execution_report(x=execution_type.value).last_fill is None


def test_outbound_account_position_balances() -> None:
    # web-socket-api.md, "Event format": the two-asset example.
    position = decode_user_event(
        b'{"e":"outboundAccountPosition","E":1728972148778,"u":1728972148778,"B":['
        b'{"a":"BTC","f":"11818.00000000","l":"182.00000000"},'
        b'{"a":"USDT","f":"10580.00000000","l":"70.00000000"}]}'
    )
    assert isinstance(position, OutboundAccountPosition)
    assert [b.asset for b in position.balances] == ["BTC", "USDT"]
    usdt = position.balance_of("USDT")
    assert usdt is not None
    assert (usdt.free, usdt.locked) == (Decimal("10580"), Decimal("70"))
    assert position.balance_of("ETH") is None


def test_list_status_orders() -> None:
    status = decode_user_event(encode(user_event("listStatus")))
    assert isinstance(status, ListStatus)
    assert [(o.order_id, o.client_order_id) for o in status.orders] == [
        (17, "AJYsMjErWJesZvqlJCTUgL"),
        (18, "bfYPSQdLoqAJeNrOr9adzq"),
    ]


def test_server_shutdown_connection_event_decodes_as_user_event() -> None:
    # web-socket-api.md, "Connection events": sent in the same {"event": ...} envelope.
    assert decode_user_event(b'{"e":"serverShutdown","E":1770123456789}') == ServerShutdown(
        event_time=1770123456789
    )


UNKNOWN_EVENT = b'{"e":"listenKeyExpired","E":1699596037418,"listenKey":"abc"}'


# Text frames arrive as str from trio-websocket, as msgspec.Raw from an envelope decode.
@pytest.mark.parametrize("raw", [UNKNOWN_EVENT, UNKNOWN_EVENT.decode(), msgspec.Raw(UNKNOWN_EVENT)])
def test_unknown_user_event_type_is_kept_raw(raw: str | bytes | msgspec.Raw) -> None:
    assert decode_user_event(raw) == UnknownUserEvent(
        event_type="listenKeyExpired", raw=UNKNOWN_EVENT
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"e":"executionReport","E":1}', "malformed executionReport"),
        (b'{"e":"balanceUpdate","E":1,"a":"BTC","d":"x","T":1}', "malformed balanceUpdate"),
        (b'{"e":"listStatus","E":1,"s":"X","g":1,"c":"OCO","l":"x","L":"x","r":"",'
         b'"C":"c","T":1,"O":{}}', "malformed listStatus"),
        (b'{"e":"outboundAccountPosition","E":1,"u":1,"B":[{"a":"BTC","f":1.5}]}',
         "malformed outboundAccountPosition"),
        (b'{"E":1}', "no string 'e'"),
        (b'{"e":5}', "no string 'e'"),
        (b"[]", "no string 'e'"),
        (b"{", "not valid JSON"),
    ],
)  # fmt: skip
def test_malformed_user_event_raises_protocol_error(raw: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        decode_user_event(raw)


# Text Binance could send: no lone surrogates (those are not valid UTF-8 on the wire).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
# Any str, lone surrogates included: a str frame that cannot even be encoded to UTF-8.
ANY_STR = st.text() | st.text(st.characters(categories=["Cs"]), min_size=1)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | TEXT
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=10,
)
EXECUTION_ENUM_KEYS = ["S", "o", "f", "x", "X", "V", "k", "gP", "gOT", "eR"]


@given(key=st.sampled_from(EXECUTION_ENUM_KEYS), value=TEXT)
def test_unknown_enum_values_still_decode(key: str, value: str) -> None:
    payload = user_event("executionReport") | CONDITIONAL_EXECUTION_FIELDS | {key: value}
    report = decode_user_event(encode(payload))
    assert isinstance(report, ExecutionReport)
    assert to_wire(report)[key] == value


@given(key=st.sampled_from(["c", "l", "L"]), value=TEXT)
def test_unknown_list_status_enum_values_still_decode(key: str, value: str) -> None:
    status = decode_user_event(encode(user_event("listStatus") | {key: value}))
    assert isinstance(status, ListStatus)
    assert to_wire(status)[key] == value


@given(value=TEXT)
def test_unknown_kline_interval_still_decodes(value: str) -> None:
    payload = stream_example("Kline/Candlestick Streams for UTC")["payload"]
    payload = payload | {"k": payload["k"] | {"i": value}}
    event = decode_stream_payload("bnbbtc@kline_1m", encode(payload))
    assert isinstance(event, KlineEvent)
    assert event.kline.interval == value


def to_wire(value: msgspec.Struct) -> dict[str, Any]:
    wire = msgspec.to_builtins(value)
    assert isinstance(wire, dict)
    return wire


@given(
    body=st.dictionaries(TEXT, JSON_VALUES, max_size=6),
    event_type=TEXT.filter(lambda t: t not in KNOWN_USER_EVENT_TYPES),
)
def test_any_object_with_an_unknown_event_type_falls_back(
    body: dict[str, Any], event_type: str
) -> None:
    raw = encode(body | {"e": event_type})
    assert decode_user_event(raw) == UnknownUserEvent(event_type=event_type, raw=raw)


@given(st.binary() | ANY_STR | JSON_VALUES.map(encode))
def test_arbitrary_input_to_decode_user_event_raises_only_protocol_error(raw: str | bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_user_event(raw)


# --- market streams ----------------------------------------------------------------------


def concrete_names(pattern: str | None) -> list[str]:
    """Stream names for a documented pattern: "<symbol>@depth OR <symbol>@depth@100ms"."""
    if pattern is None:
        return ["!serverShutdown"]
    replacements = {
        "<symbol>": "bnbbtc",
        "<interval>": "1m",
        "<window_size>": "1h",
        "<window-size>": "1h",
        "<levels>": "5",
    }
    names = []
    for alternative in pattern.split(" OR "):
        name = alternative.strip()
        for placeholder, value in replacements.items():
            name = name.replace(placeholder, value)
        names.append(name)
    return names


def documented_payload(example: dict[str, Any]) -> Any:
    """The example payload; "[{ same as ... }]" placeholders get the single-symbol example."""
    if not example["placeholder"]:
        return example["payload"]
    single = {
        "All Market Mini Tickers Stream": "Individual Symbol Mini Ticker Stream",
        "All Market Rolling Window Statistics Streams": (
            "Individual Symbol Rolling Window Statistics Streams"
        ),
    }[example["title"]]
    item = stream_example(single)["payload"]
    return [item, item | {"s": "ETHBTC"}]


RAW_STREAMS = [s for s in STREAMS if not s["combined"]]
STREAM_CASES = [
    pytest.param(name, documented_payload(s), id=name)
    for s in RAW_STREAMS
    for name in concrete_names(s["stream_name"])
]


@pytest.mark.parametrize(("stream", "payload"), STREAM_CASES)
def test_documented_stream_payload_decodes_with_every_field(stream: str, payload: Any) -> None:
    kind = stream_kind(stream)
    assert kind is not None
    event = decode_stream_payload(stream, encode(payload))
    assert type(event) is STREAM_CLASSES[kind]
    if isinstance(event, AllMiniTickers | AllRollingWindowTickers):
        assert_fully_mapped(event.tickers, payload)
    else:
        assert_fully_mapped(event, payload)


def as_list(payload: Any) -> list[Any]:
    return payload if isinstance(payload, list) else [payload]


def test_every_documented_stream_and_event_type_is_covered() -> None:
    kinds = {stream_kind(name) for s in RAW_STREAMS for name in concrete_names(s["stream_name"])}
    assert kinds == set(StreamKind)
    documented_tags = {
        item["e"] for s in RAW_STREAMS for item in as_list(documented_payload(s)) if "e" in item
    }
    assert documented_tags | {"4hTicker", "1dTicker"} == KNOWN_STREAM_EVENT_TYPES


@pytest.mark.parametrize(
    ("stream", "cls"),
    [("bnbbtc@ticker_1h", Ticker1hEvent), ("bnbbtc@ticker_4h", Ticker4hEvent),
     ("bnbbtc@ticker_1d", Ticker1dEvent)],
)  # fmt: skip
def test_each_rolling_window_has_its_event(stream: str, cls: type) -> None:
    window = stream.rpartition("_")[2]
    payload = stream_example("Individual Symbol Rolling Window Statistics Streams")["payload"]
    event = decode_stream_payload(stream, encode(payload | {"e": f"{window}Ticker"}))
    assert type(event) is cls
    assert event.window == window  # type: ignore[union-attr]


def test_depth_levels_are_exact_decimal_pairs() -> None:
    payload = {"lastUpdateId": 1, "bids": [["0.00000001", "123.45678900"]], "asks": []}
    event = decode_stream_payload("btcusdt@depth20@100ms", encode(payload))
    assert event == PartialDepthEvent(
        last_update_id=1,
        bids=(PriceLevel(price=Decimal("0.00000001"), qty=Decimal("123.45678900")),),
        asks=(),
    )


def test_combined_frame_decodes_its_data_for_its_stream() -> None:
    combined = next(s for s in STREAMS if s["combined"])
    expected = StreamMessage("!serverShutdown", ServerShutdown(event_time=1770123456789))
    assert decode_combined_frame(encode(combined["payload"])) == expected
    assert decode_combined_frame(encode(combined["payload"]).decode()) == expected


def test_unknown_payload_in_a_text_frame_is_kept_as_bytes() -> None:
    frame = '{"stream":"btcusdt@newThing","data":{"e":"newThing","x":"é"}}'
    message = decode_combined_frame(frame)
    assert message == StreamMessage(
        "btcusdt@newThing",
        UnknownStreamEvent(
            stream="btcusdt@newThing",
            raw='{"e":"newThing","x":"é"}'.encode(),
            event_type="newThing",
        ),
    )


@pytest.mark.parametrize(("stream", "payload"), STREAM_CASES)
def test_combined_frame_gives_the_same_event_as_the_raw_payload(stream: str, payload: Any) -> None:
    message = decode_combined_frame(encode({"stream": stream, "data": payload}))
    assert message == StreamMessage(stream, decode_stream_payload(stream, encode(payload)))


@pytest.mark.parametrize(
    ("stream", "payload", "event_type"),
    [
        ("bnbbtc@trade", b'{"e":"tradeV2","E":1}', "tradeV2"),
        ("bnbbtc@ticker_2h", b'{"e":"2hTicker","E":1}', "2hTicker"),
        ("bnbbtc@newStream", b'{"x":1}', None),
        ("!ticker@arr", b'[{"e":"24hrTicker"}]', None),
    ],
)
def test_unknown_stream_payload_is_kept_raw(
    stream: str, payload: bytes, event_type: str | None
) -> None:
    assert decode_stream_payload(stream, payload) == UnknownStreamEvent(
        stream=stream, raw=payload, event_type=event_type
    )


@pytest.mark.parametrize(
    ("stream", "payload"),
    [
        ("bnbbtc@trade", b'{"e":"trade","E":1}'),
        ("bnbbtc@aggTrade", b'{"e":"aggTrade","E":1,"s":"X","a":1,"p":0.1}'),
        ("bnbbtc@trade", b'{"E":1}'),
        ("bnbbtc@bookTicker", b'{"u":1,"s":"X"}'),
        ("bnbbtc@depth5", b'{"lastUpdateId":1,"bids":[["1"]],"asks":[]}'),
        ("!miniTicker@arr", b'[{"e":"24hrMiniTicker"}]'),
        ("bnbbtc@trade", b"not json"),
    ],
)
def test_malformed_known_stream_payload_raises_protocol_error(stream: str, payload: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_stream_payload(stream, payload)


@given(
    stream=TEXT,
    body=st.dictionaries(TEXT, JSON_VALUES, max_size=6),
    event_type=TEXT.filter(lambda t: t not in KNOWN_STREAM_EVENT_TYPES),
)
def test_any_stream_object_with_unknown_event_type_falls_back(
    stream: str, body: dict[str, Any], event_type: str
) -> None:
    raw = encode(body | {"e": event_type})
    assert decode_stream_payload(stream, raw) == UnknownStreamEvent(
        stream=stream, raw=raw, event_type=event_type
    )


@given(
    stream=st.sampled_from([*[c.values[0] for c in STREAM_CASES], "x@y"]),
    raw=st.binary() | ANY_STR,
)
def test_arbitrary_stream_payload_raises_only_protocol_error(stream: str, raw: str | bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_stream_payload(stream, raw)


@given(st.binary() | ANY_STR | JSON_VALUES.map(encode))
def test_arbitrary_combined_frame_raises_only_protocol_error(raw: str | bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_combined_frame(raw)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("btcusdt@depth", StreamKind.DIFF_DEPTH),
        ("btcusdt@depth@100ms", StreamKind.DIFF_DEPTH),
        ("btcusdt@depth10", StreamKind.PARTIAL_DEPTH),
        ("btcusdt@kline_1M@+08:00", StreamKind.KLINE),
        ("!ticker_4h@arr", StreamKind.ALL_ROLLING_WINDOW_TICKERS),
        ("!ticker_2h@arr", None),
        ("!ticker@arr", None),
        ("btcusdt@trade@100ms", None),
        ("@trade", None),
        ("btcusdt", None),
    ],
)
def test_stream_kind(name: str, kind: StreamKind | None) -> None:
    assert stream_kind(name) == kind


# --- control messages ----------------------------------------------------------------------


def control_examples(kind: str) -> list[dict[str, Any]]:
    return [m for m in CONTROL_MESSAGES if m["kind"] == kind]


def build_request(frame: dict[str, Any]) -> str:
    method, request_id, params = frame["method"], frame["id"], frame.get("params", [])
    if method == "SUBSCRIBE":
        return subscribe_request(params, request_id)
    if method == "UNSUBSCRIBE":
        return unsubscribe_request(params, request_id)
    if method == "LIST_SUBSCRIPTIONS":
        return list_subscriptions_request(request_id)
    if method == "SET_PROPERTY":
        return set_property_request(params[0], params[1], request_id)
    assert method == "GET_PROPERTY"
    return get_property_request(params[0], request_id)


@pytest.mark.parametrize("example", control_examples("request"), ids=lambda m: m["title"])
def test_request_builders_match_the_documented_frames(example: dict[str, Any]) -> None:
    built = build_request(example["frame"])
    assert json.loads(built) == example["frame"]
    assert list(json.loads(built)) == list(example["frame"])  # same key order as the docs


@pytest.mark.parametrize("example", control_examples("response"), ids=lambda m: m["title"])
def test_documented_control_replies_decode(example: dict[str, Any]) -> None:
    reply = decode_combined_frame(encode(example["frame"]))
    assert isinstance(reply, ControlReply)
    assert reply.id == example["frame"]["id"]
    result = example["frame"]["result"]
    assert reply.result == (tuple(result) if isinstance(result, list) else result)


@pytest.mark.parametrize("example", control_examples("error"), ids=lambda m: m["frame"]["msg"])
def test_documented_control_errors_decode(example: dict[str, Any]) -> None:
    error = decode_combined_frame(encode(example["frame"]))
    assert isinstance(error, ControlError)
    assert (error.code, error.msg) == (example["frame"]["code"], example["frame"]["msg"])
    assert error.id == example["frame"].get("id")


def test_frame_that_is_neither_payload_nor_reply_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="neither"):
        decode_combined_frame(b'{"stream":"btcusdt@trade"}')


@given(
    request_id=st.none()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text("abcXYZ0123456789", min_size=1, max_size=36)
)
def test_valid_request_ids_are_sent_as_given(request_id: int | str | None) -> None:
    assert json.loads(list_subscriptions_request(request_id))["id"] == request_id


@pytest.mark.parametrize(
    "request_id", [2**63, -(2**63) - 1, "", "a" * 37, "with-dash", "ünï", True, 1.5]
)
def test_invalid_request_ids_are_refused(request_id: Any) -> None:
    with pytest.raises(InvalidParameter, match="'id'"):
        subscribe_request(["btcusdt@trade"], request_id)


@pytest.mark.parametrize(
    "call",
    [
        lambda: subscribe_request([], 1),
        lambda: unsubscribe_request([""], 1),
        lambda: set_property_request("combined", "yes", 1),  # type: ignore[arg-type]
        lambda: get_property_request("", 1),
    ],
)
def test_invalid_control_parameters_are_refused(call: Any) -> None:
    with pytest.raises(InvalidParameter):
        call()


def test_side_enum_decodes_as_member() -> None:
    assert execution_report().side is Side.BUY
