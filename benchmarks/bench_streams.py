"""Market streams: decoded frames/s through ``market_streams`` vs bare trio-websocket, and
order-book updates/s.

A loopback server in the same process writes pre-built WebSocket frames (trade or diff depth
payloads, raw or wrapped as combined-stream frames) as fast as the socket takes them, so the
server costs almost nothing and the client is what is measured. Each run, in turn:

* **bare**: ``trio_websocket.open_websocket_url`` and ``get_message()`` for every frame -- the
  floor: receiving, no decoding;
* **ours**: ``async with trio_binance.market_streams(...)`` and ``async for`` over the same
  frames, each decoded to its typed event (``Decimal`` prices) and delivered through a feed.

Both are timed from before connecting to the last frame taken. The ratio ours/bare is taken
per run (paired) and the median reported. Order-book figures: ``BookSync.feed`` on decoded
diff events (sans-IO), and ``local_order_book`` end to end (frames to applied updates).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import _common
import trio
import trio_websocket

import trio_binance
from trio_binance._order_book import BookSync
from trio_binance._stream_control import FrameClassifier
from trio_binance._transport import TransportName
from trio_binance.models import OrderBook
from trio_binance.models._streams import DepthUpdateEvent, StreamMessage, decode_stream_payload

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_KEY = re.compile(rb"sec-websocket-key:\s*(\S+)", re.IGNORECASE)
_PATH = re.compile(rb"^GET (\S+) ")

TRADE_STREAM = "bnbbtc@trade"
DEPTH_STREAM = "bnbbtc@depth@100ms"
DEPTH_LEVELS = 10  # per side, per event


def trade_payload(n: int) -> dict[str, Any]:
    return {
        "e": "trade",
        "E": 1672515782136 + n,
        "s": "BNBBTC",
        "t": 12345 + n,
        "p": f"0.0{1000 + n % 9000:04d}",
        "q": f"{100 + n % 50}.00000000",
        "T": 1672515782136 + n,
        "m": n % 2 == 0,
        "M": True,
    }


def depth_payload(n: int, first_id: int = 1000) -> dict[str, Any]:
    """One diff event of ``DEPTH_LEVELS`` levels a side, with update id ``first_id + n``."""
    update_id = first_id + n

    def side(base: int, sign: int) -> list[list[str]]:
        return [
            [f"{base + sign * ((n + i) % 40)}.{i:02d}000000", f"{(n * 7 + i) % 13}.50000000"]
            for i in range(DEPTH_LEVELS)
        ]

    return {
        "e": "depthUpdate",
        "E": 1672515782136 + n,
        "s": "BNBBTC",
        "U": update_id,
        "u": update_id,
        "b": side(100, -1),
        "a": side(200, 1),
    }


def texts(stream: str, count: int, combined: bool) -> list[bytes]:
    make = trade_payload if stream == TRADE_STREAM else depth_payload
    payloads = [make(n) for n in range(count)]
    if combined:
        return [
            json.dumps({"stream": stream, "data": p}, separators=(",", ":")).encode()
            for p in payloads
        ]
    return [json.dumps(p, separators=(",", ":")).encode() for p in payloads]


def ws_frame(payload: bytes) -> bytes:
    """An unmasked server-to-client text frame."""
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 65536:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload


class Blaster:
    """Serves, to any WebSocket client, the frames chosen by the stream name in its path."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.blobs: dict[tuple[str, bool], bytes] = {}
        for stream in (TRADE_STREAM, DEPTH_STREAM):
            for combined in (False, True):
                frames = texts(stream, count, combined)
                self.blobs[stream, combined] = b"".join(ws_frame(f) for f in frames)
        self.port = 0

    async def serve(self, *, task_status: trio.TaskStatus[None]) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        task_status.started()
        await trio.serve_listeners(self._handle, listeners)

    async def _handle(self, stream: trio.SocketStream) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = await stream.receive_some(65536)
            if not chunk:
                return
            request += chunk
        key, path = _KEY.search(request), _PATH.search(request)
        assert key is not None
        assert path is not None
        accept = base64.b64encode(hashlib.sha1(key.group(1) + _GUID).digest())
        await stream.send_all(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        target = path.group(1).decode()
        name = TRADE_STREAM if "trade" in target else DEPTH_STREAM
        await stream.send_all(self.blobs[name, target.startswith("/stream")])
        try:  # the client's close frame (or its control messages): answer with a close
            await stream.receive_some(65536)
            await stream.send_all(b"\x88\x02\x03\xe8")
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        await stream.aclose()

    def url(self, stream: str, combined: bool) -> str:
        base = f"ws://127.0.0.1:{self.port}"
        return f"{base}/stream?streams={stream}" if combined else f"{base}/ws/{stream}"


# --- contenders ---------------------------------------------------------------------------


async def bare(blaster: Blaster, stream: str, combined: bool) -> float:
    start = time.perf_counter()
    async with trio_websocket.open_websocket_url(
        blaster.url(stream, combined), max_message_size=16 * 1024 * 1024
    ) as ws:
        for _ in range(blaster.count):
            await ws.get_message()
    return blaster.count / (time.perf_counter() - start)


async def ours(
    blaster: Blaster, stream: str, combined: bool, transport: TransportName = "trio-websocket"
) -> float:
    start = time.perf_counter()
    taken = 0
    async with trio_binance.market_streams(
        f"ws://127.0.0.1:{blaster.port}",
        [stream],
        raw=not combined,
        transport=transport,
        buffer_size=blaster.count,
        close_timeout=1,
    ) as streams:
        async for _ in streams:
            taken += 1
            if taken == blaster.count:
                break
    return blaster.count / (time.perf_counter() - start)


class _InstantSnapshot:
    """A ``depth`` source answering at once with the book just before the first event."""

    async def depth(self, *, symbol: str, limit: int | None = None) -> OrderBook:
        return OrderBook(last_update_id=1000)


async def book_end_to_end(blaster: Blaster) -> float:
    """Diff depth frames to applied order-book updates, through the public API."""
    final = 1000 + blaster.count - 1
    start = time.perf_counter()
    async with (
        trio_binance.market_streams(
            f"ws://127.0.0.1:{blaster.port}", raw=True, close_timeout=1
        ) as streams,
        trio_binance.local_order_book(
            streams, _InstantSnapshot(), "BNBBTC", buffer_size=blaster.count + 10
        ) as book,
    ):
        async for _ in book.updates():
            if book.last_update_id == final:
                break
    return (blaster.count - 1) / (time.perf_counter() - start)


def book_sans_io(count: int) -> float:
    events = [
        decode_stream_payload(DEPTH_STREAM, json.dumps(depth_payload(n))) for n in range(count)
    ]
    sync = BookSync(buffer_limit=count + 1)
    sync.feed(events[0])  # type: ignore[arg-type]
    sync.apply_snapshot(OrderBook(last_update_id=1000))
    start = time.perf_counter()
    for event in events[1:]:
        sync.feed(event)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - start
    assert sync.last_update_id == 1000 + count - 1
    assert isinstance(events[0], DepthUpdateEvent)
    return (count - 1) / elapsed


# --- the runs -----------------------------------------------------------------------------

CASES: list[tuple[str, str, bool]] = [
    ("trade, combined", TRADE_STREAM, True),
    ("trade, raw", TRADE_STREAM, False),
    ("depth, combined", DEPTH_STREAM, True),
    ("depth, raw", DEPTH_STREAM, False),
]


@contextmanager
def decoding_skipped(stream: str) -> Iterator[None]:
    """Hypothetical: every frame "decodes" to one prepared message (no JSON, no Decimal)."""
    message = StreamMessage(stream, decode_stream_payload(stream, texts(stream, 1, False)[0]))
    original = FrameClassifier.decode
    FrameClassifier.decode = lambda self, frame: message  # type: ignore[method-assign]
    try:
        yield
    finally:
        FrameClassifier.decode = original  # type: ignore[method-assign]


async def measure(
    frames: int, runs: int, breakdown: bool, transport: TransportName = "trio-websocket"
) -> dict[str, Any]:
    blaster = Blaster(frames)
    results: dict[str, Any] = {
        "frames": frames,
        "runs": runs,
        "transport": transport,
        "cases": {},
        "book": {},
    }
    async with trio.open_nursery() as nursery:
        await nursery.start(blaster.serve)
        for label, stream, combined in CASES:
            rates: dict[str, list[float]] = {"bare": [], "ours": [], "ours, no decode": []}
            ratios, undecoded_ratios = [], []
            for _ in range(runs):
                b = await bare(blaster, stream, combined)
                o = await ours(blaster, stream, combined, transport)
                rates["bare"].append(b)
                rates["ours"].append(o)
                ratios.append(o / b)
                if breakdown:
                    with decoding_skipped(stream):
                        u = await ours(blaster, stream, combined, transport)
                    rates["ours, no decode"].append(u)
                    undecoded_ratios.append(u / b)
            results["cases"][label] = {
                "rates": rates,
                "ratios": ratios,
                "no_decode_ratios": undecoded_ratios,
            }
        end_to_end = [await book_end_to_end(blaster) for _ in range(runs)]
        nursery.cancel_scope.cancel()
    results["book"] = {
        "end_to_end": end_to_end,
        "sans_io": [book_sans_io(frames) for _ in range(runs)],
    }
    return results


def report(results: dict[str, Any]) -> None:
    rows = []
    for label, case in results["cases"].items():
        bare_rate = _common.median(case["rates"]["bare"])
        ours_rate = _common.median(case["rates"]["ours"])
        ratio = _common.median(case["ratios"])
        rows.append(
            [
                label,
                f"{bare_rate:,.0f}",
                f"{ours_rate:,.0f}",
                _common.fmt_ratio(ratio),
                "met" if ratio >= 0.85 else "missed",
                f"{_common.spread(case['ratios']):.0%}",
            ]
        )
    _common.print_table(
        ["frames", "bare frames/s", "ours decoded/s", "ours/bare", ">= 0.85x", "ratio spread"],
        rows,
    )
    breakdown = [
        [
            label,
            _common.fmt_ratio(_common.median(case["ratios"])),
            _common.fmt_ratio(_common.median(case["no_decode_ratios"])),
        ]
        for label, case in results["cases"].items()
        if case["no_decode_ratios"]
    ]
    if breakdown:
        print("\nwhere the time goes (hypothetical: frames not decoded, the rest unchanged)")
        _common.print_table(["frames", "ours/bare", "ours without decoding/bare"], breakdown)
    print()
    book = results["book"]
    _common.print_table(
        ["order book", "updates/s (median)"],
        [
            ["BookSync.feed (sans-IO, decoded events)", f"{_common.median(book['sans_io']):,.0f}"],
            [
                "local_order_book end to end (frames -> book)",
                f"{_common.median(book['end_to_end']):,.0f}",
            ],
        ],
    )


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--frames", type=int, default=20_000, help="frames per run")
    parser.add_argument("--runs", type=int, default=7, help="runs per figure (median)")
    parser.add_argument(
        "--breakdown", action="store_true", help="also run ours with decoding skipped"
    )
    parser.add_argument(
        "--transport",
        choices=["trio-websocket", "websockets"],
        default="trio-websocket",
        help="the transport under ours (the bare baseline is always trio-websocket)",
    )
    _common.add_output_arguments(parser)
    args = parser.parse_args(argv)
    if args.frames < 2 or args.runs < 1:
        parser.error("--frames must be at least 2 and --runs at least 1")
    print(_common.describe_machine())
    print(
        f"{args.frames:,} frames per run, {args.runs} runs; depth events carry "
        f"{DEPTH_LEVELS} levels a side; ours on the {args.transport} transport\n"
    )
    results: dict[str, Any] = trio.run(
        measure, args.frames, args.runs, args.breakdown, args.transport
    )
    report(results)
    path = _common.write_results("bench_streams", results, args.json)
    if path is not None:
        print(f"\nwrote {path}")
    return results


if __name__ == "__main__":
    main()
