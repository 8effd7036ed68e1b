"""A tiny bot worth testing: buy the dip.

It watches the last trade price of a symbol; when the price has fallen ``dip`` (a fraction)
below the highest price it saw, it buys ``size`` with a market order, once, and reports the
fill. ``test_bot.py`` tests it against the local exchange with trio_binance's pytest fixtures.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import trio

import trio_binance
from trio_binance.models import OrderResult


@dataclass(frozen=True)
class DipBuyer:
    symbol: str = "BTCUSDT"
    dip: Decimal = Decimal("0.05")
    size: Decimal = Decimal("0.01")
    poll_interval: float = 1.0  # seconds

    def is_dip(self, high: Decimal, price: Decimal) -> bool:
        return price <= high * (1 - self.dip)

    async def last_price(self, session: trio_binance.Session) -> Decimal | None:
        trades = await session.recent_trades(symbol=self.symbol, limit=1)
        return trades[-1].price if trades else None

    async def run(self, session: trio_binance.Session) -> OrderResult:
        """Watch until the dip comes, buy, return the order. Bound it with trio.fail_after."""
        high: Decimal | None = None
        while True:
            price = await self.last_price(session)
            if price is not None:
                high = price if high is None else max(high, price)
                if self.is_dip(high, price):
                    return await session.place_order(
                        symbol=self.symbol, side="BUY", type="MARKET", quantity=self.size
                    )
            await trio.sleep(self.poll_interval)
