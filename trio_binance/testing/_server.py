"""The local exchange's WebSocket server: connections, request pipeline, faults, lifecycle.

Each accepted connection runs one task that reads request frames and answers them in order
(a :class:`~trio_binance.testing.Delay` fault moves one answer later, so replies can overtake
each other), plus a lifecycle task that pings like Binance and cuts the connection at 24 h.
Time is trio's clock, so tests run the whole lifecycle under ``autojump_clock``.
"""

from __future__ import annotations

import itertools
import logging
import random
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import parse_qs, urlsplit

import trio
import trio_websocket
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from wsproto.events import TextMessage

from trio_binance._credentials import Ed25519Credentials, HmacCredentials
from trio_binance._methods import method_info
from trio_binance._protocol import (
    BadRequestFrame,
    RequestDecoder,
    RequestFrame,
    RequestId,
    ResponseEncoder,
)
from trio_binance.testing._auth import INVALID_KEY, ApiKey, Authenticator, KeyRing
from trio_binance.testing._config import ExchangeConfig, default_config
from trio_binance.testing._engine import Exchange
from trio_binance.testing._errors import ExchangeError
from trio_binance.testing._faults import (
    Delay,
    Drop,
    Duplicate,
    Fault,
    FaultPlan,
    Garbage,
    Malformed,
    Reply,
    Silent,
)
from trio_binance.testing._limits import RateLimitConfig, RateLimiter, RateLimitRejection
from trio_binance.testing._trading import Outcome, TradingService

if TYPE_CHECKING:
    from trio_binance.testing._engine import MarketChanges
    from trio_binance.testing._market_data import MarketData
    from trio_binance.testing._stream_faults import StreamFaultPlan
    from trio_binance.testing._stream_server import StreamLimits
    from trio_binance.testing._streams import MarketStreams
    from trio_binance.testing._user_streams import UserStreams

logger = logging.getLogger("trio_binance.testing")

DEFAULT_HOST = "127.0.0.1"  # loopback only, unless a caller asks for more
WS_API_PATH = "/ws-api/v3"


@dataclass(frozen=True)
class Lifecycle:
    """Connection lifetime rules, as Binance applies them (web-socket-api.md, "General API
    Information"): a ping every 20 s, a drop after a minute without pong, a cut at 24 h."""

    ping_interval: float = 20.0
    pong_timeout: float = 60.0
    max_age: float = 24 * 3600.0


@dataclass
class Request:
    """One request as a method handler sees it.

    ``params`` has no authentication parameters left in it; ``account`` is the account the
    request acts for (``None`` for public methods).
    """

    connection: ClientConnection
    request_id: RequestId
    method: str
    params: dict[str, Any]
    now_ms: int
    account: str | None = None
    received: dict[str, Any] = field(default_factory=dict)
    """The parameters exactly as the client sent them (signature and all)."""
    orders_refused: ExchangeError | None = None
    """Set when the unfilled order count is exhausted but the request may still run in part
    (``order.cancelReplace`` with ``orderRateLimitExceededMode=CANCEL_ONLY``)."""


Handler = Callable[[Request], Any]


@dataclass(frozen=True)
class _CloseFrame:
    """Queued like a frame: close the connection once everything before it was sent."""

    code: int
    reason: str


@dataclass(frozen=True)
class DemoKeys:
    """Keys registered by :meth:`LocalExchange.create_demo_keys` for one account."""

    account: str
    ed25519: Ed25519Credentials
    hmac: HmacCredentials
    ed25519_private_pem: str = field(repr=False)
    hmac_secret: str = field(repr=False)


class ClientConnection:
    """One client connection to the local exchange (also the handle tests act on)."""

    def __init__(
        self, exchange: LocalExchange, ws: trio_websocket.WebSocketConnection, conn_id: int
    ):
        self.exchange = exchange
        self.id = conn_id
        self.ws = ws
        self.return_rate_limits = _query_flag(ws.path or "", "returnRateLimits", default=True)
        self.ip = _remote_ip(ws)
        self.connected_since = exchange.now_ms()
        self.session_key: ApiKey | None = None
        """The key authenticated with ``session.logon``, if any."""
        self.authorized_since: int | None = None
        self.opened_at = trio.current_time()
        self.closed = trio.Event()
        self.drop_after_reply = False
        self.drop_requested = False
        self.stalled = False
        """Set by :meth:`stall`: nothing leaves for the client, not even a ping."""
        self._nursery: trio.Nursery | None = None
        self._outbox_in, self._outbox = trio.open_memory_channel[str | bytes | _CloseFrame](
            exchange.outbox_size
        )

    def __repr__(self) -> str:
        return f"<ClientConnection {self.id} {self.ws.remote}>"

    def push(self, frame: str | bytes) -> None:
        """Queue a text frame for the client from synchronous code, in order with all others.

        A client too slow to drain a full queue is disconnected, as Binance does with slow
        consumers; the exchange itself never blocks on one client.
        """
        text = frame.decode() if isinstance(frame, bytes) else frame
        try:
            self._outbox_in.send_nowait(text)
        except trio.WouldBlock:
            logger.warning("connection %s: outgoing queue full, disconnecting", self.id)
            self.drop_now()
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            logger.debug("connection %s: frame not queued, already closed", self.id)

    async def send(self, frame: str | bytes) -> None:
        """Queue a text frame for the client, waiting for room in the queue."""
        await self.send_raw(frame.decode() if isinstance(frame, bytes) else frame)

    async def send_reply(self, frame: bytes) -> None:
        """:meth:`send` for the request loop's replies, with no trip through trio's scheduler
        when the queue has room (nearly always): that trip cost ~10 µs per request, and the
        loop already yields at every ``get_message``. A full queue still waits."""
        text = frame.decode()
        try:
            self._outbox_in.send_nowait(text)
        except trio.WouldBlock:
            await self.send_raw(text)
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            logger.debug("connection %s: frame not queued, already closed", self.id)

    async def send_raw(self, frame: str | bytes | _CloseFrame) -> None:
        """Queue exactly ``frame``: ``bytes`` go out as a binary frame (for garbage tests)."""
        try:
            await self._outbox_in.send(frame)
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            logger.debug("connection %s: frame not queued, already closed", self.id)

    def connection_event(self, event: dict[str, Any]) -> str | bytes:
        """A connection event (``serverShutdown``) as this connection shows it."""
        return self.exchange._encoder.connection_event(event)

    def stall(self) -> None:
        """Go silent without closing: no frame and no ping leaves any more (requests are still
        read and run). What a client sees when a link dies without telling anyone."""
        self.stalled = True

    def drop_now(self) -> None:
        """Cut the connection at once (no close frame), from synchronous code."""
        self.drop_requested = True
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel()

    async def _write_frames(self) -> None:
        async for first in self._outbox:
            if self.stalled:  # hold everything back until the connection ends
                await trio.sleep_forever()
            try:
                for item in _runs_of_text([first, *self._waiting_frames()]):
                    if isinstance(item, _CloseFrame):
                        with trio.move_on_after(5):
                            await self.ws.aclose(item.code, item.reason or None)
                        self.drop_now()
                        return
                    if isinstance(item, bytes):
                        await self.ws.send_message(item)
                    else:
                        await self._send_texts(item)
            except trio_websocket.ConnectionClosed:
                return

    def _waiting_frames(self) -> list[str | bytes | _CloseFrame]:
        """The frames already queued behind the one just taken (up to a batch)."""
        frames: list[str | bytes | _CloseFrame] = []
        while len(frames) < _WRITE_BATCH:
            try:
                frames.append(self._outbox.receive_nowait())
            except (trio.WouldBlock, trio.EndOfChannel):
                break
        return frames

    async def _send_texts(self, texts: list[str]) -> None:
        """Send text messages, in order, in one write when there are several.

        trio-websocket writes each message on its own (a lock, a send and several trips
        through trio's scheduler each); under load, one write per batch cut the server's CPU
        by ~40 µs per request (~15%). That takes its internals, the steps of its ``_send``;
        should they change, this falls back to one ``send_message`` per text.
        """
        ws = self.ws
        if len(texts) == 1 or not all(hasattr(ws, name) for name in _WS_INTERNALS):
            for text in texts:
                await ws.send_message(text)
            return
        if ws.closed:
            raise trio_websocket.ConnectionClosed(ws.closed)
        data = b"".join([ws._wsproto.send(TextMessage(data=text)) for text in texts])
        async with ws._stream_lock:
            try:
                await ws._stream.send_all(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                await ws._abort_web_socket()
                raise trio_websocket.ConnectionClosed(ws.closed) from None

    async def drop(self, *, close_frame: bool = False, code: int = 1001, reason: str = "") -> None:
        """End the connection: after the queued frames with a close frame, or at once by
        cutting the TCP stream."""
        if close_frame:
            await self.send_raw(_CloseFrame(code, reason))
        else:
            self.drop_now()

    async def serve(self) -> None:
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                nursery.start_soon(self._lifecycle)
                nursery.start_soon(self._write_frames)
                try:
                    await self._read_requests(nursery)
                finally:
                    nursery.cancel_scope.cancel()
        finally:
            self._outbox_in.close()
            if self.drop_requested:
                await trio.aclose_forcefully(self.ws._stream)
            self.closed.set()

    async def _read_requests(self, nursery: trio.Nursery) -> None:
        decoder = RequestDecoder()
        while True:
            try:
                data = await self.ws.get_message()
            except trio_websocket.ConnectionClosed:
                return
            await self.exchange._handle_frame(self, decoder.decode(data), nursery)

    async def _lifecycle(self) -> None:
        rules = self.exchange.lifecycle
        with trio.move_on_at(self.opened_at + rules.max_age):
            while True:
                await trio.sleep(rules.ping_interval)
                if self.stalled:
                    continue
                with trio.move_on_after(rules.pong_timeout) as waited:
                    try:
                        await self.ws.ping()
                    except (trio_websocket.ConnectionClosed, ValueError):
                        return
                if waited.cancelled_caught:
                    logger.info(
                        "connection %s: no pong in %ss, dropping", self.id, rules.pong_timeout
                    )
                    await self.drop(close_frame=False)
                    return
        # Binance ends every connection at 24 h (General API Information).
        await self.drop(close_frame=True, code=1000, reason="24h connection limit")


class LocalExchange:
    """A faithful Binance Spot exchange on loopback: state, methods, faults and lifecycle.

    Serve it with ``url = await nursery.start(exchange.serve)``, or use
    :func:`open_local_exchange`.
    """

    def __init__(
        self,
        *,
        lifecycle: Lifecycle | None = None,
        limits: RateLimitConfig | None = None,
        start_time_ms: int | None = None,
        outbox_size: int = 100_000,
        config: ExchangeConfig | None = None,
        seed: int | None = None,
    ) -> None:
        self.outbox_size = outbox_size
        """Frames queued per connection before a slow client is disconnected."""
        self.lifecycle = lifecycle or Lifecycle()
        self.limiter = RateLimiter(limits)
        self.keys = KeyRing()
        self._authenticator = Authenticator(self.keys)
        self.engine = Exchange(config or default_config())
        """The matching engine and account state (see ``_engine``)."""
        self.trading = TradingService(self.engine, random.Random(seed))
        self.demo_keys: dict[str, DemoKeys] = {}
        """Keys from :meth:`create_demo_keys`, by account (empty until it is called)."""
        self.user_event_sinks: list[Callable[[str, dict[str, Any]], object]] = []
        """Where user-data events go: ``(account, event)``, in the order they happen."""
        self.faults = FaultPlan()
        self.requests_seen: Counter[str] = Counter()
        """How many requests of each method reached the exchange (for "sent once" checks)."""
        self.clock_skew_ms = 0
        self._start_time_ms = start_time_ms
        self._epoch: tuple[float, int] | None = None
        self._encoder = ResponseEncoder()
        self._handlers: dict[str, Handler] = {}
        self._connections: dict[int, ClientConnection] = {}
        self._ids = itertools.count(1)
        self.connection_attempts = 0
        """WebSocket handshakes attempted, refused ones included."""
        self.refused_connections: Counter[int] = Counter()
        """Handshakes refused, by HTTP status (429 too many connections, 418 banned)."""
        self.url = ""
        self.streams_url = ""
        """The market streams' base URL (``ws://host:port``, like
        ``wss://stream.binance.com:9443``): add ``/ws/<stream>`` or ``/stream?streams=...``."""
        self.register("ping", lambda request: {})
        self.register("time", lambda request: {"serverTime": request.now_ms})
        self.register("session.logon", self._session_logon)
        self.register("session.status", self._session_status)
        self.register("session.logout", self._session_logout)
        self._register_trading()
        self.market_data = self._install_market_data()
        self.user_streams = self._install_user_streams()
        self.user_event_sinks.append(self.user_streams.publish)
        self.market_streams, self.stream_faults, self.stream_limits = self._install_streams()

    # --- configuration ---------------------------------------------------------------------

    def register(self, method: str, handler: Handler) -> None:
        """Answer ``method`` with ``handler`` (replacing any earlier one)."""
        self._handlers[method] = handler

    def handler(self, method: str) -> Handler | None:
        """The handler answering ``method``, e.g. to wrap it."""
        return self._handlers.get(method)

    def _install_user_streams(self) -> UserStreams:
        # Imported here: the user-data module builds on this one.
        from trio_binance.testing._user_streams import install_user_streams

        return install_user_streams(self)

    def _install_streams(self) -> tuple[MarketStreams, StreamFaultPlan, StreamLimits]:
        # Imported here: the market streams build on this module.
        from trio_binance.testing._stream_faults import StreamFaultPlan
        from trio_binance.testing._stream_server import StreamLimits
        from trio_binance.testing._streams import MarketStreams

        return MarketStreams(self), StreamFaultPlan(), StreamLimits()

    def _install_market_data(self) -> MarketData:
        # Imported here: the market data module builds on this one.
        from trio_binance.testing._market_data import install_market_data

        return install_market_data(self)

    def _register_trading(self) -> None:
        trading = self.trading
        for method in trading.methods():
            handle = trading.handler(method)
            if handle is not None:
                self.register(method, _account_handler(handle))
        self.register("order.cancelReplace", self._cancel_replace)
        self.register("account.rateLimits.orders", self._order_rate_limits)

    def _cancel_replace(self, request: Request) -> Any:
        return self.trading.cancel_replace(
            _account_of(request),
            request.params,
            request.now_ms,
            new_order_refusal=request.orders_refused,
        )

    def _order_rate_limits(self, request: Request) -> Any:
        account = _account_of(request)
        limits = self.limiter.order_rate_limits(account, request.now_ms)
        return self.trading.account_rate_limits_orders(
            account, request.params, request.now_ms, limits
        )

    def now_ms(self) -> int:
        """The exchange clock in epoch milliseconds: trio time plus a fixed epoch."""
        now = trio.current_time()
        if self._epoch is None:
            start = (
                self._start_time_ms if self._start_time_ms is not None else int(time.time() * 1000)
            )
            self._epoch = (now, start)
        t0, start = self._epoch
        return start + round((now - t0) * 1000) + self.clock_skew_ms

    @property
    def connections(self) -> list[ClientConnection]:
        return list(self._connections.values())

    # --- serving ---------------------------------------------------------------------------

    async def serve(
        self,
        host: str = DEFAULT_HOST,
        port: int = 0,
        *,
        task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
    ) -> NoReturn:
        """Serve until cancelled; ``nursery.start`` returns the WebSocket API URL."""
        self.now_ms()  # fix the epoch when serving starts
        async with trio.open_nursery() as nursery:
            server = await nursery.start(
                trio_websocket.serve_websocket,
                self._accept,
                host,
                port,
                None,
            )
            self.url = f"ws://{host}:{server.port}{WS_API_PATH}"
            self.streams_url = f"ws://{host}:{server.port}"
            await nursery.start(self.market_streams.run)
            task_status.started(self.url)
            await trio.sleep_forever()
        raise AssertionError("unreachable")  # pragma: no cover

    async def _accept(self, ws_request: trio_websocket.WebSocketRequest) -> None:
        from trio_binance.testing._stream_server import is_stream_path

        path = ws_request.path or ""
        if is_stream_path(path):
            await self._accept_streams(ws_request, path)
            return
        self.connection_attempts += 1
        if urlsplit(path).path.rstrip("/") != WS_API_PATH:
            await ws_request.reject(404, body=b"Not Found")
            return
        try:
            self.limiter.connection_attempt(_remote_ip(ws_request), self.now_ms())
        except RateLimitRejection as refusal:
            self.refused_connections[refusal.status] += 1
            body = self._encoder.error(
                None, refusal.status, refusal.code, refusal.msg, data=refusal.data
            )
            await ws_request.reject(refusal.status, body=body)
            return
        ws = await ws_request.accept()
        connection = ClientConnection(self, ws, next(self._ids))
        self._connections[connection.id] = connection
        try:
            await connection.serve()
        finally:
            del self._connections[connection.id]

    async def _accept_streams(self, ws_request: trio_websocket.WebSocketRequest, path: str) -> None:
        """A market stream connection (``/ws/...``, ``/stream?streams=...``)."""
        from trio_binance.testing._stream_server import (
            EarlySubscriber,
            RouteError,
            StreamConnection,
            read_route,
        )

        try:
            route = read_route(path, self.stream_limits)
        except RouteError as error:
            await ws_request.reject(400, body=str(error).encode())
            return
        # Subscribed before the handshake completes: nothing published after the client's
        # connect() returned can be missed.
        early = EarlySubscriber(self, next(self._ids), route)
        try:
            ws = await ws_request.accept()
        except BaseException:
            early.cancel()
            raise
        connection = StreamConnection(self, ws, early.id, route, early)
        self._connections[connection.id] = connection
        try:
            await connection.serve()
        finally:
            del self._connections[connection.id]

    # --- actions a test can take -------------------------------------------------------------

    async def broadcast(self, frame: str | bytes) -> None:
        """Send ``frame`` as is to every connection."""
        for connection in self.connections:
            await connection.send_raw(frame)

    async def send_server_shutdown(self, *, close_after: float | None = None) -> None:
        """Send the ``serverShutdown`` connection event to every connection; with
        ``close_after``, close them that many seconds later (trio time), as Binance does."""
        event = {"e": "serverShutdown", "E": self.now_ms()}
        connections = self.connections
        for connection in connections:
            await connection.send(connection.connection_event(event))
        if close_after is not None:
            await trio.sleep(close_after)
            for connection in connections:
                await connection.drop(close_frame=True, code=1001, reason="server shutdown")

    def create_demo_keys(self, accounts: Iterable[str] = ("alice", "bob")) -> dict[str, DemoKeys]:
        """Register a fresh Ed25519 key and HMAC key for each account; return them.

        Keys are generated per exchange, never fixed: nothing that works here works anywhere
        else. The demo, the ``exchange`` command and the pytest fixtures use these.
        """
        keys = {}
        for account in accounts:
            pem = _new_ed25519_pem()
            ed25519 = Ed25519Credentials(f"{account}Ed25519{secrets.token_hex(8)}", pem)
            self.keys.add_credentials(ed25519, account)
            hmac_key, hmac_secret = f"{account}Hmac{secrets.token_hex(8)}", secrets.token_hex(32)
            self.keys.add(hmac_key, account, hmac_secret=hmac_secret)
            hmac = HmacCredentials(hmac_key, hmac_secret)
            keys[account] = DemoKeys(account, ed25519, hmac, pem, hmac_secret)
        return keys

    async def drop_all(self, *, close_frame: bool = False) -> None:
        for connection in self.connections:
            await connection.drop(close_frame=close_frame)

    # --- the request pipeline ---------------------------------------------------------------

    async def _handle_frame(
        self,
        connection: ClientConnection,
        frame: RequestFrame | BadRequestFrame,
        nursery: trio.Nursery,
    ) -> None:
        if isinstance(frame, BadRequestFrame):
            await connection.send(self._encoder.error(frame.request_id, 400, frame.code, frame.msg))
            return
        method = frame.method.removeprefix("v3/")
        self.requests_seen[method] += 1
        if connection.session_key is not None:  # no coroutine per request without a logon
            await self._revoke_if_needed(connection)
        fault = self.faults.take(method, connection.id)
        if fault is None:
            await connection.send_reply(self._answer(connection, frame, method))
            if connection.drop_after_reply:  # a banned IP is disconnected ("IP limits")
                await connection.drop(close_frame=True, code=1008, reason="IP banned")
        else:
            await self._answer_with_fault(connection, frame, method, fault, nursery)

    def _answer(self, connection: ClientConnection, frame: RequestFrame, method: str) -> bytes:
        """Run one request through authentication, rate limits and its handler."""
        params = dict(frame.params)
        want_limits = _pop_flag(params, "returnRateLimits", connection.return_rate_limits)
        now = self.now_ms()
        account: str | None = None
        auth_error: ExchangeError | None = None
        try:
            account, params = self._authenticate(connection, method, params, now)
        except ExchangeError as error:
            auth_error = error
        try:
            admission = self.limiter.admit(connection.ip, account, method, params, now)
        except RateLimitRejection as refusal:
            if refusal.disconnect:
                connection.drop_after_reply = True
            limits = self._rate_limits(connection, account, now, want_limits, include_orders=False)
            return self._encoder.error(
                frame.id,
                refusal.status,
                refusal.code,
                refusal.msg,
                data=refusal.data,
                rate_limits=limits,
            )
        with_orders = admission.reports_orders
        refused = admission.orders_refused
        try:
            if auth_error is not None:
                raise auth_error
            request = Request(
                connection,
                frame.id,
                method,
                params,
                now,
                account,
                frame.params,
                ExchangeError(refused.status, refused.code, refused.msg, refused.data)
                if refused
                else None,
            )
            outcome = _as_outcome(self._execute(request))
        except ExchangeError as error:
            self._apply_effects(error.events)
            self._publish_market(error.market)
            self.limiter.settle(admission, succeeded=False, orders_placed=error.orders_placed)
            limits = self._rate_limits(
                connection, account, now, want_limits, include_orders=with_orders
            )
            return self._encoder.error(
                frame.id, error.status, error.code, error.msg, data=error.data, rate_limits=limits
            )
        self._apply_effects(outcome.events)
        self._publish_market(outcome.market)
        self.limiter.settle(admission, succeeded=True, orders_placed=outcome.orders_placed)
        limits = self._rate_limits(
            connection, account, now, want_limits, include_orders=with_orders
        )
        return self._encoder.result(frame.id, outcome.result, limits)

    def _apply_effects(self, events: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Publish the user-data events a request caused, in the order it caused them."""
        for account, event in events:
            self.publish_user_event(account, event)

    def _publish_market(self, changes: MarketChanges | None) -> None:
        """Send the market stream events a request caused (nothing to do without
        subscribers: then the request did not even build its changes)."""
        if changes is not None and self.market_streams.active:
            self.market_streams.publish(changes)

    def act(self, account: str, method: str, params: Mapping[str, Any]) -> Any:
        """Run trading ``method`` for ``account`` as the exchange itself: no connection, no
        authentication, no rate limits, but the same user-data and market stream events as a
        request. The activity generator trades this way. Returns the method's result; a
        refusal raises :class:`~trio_binance.testing.ExchangeError`."""
        handle = self.trading.handler(method)
        if handle is None:
            raise ValueError(f"{method!r} is not a trading method")
        trading = self.trading
        trading.user_events = self._user_events_wanted()
        trading.market_changes = self.market_streams.active
        try:
            outcome = handle(account, dict(params), self.now_ms())
        except ExchangeError as error:
            self._apply_effects(error.events)
            self._publish_market(error.market)
            raise
        finally:
            trading.user_events = trading.market_changes = True
        self._apply_effects(outcome.events)
        self._publish_market(outcome.market)
        return outcome.result

    def publish_user_event(self, account: str, event: dict[str, Any]) -> None:
        """Deliver one user-data event of ``account`` to its subscriptions (if any)."""
        for sink in self.user_event_sinks:
            sink(account, event)

    def _authenticate(
        self, connection: ClientConnection, method: str, params: dict[str, Any], now: int
    ) -> tuple[str | None, dict[str, Any]]:
        """The account a request acts for and its parameters without the signing ones."""
        info = method_info(method)
        security = info.security if info is not None else "NONE"
        if security == "NONE":  # public, unknown (answered -1020 later), or session.logon
            return None, params
        authenticated = self._authenticator.authenticate(
            params,
            security=security,
            session_key=connection.session_key,
            now_ms=now,
            signed=info is not None and info.signed,
        )
        return authenticated.key.account, authenticated.params

    def _rate_limits(
        self,
        connection: ClientConnection,
        account: str | None,
        now: int,
        wanted: bool,
        *,
        include_orders: bool,
    ) -> list[Any] | None:
        if not wanted:
            return None
        return self.limiter.rate_limits(connection.ip, account, now, include_orders=include_orders)

    def _execute(self, request: Request) -> Any:
        handler = self._handlers.get(request.method)
        if handler is None:
            # The spec does not document the answer to an unknown method; -1020
            # UNSUPPORTED_OPERATION is the documented code that says what happened.
            raise ExchangeError(400, -1020, "This operation is not supported.")
        trading = self.trading
        # For this request only: what trading renders that nobody would use.
        trading.user_events = self._user_events_wanted()
        # Market changes only while someone subscribes to a market stream (~4% of an order).
        trading.market_changes = self.market_streams.active
        try:
            return handler(request)
        finally:
            trading.user_events = trading.market_changes = True

    def _user_events_wanted(self) -> bool:
        """Whether user-data events would reach anyone: a sink besides the user streams', or
        a live subscription. When not, trading skips rendering them (~10% of an order)."""
        sinks = self.user_event_sinks
        if len(sinks) != 1 or sinks[0] != self.user_streams.publish:
            return True
        return bool(self.user_streams.subscriptions())

    # --- session authentication ("Session Authentication") -----------------------------------

    def _session_logon(self, request: Request) -> dict[str, Any]:
        key = self._authenticator.logon_key(request.params, request.now_ms)
        connection = request.connection
        connection.session_key = key
        connection.authorized_since = request.now_ms
        return self._session_status(request)

    def _session_status(self, request: Request) -> dict[str, Any]:
        connection = request.connection
        key = connection.session_key
        return {
            "apiKey": key.api_key if key else None,
            "authorizedSince": connection.authorized_since if key else None,
            "connectedSince": connection.connected_since,
            "returnRateLimits": connection.return_rate_limits,
            "serverTime": request.now_ms,
            "userDataStream": False,
        }

    def _session_logout(self, request: Request) -> dict[str, Any]:
        request.connection.session_key = None
        request.connection.authorized_since = None
        return self._session_status(request)

    async def _revoke_if_needed(self, connection: ClientConnection) -> None:
        """A revoked key ends its session at the next request ("Session Authentication")."""
        key = connection.session_key
        if key is not None and key.revoked:
            connection.session_key = None
            connection.authorized_since = None
            error = INVALID_KEY
            await connection.send(self._encoder.error(None, error.status, error.code, error.msg))

    async def _answer_with_fault(
        self,
        connection: ClientConnection,
        frame: RequestFrame,
        method: str,
        fault: Fault,
        nursery: trio.Nursery,
    ) -> None:
        logger.info("connection %s: fault %r on %s", connection.id, fault, method)
        if isinstance(fault, Drop):
            if fault.after_execute:
                self._answer(connection, frame, method)
            await connection.drop(close_frame=fault.close_frame)
        elif isinstance(fault, Silent):
            if fault.after_execute:
                self._answer(connection, frame, method)
        elif isinstance(fault, Delay):
            reply = self._answer(connection, frame, method)
            nursery.start_soon(_send_later, connection, reply, fault.seconds)
        elif isinstance(fault, Reply):
            if fault.after_execute:
                self._answer(connection, frame, method)
            await connection.send(
                self._encoder.error(frame.id, fault.status, fault.code, fault.msg, data=fault.data)
            )
        elif isinstance(fault, Garbage):
            await connection.send_raw(fault.frame)
            await connection.send(self._answer(connection, frame, method))
        elif isinstance(fault, Malformed):
            await connection.send_raw(f'{{"id": {_json_id(frame.id)}, {fault.body}}}')
        elif isinstance(fault, Duplicate):
            reply = self._answer(connection, frame, method)
            for _ in range(1 + fault.copies):
                await connection.send(reply)


_WRITE_BATCH = 256
_WS_INTERNALS = ("_wsproto", "_stream_lock", "_stream", "_abort_web_socket")


def _runs_of_text(
    frames: list[str | bytes | _CloseFrame],
) -> Iterator[list[str] | bytes | _CloseFrame]:
    """``frames`` in order, consecutive text frames gathered into lists (sent as one write)."""
    texts: list[str] = []
    for frame in frames:
        if isinstance(frame, str):
            texts.append(frame)
            continue
        if texts:
            yield texts
            texts = []
        yield frame
    if texts:
        yield texts


async def _send_later(connection: ClientConnection, frame: bytes, seconds: float) -> None:
    await trio.sleep(seconds)
    await connection.send(frame)


def _remote_ip(ws: trio_websocket.WebSocketConnection | trio_websocket.WebSocketRequest) -> str:
    remote = ws.remote
    return str(remote.address) if isinstance(remote, trio_websocket.Endpoint) else str(remote)


def _json_id(request_id: RequestId) -> str:
    return (
        "null"
        if request_id is None
        else f'"{request_id}"'
        if isinstance(request_id, str)
        else str(request_id)
    )


def _query_flag(path: str, name: str, *, default: bool) -> bool:
    values = parse_qs(urlsplit(path).query).get(name)
    return default if not values else values[-1].lower() != "false"


def _pop_flag(params: dict[str, Any], name: str, default: bool) -> bool:
    value = params.pop(name, None)
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.lower() != "false"
    return default


def _account_of(request: Request) -> str:
    if request.account is None:  # unreachable for signed methods; kept for a clear failure
        raise ExchangeError(401, -2015, "Invalid API-key, IP, or permissions for action.")
    return request.account


def _account_handler(handle: Callable[[str, Mapping[str, Any], int], Outcome]) -> Handler:
    """Adapt a trading handler ``(account, params, now_ms)`` to a server handler."""

    def handler(request: Request) -> Outcome:
        return handle(_account_of(request), request.params, request.now_ms)

    return handler


def _as_outcome(value: Any) -> Outcome:
    return value if isinstance(value, Outcome) else Outcome(value)


def _new_ed25519_pem() -> str:
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
