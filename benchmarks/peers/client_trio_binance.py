r"""trio_binance as a peer-benchmark contender (run in the project's environment).

``order.place`` through ``session.place_order`` on a session with HMAC credentials (signed
per request at send time, the reply decoded into ``OrderResult`` with ``Decimal`` prices),
on the transport named by ``--transport`` (``trio-websocket``, the default, or
``websockets``, the fast one). Trade frames: ``market_streams`` on the same transport, one
raw ``/ws/<symbol>@trade`` stream, each frame taken from its feed as a decoded
``TradeEvent``.
``--bare`` measures only frames/s of bare trio-websocket, decoding nothing: the floor.
``--untyped`` places the order with ``session.request`` and the wire parameters written out,
skipping the typed method's argument checks: what those checks cost, measured in the run.
``--floor`` is not trio_binance at all: websockets' Trio client used the plain way (``send``,
and a reader task that ``recv``\ s each reply, reads its ``id`` and wakes the caller), sending
one pre-signed frame: the least a Trio client on websockets does per request.
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
    latency,
    parse_args,
    report,
    throughput_figures,
)

started = time.perf_counter()
import trio_binance  # noqa: E402

IMPORT_S = time.perf_counter() - started

import msgspec  # noqa: E402  (imported by trio_binance already)
import trio  # noqa: E402
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


async def floor_requests(url: str, args: argparse.Namespace) -> dict[str, float]:
    """What the plainest Trio client of websockets.trio costs: see the module docstring."""
    from websockets.trio.client import connect

    frame = msgspec.json.encode(
        {"id": 0, "method": "order.place", "params": {**UNTYPED_PARAMS, "signature": "0" * 64}}
    ).decode()
    before_id, after_id = frame.split('"id":0', 1)
    decode_id = msgspec.json.Decoder(_Id).decode
    waiting: dict[int, trio.Event] = {}
    next_id = 0
    async with (
        connect(f"{url}/ws-api/v3", ping_interval=None, compression=None) as ws,
        trio.open_nursery() as nursery,
    ):

        async def read_replies() -> None:
            while True:
                reply = decode_id(await ws.recv(decode=False))
                waiting.pop(reply.id).set()

        async def place() -> None:
            nonlocal next_id
            next_id += 1
            replied = waiting[next_id] = trio.Event()
            await ws.send(f'{before_id}"id":{next_id}{after_id}')
            await replied.wait()

        nursery.start_soon(read_replies)
        await latency(place, max(10, args.requests // 10))  # warm up
        await throughput(place, max(10, args.concurrency * 2), args.concurrency)
        figures = await latency(place, args.requests)
        figures.update(await throughput(place, args.throughput_requests, args.concurrency))
        nursery.cancel_scope.cancel()
    return figures


class _Id(msgspec.Struct):
    id: int


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
        if args.floor:
            report(IMPORT_S, await floor_requests(args.url, args))
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
