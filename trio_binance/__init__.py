"""Trio-native, structured-concurrency client for the Binance Spot WebSocket API."""

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
from trio_binance._transport import TrioWebsocketTransport
from trio_binance._version import __version__

__all__ = [
    "PRODUCTION",
    "TESTNET",
    "ApiError",
    "BadRequest",
    "BinanceError",
    "ConnectFailed",
    "ExecutionStatusUnknown",
    "InvalidParameter",
    "IpBanned",
    "NotSent",
    "OutcomeUnknown",
    "PartialSuccess",
    "ProtocolError",
    "RateLimited",
    "ResponseLost",
    "Session",
    "SessionClosed",
    "SessionStatistics",
    "TrioWebsocketTransport",
    "Unauthorized",
    "WafBlocked",
    "__version__",
]

# Public names say they live here, not in the private module that defines them.
for _name in __all__:
    _obj = globals()[_name]
    if hasattr(_obj, "__module__") and getattr(_obj, "__module__", "").startswith("trio_binance._"):
        try:
            _obj.__module__ = "trio_binance"
        except (AttributeError, TypeError):
            pass
del _name, _obj
