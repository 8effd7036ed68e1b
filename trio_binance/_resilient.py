"""A session that outlives its connections: reconnects, rotates before the 24 h cut, loses no
user data it cannot tell you about.

``async with trio_binance.connect_resilient(url, credentials=creds) as session:`` gives a
:class:`ResilientSession` with every typed method of :class:`~trio_binance.Session`. A
supervisor task owns the connections (each one made by :func:`~trio_binance.connect`, so it is
logged on and clock-synced the same way) and replaces them:

* **unplanned drops** (a lost connection, a close by the exchange, a dead link: nothing at all
  received -- no frame, no ping -- for ``dead_after`` seconds) -> reconnect with the
  :class:`~trio_binance.ReconnectPolicy`'s full-jitter backoff, waiting out a 418/429's
  ``retryAfter`` instead of knocking again, then log on and re-subscribe every user-data
  stream before announcing ``READY``;
* **planned rotations** (the connection reaches ``rotate_after`` seconds -- Binance cuts at
  24 h -- or the exchange sends ``serverShutdown``, or the application calls
  :meth:`ResilientSession.rotate` at a time it prefers): make before break -- open and log on
  a new connection, subscribe every stream there, switch new requests to it, unsubscribe the
  old subscriptions, let the old connection's requests finish (up to ``drain_timeout``), close
  it. (web-socket-api.md, "General API Information": 24 h validity, ``serverShutdown``.)

User data: each :meth:`ResilientSession.user_data` stream is a chain of subscriptions, one per
connection. Their events are joined by :mod:`trio_binance._dedup` (exactly once, in order);
where continuity cannot be proven, the stream yields a :class:`~trio_binance.UserDataGap`
item, and :meth:`ResilientSession.catch_up` fetches the state to rebuild from.

Requests go to the live connection. While there is none, they wait (bounded by the caller's
own ``trio.fail_after``), or with ``when_reconnecting="fail"`` raise ``SessionClosed`` at once.
A request in flight when its connection drops fails at once as in the core: ``SessionClosed``
if it was not written, ``ResponseLost`` if it was. Nothing is ever re-sent behind your back.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar, overload

import msgspec
import trio

from trio_binance._api import ApiMethods
from trio_binance._clock import ExchangeClock
from trio_binance._credentials import Credentials
from trio_binance._exceptions import (
    BinanceError,
    ConnectFailed,
    OutcomeUnknown,
    RateLimited,
    SessionClosed,
)
from trio_binance._gap import CatchUp, UserDataGap, catch_up
from trio_binance._nursery import background_nursery
from trio_binance._protocol import ConnectionEvent
from trio_binance._reconnect import (
    ConnectionState,
    GaveUp,
    ReconnectPolicy,
    StateBroadcast,
    StateChange,
)
from trio_binance._resilient_streams import ResilientUserDataStream, StreamTotals
from trio_binance._session import PRODUCTION, Session, SessionStatistics, connect
from trio_binance._transport import DEFAULT_CLOSE_TIMEOUT, TransportClosed
from trio_binance._user_data import (
    DEFAULT_BUFFER_SIZE,
    SUBSCRIBE,
    UNSUBSCRIBE,
    UserDataStreamLost,
)
from trio_binance.models import Empty

if TYPE_CHECKING:
    from trio_binance._reconcile import Reconciliation

T = TypeVar("T")

logger = logging.getLogger("trio_binance.resilient")

# Binance cuts every connection at 24 h; rotate a quarter of an hour before.
DEFAULT_ROTATE_AFTER: Final = 24 * 3600.0 - 15 * 60.0
# Binance pings every 20 s: two missed pings and then some mean the link is dead.
DEFAULT_DEAD_AFTER: Final = 50.0
# How long an old connection may keep answering its requests after a rotation.
DEFAULT_DRAIN_TIMEOUT: Final = 10.0
# A connection that lived less than this did not reset the backoff (no reconnect storm
# against a server that accepts and drops at once).
DEFAULT_STABLE_AFTER: Final = 30.0
# Opening a connection (handshake, clock sync, logon) or subscribing on it must not take
# longer: an exchange that accepts and then says nothing is as good as down.
DEFAULT_OPEN_TIMEOUT: Final = 30.0
_DRAIN_POLL: Final = 0.05


class DeadLink(TransportClosed):
    """Nothing at all -- no frame, no ping -- arrived for ``silent_for`` seconds."""

    def __init__(self, silent_for: float) -> None:
        self.silent_for = silent_for
        super().__init__(None, None)

    def describe(self) -> str:
        return f"dead link: nothing received for {self.silent_for:.0f} s"


class ResilientStatistics(msgspec.Struct, frozen=True, gc=False):
    """A snapshot of a resilient session, from :meth:`ResilientSession.statistics`."""

    state: ConnectionState
    connections_opened: int
    failed_attempts: int
    """Connection attempts that failed (refused, timed out, logon failed...)."""
    reconnects: int
    """Unplanned replacements (drops, dead links)."""
    rotations: int
    """Planned make-before-break replacements."""
    dead_links: int
    gaps: int
    """Gap markers given to user-data streams."""
    duplicates_dropped: int
    """User-data events seen on two connections during a rotation and delivered once."""
    session: SessionStatistics | None
    """The live connection's own statistics (``None`` while there is none)."""


class _Rotation:
    """What callers of :meth:`ResilientSession.rotate` wait for: the next replacement, or the
    end of the session (then ``closed`` says so)."""

    def __init__(self) -> None:
        self.done = trio.Event()
        self.closed = False


# --- one connection --------------------------------------------------------------------------


class _Link:
    """One connection of the chain, and why it must be replaced once that is known."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.session: Session | None = None
        self.opened_at = 0.0
        self.release = trio.Event()
        """Set by the supervisor: close this connection (gracefully)."""
        self.ended = trio.Event()
        self.trouble = trio.Event()
        self.trouble_reason = ""
        self.planned = True

    def __repr__(self) -> str:
        return f"<_Link {self.number}>"

    @property
    def alive(self) -> bool:
        return self.session is not None and not self.session.closed

    def report(self, reason: str, *, planned: bool) -> None:
        """This connection must be replaced: planned (it still serves) or not (it is gone)."""
        if self.trouble.is_set():
            if not planned and self.planned:  # a planned rotation whose connection then died
                self.planned = False
                self.trouble_reason = reason
            return
        self.planned = planned
        self.trouble_reason = reason
        self.trouble.set()


# --- the session ------------------------------------------------------------------------------


class ResilientSession(ApiMethods):
    """A session that replaces its connection as needed. Create it with
    :func:`connect_resilient`."""

    def __init__(
        self,
        url: str,
        *,
        credentials: Credentials | None,
        policy: ReconnectPolicy,
        rotate_after: float | None,
        dead_after: float | None,
        when_reconnecting: Literal["wait", "fail"],
        drain_timeout: float,
        stable_after: float,
        open_timeout: float,
        close_timeout: float,
        connect_options: Mapping[str, Any],
    ) -> None:
        self.open_timeout = open_timeout
        self.url = url
        self.policy = policy
        self.rotate_after = rotate_after
        self.dead_after = dead_after
        self.when_reconnecting = when_reconnecting
        self.drain_timeout = drain_timeout
        self.stable_after = stable_after
        self._credentials = credentials
        self._close_timeout = close_timeout
        self._connect_options = dict(connect_options)
        self._states = StateBroadcast(
            StateChange(
                ConnectionState.CONNECTING, "opening the first connection", trio.current_time()
            )
        )
        self._current: _Link | None = None
        self._last_session: Session | None = None
        self._refused: str | None = None
        self._changed = trio.Event()
        self._streams: set[ResilientUserDataStream] = set()
        self._lock = trio.Lock()  # subscribing vs. re-subscribing on a new connection
        self._closed = False
        self._close_reason: BaseException | None = None
        self._refused_until = -math.inf
        self._links = 0
        self._last_link_lifetime = math.inf
        self._carried_failures = 0
        self._rotation = _Rotation()
        self._nursery: trio.Nursery | None = None
        self._connections_opened = 0
        self._failed_attempts = 0
        self._reconnects = 0
        self._rotations = 0
        self._dead_links = 0
        self._totals = StreamTotals(self._resubscribe_soon)

    def __repr__(self) -> str:
        return f"<ResilientSession {self.state.state.value} {self.url}>"

    # --- what the application sees -----------------------------------------------------------

    @property
    def state(self) -> StateChange:
        """The latest state change (``ConnectionState`` plus its reason)."""
        return self._states.current

    def states(self) -> AbstractAsyncContextManager[AsyncIterator[StateChange]]:
        """``async with session.states() as changes: async for change in changes:`` -- the
        current state, then every change (a watcher that falls behind skips to the latest;
        iteration ends after ``CLOSED``)."""
        return self._states.watch()

    @property
    def current(self) -> Session | None:
        """The connection serving requests now (``None`` while reconnecting)."""
        link = self._current
        return link.session if link is not None and link.alive else None

    @property
    def closed(self) -> bool:
        return self._closed

    def statistics(self) -> ResilientStatistics:
        session = self.current
        return ResilientStatistics(
            state=self.state.state,
            connections_opened=self._connections_opened,
            failed_attempts=self._failed_attempts,
            reconnects=self._reconnects,
            rotations=self._rotations,
            dead_links=self._dead_links,
            gaps=self._totals.gaps,
            duplicates_dropped=self._totals.duplicates,
            session=session.statistics() if session is not None else None,
        )

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
        """:meth:`Session.request` on the live connection (waiting for one if needed)."""
        session = await self._live_session(method)
        try:
            return await session.request(method, params, result_type=result_type, signed=signed)
        except RateLimited as error:
            self._note_refusal(error.status, error.data)
            raise

    @property
    def clock(self) -> ExchangeClock:
        """The exchange clock as the latest connection measured it."""
        return self._latest_session().clock

    @property
    def recv_window(self) -> int | str | None:
        """The ``recvWindow`` signed requests carry (ms), or ``None`` without credentials."""
        return self._latest_session().recv_window

    def _latest_session(self) -> Session:
        if self._last_session is None:  # pragma: no cover  (the body runs after a connection)
            raise SessionClosed("no connection was ever made")
        return self._last_session

    async def reconcile(self, error: OutcomeUnknown) -> Reconciliation:
        """:func:`trio_binance.reconcile` through this session: its queries go to whichever
        connection is live (waiting for one per ``when_reconnecting``)."""
        from trio_binance._reconcile import reconcile  # builds on the session

        return await reconcile(self, error)  # type: ignore[arg-type]  # same surface as Session

    async def catch_up(
        self, gap: UserDataGap | None = None, *, symbols: Sequence[str] = ()
    ) -> CatchUp:
        """After a :class:`~trio_binance.UserDataGap`: balances, open orders and the trades on
        ``symbols`` since the gap (see :func:`trio_binance.catch_up`)."""
        return await catch_up(self, gap, symbols=symbols)

    async def rotate(self, reason: str = "requested by the application") -> None:
        """Replace the connection now, make before break (e.g. at a quiet hour of your
        choosing, ahead of the 24 h cut); returns once the new connection serves.

        Raises ``SessionClosed`` (its ``reason`` the session's: ``GaveUp``, or ``None`` when
        the application closed it) if the session closes first, before or while it waits.
        """
        while True:
            link = self._current
            if self._closed:
                raise SessionClosed("rotate: the session is closed", reason=self._close_reason)
            if link is not None:
                break
            await self._changed.wait()
        rotation = self._rotation
        link.report(reason, planned=True)
        await rotation.done.wait()
        if rotation.closed:
            raise SessionClosed(
                "rotate: the session closed before a new connection served",
                reason=self._close_reason,
            )

    @asynccontextmanager
    async def user_data(
        self, *, credentials: Credentials | None = None, buffer_size: int = DEFAULT_BUFFER_SIZE
    ) -> AsyncIterator[ResilientUserDataStream]:
        """Like :meth:`Session.user_data`, but the stream survives reconnects and rotations.

        It is subscribed on every new connection before that connection is announced
        ``READY``; events are delivered exactly once, in order, with a
        :class:`~trio_binance.UserDataGap` item wherever continuity cannot be proven.
        """
        if isinstance(buffer_size, bool) or not isinstance(buffer_size, int) or buffer_size < 1:
            from trio_binance._exceptions import InvalidParameter

            raise InvalidParameter("buffer_size", "must be an int of at least 1")
        stream = ResilientUserDataStream(self._totals, credentials, buffer_size)
        await self._subscribe_first(stream)
        try:
            yield stream
        finally:
            self._streams.discard(stream)
            stream._leave()
            # Its subscriptions unsubscribe as they go (shielded, bounded): wait for that, so
            # the block ends with nothing of it left behind.
            with trio.move_on_after(self._close_timeout, shield=True):
                await stream._exited()

    # --- requests and subscriptions on the live connection -----------------------------------

    async def _live_session(self, method: str) -> Session:
        while True:
            link = self._current
            if link is not None and link.session is not None and not link.session.closed:
                return link.session
            if self._closed:
                raise SessionClosed(
                    f"{method} not sent: the resilient session is closed",
                    method=method,
                    reason=self._close_reason,
                )
            if self.when_reconnecting == "fail":
                raise SessionClosed(
                    f"{method} not sent: reconnecting ({self.state.reason})", method=method
                )
            await self._changed.wait()

    async def _subscribe_first(self, stream: ResilientUserDataStream) -> None:
        while True:
            session = await self._live_session(SUBSCRIBE)
            async with self._lock:
                if self.current is not session:
                    continue  # replaced while we waited for the lock
                try:
                    await self._attach(stream, session)
                except SessionClosed:
                    if session.closed:
                        continue  # lost meanwhile: the next connection will do
                    raise
                self._streams.add(stream)
                return

    def _resubscribe_soon(self, stream: ResilientUserDataStream) -> None:
        if self._nursery is not None and not self._closed:
            self._nursery.start_soon(self._resubscribe, stream)

    async def _resubscribe(self, stream: ResilientUserDataStream) -> None:
        """A stream's subscription ended on a connection that still serves: subscribe again
        there (a lost connection is left to the supervisor, which re-subscribes everything)."""
        async with self._lock:
            session = self.current
            if session is None or stream not in self._streams:
                return
            if not stream._needs_feed_on(session):
                return
            try:
                await self._attach(stream, session)
            except BinanceError as exc:
                if session.closed:
                    return  # the supervisor will re-subscribe on the next connection
                logger.warning("re-subscribing user data failed: %s", exc)
                self._streams.discard(stream)
                stream._fail(exc)
                self._publish(ConnectionState.DEGRADED, f"user data subscription refused: {exc}")

    async def _attach(self, stream: ResilientUserDataStream, session: Session) -> None:
        """Subscribe ``stream`` on ``session`` (with the lock held)."""
        assert self._nursery is not None
        feed = stream._new_feed()
        try:
            await self._nursery.start(stream._pump, feed, session)
        except BaseException:
            stream._abandon(feed)
            raise

    async def _attach_all(self, link: _Link) -> bool:
        """Subscribe every stream on ``link``; ``False`` if the connection was lost."""
        session = link.session
        assert session is not None
        degraded = False
        for stream in list(self._streams):
            if not stream._needs_feed_on(session):
                continue
            try:
                with trio.fail_after(self.open_timeout):
                    await self._attach(stream, session)
            except trio.TooSlowError:
                # Unanswered: no better than a lost connection (and its requests fail so).
                await session.abort(TransportClosed(None, "no reply to a subscribe"))
                return False
            except BinanceError as exc:
                if session.closed:
                    return False
                degraded = True
                logger.warning("re-subscribing user data failed: %s", exc)
                self._streams.discard(stream)
                stream._fail(exc)
        self._refused = "a user data subscription was refused" if degraded else None
        return True

    async def _detach_all(self, old: _Link) -> None:
        """Unsubscribe every stream's feed on the replaced connection ("Event Stream
        Terminated": the exchange ends it with ``eventStreamTerminated``)."""
        session = old.session
        if session is None or session.closed:
            return
        for stream in list(self._streams):
            feed = stream._feed_on(session)
            if feed is None or feed.ended.is_set() or feed.subscription_id is None:
                continue
            feed.detaching = True
            with trio.move_on_after(self._close_timeout):
                try:
                    await session.request(
                        UNSUBSCRIBE, {"subscriptionId": feed.subscription_id}, result_type=Empty
                    )
                except BinanceError as exc:
                    logger.info("unsubscribing the replaced connection failed: %s", exc)

    # --- the supervisor ----------------------------------------------------------------------

    async def _supervise(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        try:
            link = await self._open_link(first=True)
        except GaveUp as exc:
            self._close(exc, f"gave up: {exc}")
            raise
        self._set_current(link)
        self._publish(ConnectionState.READY, "connected")
        task_status.started()
        try:
            while True:
                await link.trouble.wait()
                if link.planned and link.alive:
                    link = await self._rotate(link)
                else:
                    link = await self._reconnect(link)
        except GaveUp as exc:
            self._close(exc, f"gave up: {exc}")

    async def _rotate(self, old: _Link) -> _Link:
        """Make before break: the new connection serves before the old one is closed."""
        why = old.trouble_reason
        self._publish(ConnectionState.ROTATING, f"rotating: {why}")
        new = await self._replacement(serving=old)
        if old.alive:
            self._rotations += 1
            self._announce(f"rotated ({why})")
        else:  # lost while its replacement was being opened
            self._reconnects += 1
            self._announce(f"reconnected ({old.trouble_reason})")
        self._finish_rotation(closed=False)
        await self._detach_all(old)
        await self._retire(old, drain=True)
        return new

    async def _reconnect(self, old: _Link) -> _Link:
        self._lost(old)
        await self._retire(old, drain=False)
        new = await self._replacement(serving=None)
        self._reconnects += 1
        self._announce(f"reconnected ({old.trouble_reason})")
        self._finish_rotation(closed=False)
        return new

    async def _replacement(self, *, serving: _Link | None) -> _Link:
        """A new connection with every stream subscribed on it, made the current one."""
        while True:
            new = await self._open_link(first=False, serving=serving)
            async with self._lock:
                attached = await self._attach_all(new)
                if attached:
                    self._set_current(new)
                    return new
                if new.session is not None:  # lost part way: no gap where the old one serves
                    for stream in self._streams:
                        stream._withdraw(new.session)
            await self._retire(new, drain=False)  # lost at once: try again

    def _finish_rotation(self, *, closed: bool) -> None:
        rotation, self._rotation = self._rotation, _Rotation()
        rotation.closed = closed
        rotation.done.set()

    def _lost(self, link: _Link) -> None:
        """``link`` can serve no more: requests wait for the next one."""
        if self._current is link and not self._closed:
            self._set_current(None)
            self._publish(ConnectionState.RECONNECTING, link.trouble_reason)

    async def _retire(self, link: _Link, *, drain: bool) -> None:
        """Close ``link``, after its in-flight requests are answered if ``drain``."""
        session = link.session
        if drain and session is not None:
            with trio.move_on_after(self.drain_timeout):
                # The session has no "idle" event; a few polls per rotation cost nothing.
                while not session.closed and session.statistics().in_flight:  # noqa: ASYNC110
                    await trio.sleep(_DRAIN_POLL)
        self._last_link_lifetime = trio.current_time() - link.opened_at
        link.release.set()

    async def _open_link(self, *, first: bool, serving: _Link | None = None) -> _Link:
        """A new connection, logged on; retries with the policy's backoff until it gives up.

        ``serving``: the connection still in use meanwhile (a rotation), if any.
        """
        delays = self.policy.delays()
        stable = first or self._last_link_lifetime >= self.stable_after
        failures = 0 if stable else self._carried_failures
        for _ in range(failures):  # a connection that did not last: back off further
            next(delays)
        started = trio.current_time()
        if not first and serving is None:
            await self._pause(next(delays))
        while True:
            await self._pause(self._refused_until - trio.current_time())
            link = _Link(self._links + 1)
            try:
                assert self._nursery is not None
                with trio.fail_after(self.open_timeout):  # handshake, clock sync and logon
                    await self._nursery.start(self._run_link, link)
            except (BinanceError, OSError, trio.TooSlowError) as exc:
                failures += 1
                self._failed_attempts += 1
                self._carried_failures = failures
                self._note_failure(exc)
                if serving is None or not serving.alive:  # never give up on a working one
                    self.policy.check(failures, started, trio.current_time())
                delay = max(next(delays), self._refused_until - trio.current_time())
                state = (
                    ConnectionState.DEGRADED
                    if serving is not None and serving.alive
                    else ConnectionState.CONNECTING
                    if first
                    else ConnectionState.RECONNECTING
                )
                self._publish(
                    state,
                    f"connection attempt {failures} failed ({exc}); next in {delay:.1f} s",
                    attempt=failures,
                )
                await self._pause(delay)
                continue
            self._links += 1
            self._connections_opened += 1
            self._carried_failures = failures
            return link

    async def _pause(self, seconds: float) -> None:
        if seconds > 0:
            await trio.sleep(seconds)

    def _note_failure(self, exc: BaseException) -> None:
        logger.info("connection attempt failed: %s", exc)
        if isinstance(exc, ConnectFailed) and exc.status in (418, 429):
            try:
                body = msgspec.json.decode(exc.body)
            except msgspec.DecodeError:
                return
            error = body.get("error") if isinstance(body, dict) else None
            data = error.get("data") if isinstance(error, dict) else None
            self._note_refusal(exc.status, data)
        elif isinstance(exc, RateLimited):
            self._note_refusal(exc.status, exc.data)

    def _note_refusal(self, status: int | None, data: Any) -> None:
        """A 429/418 with ``retryAfter``: no connection attempt before then ("IP limits")."""
        if not isinstance(data, dict):
            return
        retry_after, server_time = data.get("retryAfter"), data.get("serverTime")
        if not isinstance(retry_after, int) or not isinstance(server_time, int):
            return
        until = trio.current_time() + max(0, retry_after - server_time) / 1000
        if until > self._refused_until:
            logger.warning(
                "HTTP %s: no new connection for %.1f s", status, until - trio.current_time()
            )
            self._refused_until = until

    async def _run_link(self, link: _Link, *, task_status: Any) -> None:
        """Hold one connection open until it is released or lost."""
        try:
            async with connect(
                self.url, credentials=self._credentials, **self._connect_options
            ) as session:
                link.session = session
                link.opened_at = trio.current_time()
                session.on_connection_event(lambda event: self._on_connection_event(link, event))
                task_status.started()
                async with trio.open_nursery() as watchers:
                    watchers.start_soon(self._watch_closed, link, session)
                    if self.dead_after is not None:
                        watchers.start_soon(self._watch_dead, link, session, self.dead_after)
                    if self.rotate_after is not None:
                        watchers.start_soon(self._watch_age, link, self.rotate_after)
                    await link.release.wait()
                    watchers.cancel_scope.cancel()
        except BinanceError:
            if link.session is None:
                raise  # the attempt failed: for _open_link
            logger.debug("closing %r failed", link, exc_info=True)
        finally:
            link.ended.set()

    async def _watch_closed(self, link: _Link, session: Session) -> None:
        await session.wait_closed()
        reason = session.close_reason
        why = reason.describe() if isinstance(reason, TransportClosed) else "connection closed"
        link.report(why, planned=False)
        self._lost(link)

    async def _watch_dead(self, link: _Link, session: Session, dead_after: float) -> None:
        while not session.closed:
            last = session.last_received
            if last is None:
                return  # this transport cannot tell
            if trio.current_time() - last >= dead_after:
                self._dead_links += 1
                logger.warning("%r: nothing received for %.0f s; replacing it", link, dead_after)
                await session.abort(DeadLink(dead_after))
                return
            await trio.sleep_until(last + dead_after)

    async def _watch_age(self, link: _Link, rotate_after: float) -> None:
        await trio.sleep_until(link.opened_at + rotate_after)
        link.report(f"connection {rotate_after:.0f} s old", planned=True)

    def _on_connection_event(self, link: _Link, event: ConnectionEvent) -> None:
        if event.event_type == "serverShutdown":
            # "General API Information": establish a new connection as soon as possible.
            link.report("serverShutdown from the exchange", planned=True)

    # --- states ------------------------------------------------------------------------------

    def _set_current(self, link: _Link | None) -> None:
        self._current = link
        if link is not None:
            self._last_session = link.session
        changed, self._changed = self._changed, trio.Event()
        changed.set()

    def _announce(self, reason: str) -> None:
        """The new connection serves: READY, or DEGRADED if a stream could not follow it."""
        if self._refused is not None:
            self._publish(ConnectionState.DEGRADED, f"{reason}; {self._refused}")
        else:
            self._publish(ConnectionState.READY, reason)

    def _publish(self, state: ConnectionState, reason: str, *, attempt: int = 0) -> None:
        if self._closed and state is not ConnectionState.CLOSED:
            return
        logger.info("connection state %s: %s", state.value, reason)
        self._states.publish(state, reason, attempt=attempt)

    def _close(self, reason: BaseException | None, why: str) -> None:
        if self._closed:
            return
        self._publish(ConnectionState.CLOSED, why)
        self._closed = True
        self._close_reason = reason
        self._set_current(None)
        for stream in list(self._streams):
            stream._fail(UserDataStreamLost(reason, subscription_id=0))
        self._streams.clear()
        self._finish_rotation(closed=True)

    async def _aclose(self) -> None:
        link = self._current
        self._close(None, "closed by the application")
        if link is not None:
            link.release.set()
            with trio.move_on_after(self._close_timeout, shield=True):
                await link.ended.wait()


@asynccontextmanager
async def connect_resilient(
    url: str = PRODUCTION,
    *,
    credentials: Credentials | None = None,
    policy: ReconnectPolicy | None = None,
    rotate_after: float | None = DEFAULT_ROTATE_AFTER,
    dead_after: float | None = DEFAULT_DEAD_AFTER,
    when_reconnecting: Literal["wait", "fail"] = "wait",
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT,
    stable_after: float = DEFAULT_STABLE_AFTER,
    open_timeout: float = DEFAULT_OPEN_TIMEOUT,
    close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
    **connect_options: Any,
) -> AsyncIterator[ResilientSession]:
    """Open a :class:`ResilientSession` to ``url``; it is closed when the block ends.

    ``async with trio_binance.connect_resilient(url, credentials=creds) as session:`` -- the
    body starts once the first connection is up (logged on when the key allows); failed
    attempts are retried per ``policy`` (default: :class:`~trio_binance.ReconnectPolicy`'s
    defaults, never giving up), and ``GaveUp`` is raised if it gives up first.

    ``rotate_after``: seconds after which a connection is replaced make-before-break (Binance
    cuts at 24 h; ``None``: only on ``serverShutdown`` or :meth:`ResilientSession.rotate`).
    ``dead_after``: seconds with nothing received, not even a ping, after which the connection
    is treated as dead and replaced (``None``: never). ``when_reconnecting``: requests made
    while no connection serves ``"wait"`` for one (bound them with ``trio.fail_after``), or
    ``"fail"`` at once with ``SessionClosed``. ``drain_timeout``: how long a replaced
    connection may keep answering the requests it already sent. ``stable_after``: a
    connection that lived less than this does not reset the backoff. ``open_timeout``: the
    longest a new connection may take to open, sync its clock, log on and subscribe before
    the attempt counts as failed. Other keyword arguments
    (``logon``, ``recv_window``, ``transport``, ``governor``, ``wall_clock``...) go to each
    :func:`~trio_binance.connect`.
    """
    if when_reconnecting not in ("wait", "fail"):
        from trio_binance._exceptions import InvalidParameter

        raise InvalidParameter("when_reconnecting", "must be 'wait' or 'fail'")
    for name, value in (("rotate_after", rotate_after), ("dead_after", dead_after)):
        if value is not None and value <= 0:
            from trio_binance._exceptions import InvalidParameter

            raise InvalidParameter(name, "must be positive seconds (or None)")
    session = ResilientSession(
        url,
        credentials=credentials,
        policy=policy or ReconnectPolicy(),
        rotate_after=rotate_after,
        dead_after=dead_after,
        when_reconnecting=when_reconnecting,
        drain_timeout=drain_timeout,
        stable_after=stable_after,
        open_timeout=open_timeout,
        close_timeout=close_timeout,
        connect_options={**connect_options, "close_timeout": close_timeout},
    )
    async with background_nursery() as nursery:
        session._nursery = nursery
        await nursery.start(session._supervise)
        try:
            yield session
        finally:
            await session._aclose()


__all__ = [
    "DEFAULT_DEAD_AFTER",
    "DEFAULT_ROTATE_AFTER",
    "DeadLink",
    "ResilientSession",
    "ResilientStatistics",
    "connect_resilient",
]
