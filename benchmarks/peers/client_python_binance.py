"""python-binance as a peer-benchmark contender (run in the peers' environment).

``order.place`` through ``AsyncClient.ws_create_order`` (every request signed with HMAC, as
python-binance always does); trade frames through ``BinanceSocketManager.trade_socket``.
URLs are pointed at the benchmark server with the class attributes python-binance formats
its URLs from (``WS_API_URL``, ``STREAM_URL``).
"""

from __future__ import annotations

import asyncio
import time

from _harness import (
    API_KEY,
    API_SECRET,
    DEADLINE,
    PRICE,
    QUANTITY,
    SYMBOL,
    FrameCounter,
    asyncio_close,
    asyncio_requests,
    parse_args,
    report,
)

started = time.perf_counter()
from binance import AsyncClient, BinanceSocketManager  # noqa: E402

IMPORT_S = time.perf_counter() - started

# The read loop raises (and stops) once its queue holds this many messages; with the default
# 100, a flood on a busy machine could end a run early.
QUEUE_SIZE = 10_000


async def stream_frames(url: str, expected: int) -> dict[str, float]:
    client = AsyncClient(API_KEY, API_SECRET)
    manager = BinanceSocketManager(client, max_queue_size=QUEUE_SIZE)
    manager.STREAM_URL = f"{url}/"
    counter = FrameCounter(expected)
    socket = manager.trade_socket(SYMBOL)
    await socket.__aenter__()
    while True:
        message = await socket.recv()
        if message.get("e") != "trade":
            raise RuntimeError(f"unexpected stream message: {message!r}")
        if counter.add():
            break
    await asyncio_close(lambda: socket.__aexit__(None, None, None))
    await asyncio_close(client.close_connection)
    return counter.figures()


async def main() -> None:
    args = parse_args()

    class LocalClient(AsyncClient):  # type: ignore[misc]
        WS_API_URL = f"{args.url}/ws-api/v3"

    client = LocalClient(API_KEY, API_SECRET)

    async def place() -> object:
        return await client.ws_create_order(
            symbol=SYMBOL,
            side="SELL",
            type="LIMIT",
            timeInForce="GTC",
            price=PRICE,
            quantity=QUANTITY,
        )

    async with asyncio.timeout(DEADLINE):
        figures = await asyncio_requests(place, args)
        await asyncio_close(client.close_connection)
        figures.update(await stream_frames(args.url, args.stream_frames))
    report(IMPORT_S, figures)


if __name__ == "__main__":
    asyncio.run(main())
