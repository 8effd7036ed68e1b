"""User Data Stream subscriptions on the local exchange, and the events they carry.

Spec: web-socket-api.md, "User Data Stream requests" (subscribe, subscribe.signature,
unsubscribe, session.subscriptions and their limits); user-data-stream.md, "Event Stream
Terminated". ``install_user_streams(exchange)`` registers the four methods on a
:class:`~trio_binance.testing.LocalExchange` and returns the :class:`UserStreams` that
publishes account events to every subscription of the account, on every connection::

    streams = install_user_streams(exchange)
    streams.publish("alice", {"e": "balanceUpdate", "E": ..., "a": "BTC", "d": "1", "T": ...})

Events are queued with ``ClientConnection.push``, so they leave in the order they were
published, in order with the connection's responses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from trio_binance._protocol import ResponseEncoder
from trio_binance.testing._auth import ApiKey
from trio_binance.testing._error_messages import error_message
from trio_binance.testing._errors import ExchangeError
from trio_binance.testing._server import ClientConnection, Handler, LocalExchange, Request

logger = logging.getLogger("trio_binance.testing.user_streams")

# "User Data Stream subscription", Limits.
MAX_ACTIVE: Final = 1_000
MAX_LIFETIME: Final = 65_535

SUBSCRIPTION_ACTIVE: Final = -2035
MAXIMUM_SUBSCRIPTION_IDS: Final = -2042
TOO_MANY_SUBSCRIPTIONS: Final = -1191
UNREAD_PARAMETERS: Final = -1104
MANDATORY_PARAMETER: Final = -1102

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class StreamSubscription:
    """One active subscription: whose events go where."""

    connection: ClientConnection
    subscription_id: int
    account: str
    api_key: str
    by_logon: bool
    """Opened with ``userDataStream.subscribe`` (ends at ``session.logout``)."""


class _ConnectionStreams:
    """The subscriptions of one connection: ids are per connection, counted for life."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.started = 0
        self.active: dict[int, StreamSubscription] = {}


class UserStreams:
    """The local exchange's user data subscriptions; made by :func:`install_user_streams`.

    ``max_active`` and ``max_lifetime`` are the per-connection limits (1,000 and 65,535 by
    default, as documented); tests lower them to reach them quickly.
    """

    def __init__(
        self,
        exchange: LocalExchange,
        *,
        max_active: int = MAX_ACTIVE,
        max_lifetime: int = MAX_LIFETIME,
    ) -> None:
        self.exchange = exchange
        self.max_active = max_active
        self.max_lifetime = max_lifetime
        self._encoder = ResponseEncoder()
        self._connections: dict[int, _ConnectionStreams] = {}
        self._by_account: dict[str, dict[tuple[int, int], StreamSubscription]] = {}

    # --- what tests and the matching engine call ------------------------------------------

    def publish(self, account: str, event: JsonDict) -> int:
        """Send ``event`` to every subscription of ``account``; how many it reached."""
        subscriptions = self._live(account)
        for subscription in subscriptions:
            frame = self._encoder.user_event(subscription.subscription_id, event)
            subscription.connection.push(frame)
        return len(subscriptions)

    def publish_all(self, events: Iterable[tuple[str, JsonDict]]) -> int:
        """Publish ``(account, event)`` pairs in order (the engine's output); frames sent."""
        return sum(self.publish(account, event) for account, event in events)

    def terminate(self, account: str) -> int:
        """End every subscription of ``account`` with ``eventStreamTerminated`` (as a token
        expiry does); how many ended."""
        ended = self._live(account)
        for subscription in ended:
            self._end(subscription)
        return len(ended)

    def subscriptions(self, account: str | None = None) -> list[StreamSubscription]:
        """The active subscriptions, of one account or all, on open connections."""
        accounts = [account] if account is not None else list(self._by_account)
        return [s for name in accounts for s in self._live(name)]

    def active_on(self, connection: ClientConnection) -> bool:
        """The ``userDataStream`` flag of ``session.status``: any subscription active?"""
        streams = self._connections.get(connection.id)
        return streams is not None and bool(streams.active)

    # --- the methods --------------------------------------------------------------------

    def subscribe(self, request: Request) -> JsonDict:
        """``userDataStream.subscribe``: the logged-on account (Ed25519 ``session.logon``)."""
        _no_more_params(request)
        key = request.connection.session_key
        if key is None:
            # Documented: "requires an authenticated WebSocket connection"; without a
            # logon there is no API key for it, which is how this answers.
            raise _mandatory("apiKey")
        return self._open(request.connection, key, by_logon=True)

    def subscribe_signature(self, request: Request) -> JsonDict:
        """``userDataStream.subscribe.signature``: any key type, on any connection.

        The request pipeline has already checked the key, timestamp and signature against
        the exchange's key ring; here only their presence is enforced, since a logged-on
        connection would otherwise let the pipeline fall back on the session's key.
        """
        for name in ("apiKey", "timestamp", "signature"):
            if name not in request.received:
                raise _mandatory(name)
        _no_more_params(request)
        key = self.exchange.keys.get(str(request.received["apiKey"]))
        assert key is not None  # the pipeline refused unknown keys
        return self._open(request.connection, key, by_logon=False)

    def unsubscribe(self, request: Request) -> JsonDict:
        """``userDataStream.unsubscribe``: one subscription if it exists, or all of them."""
        params = dict(request.params)
        wanted = params.pop("subscriptionId", None)
        if params:
            raise _unread(len(request.received) - len(params), len(request.received))
        streams = self._streams_of(request.connection)
        if wanted is None:
            chosen = list(streams.active.values())
        else:
            found = streams.active.get(_subscription_id(wanted))
            chosen = [found] if found is not None else []
        for subscription in chosen:
            self._end(subscription)
        return {}

    def list_subscriptions(self, request: Request) -> list[JsonDict]:
        """``session.subscriptions``."""
        _no_more_params(request)
        active = self._streams_of(request.connection).active
        return [{"subscriptionId": subscription_id} for subscription_id in sorted(active)]

    # --- wrapping the session methods ------------------------------------------------------

    def with_stream_flag(self, handler: Handler) -> Handler:
        """``handler`` (a session.* method), its ``userDataStream`` field made true to life."""

        def answer(request: Request) -> Any:
            result = handler(request)
            result["userDataStream"] = self.active_on(request.connection)
            return result

        return answer

    def ending_logon_stream(self, handler: Handler) -> Handler:
        """``session.logout`` that first ends the logon subscription: "session.logout will
        only close the subscription created with userDataStream.subscribe" ("Unsubscribe
        from User Data Stream"), with ``eventStreamTerminated`` ("Event Stream Terminated")."""

        def logout(request: Request) -> Any:
            streams = self._connections.get(request.connection.id)
            if streams is not None:
                for subscription in [s for s in streams.active.values() if s.by_logon]:
                    self._end(subscription)
            return handler(request)

        return logout

    # --- bookkeeping --------------------------------------------------------------------

    def _open(self, connection: ClientConnection, key: ApiKey, *, by_logon: bool) -> JsonDict:
        streams = self._streams_of(connection)
        if any(s.account == key.account for s in streams.active.values()):
            # "You can have only one active subscription for a given account on a given
            # connection."
            raise _error(SUBSCRIPTION_ACTIVE)
        if streams.started >= self.max_lifetime:
            raise _error(MAXIMUM_SUBSCRIPTION_IDS)
        if len(streams.active) >= self.max_active:
            # The limit is documented, its error code is not: -1191 TOO_MANY_SUBSCRIPTIONS
            # is the documented code whose message says exactly this.
            raise ExchangeError(400, TOO_MANY_SUBSCRIPTIONS, _too_many(self.max_active))
        subscription = StreamSubscription(
            connection, streams.started, key.account, key.api_key, by_logon
        )
        streams.started += 1
        streams.active[subscription.subscription_id] = subscription
        self._by_account.setdefault(key.account, {})[_where(subscription)] = subscription
        return {"subscriptionId": subscription.subscription_id}

    def _end(self, subscription: StreamSubscription) -> None:
        """Close ``subscription``, telling its client with ``eventStreamTerminated``."""
        self._forget(subscription)
        event = {"e": "eventStreamTerminated", "E": self.exchange.now_ms()}
        subscription.connection.push(self._encoder.user_event(subscription.subscription_id, event))

    def _forget(self, subscription: StreamSubscription) -> None:
        streams = self._connections.get(subscription.connection.id)
        if streams is not None:
            streams.active.pop(subscription.subscription_id, None)
        by_account = self._by_account.get(subscription.account, {})
        by_account.pop(_where(subscription), None)
        if not by_account:
            self._by_account.pop(subscription.account, None)

    def _streams_of(self, connection: ClientConnection) -> _ConnectionStreams:
        self._prune()
        streams = self._connections.get(connection.id)
        if streams is None:
            streams = self._connections[connection.id] = _ConnectionStreams(connection)
        return streams

    def _live(self, account: str) -> list[StreamSubscription]:
        """The account's subscriptions on open connections (closed ones are forgotten)."""
        subscriptions = list(self._by_account.get(account, {}).values())
        if any(s.connection.closed.is_set() for s in subscriptions):
            self._prune()
            subscriptions = list(self._by_account.get(account, {}).values())
        return subscriptions

    def _prune(self) -> None:
        """Forget the connections that have closed, with their subscriptions."""
        for conn_id, streams in list(self._connections.items()):
            if streams.connection.closed.is_set():
                for subscription in list(streams.active.values()):
                    self._forget(subscription)
                del self._connections[conn_id]


def install_user_streams(exchange: LocalExchange, **limits: int) -> UserStreams:
    """Serve the User Data Stream methods on ``exchange``; the :class:`UserStreams` to
    publish with. Installing again returns the first installation, with any limits given.
    ``LocalExchange`` installs it itself (``exchange.user_streams``)."""
    existing = getattr(exchange.handler("userDataStream.subscribe"), "__self__", None)
    if isinstance(existing, UserStreams):
        # The exchange installs itself with the documented limits; a test may lower them.
        existing.max_active = limits.get("max_active", existing.max_active)
        existing.max_lifetime = limits.get("max_lifetime", existing.max_lifetime)
        return existing
    streams = UserStreams(exchange, **limits)
    exchange.register("userDataStream.subscribe", streams.subscribe)
    exchange.register("userDataStream.subscribe.signature", streams.subscribe_signature)
    exchange.register("userDataStream.unsubscribe", streams.unsubscribe)
    exchange.register("session.subscriptions", streams.list_subscriptions)
    _wrap(exchange, "session.logout", streams.ending_logon_stream)
    for method in ("session.logon", "session.status", "session.logout"):
        _wrap(exchange, method, streams.with_stream_flag)
    return streams


def _wrap(exchange: LocalExchange, method: str, wrapper: Callable[[Handler], Handler]) -> None:
    handler = exchange.handler(method)
    if handler is not None:
        exchange.register(method, wrapper(handler))


def _where(subscription: StreamSubscription) -> tuple[int, int]:
    return subscription.connection.id, subscription.subscription_id


def _subscription_id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _mandatory("subscriptionId")
    try:
        return int(value)
    except ValueError:
        raise _mandatory("subscriptionId") from None


def _no_more_params(request: Request) -> None:
    """-1104 for parameters the method does not read (the pipeline read the signing ones)."""
    if request.params:
        sent = len(request.received)
        raise _unread(sent - len(request.params), sent)


def _error(code: int) -> ExchangeError:
    return ExchangeError(400, code, error_message(code))


def _mandatory(name: str) -> ExchangeError:
    return ExchangeError(400, MANDATORY_PARAMETER, error_message(MANDATORY_PARAMETER, 1) % name)


def _unread(read: int, sent: int) -> ExchangeError:
    return ExchangeError(400, UNREAD_PARAMETERS, error_message(UNREAD_PARAMETERS, 1) % (read, sent))


def _too_many(limit: int) -> str:
    return error_message(TOO_MANY_SUBSCRIPTIONS, 0) % limit


__all__ = [
    "MAX_ACTIVE",
    "MAX_LIFETIME",
    "StreamSubscription",
    "UserStreams",
    "install_user_streams",
]
