"""Authentication on the local exchange: API keys, signatures and timing, as Binance checks them.

Spec: web-socket-api.md, "Request security", "SIGNED request security", "Timing security" and
"Session Authentication"; CHANGELOG 2024-12-09 (timestamps before 2017 are refused). The
signature payload is rebuilt from the parameters as received: every one but ``signature``,
sorted by name, ``name=value`` joined with ``&``, no percent-encoding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from trio_binance._credentials import Credentials, HmacCredentials, load_public_key
from trio_binance._params import payload_text
from trio_binance._signing import VerifyingKey, verify_signature
from trio_binance.testing._errors import ExchangeError

ALL_PERMISSIONS = frozenset({"TRADE", "USER_DATA", "USER_STREAM"})
# Parameters the authentication layer consumes; method handlers never see them.
AUTH_PARAMS = ("apiKey", "signature", "timestamp", "recvWindow")
_AUTH_PARAM_SET = frozenset(AUTH_PARAMS)
DEFAULT_RECV_WINDOW_MS = Decimal(5000)
MAX_RECV_WINDOW_MS = Decimal(60000)
AHEAD_TOLERANCE_MS = 1000
EARLIEST_TIMESTAMP_MS = 1483228800000  # 2017-01-01 (CHANGELOG 2024-12-09)
MICROSECOND_THRESHOLD = 10**14  # timestamps above this are microseconds ("General API Information")

INVALID_KEY = ExchangeError(401, -2015, "Invalid API-key, IP, or permissions for action.")


def _mandatory(name: str) -> ExchangeError:
    return ExchangeError(
        400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


@dataclass
class ApiKey:
    """An API key registered on the local exchange."""

    api_key: str
    account: str
    key_type: str
    verifying_key: VerifyingKey = field(repr=False)
    permissions: frozenset[str] = ALL_PERMISSIONS
    revoked: bool = False


@dataclass(slots=True)  # not frozen: one per request, and frozen ones build ~3x slower
class Authenticated:
    """Who a request acts for, once its key, signature and timing were accepted."""

    key: ApiKey
    params: dict[str, Any]
    """The request's parameters without the authentication ones."""


class KeyRing:
    """The API keys the local exchange knows, by key."""

    def __init__(self) -> None:
        self._keys: dict[str, ApiKey] = {}

    def __contains__(self, api_key: str) -> bool:
        return api_key in self._keys

    def get(self, api_key: str) -> ApiKey | None:
        return self._keys.get(api_key)

    def add(
        self,
        api_key: str,
        account: str,
        *,
        public_key_pem: str | bytes | None = None,
        hmac_secret: str | bytes | None = None,
        permissions: Iterable[str] = ALL_PERMISSIONS,
    ) -> ApiKey:
        """Register a key: an RSA/Ed25519 public key (PEM), or an HMAC secret."""
        if (public_key_pem is None) == (hmac_secret is None):
            raise ValueError("give exactly one of public_key_pem and hmac_secret")
        key_type, verifying_key = _verifying_key(public_key_pem, hmac_secret)
        record = ApiKey(api_key, account, key_type, verifying_key, frozenset(permissions))
        self._keys[api_key] = record
        return record

    def add_credentials(
        self,
        credentials: Credentials,
        account: str,
        *,
        permissions: Iterable[str] = ALL_PERMISSIONS,
    ) -> ApiKey:
        """Register the public half of ``credentials`` (RSA or Ed25519) for ``account``."""
        if isinstance(credentials, HmacCredentials):
            raise ValueError("HMAC credentials keep their secret; use add(..., hmac_secret=...)")
        public_pem = credentials.public_key_pem()  # type: ignore[attr-defined]
        return self.add(
            credentials.api_key, account, public_key_pem=public_pem, permissions=permissions
        )

    def revoke(self, api_key: str) -> None:
        key = self._keys.get(api_key)
        if key is not None:
            key.revoked = True


def _verifying_key(
    public_key_pem: str | bytes | None, hmac_secret: str | bytes | None
) -> tuple[str, VerifyingKey]:
    if hmac_secret is not None:
        secret = hmac_secret.encode() if isinstance(hmac_secret, str) else hmac_secret
        return "HMAC", secret
    assert public_key_pem is not None
    public_key = load_public_key(public_key_pem)
    key_type = "RSA" if type(public_key).__name__.startswith("RSA") else "ED25519"
    return key_type, public_key


class Authenticator:
    """Checks signed requests: which key, whether its signature holds, whether it is timely."""

    def __init__(self, keys: KeyRing) -> None:
        self.keys = keys

    def authenticate(
        self,
        params: Mapping[str, Any],
        *,
        security: str,
        session_key: ApiKey | None,
        now_ms: int,
        signed: bool = True,
    ) -> Authenticated:
        """Accept or reject a request that needs a key (raises ``ExchangeError``).

        Unsigned ones (``userDataStream.subscribe``) act for the logged-on key only.
        """
        if not signed:
            return self._session_only(params, security, session_key)
        explicit = params.get("apiKey")
        if explicit is None and session_key is None:
            raise _mandatory("apiKey")
        key = self._key(explicit) if explicit is not None else session_key
        assert key is not None
        self._check_timing(params, now_ms)
        if explicit is not None or "signature" in params:
            self._check_signature(key, params)
        if key.revoked or security not in key.permissions:
            raise INVALID_KEY
        rest = {name: value for name, value in params.items() if name not in _AUTH_PARAM_SET}
        return Authenticated(key, rest)

    def _session_only(
        self, params: Mapping[str, Any], security: str, session_key: ApiKey | None
    ) -> Authenticated:
        if session_key is None:
            # "User Data Stream subscription" needs session.logon; the spec gives no error for
            # a connection without one, so it is refused like any keyed request with no key.
            raise _mandatory("apiKey")
        if session_key.revoked or security not in session_key.permissions:
            raise INVALID_KEY
        return Authenticated(session_key, dict(params))

    def logon_key(self, params: Mapping[str, Any], now_ms: int) -> ApiKey:
        """The key a ``session.logon`` authenticates (signed, Ed25519 only)."""
        if "apiKey" not in params:
            raise _mandatory("apiKey")
        if "signature" not in params:
            raise _mandatory("signature")
        key = self._key(params["apiKey"])
        self._check_timing(params, now_ms)
        self._check_signature(key, params)
        if key.revoked:
            raise INVALID_KEY
        if key.key_type != "ED25519":
            # "Session Authentication": only Ed25519 keys are supported. The spec does not say
            # how other keys are refused; -1020 UNSUPPORTED_OPERATION is the documented code
            # that says what happened.
            raise ExchangeError(400, -1020, "This operation is not supported.")
        return key

    def _key(self, api_key: object) -> ApiKey:
        if not isinstance(api_key, str) or not api_key or not api_key.isalnum():
            raise ExchangeError(401, -2014, "API-key format invalid.")
        key = self.keys.get(api_key)
        if key is None:
            raise INVALID_KEY
        return key

    def _check_signature(self, key: ApiKey, params: Mapping[str, Any]) -> None:
        signature = params.get("signature")
        if signature is None:
            raise _mandatory("signature")
        parts = []
        for name in sorted(params):
            if name != "signature":
                value = params[name]
                # Most values are text and go in as they are: no call for them (hot path).
                parts.append(f"{name}={value if type(value) is str else _received_text(value)}")
        payload = "&".join(parts)
        if not verify_signature(key.verifying_key, payload, signature):
            raise ExchangeError(400, -1022, "Signature for this request is not valid.")

    def _check_timing(self, params: Mapping[str, Any], now_ms: int) -> None:
        """The "Timing security" rule: not 1000 ms ahead, not older than ``recvWindow``."""
        timestamp_ms = _timestamp_ms(params.get("timestamp"))
        recv_window = _recv_window_ms(params.get("recvWindow"))
        if timestamp_ms < EARLIEST_TIMESTAMP_MS or now_ms - timestamp_ms > recv_window:
            raise ExchangeError(
                400, -1021, "Timestamp for this request is outside of the recvWindow."
            )
        if timestamp_ms >= now_ms + AHEAD_TOLERANCE_MS:
            raise ExchangeError(
                400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."
            )


def _received_text(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str | int | bool | list):
        return payload_text(value)
    return str(value)


def _timestamp_ms(value: object) -> Decimal | int:
    if type(value) is int and value <= MICROSECOND_THRESHOLD:
        return value  # milliseconds, as nearly every client sends them: no Decimal needed
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _mandatory("timestamp")
    try:
        stamp = int(value)
    except ValueError:
        raise _mandatory("timestamp") from None
    return Decimal(stamp) / 1000 if stamp > MICROSECOND_THRESHOLD else Decimal(stamp)


def _recv_window_ms(value: object) -> Decimal | int:
    if value is None:
        return DEFAULT_RECV_WINDOW_MS
    if type(value) is int and 0 < value <= MAX_RECV_WINDOW_MS:
        return value  # the usual whole milliseconds: no Decimal needed
    try:
        window = Decimal(str(value))
    except InvalidOperation:
        raise _mandatory("recvWindow") from None
    if not window.is_finite() or window <= 0 or window > MAX_RECV_WINDOW_MS:
        # "Timing security": at most 60000 ms; -1130 is the documented invalid-value code.
        raise ExchangeError(400, -1130, "Data sent for parameter 'recvWindow' is not valid.")
    return window
