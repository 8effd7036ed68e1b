"""ccxt (``ccxt.pro.binance``) as a peer-benchmark contender (run in the peers' environment).

``enableRateLimit=False``: ccxt's default client-side throttle spaces WebSocket messages
250 ms apart, which would measure the throttle, not the client. ``order.place`` through
``create_order_ws`` (signed per request with HMAC; the reply parsed into ccxt's unified
order); trade frames through ``watch_trades`` (each parsed into a unified trade). The market
is given with ``set_markets`` so nothing asks for REST ``exchangeInfo``; the URLs are the
``urls["api"]["ws"]`` entries.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from _harness import (
    API_KEY,
    API_SECRET,
    DEADLINE,
    FrameCounter,
    asyncio_close,
    asyncio_requests,
    parse_args,
    report,
)

started = time.perf_counter()
import ccxt.pro  # noqa: E402

IMPORT_S = time.perf_counter() - started

UNIFIED_SYMBOL = "BTC/USDT"
PRICE = 23416.1
AMOUNT = 0.00847


def btcusdt_market() -> dict[str, Any]:
    """The one market used, shaped like ccxt's own parse of ``exchangeInfo``."""
    return {
        "id": "BTCUSDT",
        "lowercaseId": "btcusdt",
        "symbol": UNIFIED_SYMBOL,
        "base": "BTC",
        "quote": "USDT",
        "baseId": "BTC",
        "quoteId": "USDT",
        "type": "spot",
        "spot": True,
        "margin": False,
        "swap": False,
        "future": False,
        "option": False,
        "active": True,
        "contract": False,
        "linear": None,
        "inverse": None,
        "precision": {"amount": 0.00001, "price": 0.01},
        "limits": {
            "amount": {"min": 0.00001, "max": 9000.0},
            "price": {"min": 0.01, "max": 1000000.0},
            "cost": {"min": 5.0, "max": None},
        },
        "info": {"symbol": "BTCUSDT", "orderTypes": ["LIMIT", "MARKET"], "filters": []},
    }


def exchange(url: str) -> Any:
    ex = ccxt.pro.binance({"apiKey": API_KEY, "secret": API_SECRET, "enableRateLimit": False})
    ex.urls["api"]["ws"]["ws-api"]["spot"] = f"{url}/ws-api/v3"
    # ccxt tells spot streams by "/stream" in the URL (production: stream.binance.com/ws).
    ex.urls["api"]["ws"]["spot"] = f"{url}/stream/ws"
    ex.set_markets([btcusdt_market()])
    return ex


async def stream_frames(url: str, expected: int) -> dict[str, float]:
    """Frames parsed while a consumer loops on ``watch_trades``.

    ``watch_trades`` hands over what its cache (1,000 trades) holds, so a flood overwrites
    trades before the consumer sees them; every frame is parsed all the same. The frames are
    therefore counted where ccxt parses them (its ``handle_trade``), which a wrapper counts.
    """
    ex = exchange(url)
    counter = FrameCounter(expected)
    done = asyncio.Event()
    handle_trade = ex.handle_trade

    def counted(client: Any, message: dict[str, Any]) -> None:
        handle_trade(client, message)
        if counter.add():
            done.set()

    ex.handle_trade = counted
    while not done.is_set():
        await ex.watch_trades(UNIFIED_SYMBOL)
    await asyncio_close(ex.close)
    return counter.figures()


async def main() -> None:
    args = parse_args()
    ex = exchange(args.url)

    async def place() -> object:
        return await ex.create_order_ws(UNIFIED_SYMBOL, "limit", "sell", AMOUNT, PRICE)

    async with asyncio.timeout(DEADLINE):
        figures = await asyncio_requests(place, args)
        await asyncio_close(ex.close)
        figures.update(await stream_frames(args.url, args.stream_frames))
    report(IMPORT_S, figures)


if __name__ == "__main__":
    asyncio.run(main())
