"""Trio-native, structured-concurrency client for the Binance Spot WebSocket API."""

import contextlib

import msgspec

from trio_binance._api import CancelReplaceError, CancelReplaceFailed, CancelReplacePartiallyFailed
from trio_binance._credentials import (
    Credentials,
    CredentialsError,
    Ed25519Credentials,
    HmacCredentials,
    RsaCredentials,
    credentials_from_env,
    credentials_from_file,
    credentials_from_pem,
    generate_ed25519,
    generate_rsa,
)
from trio_binance._exceptions import (
    ApiError,
    BadRequest,
    BinanceError,
    ConnectFailed,
    ExecutionStatusUnknown,
    InvalidParameter,
    IpBanned,
    NotSent,
    OutcomeUnknown,
    PartialSuccess,
    ProtocolError,
    RateLimited,
    ResponseLost,
    SessionClosed,
    Unauthorized,
    WafBlocked,
)
from trio_binance._session import PRODUCTION, TESTNET, Session, SessionStatistics, connect
from trio_binance._transport import TransportClosed, TrioWebsocketTransport
from trio_binance._version import __version__

__all__ = [
    "PRODUCTION",
    "TESTNET",
    "ApiError",
    "BadRequest",
    "BinanceError",
    "CancelReplaceError",
    "CancelReplaceFailed",
    "CancelReplacePartiallyFailed",
    "ConnectFailed",
    "Credentials",
    "CredentialsError",
    "Ed25519Credentials",
    "ExecutionStatusUnknown",
    "HmacCredentials",
    "InvalidParameter",
    "IpBanned",
    "NotSent",
    "OutcomeUnknown",
    "PartialSuccess",
    "ProtocolError",
    "RateLimited",
    "ResponseLost",
    "RsaCredentials",
    "Session",
    "SessionClosed",
    "SessionStatistics",
    "TransportClosed",
    "TrioWebsocketTransport",
    "Unauthorized",
    "WafBlocked",
    "__version__",
    "connect",
    "credentials_from_env",
    "credentials_from_file",
    "credentials_from_pem",
    "generate_ed25519",
    "generate_rsa",
]

# Public names say they live here, not in the private module that defines them. Structs keep
# their module: msgspec resolves their annotations there.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) and issubclass(_obj, msgspec.Struct):
        continue
    if getattr(_obj, "__module__", "").startswith("trio_binance._"):
        with contextlib.suppress(AttributeError, TypeError):
            _obj.__module__ = "trio_binance"
del _name, _obj
