"""User data streams on a session: ``async with session.user_data() as events:``.

Spec: web-socket-api.md, "User Data Stream requests"; user-data-stream.md for the events.

Delivery, per subscription:

* the session's receive task hands each event (still undecoded) to the stream's sink, which
  never blocks: it puts the event in a bounded buffer (``buffer_size``, 10,000 by default);
* the consumer decodes each event as it takes it (``decode_user_event``), so the receive
  task does no per-event work beyond a buffer append, and a malformed event can only ever
  raise in the consumer;
* nothing is dropped silently: a full buffer ends the stream with :class:`UserDataOverflow`
  (counting every event lost) once the events already buffered have been taken.

How a stream ends, always after the events buffered before the end (exceptions are raised by
the iterator, so ``async for`` never just stops short):

* the consumer leaves the ``async with`` block: the subscription is unsubscribed (also when
  the block is cancelled: shielded, bounded by the session's ``close_timeout``); iterating a
  left stream just stops;
* ``eventStreamTerminated`` (``session.logout`` for the logon subscription, a token expiry,
  an unsubscribe by someone else): :class:`UserDataStreamTerminated`;
* the connection ends: :class:`UserDataStreamLost` -- events may have been missed;
* the buffer overflowed: :class:`UserDataOverflow`.

A malformed known event raises ``ProtocolError`` from the iterator and ends nothing: the
stream stays usable, iterating again continues with the next event. An event type this
version does not know arrives as ``UnknownUserEvent``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Final, TypeVar

import msgspec
import trio

from trio_binance._auth import DEFAULT_RECV_WINDOW, RequestSigner
from trio_binance._error_codes import ErrorCode
from trio_binance._exceptions import (
    ApiError,
    BadRequest,
    BinanceError,
    InvalidParameter,
    NotSent,
    ProtocolError,
)
from trio_binance._params import WireParams
from trio_binance.models import (
    Empty,
    EventStreamTerminated,
    Subscription,
    UserDataEvent,
    decode_user_event,
)

if TYPE_CHECKING:
    from trio_binance._clock import ExchangeClock
    from trio_binance._credentials import Credentials
    from trio_binance._session import Signer

T = TypeVar("T")

logger = logging.getLogger("trio_binance.user_data")

SUBSCRIBE: Final = "userDataStream.subscribe"
SUBSCRIBE_SIGNATURE: Final = "userDataStream.subscribe.signature"
UNSUBSCRIBE: Final = "userDataStream.unsubscribe"
SUBSCRIPTIONS: Final = "session.subscriptions"

DEFAULT_BUFFER_SIZE: Final = 10_000
"""Events buffered per stream before it overflows: a busy account's burst."""
# "User Data Stream subscription", Limits: per session (connection).
MAX_ACTIVE_SUBSCRIPTIONS: Final = 1_000
MAX_LIFETIME_SUBSCRIPTIONS: Final = 65_535
# Events held for subscriptions whose subscribe reply has not been read yet.
MAX_UNCLAIMED_EVENTS: Final = DEFAULT_BUFFER_SIZE
_TIMESTAMP_OUTSIDE_WINDOW: Final = ErrorCode.INVALID_TIMESTAMP


# --- errors ------------------------------------------------------------------------------


class SubscriptionRefused(BadRequest):
    """A user data subscription was refused.

    ``sent`` is ``False`` when this session refused it before sending, because the exchange
    would have (``code`` is then the one the exchange documents for the case).
    """

    def __init__(
        self,
        status: int,
        code: int,
        msg: str,
        *,
        sent: bool = True,
        data: Any = None,
        rate_limits: Any = None,
        method: str | None = None,
    ) -> None:
        super().__init__(status, code, msg, data=data, rate_limits=rate_limits, method=method)
        self.sent = sent


class SubscriptionActive(SubscriptionRefused):
    """-2035: the account already has a subscription on this connection (one per account)."""


class TooManySubscriptions(SubscriptionRefused):
    """-1191: the connection already has 1,000 active subscriptions."""


class SubscriptionIdsExhausted(SubscriptionRefused):
    """-2042: the connection started 65,535 subscriptions; open a new connection."""


_REFUSALS: Final[Mapping[int, type[SubscriptionRefused]]] = {
    ErrorCode.SUBSCRIPTION_ACTIVE: SubscriptionActive,
    ErrorCode.TOO_MANY_SUBSCRIPTIONS: TooManySubscriptions,
    ErrorCode.MAXIMUM_SUBSCRIPTION_IDS: SubscriptionIdsExhausted,
}


class UserDataStreamEnded(BinanceError):
    """A user data stream ended by itself: no more events will come on it.

    Raised by the stream's iterator after every event buffered before the end.
    ``subscription_id`` says which subscription.
    """

    def __init__(self, message: str, *, subscription_id: int) -> None:
        super().__init__(message)
        self.subscription_id = subscription_id


class UserDataStreamTerminated(UserDataStreamEnded):
    """The exchange sent ``eventStreamTerminated`` (``.event``): logout, token expiry or an
    unsubscribe (user-data-stream.md, "Event Stream Terminated")."""

    def __init__(self, event: EventStreamTerminated, *, subscription_id: int) -> None:
        super().__init__(
            f"user data subscription {subscription_id} terminated by the exchange",
            subscription_id=subscription_id,
        )
        self.event = event


class UserDataStreamLost(UserDataStreamEnded):
    """The connection ended; events after the last one delivered may have been missed.

    ``reason`` is the session's close reason (``None`` when it was closed normally).
    """

    def __init__(self, reason: BaseException | None, *, subscription_id: int) -> None:
        why = f"connection lost ({reason})" if reason is not None else "session closed"
        super().__init__(
            f"user data subscription {subscription_id} ended: {why}; events may have been missed",
            subscription_id=subscription_id,
        )
        self.reason = reason


class UserDataOverflow(UserDataStreamEnded):
    """The consumer fell ``buffer_size`` events behind; ``lost`` events were not delivered.

    ``lost`` keeps counting events that arrive until the block is left (they are discarded:
    the stream is over).
    """

    def __init__(self, *, subscription_id: int, buffer_size: int) -> None:
        super().__init__(
            f"user data subscription {subscription_id}: consumer fell {buffer_size} events "
            "behind; later events were discarded",
            subscription_id=subscription_id,
        )
        self.buffer_size = buffer_size
        self.lost = 0

    def __str__(self) -> str:
        return f"{super().__str__()} ({self.lost} lost)"


# --- one stream --------------------------------------------------------------------------


class UserDataStreamStatistics(msgspec.Struct, frozen=True, gc=False):
    """A snapshot of a stream, from :meth:`UserDataStream.statistics`."""

    subscription_id: int
    delivered: int
    """Events the consumer has taken."""
    buffered: int
    """Events waiting in the buffer."""
    buffer_size: int
    lost: int
    """Events discarded after an overflow."""
    ended: bool


class UserDataStream:
    """The events of one user data subscription, in the exchange's order.

    Made by :meth:`Session.user_data`; iterate it with ``async for``. Each item is a typed
    event from :mod:`trio_binance.models` (``ExecutionReport``, ``OutboundAccountPosition``,
    ``BalanceUpdate``, ``ListStatus``, ``ExternalLockUpdate``, ``UnknownUserEvent``...).
    """

    def __init__(self, subscription_id: int, method: str, buffer_size: int) -> None:
        self.subscription_id = subscription_id
        self.method = method
        """How it was subscribed: ``userDataStream.subscribe`` or ``...subscribe.signature``."""
        self.buffer_size = buffer_size
        self._incoming, self._buffer = trio.open_memory_channel[msgspec.Raw](buffer_size)
        self._end: UserDataStreamEnded | None = None
        """Why no more events are accepted; raised once the buffer is empty."""
        self._left = False
        self._delivered = 0

    def __repr__(self) -> str:
        state = "ended" if self.ended else "open"
        return f"<UserDataStream {self.subscription_id} {state} via {self.method}>"

    @property
    def ended(self) -> bool:
        """True once no more events will be accepted (the buffer may still hold some)."""
        return self._left or self._end is not None

    @property
    def still_subscribed(self) -> bool:
        """Whether the exchange may still hold the subscription (so leaving unsubscribes)."""
        return not isinstance(self._end, UserDataStreamTerminated | UserDataStreamLost)

    def statistics(self) -> UserDataStreamStatistics:
        return UserDataStreamStatistics(
            subscription_id=self.subscription_id,
            delivered=self._delivered,
            buffered=self._incoming.statistics().current_buffer_used,
            buffer_size=self.buffer_size,
            lost=self._end.lost if isinstance(self._end, UserDataOverflow) else 0,
            ended=self.ended,
        )

    # --- the consumer's side ---

    def __aiter__(self) -> UserDataStream:
        return self

    async def __anext__(self) -> UserDataEvent:
        try:
            raw = await self._buffer.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            raise self._end_of_stream() from None
        try:
            event = decode_user_event(raw)
        except ProtocolError as exc:
            raise ProtocolError(
                f"user data subscription {self.subscription_id}: {exc}", raw=bytes(raw)
            ) from exc
        if isinstance(event, EventStreamTerminated):
            # It came before whatever else ended the stream, so it is the reason.
            self._end = UserDataStreamTerminated(event, subscription_id=self.subscription_id)
            self._incoming.close()
            raise self._end
        self._delivered += 1
        return event

    def _end_of_stream(self) -> BaseException:
        if self._end is None:  # the block was left
            return StopAsyncIteration()
        return self._end

    # --- the session's side (sync, never blocks) ---

    def _deliver(self, raw: msgspec.Raw) -> None:
        """The subscription's sink, called by the session's receive task for each event."""
        if self.ended:
            self._discard()
            return
        try:
            self._incoming.send_nowait(raw)
        except trio.WouldBlock:
            overflow = UserDataOverflow(
                subscription_id=self.subscription_id, buffer_size=self.buffer_size
            )
            overflow.lost = 1
            self._finish(overflow)
            logger.warning("%s", overflow)

    def _discard(self) -> None:
        if isinstance(self._end, UserDataOverflow) and not self._left:
            self._end.lost += 1
        else:
            logger.debug("event for ended user data subscription %s dropped", self.subscription_id)

    def _finish(self, end: UserDataStreamEnded) -> None:
        """Accept no more events; the consumer gets ``end`` after the buffered ones."""
        if self.ended:
            return
        self._end = end
        self._incoming.close()

    def _leave(self) -> None:
        """The consumer left its block: iteration stops, later events are dropped."""
        self._left = True
        self._incoming.close()
        self._buffer.close()


# --- the subscriptions of one session ----------------------------------------------------


class _Registry:
    """The user data streams of one session, by subscription id and by API key."""

    def __init__(self) -> None:
        self.streams: dict[int, UserDataStream] = {}
        self.keys: set[str] = set()
        """API keys with a stream open or being opened: one per account per connection."""
        self.started = 0
        self.subscribing = 0
        self.unclaimed: dict[int, list[msgspec.Raw]] = {}
        self.unclaimed_count = 0
        self.closed = False
        self.close_reason: BaseException | None = None

    def reserve(self, api_key: str, method: str) -> None:
        """Claim a slot before subscribing, or refuse as the exchange would (nothing sent)."""
        if api_key in self.keys:
            raise _refused_locally(SubscriptionActive, ErrorCode.SUBSCRIPTION_ACTIVE, method)
        if len(self.keys) >= MAX_ACTIVE_SUBSCRIPTIONS:
            raise _refused_locally(TooManySubscriptions, ErrorCode.TOO_MANY_SUBSCRIPTIONS, method)
        if self.started >= MAX_LIFETIME_SUBSCRIPTIONS:
            raise _refused_locally(
                SubscriptionIdsExhausted, ErrorCode.MAXIMUM_SUBSCRIPTION_IDS, method
            )
        self.keys.add(api_key)
        self.subscribing += 1

    def release(self, api_key: str) -> None:
        """The subscribe request failed: give the slot back."""
        self.keys.discard(api_key)
        self._subscribe_done()

    def activate(self, stream: UserDataStream) -> None:
        """The exchange confirmed ``stream``: route to it, events that came early first."""
        self.started += 1
        self.streams[stream.subscription_id] = stream
        held = self.unclaimed.pop(stream.subscription_id, [])
        self.unclaimed_count -= len(held)
        for raw in held:
            stream._deliver(raw)
        self._subscribe_done()
        if self.closed:
            self._lose(stream)

    def deactivate(self, stream: UserDataStream, api_key: str) -> None:
        self.streams.pop(stream.subscription_id, None)
        self.keys.discard(api_key)

    def hold(self, subscription_id: int, raw: msgspec.Raw) -> bool:
        """Keep an event whose subscription may be one being opened; False if none is."""
        if not self.subscribing:
            return False
        if self.unclaimed_count >= MAX_UNCLAIMED_EVENTS:
            logger.warning("too many events for unconfirmed subscriptions; one dropped")
            return True
        self.unclaimed.setdefault(subscription_id, []).append(raw)
        self.unclaimed_count += 1
        return True

    def _subscribe_done(self) -> None:
        self.subscribing -= 1
        if not self.subscribing and self.unclaimed:
            # Nobody claimed them: subscriptions this session does not know of.
            logger.warning(
                "dropped %d events of unknown user data subscriptions %s",
                self.unclaimed_count,
                sorted(self.unclaimed),
            )
            self.unclaimed.clear()
            self.unclaimed_count = 0

    def session_closed(self, reason: BaseException | None) -> None:
        self.closed = True
        self.close_reason = reason
        for stream in self.streams.values():
            self._lose(stream)

    def _lose(self, stream: UserDataStream) -> None:
        stream._finish(
            UserDataStreamLost(self.close_reason, subscription_id=stream.subscription_id)
        )


def _refused_locally(
    kind: type[SubscriptionRefused], code: ErrorCode, method: str
) -> SubscriptionRefused:
    messages = {
        ErrorCode.SUBSCRIPTION_ACTIVE: "User Data Stream subscription already active "
        "(this session already has a stream for this API key)",
        ErrorCode.TOO_MANY_SUBSCRIPTIONS: "Too many subscriptions "
        f"(this session already has {MAX_ACTIVE_SUBSCRIPTIONS} active)",
        ErrorCode.MAXIMUM_SUBSCRIPTION_IDS: "Maximum subscription ID reached for this "
        f"connection ({MAX_LIFETIME_SUBSCRIPTIONS} started); open a new connection",
    }
    return kind(400, code, f"{messages[code]}; not sent", sent=False, method=method)


def _refusal(error: ApiError) -> ApiError:
    """The exchange's answer to a subscribe, as the clearest exception type."""
    kind = _REFUSALS.get(error.code)
    if kind is None:
        return error
    return kind(
        error.status,
        error.code,
        error.msg,
        data=error.data,
        rate_limits=error.rate_limits,
        method=error.method,
    )


# --- the session's methods ---------------------------------------------------------------


class UserDataMixin:
    """Mixed into :class:`~trio_binance.Session`: ``session.user_data()``."""

    _user_data_registry: _Registry | None = None

    if TYPE_CHECKING:
        _signer: Signer | None
        _close_timeout: float

        @property
        def clock(self) -> ExchangeClock: ...

        @property
        def closed(self) -> bool: ...

        async def request(
            self,
            method: str,
            params: Mapping[str, object] | None = None,
            *,
            result_type: type[T],
            signed: bool = False,
        ) -> T: ...

        async def sync_clock(self, samples: int = 3) -> None: ...

        def add_subscription(
            self, subscription_id: int, sink: Callable[[msgspec.Raw], None]
        ) -> None: ...

        def remove_subscription(self, subscription_id: int) -> None: ...

        def on_close(self, handler: Callable[[BaseException | None], None]) -> None: ...

    @asynccontextmanager
    async def user_data(
        self,
        *,
        credentials: Credentials | None = None,
        buffer_size: int = DEFAULT_BUFFER_SIZE,
    ) -> AsyncIterator[UserDataStream]:
        """Subscribe to an account's user data stream for the duration of the block.

        Without ``credentials``: the session's own account -- ``userDataStream.subscribe`` when
        the session is logged on (Ed25519, ``session.logon``), otherwise
        ``userDataStream.subscribe.signature`` signed with the session's credentials. With
        ``credentials``: that key's account, by ``userDataStream.subscribe.signature`` on this
        same connection (any key type).

        ``buffer_size`` events are buffered for a consumer that falls behind; one more ends
        the stream with :class:`UserDataOverflow`. Leaving the block unsubscribes.

        Refusals raise :class:`SubscriptionActive` (one stream per account per session),
        :class:`TooManySubscriptions` (1,000 active) or :class:`SubscriptionIdsExhausted`
        (65,535 per connection), before sending when this session can tell.
        """
        stream, api_key = await self._open_user_data(credentials, buffer_size)
        try:
            yield stream
        finally:
            await self._close_user_data(stream, api_key)

    def _user_data(self) -> _Registry:
        if self._user_data_registry is None:
            self._user_data_registry = _Registry()
            self.on_close(self._user_data_registry.session_closed)
        return self._user_data_registry

    def _hold_unclaimed_event(self, subscription_id: int, event: msgspec.Raw) -> bool:
        """For ``Session._route_event``: an event no sink claims. It may belong to a
        subscription whose reply has not reached its caller yet (the events can be read
        right after the reply, or even before it); while a subscribe is in flight, keep it
        for that subscription. ``False`` means nobody waits for it: drop it."""
        registry = self._user_data_registry
        return registry is not None and registry.hold(subscription_id, event)

    async def _open_user_data(
        self, credentials: Credentials | None, buffer_size: int
    ) -> tuple[UserDataStream, str]:
        if isinstance(buffer_size, bool) or not isinstance(buffer_size, int) or buffer_size < 1:
            raise InvalidParameter("buffer_size", "must be an int of at least 1")
        method, api_key, signing = self._subscription_plan(credentials)
        registry = self._user_data()
        registry.reserve(api_key, method)
        subscribed = False
        try:
            subscription = await self._subscribe(method, signing)
            subscribed = True
        except trio.Cancelled:
            # The subscribe may have reached the exchange, and its reply is now dropped: end
            # the subscription it made, or it would stay active unknown to us and the next
            # subscribe for this account would be refused (-2035). Shielded and bounded, like
            # the unsubscribe when a block is left.
            with trio.move_on_after(self._close_timeout, shield=True):
                await self._unsubscribe_unknown(registry)
            raise
        finally:
            if not subscribed:  # refused, failed or cancelled: give the reservation back
                registry.release(api_key)
        stream = UserDataStream(subscription.subscription_id, method, buffer_size)
        registry.activate(stream)
        self.add_subscription(stream.subscription_id, stream._deliver)
        logger.debug("user data subscription %s opened via %s", stream.subscription_id, method)
        return stream, api_key

    def _subscription_plan(
        self, credentials: Credentials | None
    ) -> tuple[str, str, Credentials | None]:
        """The method to subscribe with, the API key it is for, and the key to sign with."""
        if credentials is not None:
            return SUBSCRIBE_SIGNATURE, credentials.api_key, credentials
        signer = self._signer
        if signer is None:
            raise NotSent(
                "user_data() needs an account: connect with credentials, or pass credentials=",
                method=SUBSCRIBE,
            )
        if not isinstance(signer, RequestSigner):  # a custom signer: the exchange decides
            return SUBSCRIBE, "", None
        if signer.logged_on:
            return SUBSCRIBE, signer.credentials.api_key, None
        return SUBSCRIBE_SIGNATURE, signer.credentials.api_key, signer.credentials

    async def _subscribe(self, method: str, signing: Credentials | None) -> Subscription:
        try:
            if signing is None:
                # No parameters: an extra one is refused with -1104.
                return await self.request(method, result_type=Subscription)
            return await self._subscribe_by_signature(signing)
        except ApiError as error:
            raise _refusal(error) from None

    async def _subscribe_by_signature(self, credentials: Credentials) -> Subscription:
        # Signed here with the given key, not the session's signer, so it is stamped before
        # it is queued; a -1021 (stale timestamp) gets one re-synced retry, as request() does.
        try:
            return await self._send_signed_subscribe(credentials)
        except ApiError as error:
            if error.code != _TIMESTAMP_OUTSIDE_WINDOW or self.closed:
                raise
        await self.sync_clock()
        return await self._send_signed_subscribe(credentials)

    async def _send_signed_subscribe(self, credentials: Credentials) -> Subscription:
        params: WireParams = {"apiKey": credentials.api_key, "timestamp": self.clock.timestamp()}
        signer = self._signer
        if isinstance(signer, RequestSigner) and signer.recv_window != DEFAULT_RECV_WINDOW:
            params["recvWindow"] = signer.recv_window
        # "userDataStream.subscribe.signature": apiKey, timestamp (and recvWindow) are signed,
        # like every SIGNED request: all parameters but signature, sorted by name.
        params["signature"] = credentials.sign_params(params)
        return await self.request(SUBSCRIBE_SIGNATURE, params, result_type=Subscription)

    async def _close_user_data(self, stream: UserDataStream, api_key: str) -> None:
        stream._leave()
        try:
            if stream.still_subscribed and not self.closed:
                await self._unsubscribe(stream.subscription_id)
        finally:
            self.remove_subscription(stream.subscription_id)
            self._user_data().deactivate(stream, api_key)

    async def _unsubscribe_unknown(self, registry: _Registry) -> None:
        """Unsubscribe the connection's subscriptions that no stream of this session holds.

        Only when no other subscribe is in flight (ours still counts as one): the listing
        carries ids only, so another caller's fresh subscription could not be told apart.
        The listing is sent after the cancelled subscribe, so it sees what that one made.
        """
        if self.closed or registry.subscribing > 1:
            return
        try:
            listed = await self.request(SUBSCRIPTIONS, result_type=list[Subscription])
        except BinanceError as exc:
            logger.warning("listing user data subscriptions failed: %s", exc)
            return
        for entry in listed:
            if entry.subscription_id not in registry.streams:
                logger.debug("ending subscription %s of a cancelled subscribe", entry)
                await self._unsubscribe(entry.subscription_id)

    async def _unsubscribe(self, subscription_id: int) -> None:
        # Shielded so a cancelled block still unsubscribes; bounded like a close handshake.
        with trio.move_on_after(self._close_timeout, shield=True) as waited:
            try:
                await self.request(
                    UNSUBSCRIBE, {"subscriptionId": subscription_id}, result_type=Empty
                )
            except BinanceError as exc:
                logger.warning("unsubscribing user data %s failed: %s", subscription_id, exc)
        if waited.cancelled_caught:
            logger.warning(
                "no reply to unsubscribing user data %s in %ss",
                subscription_id,
                self._close_timeout,
            )


__all__ = [
    "DEFAULT_BUFFER_SIZE",
    "MAX_ACTIVE_SUBSCRIPTIONS",
    "MAX_LIFETIME_SUBSCRIPTIONS",
    "SubscriptionActive",
    "SubscriptionIdsExhausted",
    "SubscriptionRefused",
    "TooManySubscriptions",
    "UserDataMixin",
    "UserDataOverflow",
    "UserDataStream",
    "UserDataStreamEnded",
    "UserDataStreamLost",
    "UserDataStreamStatistics",
    "UserDataStreamTerminated",
]
