"""The rules of market-stream connections, free of I/O (web-socket-streams.md).

* stream names: symbols are lowercase ("General WSS information"); a name never contains the
  ``/`` that separates names in a combined URL;
* URLs: ``/ws/<stream>`` (raw) or ``/stream?streams=<a>/<b>`` (combined), keeping the
  caller's query options such as ``timeUnit=MICROSECOND``;
* "WebSocket Limits": at most 5 incoming messages per second per connection, counting the
  client's PING and PONG frames as well as control messages -- :class:`Pacer` keeps control
  messages under a lower budget so the pong owed to the server's ping always fits -- and at
  most 1,024 streams per connection (:func:`assign_streams` spreads the rest);
* frames: :class:`FrameClassifier` tells payloads from control replies on one connection,
  whether its payloads are raw or wrapped (``"combined"`` may change with ``SET_PROPERTY``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from typing import Final
from urllib.parse import quote, urlsplit, urlunsplit

import msgspec

from trio_binance._exceptions import InvalidParameter, ProtocolError
from trio_binance.models._streams import (
    ControlError,
    ControlReply,
    StreamKind,
    StreamMessage,
    TaggedStreamEvent,
    decode_combined_frame,
    decode_stream_payload,
    stream_kind,
)

MAX_STREAMS_PER_CONNECTION: Final = 1024
INCOMING_MESSAGES_PER_SECOND: Final = 5
# Control messages allowed per second: one of the five is left for the pong owed to the
# server's ping (sent by the WebSocket library whenever a ping arrives).
DEFAULT_CONTROL_RATE: Final = 4
# Stream names per SUBSCRIBE/UNSUBSCRIBE message (the spec sets no limit; keep frames small).
MAX_NAMES_PER_REQUEST: Final = 512
# Characters of stream names put in a combined URL; the rest are subscribed after connecting.
MAX_URL_STREAM_CHARS: Final = 4000


def normalize_stream(name: str) -> str:
    """``name`` with its symbol lowercased; ``InvalidParameter`` if it cannot be a stream."""
    if not isinstance(name, str) or not name:
        raise InvalidParameter("streams", "must be non-empty strings")
    if not name.isascii() or any(c in name for c in "/?&#% ") or not name.isprintable():
        raise InvalidParameter("streams", f"{name!r} is not a stream name")
    symbol, at, rest = name.partition("@")
    if not symbol or (not at and not symbol.startswith("!")):
        raise InvalidParameter("streams", f"{name!r} is not <symbol>@<type> nor !<stream>")
    if symbol.startswith("!"):
        return name
    return f"{symbol.lower()}@{rest}"


def normalize_streams(names: Iterable[str]) -> list[str]:
    """Normalised names, duplicates removed, in the given order."""
    if isinstance(names, str):
        raise InvalidParameter("streams", "must be a list of stream names, not one string")
    return list(dict.fromkeys(normalize_stream(name) for name in names))


# --- URLs ----------------------------------------------------------------------------------


def stream_url(base: str, streams: Sequence[str], *, raw: bool) -> tuple[str, list[str]]:
    """The URL to open for ``streams`` and the streams left to ``SUBSCRIBE`` after connecting.

    ``base`` is the endpoint (``wss://stream.binance.com:9443``), optionally with a path
    ending in ``/ws`` or ``/stream`` and query options, which are kept.
    """
    if not streams:
        raise InvalidParameter("streams", "a connection needs at least one stream")
    parts = urlsplit(base)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise InvalidParameter("url", f"not a WebSocket URL (ws:// or wss://): {base}")
    root = parts.path.rstrip("/")
    for suffix in ("/ws", "/stream"):
        root = root.removesuffix(suffix)
    options = [p for p in parts.query.split("&") if p and not p.startswith("streams=")]
    if raw:
        path, in_url = f"{root}/ws/{streams[0]}", [streams[0]]
    else:
        in_url = _fitting(streams)
        path = f"{root}/stream"
        # "+" (as in "@+08:00") would read as a space to a form decoder: send it as %2B.
        options.insert(0, "streams=" + "/".join(quote(name, safe="@!_:-.") for name in in_url))
    url = urlunsplit((parts.scheme, parts.netloc, path, "&".join(options), ""))
    return url, list(streams[len(in_url) :])


def _fitting(streams: Sequence[str]) -> list[str]:
    taken: list[str] = []
    used = 0
    for name in streams:
        used += len(name) + 1
        if taken and used > MAX_URL_STREAM_CHARS:
            break
        taken.append(name)
    return taken


def chunks(names: Sequence[str], size: int = MAX_NAMES_PER_REQUEST) -> list[list[str]]:
    return [list(names[i : i + size]) for i in range(0, len(names), size)]


# --- spreading streams over connections ---------------------------------------------------


def assign_streams(
    new: Sequence[str], loads: Sequence[int], capacity: int = MAX_STREAMS_PER_CONNECTION
) -> list[list[str]]:
    """Spread ``new`` streams over connections carrying ``loads`` streams now.

    Returns one list per connection, existing ones first (filled in order), then as many new
    connections as needed, each holding at most ``capacity`` streams.
    """
    if capacity < 1:
        raise ValueError("capacity must be at least 1")
    plan: list[list[str]] = [[] for _ in loads]
    room = [max(capacity - load, 0) for load in loads]
    pending = deque(new)
    for index in range(len(plan)):
        while pending and room[index]:
            plan[index].append(pending.popleft())
            room[index] -= 1
    while pending:
        plan.append([pending.popleft() for _ in range(min(capacity, len(pending)))])
    return plan


# --- pacing control messages --------------------------------------------------------------


class Pacer:
    """At most ``limit`` messages in any window of ``period`` seconds (a sliding window).

    ``delay(now)`` says how long to wait before the next message may go; ``sent(now)``
    records one. Time is whatever clock the caller uses (``trio.current_time()``).
    """

    def __init__(self, limit: int = DEFAULT_CONTROL_RATE, period: float = 1.0) -> None:
        if not 1 <= limit <= INCOMING_MESSAGES_PER_SECOND:
            raise ValueError(f"limit must be 1..{INCOMING_MESSAGES_PER_SECOND} messages")
        if period <= 0:
            raise ValueError("period must be positive")
        self.limit = limit
        self.period = period
        self._sent: deque[float] = deque()

    def delay(self, now: float) -> float:
        self._forget(now)
        if len(self._sent) < self.limit:
            return 0.0
        return self._sent[0] + self.period - now

    def sent(self, now: float) -> None:
        self._forget(now)
        self._sent.append(now)

    def _forget(self, now: float) -> None:
        # A message sent exactly `period` ago is outside the window [now - period, now).
        while self._sent and self._sent[0] + self.period <= now:
            self._sent.popleft()


# --- frames of one connection -------------------------------------------------------------


# Streams whose payloads carry their type in "e" (web-socket-streams.md): a combined frame of
# these decodes in one pass, envelope and payload together.
_TAGGED_KINDS: Final = frozenset(
    {
        StreamKind.AGG_TRADE,
        StreamKind.TRADE,
        StreamKind.BLOCK_TRADE,
        StreamKind.KLINE,
        StreamKind.MINI_TICKER,
        StreamKind.TICKER,
        StreamKind.ROLLING_WINDOW_TICKER,
        StreamKind.AVG_PRICE,
        StreamKind.DIFF_DEPTH,
        StreamKind.REFERENCE_PRICE,
    }
)


def all_tagged(streams: Iterable[str]) -> bool:
    """Whether every one of ``streams`` sends payloads tagged by ``"e"``."""
    return all(stream_kind(name) in _TAGGED_KINDS for name in streams)


class _TaggedEnvelope(msgspec.Struct, gc=False):
    stream: str
    data: TaggedStreamEvent


_TAGGED_ENVELOPE: Final = msgspec.json.Decoder(_TaggedEnvelope)


class _Probe(msgspec.Struct, gc=False):
    stream: str | None = None
    id: int | str | msgspec.UnsetType | None = msgspec.UNSET
    code: int | None = None


_PROBE: Final = msgspec.json.Decoder(_Probe)


class FrameClassifier:
    """Decodes the frames of one connection into messages, replies and errors.

    ``sole_stream`` is the stream of a raw connection (``/ws/<stream>``) whose payloads are
    not wrapped: it names them. ``replies_expected`` says a control reply may be next; while
    it is ``False`` on a raw connection, frames go straight to the payload decoder.
    ``tagged`` says every stream of the connection has ``"e"``-tagged payloads (see
    :func:`all_tagged`): combined frames then decode in one pass, falling back to the
    general path for anything else (a reply, an unknown or malformed payload).
    """

    def __init__(
        self, *, combined: bool, sole_stream: str | None = None, tagged: bool = False
    ) -> None:
        self.combined = combined
        self.sole_stream = sole_stream
        self.replies_expected = False
        self.tagged = tagged

    def decode(self, frame: str | bytes) -> StreamMessage | ControlReply | ControlError:
        if self.combined:
            if self.tagged:
                try:
                    envelope = _TAGGED_ENVELOPE.decode(frame)
                    return StreamMessage(envelope.stream, envelope.data)
                except (msgspec.ValidationError, msgspec.DecodeError, UnicodeEncodeError):
                    pass  # not a tagged payload: the general path says what it is
            return decode_combined_frame(frame)
        stream = self.sole_stream
        if stream is not None and not self.replies_expected:
            try:
                return StreamMessage(stream, decode_stream_payload(stream, frame))
            except ProtocolError:
                pass  # maybe a reply nobody waits for: look closer below
        return self._decode_mixed(frame, stream)

    def _decode_mixed(
        self, frame: str | bytes, stream: str | None
    ) -> StreamMessage | ControlReply | ControlError:
        try:
            probe = _PROBE.decode(frame)
        except msgspec.ValidationError:  # a JSON array: an "@arr" payload
            probe = _Probe()
        except (msgspec.DecodeError, UnicodeEncodeError) as exc:
            raise ProtocolError(f"malformed stream frame: {exc}") from exc
        if probe.stream is not None or probe.id is not msgspec.UNSET or probe.code is not None:
            # Wrapped (SET_PROPERTY just switched "combined" on), or a control reply.
            return decode_combined_frame(frame)
        if stream is None:
            raise ProtocolError("raw payload on a connection carrying several streams")
        return StreamMessage(stream, decode_stream_payload(stream, frame))
