"""The demo behind ``python3 tasks.py demo``: a tour of the client against a local exchange.

Everything runs in this process: the exchange serves on loopback, alice trades with an Ed25519
key while her user-data events are printed by a task of their own as they arrive, bob provides
the other side of the book, and one armed fault shows an unknown outcome being settled.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import trio

import trio_binance
from trio_binance.models import (
    BookTickerEvent,
    ExchangeInfo,
    ExecutionReport,
    OutboundAccountPosition,
    StreamEvent,
    TradeEvent,
    UserDataEvent,
)
from trio_binance.testing import DemoKeys, LocalExchange, open_local_exchange

SYMBOL = "BTCUSDT"
Predicate = Callable[[UserDataEvent], bool]


def say(text: str = "") -> None:
    print(text, flush=True)


def heading(text: str) -> None:
    say()
    say(f"== {text}")


class EventPrinter:
    """Prints user-data events as they arrive, and lets the tour wait for one."""

    def __init__(self) -> None:
        self._waiters: list[tuple[Predicate, trio.Event]] = []
        # An event may arrive before the reply to the request that caused it.
        self._recent: deque[UserDataEvent] = deque(maxlen=64)

    async def follow(
        self, session: trio_binance.Session, *, task_status: trio.TaskStatus[None]
    ) -> None:
        async with session.user_data() as events:
            task_status.started()
            async for event in events:
                say(f"   <- {describe_event(event)}")
                self._recent.append(event)
                self._wake(event)

    async def wait_for(self, predicate: Predicate) -> None:
        if any(predicate(event) for event in self._recent):
            return
        arrived = trio.Event()
        self._waiters.append((predicate, arrived))
        await arrived.wait()

    def _wake(self, event: UserDataEvent) -> None:
        for predicate, arrived in list(self._waiters):
            if predicate(event):
                arrived.set()
                self._waiters.remove((predicate, arrived))


def describe_event(event: UserDataEvent) -> str:
    if isinstance(event, ExecutionReport):
        text = (
            f"executionReport {event.side.value} {event.quantity.normalize():f} "
            f"{event.symbol} @ {event.price.normalize():f}: {event.execution_type.value}"
            f" -> {event.order_status.value}"
        )
        if event.last_executed_quantity:
            text += f" (filled {event.last_executed_quantity.normalize():f})"
        return text
    if isinstance(event, OutboundAccountPosition):
        balances = ", ".join(
            f"{b.asset} {b.free.normalize():f} free / {b.locked.normalize():f} locked"
            for b in event.balances
        )
        return f"outboundAccountPosition: {balances}"
    return type(event).__name__


def status_of(client_order_id: str, status: str) -> Predicate:
    def matches(event: UserDataEvent) -> bool:
        return (
            isinstance(event, ExecutionReport)
            # A cancel's report carries the cancel's own id in "c", the order's in "C".
            and client_order_id in (event.client_order_id, event.original_client_order_id)
            and event.order_status.value == status
        )

    return matches


def describe_market_data(stream: str, event: StreamEvent) -> str:
    if isinstance(event, TradeEvent):
        return f"{stream}: {event.quantity.normalize():f} @ {event.price.normalize():f}"
    if isinstance(event, BookTickerEvent):
        return (
            f"{stream}: bid {_level(event.best_bid_price, event.best_bid_quantity)}"
            f" / ask {_level(event.best_ask_price, event.best_ask_quantity)}"
        )
    return stream


def _level(price: Decimal, quantity: Decimal) -> str:
    return f"{quantity.normalize():f} @ {price.normalize():f}" if quantity else "-"


async def print_market_data(
    streams: trio_binance.MarketStreams, *, task_status: trio.TaskStatus[None]
) -> None:
    task_status.started()
    async for message in streams:
        say(f"   ~  {describe_market_data(message.stream, message.event)}")


async def run_demo() -> int:
    started = time.perf_counter()
    exchange = LocalExchange()
    keys = exchange.create_demo_keys()
    async with open_local_exchange(exchange):
        say(f"local exchange listening on {exchange.url} (accounts alice and bob)")
        await tour(exchange, keys["alice"], keys["bob"])
    say()
    say(f"done in {time.perf_counter() - started:.1f} s")
    return 0


async def tour(exchange: LocalExchange, alice: DemoKeys, bob: DemoKeys) -> None:
    async with (
        trio_binance.connect(exchange.url, credentials=alice.ed25519) as session,
        trio_binance.connect(exchange.url, credentials=bob.hmac) as counterparty,
    ):
        await show_session(session)
        await show_exchange_info(session)
        printer = EventPrinter()
        market_data = [f"{SYMBOL.lower()}@trade", f"{SYMBOL.lower()}@bookTicker"]
        async with (
            trio_binance.market_streams(exchange.streams_url, market_data) as streams,
            trio_binance.local_order_book(streams, session, SYMBOL) as book,
            trio.open_nursery() as nursery,
        ):
            heading("trading (<- alice's user-data events, ~ market data, printed as they arrive)")
            say(f"market streams: {', '.join(market_data)} and a local order book")
            await nursery.start(printer.follow, session)
            await nursery.start(print_market_data, streams)
            await trade(session, counterparty, printer)
            await show_local_book(session, book)
            await show_rate_limits(session)
            await survive_unknown_outcome(exchange, session, printer)
            nursery.cancel_scope.cancel()


async def show_session(session: trio_binance.Session) -> None:
    heading("session")
    status = await session.session_status()
    say(f"logged on with an Ed25519 key: {status.api_key} (session.logon, no per-request signing)")
    now = await session.server_time()
    stamp = datetime.fromtimestamp(now.server_time / 1000, UTC).isoformat(timespec="milliseconds")
    say(f"server time {stamp}, measured clock offset {session.clock.offset_ms:+.1f} ms")


async def show_exchange_info(session: trio_binance.Session) -> None:
    heading("exchange info")
    info: ExchangeInfo = await session.exchange_info()
    for symbol in info.symbols:
        steps = {f.filter_type.value: f for f in symbol.filters}
        tick = steps["PRICE_FILTER"].tick_size
        lot = steps["LOT_SIZE"].step_size
        say(
            f"{symbol.symbol:8} {symbol.status.value:8} {symbol.base_asset}/{symbol.quote_asset}"
            f"  price tick {tick.normalize() if tick else '-'}"
            f"  quantity step {lot.normalize() if lot else '-'}"
        )


async def trade(
    session: trio_binance.Session, counterparty: trio_binance.Session, printer: EventPrinter
) -> None:
    ask = await counterparty.place_order(
        symbol=SYMBOL, side="SELL", type="LIMIT", time_in_force="GTC", price="30000", quantity="0.5"
    )
    say(f"bob offers 0.5 BTC at 30000 (order {ask.order_id})")
    book = await session.depth(symbol=SYMBOL, limit=5)
    best = book.asks[0]
    say(f"book (depth): best ask {best.price.normalize():f} x {best.qty.normalize():f}")
    say("alice buys 0.2 BTC at 30000")
    bought = await session.place_order(
        symbol=SYMBOL, side="BUY", type="LIMIT", time_in_force="GTC", price="30000", quantity="0.2"
    )
    await printer.wait_for(status_of(bought.client_order_id, "FILLED"))
    say(f"order {bought.order_id} {bought.status}, {len(bought.fills)} fill(s)")
    say("alice bids 0.1 BTC at 29000, then cancels")
    bid = await session.place_order(
        symbol=SYMBOL, side="BUY", type="LIMIT", time_in_force="GTC", price="29000", quantity="0.1"
    )
    await printer.wait_for(status_of(bid.client_order_id, "NEW"))
    canceled = await session.cancel_order(symbol=SYMBOL, orig_client_order_id=bid.client_order_id)
    await printer.wait_for(status_of(bid.client_order_id, "CANCELED"))
    say(f"order {canceled.order_id} {canceled.status}")


async def show_local_book(session: trio_binance.Session, book: trio_binance.LocalOrderBook) -> None:
    # The diff stream may trail the requests just made: wait until the local book has caught
    # up with the exchange's book as a fresh snapshot reports it.
    target = (await session.depth(symbol=SYMBOL, limit=5)).last_update_id
    with trio.fail_after(10):
        await book.wait_synced()
        if (book.last_update_id or 0) < target:
            async for update in book.updates():
                if (update.last_update_id or 0) >= target:
                    break
    bid, ask = book.best_bid(), book.best_ask()
    say(
        f"local order book (snapshot + diff stream, update {book.last_update_id}): "
        f"best bid {_level(bid.price, bid.qty) if bid else '-'}, "
        f"best ask {_level(ask.price, ask.qty) if ask else '-'}"
    )


async def show_rate_limits(session: trio_binance.Session) -> None:
    heading("rate limits (from the last response)")
    for limit in session.statistics().rate_limits:
        say(
            f"rate limit {limit.rate_limit_type.value}: {limit.count}/{limit.limit}"
            f" per {limit.interval_num} {limit.interval.value}"
        )
    for limit in await session.order_rate_limits():
        say(
            f"unfilled orders: {limit.count}/{limit.limit}"
            f" per {limit.interval_num} {limit.interval.value} (account.rateLimits.orders)"
        )


async def survive_unknown_outcome(
    exchange: LocalExchange, session: trio_binance.Session, printer: EventPrinter
) -> None:
    heading("a fault survived")
    exchange.faults.server_error("order.place")  # executes, then answers 503 -1007
    say("the exchange will execute the next order, then answer 503 -1007")
    try:
        await session.place_order(
            symbol=SYMBOL,
            side="BUY",
            type="LIMIT",
            time_in_force="GTC",
            price="28000",
            quantity=Decimal("0.05"),
        )
    except trio_binance.OutcomeUnknown as error:
        say(f"fault survived: {type(error).__name__}: {error}")
        settled = await session.reconcile(error)
        assert settled.order is not None
        say(
            f"reconciled without re-sending: {settled.outcome}, order {settled.order.order_id} "
            f"is {settled.order.status} ({settled.queries} query)"
        )
        client_order_id = error.client_order_ids[0]
        await session.cancel_order(symbol=SYMBOL, orig_client_order_id=client_order_id)
        await printer.wait_for(status_of(client_order_id, "CANCELED"))
        say("and canceled it")


if __name__ == "__main__":  # pragma: no cover
    trio.run(run_demo)
