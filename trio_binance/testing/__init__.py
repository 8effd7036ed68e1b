"""A faithful local Binance Spot exchange on loopback, for tests, demos and your own bots.

::

    async with trio_binance.testing.open_local_exchange() as exchange:
        async with trio_binance.connect(exchange.url) as session:
            ...

Arm faults with ``exchange.faults`` (see :class:`FaultPlan`) to make every failure a client
must survive happen on demand. The same server serves market streams at
``exchange.streams_url`` (``/ws/<stream>``, ``/stream?streams=...``) from the exchange's own
trading; :class:`MarketActivity` keeps that trading going in the background, and
``exchange.stream_faults`` (see :class:`StreamFaultPlan`) loses, repeats or reorders events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from trio_binance._nursery import background_nursery
from trio_binance.testing._activity import MarketActivity
from trio_binance.testing._config import (
    ExchangeConfig,
    account_config,
    default_config,
    symbol_config,
)
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
    Rule,
    Silent,
)
from trio_binance.testing._floods import FloodReport, UserEventFlood
from trio_binance.testing._limits import BanPolicy, Limit, RateLimitConfig
from trio_binance.testing._market_data import MarketData
from trio_binance.testing._server import (
    ClientConnection,
    DemoKeys,
    Lifecycle,
    LocalExchange,
    Request,
)
from trio_binance.testing._stream_faults import (
    CutConnection,
    HoldEvent,
    RepeatEvent,
    SkipEvent,
    StreamFault,
    StreamFaultPlan,
    StreamRule,
)
from trio_binance.testing._stream_server import StreamConnection, StreamLimits
from trio_binance.testing._streams import MarketStreams
from trio_binance.testing._user_streams import StreamSubscription, UserStreams, install_user_streams
from trio_binance.testing._watch import StateRecorder


@asynccontextmanager
async def open_local_exchange(
    exchange: LocalExchange | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    activity: MarketActivity | None = None,
    **options: Any,
) -> AsyncIterator[LocalExchange]:
    """Serve a local exchange for the duration of the block; ``exchange.url`` is its WebSocket
    API URL, ``exchange.streams_url`` its market streams' base URL. With ``activity``, that
    background trading runs on it meanwhile."""
    exchange = exchange or LocalExchange(**options)
    async with background_nursery() as nursery:
        await nursery.start(exchange.serve, host, port)
        if activity is not None:
            await nursery.start(activity.run, exchange)
        yield exchange


__all__ = [
    "BanPolicy",
    "ClientConnection",
    "CutConnection",
    "Delay",
    "DemoKeys",
    "Drop",
    "Duplicate",
    "ExchangeConfig",
    "ExchangeError",
    "Fault",
    "FaultPlan",
    "FloodReport",
    "Garbage",
    "HoldEvent",
    "Lifecycle",
    "Limit",
    "LocalExchange",
    "Malformed",
    "MarketActivity",
    "MarketData",
    "MarketStreams",
    "RateLimitConfig",
    "RepeatEvent",
    "Reply",
    "Request",
    "Rule",
    "Silent",
    "SkipEvent",
    "StateRecorder",
    "StreamConnection",
    "StreamFault",
    "StreamFaultPlan",
    "StreamLimits",
    "StreamRule",
    "StreamSubscription",
    "UserEventFlood",
    "UserStreams",
    "account_config",
    "default_config",
    "install_user_streams",
    "open_local_exchange",
    "symbol_config",
]
