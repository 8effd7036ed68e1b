"""Market stream payloads and stream control messages (spec: web-socket-streams.md).

Most payloads carry their event type in ``"e"`` and decode in one msgspec pass as a tagged
union. ``bookTicker``, partial book depth and the ``!…@arr`` arrays carry no ``"e"``; they are
recognised by their stream name. As for user-data events, an event type this version does not
know becomes ``UnknownStreamEvent`` rather than an error, and a broken known payload raises
``ProtocolError``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import ClassVar, Final, NamedTuple, TypeAlias, get_args

import msgspec

from trio_binance._exceptions import InvalidParameter, ProtocolError
from trio_binance.models._base import Model
from trio_binance.models._enums import KlineInterval

# The same level type as the ``depth`` snapshot, so a local book merges both directly.
from trio_binance.models._market import PriceLevel

# What the decoders accept: a text frame as trio-websocket delivers it (str), bytes, or the
# msgspec.Raw left by an envelope decode.
JsonInput: TypeAlias = str | bytes | msgspec.Raw


class _MarketEvent(Model, frozen=True, tag_field="e"):
    """Base of the payloads tagged by ``"e"``."""


class ServerShutdown(_MarketEvent, frozen=True, tag="serverShutdown"):
    """The server is about to shut down: reconnect now (web-socket-streams.md, "Server
    Shutdown"; also a WebSocket API connection event)."""

    event_time: int = msgspec.field(name="E")


class ReferencePriceEvent(_MarketEvent, frozen=True, tag="referencePrice"):
    """``<symbol>@referencePrice``. The payload has no ``"E"``; ``"t"`` is the engine time."""

    symbol: str = msgspec.field(name="s")
    # null when there is no reference price.
    reference_price: Decimal | None = msgspec.field(name="r")
    engine_time: int = msgspec.field(name="t")


class AggTradeEvent(_MarketEvent, frozen=True, tag="aggTrade"):
    """``<symbol>@aggTrade``: trades of one taker order at one price. ``"M"`` is "Ignore"."""

    event_time: int = msgspec.field(name="E")
    symbol: str = msgspec.field(name="s")
    aggregate_trade_id: int = msgspec.field(name="a")
    price: Decimal = msgspec.field(name="p")
    quantity: Decimal = msgspec.field(name="q")
    first_trade_id: int = msgspec.field(name="f")
    last_trade_id: int = msgspec.field(name="l")
    trade_time: int = msgspec.field(name="T")
    is_buyer_maker: bool = msgspec.field(name="m")


class TradeEvent(_MarketEvent, frozen=True, tag="trade"):
    """``<symbol>@trade``: one raw trade. ``"M"`` is "Ignore"."""

    event_time: int = msgspec.field(name="E")
    symbol: str = msgspec.field(name="s")
    trade_id: int = msgspec.field(name="t")
    price: Decimal = msgspec.field(name="p")
    quantity: Decimal = msgspec.field(name="q")
    trade_time: int = msgspec.field(name="T")
    is_buyer_maker: bool = msgspec.field(name="m")


class BlockTradeEvent(_MarketEvent, frozen=True, tag="blockTrade"):
    """``<symbol>@blockTrade``."""

    event_time: int = msgspec.field(name="E")
    symbol: str = msgspec.field(name="s")
    block_trade_id: int = msgspec.field(name="t")
    price: Decimal = msgspec.field(name="p")
    quantity: Decimal = msgspec.field(name="q")
    trade_time: int = msgspec.field(name="T")
    is_buyer_maker: bool = msgspec.field(name="m")


class KlineCandle(Model, frozen=True):
    """The ``"k"`` object of a kline event. ``"B"`` is "Ignore".

    Trade ids are -1 when the candle has no trade yet.
    """

    start_time: int = msgspec.field(name="t")
    close_time: int = msgspec.field(name="T")
    symbol: str = msgspec.field(name="s")
    interval: KlineInterval = msgspec.field(name="i")
    first_trade_id: int = msgspec.field(name="f")
    last_trade_id: int = msgspec.field(name="L")
    open_price: Decimal = msgspec.field(name="o")
    close_price: Decimal = msgspec.field(name="c")
    high_price: Decimal = msgspec.field(name="h")
    low_price: Decimal = msgspec.field(name="l")
    volume: Decimal = msgspec.field(name="v")
    trade_count: int = msgspec.field(name="n")
    is_closed: bool = msgspec.field(name="x")
    quote_volume: Decimal = msgspec.field(name="q")
    taker_buy_volume: Decimal = msgspec.field(name="V")
    taker_buy_quote_volume: Decimal = msgspec.field(name="Q")


class KlineEvent(_MarketEvent, frozen=True, tag="kline"):
    """``<symbol>@kline_<interval>`` and its ``@+08:00`` variant (same payload; the offset
    only moves the candle boundaries, times stay UTC epoch milliseconds)."""

    event_time: int = msgspec.field(name="E")
    symbol: str = msgspec.field(name="s")
    kline: KlineCandle = msgspec.field(name="k")


class MiniTickerEvent(_MarketEvent, frozen=True, tag="24hrMiniTicker"):
    """``<symbol>@miniTicker`` (and each element of ``!miniTicker@arr``)."""

    event_time: int = msgspec.field(name="E")
    symbol: str = msgspec.field(name="s")
    close_price: Decimal = msgspec.field(name="c")
    open_price: Decimal = msgspec.field(name="o")
    high_price: Decimal = msgspec.field(name="h")
    low_price: Decimal = msgspec.field(name="l")
    volume: Decimal = msgspec.field(name="v")
    quote_volume: Decimal = msgspec.field(name="q")


class TickerEvent(_MarketEvent, frozen=True, tag="24hrTicker"):
    """``<symbol>@ticker``: 24 h rolling window statistics."""

    event_time: int = msgspec.field(name="E")
    symbol: str = msgspec.field(name="s")
    price_change: Decimal = msgspec.field(name="p")
    price_change_percent: Decimal = msgspec.field(name="P")
    weighted_average_price: Decimal = msgspec.field(name="w")
    # "First trade(F)-1 price": the last price before the window opened.
    prev_close_price: Decimal = msgspec.field(name="x")
    last_price: Decimal = msgspec.field(name="c")
    last_quantity: Decimal = msgspec.field(name="Q")
    best_bid_price: Decimal = msgspec.field(name="b")
    best_bid_quantity: Decimal = msgspec.field(name="B")
    best_ask_price: Decimal = msgspec.field(name="a")
    best_ask_quantity: Decimal = msgspec.field(name="A")
    open_price: Decimal = msgspec.field(name="o")
    high_price: Decimal = msgspec.field(name="h")
    low_price: Decimal = msgspec.field(name="l")
    volume: Decimal = msgspec.field(name="v")
    quote_volume: Decimal = msgspec.field(name="q")
    open_time: int = msgspec.field(name="O")
    close_time: int = msgspec.field(name="C")
    first_trade_id: int = msgspec.field(name="F")
    last_trade_id: int = msgspec.field(name="L")
    trade_count: int = msgspec.field(name="n")


class RollingWindowTickerEvent(_MarketEvent, frozen=True):
    """``<symbol>@ticker_<window>``: one subclass per window, tagged ``1hTicker`` etc.

    ``open_time`` starts on a minute and ``close_time`` is the update time, so the effective
    window may be up to 59999 ms wider than ``window``.
    """

    window: ClassVar[str]

    event_time: int = msgspec.field(name="E")
    symbol: str = msgspec.field(name="s")
    price_change: Decimal = msgspec.field(name="p")
    price_change_percent: Decimal = msgspec.field(name="P")
    open_price: Decimal = msgspec.field(name="o")
    high_price: Decimal = msgspec.field(name="h")
    low_price: Decimal = msgspec.field(name="l")
    last_price: Decimal = msgspec.field(name="c")
    weighted_average_price: Decimal = msgspec.field(name="w")
    volume: Decimal = msgspec.field(name="v")
    quote_volume: Decimal = msgspec.field(name="q")
    open_time: int = msgspec.field(name="O")
    close_time: int = msgspec.field(name="C")
    first_trade_id: int = msgspec.field(name="F")
    last_trade_id: int = msgspec.field(name="L")
    trade_count: int = msgspec.field(name="n")


class Ticker1hEvent(RollingWindowTickerEvent, frozen=True, tag="1hTicker"):
    window = "1h"


class Ticker4hEvent(RollingWindowTickerEvent, frozen=True, tag="4hTicker"):
    window = "4h"


class Ticker1dEvent(RollingWindowTickerEvent, frozen=True, tag="1dTicker"):
    window = "1d"


class AvgPriceEvent(_MarketEvent, frozen=True, tag="avgPrice"):
    """``<symbol>@avgPrice``."""

    event_time: int = msgspec.field(name="E")
    symbol: str = msgspec.field(name="s")
    interval: str = msgspec.field(name="i")
    average_price: Decimal = msgspec.field(name="w")
    last_trade_time: int = msgspec.field(name="T")


class DepthUpdateEvent(_MarketEvent, frozen=True, tag="depthUpdate"):
    """``<symbol>@depth[@100ms]``: changed levels; apply in update-id order (web-socket-
    streams.md, "How to manage a local order book correctly")."""

    event_time: int = msgspec.field(name="E")
    symbol: str = msgspec.field(name="s")
    first_update_id: int = msgspec.field(name="U")
    final_update_id: int = msgspec.field(name="u")
    bids: tuple[PriceLevel, ...] = msgspec.field(name="b")
    asks: tuple[PriceLevel, ...] = msgspec.field(name="a")


class BookTickerEvent(Model, frozen=True):
    """``<symbol>@bookTicker``: best bid and ask. No ``"e"``: routed by stream name."""

    update_id: int = msgspec.field(name="u")
    symbol: str = msgspec.field(name="s")
    best_bid_price: Decimal = msgspec.field(name="b")
    best_bid_quantity: Decimal = msgspec.field(name="B")
    best_ask_price: Decimal = msgspec.field(name="a")
    best_ask_quantity: Decimal = msgspec.field(name="A")


class PartialDepthEvent(Model, frozen=True):
    """``<symbol>@depth<levels>[@100ms]``: the top levels. No ``"e"`` and no symbol: the
    stream name says which book it is."""

    last_update_id: int
    bids: tuple[PriceLevel, ...]
    asks: tuple[PriceLevel, ...]


# Any one rolling window ticker event (not `_market.RollingWindowTicker`, the result model).
AnyRollingWindowTicker: TypeAlias = Ticker1hEvent | Ticker4hEvent | Ticker1dEvent


class AllMiniTickers(Model, frozen=True):
    """``!miniTicker@arr``: the mini tickers that changed in the last second."""

    tickers: tuple[MiniTickerEvent, ...]


class AllRollingWindowTickers(Model, frozen=True):
    """``!ticker_<window>@arr``: the rolling window tickers that changed."""

    tickers: tuple[AnyRollingWindowTicker, ...]


class UnknownStreamEvent(msgspec.Struct, frozen=True, gc=False):
    """A payload this version cannot type: its stream, untouched JSON and ``"e"`` if any."""

    stream: str
    raw: bytes
    event_type: str | None = None


TaggedStreamEvent: TypeAlias = (
    AggTradeEvent
    | TradeEvent
    | BlockTradeEvent
    | KlineEvent
    | MiniTickerEvent
    | TickerEvent
    | Ticker1hEvent
    | Ticker4hEvent
    | Ticker1dEvent
    | AvgPriceEvent
    | DepthUpdateEvent
    | ReferencePriceEvent
    | ServerShutdown
)
StreamEvent: TypeAlias = (
    TaggedStreamEvent
    | BookTickerEvent
    | PartialDepthEvent
    | AllMiniTickers
    | AllRollingWindowTickers
    | UnknownStreamEvent
)


def tags_of(union: object) -> frozenset[str]:
    """The ``"e"`` values of the tagged Structs in ``union``."""
    return frozenset(str(member.__struct_config__.tag) for member in get_args(union))


KNOWN_STREAM_EVENT_TYPES: Final = tags_of(TaggedStreamEvent)


class StreamKind(enum.StrEnum):
    """What a stream name subscribes to, whatever its symbol and options."""

    AGG_TRADE = "aggTrade"
    TRADE = "trade"
    BLOCK_TRADE = "blockTrade"
    KLINE = "kline"
    MINI_TICKER = "miniTicker"
    TICKER = "ticker"
    ROLLING_WINDOW_TICKER = "rollingWindowTicker"
    BOOK_TICKER = "bookTicker"
    AVG_PRICE = "avgPrice"
    PARTIAL_DEPTH = "partialDepth"
    DIFF_DEPTH = "diffDepth"
    REFERENCE_PRICE = "referencePrice"
    ALL_MINI_TICKERS = "allMiniTickers"
    ALL_ROLLING_WINDOW_TICKERS = "allRollingWindowTickers"
    SERVER_SHUTDOWN = "serverShutdown"


# Stream types named exactly by the part after "<symbol>@".
_PLAIN_KINDS: Final = frozenset(
    (
        "aggTrade",
        "trade",
        "blockTrade",
        "miniTicker",
        "ticker",
        "bookTicker",
        "avgPrice",
        "referencePrice",
    )
)

# Documented window sizes; a new one decodes as UnknownStreamEvent until it is modelled.
_ROLLING_WINDOWS: Final = frozenset({"1h", "4h", "1d"})


def stream_kind(stream_name: str) -> StreamKind | None:
    """The kind of a documented stream name, ``None`` for a name this version does not know.

    ``"bnbbtc@depth5@100ms"`` -> ``PARTIAL_DEPTH``, ``"!ticker_1h@arr"`` ->
    ``ALL_ROLLING_WINDOW_TICKERS``, ``"bnbbtc@kline_1m@+08:00"`` -> ``KLINE``.
    """
    head, _, tail = stream_name.partition("@")
    if head.startswith("!"):
        return _all_market_kind(head, tail)
    if not head:
        return None
    base, _, option = tail.partition("@")
    if base in _PLAIN_KINDS:
        return None if option else StreamKind(base)
    if base.startswith("kline_"):
        return StreamKind.KLINE
    if base.removeprefix("ticker_") in _ROLLING_WINDOWS and not option:
        return StreamKind.ROLLING_WINDOW_TICKER
    if base == "depth":
        return StreamKind.DIFF_DEPTH
    if base.startswith("depth") and base[5:].isdigit():
        return StreamKind.PARTIAL_DEPTH
    return None


def _all_market_kind(head: str, tail: str) -> StreamKind | None:
    if head == "!serverShutdown" and not tail:
        return StreamKind.SERVER_SHUTDOWN
    if head == "!miniTicker" and tail == "arr":
        return StreamKind.ALL_MINI_TICKERS
    if head.removeprefix("!ticker_") in _ROLLING_WINDOWS and tail == "arr":
        return StreamKind.ALL_ROLLING_WINDOW_TICKERS
    return None


class _EventTypeProbe(msgspec.Struct, gc=False):
    e: str | None = None


_PROBE_DECODER: Final = msgspec.json.Decoder(_EventTypeProbe)
_TAGGED_DECODER: Final[msgspec.json.Decoder[TaggedStreamEvent]] = msgspec.json.Decoder(
    TaggedStreamEvent
)
_BOOK_TICKER_DECODER: Final = msgspec.json.Decoder(BookTickerEvent)
_PARTIAL_DEPTH_DECODER: Final = msgspec.json.Decoder(PartialDepthEvent)
_MINI_TICKERS_DECODER: Final = msgspec.json.Decoder(tuple[MiniTickerEvent, ...])
_ROLLING_TICKERS_DECODER: Final[msgspec.json.Decoder[tuple[AnyRollingWindowTicker, ...]]] = (
    msgspec.json.Decoder(tuple[AnyRollingWindowTicker, ...])
)


def as_bytes(raw: JsonInput) -> bytes:
    """The JSON text as bytes, to keep in an ``Unknown*`` event."""
    return raw.encode() if isinstance(raw, str) else bytes(raw)


def event_type_of(raw: JsonInput) -> str | None:
    """The string ``"e"`` of a JSON object, or ``None`` (not JSON, not an object, no ``"e"``)."""
    try:
        return _PROBE_DECODER.decode(raw).e
    except (msgspec.DecodeError, RecursionError):  # nesting deeper than msgspec's guard
        return None


def decode_stream_payload(stream_name: str, payload: JsonInput) -> StreamEvent:
    """Decode the payload of ``stream_name`` (a raw-stream frame or a combined frame's data).

    Raises ``ProtocolError`` when the payload is not JSON or does not match the model of a
    known event type or stream; unknown event types and streams give ``UnknownStreamEvent``.
    """
    try:
        return _decode_known(stream_name, payload)
    except msgspec.ValidationError as exc:
        return _unknown_or_malformed(stream_name, payload, exc)
    except (msgspec.DecodeError, UnicodeEncodeError, RecursionError) as exc:
        raise ProtocolError(f"{stream_name} payload is not valid JSON: {exc}") from exc


def _decode_known(stream_name: str, payload: JsonInput) -> StreamEvent:
    # Only the payloads without "e" need their stream name; test those suffixes cheaply
    # before falling through to the one-pass tagged decode.
    if stream_name.endswith("@bookTicker"):
        return _BOOK_TICKER_DECODER.decode(payload)
    if stream_name.endswith("@arr"):
        return _decode_array(stream_name, payload)
    if _is_partial_depth(stream_name):
        return _PARTIAL_DEPTH_DECODER.decode(payload)
    return _TAGGED_DECODER.decode(payload)


def _is_partial_depth(stream_name: str) -> bool:
    # "<symbol>@depth<levels>[@100ms]"; the diff depth stream has no digit after "@depth".
    _, found, rest = stream_name.partition("@depth")
    return bool(found) and rest[:1].isdigit()


def _decode_array(stream_name: str, payload: JsonInput) -> StreamEvent:
    kind = stream_kind(stream_name)
    if kind is StreamKind.ALL_MINI_TICKERS:
        return AllMiniTickers(tickers=_MINI_TICKERS_DECODER.decode(payload))
    if kind is StreamKind.ALL_ROLLING_WINDOW_TICKERS:
        return AllRollingWindowTickers(tickers=_ROLLING_TICKERS_DECODER.decode(payload))
    # An array stream we do not know (e.g. the retired "!ticker@arr"): this fails
    # validation and becomes UnknownStreamEvent, or raises ProtocolError if not JSON.
    return _TAGGED_DECODER.decode(payload)


def _unknown_or_malformed(
    stream_name: str, payload: JsonInput, error: Exception
) -> UnknownStreamEvent:
    event_type = event_type_of(payload)
    if event_type in KNOWN_STREAM_EVENT_TYPES:
        raise ProtocolError(f"malformed {event_type} event on {stream_name}: {error}") from error
    if event_type is None and stream_kind(stream_name) is not None:
        raise ProtocolError(f"malformed payload on {stream_name}: {error}") from error
    return UnknownStreamEvent(stream=stream_name, raw=as_bytes(payload), event_type=event_type)


# --- combined streams and control messages ("Live Subscribing/Unsubscribing to streams") ---

RequestId: TypeAlias = int | str | None

_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_MAX_STRING_ID: Final = 36


class StreamMessage(NamedTuple):
    """A payload from a combined stream, with the stream it came from."""

    stream: str
    event: StreamEvent


class ControlReply(Model, frozen=True):
    """A reply to a control request.

    ``result`` is ``None`` for SUBSCRIBE, UNSUBSCRIBE and SET_PROPERTY (success), the stream
    names for LIST_SUBSCRIPTIONS and the property's value for GET_PROPERTY.
    """

    id: RequestId
    result: tuple[str, ...] | bool | None = None


class ControlError(Model, frozen=True):
    """A control request refused (web-socket-streams.md, "Error Messages")."""

    code: int
    msg: str
    id: RequestId = None


class _Frame(msgspec.Struct, frozen=True, gc=False):
    """Every frame a combined connection receives: a payload, a reply or an error."""

    stream: str | None = None
    data: msgspec.Raw = msgspec.Raw()
    id: int | str | msgspec.UnsetType | None = msgspec.UNSET
    result: tuple[str, ...] | bool | None = None
    code: int | None = None
    msg: str = ""


_FRAME_DECODER: Final = msgspec.json.Decoder(_Frame)


def decode_combined_frame(frame: str | bytes) -> StreamMessage | ControlReply | ControlError:
    """Decode a frame of a combined-stream connection (``/stream?streams=…``).

    ``{"stream": ..., "data": ...}`` gives a ``StreamMessage``; the data is decoded once, by
    ``decode_stream_payload``. Replies to control requests share the connection and give a
    ``ControlReply`` or ``ControlError``. Anything else raises ``ProtocolError``.
    """
    try:
        envelope = _FRAME_DECODER.decode(frame)
    except (msgspec.DecodeError, UnicodeEncodeError, RecursionError) as exc:
        raise ProtocolError(f"malformed stream frame: {exc}") from exc
    if envelope.stream is not None and envelope.data:
        return StreamMessage(envelope.stream, decode_stream_payload(envelope.stream, envelope.data))
    return _control_message(envelope)


def _control_message(envelope: _Frame) -> ControlReply | ControlError:
    request_id = None if envelope.id is msgspec.UNSET else envelope.id
    if envelope.code is not None:
        return ControlError(code=envelope.code, msg=envelope.msg, id=request_id)
    if envelope.id is msgspec.UNSET:
        raise ProtocolError("stream frame is neither a payload nor a control reply")
    return ControlReply(id=request_id, result=envelope.result)


def subscribe_request(streams: Iterable[str], request_id: RequestId) -> str:
    """The SUBSCRIBE text frame for ``streams``."""
    return _control_request("SUBSCRIBE", _stream_names(streams), request_id)


def unsubscribe_request(streams: Iterable[str], request_id: RequestId) -> str:
    """The UNSUBSCRIBE text frame for ``streams``."""
    return _control_request("UNSUBSCRIBE", _stream_names(streams), request_id)


def list_subscriptions_request(request_id: RequestId) -> str:
    """The LIST_SUBSCRIPTIONS text frame (it takes no params)."""
    return _control_request("LIST_SUBSCRIPTIONS", None, request_id)


def set_property_request(name: str, value: bool, request_id: RequestId) -> str:
    """The SET_PROPERTY text frame; ``"combined"`` is the only documented property."""
    if not isinstance(value, bool):
        raise InvalidParameter("value", "must be true or false")
    return _control_request("SET_PROPERTY", [_property_name(name), value], request_id)


def get_property_request(name: str, request_id: RequestId) -> str:
    """The GET_PROPERTY text frame."""
    return _control_request("GET_PROPERTY", [_property_name(name)], request_id)


def _control_request(method: str, params: Sequence[object] | None, request_id: RequestId) -> str:
    frame: dict[str, object] = {"method": method}
    if params is not None:
        frame["params"] = params
    frame["id"] = _checked_id(request_id)
    return msgspec.json.encode(frame).decode()


def _stream_names(streams: Iterable[str]) -> list[str]:
    names = list(streams)
    if not names:
        raise InvalidParameter("streams", "must name at least one stream")
    if not all(isinstance(name, str) and name for name in names):
        raise InvalidParameter("streams", "must be non-empty strings")
    return names


def _property_name(name: str) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidParameter("name", "must be a non-empty string")
    return name


def _checked_id(request_id: RequestId) -> RequestId:
    """The id formats the spec accepts: int64, alphanumeric string up to 36 chars, or null."""
    if request_id is None:
        return None
    if isinstance(request_id, bool):
        raise InvalidParameter("id", "must be an integer, a string or None, not a bool")
    if isinstance(request_id, int):
        if not _INT64_MIN <= request_id <= _INT64_MAX:
            raise InvalidParameter("id", "must fit in a signed 64-bit integer")
        return request_id
    if isinstance(request_id, str) and _is_valid_string_id(request_id):
        return request_id
    raise InvalidParameter("id", "must be an alphanumeric string of at most 36 characters")


def _is_valid_string_id(request_id: str) -> bool:
    return 0 < len(request_id) <= _MAX_STRING_ID and request_id.isascii() and request_id.isalnum()
