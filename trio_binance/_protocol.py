"""The WebSocket API protocol, free of I/O: request frames out, classified frames in.

Spec: web-socket-api.md, "Request format", "Response format", "Event format" and
"Connection events". Every incoming text frame is decoded exactly once into an envelope whose
``result`` and ``event`` stay undecoded (``msgspec.Raw``); the caller that asked for a result
decodes it into its own type later, with a cached decoder (:func:`decoder_for`).

``rateLimits`` stays undecoded too: a response's ``rate_limits`` property decodes it into
``RateLimit`` entries when something reads it (a rate governor, an ``ApiError``,
``Session.statistics()``). Most responses are never asked, and decoding the three entries of
every reply cost about as much as the rest of the envelope (``benchmarks/README.md``).

The envelope carries no tag, so a frame is told apart by which fields it has:

========================================  =====================================
fields present                            classification
========================================  =====================================
``status`` and ``result``                 :class:`ResultResponse`
``status`` and ``error``                  :class:`ErrorResponse`
``subscriptionId`` and ``event``          :class:`UserDataFrame`
``event`` only                            :class:`ConnectionEvent` (``serverShutdown``)
anything else, or not a JSON object       :class:`BadFrame`
========================================  =====================================

This module never imports trio; ``tests/test_protocol.py`` checks that it stays that way.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeAlias, TypeVar

import msgspec

from trio_binance._params import WireParams
from trio_binance.models import RateLimit

T = TypeVar("T")

logger = logging.getLogger("trio_binance.protocol")

RequestId: TypeAlias = int | str | None

# Binance accepts request ids that are 64-bit integers or strings of at most 36 characters
# (CHANGELOG 2023-12-04); we use positive 63-bit integers, counted per connection.
MAX_REQUEST_ID = 2**63 - 1
# A protocol error quotes at most this much of the offending frame.
QUOTE_LIMIT = 200


class ErrorBody(msgspec.Struct, frozen=True, gc=False):
    """The ``error`` object of a failed response; ``data`` is kept undecoded until needed."""

    code: int
    msg: str
    data: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)

    def decoded_data(self) -> Any:
        """``error.data`` as Python values, or ``None`` when absent or undecodable."""
        if not self.data:
            return None
        try:
            return msgspec.json.decode(self.data)
        except (msgspec.DecodeError, RecursionError):
            return None


class _Envelope(msgspec.Struct, frozen=True, gc=False):
    id: int | str | None = None
    status: int | None = None
    result: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    error: ErrorBody | None = None
    rateLimits: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    subscriptionId: int | None = None
    event: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)


class _IdOnly(msgspec.Struct, gc=False):
    """Used only to find which request a malformed response answered."""

    id: int | str | None = None


class _EventType(msgspec.Struct, gc=False):
    e: str = ""


# --- classified frames -------------------------------------------------------------------


_rate_limits_decoder = msgspec.json.Decoder(list[RateLimit])


def decode_rate_limits(raw: msgspec.Raw) -> list[RateLimit] | None:
    """A response's ``rateLimits`` as ``RateLimit`` entries; ``None`` when it had none.

    A malformed array is logged and read as ``None``: the response it came with (an order
    placed, say) is still delivered, and a governor then counts on its own.
    """
    if not raw:
        return None
    try:
        return _rate_limits_decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        logger.warning("malformed rateLimits ignored: %s: %s", exc, quote(bytes(raw)))
        return None


def encode_rate_limits(rate_limits: Sequence[RateLimit] | None) -> msgspec.Raw:
    """The undecoded form responses carry, for building a response by hand (e.g. in tests)."""
    if rate_limits is None:
        return msgspec.Raw()
    return msgspec.Raw(msgspec.json.encode(rate_limits))


def reports_rate_limits(raw: msgspec.Raw) -> bool:
    """Whether ``raw`` holds at least one entry (cheap: nothing is decoded)."""
    return len(raw) > 2  # absent is empty, no entries is ``[]``


class ResultResponse(msgspec.Struct, frozen=True, gc=False):
    """A successful response: ``result`` and ``rateLimits`` stay undecoded until read."""

    request_id: RequestId
    status: int
    result: msgspec.Raw
    raw_rate_limits: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)

    @property
    def rate_limits(self) -> list[RateLimit] | None:
        """The response's ``rateLimits``, decoded on each read; ``None`` when absent."""
        return decode_rate_limits(self.raw_rate_limits)


class ErrorResponse(msgspec.Struct, frozen=True, gc=False):
    """A failed response. ``request_id`` is ``None`` for session-wide errors (401)."""

    request_id: RequestId
    status: int
    error: ErrorBody
    raw_rate_limits: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)

    @property
    def rate_limits(self) -> list[RateLimit] | None:
        """The response's ``rateLimits``, decoded on each read; ``None`` when absent."""
        return decode_rate_limits(self.raw_rate_limits)


class UserDataFrame(msgspec.Struct, frozen=True, gc=False):
    """A user-data event of subscription ``subscription_id``; ``event`` is undecoded."""

    subscription_id: int
    event: msgspec.Raw


class ConnectionEvent(msgspec.Struct, frozen=True, gc=False):
    """An event about the connection itself, e.g. ``serverShutdown``."""

    event_type: str
    event: msgspec.Raw


class BadFrame(msgspec.Struct, frozen=True, gc=False):
    """A frame that does not follow the protocol.

    ``request_id`` is set when the frame names a request, so that request can fail with a
    protocol error instead of waiting forever.
    """

    reason: str
    request_id: RequestId = None


Frame: TypeAlias = ResultResponse | ErrorResponse | UserDataFrame | ConnectionEvent | BadFrame


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def quote(data: str | bytes) -> str:
    """A short, printable excerpt of a frame for error messages and logs."""
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    return text if len(text) <= QUOTE_LIMIT else text[:QUOTE_LIMIT] + "..."


class FrameDecoder:
    """Decodes and classifies incoming frames. Stateless apart from its reusable decoders."""

    def __init__(self) -> None:
        self._envelope = msgspec.json.Decoder(_Envelope)
        self._id_only = msgspec.json.Decoder(_IdOnly)
        self._event_type = msgspec.json.Decoder(_EventType)

    def decode(self, data: str | bytes) -> Frame:
        if isinstance(data, bytes):
            # Binary frames carry SBE, which this client never asks for.
            return BadFrame(f"unexpected binary frame ({len(data)} bytes)")
        try:
            envelope = self._envelope.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return BadFrame(f"{exc}: {quote(data)}", self._find_request_id(data))
        except RecursionError:  # msgspec's guard against nesting that would overflow the stack
            return BadFrame(f"JSON nested too deeply: {quote(data)}", self._find_request_id(data))
        except UnicodeEncodeError:
            # Lone surrogates: what invalid UTF-8 becomes when a transport decodes a text
            # frame with "surrogateescape" instead of refusing it.
            return BadFrame(f"text frame is not valid UTF-8: {quote(_printable(data))}")
        return self._classify(envelope, data)

    def _classify(self, env: _Envelope, data: str) -> Frame:
        if env.status is not None:
            if env.error is not None:
                return ErrorResponse(env.id, env.status, env.error, env.rateLimits)
            if env.result:
                return ResultResponse(env.id, env.status, env.result, env.rateLimits)
            return BadFrame(f"response with neither result nor error: {quote(data)}", env.id)
        if env.event:
            if env.subscriptionId is not None:
                return UserDataFrame(env.subscriptionId, env.event)
            return self._connection_event(env.event, data)
        return BadFrame(f"frame of unknown shape: {quote(data)}", env.id)

    def _connection_event(self, event: msgspec.Raw, data: str) -> Frame:
        try:
            event_type = self._event_type.decode(event).e
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            event_type = ""
        if not event_type:
            return BadFrame(f"event without a type: {quote(data)}")
        return ConnectionEvent(event_type, event)

    def _find_request_id(self, data: str) -> RequestId:
        try:
            return self._id_only.decode(data).id
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError, UnicodeEncodeError):
            return None


class RequestEncoder:
    """Encodes request frames; hands out request ids unique for one connection."""

    def __init__(self) -> None:
        self._encoder = msgspec.json.Encoder()
        self._last_id = 0

    def next_id(self) -> int:
        # 2**63 requests will not happen on one connection; wrap anyway rather than overflow.
        self._last_id = self._last_id % MAX_REQUEST_ID + 1
        return self._last_id

    def encode(self, request_id: RequestId, method: str, params: WireParams | None) -> bytes:
        """One request frame. ``params`` must already be canonical (see ``_params``)."""
        frame: dict[str, Any] = {"id": request_id, "method": method}
        if params:
            frame["params"] = params
        return self._encoder.encode(frame)


class InFlight(Generic[T]):
    """Requests waiting for their response, by id: one entry per request, removed exactly once.

    The entry is whatever the I/O layer uses to wake the caller; this class only keeps the
    bookkeeping honest (a reply for an id that is not in flight is "unmatched", never routed).
    """

    def __init__(self) -> None:
        self._waiting: dict[RequestId, T] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def add(self, request_id: RequestId, entry: T) -> None:
        if request_id in self._waiting:
            raise ValueError(f"request id {request_id!r} is already in flight")
        self._waiting[request_id] = entry

    def pop(self, request_id: RequestId) -> T | None:
        """The entry for ``request_id`` (removed), or ``None`` if it is not in flight."""
        return self._waiting.pop(request_id, None)

    def discard(self, request_id: RequestId) -> None:
        self._waiting.pop(request_id, None)

    def pop_all(self) -> list[T]:
        entries = list(self._waiting.values())
        self._waiting.clear()
        return entries


@functools.lru_cache(maxsize=512)
def decoder_for(result_type: Any) -> msgspec.json.Decoder[Any]:
    """The reusable decoder for ``result_type`` (one per type, built on first use)."""
    return msgspec.json.Decoder(result_type)


def decode_result(raw: msgspec.Raw, result_type: type[T]) -> T:
    """Decode a response's ``result`` into ``result_type``.

    Raises ``msgspec.ValidationError`` / ``msgspec.DecodeError`` when it does not fit.
    """
    decoder: msgspec.json.Decoder[T] = decoder_for(result_type)  # type: ignore[arg-type]
    try:
        return decoder.decode(raw)
    except RecursionError:
        raise msgspec.DecodeError("JSON nested too deeply") from None


def rate_limits_summary(rate_limits: list[RateLimit] | None) -> Mapping[str, int]:
    """``{"REQUEST_WEIGHT/1MINUTE": count, ...}``: a compact view for statistics and logs."""
    return {
        f"{r.rate_limit_type}/{r.interval_num}{r.interval}": r.count
        for r in rate_limits or ()
        if r.count is not None
    }


# --- the server half, used by the local exchange ------------------------------------------


class RequestFrame(msgspec.Struct, frozen=True, gc=False):
    """A request as the exchange receives it (``params`` as plain JSON values)."""

    id: int | str | None = None
    method: str = ""
    params: dict[str, Any] = msgspec.field(default_factory=dict)


class BadRequestFrame(msgspec.Struct, frozen=True, gc=False):
    """A request frame the exchange cannot accept, with the error it answers."""

    request_id: RequestId
    code: int
    msg: str


def valid_request_id(request_id: object) -> bool:
    """Request ids Binance accepts: a signed 64-bit int, a string of at most 36, or null."""
    if request_id is None:
        return True
    if isinstance(request_id, bool):
        return False
    if isinstance(request_id, int):
        return -(2**63) <= request_id < 2**63
    return isinstance(request_id, str) and 0 < len(request_id) <= 36


class RequestDecoder:
    """Decodes request frames on the exchange side."""

    def __init__(self) -> None:
        self._decoder = msgspec.json.Decoder(RequestFrame)
        self._id_only = msgspec.json.Decoder(_IdOnly)

    def decode(self, data: str | bytes) -> RequestFrame | BadRequestFrame:
        # The spec does not pin down these answers for the WebSocket API; we use -1135
        # INVALID_JSON, the documented code for a request that is not valid JSON.
        try:
            frame = self._decoder.decode(data)
        except msgspec.ValidationError:  # JSON, but not a request (a subclass of DecodeError)
            return BadRequestFrame(self._request_id(data), -1135, "Invalid JSON Request")
        except msgspec.DecodeError:
            return BadRequestFrame(None, -1135, "Invalid JSON Request")
        if not valid_request_id(frame.id):
            return BadRequestFrame(None, -1102, "Field value was empty or malformed.")
        if not frame.method:
            return BadRequestFrame(
                frame.id,
                -1102,
                "Mandatory parameter 'method' was not sent, was empty/null, or malformed.",
            )
        return frame

    def _request_id(self, data: str | bytes) -> RequestId:
        try:
            request_id = self._id_only.decode(data).id
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None
        return request_id if valid_request_id(request_id) else None


class ResponseEncoder:
    """Encodes the frames the exchange sends, in the documented shapes."""

    def __init__(self) -> None:
        self._encoder = msgspec.json.Encoder()

    def result(self, request_id: RequestId, result: Any, rate_limits: list[Any] | None) -> bytes:
        frame: dict[str, Any] = {"id": request_id, "status": 200, "result": result}
        if rate_limits is not None:
            frame["rateLimits"] = rate_limits
        return self._encoder.encode(frame)

    def error(
        self,
        request_id: RequestId,
        status: int,
        code: int,
        msg: str,
        *,
        data: Any = None,
        rate_limits: list[Any] | None = None,
    ) -> bytes:
        error: dict[str, Any] = {"code": code, "msg": msg}
        if data is not None:
            error["data"] = data
        frame: dict[str, Any] = {"id": request_id, "status": status, "error": error}
        if rate_limits is not None:
            frame["rateLimits"] = rate_limits
        return self._encoder.encode(frame)

    def user_event(self, subscription_id: int, event: Any) -> bytes:
        return self._encoder.encode({"subscriptionId": subscription_id, "event": event})

    def connection_event(self, event: Any) -> bytes:
        return self._encoder.encode({"event": event})
