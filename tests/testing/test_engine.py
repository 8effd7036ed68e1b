"""The matching engine: priority, fills, locks, commissions, STP, triggers and order lists."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from trio_binance.testing._config import ExchangeConfig, account_config, symbol_config
from trio_binance.testing._engine import (
    CanceledList,
    CanceledOrder,
    Effects,
    Exchange,
    ExchangeError,
    ExecutionRecord,
    ListStatusRecord,
    Order,
    OrderRequest,
    PlacedList,
)

D = Decimal
START = {"BTC": "100", "USDT": "100000"}


def make_exchange(**symbol_options: object) -> Exchange:
    symbol = symbol_config(
        "BTCUSDT",
        "BTC",
        "USDT",
        tick_size="1",
        min_price="1",
        step_size="0.1",
        min_qty="0.1",
        min_notional="0",
        percent_price=None,
        max_num_algo_orders=50,
        **symbol_options,  # type: ignore[arg-type]
    )
    accounts = tuple(
        account_config(name, START, maker_commission="0.001", taker_commission="0.002")
        for name in ("alice", "bob", "carol")
    )
    return Exchange(ExchangeConfig((symbol,), accounts))


class Desk:
    """Places orders on an exchange with a clock and fresh client ids."""

    def __init__(self, exchange: Exchange | None = None) -> None:
        self.ex = exchange or make_exchange()
        self.now = 1_000
        self._ids = itertools.count(1)
        self.fx = Effects(self.now)

    def effects(self) -> Effects:
        self.now += 1
        self.fx = Effects(self.now)
        return self.fx

    def request(
        self,
        side: str,
        order_type: str,
        qty: str | None = None,
        price: str | None = None,
        *,
        tif: str | None = None,
        stop: str | None = None,
        quote: str | None = None,
        iceberg: str | None = None,
        stp: str | None = "NONE",
    ) -> OrderRequest:
        if tif is None and order_type in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"):
            tif = "GTC"
        return OrderRequest(
            "BTCUSDT",
            side,
            order_type,
            f"id{next(self._ids)}",
            quantity=D(qty) if qty else None,
            quote_order_qty=D(quote) if quote else None,
            price=D(price) if price else None,
            stop_price=D(stop) if stop else None,
            time_in_force=tif,
            iceberg_qty=D(iceberg) if iceberg else None,
            stp_mode=stp,
        )

    def place(
        self, account: str, side: str, order_type: str, *args: str | None, **kw: str | None
    ) -> Order:
        request = self.request(side, order_type, *args, **kw)
        return self.ex.place_order(account, request, self.effects())

    def limit(self, account: str, side: str, qty: str, price: str, **kw: str | None) -> Order:
        return self.place(account, side, "LIMIT", qty, price, **kw)

    def live(self, order: Order) -> Order:
        """The order's current state (placement returns a snapshot)."""
        return self.ex.find_order(
            self.ex.account(order.account_id), order.symbol, order.order_id, None, _missing
        )

    def cancel(self, order: Order) -> CanceledOrder | CanceledList:
        return self.ex.cancel_order(
            order.account_id,
            order.symbol,
            order_id=order.order_id,
            orig_client_order_id=None,
            new_client_order_id=f"cx{next(self._ids)}",
            restriction=None,
            fx=self.effects(),
        )

    def free(self, account: str, asset: str) -> Decimal:
        return self.ex.account(account).balance(asset).free

    def locked(self, account: str, asset: str) -> Decimal:
        return self.ex.account(account).balance(asset).locked

    def executions(self, account: str | None = None) -> list[tuple[int, str, str]]:
        return [
            (r.order.order_id, r.execution_type, r.order.status)
            for r in self.fx.records
            if isinstance(r, ExecutionRecord) and account in (None, r.account_id)
        ]


def _missing() -> ExchangeError:
    return ExchangeError(400, -2013, "Order does not exist.")


@pytest.fixture
def desk() -> Desk:
    return Desk()


# --- resting, matching, priority ----------------------------------------------------------------


def test_a_limit_order_rests_locks_and_shows_on_the_book(desk: Desk) -> None:
    order = desk.limit("alice", "BUY", "2", "100")
    assert order.status == "NEW"
    assert order.working_time == desk.now
    assert desk.locked("alice", "USDT") == 200
    assert desk.free("alice", "USDT") == 100000 - 200
    book = desk.ex.book_levels("BTCUSDT")
    assert book.bids == ((D(100), D(2)),)
    assert book.asks == ()
    assert desk.executions() == [(order.order_id, "NEW", "NEW")]


def test_a_crossing_order_trades_at_the_makers_price_with_fees_in_the_received_asset(
    desk: Desk,
) -> None:
    maker = desk.limit("alice", "SELL", "1", "100")
    taker = desk.limit("bob", "BUY", "0.4", "105")
    assert taker.status == "FILLED"
    assert taker.cumm_quote_qty == 40
    assert desk.live(maker).status == "PARTIALLY_FILLED"
    # bob: taker fee 0.2% of 0.4 BTC; the 2 USDT locked above the fill price come back
    assert desk.free("bob", "BTC") == D(100) + D("0.4") - D("0.0008")
    assert desk.free("bob", "USDT") == D(100000) - D(40)
    assert desk.locked("bob", "USDT") == 0
    # alice: maker fee 0.1% of 40 USDT; 0.6 BTC still locked
    assert desk.free("alice", "USDT") == D(100000) + D("39.96")
    assert desk.locked("alice", "BTC") == D("0.6")
    fills = desk.fx.fills[("BTCUSDT", taker.order_id)]
    assert [(f.price, f.qty, f.commission, f.commission_asset) for f in fills] == [
        (D(100), D("0.4"), D("0.0008"), "BTC")
    ]
    assert desk.executions() == [
        (taker.order_id, "NEW", "NEW"),
        (taker.order_id, "TRADE", "FILLED"),
        (maker.order_id, "TRADE", "PARTIALLY_FILLED"),
    ]


def test_best_price_first_then_oldest_first(desk: Desk) -> None:
    late = desk.limit("alice", "SELL", "1", "101")
    first = desk.limit("alice", "SELL", "1", "102")
    second = desk.limit("carol", "SELL", "1", "102")
    better = desk.limit("carol", "SELL", "1", "100")
    desk.limit("bob", "BUY", "3.5", "102")
    statuses = [desk.live(o).status for o in (better, late, first, second)]
    assert statuses == ["FILLED", "FILLED", "FILLED", "PARTIALLY_FILLED"]
    trades = desk.ex.trades("BTCUSDT")
    assert [(t.price, t.qty) for t in trades] == [
        (D(100), D(1)),
        (D(101), D(1)),
        (D(102), D(1)),
        (D(102), D("0.5")),
    ]
    assert all(not t.is_buyer_maker for t in trades)
    assert [t.id for t in trades] == [1, 2, 3, 4]


def test_ioc_expires_its_unfilled_rest(desk: Desk) -> None:
    desk.limit("alice", "SELL", "1", "100")
    order = desk.limit("bob", "BUY", "3", "100", tif="IOC")
    assert (order.status, order.executed_qty, order.expiry_reason) == (
        "EXPIRED",
        D(1),
        "UNFILLED_IOC_QUANTITY_EXPIRED",
    )
    assert desk.locked("bob", "USDT") == 0
    assert desk.ex.book_levels("BTCUSDT").bids == ()


def test_fok_fills_all_or_nothing(desk: Desk) -> None:
    desk.limit("alice", "SELL", "1", "100")
    desk.limit("carol", "SELL", "1", "101")
    killed = desk.limit("bob", "BUY", "2.5", "101", tif="FOK")
    assert (killed.status, killed.executed_qty, killed.expiry_reason) == (
        "EXPIRED",
        D(0),
        "UNFILLED_FOK_ORDER_EXPIRED",
    )
    assert len(desk.ex.trades("BTCUSDT")) == 0
    filled = desk.limit("bob", "BUY", "2", "101", tif="FOK")
    assert filled.status == "FILLED"


def test_limit_maker_that_would_take_is_rejected(desk: Desk) -> None:
    desk.limit("alice", "SELL", "1", "100")
    with pytest.raises(ExchangeError) as caught:
        desk.place("bob", "BUY", "LIMIT_MAKER", "1", "100")
    assert (caught.value.code, caught.value.msg) == (
        -2010,
        "Order would immediately match and take.",
    )
    resting = desk.place("bob", "BUY", "LIMIT_MAKER", "1", "99")
    assert resting.status == "NEW"


def test_insufficient_balance_is_rejected_and_changes_nothing(desk: Desk) -> None:
    with pytest.raises(ExchangeError) as caught:
        desk.limit("alice", "SELL", "101", "100")
    assert (caught.value.code, caught.value.msg) == (
        -2010,
        "Account has insufficient balance for requested action.",
    )
    assert desk.free("alice", "BTC") == 100
    assert desk.fx.records == []


def test_duplicate_client_id_of_an_open_order_is_rejected(desk: Desk) -> None:
    request = desk.request("BUY", "LIMIT", "1", "90")
    desk.ex.place_order("alice", request, desk.effects())
    with pytest.raises(ExchangeError) as caught:
        desk.ex.place_order("alice", request, desk.effects())
    assert caught.value.msg == "Duplicate order sent."
    desk.ex.place_order("bob", request, desk.effects())  # ids are per account


# --- market orders ---------------------------------------------------------------------------------


def test_market_order_sweeps_levels_and_expires_when_liquidity_runs_out(desk: Desk) -> None:
    desk.limit("alice", "SELL", "1", "100")
    desk.limit("alice", "SELL", "1", "110")
    order = desk.place("bob", "BUY", "MARKET", "3")
    assert (order.status, order.executed_qty, order.cumm_quote_qty) == ("EXPIRED", D(2), D(210))
    assert order.expiry_reason == "INSUFFICIENT_LIQUIDITY"
    assert desk.free("bob", "USDT") == 100000 - 210


def test_market_order_by_quote_quantity_buys_whole_steps(desk: Desk) -> None:
    desk.limit("alice", "SELL", "1", "100")
    desk.limit("alice", "SELL", "5", "120")
    order = desk.place("bob", "BUY", "MARKET", quote="250")
    # 1 at 100, then 150 USDT buys 1.25 at 120 -> 1.2 in whole 0.1 steps
    assert (order.status, order.orig_qty, order.cumm_quote_qty) == ("FILLED", D("2.2"), D(244))
    assert order.quote_order_qty == 250


def test_market_order_by_quote_on_an_empty_book_is_rejected(desk: Desk) -> None:
    with pytest.raises(ExchangeError) as caught:
        desk.place("bob", "BUY", "MARKET", quote="100")
    assert caught.value.msg == "Order book liquidity is less than symbol minimum quantity."


def test_market_order_that_cannot_be_paid_is_rejected(desk: Desk) -> None:
    desk.limit("alice", "SELL", "100", "2000")
    with pytest.raises(ExchangeError) as caught:
        desk.place("bob", "BUY", "MARKET", "60")
    assert caught.value.code == -2010
    assert desk.ex.book_levels("BTCUSDT").asks == ((D(2000), D(100)),)


# --- self-trade prevention ---------------------------------------------------------------------


def test_stp_expire_taker(desk: Desk) -> None:
    maker = desk.limit("alice", "SELL", "1", "100")
    taker = desk.limit("alice", "BUY", "2", "100", stp="EXPIRE_TAKER")
    assert (taker.status, taker.prevented_qty, taker.prevented_match_id) == (
        "EXPIRED_IN_MATCH",
        D(2),
        1,
    )
    assert desk.live(maker).status == "NEW"
    assert desk.locked("alice", "USDT") == 0
    prevented = desk.ex.account("alice").prevented["BTCUSDT"]
    assert [(p.taker_order_id, p.maker_order_id, p.taker_prevented_qty) for p in prevented] == [
        (taker.order_id, maker.order_id, D(2))
    ]
    assert (taker.order_id, "TRADE_PREVENTION", "EXPIRED_IN_MATCH") in desk.executions()


def test_stp_expire_maker_lets_the_taker_trade_on(desk: Desk) -> None:
    own = desk.limit("alice", "SELL", "1", "100")
    other = desk.limit("bob", "SELL", "1", "100")
    taker = desk.limit("alice", "BUY", "1", "100", stp="EXPIRE_MAKER")
    assert taker.status == "FILLED"
    assert desk.live(own).status == "EXPIRED_IN_MATCH"
    assert desk.live(own).prevented_qty == 1
    assert desk.live(other).status == "FILLED"
    assert desk.locked("alice", "BTC") == 0


def test_stp_expire_both(desk: Desk) -> None:
    own = desk.limit("alice", "SELL", "1", "100")
    taker = desk.limit("alice", "BUY", "1", "100", stp="EXPIRE_BOTH")
    assert taker.status == desk.live(own).status == "EXPIRED_IN_MATCH"
    assert desk.ex.book_levels("BTCUSDT").asks == ()


def test_stp_decrement_takes_the_smaller_quantity_off_both(desk: Desk) -> None:
    own = desk.limit("alice", "SELL", "3", "100")
    taker = desk.limit("alice", "BUY", "1", "100", stp="DECREMENT")
    assert (taker.status, taker.prevented_qty) == ("EXPIRED_IN_MATCH", D(1))
    maker = desk.live(own)
    assert (maker.status, maker.prevented_qty, maker.remaining) == ("NEW", D(1), D(2))
    assert desk.locked("alice", "BTC") == 2
    assert desk.ex.book_levels("BTCUSDT").asks == ((D(100), D(2)),)


def test_stp_none_trades_with_itself(desk: Desk) -> None:
    desk.limit("alice", "SELL", "1", "100")
    taker = desk.limit("alice", "BUY", "1", "100", stp="NONE")
    assert taker.status == "FILLED"
    trades = desk.ex.account("alice").trades["BTCUSDT"]
    assert sorted(t.is_buyer for t in trades) == [False, True]


def test_symbol_default_stp_mode_applies_when_none_is_given(desk: Desk) -> None:
    own = desk.limit("alice", "SELL", "1", "100")
    taker = desk.limit("alice", "BUY", "1", "100", stp=None)  # symbol default EXPIRE_MAKER
    assert taker.stp_mode == "EXPIRE_MAKER"
    assert desk.live(own).status == "EXPIRED_IN_MATCH"


# --- stops ---------------------------------------------------------------------------------------


def trade_at(desk: Desk, price: str, account: str = "carol") -> None:
    desk.limit(account, "SELL", "0.1", price, stp="NONE")
    desk.limit(account, "BUY", "0.1", price, stp="NONE")


def test_stop_loss_triggers_on_the_last_price_and_executes_at_market(desk: Desk) -> None:
    trade_at(desk, "100")
    stop = desk.place("alice", "SELL", "STOP_LOSS", "1", stop="95")
    assert (stop.status, stop.working_time) == ("NEW", -1)
    assert desk.locked("alice", "BTC") == 1
    desk.limit("bob", "BUY", "2", "90")
    trade_at(desk, "95")
    triggered = desk.live(stop)
    assert triggered.status == "FILLED"
    assert triggered.cumm_quote_qty == 90
    assert triggered.working_time == desk.now
    assert desk.locked("alice", "BTC") == 0


def test_stop_limit_rests_after_triggering(desk: Desk) -> None:
    trade_at(desk, "100")
    stop = desk.place("alice", "BUY", "STOP_LOSS_LIMIT", "1", "106", stop="105")
    trade_at(desk, "105")
    live = desk.live(stop)
    assert (live.status, live.on_book) == ("NEW", True)
    assert desk.ex.book_levels("BTCUSDT").bids == ((D(106), D(1)),)


def test_stop_that_would_trigger_immediately_is_rejected(desk: Desk) -> None:
    trade_at(desk, "100")
    with pytest.raises(ExchangeError) as caught:
        desk.place("alice", "SELL", "STOP_LOSS", "1", stop="100")
    assert caught.value.msg == "Order would trigger immediately."
    with pytest.raises(ExchangeError):
        desk.place("alice", "BUY", "TAKE_PROFIT", "1", stop="101")
    take_profit = desk.place("alice", "BUY", "TAKE_PROFIT", "1", stop="99")
    assert take_profit.status == "NEW"


# --- iceberg and amend ---------------------------------------------------------------------------


def test_iceberg_shows_its_tip_and_goes_to_the_back_when_refreshed(desk: Desk) -> None:
    iceberg = desk.limit("alice", "SELL", "3", "100", iceberg="1")
    other = desk.limit("carol", "SELL", "1", "100")
    assert desk.ex.book_levels("BTCUSDT").asks == ((D(100), D(2)),)
    desk.limit("bob", "BUY", "1.5", "100")
    # the tip (1) filled, the refreshed tip queued behind carol, who got the next 0.5
    assert desk.live(iceberg).executed_qty == 1
    assert desk.live(other).executed_qty == D("0.5")


def test_amend_keeps_priority_and_releases_the_lock(desk: Desk) -> None:
    first = desk.limit("alice", "SELL", "3", "100")
    desk.limit("carol", "SELL", "1", "100")
    amended = desk.ex.amend_order(
        "alice",
        "BTCUSDT",
        order_id=first.order_id,
        orig_client_order_id=None,
        new_client_order_id="smaller",
        new_qty=D(2),
        fx=desk.effects(),
    )
    assert (amended.order.orig_qty, amended.order.client_order_id) == (D(2), "smaller")
    assert desk.locked("alice", "BTC") == 2
    desk.limit("bob", "BUY", "2", "100")
    assert desk.live(first).status == "FILLED"


@pytest.mark.parametrize(
    ("qty", "message"),
    [
        ("3", "The requested action would change no state; rejecting"),
        ("4", "Order amend (quantity increase) is not supported."),
    ],
)
def test_amend_only_reduces(desk: Desk, qty: str, message: str) -> None:
    order = desk.limit("alice", "SELL", "3", "100")
    with pytest.raises(ExchangeError) as caught:
        desk.ex.amend_order(
            "alice",
            "BTCUSDT",
            order_id=order.order_id,
            orig_client_order_id=None,
            new_client_order_id="x",
            new_qty=D(qty),
            fx=desk.effects(),
        )
    assert (caught.value.code, caught.value.msg) == (-2038, message)


# --- cancel ------------------------------------------------------------------------------------


def test_cancel_releases_the_lock_and_renames_the_order(desk: Desk) -> None:
    order = desk.limit("alice", "BUY", "1", "100")
    canceled = desk.cancel(order)
    assert isinstance(canceled, CanceledOrder)
    assert canceled.orig_client_order_id == order.client_order_id
    assert canceled.order.client_order_id.startswith("cx")
    assert canceled.order.status == "CANCELED"
    assert desk.locked("alice", "USDT") == 0
    with pytest.raises(ExchangeError) as caught:
        desk.cancel(order)
    assert (caught.value.code, caught.value.msg) == (-2011, "Unknown order sent.")


@pytest.mark.parametrize("restriction", ["ONLY_NEW", "ONLY_PARTIALLY_FILLED"])
def test_cancel_restrictions(desk: Desk, restriction: str) -> None:
    order = desk.limit("alice", "SELL", "2", "100")
    if restriction == "ONLY_NEW":
        desk.limit("bob", "BUY", "1", "100")
    with pytest.raises(ExchangeError) as caught:
        desk.ex.cancel_order(
            "alice",
            "BTCUSDT",
            order_id=order.order_id,
            orig_client_order_id=None,
            new_client_order_id="c",
            restriction=restriction,
            fx=desk.effects(),
        )
    assert caught.value.msg == "Order was not canceled due to cancel restrictions."


# --- order lists -------------------------------------------------------------------------------


def sell_oco(
    desk: Desk, limit_price: str = "110", stop: str = "95", stop_limit: str = "94"
) -> PlacedList:
    above = desk.request("SELL", "LIMIT_MAKER", "1", limit_price)
    below = desk.request("SELL", "STOP_LOSS_LIMIT", "1", stop_limit, stop=stop)
    return desk.ex.place_oco("alice", above, below, "list1", desk.effects())


def list_statuses(desk: Desk) -> list[tuple[str, str]]:
    return [
        (r.view.list_status_type, r.view.list_order_status)
        for r in desk.fx.records
        if isinstance(r, ListStatusRecord)
    ]


def test_oco_places_both_legs_with_one_shared_lock(desk: Desk) -> None:
    trade_at(desk, "100")
    placed = sell_oco(desk)
    stop_leg, limit_leg = placed.orders
    assert (stop_leg.type, limit_leg.type) == ("STOP_LOSS_LIMIT", "LIMIT_MAKER")
    assert (stop_leg.working_time, limit_leg.working_time) == (-1, desk.now)
    assert desk.locked("alice", "BTC") == 1
    assert list_statuses(desk) == [("EXEC_STARTED", "EXECUTING")]


def test_oco_limit_fill_expires_the_stop_leg(desk: Desk) -> None:
    trade_at(desk, "100")
    stop_leg, limit_leg = sell_oco(desk).orders
    desk.limit("bob", "BUY", "0.5", "110")
    assert desk.live(limit_leg).status == "PARTIALLY_FILLED"
    expired = desk.live(stop_leg)
    assert (expired.status, expired.expiry_reason) == ("EXPIRED", "OCO_TRIGGER")
    assert desk.locked("alice", "BTC") == D("0.5")
    assert list_statuses(desk) == [("ALL_DONE", "ALL_DONE")]


def test_oco_stop_trigger_expires_the_limit_leg(desk: Desk) -> None:
    trade_at(desk, "100")
    stop_leg, limit_leg = sell_oco(desk).orders
    trade_at(desk, "95")
    assert desk.live(limit_leg).status == "EXPIRED"
    assert desk.live(stop_leg).on_book
    assert desk.ex.book_levels("BTCUSDT").asks == ((D(94), D(1)),)


def test_buy_oco_locks_the_larger_legs_need(desk: Desk) -> None:
    trade_at(desk, "100")
    above = desk.request("BUY", "STOP_LOSS_LIMIT", "1", "106", stop="105")
    below = desk.request("BUY", "LIMIT_MAKER", "1", "90")
    desk.ex.place_oco("alice", above, below, "buyoco", desk.effects())
    assert desk.locked("alice", "USDT") == 106
    trade_at(desk, "105")  # the stop triggers: its 106 stays locked, the limit leg expires
    assert desk.locked("alice", "USDT") == 106
    desk.limit("bob", "SELL", "1", "100")
    assert desk.locked("alice", "USDT") == 0


def test_buy_oco_limit_fill_releases_what_the_stop_leg_needed(desk: Desk) -> None:
    trade_at(desk, "100")
    above = desk.request("BUY", "STOP_LOSS_LIMIT", "1", "106", stop="105")
    below = desk.request("BUY", "LIMIT_MAKER", "1", "90")
    desk.ex.place_oco("alice", above, below, "buyoco", desk.effects())
    desk.limit("bob", "SELL", "0.5", "90")
    assert desk.locked("alice", "USDT") == 45  # 0.5 left at 90


@pytest.mark.parametrize(
    ("above", "below", "code"),
    [
        (("SELL", "STOP_LOSS"), ("SELL", "LIMIT_MAKER"), -1197),
        (("BUY", "LIMIT_MAKER"), ("BUY", "STOP_LOSS"), -1165),
        (("SELL", "LIMIT_MAKER"), ("SELL", "TAKE_PROFIT"), -1168),
    ],
)
def test_oco_leg_placement_rules(
    desk: Desk, above: tuple[str, str], below: tuple[str, str], code: int
) -> None:
    legs = []
    for side, order_type in (above, below):
        is_maker = order_type == "LIMIT_MAKER"
        price, stop = ("100", None) if is_maker else (None, "100")
        legs.append(desk.request(side, order_type, "1", price, stop=stop))
    with pytest.raises(ExchangeError) as caught:
        desk.ex.place_oco("alice", legs[0], legs[1], "l", desk.effects())
    assert caught.value.code == code


def test_oco_prices_must_straddle_the_last_price(desk: Desk) -> None:
    trade_at(desk, "100")
    with pytest.raises(ExchangeError) as caught:
        sell_oco(desk, limit_price="99")
    assert caught.value.msg == "The relationship of the prices for the orders is not correct."


def oto(desk: Desk, working_tif: str = "GTC") -> PlacedList:
    working = desk.request("BUY", "LIMIT", "1", "100", tif=working_tif)
    pending = desk.request("SELL", "LIMIT_MAKER", "1", "120")
    return desk.ex.place_oto("alice", working, (pending,), "oto1", desk.effects())


def test_oto_pending_order_waits_for_the_working_fill(desk: Desk) -> None:
    working, pending = oto(desk).orders
    assert (working.status, pending.status, pending.working_time) == ("NEW", "PENDING_NEW", -1)
    assert desk.locked("alice", "BTC") == 0
    desk.limit("bob", "SELL", "1", "100")
    assert desk.live(working).status == "FILLED"
    activated = desk.live(pending)
    assert (activated.status, activated.on_book) == ("NEW", True)
    assert desk.locked("alice", "BTC") == 1
    assert list_statuses(desk) == [("EXEC_STARTED", "EXECUTING")]


def test_oto_placement_shows_pending_still_pending_when_working_fills_at_once(desk: Desk) -> None:
    desk.limit("bob", "SELL", "1", "100")
    working, pending = oto(desk).orders
    assert (working.status, pending.status) == ("FILLED", "PENDING_NEW")
    assert desk.live(pending).status == "NEW"


def test_oto_working_expiry_expires_the_pending_order(desk: Desk) -> None:
    working, pending = oto(desk, working_tif="IOC").orders
    assert working.status == "EXPIRED"
    expired = desk.live(pending)
    assert (expired.status, expired.expiry_reason) == ("EXPIRED", "OTO_PHASE_ONE_EXPIRED")
    assert list_statuses(desk) == [("EXEC_STARTED", "EXECUTING"), ("ALL_DONE", "ALL_DONE")]


def test_cancelling_one_order_of_a_list_cancels_the_list(desk: Desk) -> None:
    working, _pending = oto(desk).orders
    canceled = desk.cancel(working)
    assert isinstance(canceled, CanceledList)
    assert [r.order.status for r in canceled.reports] == ["CANCELED", "CANCELED"]
    assert canceled.view.list_order_status == "ALL_DONE"
    assert desk.locked("alice", "USDT") == 0


def test_otoco_activates_an_oco_pair(desk: Desk) -> None:
    trade_at(desk, "100")
    working = desk.request("BUY", "LIMIT", "1", "99")
    above = desk.request("SELL", "LIMIT_MAKER", "1", "120")
    below = desk.request("SELL", "STOP_LOSS", "1", stop="90")
    placed = desk.ex.place_oto("alice", working, (above, below), "otoco", desk.effects())
    assert [o.type for o in placed.orders] == ["LIMIT", "STOP_LOSS", "LIMIT_MAKER"]
    desk.limit("bob", "SELL", "1", "99")
    stop_leg, limit_leg = (desk.live(o) for o in placed.orders[1:])
    assert (stop_leg.status, limit_leg.status) == ("NEW", "NEW")
    assert desk.locked("alice", "BTC") == 1  # one lock for the pair
    desk.limit("bob", "BUY", "1", "120")
    assert desk.live(limit_leg).status == "FILLED"
    assert desk.live(stop_leg).expiry_reason == "OCO_TRIGGER"


# --- market data views ---------------------------------------------------------------------------


def test_market_changes_report_touched_levels_with_their_final_quantity(desk: Desk) -> None:
    desk.limit("alice", "SELL", "1", "100")
    desk.limit("alice", "SELL", "1", "101")
    before = desk.ex.book_levels("BTCUSDT").last_update_id
    desk.limit("bob", "BUY", "1.5", "101")
    changes = desk.ex.market_changes(desk.fx)
    (depth,) = changes.depth
    assert depth.asks == ((D(100), D(0)), (D(101), D("0.5")))
    assert depth.first_update_id == before + 1
    assert depth.last_update_id == desk.ex.book_levels("BTCUSDT").last_update_id
    assert [(t.price, t.qty, t.seller_order_id) for t in changes.trades] == [
        (D(100), D(1), 1),
        (D(101), D("0.5"), 2),
    ]


def test_average_price_is_volume_weighted_over_the_window(desk: Desk) -> None:
    assert desk.ex.average_price("BTCUSDT", desk.now, 5) is None
    trade_at(desk, "100")
    desk.limit("carol", "SELL", "0.3", "200")
    desk.limit("carol", "BUY", "0.3", "200")
    assert desk.ex.average_price("BTCUSDT", desk.now, 5) == D(175)
    assert desk.ex.average_price("BTCUSDT", desk.now, 0) == D(200)
    assert desk.ex.average_price("BTCUSDT", desk.now + 10 * 60_000, 5) == D(200)


# --- properties ----------------------------------------------------------------------------------

ACCOUNTS = ("alice", "bob")
PRICES = st.sampled_from(["96", "98", "99", "100", "101", "102", "104"])
QUANTITIES = st.sampled_from(["0.1", "0.5", "1", "1.5", "3"])
STP = st.sampled_from(["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT"])

single_orders = st.one_of(
    st.tuples(
        st.just("limit"),
        st.sampled_from(["BUY", "SELL"]),
        QUANTITIES,
        PRICES,
        st.sampled_from(["GTC", "GTC", "IOC", "FOK"]),
    ),
    st.tuples(st.just("maker"), st.sampled_from(["BUY", "SELL"]), QUANTITIES, PRICES),
    st.tuples(st.just("market"), st.sampled_from(["BUY", "SELL"]), QUANTITIES),
    st.tuples(st.just("quote"), st.sampled_from(["BUY", "SELL"]), st.sampled_from(["50", "150"])),
    st.tuples(
        st.just("stop"),
        st.sampled_from(["STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"]),
        st.sampled_from(["BUY", "SELL"]),
        QUANTITIES,
        PRICES,
        PRICES,
    ),
    st.tuples(st.just("iceberg"), st.sampled_from(["BUY", "SELL"]), PRICES),
)
actions = st.tuples(
    st.sampled_from(ACCOUNTS),
    STP,
    st.one_of(
        single_orders,
        st.tuples(st.just("cancel"), st.integers(0, 20)),
        st.tuples(st.just("amend"), st.integers(0, 20), QUANTITIES),
        st.tuples(st.just("oco"), st.sampled_from(["BUY", "SELL"]), QUANTITIES, PRICES, PRICES),
        st.tuples(st.just("oto"), st.sampled_from(["BUY", "SELL"]), QUANTITIES, PRICES, PRICES),
    ),
)


def run(desk: Desk, account: str, stp: str, action: tuple[object, ...]) -> None:
    kind, *args = action
    side = str(args[0]) if args else "BUY"
    other = "SELL" if side == "BUY" else "BUY"
    if kind == "limit":
        desk.limit(account, side, str(args[1]), str(args[2]), tif=str(args[3]), stp=stp)
    elif kind == "maker":
        desk.place(account, side, "LIMIT_MAKER", str(args[1]), str(args[2]), stp=stp)
    elif kind == "market":
        desk.place(account, side, "MARKET", str(args[1]), stp=stp)
    elif kind == "quote":
        desk.place(account, side, "MARKET", quote=str(args[1]), stp=stp)
    elif kind == "stop":
        order_type, side, qty, price, stop = (str(a) for a in args)
        limit = price if order_type.endswith("LIMIT") else None
        desk.place(account, side, order_type, qty, limit, stop=stop, stp=stp)
    elif kind == "iceberg":
        desk.limit(account, side, "3", str(args[1]), iceberg="1", stp=stp)
    elif kind in ("cancel", "amend"):
        opens = list(desk.ex.account(account).open_orders.values())
        if not opens:
            return
        target = opens[int(args[0]) % len(opens)]  # type: ignore[call-overload]
        if kind == "cancel":
            desk.cancel(target)
        else:
            desk.ex.amend_order(
                account,
                "BTCUSDT",
                order_id=target.order_id,
                orig_client_order_id=None,
                new_client_order_id=f"am{desk.now}",
                new_qty=D(str(args[1])),
                fx=desk.effects(),
            )
    elif kind == "oco":
        side, qty, high, low = (str(a) for a in args)
        stop_type = "STOP_LOSS_LIMIT" if side == "BUY" else "STOP_LOSS"
        maker = desk.request(side, "LIMIT_MAKER", qty, low if side == "BUY" else high, stp=stp)
        stop_price = high if side == "BUY" else low
        limit_price = stop_price if side == "BUY" else None
        stop_leg = desk.request(side, stop_type, qty, limit_price, stop=stop_price, stp=stp)
        above, below = (stop_leg, maker) if side == "BUY" else (maker, stop_leg)
        desk.ex.place_oco(account, above, below, f"oco{desk.now}", desk.effects())
    elif kind == "oto":
        side, qty, price, pending_price = (str(a) for a in args)
        working = desk.request(side, "LIMIT", qty, price, stp=stp)
        pending = desk.request(other, "LIMIT", qty, pending_price, stp=stp)
        desk.ex.place_oto(account, working, (pending,), f"oto{desk.now}", desk.effects())


def check_invariants(desk: Desk, totals: dict[str, Decimal]) -> None:
    ex = desk.ex
    for asset, total in totals.items():
        held = sum(
            (
                ex.account(a).balance(asset).free + ex.account(a).balance(asset).locked
                for a in ACCOUNTS
            ),
            D(0),
        )
        assert held + ex.commission_collected.get(asset, D(0)) == total, asset
    for name in ACCOUNTS:
        account = ex.account(name)
        locks: dict[str, Decimal] = {"BTC": D(0), "USDT": D(0)}
        for order in account.open_orders.values():
            asset = "USDT" if order.side == "BUY" else "BTC"
            locks[asset] += order.locked
            assert order.locked >= 0
        for held, needed in lock_groups(ex, account.open_orders.values()):
            assert held == needed
        for asset, balance in account.balances.items():
            assert balance.free >= 0, (name, asset)
            assert balance.locked >= 0, (name, asset)
            assert balance.locked == locks.get(asset, D(0)), (name, asset)
        for orders in account.orders.values():
            for order in orders:
                assert 0 <= order.executed_qty + order.prevented_qty <= order.orig_qty
                assert order.is_open == ((order.symbol, order.order_id) in account.open_orders)
    book = ex.book_levels("BTCUSDT")
    if book.bids and book.asks:
        assert book.bids[0][0] < book.asks[0][0]
    assert all(qty > 0 for _, qty in (*book.bids, *book.asks))


def lock_need(order: Order) -> Decimal:
    """What an open order should hold locked (a pending order holds nothing yet)."""
    if order.status == "PENDING_NEW" or order.type == "MARKET":
        return D(0)
    if order.side == "SELL":
        return order.remaining
    if order.type in ("STOP_LOSS", "TAKE_PROFIT"):
        return order.remaining * (order.stop_price or 0)
    return order.remaining * order.price


def lock_groups(ex: Exchange, orders: Iterable[Order]) -> list[tuple[Decimal, Decimal]]:
    """(held, needed) per order, or per OCO pair whose legs both still work: a pair holds
    its larger leg's need once."""
    groups: list[tuple[Decimal, Decimal]] = []
    seen: set[int] = set()
    for order in orders:
        if order.order_id in seen:
            continue
        order_list = ex.order_list(order.order_list_id)
        sibling = order_list.sibling(order) if order_list else None
        if sibling is not None and sibling.is_open and sibling.status != "PENDING_NEW":
            seen.add(sibling.order_id)
            held = order.locked + sibling.locked
            groups.append((held, max(lock_need(order), lock_need(sibling))))
        else:
            groups.append((order.locked, lock_need(order)))
    return groups


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(actions, min_size=3, max_size=40))
def test_random_order_flow_keeps_balances_and_books_straight(
    steps: list[tuple[str, str, tuple[object, ...]]],
) -> None:
    desk = Desk()
    trade_at(desk, "100", account="alice")  # a last price, so stops have something to watch
    totals = {"BTC": D(200), "USDT": D(200000)}
    outcomes = {"done": 0, "refused": 0}
    for account, stp, action in steps:
        refusal = attempt(desk, account, stp, action)
        assert refusal is None or refusal.status == 400
        outcomes["refused" if refusal else "done"] += 1
        check_invariants(desk, totals)
    event(f"refused {outcomes['refused'] * 10 // max(1, len(steps))}0%")


def attempt(desk: Desk, account: str, stp: str, action: tuple[object, ...]) -> ExchangeError | None:
    try:
        run(desk, account, stp, action)
    except ExchangeError as error:
        return error
    return None


# --- refusals that depend on the symbol or the account --------------------------------------------


def exchange_with(symbol_options: dict[str, Any], account_options: dict[str, Any]) -> Exchange:
    symbol = symbol_config("BTCUSDT", "BTC", "USDT", tick_size="1", min_price="1", **symbol_options)
    account = account_config("alice", START, **account_options)
    return Exchange(ExchangeConfig((symbol,), (account,)))


@pytest.mark.parametrize(
    ("symbol_options", "account_options", "message"),
    [
        ({"status": "HALT"}, {}, "Market is closed."),
        ({}, {"can_trade": False}, "This account may not place or cancel orders."),
        ({"permission_sets": (("MARGIN",),)}, {}, "This symbol is not permitted for this account."),
        (
            {"order_types": ("LIMIT", "MARKET")},
            {},
            "Stop loss orders are not supported for this symbol.",
        ),
        ({"iceberg_allowed": False}, {}, "Iceberg orders are not supported for this symbol."),
    ],
)
def test_symbol_and_account_settings_refuse_orders(
    symbol_options: dict[str, Any], account_options: dict[str, Any], message: str
) -> None:
    desk = Desk(exchange_with(symbol_options, account_options))
    order_type, extra = (
        ("STOP_LOSS", {"stop": "90"}) if "order_types" in symbol_options else ("LIMIT", {})
    )
    if "iceberg_allowed" in symbol_options:
        extra = {"iceberg": "0.1"}
    price = None if order_type == "STOP_LOSS" else "100"
    with pytest.raises(ExchangeError) as caught:
        desk.place("alice", "SELL", order_type, "1", price, **extra)
    assert (caught.value.code, caught.value.msg) == (-2010, message)


def test_an_account_that_cannot_trade_cannot_cancel_either() -> None:
    desk = Desk(exchange_with({}, {"can_trade": False}))
    with pytest.raises(ExchangeError) as caught:
        desk.ex.cancel_order(
            "alice",
            "BTCUSDT",
            order_id=1,
            orig_client_order_id=None,
            new_client_order_id="c",
            restriction=None,
            fx=desk.effects(),
        )
    assert (caught.value.code, caught.value.msg) == (
        -2011,
        "This account may not place or cancel orders.",
    )


def test_a_cancelled_orders_old_client_id_no_longer_finds_it(desk: Desk) -> None:
    order = desk.limit("alice", "BUY", "1", "90")
    desk.cancel(order)
    account = desk.ex.account("alice")
    with pytest.raises(ExchangeError):
        desk.ex.find_order(account, "BTCUSDT", None, order.client_order_id, _missing)
    again = desk.ex.place_order("alice", desk.request("BUY", "LIMIT", "1", "90"), desk.effects())
    assert again.status == "NEW"


def test_amending_below_the_executed_quantity_expires_the_order(desk: Desk) -> None:
    order = desk.limit("alice", "SELL", "3", "100")
    desk.limit("bob", "BUY", "2", "100")
    amended = desk.ex.amend_order(
        "alice",
        "BTCUSDT",
        order_id=order.order_id,
        orig_client_order_id=None,
        new_client_order_id="down",
        new_qty=D(1),
        fx=desk.effects(),
    )
    assert (amended.order.status, amended.order.orig_qty) == ("EXPIRED", D(2))
    assert desk.locked("alice", "BTC") == 0
    assert desk.ex.book_levels("BTCUSDT").asks == ()


def test_a_pending_order_that_cannot_be_funded_is_expired_when_activated(desk: Desk) -> None:
    working = desk.request("BUY", "LIMIT", "1", "100")
    pending = desk.request("SELL", "LIMIT", "150", "120")  # more BTC than alice will have
    placed = desk.ex.place_oto("alice", working, (pending,), "oto", desk.effects())
    desk.limit("bob", "SELL", "1", "100")
    expired = desk.live(placed.orders[1])
    assert (expired.status, expired.expiry_reason) == ("EXPIRED", "REJECTED")
    assert desk.locked("alice", "BTC") == 0


def test_a_triggered_stop_market_that_cannot_pay_expires(desk: Desk) -> None:
    trade_at(desk, "100")
    stop = desk.place("alice", "BUY", "STOP_LOSS", "100", stop="105")  # locks 100 * 105
    desk.limit("bob", "SELL", "100", "1100")  # the only liquidity costs more than alice has
    trade_at(desk, "105")
    expired = desk.live(stop)
    assert (expired.status, expired.expiry_reason) == ("EXPIRED", "REJECTED")
    assert desk.locked("alice", "USDT") == 0


def test_quote_order_below_the_lot_size_minimum_is_rejected(desk: Desk) -> None:
    desk.limit("alice", "SELL", "1", "100")
    with pytest.raises(ExchangeError) as caught:
        desk.place("bob", "BUY", "MARKET", quote="5")
    assert (
        caught.value.msg == "Order book liquidity is less than `LOT_SIZE` filter minimum quantity."
    )


def test_duplicate_list_client_id_of_an_open_list(desk: Desk) -> None:
    oto(desk)
    with pytest.raises(ExchangeError) as caught:
        oto(desk)
    assert caught.value.msg == "Duplicate order sent."


def test_trade_history_keeps_the_most_recent(desk: Desk) -> None:
    for price in ("100", "101", "102"):
        trade_at(desk, price)
    assert [t.price for t in desk.ex.trades("BTCUSDT", limit=2)] == [D(101), D(102)]
    assert len(desk.ex.trades("BTCUSDT")) == 3


def test_deposits_credit_free_balance(desk: Desk) -> None:
    desk.ex.adjust_balance("alice", "ETH", D("2.5"), desk.effects())
    assert desk.free("alice", "ETH") == D("2.5")
    with pytest.raises(ExchangeError):
        desk.ex.adjust_balance("alice", "ETH", D(-3), desk.effects())
