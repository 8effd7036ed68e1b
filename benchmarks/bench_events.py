"""Events decoded per second: trio_binance's typed decoders against plain JSON parsing.

    python benchmarks/bench_events.py [--runs 7] [--seconds 0.3]

Each cell is the median of ``--runs`` timed runs. ``json.loads`` (and ``orjson.loads`` when
installed) only build dicts of strings and floats; the trio_binance columns produce typed,
frozen Structs with Decimal prices, so they do strictly more work per event.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from trio_binance.models._streams import decode_combined_frame, decode_stream_payload
from trio_binance.models._user_data import decode_user_event

# Payloads from the spec's examples (user-data-stream.md, web-socket-streams.md).
EXECUTION_REPORT = (
    b'{"e":"executionReport","E":1499405658658,"s":"ETHBTC","c":"mUvoqJxFIILMdfAW5iGSOW",'
    b'"S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"0.10264410","P":"0.00000000",'
    b'"F":"0.00000000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE",'
    b'"i":4293153,"l":"0.50000000","z":"0.50000000","L":"0.10264410","n":"0.00050000",'
    b'"N":"BNB","T":1499405658657,"t":1234,"I":8641984,"w":true,"m":false,"M":false,'
    b'"O":1499405658657,"Z":"0.05132205","Y":"0.05132205","Q":"0.00000000",'
    b'"W":1499405658657,"V":"NONE"}'
)
TRADE = (
    b'{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100",'
    b'"T":1672515782136,"m":true,"M":true}'
)


def depth_update(levels: int) -> bytes:
    """A depthUpdate with ``levels`` changed price levels on each side."""
    bids = [[f"{25000 - i * 0.01:.8f}", f"{1 + i * 0.125:.8f}"] for i in range(levels)]
    asks = [[f"{25000.01 + i * 0.01:.8f}", f"{2 + i * 0.25:.8f}"] for i in range(levels)]
    payload = {
        "e": "depthUpdate",
        "E": 1672515782136,
        "s": "BTCUSDT",
        "U": 157,
        "u": 160,
        "b": bids,
        "a": asks,
    }
    return json.dumps(payload, separators=(",", ":")).encode()


DEPTH_10 = depth_update(10)
COMBINED_TRADE = b'{"stream":"bnbbtc@trade","data":' + TRADE + b"}"


def rate(decode: Callable[[bytes], Any], payload: bytes, seconds: float) -> float:
    """Events per second of ``decode(payload)``, measured over about ``seconds``."""
    batch = 1_000
    done = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(batch):
            decode(payload)
        done += batch
    return done / elapsed


def median_rate(decode: Callable[[bytes], Any], payload: bytes, runs: int, seconds: float) -> float:
    return statistics.median(rate(decode, payload, seconds) for _ in range(runs))


def parsers() -> dict[str, Callable[[bytes], Any]]:
    found: dict[str, Callable[[bytes], Any]] = {"json.loads": json.loads}
    try:
        import orjson
    except ImportError:
        return found
    found["orjson.loads"] = orjson.loads
    return found


def cases() -> list[tuple[str, bytes, Callable[[bytes], Any]]]:
    return [
        ("executionReport", EXECUTION_REPORT, decode_user_event),
        ("trade", TRADE, lambda raw: decode_stream_payload("bnbbtc@trade", raw)),
        ("depthUpdate (10+10 levels)", DEPTH_10, lambda raw: decode_stream_payload("x@depth", raw)),
        ("combined trade frame", COMBINED_TRADE, decode_combined_frame),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.3, help="length of one run")
    args = parser.parse_args()

    baselines = parsers()
    header = ["payload", "bytes", "trio_binance ev/s", *(f"{n} ev/s" for n in baselines)]
    header.append("vs json.loads")
    rows = []
    for name, payload, decode in cases():
        ours = median_rate(decode, payload, args.runs, args.seconds)
        theirs = [median_rate(p, payload, args.runs, args.seconds) for p in baselines.values()]
        cells = [f"{ours:,.0f}", *(f"{t:,.0f}" for t in theirs), f"{ours / theirs[0]:.2f}x"]
        rows.append([name, str(len(payload)), *cells])
    print_table(header, rows)
    print(f"\nmedian of {args.runs} runs of {args.seconds}s each")


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        cells = [
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells))


if __name__ == "__main__":
    main()
