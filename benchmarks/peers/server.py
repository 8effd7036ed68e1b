"""A canned-answer Binance server for the peer benchmark: fast, so it is never the bottleneck.

    python benchmarks/peers/server.py --stream-frames 50000

Prints ``ws://127.0.0.1:PORT`` once listening and serves until standard input ends. It needs
nothing but the standard library and ``websockets`` (its sans-I/O protocol, driven from
asyncio protocol callbacks: no task per connection or per message), so it runs in the
project's environment and in the peers' environment alike.

* ``/ws-api/v3``: every text frame is a WebSocket API request. ``order.place`` gets the
  documented ``order.place`` RESULT response (with its ``rateLimits``) under the request's
  ``id``; ``time`` and ``ping`` get their documented shapes; anything else an error reply.
  Nothing is validated or signed-checked: the point is the client's cost, and the same canned
  bytes go to every client.
* any other path is a market stream: ``/ws/...`` gets raw trade payloads, ``/stream...`` the
  combined ``{"stream": ..., "data": ...}`` form (but ``/stream/ws/...`` raw).
  ``SUBSCRIBE``/``UNSUBSCRIBE`` get ``{"result": null, "id": ...}``. Shortly after the
  connection opens (or after a ``SUBSCRIBE``), the server sends ``--stream-frames`` trade
  frames as fast as the client reads them (asyncio write flow control), then stays quiet
  until the client leaves.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol

API_PATH = "/ws-api/v3"
STREAM_NAME = "btcusdt@trade"
FLOOD_DELAY = 0.1  # s after open/SUBSCRIBE: lets a client register its handler first
BLOCK_FRAMES = 64  # trade frames per write
WRITE_HIGH_WATER = 256 * 1024

# The documented order.place RESULT response (Binance Spot WebSocket API, "Place new order").
ORDER_RESULT = {
    "symbol": "BTCUSDT",
    "orderId": 12569099453,
    "orderListId": -1,
    "clientOrderId": "4d96324ff9d44481926157ec08158a40",
    "transactTime": 1660801715639,
    "price": "23416.10000000",
    "origQty": "0.00847000",
    "executedQty": "0.00000000",
    "origQuoteOrderQty": "0.000000",
    "cummulativeQuoteQty": "0.00000000",
    "status": "NEW",
    "timeInForce": "GTC",
    "type": "LIMIT",
    "side": "SELL",
    "workingTime": 1660801715639,
    "selfTradePreventionMode": "NONE",
}
RATE_LIMITS = [
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50, "count": 1},
    {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 160000, "count": 1},
    {
        "rateLimitType": "REQUEST_WEIGHT",
        "interval": "MINUTE",
        "intervalNum": 1,
        "limit": 6000,
        "count": 1,
    },
]


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def reply_tail(result: object) -> str:
    """Everything of a success reply after its ``id``."""
    return f',"status":200,"result":{compact(result)},"rateLimits":{compact(RATE_LIMITS)}}}'


CANNED_TAILS = {
    "order.place": reply_tail(ORDER_RESULT),
    "ping": reply_tail({}),
}
ERROR_TAIL = ',"status":400,"error":{"code":-1100,"msg":"Not served by the benchmark server."}}'


def trade_payload(trade_id: int) -> dict[str, Any]:
    """A trade stream payload shaped like the documented one."""
    return {
        "e": "trade",
        "E": 1672515782136 + trade_id,
        "s": "BTCUSDT",
        "t": 12345 + trade_id,
        "p": f"{23416 + trade_id % 100}.10000000",
        "q": "0.00847000",
        "T": 1672515782136 + trade_id,
        "m": trade_id % 2 == 0,
        "M": True,
    }


def frame_block(combined: bool) -> bytes:
    """``BLOCK_FRAMES`` distinct trade frames, serialised once, written as they are."""
    frames = []
    for trade_id in range(BLOCK_FRAMES):
        payload: object = trade_payload(trade_id)
        if combined:
            payload = {"stream": STREAM_NAME, "data": payload}
        frame = Frame(Opcode.TEXT, compact(payload).encode())
        frames.append(frame.serialize(mask=False, extensions=[]))
    return b"".join(frames)


class Connection(asyncio.Protocol):
    def __init__(self, stream_frames: int, blocks: dict[bool, bytes]) -> None:
        self.ws = ServerProtocol(max_size=None)
        self.stream_frames = stream_frames
        self.blocks = blocks
        self.api = False
        self.combined = False
        self.remaining = 0
        self.paused = False
        self.flood_armed = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        ws = self.ws
        ws.receive_data(data)
        for event in ws.events_received():
            if isinstance(event, Request):
                self.opened(event)
            elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                self.answer(bytes(event.data))
        self.flush()

    def opened(self, request: Request) -> None:
        self.ws.send_response(self.ws.accept(request))
        path = request.path
        self.api = path.startswith(API_PATH)
        # /stream?streams=... is combined, /ws/... raw (ccxt's /stream/ws/N too: see client_ccxt)
        self.combined = path.startswith("/stream") and "/ws" not in path
        if not self.api and "@" in path:  # streams named in the URL
            self.arm_flood()

    def answer(self, data: bytes) -> None:
        request = json.loads(data)
        request_id = compact(request.get("id"))
        method = request.get("method")
        if self.api:
            if method == "time":
                tail = reply_tail({"serverTime": int(time.time() * 1000)})
            else:
                tail = CANNED_TAILS.get(method, ERROR_TAIL)
            self.ws.send_text(f'{{"id":{request_id}{tail}'.encode())
            return
        self.ws.send_text(f'{{"result":null,"id":{request_id}}}'.encode())
        if method == "SUBSCRIBE":
            self.arm_flood()

    def flush(self) -> None:
        assert self.transport is not None
        chunks = self.ws.data_to_send()
        if chunks and chunks[-1] == b"":  # the protocol asks for end of stream
            self.transport.writelines(chunks[:-1])
            self.transport.close()
            return
        if chunks:
            self.transport.writelines(chunks)
        if self.ws.close_expected():
            self.transport.close()

    def arm_flood(self) -> None:
        if self.flood_armed:
            return
        self.flood_armed = True
        self.remaining = self.stream_frames
        asyncio.get_running_loop().call_later(FLOOD_DELAY, self.pump)

    def pump(self) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        block = self.blocks[self.combined]
        while self.remaining > 0 and not self.paused:
            if self.remaining >= BLOCK_FRAMES:
                transport.write(block)
                self.remaining -= BLOCK_FRAMES
            else:  # the last few frames, one by one
                single = frame_block_slice(block, self.remaining)
                transport.write(single)
                self.remaining = 0

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self.pump()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


def frame_block_slice(block: bytes, count: int) -> bytes:
    """The first ``count`` frames of a block (each frame header says how long it is)."""
    end = 0
    for _ in range(count):
        length = block[end + 1] & 0x7F
        header = 2
        if length == 126:
            length = int.from_bytes(block[end + 2 : end + 4], "big")
            header = 4
        elif length == 127:
            length = int.from_bytes(block[end + 2 : end + 10], "big")
            header = 10
        end += header + length
    return block[:end]


async def serve(stream_frames: int, port: int) -> None:
    loop = asyncio.get_running_loop()
    blocks = {combined: frame_block(combined) for combined in (False, True)}
    server = await loop.create_server(
        lambda: Connection(stream_frames, blocks), "127.0.0.1", port, backlog=256
    )
    port = server.sockets[0].getsockname()[1]
    print(f"ws://127.0.0.1:{port}", flush=True)
    async with server:
        await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stream-frames", type=int, default=50_000)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.stream_frames, args.port))


if __name__ == "__main__":
    main()
