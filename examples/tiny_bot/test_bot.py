"""Testing the tiny bot against the local exchange, with trio_binance's pytest fixtures.

``local_exchange`` is a running local exchange with demo keys for ``alice`` and ``bob``;
``exchange_session`` is a session logged on as alice. Run with pytest and pytest-trio::

    pytest examples/tiny_bot

Time is Trio's mock clock (``autojump_clock``): the bot's one-second polls cost nothing.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio
import trio.testing
from bot import DipBuyer  # the bot beside this file

import trio_binance
from trio_binance.models import OrderResult
from trio_binance.testing import LocalExchange


async def make_a_trade(exchange: LocalExchange, price: str) -> None:
    """Make the market trade at ``price``: bob offers 0.001 BTC there, alice takes it."""
    bob, alice = exchange.demo_keys["bob"], exchange.demo_keys["alice"]
    async with (
        trio_binance.connect(exchange.url, credentials=bob.hmac) as seller,
        trio_binance.connect(exchange.url, credentials=alice.hmac) as buyer,
    ):
        await seller.place_order(
            symbol="BTCUSDT", side="SELL", type="LIMIT", time_in_force="GTC", price=price,
            quantity="0.001",
        )  # fmt: skip
        await buyer.place_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")


def test_a_dip_is_five_percent_below_the_high() -> None:
    bot = DipBuyer()
    assert bot.is_dip(Decimal(100), Decimal(95))
    assert not bot.is_dip(Decimal(100), Decimal("95.01"))


@pytest.mark.trio  # not needed with trio_mode = true, harmless with it
async def test_the_bot_buys_once_the_price_dips(
    local_exchange: LocalExchange,
    exchange_session: trio_binance.Session,
    autojump_clock: trio.testing.MockClock,
) -> None:
    bot = DipBuyer()
    await make_a_trade(local_exchange, "30000")
    # Liquidity for the bot's market buy, above the dip price.
    async with trio_binance.connect(
        local_exchange.url, credentials=local_exchange.demo_keys["bob"].hmac
    ) as bob:
        await bob.place_order(
            symbol="BTCUSDT", side="SELL", type="LIMIT", time_in_force="GTC", price="28600",
            quantity="1",
        )  # fmt: skip
    bought: list[OrderResult] = []
    done = trio.Event()

    async def run_bot() -> None:
        bought.append(await bot.run(exchange_session))
        done.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(run_bot)
        await trio.sleep(10)  # a quiet market: no dip, no order
        assert local_exchange.requests_seen["order.place"] == 3
        await make_a_trade(local_exchange, "28500")  # -5 %
        with trio.fail_after(5):  # the bot polls every second
            await done.wait()
    [order] = bought
    assert order.status == "FILLED"
    assert order.executed_qty == Decimal("0.01")


@pytest.mark.trio  # not needed with trio_mode = true, harmless with it
async def test_the_bot_does_nothing_in_a_market_that_never_trades(
    local_exchange: LocalExchange,
    exchange_session: trio_binance.Session,
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.move_on_after(60):  # three server pings on the way
        await DipBuyer().run(exchange_session)
    assert local_exchange.requests_seen["order.place"] == 0
    assert local_exchange.requests_seen["trades.recent"] >= 60
