"""trio_binance as a peer-benchmark contender (run in the project's environment).

``order.place`` through ``session.place_order`` on a session with HMAC credentials (signed
per request at send time, the reply decoded into ``OrderResult`` with ``Decimal`` prices),
on the transport named by ``--transport`` (``trio-websocket``, the default, or
``websockets``, the fast one). Trade frames: ``market_streams`` on the same transport, one
raw ``/ws/<symbol>@trade`` stream, each frame taken from its feed as a decoded
``TradeEvent``.
``--bare`` measures only frames/s of bare trio-websocket, decoding nothing: the floor.
``--untyped`` places the order with ``session.request`` and the wire parameters written out,
skipping the typed method's argument checks: what those checks cost, measured in the run.
"""

from __future__ import annotations

import argparse
import time

from _harness import (
    API_KEY,
    API_SECRET,
    DEADLINE,
    PRICE,
    QUANTITY,
    STREAM,
    SYMBOL,
    Call,
    FrameCounter,
    latency_figures,
    parse_args,
    report,
    throughput_figures,
)

started = time.perf_counter()
import trio_binance  # noqa: E402

IMPORT_S = time.perf_counter() - started

import trio  # noqa: E402  (imported by trio_binance already)
import trio_websocket  # noqa: E402

from trio_binance._transport import (  # noqa: E402
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_MESSAGE_QUEUE_SIZE,
    DEFAULT_RECEIVE_BUFFER_SIZE,
    TransportName,
    resolve_transport,
)
from trio_binance.models import OrderResult, TradeEvent  # noqa: E402

# Frames the stream client may hold for the consumer: room for a burst, never an overflow.
FEED_SIZE = 4096

# --untyped: the parameters place_order would put on the wire, written out once.
UNTYPED_PARAMS: dict[str, object] = {
    "symbol": SYMBOL,
    "side": "SELL",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "price": PRICE,
    "quantity": QUANTITY,
    "newClientOrderId": "benchmark-untyped-0001",
}


async def latency(call: Call, count: int) -> dict[str, float]:
    perf = time.perf_counter_ns
    samples: list[int] = []
    cpu = time.process_time()
    for _ in range(count):
        start = perf()
        await call()
        samples.append(perf() - start)
    return latency_figures(samples, time.process_time() - cpu)


async def throughput(call: Call, total: int, concurrency: int) -> dict[str, float]:
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    cpu = time.process_time()
    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(concurrency):
            nursery.start_soon(worker)
    return throughput_figures(total, time.perf_counter() - start, time.process_time() - cpu)


async def requests(
    url: str, transport: TransportName, args: argparse.Namespace
) -> dict[str, float]:
    credentials = trio_binance.HmacCredentials(API_KEY, API_SECRET)
    async with trio_binance.connect(
        f"{url}/ws-api/v3", credentials=credentials, transport=transport
    ) as session:

        async def place() -> object:
            return await session.place_order(
                symbol=SYMBOL,
                side="SELL",
                type="LIMIT",
                time_in_force="GTC",
                price=PRICE,
                quantity=QUANTITY,
            )

        async def place_untyped() -> object:
            # The same frame on the wire, through the generic request: no argument checks.
            return await session.request(
                "order.place", UNTYPED_PARAMS, result_type=OrderResult, signed=True
            )

        if args.untyped:
            place = place_untyped

        await latency(place, max(10, args.requests // 10))  # warm up
        await throughput(place, max(10, args.concurrency * 2), args.concurrency)
        figures = await latency(place, args.requests)
        figures.update(await throughput(place, args.throughput_requests, args.concurrency))
        return figures


async def stream_frames(url: str, transport: TransportName, expected: int) -> dict[str, float]:
    counter = FrameCounter(expected)
    async with trio_binance.market_streams(
        url,
        [STREAM],
        raw=True,
        transport=resolve_transport(transport),
        buffer_size=FEED_SIZE,
        close_timeout=1,
    ) as streams:
        async for message in streams:
            if not isinstance(message.event, TradeEvent):
                raise RuntimeError(f"unexpected stream message: {message!r}")
            if counter.add():
                break
    return counter.figures()


async def bare_stream_frames(url: str, expected: int) -> dict[str, float]:
    """The floor under our stream reading: trio-websocket configured as our transport
    configures it, receiving frames and decoding nothing."""
    counter = FrameCounter(expected)
    async with trio_websocket.open_websocket_url(
        f"{url}/ws/{STREAM}",
        max_message_size=DEFAULT_MAX_MESSAGE_SIZE,
        receive_buffer_size=DEFAULT_RECEIVE_BUFFER_SIZE,
        message_queue_size=DEFAULT_MESSAGE_QUEUE_SIZE,
    ) as ws:
        while not counter.add():
            await ws.get_message()
    return counter.figures()


async def main(args: argparse.Namespace) -> None:
    transport: TransportName = args.transport
    with trio.fail_after(DEADLINE):
        if args.bare:
            report(IMPORT_S, await bare_stream_frames(args.url, args.stream_frames))
            return
        figures = await requests(args.url, transport, args)
        if not args.untyped:  # its stream reading is the typed contender's
            figures.update(await stream_frames(args.url, transport, args.stream_frames))
    report(IMPORT_S, figures)


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.transport == "default":
        arguments.transport = "trio-websocket"
    trio.run(main, arguments)
