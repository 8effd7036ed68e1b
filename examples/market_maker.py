"""A market maker: quotes both sides around a fair price, moves its quotes with
``order.cancelReplace`` when the price moves, and tracks its fills from user data.

Against the embedded local exchange, where a simulated trader takes its quotes::

    python examples/market_maker.py

Against Binance (testnet here) with your own key, from ``BINANCE_API_KEY`` plus
``BINANCE_PRIVATE_KEY_PATH`` (or ``BINANCE_API_SECRET``)::

    python examples/market_maker.py --url wss://ws-api.testnet.binance.vision/ws-api/v3

Quotes are ``LIMIT_MAKER`` (post-only): the exchange rejects one that would trade at once, so
the maker never crosses the spread by accident. Leaving, it cancels whatever it still quotes.
"""

from __future__ import annotations

import argparse
import random
from contextlib import suppress
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import trio

import trio_binance
from trio_binance.models import ExecutionReport, ExecutionType

SIDES = ("BUY", "SELL")
TRADE = ExecutionType.TRADE


@dataclass(frozen=True)
class Quoting:
    """What to quote, how wide and how often."""

    symbol: str = "BTCUSDT"
    half_spread: Decimal = Decimal("0.001")  # 0.1 % below and above the fair price
    size: Decimal = Decimal("0.01")
    interval: float = 1.0  # seconds between quote refreshes
    reference_price: Decimal = Decimal("30000")  # fair price until the symbol has traded


@dataclass
class Summary:
    """What a run did, for the log and for tests."""

    placed: int = 0
    replaced: int = 0
    fills: int = 0
    position: Decimal = Decimal(0)  # base asset bought minus sold
    open_quotes_at_exit: int = 0
    log: list[str] = field(default_factory=list)


@dataclass
class Quote:
    client_order_id: str
    price: Decimal


class MarketMaker:
    def __init__(self, session: trio_binance.Session, quoting: Quoting, tick: Decimal) -> None:
        self.session = session
        self.quoting = quoting
        self.tick = tick
        self.orders = trio_binance.OrderTracker()
        self.quotes: dict[str, Quote] = {}  # by side
        self.summary = Summary()

    def say(self, text: str) -> None:
        self.summary.log.append(text)
        print(text, flush=True)

    async def track_fills(self, *, task_status: trio.TaskStatus[None]) -> None:
        async with self.session.user_data() as events:
            task_status.started()
            async for event in events:
                self.orders.apply(event)
                if (
                    isinstance(event, ExecutionReport)
                    and event.execution_type == ExecutionType.TRADE
                ):
                    self.record_fill(event)

    def record_fill(self, report: ExecutionReport) -> None:
        sign = 1 if report.side.value == "BUY" else -1
        self.summary.fills += 1
        self.summary.position += sign * report.last_executed_quantity
        self.say(
            f"filled {report.side.value} {report.last_executed_quantity.normalize():f} @ "
            f"{report.last_executed_price.normalize():f}; position "
            f"{self.summary.position.normalize():f}"
        )

    async def fair_price(self) -> Decimal:
        trades = await self.session.recent_trades(symbol=self.quoting.symbol, limit=1)
        return trades[-1].price if trades else self.quoting.reference_price

    def target(self, side: str, fair: Decimal) -> Decimal:
        """A price on the tick grid, at least ``half_spread`` away from ``fair``."""
        if side == "BUY":
            raw, rounding = fair * (1 - self.quoting.half_spread), ROUND_FLOOR
        else:
            raw, rounding = fair * (1 + self.quoting.half_spread), ROUND_CEILING
        return (raw / self.tick).to_integral_value(rounding) * self.tick

    def still_live(self, side: str) -> Quote | None:
        quote = self.quotes.get(side)
        if quote is None:
            return None
        tracked = self.orders.by_client_order_id(quote.client_order_id)
        if tracked is not None and tracked.is_final:  # filled, or canceled by someone
            del self.quotes[side]
            return None
        return quote  # live, or so new that its first event has not arrived yet

    async def requote(self, side: str, price: Decimal) -> None:
        quote = self.still_live(side)
        if quote is not None and quote.price == price:
            return
        order: dict[str, Any] = {
            "symbol": self.quoting.symbol, "side": side, "type": "LIMIT_MAKER", "price": price,
            "quantity": self.quoting.size,
        }  # fmt: skip
        if quote is None:
            placed = await self.session.place_order(**order)
            self.summary.placed += 1
            self.quotes[side] = Quote(placed.client_order_id, price)
            return
        try:
            replaced = await self.session.cancel_replace_order(
                cancel_replace_mode="STOP_ON_FAILURE",
                cancel_orig_client_order_id=quote.client_order_id,
                **order,
            )
        except trio_binance.CancelReplaceError:
            del self.quotes[side]  # filled meanwhile: quote afresh next round
            return
        new_order = replaced.new_order_response
        assert new_order is not None
        assert new_order.client_order_id is not None
        self.summary.replaced += 1
        self.quotes[side] = Quote(new_order.client_order_id, price)

    async def refresh(self) -> None:
        fair = await self.fair_price()
        for side in SIDES:
            try:
                await self.requote(side, self.target(side, fair))
            except trio_binance.BadRequest as error:  # e.g. LIMIT_MAKER would have crossed
                self.say(f"{side} quote refused: {error.msg}")

    async def withdraw(self) -> None:
        """Cancel every quote still out there, even while being cancelled ourselves."""
        with trio.CancelScope(shield=True), trio.move_on_after(10):
            self.summary.open_quotes_at_exit = len(
                await self.session.open_orders(symbol=self.quoting.symbol)
            )
            if self.summary.open_quotes_at_exit:
                await self.session.cancel_open_orders(symbol=self.quoting.symbol)


async def tick_size(session: trio_binance.Session, symbol: str) -> Decimal:
    info = await session.exchange_info(symbol=symbol)
    [price_filter] = [f for f in info.symbols[0].filters if f.filter_type.value == "PRICE_FILTER"]
    assert price_filter.tick_size is not None
    return price_filter.tick_size


async def main(
    url: str, credentials: trio_binance.Credentials, quoting: Quoting, *, rounds: int | None = None
) -> Summary:
    """Quote for ``rounds`` refreshes (forever when None), then withdraw the quotes."""
    async with trio_binance.connect(url, credentials=credentials) as session:
        maker = MarketMaker(session, quoting, await tick_size(session, quoting.symbol))
        async with trio.open_nursery() as nursery:
            await nursery.start(maker.track_fills)
            try:
                done = 0
                while rounds is None or done < rounds:
                    await maker.refresh()
                    done += 1
                    await trio.sleep(quoting.interval)
            finally:
                await maker.withdraw()
            nursery.cancel_scope.cancel()
    summary = maker.summary
    maker.say(
        f"placed {summary.placed}, replaced {summary.replaced}, {summary.fills} fills, "
        f"position {summary.position.normalize():f}"
    )
    return summary


# --- running it against the embedded local exchange -----------------------------------------


async def taker(
    url: str, credentials: trio_binance.Credentials, quoting: Quoting, rng: random.Random
) -> None:
    """Someone else in the market: a small market order every now and then."""
    async with trio_binance.connect(url, credentials=credentials) as session:
        while True:
            await trio.sleep(quoting.interval * rng.uniform(0.5, 2))
            with suppress(trio_binance.BadRequest):  # nothing to trade with on that side yet
                await session.place_order(
                    symbol=quoting.symbol, side=rng.choice(SIDES), type="MARKET",
                    quantity=quoting.size / 2,
                )  # fmt: skip


async def run_locally(quoting: Quoting, *, rounds: int | None, seed: int = 1) -> Summary:
    from trio_binance.testing import LocalExchange, open_local_exchange

    exchange = LocalExchange()
    keys = exchange.create_demo_keys()
    async with open_local_exchange(exchange), trio.open_nursery() as nursery:
        nursery.start_soon(taker, exchange.url, keys["bob"].hmac, quoting, random.Random(seed))
        summary = await main(exchange.url, keys["alice"].ed25519, quoting, rounds=rounds)
        nursery.cancel_scope.cancel()
    return summary


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="WebSocket API URL (default: an embedded local exchange)")
    parser.add_argument("--symbol", default=Quoting.symbol)
    parser.add_argument("--size", type=Decimal, default=Quoting.size)
    parser.add_argument("--rounds", type=int, default=20, help="quote refreshes (default 20)")
    args = parser.parse_args()
    quoting = Quoting(symbol=args.symbol, size=args.size)
    if args.url is None:
        trio.run(lambda: run_locally(quoting, rounds=args.rounds))
    else:
        credentials = trio_binance.credentials_from_env()
        trio.run(lambda: main(args.url, credentials, quoting, rounds=args.rounds))


if __name__ == "__main__":
    cli()
