"""Every program in ``examples/`` runs against the local exchange, with a small bound."""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import trio
import trio.testing

import trio_binance
from trio_binance.testing import LocalExchange, open_local_exchange

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` as a module of its own."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


class Lines(io.StringIO):
    """Text written by an example, with a way to wait until it has written enough lines."""

    def __init__(self) -> None:
        super().__init__()
        self._wrote = trio.Event()

    def write(self, text: str) -> int:
        self._wrote.set()
        self._wrote = trio.Event()
        return super().write(text)

    async def wait_for(self, lines: int) -> None:
        while self.getvalue().count("\n") < lines:
            await self._wrote.wait()


market_maker = load("market_maker")
user_data_logger = load("user_data_logger")
order_book_printer = load("order_book_printer")


async def test_the_market_maker_quotes_trades_and_withdraws(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = LocalExchange()
    keys = exchange.create_demo_keys()
    quoting = market_maker.Quoting()
    async with open_local_exchange(exchange):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(
                market_maker.taker, exchange.url, keys["bob"].hmac, quoting,
                market_maker.random.Random(3),
            )  # fmt: skip
            summary = await market_maker.main(
                exchange.url, keys["alice"].ed25519, quoting, rounds=12
            )
            nursery.cancel_scope.cancel()
        async with trio_binance.connect(exchange.url, credentials=keys["alice"].hmac) as session:
            assert await session.open_orders(symbol="BTCUSDT") == []  # withdrawn on the way out
            trades = await session.my_trades(symbol="BTCUSDT")
    assert summary.placed >= 2  # both sides quoted
    assert summary.replaced >= 1  # and moved when the price moved
    assert summary.fills == len(trades) > 0
    signed = sum((t.qty if t.is_buyer else -t.qty) for t in trades)
    assert summary.position == signed  # fills tracked from user data match the exchange's
    assert summary.open_quotes_at_exit >= 1
    assert all(t.is_maker for t in trades)  # LIMIT_MAKER quotes never take


def test_the_market_maker_rounds_quotes_away_from_the_fair_price() -> None:
    from decimal import Decimal

    maker = market_maker.MarketMaker(None, market_maker.Quoting(), Decimal("0.01"))
    assert maker.target("BUY", Decimal("30000")) == Decimal("29970.00")
    assert maker.target("SELL", Decimal("30000.01")) == Decimal("30030.02")


async def test_the_market_maker_runs_locally(autojump_clock: trio.testing.MockClock) -> None:
    summary = await market_maker.run_locally(market_maker.Quoting(), rounds=6)
    assert summary.log[-1].startswith("placed ")


async def test_the_user_data_logger_writes_one_json_line_per_event(
    autojump_clock: trio.testing.MockClock,
) -> None:
    out = io.StringIO()
    assert await user_data_logger.run_locally(out, max_events=8) == 8
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [event["e"] for event in events] == ["executionReport", "outboundAccountPosition"] * 4
    assert [event["X"] for event in events[::2]] == ["NEW", "CANCELED"] * 2
    assert events[0]["p"] == "29000.00000000"
    assert all(event["received"] >= event["E"] for event in events)


async def test_the_user_data_logger_subscribes_again_after_a_drop(
    local_exchange: LocalExchange,
    exchange_session: trio_binance.Session,
    autojump_clock: trio.testing.MockClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = Lines()
    alice = local_exchange.demo_keys["alice"]
    order: dict[str, Any] = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "time_in_force": "GTC",
             "price": "1000", "quantity": "0.01"}  # fmt: skip
    async with trio.open_nursery() as nursery:
        await nursery.start(
            lambda task_status: user_data_logger.main(
                local_exchange.url, alice.hmac, out, max_events=4, task_status=task_status
            )
        )
        await exchange_session.place_order(**order)  # two events
        await out.wait_for(2)
        [first] = local_exchange.user_streams.subscriptions("alice")
        await first.connection.drop()

        def resubscribed() -> bool:
            live = local_exchange.user_streams.subscriptions("alice")
            return bool(live) and live[0].connection is not first.connection

        # Nothing announces a new subscription; under the mock clock a poll costs nothing.
        while not resubscribed():  # noqa: ASYNC110
            await trio.sleep(0.01)
        await exchange_session.place_order(**order)  # two more, on the new subscription
    assert out.getvalue().count("\n") == 4
    assert "stream ended (UserDataStreamLost" in capsys.readouterr().err


async def test_the_order_book_printer_prints_consistent_ladders(
    autojump_clock: trio.testing.MockClock,
) -> None:
    from decimal import Decimal

    lines: list[str] = []
    assert await order_book_printer.run_locally(max_prints=40, echo=lines.append) == 40
    ladders: list[list[str]] = []
    for line in lines:
        if line.startswith("BTCUSDT update "):
            assert line.endswith("(synced)")
            ladders.append([])
        else:
            ladders[-1].append(line)
    full = [ladder for ladder in ladders if any("spread" in line for line in ladder)]
    assert full, "the simulated market quotes both sides"
    for ladder in full:
        prices = [Decimal(line.split()[1]) for line in ladder if "spread" not in line]
        assert prices == sorted(prices, reverse=True)  # asks high to low, then bids
        spread = next(line for line in ladder if "spread" in line)
        assert Decimal(spread.split()[2]) > 0  # never crossed


def test_the_tiny_bot_suite_passes_with_the_plugin_fixtures(pytester: pytest.Pytester) -> None:
    for name in ("bot.py", "test_bot.py"):
        shutil.copy(EXAMPLES / "tiny_bot" / name, pytester.path / name)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=3)
