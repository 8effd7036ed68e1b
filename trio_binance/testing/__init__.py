"""A faithful local Binance Spot exchange on loopback, for tests, demos and your own bots.

::

    async with trio_binance.testing.open_local_exchange() as exchange:
        async with trio_binance.connect(exchange.url) as session:
            ...

Arm faults with ``exchange.faults`` (see :class:`FaultPlan`) to make every failure a client
must survive happen on demand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from trio_binance._nursery import background_nursery
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
from trio_binance.testing._user_streams import StreamSubscription, UserStreams, install_user_streams
from trio_binance.testing._watch import StateRecorder


@asynccontextmanager
async def open_local_exchange(
    exchange: LocalExchange | None = None, *, host: str = "127.0.0.1", port: int = 0, **options: Any
) -> AsyncIterator[LocalExchange]:
    """Serve a local exchange for the duration of the block; ``exchange.url`` is its URL."""
    exchange = exchange or LocalExchange(**options)
    async with background_nursery() as nursery:
        await nursery.start(exchange.serve, host, port)
        yield exchange


__all__ = [
    "BanPolicy",
    "ClientConnection",
    "Delay",
    "DemoKeys",
    "Drop",
    "ExchangeConfig",
    "ExchangeError",
    "Fault",
    "FaultPlan",
    "FloodReport",
    "Garbage",
    "Lifecycle",
    "Limit",
    "LocalExchange",
    "Malformed",
    "MarketData",
    "RateLimitConfig",
    "Reply",
    "Request",
    "Rule",
    "Silent",
    "StateRecorder",
    "StreamSubscription",
    "UserEventFlood",
    "UserStreams",
    "account_config",
    "default_config",
    "install_user_streams",
    "open_local_exchange",
    "symbol_config",
]
