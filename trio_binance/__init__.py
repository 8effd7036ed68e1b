"""Trio-native, structured-concurrency client for the Binance Spot WebSocket API."""

import contextlib
from typing import TYPE_CHECKING, Any

import msgspec

from trio_binance._account_views import AssetBalance, BalancesView, OrderTracker, TrackedOrder
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
from trio_binance._endpoints import DEMO_MODE
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
from trio_binance._gap import CatchUp, UserDataGap, catch_up
from trio_binance._governor import (
    GovernorStatistics,
    IpBanActive,
    RateGovernor,
    WouldExceedRateLimit,
)
from trio_binance._local_order_book import (
    BookStatistics,
    BookStatus,
    BookUpdate,
    LocalOrderBook,
    local_order_book,
)
from trio_binance._market_streams import (
    STREAMS_MARKET_DATA_ONLY,
    STREAMS_PRODUCTION,
    STREAMS_TESTNET,
    MarketStreams,
    MarketStreamsStatistics,
    StreamRequestError,
    StreamRequestLost,
    market_streams,
)
from trio_binance._reconcile import (
    CannotReconcile,
    Reconciliation,
    is_idempotent_read,
    reconcile,
    request_with_retry,
)
from trio_binance._reconnect import (
    ConnectionState,
    GaveUp,
    ReconnectPolicy,
    StateChange,
)
from trio_binance._resilient import (
    DeadLink,
    ResilientSession,
    ResilientStatistics,
    connect_resilient,
)
from trio_binance._resilient_streams import (
    ResilientUserDataStream,
    ResilientUserDataStreamStatistics,
)
from trio_binance._session import PRODUCTION, TESTNET, Session, SessionStatistics, connect
from trio_binance._stream_feed import (
    FeedStatistics,
    Overflow,
    StreamFeed,
    StreamFeedEnded,
    StreamOverflow,
    StreamsClosed,
)
from trio_binance._transport import (
    Connection,
    InsecureTransportWarning,
    Transport,
    TransportClosed,
    TransportName,
    TrioWebsocketTransport,
)
from trio_binance._user_data import (
    SubscriptionActive,
    SubscriptionIdsExhausted,
    SubscriptionRefused,
    TooManySubscriptions,
    UserDataOverflow,
    UserDataStream,
    UserDataStreamEnded,
    UserDataStreamLost,
    UserDataStreamStatistics,
    UserDataStreamTerminated,
)
from trio_binance._version import __version__

if TYPE_CHECKING:  # imported on first use: websockets is optional (the ``fast`` extra)
    from trio_binance._transport_websockets import WebsocketsTransport

__all__ = [
    "DEMO_MODE",
    "PRODUCTION",
    "STREAMS_MARKET_DATA_ONLY",
    "STREAMS_PRODUCTION",
    "STREAMS_TESTNET",
    "TESTNET",
    "ApiError",
    "AssetBalance",
    "BadRequest",
    "BalancesView",
    "BinanceError",
    "BookStatistics",
    "BookStatus",
    "BookUpdate",
    "CancelReplaceError",
    "CancelReplaceFailed",
    "CancelReplacePartiallyFailed",
    "CannotReconcile",
    "CatchUp",
    "ConnectFailed",
    "Connection",
    "ConnectionState",
    "Credentials",
    "CredentialsError",
    "DeadLink",
    "Ed25519Credentials",
    "ExecutionStatusUnknown",
    "FeedStatistics",
    "GaveUp",
    "GovernorStatistics",
    "HmacCredentials",
    "InsecureTransportWarning",
    "InvalidParameter",
    "IpBanActive",
    "IpBanned",
    "LocalOrderBook",
    "MarketStreams",
    "MarketStreamsStatistics",
    "NotSent",
    "OrderTracker",
    "OutcomeUnknown",
    "Overflow",
    "PartialSuccess",
    "ProtocolError",
    "RateGovernor",
    "RateLimited",
    "Reconciliation",
    "ReconnectPolicy",
    "ResilientSession",
    "ResilientStatistics",
    "ResilientUserDataStream",
    "ResilientUserDataStreamStatistics",
    "ResponseLost",
    "RsaCredentials",
    "Session",
    "SessionClosed",
    "SessionStatistics",
    "StateChange",
    "StreamFeed",
    "StreamFeedEnded",
    "StreamOverflow",
    "StreamRequestError",
    "StreamRequestLost",
    "StreamsClosed",
    "SubscriptionActive",
    "SubscriptionIdsExhausted",
    "SubscriptionRefused",
    "TooManySubscriptions",
    "TrackedOrder",
    "Transport",
    "TransportClosed",
    "TransportName",
    "TrioWebsocketTransport",
    "Unauthorized",
    "UserDataGap",
    "UserDataOverflow",
    "UserDataStream",
    "UserDataStreamEnded",
    "UserDataStreamLost",
    "UserDataStreamStatistics",
    "UserDataStreamTerminated",
    "WafBlocked",
    "WebsocketsTransport",
    "WouldExceedRateLimit",
    "__version__",
    "catch_up",
    "connect",
    "connect_resilient",
    "credentials_from_env",
    "credentials_from_file",
    "credentials_from_pem",
    "generate_ed25519",
    "generate_rsa",
    "is_idempotent_read",
    "local_order_book",
    "market_streams",
    "reconcile",
    "request_with_retry",
]

# Public names say they live here, not in the private module that defines them. Structs keep
# their module: msgspec resolves their annotations there.
for _name in __all__:
    if _name not in globals():  # WebsocketsTransport, see __getattr__
        continue
    _obj = globals()[_name]
    if isinstance(_obj, type) and issubclass(_obj, msgspec.Struct):
        continue
    if getattr(_obj, "__module__", "").startswith("trio_binance._"):
        with contextlib.suppress(AttributeError, TypeError):
            _obj.__module__ = "trio_binance"
del _name, _obj


def __getattr__(name: str) -> Any:
    """``WebsocketsTransport`` is imported on first use, so that importing trio_binance never
    imports websockets (an optional dependency, and time spent for those who do not use it)."""
    if name == "WebsocketsTransport":
        from trio_binance._transport_websockets import WebsocketsTransport

        WebsocketsTransport.__module__ = "trio_binance"
        return WebsocketsTransport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "WebsocketsTransport"})
