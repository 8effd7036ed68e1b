"""A pytest plugin (registered as the ``trio_binance`` entry point): fixtures that give a test a
running local exchange and a session logged on to it. Tests using them need pytest-trio.

::

    async def test_my_bot(exchange_session):
        ...

``local_exchange`` yields a :class:`~trio_binance.testing.LocalExchange` serving on loopback,
with demo keys for the accounts ``alice`` and ``bob`` (``local_exchange.demo_keys``), its
WebSocket API at ``local_exchange.url`` and its market streams at
``local_exchange.streams_url``;
``exchange_session`` yields a :class:`~trio_binance.Session` logged on as ``alice`` with her
Ed25519 key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import trio_binance
from trio_binance.testing._server import LocalExchange


@pytest.fixture
async def local_exchange() -> AsyncIterator[LocalExchange]:
    from trio_binance.testing import open_local_exchange

    exchange = LocalExchange()
    exchange.demo_keys = exchange.create_demo_keys()
    async with open_local_exchange(exchange) as served:
        yield served


@pytest.fixture
async def exchange_session(local_exchange: LocalExchange) -> AsyncIterator[trio_binance.Session]:
    credentials = local_exchange.demo_keys["alice"].ed25519
    async with trio_binance.connect(local_exchange.url, credentials=credentials) as session:
        yield session
