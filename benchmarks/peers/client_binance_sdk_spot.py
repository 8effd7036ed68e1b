"""binance-sdk-spot (Binance's official modular SDK) as a peer-benchmark contender.

Runs in the peers' environment. ``order.place`` through ``SpotWebSocketAPI.order_place`` on
one connection (signed per request with HMAC), reading ``.data()`` (the typed pydantic
model) as a caller would; trade frames through ``SpotWebSocketStreams.trade``, whose
callback receives the payload as its pydantic model. The URLs are the documented
``stream_url`` settings of the two configurations.
"""

from __future__ import annotations

import asyncio
import time

from _harness import (
    API_KEY,
    API_SECRET,
    DEADLINE,
    SYMBOL,
    FrameCounter,
    asyncio_close,
    asyncio_requests,
    parse_args,
    report,
)

started = time.perf_counter()
from binance_common.configuration import (  # noqa: E402
    ConfigurationWebSocketAPI,
    ConfigurationWebSocketStreams,
)
from binance_sdk_spot.spot import Spot  # noqa: E402
from binance_sdk_spot.websocket_api.models import (  # noqa: E402
    OrderPlaceSideEnum,
    OrderPlaceTimeInForceEnum,
    OrderPlaceTypeEnum,
)

IMPORT_S = time.perf_counter() - started

# The SDK's parameters are floats (it writes them with str()).
PRICE = 23416.1
QUANTITY = 0.00847


async def stream_frames(url: str, expected: int) -> dict[str, float]:
    client = Spot(config_ws_streams=ConfigurationWebSocketStreams(stream_url=url))
    streams = client.websocket_streams
    await streams.create_connection()
    counter = FrameCounter(expected)
    done = asyncio.Event()

    def on_trade(trade: object) -> None:
        if counter.add():
            done.set()

    handle = await streams.trade(symbol=SYMBOL.lower())
    handle.on("message", on_trade)
    await done.wait()
    await asyncio_close(streams.close_connection)
    return counter.figures()


async def main() -> None:
    args = parse_args()
    config = ConfigurationWebSocketAPI(
        api_key=API_KEY, api_secret=API_SECRET, stream_url=f"{args.url}/ws-api/v3"
    )
    client = Spot(config_ws_api=config)
    api = client.websocket_api
    connection = await api.create_connection()

    async def place() -> object:
        response = await connection.order_place(
            symbol=SYMBOL,
            side=OrderPlaceSideEnum.SELL,
            type=OrderPlaceTypeEnum.LIMIT,
            time_in_force=OrderPlaceTimeInForceEnum.GTC,
            price=PRICE,
            quantity=QUANTITY,
        )
        return response.data()

    async with asyncio.timeout(DEADLINE):
        figures = await asyncio_requests(place, args)
        await asyncio_close(connection.close_connection)
        figures.update(await stream_frames(args.url, args.stream_frames))
    report(IMPORT_S, figures)


if __name__ == "__main__":
    asyncio.run(main())
