"""An order-book printer: the top of a symbol's book, printed whenever it changes.

The book is a ``local_order_book``: a ``depth`` snapshot from the WebSocket API plus the
``<symbol>@depth@100ms`` diff stream, kept consistent and resynchronised by itself when an
update goes missing. Each print shows the book's update id, its status and the best levels.

Against the embedded local exchange, with a simulated market trading BTCUSDT::

    python examples/order_book_printer.py

Against Binance (public data, no key needed)::

    python examples/order_book_printer.py --url wss://ws-api.binance.com:443/ws-api/v3 \\
        --streams-url wss://stream.binance.com:9443 --symbol ETHBTC
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import trio

import trio_binance
from trio_binance.models import PriceLevel


def ladder(book: trio_binance.LocalOrderBook, levels: int) -> list[str]:
    """The best ``levels`` asks (highest first) above the best bids, one line each."""
    asks = list(reversed(book.asks(levels)))
    bids = list(book.bids(levels))
    lines = [f"  ask {_level(level)}" for level in asks]
    best_bid, best_ask = book.best_bid(), book.best_ask()
    if best_bid and best_ask:
        lines.append(f"  --- spread {(best_ask.price - best_bid.price).normalize():f} ---")
    lines += [f"  bid {_level(level)}" for level in bids]
    return lines


def _level(level: PriceLevel) -> str:
    return f"{level.price.normalize():>12f} x {level.qty.normalize():f}"


async def main(
    url: str,
    streams_url: str,
    *,
    symbol: str = "BTCUSDT",
    levels: int = 5,
    max_prints: int | None = None,
    echo: Callable[[str], object] = print,
) -> int:
    """Print the top ``levels`` of ``symbol``'s book on every change; the number of prints."""
    printed = 0
    async with (
        trio_binance.connect(url) as session,
        trio_binance.market_streams(streams_url) as streams,
        trio_binance.local_order_book(streams, session, symbol) as book,
    ):
        await book.wait_synced()
        async for update in book.updates():
            echo(f"{symbol} update {update.last_update_id} ({update.status.value})")
            for line in ladder(book, levels):
                echo(line)
            printed += 1
            if printed == max_prints:
                break
    return printed


async def run_locally(*, max_prints: int | None, echo: Callable[[str], object] = print) -> int:
    from trio_binance.testing import MarketActivity, open_local_exchange

    async with open_local_exchange(activity=MarketActivity(seed=1, interval=0.2)) as exchange:
        return await main(exchange.url, exchange.streams_url, max_prints=max_prints, echo=echo)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="WebSocket API URL (default: an embedded local exchange)")
    parser.add_argument("--streams-url", default=trio_binance.STREAMS_PRODUCTION)
    parser.add_argument("--symbol", default="BTCUSDT")
    parser.add_argument("--levels", type=int, default=5)
    parser.add_argument("--max-prints", type=int, help="stop after this many prints")
    args = parser.parse_args()
    if args.url is None:
        trio.run(lambda: run_locally(max_prints=args.max_prints or 20))
    else:
        trio.run(
            lambda: main(
                args.url, args.streams_url, symbol=args.symbol, levels=args.levels,
                max_prints=args.max_prints,
            )
        )  # fmt: skip


if __name__ == "__main__":
    cli()
