"""Reconciling unknown outcomes, and retrying only what is safe, against the local exchange.

The local exchange's real matching engine answers the queries; faults make the outcomes
unknown. Every test checks that the request whose outcome was unknown reached the exchange
exactly once: nothing here ever sends it again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
import trio
import trio.testing

import trio_binance
from trio_binance import (
    ExecutionStatusUnknown,
    InvalidParameter,
    IpBanned,
    NotSent,
    OutcomeUnknown,
    ResponseLost,
    SessionClosed,
)
from trio_binance._credentials import Credentials
from trio_binance._reconcile import (
    CannotReconcile,
    is_idempotent_read,
    reconcile,
    request_with_retry,
)
from trio_binance.models import OrderResult, OrderStatus, ServerTime
from trio_binance.testing import LocalExchange, Reply, open_local_exchange

EPOCH_S = 1_750_000_000.0
# A 5xx the exchange sends without executing the request: the order never reached the engine.
NOT_EXECUTED_503 = Reply(503, -1007, "Timeout waiting for response from backend server.")
# "Timing security": with the default recvWindow, "does not exist" is final after 5 s + 1 s.
FINAL_AFTER = 6.0


def trio_wall_clock() -> float:
    return EPOCH_S + trio.current_time()


@pytest.fixture
async def exchange() -> AsyncIterator[LocalExchange]:
    local = LocalExchange(start_time_ms=int(EPOCH_S * 1000))
    async with open_local_exchange(local) as served:
        yield served


@pytest.fixture
def alice(exchange: LocalExchange) -> Credentials:
    return exchange.create_demo_keys(["alice"])["alice"].ed25519


@pytest.fixture
async def session(
    exchange: LocalExchange, alice: Credentials
) -> AsyncIterator[trio_binance.Session]:
    async with trio_binance.connect(
        exchange.url, credentials=alice, wall_clock=trio_wall_clock
    ) as opened:
        yield opened


async def place_buy(session: trio_binance.Session, client_id: str = "buy-1") -> OrderResult:
    return await session.place_order(
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        time_in_force="GTC",
        price="100",
        quantity="0.1",
        new_client_order_id=client_id,
    )


async def unknown_outcome(call: Any) -> OutcomeUnknown:
    """Await ``call()``, which must fail with an unknown outcome; return that error."""
    with pytest.raises(OutcomeUnknown) as failed:
        await call()
    return failed.value


# --- placing orders ---------------------------------------------------------------------------


async def test_server_error_after_execution_reconciles_to_executed(
    exchange: LocalExchange, session: trio_binance.Session, autojump_clock: trio.testing.MockClock
) -> None:
    exchange.faults.server_error("order.place")  # executes, then answers 503 / -1007
    error = await unknown_outcome(lambda: place_buy(session))
    assert isinstance(error, ExecutionStatusUnknown)
    found = await reconcile(session, error)
    assert found.executed
    assert found.outcome == "executed"
    assert found.order is not None
    assert found.order.client_order_id == "buy-1" == found.client_order_id
    assert found.order.status == OrderStatus.NEW
    assert exchange.requests_seen["order.place"] == 1


async def test_drop_before_execution_reconciles_to_not_executed(
    exchange: LocalExchange,
    session: trio_binance.Session,
    alice: Credentials,
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange.faults.drop("order.place")  # the connection drops before the order runs
    error = await unknown_outcome(lambda: place_buy(session))
    assert isinstance(error, ResponseLost)
    started = trio.current_time()
    async with trio_binance.connect(
        exchange.url, credentials=alice, wall_clock=trio_wall_clock
    ) as fresh:
        found = await reconcile(fresh, error)
    assert found.outcome == "not_executed"
    assert found.order is None
    assert trio.current_time() - started >= FINAL_AFTER  # believed only once it is final
    assert exchange.requests_seen["order.place"] == 1


async def test_drop_after_execution_reconciles_to_executed(
    exchange: LocalExchange, alice: Credentials, autojump_clock: trio.testing.MockClock
) -> None:
    async with trio_binance.connect(
        exchange.url, credentials=alice, wall_clock=trio_wall_clock
    ) as doomed:
        exchange.faults.drop("order.place", after_execute=True)
        error = await unknown_outcome(lambda: place_buy(doomed))
    async with trio_binance.connect(
        exchange.url, credentials=alice, wall_clock=trio_wall_clock
    ) as fresh:
        found = await reconcile(fresh, error)
    assert found.executed
    assert exchange.requests_seen["order.place"] == 1


async def test_an_order_reaching_the_engine_late_is_not_missed(
    exchange: LocalExchange, session: trio_binance.Session, autojump_clock: trio.testing.MockClock
) -> None:
    exchange.faults.arm(NOT_EXECUTED_503, method="order.place")
    error = await unknown_outcome(lambda: place_buy(session, "late-1"))

    async def deliver_late() -> None:
        # The request reaches the matching engine 3 s later, within its recvWindow.
        await trio.sleep(3)
        engine_place = exchange.trading.handler("order.place")
        assert engine_place is not None
        engine_place("alice", error.params, exchange.now_ms())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(deliver_late)
        found = await reconcile(session, error)
    assert found.executed  # the first "does not exist" was not believed
    assert found.queries == 2
    assert exchange.requests_seen["order.place"] == 1


async def test_queries_whose_own_outcome_is_unknown_are_asked_again(
    exchange: LocalExchange, session: trio_binance.Session, autojump_clock: trio.testing.MockClock
) -> None:
    exchange.faults.server_error("order.place")
    error = await unknown_outcome(lambda: place_buy(session))
    exchange.faults.server_error("order.status", times=2)
    found = await reconcile(session, error)
    assert found.executed
    assert found.queries == 3
    assert exchange.requests_seen["order.status"] == 3
    assert exchange.requests_seen["order.place"] == 1


async def test_the_callers_deadline_bounds_reconciliation(
    exchange: LocalExchange, session: trio_binance.Session, autojump_clock: trio.testing.MockClock
) -> None:
    exchange.faults.arm(NOT_EXECUTED_503, method="order.place")
    error = await unknown_outcome(lambda: place_buy(session))
    with pytest.raises(trio.TooSlowError):
        with trio.fail_after(2):
            await reconcile(session, error)
    assert exchange.requests_seen["order.place"] == 1


async def test_a_larger_recv_window_makes_not_found_final_later(
    exchange: LocalExchange, session: trio_binance.Session, autojump_clock: trio.testing.MockClock
) -> None:
    exchange.faults.arm(NOT_EXECUTED_503, method="order.place")
    error = await unknown_outcome(
        lambda: session.place_order(
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            time_in_force="GTC",
            price="100",
            quantity="0.1",
            recv_window=20_000,
        )
    )
    started = trio.current_time()
    found = await reconcile(session, error)
    assert found.outcome == "not_executed"
    assert trio.current_time() - started >= 21


async def test_a_ban_or_a_lost_connection_ends_reconciliation(
    exchange: LocalExchange, session: trio_binance.Session, autojump_clock: trio.testing.MockClock
) -> None:
    exchange.faults.server_error("order.place")
    error = await unknown_outcome(lambda: place_buy(session))
    ban = {"serverTime": 0, "retryAfter": exchange.now_ms() + 120_000}
    exchange.faults.arm(Reply(418, -1003, "IP banned.", ban), method="order.status")
    with pytest.raises(IpBanned):
        await reconcile(session, error)
    exchange.faults.drop("order.status")
    with pytest.raises(SessionClosed):  # ask again on a new session
        await reconcile(session, error)
    assert exchange.requests_seen["order.place"] == 1


# --- cancelling ---------------------------------------------------------------------------------


async def cancel_buy(session: trio_binance.Session, **ids: Any) -> Any:
    return await session.cancel_order(symbol="BTCUSDT", orig_client_order_id="buy-1", **ids)


async def test_unknown_cancel_that_ran_reconciles_to_executed(
    exchange: LocalExchange, session: trio_binance.Session, autojump_clock: trio.testing.MockClock
) -> None:
    await place_buy(session)
    exchange.faults.server_error("order.cancel")
    error = await unknown_outcome(lambda: cancel_buy(session, new_client_order_id="cancel-1"))
    found = await reconcile(session, error)
    assert found.executed
    assert found.order is not None
    assert found.order.status == OrderStatus.CANCELED
    assert found.order.client_order_id == "cancel-1"  # a cancel renames the order
    assert exchange.requests_seen["order.cancel"] == 1


async def test_unknown_cancel_that_did_not_run_leaves_the_order_live(
    exchange: LocalExchange, session: trio_binance.Session, autojump_clock: trio.testing.MockClock
) -> None:
    await place_buy(session)
    exchange.faults.arm(NOT_EXECUTED_503, method="order.cancel")
    error = await unknown_outcome(lambda: cancel_buy(session, new_client_order_id="cancel-1"))
    started = trio.current_time()
    found = await reconcile(session, error)
    assert found.outcome == "not_executed"
    assert found.order is not None
    assert found.order.status == OrderStatus.NEW
    assert trio.current_time() - started >= FINAL_AFTER
    assert exchange.requests_seen["order.cancel"] == 1


async def test_a_cancel_by_order_id_is_found_by_that_id(
    exchange: LocalExchange, session: trio_binance.Session, autojump_clock: trio.testing.MockClock
) -> None:
    placed = await place_buy(session)
    exchange.faults.server_error("order.cancel")
    error = await unknown_outcome(
        lambda: session.cancel_order(symbol="BTCUSDT", order_id=placed.order_id)
    )
    found = await reconcile(session, error)
    assert found.executed
    assert found.order is not None
    assert found.order.order_id == placed.order_id


async def test_a_cancel_known_only_by_the_old_client_id(
    exchange: LocalExchange, session: trio_binance.Session, autojump_clock: trio.testing.MockClock
) -> None:
    await place_buy(session)
    exchange.faults.arm(NOT_EXECUTED_503, method="order.cancel")
    error = await unknown_outcome(lambda: cancel_buy(session))
    found = await reconcile(session, error)  # still there under its old id: not cancelled
    assert found.outcome == "not_executed"

    exchange.faults.server_error("order.cancel")
    error = await unknown_outcome(lambda: cancel_buy(session))
    found = await reconcile(session, error)  # gone, but found under the cancel's own new id
    assert found.outcome == "executed"
    assert exchange.requests_seen["order.cancel"] == 2


async def test_a_cancel_sent_without_a_new_client_id_cannot_be_told(
    exchange: LocalExchange, session: trio_binance.Session, autojump_clock: trio.testing.MockClock
) -> None:
    await place_buy(session)
    exchange.faults.server_error("order.cancel")
    params = {"symbol": "BTCUSDT", "origClientOrderId": "buy-1"}  # the escape hatch adds no id
    error = await unknown_outcome(lambda: session.request("order.cancel", params, signed=True))
    with pytest.raises(CannotReconcile, match="newClientOrderId"):
        await reconcile(session, error)  # gone under an id the exchange chose: which cancel?


async def test_unknown_cancel_replace_reports_both_orders(
    exchange: LocalExchange, session: trio_binance.Session, autojump_clock: trio.testing.MockClock
) -> None:
    await place_buy(session)
    exchange.faults.server_error("order.cancelReplace")
    error = await unknown_outcome(
        lambda: session.cancel_replace_order(
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            cancel_replace_mode="STOP_ON_FAILURE",
            cancel_orig_client_order_id="buy-1",
            cancel_new_client_order_id="buy-1-replaced",
            new_client_order_id="buy-2",
            time_in_force="GTC",
            price="101",
            quantity="0.1",
        )
    )
    found = await reconcile(session, error)
    assert found.executed
    assert found.order is not None
    assert found.order.client_order_id == "buy-2"
    assert found.canceled_order is not None
    assert found.canceled_order.status == OrderStatus.CANCELED
    assert found.canceled_order.client_order_id == "buy-1-replaced"
    assert exchange.requests_seen["order.cancelReplace"] == 1


# --- order lists ----------------------------------------------------------------------------------


async def place_oto(session: trio_binance.Session, list_id: str) -> Any:
    return await session.place_oto(
        symbol="BTCUSDT",
        list_client_order_id=list_id,
        working_type="LIMIT",
        working_side="BUY",
        working_price="100",
        working_quantity="0.1",
        working_time_in_force="GTC",
        pending_type="LIMIT",
        pending_side="SELL",
        pending_price="120",
        pending_quantity="0.1",
        pending_time_in_force="GTC",
    )


async def test_unknown_order_list_placement_reconciles_both_ways(
    exchange: LocalExchange, session: trio_binance.Session, autojump_clock: trio.testing.MockClock
) -> None:
    exchange.faults.server_error("orderList.place.oto")
    error = await unknown_outcome(lambda: place_oto(session, "list-1"))
    found = await reconcile(session, error)
    assert found.executed
    assert found.order_list is not None
    assert found.order_list.list_client_order_id == "list-1"

    exchange.faults.arm(NOT_EXECUTED_503, method="orderList.place.oto")
    error = await unknown_outcome(lambda: place_oto(session, "list-2"))
    found = await reconcile(session, error)
    assert found.outcome == "not_executed"
    assert found.order_list is None
    assert exchange.requests_seen["orderList.place.oto"] == 2


async def test_unknown_order_list_cancel_reconciles_to_executed(
    exchange: LocalExchange, session: trio_binance.Session, autojump_clock: trio.testing.MockClock
) -> None:
    await place_oto(session, "list-1")
    exchange.faults.server_error("orderList.cancel")
    error = await unknown_outcome(
        lambda: session.cancel_order_list(
            symbol="BTCUSDT", list_client_order_id="list-1", new_client_order_id="list-1-x"
        )
    )
    found = await reconcile(session, error)
    assert found.executed
    assert found.order_list is not None
    assert found.order_list.list_client_order_id == "list-1-x"

    placed = await place_oto(session, "list-2")
    exchange.faults.server_error("orderList.cancel")
    error = await unknown_outcome(
        lambda: session.cancel_order_list(symbol="BTCUSDT", order_list_id=placed.order_list_id)
    )
    found = await reconcile(session, error)  # by its numeric id: its orders say cancelled
    assert found.executed

    await place_oto(session, "list-3")
    exchange.faults.arm(NOT_EXECUTED_503, method="orderList.cancel")
    error = await unknown_outcome(
        lambda: session.cancel_order_list(
            symbol="BTCUSDT", list_client_order_id="list-3", new_client_order_id="list-3-x"
        )
    )
    found = await reconcile(session, error)  # still under its old id
    assert found.outcome == "not_executed"
    assert found.order_list is not None
    assert exchange.requests_seen["orderList.cancel"] == 3


# --- what cannot be reconciled -------------------------------------------------------------------


async def test_a_request_without_client_order_id_cannot_be_reconciled(
    session: trio_binance.Session,
) -> None:
    lost = ResponseLost("lost", method="order.place", params={"symbol": "BTCUSDT"})
    with pytest.raises(CannotReconcile, match="newClientOrderId"):
        await reconcile(session, lost)
    read = ResponseLost("lost", method="account.status", params={})
    with pytest.raises(CannotReconcile, match="request_with_retry"):
        await reconcile(session, read)


# --- retrying only what is safe --------------------------------------------------------------


def test_only_reads_count_as_idempotent() -> None:
    assert is_idempotent_read("ping")
    assert is_idempotent_read("v3/order.status")
    assert is_idempotent_read("account.status")
    assert not is_idempotent_read("order.place")
    assert not is_idempotent_read("order.cancel")
    assert not is_idempotent_read("session.logon")  # NONE, but it changes the session
    assert not is_idempotent_read("userDataStream.unsubscribe")
    assert not is_idempotent_read("someFutureMethod")


async def test_a_read_with_unknown_outcome_is_retried(
    exchange: LocalExchange, session: trio_binance.Session, autojump_clock: trio.testing.MockClock
) -> None:
    before = exchange.requests_seen["time"]
    exchange.faults.server_error("time")
    reply = await request_with_retry(session, "time", result_type=ServerTime)
    assert reply.server_time > 0
    assert exchange.requests_seen["time"] == before + 2


async def test_retries_of_a_read_are_bounded(
    exchange: LocalExchange, session: trio_binance.Session, autojump_clock: trio.testing.MockClock
) -> None:
    await place_buy(session)
    exchange.faults.server_error("order.status", times=None)
    with pytest.raises(ExecutionStatusUnknown):
        await request_with_retry(
            session, "order.status", {"symbol": "BTCUSDT", "origClientOrderId": "buy-1"}
        )
    assert exchange.requests_seen["order.status"] == 3


async def test_an_order_with_unknown_outcome_is_never_retried(
    exchange: LocalExchange, session: trio_binance.Session, autojump_clock: trio.testing.MockClock
) -> None:
    exchange.faults.server_error("order.place", after_execute=False)
    params = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "price": "100",
        "quantity": "0.1",
        "newClientOrderId": "once-1",
    }
    with pytest.raises(ExecutionStatusUnknown):
        await request_with_retry(session, "order.place", params, attempts=5)
    assert exchange.requests_seen["order.place"] == 1


class NotSentTwice:
    """A session whose first two requests never leave (as while reconnecting)."""

    def __init__(self, session: trio_binance.Session) -> None:
        self.session = session
        self.refused = 0

    async def request(self, method: str, params: Any = None, **options: Any) -> Any:
        if self.refused < 2:
            self.refused += 1
            raise NotSent(f"{method} not sent: reconnecting", method=method)
        return await self.session.request(method, params, **options)


async def test_a_request_that_was_never_sent_is_retried_even_if_it_changes_something(
    exchange: LocalExchange, session: trio_binance.Session, autojump_clock: trio.testing.MockClock
) -> None:
    flaky = NotSentTwice(session)
    params = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "price": "100",
        "quantity": "0.1",
        "newClientOrderId": "retry-1",
    }
    placed = await request_with_retry(
        cast(trio_binance.Session, flaky), "order.place", params, result_type=OrderResult
    )
    assert placed.client_order_id == "retry-1"
    assert flaky.refused == 2
    assert exchange.requests_seen["order.place"] == 1


async def test_a_closed_session_is_not_retried(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    async with trio_binance.connect(exchange.url) as closed:
        pass
    with pytest.raises(SessionClosed):
        await request_with_retry(closed, "ping")


async def test_attempts_must_allow_one_try(session: trio_binance.Session) -> None:
    with pytest.raises(InvalidParameter):
        await request_with_retry(session, "ping", attempts=0)
