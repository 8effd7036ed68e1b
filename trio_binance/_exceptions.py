"""One exception tree for everything the library raises.

::

    BinanceError                     base of every exception raised by trio_binance
    ├── InvalidParameter (ValueError)   bad input caught before anything was sent
    ├── ProtocolError                   a frame that could not be understood
    ├── ConnectFailed                   the WebSocket handshake did not complete
    ├── NotSent                         the request never left: safe to retry
    │   ├── SessionClosed               the session is closed (or closing); .reason says why
    │   ├── WouldExceedRateLimit        the governor's fail-fast policy refused it (_governor)
    │   └── IpBanActive                 the IP is banned until .banned_until (_governor)
    ├── UserDataStreamEnded             a user-data stream ended (_user_data): terminated by
    │                                   the exchange, lost with the connection, or overflowed
    ├── CannotReconcile (ValueError)    reconcile() cannot tell from a request (_reconcile)
    ├── OutcomeUnknown                  the request may or may not have been executed
    │   ├── ResponseLost                written, then the connection was lost
    │   └── ExecutionStatusUnknown      5xx, -1006 or -1007 (also an ApiError)
    └── ApiError                        the exchange answered with an error
        ├── BadRequest                  400: rejected, see .code / .msg
        │   ├── CancelReplaceFailed     400 -2022: neither half of a cancel-replace took effect
        │   └── SubscriptionRefused     a user-data subscription limit (_user_data)
        ├── Unauthorized                401: API key revoked, session logged out
        ├── WafBlocked                  403: blocked by the web application firewall
        ├── PartialSuccess              409: part of the request succeeded
        │   └── CancelReplacePartiallyFailed   409 -2021: both halves decoded
        ├── RateLimited                 429: .retry_after (epoch ms) when given
        │   └── IpBanned                418: banned until .retry_after
        └── ExecutionStatusUnknown      5xx, -1006, -1007 (also an OutcomeUnknown)

``CancelReplaceFailed`` and ``CancelReplacePartiallyFailed`` (defined with the typed API, both
also ``CancelReplaceError``) carry the two halves of ``order.cancelReplace`` decoded.
``OutcomeUnknown`` errors carry the method and the parameters that were sent (signatures and
keys removed) and the client order ids, so the caller can find out what happened instead of
re-sending blindly. ``NotSent`` errors are the only transport failures that are always safe to
retry. Cancelling a caller (``trio.fail_after`` etc.) raises trio's own exception, never one
of these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trio_binance.models import RateLimit

# Parameters that must never be repeated in an exception, a log line or a repr.
SECRET_PARAMS = frozenset({"signature", "apiKey", "secretKey", "privateKey"})

# Error codes that mean "execution status unknown" whatever the status (errors.md).
UNKNOWN_OUTCOME_CODES = frozenset({-1006, -1007})

# Parameters that carry client order ids, on order and order-list methods.
CLIENT_ID_PARAMS = (
    "newClientOrderId",
    "listClientOrderId",
    "aboveClientOrderId",
    "belowClientOrderId",
    "workingClientOrderId",
    "pendingClientOrderId",
    "pendingAboveClientOrderId",
    "pendingBelowClientOrderId",
    "origClientOrderId",
    "cancelNewClientOrderId",
    "newCancelClientOrderId",
    "limitClientOrderId",
    "stopClientOrderId",
)


def redact(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of ``params`` without keys or signatures, safe to log or show."""
    return {k: v for k, v in (params or {}).items() if k not in SECRET_PARAMS}


def client_order_ids(params: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The client order ids a request carries, in a stable order."""
    params = params or {}
    return tuple(str(params[name]) for name in CLIENT_ID_PARAMS if params.get(name))


class BinanceError(Exception):
    """Base class of every exception raised by trio_binance."""


class InvalidParameter(BinanceError, ValueError):
    """A parameter was refused before anything was sent; ``.name`` names it."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"parameter {name!r} {problem}")
        self.name = name


class ProtocolError(BinanceError):
    """A frame from the exchange that does not follow the protocol.

    ``raw``: for a user-data event that could not be decoded, the event as received (JSON
    bytes), so nothing of it is lost; ``None`` otherwise.
    """

    def __init__(self, message: str, *, raw: bytes | None = None) -> None:
        super().__init__(message)
        self.raw = raw


class ConnectFailed(BinanceError):
    """The connection could not be opened (refused, no handshake in time, TLS failure...).

    When the server refused the handshake with an HTTP status (e.g. 429 for too many
    connections, 418 for a banned IP), ``status`` is that status, ``body`` the response body
    it sent (Binance's error JSON) and ``retry_after`` the epoch ms that body names as the
    earliest time to try again (its ``data.retryAfter``), if any; otherwise ``status`` and
    ``retry_after`` are ``None`` and ``body`` is empty.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: bytes = b"",
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
        self.retry_after = retry_after


class NotSent(BinanceError):
    """The request never reached the network: nothing happened, it is safe to retry."""

    safe_to_retry = True

    def __init__(self, message: str, *, method: str | None = None) -> None:
        super().__init__(message)
        self.method = method


class SessionClosed(NotSent):
    """The session is closed or closing; ``.reason`` says why (``None`` for a normal close)."""

    def __init__(
        self, message: str, *, method: str | None = None, reason: BaseException | None = None
    ) -> None:
        super().__init__(message, method=method)
        self.reason = reason


class OutcomeUnknown(BinanceError):
    """The request may or may not have been executed: query before you retry.

    ``method``, ``params`` (redacted) and ``client_order_ids`` say what was sent.
    """

    safe_to_retry = False
    method: str | None
    params: dict[str, Any]
    client_order_ids: tuple[str, ...]

    def _describe_request(self, method: str | None, params: Mapping[str, Any] | None) -> None:
        self.method = method
        self.params = redact(params)
        self.client_order_ids = client_order_ids(params)


class ResponseLost(OutcomeUnknown):
    """The request was written, then the connection was lost before its reply arrived."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        params: Mapping[str, Any] | None = None,
        reason: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self._describe_request(method, params)
        self.reason = reason


class ApiError(BinanceError):
    """The exchange answered the request with an error.

    ``status`` is the response status, ``code`` and ``msg`` come from ``error``, ``data`` is
    ``error.data`` (or ``None``), ``rate_limits`` the response's ``rateLimits`` (or ``None``).
    """

    safe_to_retry = False

    def __init__(
        self,
        status: int,
        code: int,
        msg: str,
        *,
        data: Any = None,
        rate_limits: Sequence[RateLimit] | None = None,
        method: str | None = None,
    ) -> None:
        where = f" ({method})" if method else ""
        super().__init__(f"{status} {code}: {msg}{where}")
        self.status = status
        self.code = code
        self.msg = msg
        self.data = data
        self.rate_limits = rate_limits
        self.method = method


class BadRequest(ApiError):
    """400: the request was rejected; it was not executed."""


class Unauthorized(ApiError):
    """401: the API key was revoked or the session is no longer authorised."""


class WafBlocked(ApiError):
    """403: the request was blocked by the web application firewall."""


class PartialSuccess(ApiError):
    """409: the request partly failed and partly succeeded; ``data`` holds both halves."""


class RateLimited(ApiError):
    """429: a rate limit was exceeded. ``retry_after`` is when to retry (epoch ms), if given."""

    @property
    def retry_after(self) -> int | None:
        data = self.data
        if isinstance(data, Mapping):
            value = data.get("retryAfter")
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return None


class IpBanned(RateLimited):
    """418: the IP address is banned until ``retry_after`` (epoch ms)."""


class ExecutionStatusUnknown(ApiError, OutcomeUnknown):
    """5xx, or codes -1006/-1007: the exchange does not know whether the request executed."""

    def __init__(
        self,
        status: int,
        code: int,
        msg: str,
        *,
        data: Any = None,
        rate_limits: Sequence[RateLimit] | None = None,
        method: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(status, code, msg, data=data, rate_limits=rate_limits, method=method)
        self._describe_request(method, params)


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: WafBlocked,
    409: PartialSuccess,
    418: IpBanned,
    429: RateLimited,
}


def api_error(
    status: int,
    code: int,
    msg: str,
    *,
    data: Any = None,
    rate_limits: Sequence[RateLimit] | None = None,
    method: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> ApiError:
    """The exception for an error response, chosen by status and code."""
    if status >= 500 or code in UNKNOWN_OUTCOME_CODES:
        return ExecutionStatusUnknown(
            status, code, msg, data=data, rate_limits=rate_limits, method=method, params=params
        )
    cls = _BY_STATUS.get(status, ApiError)
    return cls(status, code, msg, data=data, rate_limits=rate_limits, method=method)
