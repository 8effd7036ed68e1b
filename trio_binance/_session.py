"""A session: one WebSocket API connection, owned by a nursery, shared by any number of callers.

Two tasks run for the life of the connection:

* the **send task** takes requests from a bounded channel, stamps them (timestamp and
  signature are computed here, just before the frame is written, never earlier) and writes
  them;
* the **receive task** reads frames, decodes each once and routes it: a response to the one
  caller waiting for its id, a user-data event to its subscription. It never waits on a
  caller or a subscriber, so it is always there to read and pongs are never held up.

Every request learns its fate: its response, an error from the exchange, or -- when the
connection ends -- ``SessionClosed`` if it was never written (safe to retry) or
``ResponseLost`` if it was (outcome unknown). A caller cancelled while waiting leaves nothing
behind; its reply, if it comes, is dropped and logged at debug level.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload
from urllib.parse import parse_qs, urlsplit

import msgspec
import trio

from trio_binance._api import ApiMethods
from trio_binance._auth import DEFAULT_RECV_WINDOW, RequestSigner
from trio_binance._clock import ClockSample, ExchangeClock, WallClock
from trio_binance._credentials import Credentials
from trio_binance._exceptions import (
    ApiError,
    BinanceError,
    NotSent,
    OutcomeUnknown,
    ProtocolError,
    ResponseLost,
    SessionClosed,
    Unauthorized,
    api_error,
)
from trio_binance._nursery import background_nursery
from trio_binance._params import WireParams, canonical_params
from trio_binance._protocol import (
    BadFrame,
    ConnectionEvent,
    ErrorResponse,
    Frame,
    FrameDecoder,
    InFlight,
    RequestEncoder,
    ResultResponse,
    UserDataFrame,
    decode_rate_limits,
    decode_result,
    reports_rate_limits,
)
from trio_binance._transport import (
    DEFAULT_CLOSE_TIMEOUT,
    Connection,
    Transport,
    TransportClosed,
    TransportName,
    resolve_transport,
)
from trio_binance._user_data import UserDataMixin
from trio_binance.models import RateLimit, ServerTime, SessionStatus

if TYPE_CHECKING:
    from trio_binance._reconcile import Reconciliation

T = TypeVar("T")

logger = logging.getLogger("trio_binance.session")

PRODUCTION = "wss://ws-api.binance.com:443/ws-api/v3"
TESTNET = "wss://ws-api.testnet.binance.vision/ws-api/v3"

# Requests queued for the send task. A full queue makes callers wait: backpressure, not loss.
DEFAULT_SEND_QUEUE_SIZE = 256
# Requests written together at most, when callers queue them faster than they go out.
MAX_SEND_BATCH = 64
# ... and for at most this long (seconds) between rendering the first and writing them all.
MAX_SEND_BATCH_DELAY = 0.001
# Requests awaiting a response at once; more callers wait for a slot.
DEFAULT_MAX_IN_FLIGHT = 10_000
# How often the exchange clock is re-measured, in seconds.
DEFAULT_CLOCK_REFRESH = 600.0
INVALID_TIMESTAMP = -1021
_SESSION_AUTH = frozenset({"session.logon", "session.logout"})


class Signer(Protocol):
    """Adds ``timestamp``, ``apiKey`` and ``signature`` to a signed request's parameters."""

    def stamp(self, method: str, params: WireParams) -> WireParams: ...


class Governor(Protocol):
    """Paces requests to stay within the exchange's rate limits (see ``_governor``)."""

    async def acquire(self, method: str, params: WireParams) -> None:
        """Wait until ``method`` may be sent (or raise if the policy is to fail fast)."""

    def observe(
        self, method: str, params: WireParams, response: ResultResponse | ErrorResponse
    ) -> None:
        """Learn from a response, in the order responses arrive: its ``rateLimits``, a
        429's or 418's ``retryAfter``. Called as the response is routed: must not block."""


class SessionStatistics(msgspec.Struct, frozen=True, gc=False):
    """A snapshot of a session, from :meth:`Session.statistics`."""

    in_flight: int
    """Requests sent or queued, still waiting for their response."""
    queued: int
    """Requests queued for the send task, not written yet."""
    requests_sent: int
    frames_received: int
    protocol_errors: int
    """Frames that could not be understood (each was logged)."""
    late_replies: int
    """Responses to requests whose caller had gone (cancelled); dropped."""
    subscriptions: int
    rate_limits: tuple[RateLimit, ...]
    """The ``rateLimits`` of the latest response that had them."""
    closed: bool


class _Call:
    """One request, from the caller's ``request()`` to its outcome; a one-shot slot.

    Its one waiter is woken directly (``trio.lowlevel``), not through a ``trio.Event``: this
    is on every request's path, and an Event's parking lot is machinery for many waiters.
    """

    __slots__ = ("abandoned", "id", "method", "outcome", "params", "signed", "waiter", "written")

    def __init__(self, request_id: int, method: str, params: WireParams, signed: bool) -> None:
        self.id = request_id
        self.method = method
        self.params = params
        self.signed = signed
        self.written = False
        self.abandoned = False
        self.outcome: ResultResponse | ErrorResponse | BaseException | None = None
        self.waiter: trio.lowlevel.Task | None = None

    def resolve(self, outcome: ResultResponse | ErrorResponse | BaseException) -> None:
        if self.outcome is None:
            self.outcome = outcome
            if self.waiter is not None:
                trio.lowlevel.reschedule(self.waiter)
                self.waiter = None

    async def wait(self) -> None:
        """Until :meth:`resolve`; a checkpoint either way, cancellable while it waits."""
        if self.outcome is not None:
            await trio.lowlevel.checkpoint()
            return
        self.waiter = trio.lowlevel.current_task()

        def abort(_: object) -> trio.lowlevel.Abort:
            self.waiter = None
            return trio.lowlevel.Abort.SUCCEEDED

        await trio.lowlevel.wait_task_rescheduled(abort)


class Session(ApiMethods, UserDataMixin):
    """A connection to the WebSocket API. Create it with :func:`connect`."""

    def __init__(
        self,
        connection: Connection,
        *,
        url: str,
        signer: Signer | None = None,
        clock: ExchangeClock | None = None,
        governor: Governor | None = None,
        send_queue_size: int = DEFAULT_SEND_QUEUE_SIZE,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
    ) -> None:
        self.url = url
        self._connection = connection
        self._signer = signer
        self._clock = clock or ExchangeClock()
        self._governor = governor
        self._close_timeout = close_timeout
        self._encoder = RequestEncoder()
        self._decoder = FrameDecoder()
        self._in_flight: InFlight[_Call] = InFlight()
        self._max_in_flight = max_in_flight
        self._slot_freed = trio.lowlevel.ParkingLot()
        self._outgoing, self._to_send = trio.open_memory_channel[_Call](send_queue_size)
        self._subscriptions: dict[int, Callable[[msgspec.Raw], None]] = {}
        self._connection_event_handlers: list[Callable[[ConnectionEvent], None]] = []
        self._close_handlers: list[Callable[[BaseException | None], None]] = []
        self._send_scope = trio.CancelScope()
        self._closed = False
        self._connection_closed = False
        self._close_reason: BaseException | None = None
        self._revoked: Unauthorized | None = None
        self._closed_event = trio.Event()
        self._requests_sent = 0
        self._frames_received = 0
        self._protocol_errors = 0
        self._late_replies = 0
        # The latest rateLimits, kept undecoded until statistics() asks (see _protocol).
        self._raw_rate_limits = msgspec.Raw()
        self._rate_limits: tuple[RateLimit, ...] = ()
        self._rate_limits_from = self._raw_rate_limits

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<Session {state} {self.url} in_flight={len(self._in_flight)}>"

    # --- the caller's side ---------------------------------------------------------------

    @overload
    async def request(
        self,
        method: str,
        params: Mapping[str, object] | None = None,
        *,
        result_type: type[T],
        signed: bool = False,
    ) -> T: ...

    @overload
    async def request(
        self,
        method: str,
        params: Mapping[str, object] | None = None,
        *,
        result_type: Any = ...,
        signed: bool = False,
    ) -> Any: ...

    async def request(
        self,
        method: str,
        params: Mapping[str, object] | None = None,
        *,
        result_type: Any = Any,
        signed: bool = False,
    ) -> Any:
        """Send one request and return its result decoded into ``result_type``.

        This is the escape hatch under every typed method: any method the exchange knows can
        be called, e.g. ``await session.request("time", result_type=ServerTime)``. Without
        ``result_type`` the result comes back as plain Python values. ``signed=True`` adds
        ``timestamp``, ``apiKey`` and ``signature`` at send time (needs credentials).

        Bound the wait with ``trio.fail_after``/``trio.move_on_after`` around the call.
        """
        wire = canonical_params(params)  # bad input fails here, before anything is sent
        try:
            result = await self._request_once(method, wire, result_type, signed)
        except ApiError as error:
            if not (signed and error.code == INVALID_TIMESTAMP and self._can_resync()):
                raise
            # -1021 is a rejection before execution ("Timing security"): re-measure the
            # clock and send once more; a second -1021 reaches the caller.
            logger.info("%s rejected with -1021; re-syncing the clock and retrying once", method)
            await self.sync_clock()
            result = await self._request_once(method, wire, result_type, signed)
        self._note_authentication(method)
        return result

    async def _request_once(
        self, method: str, wire: WireParams, result_type: Any, signed: bool
    ) -> Any:
        call = self._check_can_send(method, wire, signed)
        if self._governor is not None:
            await self._governor.acquire(method, wire)  # stamping happens later, at send time
        while len(self._in_flight) >= self._max_in_flight and not self._closed:
            await self._slot_freed.park()
        await self._enqueue(call)
        try:
            outcome = await self._wait(call)
        finally:
            if self._slot_freed:  # one waiting caller may go now
                self._slot_freed.unpark()
        return self._result(call, outcome, result_type)

    def _can_resync(self) -> bool:
        return isinstance(self._signer, RequestSigner) and not self._closed

    def _note_authentication(self, method: str) -> None:
        if isinstance(self._signer, RequestSigner) and method in _SESSION_AUTH:
            self._signer.logged_on = method == "session.logon"

    async def reconcile(self, error: OutcomeUnknown) -> Reconciliation:
        """Find out whether the request behind ``error`` was executed, never re-sending it.

        See :func:`trio_binance.reconcile`; bound the wait with ``trio.fail_after``.
        """
        from trio_binance._reconcile import reconcile  # builds on the session

        return await reconcile(self, error)

    # --- the exchange clock ----------------------------------------------------------------

    @property
    def recv_window(self) -> int | str | None:
        """The ``recvWindow`` signed requests carry (ms), or ``None`` without credentials."""
        return self._signer.recv_window if isinstance(self._signer, RequestSigner) else None

    @property
    def clock(self) -> ExchangeClock:
        """The session's estimate of the exchange clock (used for ``timestamp``)."""
        return self._clock

    async def sync_clock(self, samples: int = 3) -> None:
        """Measure the offset to the exchange clock with ``samples`` ``time`` requests."""
        taken = []
        for _ in range(samples):
            sent_at = self._clock.wall_clock()
            reply = await self._request_once("time", {}, ServerTime, signed=False)
            received_at = self._clock.wall_clock()
            server_ms = reply.server_time // 1000 if self._clock.microseconds else reply.server_time
            taken.append(ClockSample(sent_at, server_ms, received_at))
        self._clock.update(taken)
        logger.debug("exchange clock offset %.1f ms", self._clock.offset_ms)

    async def _keep_clock_synced(self, interval: float) -> None:
        """Background task: re-measure the clock every ``interval`` seconds; never raises."""
        while True:
            await trio.sleep(interval)
            try:
                await self.sync_clock()
            except BinanceError as exc:
                if self._closed:
                    return
                logger.warning("clock re-sync failed: %s", exc)

    def _check_can_send(self, method: str, params: WireParams, signed: bool) -> _Call:
        if self._closed:
            raise self._closed_error(method)
        if signed and self._revoked is not None:
            raise self._revoked
        if signed and self._signer is None:
            raise NotSent(f"{method} is signed, but the session has no credentials", method=method)
        return _Call(self._encoder.next_id(), method, params, signed)

    async def _enqueue(self, call: _Call) -> None:
        # Registered before it is queued: the send task may write it, and its reply arrive,
        # before this task runs again.
        self._in_flight.add(call.id, call)
        try:  # the common case: room in the queue, no need to give up the CPU here
            self._outgoing.send_nowait(call)
            return
        except trio.WouldBlock:
            pass
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self._in_flight.discard(call.id)
            raise self._closed_error(call.method) from None
        queued = False
        try:
            await self._outgoing.send(call)
            queued = True
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise self._closed_error(call.method) from None
        finally:
            if not queued:  # cancelled or closed while waiting for room: never sent
                self._in_flight.discard(call.id)

    async def _wait(self, call: _Call) -> ResultResponse | ErrorResponse | BaseException:
        try:
            await call.wait()
        finally:
            if call.outcome is None:
                self._abandon(call)
        assert call.outcome is not None
        return call.outcome

    def _abandon(self, call: _Call) -> None:
        """The caller has gone: forget the call; the send task skips it if not yet written."""
        call.abandoned = True
        self._in_flight.discard(call.id)
        if call.written:
            logger.debug("caller of %s (id %s) left before its reply", call.method, call.id)

    def _result(
        self, call: _Call, outcome: ResultResponse | ErrorResponse | BaseException, result_type: Any
    ) -> Any:
        if isinstance(outcome, BaseException):
            raise outcome
        if isinstance(outcome, ErrorResponse):
            error = outcome.error
            raise api_error(
                outcome.status,
                error.code,
                error.msg,
                data=error.decoded_data(),
                rate_limits=outcome.rate_limits,
                method=call.method,
                params=call.params,
            )
        try:
            return decode_result(outcome.result, result_type)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise ProtocolError(f"{call.method}: result does not decode: {exc}") from None

    # --- the send task -------------------------------------------------------------------

    async def _send_loop(self) -> None:
        with self._send_scope:
            while True:
                call = await self._next_to_send()
                if call is None:
                    return
                frames = self._ready_frames(call)
                if not frames:
                    continue
                try:
                    await self._connection.send_batch(frames)
                except TransportClosed as exc:
                    self._connection_lost(exc)
                    return
                self._requests_sent += len(frames)

    def _ready_frames(self, first: _Call) -> list[bytes]:
        """``first`` and the requests queued behind it, rendered: one write for them all.

        Under load many requests wait in the queue; writing them together costs one pass
        through the transport (and, where it allows, one system call) instead of one each.
        """
        frames: list[bytes] = []
        call = first
        # Rendering signs; slow signatures (RSA) must not hold the first frame back for long.
        until = trio.current_time() + MAX_SEND_BATCH_DELAY
        while True:
            frame = self._frame_to_write(call)
            if frame is not None:
                frames.append(frame)
                if len(frames) == MAX_SEND_BATCH or trio.current_time() > until:
                    return frames
            try:
                call = self._to_send.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                return frames

    def _frame_to_write(self, call: _Call) -> bytes | None:
        """The frame of ``call``, stamped now; ``None`` if its caller left or it cannot be."""
        if call.abandoned or call.outcome is not None:
            return None
        try:
            frame = self._render(call)
        except BinanceError as exc:
            self._in_flight.discard(call.id)
            call.resolve(exc)
            return None
        call.written = True  # from here on, the exchange may have seen it
        return frame

    async def _next_to_send(self) -> _Call | None:
        """The next queued request, or ``None`` once the queue is closed.

        A request already queued is taken without a checkpoint: the write that follows is one,
        so under load this saves a trip through the scheduler per request.
        """
        try:
            try:
                return self._to_send.receive_nowait()
            except trio.WouldBlock:
                return await self._to_send.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):  # the session is shutting
            return None

    def _render(self, call: _Call) -> bytes:
        params = call.params
        if call.signed:
            assert self._signer is not None
            params = self._signer.stamp(call.method, params)
        return self._encoder.encode(call.id, call.method, params)

    # --- the receive task ----------------------------------------------------------------

    async def _receive_loop(self, *, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        try:
            await self._connection.deliver(self._take_frame)
        except TransportClosed as exc:
            self._connection_lost(exc)

    def _take_frame(self, data: str | bytes) -> None:
        """One message, decoded and routed; called by the transport, perhaps from its own
        reader task, so it never blocks."""
        self._frames_received += 1
        self._route(self._decoder.decode(data))

    def _route(self, frame: Frame) -> None:
        if isinstance(frame, ResultResponse | ErrorResponse):
            self._route_response(frame)
        elif isinstance(frame, UserDataFrame):
            self._route_event(frame)
        elif isinstance(frame, ConnectionEvent):
            self._route_connection_event(frame)
        else:
            self._route_bad_frame(frame)

    def _route_response(self, frame: ResultResponse | ErrorResponse) -> None:
        if reports_rate_limits(frame.raw_rate_limits):
            self._raw_rate_limits = frame.raw_rate_limits.copy()  # not the whole frame
        call = self._in_flight.pop(frame.request_id)
        if call is not None:
            if self._governor is not None:
                # Here, in the order responses arrive: an ORDERS count replaces the last one,
                # so learning from them in the order callers wake up could go backwards.
                self._governor.observe(call.method, call.params, frame)
            call.resolve(frame)
        elif isinstance(frame, ErrorResponse) and frame.request_id is None:
            self._session_error(frame)
        else:
            self._late_replies += 1
            logger.debug("dropped a reply to request %r: no caller waits for it", frame.request_id)

    def _session_error(self, frame: ErrorResponse) -> None:
        """An error that answers no request (``"id": null``), e.g. 401 after a key revocation."""
        error = api_error(
            frame.status,
            frame.error.code,
            frame.error.msg,
            data=frame.error.decoded_data(),
            rate_limits=frame.rate_limits,
        )
        if isinstance(error, Unauthorized):
            self._revoked = error
        logger.warning("session-wide error from the exchange: %s", error)

    def _route_event(self, frame: UserDataFrame) -> None:
        sink = self._subscriptions.get(frame.subscription_id)
        if sink is not None:
            sink(frame.event)
        elif not self._hold_unclaimed_event(frame.subscription_id, frame.event):
            logger.debug("event for unknown subscription %s dropped", frame.subscription_id)

    def _route_connection_event(self, frame: ConnectionEvent) -> None:
        logger.info("connection event from the exchange: %s", frame.event_type)
        for handler in self._connection_event_handlers:
            handler(frame)

    def _route_bad_frame(self, frame: BadFrame) -> None:
        self._protocol_errors += 1
        logger.warning("protocol error: %s", frame.reason)
        call = self._in_flight.pop(frame.request_id) if frame.request_id is not None else None
        if call is not None:
            call.resolve(ProtocolError(f"{call.method}: malformed response: {frame.reason}"))

    # --- hooks for the services built on a session -------------------------------------

    def add_subscription(self, subscription_id: int, sink: Callable[[msgspec.Raw], None]) -> None:
        """Route events of ``subscription_id`` to ``sink``, which must never block."""
        self._subscriptions[subscription_id] = sink

    def remove_subscription(self, subscription_id: int) -> None:
        self._subscriptions.pop(subscription_id, None)

    def on_connection_event(self, handler: Callable[[ConnectionEvent], None]) -> None:
        """Call ``handler`` (which must never block) for each connection event."""
        self._connection_event_handlers.append(handler)

    def on_close(self, handler: Callable[[BaseException | None], None]) -> None:
        """Call ``handler`` (which must never block) once, with the close reason, at the end."""
        self._close_handlers.append(handler)

    # --- the end of a session ------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def close_reason(self) -> BaseException | None:
        """Why the connection ended (``None`` while open or after a normal close)."""
        return self._close_reason

    @property
    def last_received(self) -> float | None:
        """``trio.current_time()`` when the connection last received anything, pings
        included (``None`` if its transport cannot tell): what a dead-link detector needs."""
        last = getattr(self._connection, "last_received", None)
        return last if isinstance(last, float) else None

    async def abort(self, reason: BaseException) -> None:
        """Drop the connection at once, with no close handshake, as if it had been lost:
        requests still waiting fail with ``reason`` (``ResponseLost`` once written)."""
        self._shut(reason)
        if self._connection_closed:
            return
        self._connection_closed = True
        with trio.move_on_after(self._close_timeout, shield=True):
            await self._connection.abort()

    async def wait_closed(self) -> None:
        """Return once the session is closed, for whatever reason."""
        await self._closed_event.wait()

    def _connection_lost(self, exc: TransportClosed) -> None:
        logger.info("connection to %s lost: %s", self.url, exc.describe())
        self._shut(exc)

    def _shut(self, reason: BaseException | None) -> None:
        """Mark the session closed and give every request still waiting its outcome."""
        if self._closed:
            return
        self._closed = True
        self._close_reason = reason
        self._send_scope.cancel()
        self._to_send.close()  # callers waiting for room in the queue fail at once
        for call in self._in_flight.pop_all():
            call.resolve(self._lost_error(call, reason))
        for handler in self._close_handlers:
            handler(reason)
        self._slot_freed.unpark_all()  # callers waiting for a slot learn the session closed
        self._closed_event.set()

    def _lost_error(self, call: _Call, reason: BaseException | None) -> BinanceError:
        if not call.written:
            return self._closed_error(call.method)
        text = reason.describe() if isinstance(reason, TransportClosed) else "session closed"
        return ResponseLost(
            f"{call.method}: {text} after the request was sent; its outcome is unknown",
            method=call.method,
            params=call.params,
            reason=reason,
        )

    def _closed_error(self, method: str) -> SessionClosed:
        reason = self._close_reason
        why = reason.describe() if isinstance(reason, TransportClosed) else "session closed"
        return SessionClosed(f"{method} not sent: {why}", method=method, reason=reason)

    async def aclose(self) -> None:
        """Close the session: fail what still waits, then close the connection. Idempotent."""
        self._shut(None)
        if self._connection_closed:
            return
        self._connection_closed = True
        # Cancelled from outside, the transport's reader is being cancelled too, so the peer's
        # half of a close handshake would never be read: drop the connection instead.
        cancelled = trio.current_effective_deadline() == -math.inf
        with trio.move_on_after(self._close_timeout, shield=True):
            if cancelled:
                await self._connection.abort()
            else:
                await self._connection.aclose()

    def _latest_rate_limits(self) -> tuple[RateLimit, ...]:
        """The latest well-formed ``rateLimits``, decoded once however often it is asked for."""
        raw = self._raw_rate_limits
        if raw is not self._rate_limits_from:
            self._rate_limits_from = raw
            decoded = decode_rate_limits(raw)  # a malformed array is logged and skipped
            if decoded:
                self._rate_limits = tuple(decoded)
        return self._rate_limits

    def statistics(self) -> SessionStatistics:
        return SessionStatistics(
            in_flight=len(self._in_flight),
            queued=self._outgoing.statistics().current_buffer_used,
            requests_sent=self._requests_sent,
            frames_received=self._frames_received,
            protocol_errors=self._protocol_errors,
            late_replies=self._late_replies,
            subscriptions=len(self._subscriptions),
            rate_limits=self._latest_rate_limits(),
            closed=self._closed,
        )


@asynccontextmanager
async def connect(
    url: str = PRODUCTION,
    *,
    credentials: Credentials | None = None,
    logon: bool | None = None,
    recv_window: int | Decimal | str = DEFAULT_RECV_WINDOW,
    transport: Transport | TransportName | None = None,
    signer: Signer | None = None,
    governor: Governor | None = None,
    wall_clock: WallClock = time.time,
    clock_refresh: float | None = DEFAULT_CLOCK_REFRESH,
    send_queue_size: int = DEFAULT_SEND_QUEUE_SIZE,
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
) -> AsyncIterator[Session]:
    """Open a session to ``url``; it is closed when the block ends.

    ``async with trio_binance.connect(url, credentials=creds) as session:``. A failed
    handshake raises ``ConnectFailed`` before the body runs.

    With ``credentials``, the session measures the exchange clock, keeps it measured every
    ``clock_refresh`` seconds, and signs requests that need it at send time. ``logon``
    (default: whenever the key type allows it, i.e. Ed25519) authenticates the connection
    with ``session.logon`` first, so later requests carry no key or signature.
    ``recv_window`` is sent with signed requests (milliseconds, up to three decimals).
    ``signer`` replaces the built-in signing entirely (for tests and exotic setups).
    ``governor`` paces requests within the exchange's rate limits; one governor may be
    shared by every session of the same IP and account.
    ``transport`` carries the frames: ``"trio-websocket"`` (the default), ``"websockets"``
    (the fast one, with the ``fast`` extra installed), or a transport instance with settings
    of its own, e.g. ``WebsocketsTransport(ssl_context=...)``.
    """
    opener = resolve_transport(transport)
    clock = ExchangeClock(wall_clock, microseconds=_asks_for_microseconds(url))
    if credentials is not None and signer is None:
        signer = RequestSigner(credentials, clock, recv_window=recv_window)
    if logon is None:
        logon = credentials is not None and credentials.supports_logon
    async with background_nursery() as nursery:
        if governor is not None and hasattr(governor, "acquire_connection"):
            await governor.acquire_connection()  # connecting costs weight too ("IP limits")
        connection = await opener.open(nursery, url)
        session = Session(
            connection,
            url=url,
            signer=signer,
            clock=clock,
            governor=governor,
            send_queue_size=send_queue_size,
            max_in_flight=max_in_flight,
            close_timeout=close_timeout,
        )
        await nursery.start(session._receive_loop)
        nursery.start_soon(session._send_loop)
        try:
            if credentials is not None:
                await session.sync_clock()
                if clock_refresh:
                    nursery.start_soon(session._keep_clock_synced, clock_refresh)
            if logon:
                await session.request("session.logon", result_type=SessionStatus, signed=True)
            yield session
        finally:
            await session.aclose()


def _asks_for_microseconds(url: str) -> bool:
    """Whether ``url`` asks for timestamps in microseconds (``timeUnit=MICROSECOND``)."""
    values = parse_qs(urlsplit(url).query).get("timeUnit", [])
    return any(value.upper() == "MICROSECOND" for value in values)


__all__ = ["PRODUCTION", "TESTNET", "Session", "SessionStatistics", "connect"]
