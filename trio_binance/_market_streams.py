"""Market data streams: ``async with trio_binance.market_streams(url, streams=[...]) as s:``.

Spec: web-socket-streams.md. The client spreads its streams over as many connections as the
1,024-streams-per-connection limit needs (a "shard" each) and keeps every connection up:

* each connection has a receive task that decodes every frame once and hands each message to
  the feeds that want its stream (:mod:`_stream_feed`; never blocking), and resolves control
  replies by id;
* control messages (SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY)
  are paced per connection under the 5-incoming-messages-per-second limit
  (:class:`~trio_binance._stream_control.Pacer`);
* a lost connection is reopened by the shared reconnect rules (:mod:`_reconnect`), with its
  streams in the URL and its properties set again; a ``serverShutdown`` event reopens at
  once; a connection silent for ``idle_timeout`` (no frame, and no ping where the transport
  reports them) is probed with ``LIST_SUBSCRIPTIONS`` and dropped if the probe gets no reply
  within ``probe_timeout`` (a dead link);
* the state of the whole (connecting, ready, reconnecting, degraded, closed) is a typed
  stream, :meth:`MarketStreams.watch_state`.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from functools import partial
from typing import Final

import msgspec
import trio

from trio_binance._exceptions import (
    BinanceError,
    ConnectFailed,
    InvalidParameter,
    NotSent,
    ProtocolError,
)
from trio_binance._nursery import background_nursery
from trio_binance._reconnect import (
    ConnectionState,
    GaveUp,
    ReconnectPolicy,
    StateBroadcast,
    StateChange,
)
from trio_binance._stream_control import (
    DEFAULT_CONTROL_RATE,
    MAX_STREAMS_PER_CONNECTION,
    FrameClassifier,
    Pacer,
    all_tagged,
    assign_streams,
    chunks,
    normalize_streams,
    stream_url,
)
from trio_binance._stream_feed import (
    DEFAULT_FEED_SIZE,
    Overflow,
    StreamFeed,
    StreamsClosed,
)
from trio_binance._transport import (
    DEFAULT_CLOSE_TIMEOUT,
    Connection,
    Transport,
    TransportClosed,
    TransportName,
    resolve_transport,
)
from trio_binance.models._streams import (
    ControlError,
    ControlReply,
    RequestId,
    ServerShutdown,
    StreamMessage,
    get_property_request,
    list_subscriptions_request,
    set_property_request,
    subscribe_request,
    unsubscribe_request,
)

logger = logging.getLogger("trio_binance.streams")

STREAMS_PRODUCTION: Final = "wss://stream.binance.com:9443"
STREAMS_TESTNET: Final = "wss://stream.testnet.binance.vision"
# "wss://data-stream.binance.vision" serves market data only, the same way.
STREAMS_MARKET_DATA_ONLY: Final = "wss://data-stream.binance.vision"

DEFAULT_IDLE_TIMEOUT: Final = 30.0
DEFAULT_PROBE_TIMEOUT: Final = 10.0


class StreamRequestError(BinanceError):
    """The exchange refused a control request (web-socket-streams.md, "Error Messages")."""

    def __init__(self, method: str, error: ControlError) -> None:
        super().__init__(f"{method} refused: {error.code} {error.msg}")
        self.method = method
        self.code = error.code
        self.msg = error.msg
        self.request_id = error.id


class StreamRequestLost(BinanceError):
    """The connection ended before a control request's reply arrived."""


class MarketStreamsStatistics(msgspec.Struct, frozen=True, gc=False):
    """A snapshot of :class:`MarketStreams`, from :meth:`MarketStreams.statistics`."""

    connections: int
    streams: int
    frames_received: int
    protocol_errors: int
    """Frames that could not be understood (each was logged and skipped)."""
    control_messages_sent: int
    reconnects: int
    feeds: int


class _Pending:
    __slots__ = ("done", "method", "outcome")

    def __init__(self, method: str) -> None:
        self.method = method
        self.done = trio.Event()
        self.outcome: ControlReply | ControlError | StreamRequestLost | None = None

    def resolve(self, outcome: ControlReply | ControlError | StreamRequestLost) -> None:
        if self.outcome is None:
            self.outcome = outcome
            self.done.set()


class _ConnectionEnded(Exception):
    """Internal: the connection ended before it was ready."""


class _ServerShuttingDown(Exception):
    """The exchange announced ``serverShutdown``: the connection's delivery ends there."""


class _Shard:
    """One connection's worth of streams (at most ``capacity``), kept connected."""

    def __init__(self, owner: MarketStreams, index: int, streams: Iterable[str]) -> None:
        self.owner = owner
        self.index = index
        self.wanted: dict[str, None] = dict.fromkeys(streams)  # insertion-ordered set
        self.active: set[str] = set()  # subscribed on the current connection
        self.properties: dict[str, bool] = {}  # set by the user; replayed on reconnect
        self.state = ConnectionState.CONNECTING
        self.ready = trio.Event()
        self._connection: Connection | None = None
        self._classifier = FrameClassifier(combined=not owner.raw)
        self._pending: dict[RequestId, _Pending] = {}
        self._send_lock = trio.Lock()
        self._pacer = owner.new_pacer()
        self._ended = trio.Event()
        self._end_reason = ""
        self._shutdown = False
        self._last_frame_at = 0.0
        self._has_streams = trio.Event()

    def __repr__(self) -> str:
        return f"<shard {self.index} {self.state.value} streams={len(self.wanted)}>"

    # --- the connection loop ---

    async def run(self, *, task_status: trio.TaskStatus[None]) -> None:
        """Keep a connection up until cancelled; the first failure to connect is raised."""
        policy = self.owner.reconnect
        delays = policy.delays()
        failures = 0
        since = trio.current_time()
        first = True
        while True:
            if not self.wanted:  # every stream was unsubscribed: reconnect when one is added
                await self._wait_for_streams()
            try:
                await self._serve(task_status if first else None)
                failures, delays, since = 0, policy.delays(), trio.current_time()
            except (ConnectFailed, _ConnectionEnded) as exc:
                if first:
                    raise ConnectFailed(f"market streams: {str(exc)[:500]}") from exc
                failures += 1
                try:
                    policy.check(failures, since, trio.current_time())
                except GaveUp as gave_up:  # ends the block; its feeds end with this reason
                    self.owner.failure = gave_up
                    raise
                logger.info(
                    "streams connection %d: attempt %d failed: %s", self.index, failures, exc
                )
            first = False
            self.owner.reconnects += 1
            self._set_state(ConnectionState.RECONNECTING, self._end_reason, attempt=failures)
            if self._shutdown:  # "establish a new connection as soon as possible"
                self._shutdown = False
                continue
            await trio.sleep(next(delays))

    async def _wait_for_streams(self) -> None:
        self._set_state(ConnectionState.READY, "no streams: idle until one is added")
        self._has_streams = trio.Event()
        await self._has_streams.wait()

    async def _serve(self, task_status: trio.TaskStatus[None] | None) -> None:
        """One connection from open to end; ``_ConnectionEnded`` if it never got ready."""
        streams = list(self.wanted)
        url, _ = stream_url(self.owner.url, streams, raw=self.owner.raw)
        self._ended = trio.Event()
        self._end_reason = ""
        async with background_nursery() as nursery:
            connection = await self.owner.transport.open(nursery, url)
            try:
                self._begin(connection, url, streams)
                nursery.start_soon(self._receive_loop, connection)
                if not await self._establish():
                    raise _ConnectionEnded(self._end_reason or "lost while subscribing")
                self.ready.set()
                if self.state is not ConnectionState.DEGRADED:
                    self._set_state(ConnectionState.READY, "connected")
                if task_status is not None:
                    task_status.started()
                nursery.start_soon(self._watch_for_silence)
                await self._ended.wait()
                logger.info("streams connection %d ended: %s", self.index, self._end_reason)
            finally:
                await self._finish(connection)

    def _begin(self, connection: Connection, url: str, streams: list[str]) -> None:
        self._connection = connection
        self._last_frame_at = trio.current_time()
        # The URL subscribes a raw connection to its first stream only, a combined one to
        # as many as fit in it.
        _, rest = stream_url(self.owner.url, streams, raw=self.owner.raw)
        self.active = set(streams[: len(streams) - len(rest)])
        # The sole stream names unwrapped payloads: a raw connection's until it carries a
        # second stream, or any connection's that was set to "combined": false.
        self._classifier = FrameClassifier(
            combined=not self.owner.raw, sole_stream=streams[0], tagged=all_tagged(self.wanted)
        )

    async def _finish(self, connection: Connection) -> None:
        self._connection = None
        self.ready = trio.Event()
        self.active = set()
        lost = StreamRequestLost(f"streams connection {self.index} ended: {self._end_reason}")
        for pending in self._pending.values():
            pending.resolve(lost)
        self._pending.clear()
        self._classifier.replies_expected = False
        cancelled = trio.current_effective_deadline() == -math.inf
        with trio.move_on_after(self.owner.close_timeout, shield=True):
            if cancelled:
                await connection.abort()
            else:
                await connection.aclose()

    def _end(self, reason: str) -> None:
        if not self._ended.is_set():
            self._end_reason = reason
            self._ended.set()

    async def _establish(self) -> bool:
        """Subscribe what the URL could not, set the user's properties; False if lost."""
        try:
            for name, value in list(self.properties.items()):
                if not (name == "combined" and value == self._classifier.combined):
                    await self._request("SET_PROPERTY", partial(set_property_request, name, value))
                    if name == "combined":
                        self._classifier.combined = value
            if len(self.wanted) > 1:
                await self._use_combined()
            missing = [s for s in self.wanted if s not in self.active]
            for part in chunks(missing):
                await self._request("SUBSCRIBE", partial(subscribe_request, part))
                self.active.update(part)
        except StreamRequestLost:
            return False
        except StreamRequestError as exc:
            # The exchange refuses part of what this connection carried before: keep going
            # with the rest, and say so.
            logger.warning("streams connection %d: %s", self.index, exc)
            self._set_state(ConnectionState.DEGRADED, str(exc))
        return True

    async def _use_combined(self) -> None:
        """Make a raw connection wrap its payloads, so several streams can share it."""
        if self._classifier.combined:
            return
        await self._request("SET_PROPERTY", lambda i: set_property_request("combined", True, i))
        self._classifier.combined = True
        if "combined" in self.properties:
            self.properties["combined"] = True

    # --- the receive task ---

    async def _receive_loop(self, connection: Connection) -> None:
        try:
            await connection.deliver(self._take_frame)
        except TransportClosed as exc:
            self._end(exc.describe())
        except _ServerShuttingDown:
            self._shutdown = True
            self._end("serverShutdown")

    def _take_frame(self, frame: str | bytes) -> None:
        """One frame, decoded and routed; called by the transport, perhaps from its own
        reader task, so it never blocks."""
        self._last_frame_at = trio.current_time()
        owner = self.owner
        owner.frames_received += 1
        try:
            item = self._classifier.decode(frame)
        except ProtocolError as exc:
            owner.protocol_errors += 1
            logger.warning("streams connection %d: %s", self.index, exc)
            return
        if type(item) is StreamMessage:
            if type(item.event) is ServerShutdown:
                raise _ServerShuttingDown  # ends the delivery: nothing after it is taken
            owner.deliver(item)
        else:
            self._resolve(item)  # type: ignore[arg-type]

    def _resolve(self, reply: ControlReply | ControlError) -> None:
        pending = self._pending.pop(reply.id, None)
        if not self._pending:
            self._classifier.replies_expected = False
        if pending is not None:
            pending.resolve(reply)
        elif isinstance(reply, ControlError):
            self.owner.protocol_errors += 1
            logger.warning("streams connection %d: error %s %s", self.index, reply.code, reply.msg)
        else:
            logger.debug("streams connection %d: reply to unknown id %r", self.index, reply.id)

    def _last_heard(self) -> float:
        """When the connection last received anything: a frame, or (when the transport can
        tell) a ping, which the server sends every 20 s ("General WSS information")."""
        heard = self._last_frame_at
        below = getattr(self._connection, "last_received", None)
        if isinstance(below, float) and below != math.inf:
            heard = max(heard, below)
        return heard

    async def _watch_for_silence(self) -> None:
        """A connection silent for ``idle_timeout`` is probed; no reply means a dead link."""
        owner = self.owner
        while True:
            await trio.sleep_until(self._last_heard() + owner.idle_timeout)
            if trio.current_time() < self._last_heard() + owner.idle_timeout:
                continue
            with trio.move_on_after(owner.probe_timeout) as probe:
                try:
                    await self._request("LIST_SUBSCRIPTIONS", list_subscriptions_request)
                except (StreamRequestLost, StreamRequestError):
                    return
            if probe.cancelled_caught:
                self._end(f"dead link: no reply to a probe within {owner.probe_timeout} s")
                return

    # --- control requests ---

    async def _request(self, method: str, render: Callable[[int], str]) -> ControlReply:
        """Send one control request, paced, and wait for its reply."""
        pending = _Pending(method)
        request_id = self.owner.next_id()
        try:  # however this ends (reply, loss, cancellation), the id is forgotten
            async with self._send_lock:
                connection = self._connection
                if connection is None or self._ended.is_set():
                    raise StreamRequestLost(f"{method}: streams connection {self.index} is down")
                await trio.sleep(self._pacer.delay(trio.current_time()))
                self._pending[request_id] = pending
                self._classifier.replies_expected = True
                self._pacer.sent(trio.current_time())
                try:
                    await connection.send(render(request_id))
                except TransportClosed as exc:
                    self._end(exc.describe())
                    raise StreamRequestLost(f"{method}: {exc.describe()}") from None
                self.owner.control_messages_sent += 1
            await pending.done.wait()
        finally:
            self._pending.pop(request_id, None)
        outcome = pending.outcome
        if isinstance(outcome, ControlError):
            raise StreamRequestError(method, outcome)
        if isinstance(outcome, StreamRequestLost):
            raise outcome
        assert outcome is not None
        return outcome

    async def request_when_ready(self, method: str, render: Callable[[int], str]) -> ControlReply:
        """A user's control request: waits for the connection, retried once after a loss."""
        for attempt in range(2):
            await self.ready.wait()
            try:
                return await self._request(method, render)
            except StreamRequestLost:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def add(self, streams: list[str]) -> None:
        """Subscribe ``streams`` on this connection (now, or at the next reconnect)."""
        self.wanted.update(dict.fromkeys(streams))
        self._classifier.tagged = all_tagged(self.wanted)
        self._has_streams.set()
        while True:
            await self.ready.wait()
            missing = [s for s in streams if s in self.wanted and s not in self.active]
            if not missing:
                return
            try:
                await self._use_combined()
                for part in chunks(missing):
                    await self._request("SUBSCRIBE", partial(subscribe_request, part))
                    self.active.update(part)
                return
            except StreamRequestLost:
                continue  # the reconnect subscribes everything wanted
            except StreamRequestError:
                for name in streams:
                    self.wanted.pop(name, None)
                self._classifier.tagged = all_tagged(self.wanted)
                raise

    async def remove(self, streams: list[str]) -> None:
        for name in streams:
            self.wanted.pop(name, None)
        self._classifier.tagged = all_tagged(self.wanted)
        subscribed = [s for s in streams if s in self.active]
        if not subscribed or not self.ready.is_set():
            return  # the next connection will not carry them
        try:
            for part in chunks(subscribed):
                await self._request("UNSUBSCRIBE", partial(unsubscribe_request, part))
                self.active.difference_update(part)
        except StreamRequestLost:
            pass

    async def set_property(self, name: str, value: bool) -> None:
        set_property_request(name, value, None)  # bad input fails before anything is sent
        if name == "combined" and not value and len(self.wanted) > 1:
            raise InvalidParameter(
                "value", "combined=false would leave the payloads of several streams unnamed"
            )
        await self.request_when_ready(
            "SET_PROPERTY", lambda i: set_property_request(name, value, i)
        )
        self.properties[name] = value
        if name == "combined":
            self._classifier.combined = value
            if self.wanted:
                self._classifier.sole_stream = next(iter(self.wanted))

    def _set_state(self, state: ConnectionState, reason: str, *, attempt: int = 0) -> None:
        self.state = state
        self.owner.shard_state_changed(self, reason, attempt)


class MarketStreams:
    """Market data streams over one or more connections; made by :func:`market_streams`.

    Iterating it gives the messages of the streams subscribed with ``streams=`` and
    :meth:`subscribe`, each a :class:`~trio_binance.models.StreamMessage` (``stream``,
    ``event``). :meth:`listen` gives a separate feed of chosen streams, with its own buffer
    and overflow policy.
    """

    def __init__(
        self,
        nursery: trio.Nursery,
        url: str,
        *,
        raw: bool,
        transport: Transport,
        reconnect: ReconnectPolicy,
        feed: StreamFeed,
        control_rate: int,
        max_streams_per_connection: int,
        idle_timeout: float,
        probe_timeout: float,
        close_timeout: float,
    ) -> None:
        if not 1 <= max_streams_per_connection <= MAX_STREAMS_PER_CONNECTION:
            raise InvalidParameter(
                "max_streams_per_connection", f"must be 1..{MAX_STREAMS_PER_CONNECTION}"
            )
        if idle_timeout <= 0 or probe_timeout <= 0:
            raise InvalidParameter("idle_timeout", "and probe_timeout must be positive")
        self.url = url
        self.raw = raw
        self.transport = transport
        self.reconnect = reconnect
        self.control_rate = control_rate
        self.new_pacer()  # bad control_rate fails here
        self.capacity = max_streams_per_connection
        self.idle_timeout = idle_timeout
        self.probe_timeout = probe_timeout
        self.close_timeout = close_timeout
        self.frames_received = 0
        self.protocol_errors = 0
        self.control_messages_sent = 0
        self.reconnects = 0
        self._nursery = nursery
        self._ids = itertools.count(1)
        self._shards: list[_Shard] = []
        self._shard_of: dict[str, _Shard] = {}
        self._routes: dict[str, list[StreamFeed]] = {}
        self._feed = feed
        self._feeds: set[StreamFeed] = {feed}
        self._changing = trio.Lock()  # one subscription change at a time
        self._closed = False
        self.failure: BaseException | None = None
        """Why the streams ended, if not by leaving the block (``GaveUp``)."""
        self._state = StateBroadcast(
            StateChange(ConnectionState.CONNECTING, "opening", trio.current_time())
        )

    def __repr__(self) -> str:
        return (
            f"<MarketStreams {self._state.current.state.value} {self.url} "
            f"connections={len(self._shards)} streams={len(self._shard_of)}>"
        )

    # --- helpers for the shards ---

    def new_pacer(self) -> Pacer:
        try:
            return Pacer(self.control_rate)
        except ValueError as exc:
            raise InvalidParameter("control_rate", str(exc)) from None

    def next_id(self) -> int:
        return next(self._ids)

    def deliver(self, message: StreamMessage) -> None:
        for feed in self._routes.get(message.stream, ()):
            feed.push(message)

    def shard_state_changed(self, shard: _Shard, reason: str, attempt: int) -> None:
        if self._closed:
            return
        states = {s.state for s in self._shards}
        for state in (
            ConnectionState.RECONNECTING,
            ConnectionState.CONNECTING,
            ConnectionState.DEGRADED,
        ):
            if state in states:
                break
        else:
            state = ConnectionState.READY
        self._state.publish(state, f"connection {shard.index}: {reason}", attempt=attempt)

    # --- the user's side ---

    def __aiter__(self) -> StreamFeed:
        return self._feed

    @property
    def state(self) -> StateChange:
        return self._state.current

    @asynccontextmanager
    async def watch_state(self) -> AsyncIterator[AsyncIterator[StateChange]]:
        """``async with streams.watch_state() as changes:`` -- the state now, then changes.

        Iteration ends after ``CLOSED``. A watcher that falls behind loses intermediate
        states, never the latest.
        """
        async with self._state.watch() as changes:
            try:
                yield changes
            finally:
                closing = getattr(changes, "aclose", None)
                if closing is not None:  # an async generator left mid-way: finish it now
                    await closing()

    @property
    def streams(self) -> tuple[str, ...]:
        """Every stream wanted now, by any feed."""
        return tuple(self._shard_of)

    @property
    def connections(self) -> int:
        return len(self._shards)

    async def subscribe(self, streams: Iterable[str]) -> None:
        """Add ``streams`` to this object's own feed (``SUBSCRIBE`` where needed).

        Raises :class:`StreamRequestError` if the exchange refuses them (nothing is then
        subscribed for this call).
        """
        names = normalize_streams(streams)
        await self._want(names, self._feed)

    async def unsubscribe(self, streams: Iterable[str]) -> None:
        """Remove ``streams`` from this object's own feed (``UNSUBSCRIBE`` if unwanted)."""
        names = normalize_streams(streams)
        await self._unwant(names, self._feed)

    @asynccontextmanager
    async def listen(
        self,
        streams: Iterable[str],
        *,
        buffer_size: int = DEFAULT_FEED_SIZE,
        overflow: Overflow = Overflow.FAIL,
    ) -> AsyncIterator[StreamFeed]:
        """A feed of ``streams`` alone, for the block: ``async with s.listen([...]) as feed:``.

        Streams nobody else wants are subscribed for the block and unsubscribed after it.
        """
        names = normalize_streams(streams)
        if not names:
            raise InvalidParameter("streams", "must name at least one stream")
        feed = StreamFeed(names, buffer_size=buffer_size, overflow=overflow)
        await self._want(names, feed)
        self._feeds.add(feed)
        try:
            yield feed
        finally:
            self._feeds.discard(feed)
            feed.close(StreamsClosed(None))
            if not self._closed:
                with trio.move_on_after(self.close_timeout, shield=True):
                    await self._unwant(names, feed)

    async def list_subscriptions(self) -> tuple[str, ...]:
        """The streams every connection reports (``LIST_SUBSCRIPTIONS``), in order."""
        found: list[str] = []
        for shard in self._live_shards():
            reply = await shard.request_when_ready("LIST_SUBSCRIPTIONS", list_subscriptions_request)
            if not isinstance(reply.result, tuple):
                raise ProtocolError(f"LIST_SUBSCRIPTIONS result is not a list: {reply.result!r}")
            found.extend(reply.result)
        return tuple(found)

    async def set_property(self, name: str, value: bool) -> None:
        """``SET_PROPERTY`` on every connection (and again on each reconnect)."""
        self._require_connection("SET_PROPERTY")
        for shard in list(self._shards):
            if shard in self._live_shards():
                await shard.set_property(name, value)
            else:  # idle, with no connection: set when it connects again
                set_property_request(name, value, None)
                shard.properties[name] = value

    async def get_property(self, name: str) -> bool | tuple[str, ...] | None:
        """``GET_PROPERTY``; every connection has the same properties, the first answers."""
        get_property_request(name, None)  # bad input fails before anything is sent
        shard = self._require_connection("GET_PROPERTY")
        reply = await shard.request_when_ready(
            "GET_PROPERTY", lambda i: get_property_request(name, i)
        )
        return reply.result

    def statistics(self) -> MarketStreamsStatistics:
        return MarketStreamsStatistics(
            connections=len(self._shards),
            streams=len(self._shard_of),
            frames_received=self.frames_received,
            protocol_errors=self.protocol_errors,
            control_messages_sent=self.control_messages_sent,
            reconnects=self.reconnects,
            feeds=len(self._feeds),
        )

    def _live_shards(self) -> list[_Shard]:
        """Connections that are up or being brought up (not idle without streams)."""
        return [s for s in self._shards if s.wanted or s.ready.is_set()]

    def _require_connection(self, method: str) -> _Shard:
        live = self._live_shards()
        if not live:
            raise NotSent(f"{method}: no connection; subscribe to a stream first")
        return live[0]

    # --- subscription bookkeeping ---

    async def _want(self, names: list[str], feed: StreamFeed) -> None:
        if self._closed:
            raise StreamsClosed(None)
        async with self._changing:
            new = [n for n in names if n not in self._shard_of]
            for name in names:
                routes = self._routes.setdefault(name, [])
                if feed not in routes:
                    routes.append(feed)
            try:
                await self._place(new)
            except BaseException:
                self._drop_routes(names, feed)
                raise

    async def _place(self, new: list[str]) -> None:
        plan = assign_streams(new, [len(s.wanted) for s in self._shards], self.capacity)
        for shard, names in zip(list(self._shards), plan, strict=False):
            if names:
                self._shard_of.update(dict.fromkeys(names, shard))
                try:
                    await shard.add(names)
                except BaseException:
                    for name in names:
                        self._shard_of.pop(name, None)
                    raise
        for names in plan[len(self._shards) :]:
            shard = _Shard(self, len(self._shards), names)
            self._shards.append(shard)
            self._shard_of.update(dict.fromkeys(names, shard))
            try:
                await self._nursery.start(shard.run)
            except BaseException:
                self._shards.remove(shard)
                for name in names:
                    self._shard_of.pop(name, None)
                raise

    async def _unwant(self, names: list[str], feed: StreamFeed) -> None:
        async with self._changing:
            unused = self._drop_routes(names, feed)
            by_shard: dict[_Shard, list[str]] = {}
            for name in unused:
                shard = self._shard_of.pop(name, None)
                if shard is not None:
                    by_shard.setdefault(shard, []).append(name)
            for shard, gone in by_shard.items():
                await shard.remove(gone)

    def _drop_routes(self, names: list[str], feed: StreamFeed) -> list[str]:
        """Stop routing ``names`` to ``feed``; the names nobody wants any more."""
        unused = []
        for name in names:
            routes = self._routes.get(name)
            if routes is not None and feed in routes:
                routes.remove(feed)
                if not routes:
                    del self._routes[name]
                    unused.append(name)
        return unused

    def _close(self, reason: BaseException | None) -> None:
        if self._closed:
            return
        self._state.publish(ConnectionState.CLOSED, str(reason) if reason else "closed")
        self._closed = True
        for feed in self._feeds:
            feed.close(StreamsClosed(reason))


@asynccontextmanager
async def market_streams(
    url: str = STREAMS_PRODUCTION,
    streams: Iterable[str] = (),
    *,
    raw: bool = False,
    transport: Transport | TransportName | None = None,
    reconnect: ReconnectPolicy | None = None,
    buffer_size: int = DEFAULT_FEED_SIZE,
    overflow: Overflow = Overflow.FAIL,
    control_rate: int = DEFAULT_CONTROL_RATE,
    max_streams_per_connection: int = MAX_STREAMS_PER_CONNECTION,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    probe_timeout: float = DEFAULT_PROBE_TIMEOUT,
    close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
) -> AsyncIterator[MarketStreams]:
    """Open market data streams; everything is closed when the block ends.

    ``url`` is the streams endpoint (``wss://stream.binance.com:9443``; a ``/ws`` or
    ``/stream`` path and query options such as ``timeUnit=MICROSECOND`` are kept). The
    ``streams`` (e.g. ``["btcusdt@trade", "btcusdt@depth@100ms"]``) are connected before the
    body runs; a first connection that fails raises ``ConnectFailed``. Later losses are
    repaired by ``reconnect`` (default: :class:`ReconnectPolicy` with its defaults; when it
    gives up, ``GaveUp`` ends the block).

    ``raw=True`` connects to ``/ws/<stream>`` instead of ``/stream?streams=...``: payloads
    arrive unwrapped, which costs a little less per message while a connection carries one
    stream (a second stream switches it to wrapped payloads with ``SET_PROPERTY``).

    ``transport`` carries the frames, as for :func:`connect`: ``"trio-websocket"`` (the
    default), ``"websockets"`` (the fast one, with the ``fast`` extra) or an instance.

    ``buffer_size`` and ``overflow`` are the policy of the object's own feed (see
    :class:`Overflow`); :meth:`MarketStreams.listen` gives feeds with their own.
    ``control_rate`` is the most control messages sent per second per connection (the
    exchange allows 5 incoming messages including pongs).
    """
    feed = StreamFeed((), buffer_size=buffer_size, overflow=overflow)
    names = normalize_streams(streams)
    async with background_nursery() as nursery:
        market = MarketStreams(
            nursery,
            url,
            raw=raw,
            transport=resolve_transport(transport),
            reconnect=reconnect or ReconnectPolicy(),
            feed=feed,
            control_rate=control_rate,
            max_streams_per_connection=max_streams_per_connection,
            idle_timeout=idle_timeout,
            probe_timeout=probe_timeout,
            close_timeout=close_timeout,
        )
        reason: BaseException | None = None
        try:
            if names:
                await market.subscribe(names)
            yield market
        except BaseException as exc:
            reason = None if isinstance(exc, trio.Cancelled | GeneratorExit) else exc
            raise
        finally:
            market._close(market.failure or reason)


__all__ = [
    "STREAMS_MARKET_DATA_ONLY",
    "STREAMS_PRODUCTION",
    "STREAMS_TESTNET",
    "MarketStreams",
    "MarketStreamsStatistics",
    "StreamRequestError",
    "StreamRequestLost",
    "market_streams",
]
