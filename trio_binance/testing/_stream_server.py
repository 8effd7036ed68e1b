"""Market stream connections of the local exchange (web-socket-streams.md, "General WSS
information", "WebSocket Limits", "Live Subscribing/Unsubscribing to streams").

The same server as the WebSocket API accepts them, by path: ``/ws/<stream>`` (raw; several
streams as ``/ws/<s1>/<s2>``), ``/ws`` (raw, none yet) and ``/stream?streams=<s1>/<s2>``
(combined), each optionally with ``timeUnit=MICROSECOND``. A connection lives by the same
:class:`~trio_binance.testing.Lifecycle` as a WebSocket API connection (a ping every 20 s, a
drop after a minute without pong, a cut at 24 h) and by the stream limits: at most 5 incoming
messages per second, counting PING and PONG frames as the spec says (more: closed with code
1008), at most 1,024 streams. "300 connections per attempt every 5 minutes per IP" is not
enforced: the spec does not say what a client over it receives, and a made-up refusal would
teach clients the wrong thing.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote, urlsplit

import trio
import trio_websocket
from wsproto.events import Event, Ping, Pong

from trio_binance.testing._server import ClientConnection, _CloseFrame
from trio_binance.testing._stream_control import (
    Control,
    Refusal,
    invalid_request,
    read_control,
    reply,
)
from trio_binance.testing._stream_faults import CutConnection, HoldEvent, RepeatEvent, SkipEvent
from trio_binance.testing._stream_names import Stream, parse_stream

if TYPE_CHECKING:
    from trio_binance.testing._server import LocalExchange

logger = logging.getLogger("trio_binance.testing")

RAW_PATH: Final = "/ws"
COMBINED_PATH: Final = "/stream"
_FLOOD_CLOSE: Final = (1008, "Too many requests")
_UNITS: Final = {"MILLISECOND": 1, "MICROSECOND": 1000}


@dataclass(frozen=True)
class StreamLimits:
    """The limits of one stream connection ("WebSocket Limits")."""

    messages_per_second: int = 5
    """Incoming messages (JSON control messages, PING and PONG frames) allowed in any one
    second; one more closes the connection with code 1008."""
    max_streams: int = 1024
    """Streams one connection may listen to."""


@dataclass(frozen=True)
class StreamRoute:
    """What a stream connection's URL asks for."""

    combined: bool
    streams: tuple[Stream, ...]
    per_ms: int


class RouteError(Exception):
    """A stream URL the exchange refuses (answered 400 at the handshake)."""


def is_stream_path(path: str) -> bool:
    route = urlsplit(path).path.rstrip("/")
    return route in (RAW_PATH, COMBINED_PATH) or route.startswith(RAW_PATH + "/")


def read_route(path: str, limits: StreamLimits) -> StreamRoute:
    """The stream route of ``path`` (which :func:`is_stream_path` accepted)."""
    parts = urlsplit(path)
    # Not parse_qs: it reads "+" as a space, and "@+08:00" is a stream name.
    query = dict(_pair(item) for item in parts.query.split("&") if item)
    route = parts.path.rstrip("/")
    combined = route == COMBINED_PATH
    if combined:
        names = query.get("streams", "")
    else:
        names = unquote(route.removeprefix(RAW_PATH).lstrip("/"))
    streams = [_stream(name) for name in dict.fromkeys(names.split("/")) if name]
    if len(streams) > limits.max_streams:
        raise RouteError(f"at most {limits.max_streams} streams per connection")
    unit = query.get("timeUnit", "MILLISECOND").upper()
    if unit not in _UNITS:
        raise RouteError(f"unknown timeUnit {query['timeUnit']!r}")
    return StreamRoute(combined, tuple(streams), _UNITS[unit])


def _pair(item: str) -> tuple[str, str]:
    name, _, value = item.partition("=")
    return unquote(name), unquote(value)


def _stream(name: str) -> Stream:
    stream = parse_stream(name)
    if stream is None:
        raise RouteError(f"invalid stream {name!r}")
    return stream


class EarlySubscriber:
    """A URL's streams, subscribed before the handshake is accepted.

    The client's ``connect()`` returns once it reads the handshake response, which may be
    before this server's task runs again; subscribing only then would miss what a client
    trading at once causes. So the streams are subscribed first, and what they publish in the
    meantime is held (in order, bounded like a connection's outgoing queue) for the
    :class:`StreamConnection` that takes over with the same id.
    """

    def __init__(self, exchange: LocalExchange, conn_id: int, route: StreamRoute) -> None:
        self.id = conn_id
        self.per_ms = route.per_ms
        self.held: list[tuple[str, str]] = []
        self.overflowed = False
        self._limit = exchange.outbox_size
        self._streams = exchange.market_streams
        self._names = [stream.name for stream in route.streams]
        for stream in route.streams:
            self._streams.subscribe(self, stream)

    def deliver(self, stream: str, payload: str) -> None:
        if len(self.held) >= self._limit:
            self.overflowed = True  # the connection is cut as a full queue is (see push)
            return
        self.held.append((stream, payload))

    def cancel(self) -> None:
        """The handshake failed: nobody takes over."""
        for name in self._names:
            self._streams.unsubscribe(self, name)


class StreamConnection(ClientConnection):
    """One market stream connection (also the handle tests act on)."""

    def __init__(
        self,
        exchange: LocalExchange,
        ws: trio_websocket.WebSocketConnection,
        conn_id: int,
        route: StreamRoute,
        early: EarlySubscriber | None = None,
    ) -> None:
        super().__init__(exchange, ws, conn_id)
        self.combined = route.combined
        """Whether payloads are wrapped as ``{"stream": ..., "data": ...}`` (SET_PROPERTY)."""
        self.per_ms = route.per_ms
        self.subscriptions: dict[str, None] = {}
        """The streams this connection listens to, in the order they were subscribed."""
        self.messages_received = 0
        """Incoming messages counted against the limit (control messages, pings, pongs)."""
        self._limits = exchange.stream_limits
        self._arrivals: deque[float] = deque()
        self._flooded = False
        self._held: dict[str, str] = {}
        self._count_ping_pong_frames()
        for stream in route.streams:  # takes over from ``early`` (same id), events in order
            self._subscribe(stream)
        self._cut_at_start = early is not None and early.overflowed
        for name, payload in early.held if early is not None else ():
            self.deliver(name, payload)

    def __repr__(self) -> str:
        return f"<StreamConnection {self.id} {self.ws.remote}>"

    # --- outgoing ---

    def deliver(self, stream: str, payload: str) -> None:
        """Queue one event of ``stream`` (armed stream faults apply here)."""
        faults = self.exchange.stream_faults
        fault = faults.take(stream, self.id) if faults else None
        if fault is None:
            self._queue(stream, payload)
        elif isinstance(fault, SkipEvent):
            logger.info("connection %s: fault: %s event skipped", self.id, stream)
            return
        elif isinstance(fault, HoldEvent):
            logger.info("connection %s: fault: %s event held back", self.id, stream)
            self._held[stream] = payload
            return
        elif isinstance(fault, RepeatEvent):
            self._queue(stream, payload)
            self._queue(stream, payload)
        elif isinstance(fault, CutConnection):
            self._cut(fault)
            return
        held = self._held.pop(stream, None) if self._held else None
        if held is not None:
            self._queue(stream, held)

    def _queue(self, stream: str, payload: str) -> None:
        if self.combined:
            payload = f'{{"stream":"{stream}","data":{payload}}}'
        self.push(payload)

    def _cut(self, fault: CutConnection) -> None:
        logger.info("connection %s: fault: connection cut", self.id)
        if fault.close_frame:
            self._close_now(1001, "")
        else:
            self.drop_now()

    def _close_now(self, code: int, reason: str) -> None:
        """Queue a close frame from synchronous code (at once if the queue is full)."""
        try:
            self._outbox_in.send_nowait(_CloseFrame(code, reason))
        except trio.WouldBlock:
            self.drop_now()
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            pass

    def connection_event(self, event: dict[str, Any]) -> str:
        """``serverShutdown`` as this connection shows it ("Server Shutdown")."""
        payload = f'{{"e":"{event["e"]}","E":{event["E"]}}}'
        return f'{{"stream":"!serverShutdown","data":{payload}}}' if self.combined else payload

    # --- incoming ---

    async def serve(self) -> None:
        try:
            if self._cut_at_start:
                logger.warning("connection %s: outgoing queue full, disconnecting", self.id)
                await trio.aclose_forcefully(self.ws._stream)
                self.closed.set()
            else:
                await super().serve()
        finally:
            streams = self.exchange.market_streams
            for name in list(self.subscriptions):
                streams.unsubscribe(self, name)

    async def _read_requests(self, nursery: trio.Nursery) -> None:
        while not self._flooded:
            try:
                data = await self.ws.get_message()
            except trio_websocket.ConnectionClosed:
                return
            if not self._admit_message():
                break
            await self.send(self._answer(data))
        # Flooded: the close frame is queued; the writer ends the connection once it is sent.
        await trio.sleep_forever()

    def _admit_message(self) -> bool:
        """Count one incoming message; past the limit, close with 1008 ("WebSocket Limits":
        "A connection that goes beyond the limit will be disconnected")."""
        self.messages_received += 1
        if self._flooded:
            return False
        now = trio.current_time()
        arrivals = self._arrivals
        while arrivals and arrivals[0] <= now - 1.0:
            arrivals.popleft()
        arrivals.append(now)
        if len(arrivals) <= self._limits.messages_per_second:
            return True
        logger.info(
            "connection %s: more than %s messages in a second, closing", self.id, len(arrivals) - 1
        )
        self._flooded = True
        self._close_now(*_FLOOD_CLOSE)
        return False

    def _count_ping_pong_frames(self) -> None:
        """PING and PONG frames count as messages; trio-websocket answers them itself, so
        they are counted as its protocol object reports them (its reader task asks it for
        events on every read). Without that object, only control messages count."""
        protocol = getattr(self.ws, "_wsproto", None)
        original: Callable[[], Any] | None = getattr(protocol, "events", None)
        if protocol is None or original is None:
            return
        admit = self._admit_message

        def events() -> Any:
            event: Event
            for event in original():
                if isinstance(event, Ping | Pong):
                    admit()
                yield event

        protocol.events = events

    def _answer(self, data: str | bytes) -> str:
        control = read_control(data)
        if isinstance(control, Refusal):
            return control.frame()
        try:
            return reply(control.id, self._run(control))
        except _Refused as refused:
            return refused.refusal.frame()

    def _run(self, control: Control) -> Any:
        method, params = control.method, control.params
        if method == "SUBSCRIBE":
            streams = self._streams(control)
            fresh = [stream for stream in streams if stream.name not in self.subscriptions]
            if len(self.subscriptions) + len(fresh) > self._limits.max_streams:
                raise _Refused(invalid_request("too many streams", control.id))
            for stream in fresh:
                self._subscribe(stream)
            return None
        if method == "UNSUBSCRIBE":
            for stream in self._streams(control):
                self._unsubscribe(stream.name)
            return None
        if method == "LIST_SUBSCRIPTIONS":
            return list(self.subscriptions)
        if method == "SET_PROPERTY":
            self.combined = params[1]
            return None
        return self.combined  # GET_PROPERTY "combined", the only property

    def _streams(self, control: Control) -> list[Stream]:
        streams = [parse_stream(name) for name in control.params]
        valid = [stream for stream in streams if stream is not None]
        if len(valid) != len(streams):
            raise _Refused(invalid_request("invalid stream", control.id))
        return valid

    def _subscribe(self, stream: Stream) -> None:
        self.subscriptions[stream.name] = None
        self.exchange.market_streams.subscribe(self, stream)

    def _unsubscribe(self, name: str) -> None:
        if self.subscriptions.pop(name, 0) is None:
            self.exchange.market_streams.unsubscribe(self, name)


class _Refused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        self.refusal = refusal
