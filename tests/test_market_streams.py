"""Market streams against the local exchange on loopback, under ``autojump_clock``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from decimal import Decimal

import pytest
import trio
import trio.testing

from trio_binance import (
    ConnectFailed,
    ConnectionState,
    GaveUp,
    InvalidParameter,
    NotSent,
    Overflow,
    ReconnectPolicy,
    StreamOverflow,
    StreamRequestError,
    market_streams,
)
from trio_binance._transport import Connection, TransportClosed, resolve_transport
from trio_binance.models import (
    AggTradeEvent,
    AllMiniTickers,
    AllRollingWindowTickers,
    BookTickerEvent,
    DepthUpdateEvent,
    KlineEvent,
    PartialDepthEvent,
    TradeEvent,
    UnknownStreamEvent,
)
from trio_binance.testing import LocalExchange, open_local_exchange

POLICY = ReconnectPolicy(initial=0.5, cap=2.0, seed=7)


def trade(exchange: LocalExchange, symbol: str = "BTCUSDT") -> None:
    """One trade on ``symbol``: bob rests an ask, alice takes it."""
    price = "30000.00"
    exchange.act(
        "bob",
        "order.place",
        {
            "symbol": symbol,
            "side": "SELL",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "price": price,
            "quantity": "0.001",
        },
    )
    exchange.act(
        "alice",
        "order.place",
        {"symbol": symbol, "side": "BUY", "type": "MARKET", "quantity": "0.001"},
    )


@pytest.fixture
async def exchange() -> AsyncIterator[LocalExchange]:
    async with open_local_exchange() as served:
        yield served


async def test_combined_streams_deliver_typed_events(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    async with market_streams(
        exchange.streams_url, ["BTCUSDT@trade", "btcusdt@aggTrade"], reconnect=POLICY
    ) as streams:
        state_before = streams.state
        trade(exchange)
        got = {}
        async for message in streams:
            got[message.stream] = message.event
            if len(got) == 2:
                break
    assert isinstance(got["btcusdt@trade"], TradeEvent)
    assert isinstance(got["btcusdt@aggTrade"], AggTradeEvent)
    assert got["btcusdt@trade"].price == Decimal("30000.00")
    assert state_before.state is ConnectionState.READY
    assert streams.state.state is ConnectionState.CLOSED


@pytest.mark.parametrize("raw", [True, False])
async def test_dynamic_subscriptions_and_properties(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock, raw: bool
) -> None:
    async with market_streams(
        exchange.streams_url, ["btcusdt@trade"], raw=raw, reconnect=POLICY
    ) as streams:
        trade(exchange)
        first = await streams.__aiter__().__anext__()
        assert first.stream == "btcusdt@trade" and isinstance(first.event, TradeEvent)
        await streams.subscribe(["btcusdt@bookTicker", "ethusdt@trade"])
        assert set(await streams.list_subscriptions()) == {
            "btcusdt@trade",
            "btcusdt@bookTicker",
            "ethusdt@trade",
        }
        # A raw connection switched itself to wrapped payloads for its second stream.
        assert await streams.get_property("combined") is True
        trade(exchange)
        kinds = set()
        async for message in streams:
            kinds.add(type(message.event))
            if {TradeEvent, BookTickerEvent} <= kinds:
                break
        await streams.unsubscribe(["btcusdt@bookTicker"])
        assert set(await streams.list_subscriptions()) == {"btcusdt@trade", "ethusdt@trade"}
        with pytest.raises(StreamRequestError) as info:
            await streams.set_property("nonsense", True)
        assert info.value.code == 0 and "Unknown property" in info.value.msg
        with pytest.raises(InvalidParameter):
            await streams.set_property("combined", False)  # would leave payloads unnamed
        with pytest.raises(InvalidParameter):
            await streams.set_property("combined", "yes")  # type: ignore[arg-type]
        assert streams.statistics().protocol_errors == 0


async def test_a_refused_subscription_raises_and_changes_nothing(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    async with market_streams(exchange.streams_url, ["btcusdt@trade"]) as streams:
        with pytest.raises(StreamRequestError):
            await streams.subscribe(["btcusdt@nonsense"])
        assert streams.streams == ("btcusdt@trade",)
        assert await streams.list_subscriptions() == ("btcusdt@trade",)
        with pytest.raises(InvalidParameter):
            await streams.subscribe(["no symbol"])


async def test_control_messages_are_paced_under_the_limit(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    """40 requests at once: the exchange closes a connection that sends more than 5
    messages in a second (code 1008); the client spreads them and is never closed."""
    async with market_streams(exchange.streams_url, ["btcusdt@trade"], reconnect=POLICY) as s:
        start = trio.current_time()
        async with trio.open_nursery() as nursery:
            for i in range(20):
                nursery.start_soon(s.subscribe, [f"btcusdt@kline_{'1m' if i % 2 else '1s'}"])
                nursery.start_soon(s.list_subscriptions)
        elapsed = trio.current_time() - start
        stats = s.statistics()
        assert stats.reconnects == 0 and stats.protocol_errors == 0
        assert stats.control_messages_sent >= 21  # 20 lists + at least one subscribe
        assert elapsed >= (stats.control_messages_sent - 4) / 4


async def test_unpaced_control_messages_would_be_cut(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    """The check above can fail: six messages in a second get the connection closed."""
    replies = 0
    async with trio.open_nursery() as nursery:
        connection = await resolve_transport(None).open(
            nursery, f"{exchange.streams_url}/ws/btcusdt@trade"
        )
        for i in range(6):
            await connection.send(f'{{"method":"LIST_SUBSCRIPTIONS","id":{i}}}')
        try:
            while True:
                await connection.receive()
                replies += 1
        except TransportClosed:
            pass
        await connection.aclose()
    assert replies < 6


async def test_more_than_1024_streams_use_several_connections(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    names = [f"sym{i}usdt@{kind}" for i in range(700) for kind in ("trade", "aggTrade", "depth")]
    names += ["btcusdt@kline_1m@+08:00", "btcusdt@trade"]  # on the third connection
    async with market_streams(exchange.streams_url, names, reconnect=POLICY) as streams:
        assert streams.connections == 3
        assert sorted(await streams.list_subscriptions()) == sorted(names)
        trade(exchange)
        async for message in streams:
            if message.stream == "btcusdt@trade":
                break
        assert streams.statistics().reconnects == 0


@pytest.mark.parametrize("raw", [False, True])
async def test_reconnect_resubscribes_and_reports_states(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock, raw: bool
) -> None:
    async with market_streams(
        exchange.streams_url, ["btcusdt@trade"], raw=raw, reconnect=POLICY
    ) as s:
        await s.subscribe(["btcusdt@aggTrade"])
        async with s.watch_state() as changes:
            assert (await changes.__anext__()).state is ConnectionState.READY
            await exchange.drop_all()
            assert (await changes.__anext__()).state is ConnectionState.RECONNECTING
            assert (await changes.__anext__()).state is ConnectionState.READY
        assert set(await s.list_subscriptions()) == {"btcusdt@trade", "btcusdt@aggTrade"}
        trade(exchange)
        got = await s.__aiter__().__anext__()
        assert got.stream in {"btcusdt@trade", "btcusdt@aggTrade"}
        assert s.statistics().reconnects == 1


async def test_server_shutdown_reconnects_at_once(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    async with market_streams(exchange.streams_url, ["btcusdt@trade"], reconnect=POLICY) as s:
        async with s.watch_state() as changes:
            await exchange.send_server_shutdown()
            with trio.fail_after(1):  # no backoff delay: reconnected at once
                async for change in changes:
                    if change.state is ConnectionState.RECONNECTING:
                        assert change.reason.endswith("serverShutdown")
                    elif s.statistics().reconnects and change.state is ConnectionState.READY:
                        break
        trade(exchange)
        assert (await s.__aiter__().__anext__()).stream == "btcusdt@trade"


class _Deafening:
    """A transport whose connections can be made to hear nothing (a dead link)."""

    def __init__(self) -> None:
        self.inner = resolve_transport(None)  # the transport this test run uses
        self.deaf = False
        self.refuse = False

    async def open(self, nursery: trio.Nursery, url: str) -> Connection:
        if self.refuse:
            raise ConnectFailed("refused by the test")
        return _DeafConnection(await self.inner.open(nursery, url), self)


class _DeafConnection:
    def __init__(self, inner: Connection, transport: _Deafening) -> None:
        self.inner = inner
        self.transport = transport

    async def send(self, frame: str | bytes) -> None:
        await self.inner.send(frame)

    async def send_batch(self, frames: Sequence[bytes]) -> None:
        await self.inner.send_batch(frames)

    async def receive(self) -> str | bytes:
        while True:
            frame = await self.inner.receive()
            if not self.transport.deaf:
                return frame

    async def deliver(self, handle: Callable[[str | bytes], None]) -> None:
        def hear(frame: str | bytes) -> None:
            if not self.transport.deaf:
                handle(frame)

        await self.inner.deliver(hear)

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        await self.inner.aclose(code, reason)

    async def abort(self) -> None:
        await self.inner.abort()


async def test_a_dead_link_is_detected_and_replaced(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    transport = _Deafening()
    async with market_streams(
        exchange.streams_url,
        ["btcusdt@trade"],
        transport=transport,
        reconnect=POLICY,
        idle_timeout=30,
        probe_timeout=5,
    ) as streams:
        await trio.sleep(100)  # quiet, but alive: probes are answered
        assert streams.statistics().reconnects == 0
        transport.deaf = True
        start = trio.current_time()
        async with streams.watch_state() as changes:
            async for change in changes:
                if change.state is ConnectionState.RECONNECTING:
                    break
        assert "dead link" in change.reason
        assert trio.current_time() - start <= 30 + 5 + 1
        transport.deaf = False


async def test_pings_keep_a_quiet_connection_alive_without_probes(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    """The exchange pings every 20 s; the transport notices them, so a quiet but living
    connection costs no probe (and no control message out of the 5 a second)."""
    async with market_streams(
        exchange.streams_url, ["btcusdt@trade"], reconnect=POLICY, idle_timeout=30
    ) as streams:
        await trio.sleep(300)
        stats = streams.statistics()
        assert stats.control_messages_sent == 0 and stats.reconnects == 0


async def test_give_up_ends_the_block(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    transport = _Deafening()
    policy = ReconnectPolicy(initial=1, cap=1, max_attempts=3, seed=1)
    url = exchange.streams_url
    streams = None

    async def run() -> None:
        nonlocal streams
        async with market_streams(
            url, ["btcusdt@trade"], transport=transport, reconnect=policy
        ) as streams:
            transport.refuse = True
            await exchange.drop_all()
            async for _ in streams:
                pass  # pragma: no cover

    with pytest.raises(GaveUp, match="3 failed"):
        await run()
    assert streams is not None
    assert streams.state.state is ConnectionState.CLOSED
    assert "gave up" in streams.state.reason


async def test_the_first_connection_failing_raises_connect_failed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_local_exchange() as exchange:
        url = exchange.streams_url
    with pytest.raises(ConnectFailed):
        async with market_streams(url, ["btcusdt@trade"]):
            pass  # pragma: no cover


async def test_no_connection_no_properties(exchange: LocalExchange) -> None:
    async with market_streams(exchange.streams_url) as streams:
        with pytest.raises(NotSent):
            await streams.get_property("combined")
        assert streams.connections == 0


async def test_feeds_have_their_own_overflow_policy(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    async with market_streams(exchange.streams_url, reconnect=POLICY) as streams:
        async with (
            streams.listen(["btcusdt@trade"], buffer_size=2, overflow=Overflow.FAIL) as strict,
            streams.listen(
                ["btcusdt@trade"], buffer_size=2, overflow=Overflow.DROP_OLDEST
            ) as latest,
        ):
            for _ in range(5):
                trade(exchange)
            await trio.sleep(1)
            trades = [await latest.__anext__(), await latest.__anext__()]
            assert [m.event.trade_id for m in trades] == [4, 5]  # type: ignore[union-attr]
            assert latest.statistics().dropped == 3
            await strict.__anext__()
            await strict.__anext__()
            with pytest.raises(StreamOverflow) as info:
                await strict.__anext__()
            assert info.value.lost == 3
        # both left: the stream nobody wants any more was unsubscribed
        assert streams.streams == ()


async def test_a_connection_left_without_streams_reconnects_when_one_is_added(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    async with market_streams(exchange.streams_url, reconnect=POLICY) as streams:
        async with streams.listen(["btcusdt@trade"]):
            pass
        assert streams.connections == 1 and not streams.streams
        await exchange.drop_all()
        await trio.sleep(60)  # nothing to carry: no reconnection attempt, no error
        assert streams.statistics().reconnects == 1
        assert await streams.list_subscriptions() == ()
        with pytest.raises(NotSent):
            await streams.get_property("combined")
        with pytest.raises(NotSent):
            await streams.set_property("combined", True)
        await streams.subscribe(["btcusdt@aggTrade"])
        assert await streams.list_subscriptions() == ("btcusdt@aggTrade",)
        trade(exchange)
        assert (await streams.__aiter__().__anext__()).stream == "btcusdt@aggTrade"


async def test_the_24_hour_cut_is_repaired(autojump_clock: trio.testing.MockClock) -> None:
    """The exchange ends every connection at 24 h; the streams reconnect and resubscribe."""
    async with (
        open_local_exchange() as exchange,  # Binance's lifecycle: a cut at 24 h
        market_streams(exchange.streams_url, ["btcusdt@trade"], reconnect=POLICY) as streams,
    ):
        await streams.subscribe(["btcusdt@aggTrade"])
        await trio.sleep(24 * 3600 + 60)
        assert streams.statistics().reconnects == 1
        assert streams.state.state is ConnectionState.READY
        assert set(await streams.list_subscriptions()) == {"btcusdt@trade", "btcusdt@aggTrade"}
        trade(exchange)
        assert (await streams.__aiter__().__anext__()).stream in streams.streams


async def test_periodic_streams_decode_over_the_wire(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    """Klines (UTC and the +08:00 variant), tickers, depth and the all-market arrays arrive
    typed; nothing is a protocol error or an unknown event."""
    names = [
        "btcusdt@kline_1s",
        "btcusdt@kline_1s@+08:00",
        "btcusdt@miniTicker",
        "btcusdt@ticker",
        "btcusdt@ticker_1h",
        "btcusdt@avgPrice",
        "btcusdt@depth5@100ms",
        "btcusdt@depth",
        "!miniTicker@arr",
        "!ticker_1h@arr",
    ]
    async with market_streams(exchange.streams_url, names, reconnect=POLICY) as streams:
        trade(exchange)
        seen: dict[str, type] = {}
        with trio.fail_after(10):
            async for message in streams:
                seen[message.stream] = type(message.event)
                if len(seen) == len(names):
                    break
        assert streams.statistics().protocol_errors == 0
    assert seen["btcusdt@kline_1s@+08:00"] is KlineEvent is seen["btcusdt@kline_1s"]
    assert seen["btcusdt@depth5@100ms"] is PartialDepthEvent
    assert seen["btcusdt@depth"] is DepthUpdateEvent
    assert seen["!miniTicker@arr"] is AllMiniTickers
    assert seen["!ticker_1h@arr"] is AllRollingWindowTickers
    assert UnknownStreamEvent not in seen.values()
