"""The local order book against the local exchange: it must equal the exchange's own book,
over 10,000 random changes and after lost, repeated and reordered diff events."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import trio
import trio.testing

import trio_binance
from trio_binance import (
    BookStatus,
    InvalidParameter,
    LocalOrderBook,
    MarketStreams,
    ReconnectPolicy,
    local_order_book,
    market_streams,
)
from trio_binance.models import OrderBook
from trio_binance.testing import ExchangeError, LocalExchange, open_local_exchange

SYMBOL = "BTCUSDT"
STREAM = "btcusdt@depth@100ms"


class RandomTrader:
    """Random limit orders around 30,000 (alice bids, bob asks), crossing orders and
    cancels: each action changes the book by one update id or more."""

    def __init__(self, exchange: LocalExchange, seed: int) -> None:
        self.exchange = exchange
        self.rng = random.Random(seed)
        self.open: dict[str, list[int]] = {"alice": [], "bob": []}

    def act(self) -> None:
        rng = self.rng
        account = rng.choice(("alice", "bob"))
        orders = self.open[account]
        try:
            if orders and (len(orders) > 120 or rng.random() < 0.3):
                order_id = orders.pop(rng.randrange(len(orders)))
                self.exchange.act(account, "order.cancel", {"symbol": SYMBOL, "orderId": order_id})
                return
            side = "BUY" if account == "alice" else "SELL"
            offset = rng.randint(-3, 60)  # a few cross the spread and trade
            price = 30_000 - offset if side == "BUY" else 30_000 + offset
            result = self.exchange.act(
                account,
                "order.place",
                {
                    "symbol": SYMBOL,
                    "side": side,
                    "type": "LIMIT",
                    "timeInForce": "GTC",
                    "price": f"{price}.00",
                    "quantity": f"0.{rng.randint(1, 999):03d}",
                },
            )
            if result["status"] in ("NEW", "PARTIALLY_FILLED"):
                orders.append(result["orderId"])
        except ExchangeError:  # e.g. an order that already filled: nothing changed
            pass


def assert_same_book(book: LocalOrderBook, exchange: LocalExchange) -> None:
    levels = exchange.engine.book_levels(SYMBOL)
    assert book.last_update_id == levels.last_update_id
    assert [(level.price, level.qty) for level in book.bids()] == list(levels.bids)
    assert [(level.price, level.qty) for level in book.asks()] == list(levels.asks)


async def caught_up(book: LocalOrderBook, exchange: LocalExchange) -> None:
    """Wait until the book has the exchange's latest update (events come every 100 ms)."""
    target = exchange.engine.book_levels(SYMBOL).last_update_id
    with trio.fail_after(5):
        while not (book.synced and book.last_update_id == target):
            async for _ in book.updates():
                break


@pytest.fixture
async def exchange() -> AsyncIterator[LocalExchange]:
    async with open_local_exchange() as served:
        yield served


@pytest.fixture
async def streams(exchange: LocalExchange) -> AsyncIterator[MarketStreams]:
    async with market_streams(exchange.streams_url, reconnect=ReconnectPolicy(seed=3)) as s:
        yield s


async def test_the_book_equals_the_exchange_over_10000_updates(
    exchange: LocalExchange, streams: MarketStreams, autojump_clock: trio.testing.MockClock
) -> None:
    trader = RandomTrader(exchange, seed=11)
    async with (
        trio_binance.connect(exchange.url) as session,
        local_order_book(streams, session, SYMBOL) as book,
    ):
        assert book.status is BookStatus.SYNCING and book.last_update_id is None
        first_id = exchange.engine.book_levels(SYMBOL).last_update_id
        while exchange.engine.book_levels(SYMBOL).last_update_id - first_id < 10_000:
            for _ in range(25):
                trader.act()
            await caught_up(book, exchange)
            assert_same_book(book, exchange)
        stats = book.statistics()
        assert stats.resyncs == 0 and stats.snapshots == 1
        assert stats.events_applied > 300
        best_bid, best_ask = book.best_bid(), book.best_ask()
        assert best_bid is not None and best_ask is not None
        assert best_bid.price < best_ask.price
        assert book.quantity("bid", best_bid.price) == best_bid.qty
        assert book.quantity("ask", "1") == 0
        assert len(book.bids(5)) == 5


@pytest.mark.parametrize("fault", ["skip", "hold", "repeat"])
async def test_lost_and_reordered_events_resync_the_book(
    exchange: LocalExchange,
    streams: MarketStreams,
    autojump_clock: trio.testing.MockClock,
    fault: str,
) -> None:
    trader = RandomTrader(exchange, seed=12)
    async with (
        trio_binance.connect(exchange.url) as session,
        local_order_book(streams, session, SYMBOL) as book,
    ):
        trader.act()
        await book.wait_synced()
        statuses = []

        async def watch() -> None:
            async for update in book.updates():
                statuses.append(update.status)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch)
            for _ in range(3):
                getattr(exchange.stream_faults, fault)(STREAM)
                for _ in range(20):
                    for _ in range(5):
                        trader.act()
                    await trio.sleep(0.1)
                await caught_up(book, exchange)
                assert_same_book(book, exchange)
            nursery.cancel_scope.cancel()
        if fault == "repeat":  # a repeated event is ignored: nothing to resync
            assert book.statistics().resyncs == 0
        else:
            assert book.statistics().resyncs == 3
            assert BookStatus.RESYNCING in statuses


async def test_a_reconnect_with_missed_events_resyncs(
    exchange: LocalExchange, streams: MarketStreams, autojump_clock: trio.testing.MockClock
) -> None:
    trader = RandomTrader(exchange, seed=13)
    async with (
        trio_binance.connect(exchange.url) as session,
        local_order_book(streams, session, SYMBOL) as book,
    ):
        trader.act()
        await book.wait_synced()
        exchange.stream_faults.cut(STREAM)
        for _ in range(30):
            trader.act()
            await trio.sleep(0.1)
        await caught_up(book, exchange)
        assert_same_book(book, exchange)
        assert streams.statistics().reconnects == 1


async def test_bad_arguments_are_refused(exchange: LocalExchange, streams: MarketStreams) -> None:
    async with trio_binance.connect(exchange.url) as session:
        for kwargs in (
            {"symbol": "BTC/USDT"},
            {"symbol": SYMBOL, "snapshot_limit": 5001},
            {"symbol": SYMBOL, "update_speed": "10ms"},
        ):
            with pytest.raises(InvalidParameter):
                async with local_order_book(streams, session, **kwargs):
                    pass  # pragma: no cover
        async with local_order_book(streams, session, SYMBOL, update_speed="1000ms") as book:
            assert streams.streams == ("btcusdt@depth",)
            assert "syncing" in repr(book)
            with pytest.raises(InvalidParameter):
                book.quantity("middle", Decimal(1))  # type: ignore[arg-type]
        assert not streams.streams


async def test_a_snapshot_refused_for_good_ends_the_block(
    exchange: LocalExchange, streams: MarketStreams, autojump_clock: trio.testing.MockClock
) -> None:
    class Refusing:
        async def depth(self, *, symbol: str, limit: int | None = None) -> OrderBook:
            raise trio_binance.BadRequest(400, -1121, "Invalid symbol.")

    async def follow() -> None:
        async with local_order_book(streams, Refusing(), SYMBOL) as book:
            RandomTrader(exchange, seed=15).act()
            await book.wait_synced()

    with pytest.raises(trio_binance.BadRequest):
        await follow()


class _Flaky:
    """A depth source rate limited once, then answering from the exchange."""

    def __init__(self, session: trio_binance.Session) -> None:
        self.session = session
        self.calls = 0

    async def depth(self, *, symbol: str, limit: int | None = None) -> OrderBook:
        self.calls += 1
        if self.calls == 1:
            raise trio_binance.RateLimited(429, -1003, "Too many requests")
        return await self.session.depth(symbol=symbol, limit=limit)


async def test_a_rate_limited_snapshot_is_retried(
    exchange: LocalExchange, streams: MarketStreams, autojump_clock: trio.testing.MockClock
) -> None:
    async with trio_binance.connect(exchange.url) as session:
        source = _Flaky(session)
        async with local_order_book(streams, source, SYMBOL, snapshot_retry=2) as book:
            RandomTrader(exchange, seed=14).act()
            start = trio.current_time()
            await book.wait_synced()
            assert trio.current_time() - start >= 2
            assert source.calls == 2
