"""Background trading on the local exchange, so market streams, demos and benchmarks have
live data: a market maker quoting around a drifting mid price and a taker trading against it.

Off by default. Driven by trio's clock and a seeded random generator, so a run is the same
every time (and runs in no real time under ``autojump_clock``)::

    async with open_local_exchange(activity=MarketActivity(seed=7)) as exchange:
        ...  # btcusdt@trade, btcusdt@depth, ... now carry events

The maker and taker are accounts of their own (``activity-maker``, ``activity-taker``) with
ample balances; they trade through :meth:`LocalExchange.act`, so their orders go through the
same checks, matching and streams as anyone's. A refused order (a filter, a price that drifted
out of band) is counted in ``refused`` and skipped.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any, Final, NoReturn

import trio

from trio_binance.testing._config import (
    LotSize,
    MinNotional,
    Notional,
    PriceFilter,
    SymbolConfig,
    account_config,
)
from trio_binance.testing._errors import ExchangeError

if TYPE_CHECKING:
    from trio_binance.testing._server import LocalExchange

logger = logging.getLogger("trio_binance.testing")

MAKER: Final = "activity-maker"
TAKER: Final = "activity-taker"
_PLENTY: Final = Decimal(10) ** 12
DEFAULT_PRICES: Final[Mapping[str, Decimal]] = {
    "BTCUSDT": Decimal("30000"),
    "ETHUSDT": Decimal("2000"),
    "ETHBTC": Decimal("0.06"),
}
"""Where the mid price starts for the default symbols (others: their last price, else 100)."""


class MarketActivity:
    """A market maker and a taker trading ``symbols`` (default: every symbol).

    Every ``interval`` seconds of trio time one action happens: the maker adds a quote
    within ``levels`` ticks-steps of the mid (or pulls one when it has ``2 * levels`` per
    side), or the taker sends a market order; the mid moves a step now and then.
    """

    def __init__(
        self,
        *,
        symbols: Iterable[str] | None = None,
        seed: int = 0,
        interval: float = 0.05,
        levels: int = 5,
        prices: Mapping[str, Decimal | str] | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        if levels < 1:
            raise ValueError("levels must be at least 1")
        self.symbols = tuple(symbols) if symbols is not None else None
        self.interval = interval
        self.levels = levels
        self.actions: Counter[str] = Counter()
        """What was done so far: ``quote``, ``pull``, ``take`` and ``drift`` counts."""
        self.refused = 0
        """Orders the exchange refused (skipped)."""
        self._rng = random.Random(seed)
        self._start_prices = {name: Decimal(price) for name, price in (prices or {}).items()}
        self._mids: dict[str, Decimal] = {}

    async def run(
        self,
        exchange: LocalExchange,
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> NoReturn:
        """Trade on ``exchange`` until cancelled."""
        self.prepare(exchange)
        task_status.started()
        while True:
            await trio.sleep(self.interval)
            self.step(exchange)

    def prepare(self, exchange: LocalExchange) -> None:
        """Open the maker and taker accounts (once) and fix the starting mid prices."""
        engine = exchange.engine
        symbols = self.symbols or tuple(engine.symbol_names())
        self.symbols = symbols
        assets = {asset for name in symbols for asset in _assets(engine.symbol(name).config)}
        balances = dict.fromkeys(sorted(assets), _PLENTY)
        for account in (MAKER, TAKER):
            if account not in engine.account_ids():
                engine.open_account(account_config(account, balances))
        for name in symbols:
            if name not in self._mids:
                self._mids[name] = self._start_price(exchange, name)

    def step(self, exchange: LocalExchange) -> None:
        """One action (``prepare`` first)."""
        rng = self._rng
        symbol = rng.choice(self.symbols or ())
        config = exchange.engine.symbol(symbol).config
        choice = rng.random()
        if choice < 0.1:
            self._drift(symbol, config)
        elif choice < 0.7:
            self._quote(exchange, symbol, config)
        else:
            self._take(exchange, symbol, config)

    # --- actions ---

    def _drift(self, symbol: str, config: SymbolConfig) -> None:
        tick = _tick(config)
        self._mids[symbol] = max(tick, self._mids[symbol] + tick * self._rng.choice((-1, 1)))
        self.actions["drift"] += 1

    def _quote(self, exchange: LocalExchange, symbol: str, config: SymbolConfig) -> None:
        side = self._rng.choice(("BUY", "SELL"))
        mine = [
            order
            for (name, _), order in exchange.engine.account(MAKER).open_orders.items()
            if name == symbol and order.side == side
        ]
        if len(mine) >= 2 * self.levels:
            order = self._rng.choice(mine)
            self._act(
                exchange, "pull", "order.cancel", {"symbol": symbol, "orderId": order.order_id}
            )
            return
        tick = _tick(config)
        away = tick * self._rng.randint(1, self.levels)
        price = self._mids[symbol] - away if side == "BUY" else self._mids[symbol] + away
        if price <= 0:
            return
        params = {
            "symbol": symbol,
            "side": side,
            "type": "LIMIT",
            "timeInForce": "GTC",
            "price": str(price),
            "quantity": str(self._quantity(config, price)),
            "newOrderRespType": "ACK",
        }
        self._act(exchange, "quote", "order.place", params, account=MAKER)

    def _take(self, exchange: LocalExchange, symbol: str, config: SymbolConfig) -> None:
        side = self._rng.choice(("BUY", "SELL"))
        params = {
            "symbol": symbol,
            "side": side,
            "type": "MARKET",
            "quantity": str(self._quantity(config, self._mids[symbol])),
            "newOrderRespType": "ACK",
        }
        self._act(exchange, "take", "order.place", params, account=TAKER)

    def _act(
        self,
        exchange: LocalExchange,
        action: str,
        method: str,
        params: dict[str, Any],
        *,
        account: str = MAKER,
    ) -> None:
        try:
            exchange.act(account, method, params)
        except ExchangeError as error:
            self.refused += 1
            logger.debug("activity: %s %s refused: %s", method, params.get("symbol"), error.msg)
            return
        self.actions[action] += 1

    # --- sizes and prices ---

    def _quantity(self, config: SymbolConfig, price: Decimal) -> Decimal:
        """A few times the smallest quantity the filters allow at ``price``."""
        lot = config.find_filter(LotSize)
        step = lot.step_size if lot is not None and lot.step_size else Decimal("0.00001")
        smallest = lot.min_qty if lot is not None else step
        notional = _min_notional(config)
        if notional and price:
            smallest = max(smallest, notional / price)
        units = (smallest / step).to_integral_value(rounding=ROUND_DOWN) + 1
        return (units * step * self._rng.randint(1, 5)).normalize()

    def _start_price(self, exchange: LocalExchange, symbol: str) -> Decimal:
        config = exchange.engine.symbol(symbol).config
        price = (
            self._start_prices.get(symbol)
            or exchange.engine.last_price(symbol)
            or DEFAULT_PRICES.get(symbol)
            or Decimal(100)
        )
        tick = _tick(config)
        return max(tick, (price / tick).to_integral_value() * tick)


def _assets(config: SymbolConfig) -> tuple[str, str]:
    return config.base_asset, config.quote_asset


def _tick(config: SymbolConfig) -> Decimal:
    found = config.find_filter(PriceFilter)
    return found.tick_size if found is not None and found.tick_size else Decimal("0.01")


def _min_notional(config: SymbolConfig) -> Decimal:
    found = config.find_filter(Notional) or config.find_filter(MinNotional)
    return found.min_notional if found is not None else Decimal(0)
