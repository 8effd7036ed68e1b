"""``python -m trio_binance.testing``: run the local exchange and print its URL and demo keys."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import trio

from trio_binance.testing._activity import MarketActivity
from trio_binance.testing._server import DEFAULT_HOST, LocalExchange


def describe(exchange: LocalExchange) -> str:
    lines = [
        f"local exchange: {exchange.url}",
        f"market streams: {exchange.streams_url}/ws/<stream> or "
        f"{exchange.streams_url}/stream?streams=<stream>/<stream>",
        "",
    ]
    for keys in exchange.demo_keys.values():
        lines += [
            f"account {keys.account}:",
            f"  Ed25519 API key: {keys.ed25519.api_key}",
            "  Ed25519 private key (PEM):",
            *(f"    {line}" for line in keys.ed25519_private_pem.splitlines()),
            f"  HMAC API key:    {keys.hmac.api_key}",
            f"  HMAC secret:     {keys.hmac_secret}",
            "",
        ]
    lines.append("These keys exist only in this process. Ctrl+C stops the exchange.")
    return "\n".join(lines)


async def serve(host: str, port: int, activity_seed: int | None = None) -> None:
    exchange = LocalExchange()
    exchange.demo_keys = exchange.create_demo_keys()
    async with trio.open_nursery() as nursery:
        await nursery.start(exchange.serve, host, port)
        if activity_seed is not None:
            await nursery.start(MarketActivity(seed=activity_seed).run, exchange)
        print(describe(exchange), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trio_binance.testing", description=__doc__)
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="interface to bind (default: loopback)"
    )
    parser.add_argument("--port", type=int, default=9443, help="port (0 picks a free one)")
    parser.add_argument(
        "--activity",
        type=int,
        metavar="SEED",
        help="run background market making and taking (seeded) so the streams carry data",
    )
    args = parser.parse_args(argv)
    try:
        trio.run(serve, args.host, args.port, args.activity)
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
