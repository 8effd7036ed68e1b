"""User data from the real matching engine: each order lifecycle arrives typed and in order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import trio

import trio_binance
from trio_binance import BalancesView, OrderTracker, UserDataStream
from trio_binance.models import (
    ExecutionReport,
    ListStatus,
    OutboundAccountPosition,
    UnknownUserEvent,
)
from trio_binance.testing import LocalExchange

SYMBOL = "BTCUSDT"


async def next_events(events: UserDataStream, count: int) -> list[Any]:
    got = []
    with trio.fail_after(5):
        async for event in events:
            got.append(event)
            if len(got) == count:
                break
    return got


def reports(events: list[Any]) -> list[tuple[str, str]]:
    return [(e.execution_type, e.order_status) for e in events if isinstance(e, ExecutionReport)]


async def test_order_lifecycles_arrive_typed_and_in_order(local_exchange: LocalExchange) -> None:
    keys = local_exchange.demo_keys
    async with (
        trio_binance.connect(local_exchange.url, credentials=keys["alice"].ed25519) as alice,
        trio_binance.connect(local_exchange.url, credentials=keys["bob"].ed25519) as bob,
        alice.user_data() as events,
    ):
        tracker, balances = OrderTracker(), BalancesView()
        resting = await alice.place_order(
            symbol=SYMBOL,
            side="SELL",
            type="LIMIT",
            time_in_force="GTC",
            price="30000",
            quantity="1",
        )
        new = await next_events(events, 2)
        assert reports(new) == [("NEW", "NEW")]
        assert isinstance(new[1], OutboundAccountPosition)

        await bob.place_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.4")
        await bob.place_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.6")
        fills = await next_events(events, 4)
        assert reports(fills) == [("TRADE", "PARTIALLY_FILLED"), ("TRADE", "FILLED")]
        for event in new + fills:
            tracker.apply(event)
            balances.apply(event)
        order = tracker.by_client_order_id(resting.client_order_id)
        assert order is not None
        assert order.is_final
        assert order.average_price == Decimal("30000")
        usdt = balances.snapshot()["USDT"]
        assert usdt.free + usdt.locked > 0

        cancelled = await alice.place_order(
            symbol=SYMBOL,
            side="BUY",
            type="LIMIT",
            time_in_force="GTC",
            price="20000",
            quantity="1",
        )
        await alice.cancel_order(symbol=SYMBOL, order_id=cancelled.order_id)
        expired = await alice.place_order(
            symbol=SYMBOL,
            side="BUY",
            type="LIMIT",
            time_in_force="IOC",
            price="20000",
            quantity="1",
        )
        lifecycle = await next_events(events, 6)
        assert reports(lifecycle) == [
            ("NEW", "NEW"),
            ("CANCELED", "CANCELED"),
            ("NEW", "NEW"),
            ("EXPIRED", "EXPIRED"),
        ]
        assert expired.status == "EXPIRED"
        with pytest.raises(trio_binance.BadRequest):
            await alice.place_order(  # rejected before it exists: no event (as on Binance)
                symbol=SYMBOL,
                side="BUY",
                type="LIMIT",
                time_in_force="GTC",
                price="20000",
                quantity="1000000",
            )

        oco = await alice.place_oco(
            symbol=SYMBOL,
            side="SELL",
            quantity="0.1",
            above_type="LIMIT_MAKER",
            above_price="40000",
            below_type="STOP_LOSS_LIMIT",
            below_price="19000",
            below_stop_price="19500",
            below_time_in_force="GTC",
        )
        placed = await next_events(events, 4)
        assert sorted(reports(placed)) == [("NEW", "NEW"), ("NEW", "NEW")]
        statuses = [e for e in placed if isinstance(e, ListStatus)]
        assert [s.order_list_id for s in statuses] == [oco.order_list_id]
        assert not any(isinstance(e, UnknownUserEvent) for e in new + fills + lifecycle + placed)


async def test_two_accounts_on_one_connection_are_routed_by_subscription(
    local_exchange: LocalExchange,
) -> None:
    keys = local_exchange.demo_keys
    async with (
        trio_binance.connect(local_exchange.url, credentials=keys["alice"].ed25519) as session,
        session.user_data() as alice_events,
        session.user_data(credentials=keys["bob"].hmac) as bob_events,
        trio_binance.connect(local_exchange.url, credentials=keys["bob"].hmac) as bob,
    ):
        assert alice_events.subscription_id != bob_events.subscription_id
        await bob.place_order(
            symbol=SYMBOL,
            side="BUY",
            type="LIMIT",
            time_in_force="GTC",
            price="20000",
            quantity="1",
        )
        (report, _position) = await next_events(bob_events, 2)
        assert isinstance(report, ExecutionReport)
        await session.place_order(
            symbol=SYMBOL,
            side="BUY",
            type="LIMIT",
            time_in_force="GTC",
            price="20001",
            quantity="1",
        )
        (mine, _) = await next_events(alice_events, 2)
        assert isinstance(mine, ExecutionReport)
        assert mine.price == Decimal("20001")
        assert report.price == Decimal("20000")
