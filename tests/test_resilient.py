"""The resilient session against the local exchange's lifecycle and faults, under autojump_clock.

Every scenario runs real trio-websocket connections on loopback; time (pings, backoff, bans,
the 24 h cut) is trio's mock clock.
"""

from __future__ import annotations

import functools
import gc
import itertools
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import pytest
import trio
import trio.testing

import trio_binance
from trio_binance import (
    ConnectionState,
    DeadLink,
    GaveUp,
    IpBanned,
    ReconnectPolicy,
    ResilientSession,
    ResilientUserDataStream,
    ResponseLost,
    SessionClosed,
    SubscriptionActive,
    UserDataGap,
    UserDataStreamLost,
)
from trio_binance.models import BalanceUpdate
from trio_binance.testing import (
    BanPolicy,
    Drop,
    ExchangeError,
    Limit,
    LocalExchange,
    RateLimitConfig,
    Reply,
    Request,
    StateRecorder,
    UserEventFlood,
    open_local_exchange,
)
from trio_binance.testing._limits import RateLimitRejection

READY = ConnectionState.READY
ROTATING = ConnectionState.ROTATING
RECONNECTING = ConnectionState.RECONNECTING
POLICY = ReconnectPolicy(initial=0.5, cap=8.0, seed=7)
DAY = 24 * 3600.0


@pytest.fixture
async def resilient(local_exchange: LocalExchange) -> AsyncIterator[ResilientSession]:
    credentials = local_exchange.demo_keys["alice"].ed25519
    async with trio_binance.connect_resilient(
        local_exchange.url, credentials=credentials, policy=POLICY
    ) as session:
        yield session


@pytest.fixture
async def recorder(resilient: ResilientSession, nursery: trio.Nursery) -> StateRecorder:
    recorder = StateRecorder()
    await nursery.start(recorder.run, resilient)
    return recorder


class Collector:
    """Takes a resilient stream's items in a background task: flood numbers and gaps."""

    def __init__(self, flood: UserEventFlood) -> None:
        self.flood = flood
        self.numbers: list[int] = []
        self.gaps: list[tuple[int, UserDataGap]] = []  # (numbers received before it, gap)
        self.complete = trio.Event()
        self._progress = trio.Event()

    async def wait_count(self, count: int) -> None:
        while len(self.numbers) < count:
            await self._progress.wait()
            self._progress = trio.Event()

    async def run(self, stream: ResilientUserDataStream, *, until: int | None = None) -> None:
        wanted = self.flood.count if until is None else until
        async for item in stream:
            if isinstance(item, UserDataGap):
                self.gaps.append((len(self.numbers), item))
                continue
            number = self.flood.number_of(item)
            if number is not None:
                self.numbers.append(number)
                self._progress.set()
            if len(self.numbers) >= wanted:
                self.complete.set()


def logons_at(exchange: LocalExchange, *, refuse: int = 0) -> list[float]:
    """Record when each ``session.logon`` reaches ``exchange`` (trio time); refuse the next
    ``refuse`` of them."""
    times: list[float] = []
    handler = exchange.handler("session.logon")
    assert handler is not None

    def logon(request: Request) -> Any:
        times.append(trio.current_time())
        if len(times) <= refuse:
            raise ExchangeError(503, -1001, "Internal error; unable to process your request.")
        return handler(request)

    exchange.register("session.logon", logon)
    return times


# --- make before break ---------------------------------------------------------------------


async def test_rotation_before_the_24h_cut_loses_nothing_of_a_10000_event_flood(
    local_exchange: LocalExchange,
    resilient: ResilientSession,
    recorder: StateRecorder,
    autojump_clock: trio.testing.MockClock,
) -> None:
    flood = UserEventFlood(local_exchange, "alice", 10_000, batch=5, interval=0)
    collector = Collector(flood)
    first = local_exchange.connections[0]
    async with resilient.user_data() as events, trio.open_nursery() as nursery:
        nursery.start_soon(collector.run, events)
        await flood.run(3_000)  # before: old connection only
        rotating = await recorder.wait_for(ROTATING)
        assert DAY - 20 * 60 < rotating.at < DAY  # ahead of the cut, by the default margin
        await flood.run(4_000)  # while both connections are subscribed
        await recorder.wait_for(READY, after=recorder.states.index(ROTATING))
        await flood.run()  # after: new connection only
        await collector.complete.wait()
        await trio.sleep_until(DAY + 120)  # past the first connection's 24 h mark
        nursery.cancel_scope.cancel()
    report = flood.verify(collector.numbers)
    assert report.perfect, report
    assert collector.gaps == []
    stats = resilient.statistics()
    assert stats.duplicates_dropped > 0  # the two windows really overlapped
    assert (stats.rotations, stats.reconnects, stats.gaps) == (1, 0, 0)
    assert recorder.states[:3] == [READY, ROTATING, READY]
    assert first.closed.is_set()  # closed by us, before the exchange's cut
    assert [c.id for c in local_exchange.connections] == [2]


async def test_server_shutdown_rotates_without_a_gap(
    local_exchange: LocalExchange,
    resilient: ResilientSession,
    recorder: StateRecorder,
    autojump_clock: trio.testing.MockClock,
) -> None:
    flood = UserEventFlood(local_exchange, "alice", 3_000, batch=5, interval=0)
    collector = Collector(flood)
    async with resilient.user_data() as events, trio.open_nursery() as nursery:
        nursery.start_soon(collector.run, events)
        await flood.run(1_000)
        nursery.start_soon(local_exchange.send_server_shutdown)
        await recorder.wait_for(ROTATING)
        await flood.run()
        await collector.complete.wait()
        nursery.cancel_scope.cancel()
    assert flood.verify(collector.numbers).perfect
    assert collector.gaps == []
    assert "serverShutdown" in recorder.changes[1].reason
    assert (resilient.statistics().rotations, resilient.statistics().reconnects) == (1, 0)
    assert await resilient.ping() is not None


async def test_rotation_at_a_time_the_application_chooses(
    local_exchange: LocalExchange,
    resilient: ResilientSession,
    autojump_clock: trio.testing.MockClock,
) -> None:
    before = resilient.current
    first = local_exchange.connections[0]
    await trio.sleep(3600)
    await resilient.rotate("quiet hour")
    assert resilient.current is not before and before is not None
    with trio.fail_after(1):  # nothing in flight to drain: closed at once
        await first.closed.wait()
    assert "quiet hour" in resilient.state.reason
    assert [c.id for c in local_exchange.connections] == [2]


async def test_old_connection_answers_its_requests_before_it_is_closed(
    local_exchange: LocalExchange,
    resilient: ResilientSession,
    autojump_clock: trio.testing.MockClock,
) -> None:
    local_exchange.faults.delay(2.0, "time")
    old = resilient.current
    async with trio.open_nursery() as nursery:
        replies: list[int] = []

        async def slow_time() -> None:
            replies.append((await resilient.server_time()).server_time)

        nursery.start_soon(slow_time)
        await trio.testing.wait_all_tasks_blocked()
        await resilient.rotate()
        assert old is not None and not old.closed  # draining
    assert len(replies) == 1
    assert old.statistics().requests_sent >= 1


async def test_a_malformed_event_in_a_rotations_overlap_raises_once_in_its_place(
    local_exchange: LocalExchange,
    resilient: ResilientSession,
    autojump_clock: trio.testing.MockClock,
) -> None:
    def balance(time: int) -> dict[str, Any]:
        return {"e": "balanceUpdate", "E": time, "a": "BTC", "d": "1", "T": time}

    malformed = {"e": "executionReport", "E": 3, "s": 5}
    unsubscribe = local_exchange.handler("userDataStream.unsubscribe")
    assert unsubscribe is not None
    overlap: list[int] = []

    def publish_then_unsubscribe(request: Request) -> Any:
        # The old connection's unsubscribe has arrived: both connections are subscribed.
        overlap.append(len(local_exchange.user_streams.subscriptions("alice")))
        if len(overlap) == 1:
            for event in (balance(2), malformed, balance(4)):
                local_exchange.publish_user_event("alice", event)
        return unsubscribe(request)

    local_exchange.register("userDataStream.unsubscribe", publish_then_unsubscribe)
    got: list[object] = []
    async with resilient.user_data() as events:
        local_exchange.publish_user_event("alice", balance(1))
        await resilient.rotate()
        await trio.testing.wait_all_tasks_blocked()
        local_exchange.publish_user_event("alice", balance(5))  # on the new one only
        with trio.fail_after(60):
            while len(got) < 5:
                try:
                    item = await events.__anext__()
                except trio_binance.ProtocolError as error:
                    got.append(msgspec.json.decode(error.raw or b"null"))
                    continue
                assert isinstance(item, BalanceUpdate)
                got.append(item.event_time)
        statistics = events.statistics()
    assert overlap[0] == 2
    assert got == [1, 2, malformed, 4, 5]
    assert (statistics.malformed, statistics.gaps, statistics.duplicates_dropped) == (1, 0, 3)
    assert resilient.statistics().rotations == 1


async def test_replacement_lost_while_resubscribing_leaves_no_needless_gap(
    local_exchange: LocalExchange,
    resilient: ResilientSession,
    autojump_clock: trio.testing.MockClock,
) -> None:
    calls: list[int] = []
    published = itertools.count(1)

    def publish() -> None:
        time = next(published)
        for account in ("alice", "bob"):
            event = {"e": "balanceUpdate", "E": time, "a": "BTC", "d": "1", "T": time}
            local_exchange.publish_user_event(account, event)

    def publishing(method: str) -> None:
        handler = local_exchange.handler(method)
        assert handler is not None

        def subscribe_and_publish(request: Request) -> Any:
            calls.append(request.connection.id)
            result = handler(request)
            publish()  # reaches every subscription made so far
            if len(calls) == 3:  # one stream is subscribed on the replacement, the other not
                local_exchange.faults.arm(Drop(), connection=request.connection.id)
            return result

        local_exchange.register(method, subscribe_and_publish)

    publishing("userDataStream.subscribe")
    publishing("userDataStream.subscribe.signature")
    bob = local_exchange.demo_keys["bob"].hmac
    async with resilient.user_data() as first, resilient.user_data(credentials=bob) as second:
        await resilient.rotate()
        publish()
        await trio.testing.wait_all_tasks_blocked()
        last = next(published) - 1
        for stream in (first, second):
            times: list[int] = []
            with trio.fail_after(60):
                while not times or times[-1] < last:
                    item = await stream.__anext__()
                    assert isinstance(item, BalanceUpdate), item  # no gap marker
                    times.append(item.event_time)
            assert times == list(range(times[0], last + 1))
            assert stream.statistics().gaps == 0
    assert len(calls) == 5 and calls[2] != calls[3]  # the replacement was lost part way
    stats = resilient.statistics()
    assert (stats.rotations, stats.gaps) == (1, 0)


# --- unplanned drops ---------------------------------------------------------------------


async def test_drop_reconnects_relogs_on_resubscribes_and_marks_the_gap(
    local_exchange: LocalExchange,
    resilient: ResilientSession,
    recorder: StateRecorder,
    autojump_clock: trio.testing.MockClock,
) -> None:
    logons = logons_at(local_exchange)
    flood = UserEventFlood(local_exchange, "alice", 300, batch=10, interval=0)
    collector = Collector(flood)
    async with resilient.user_data() as events, trio.open_nursery() as nursery:
        nursery.start_soon(functools.partial(collector.run, events, until=200))
        await flood.run(100)
        await collector.wait_count(100)
        local_exchange.faults.silent("account.status")
        in_flight = trio.Event()
        outcomes: list[BaseException] = []

        async def doomed() -> None:
            in_flight.set()
            try:
                await resilient.account_status()
            except ResponseLost as exc:
                outcomes.append(exc)

        nursery.start_soon(doomed)
        await in_flight.wait()
        await trio.testing.wait_all_tasks_blocked()
        dropped_at = trio.current_time()
        await local_exchange.drop_all()
        await recorder.wait_for(RECONNECTING)
        await flood.run(100)  # published while nobody is subscribed: lost for good
        # A request made while reconnecting waits for the new connection.
        assert (await resilient.server_time()).server_time > 0
        back = await recorder.wait_for(READY, after=1)
        await flood.run()
        await collector.complete.wait()
        subscribed = local_exchange.user_streams.subscriptions("alice")
        assert [s.connection for s in subscribed] == [local_exchange.connections[0]]
        nursery.cancel_scope.cancel()
    assert len(outcomes) == 1 and outcomes[0].__class__ is ResponseLost
    assert back.at - dropped_at <= POLICY.ceiling(0) + 0.1
    assert len(logons) == 1  # the first logon was before the recorder; this is the re-logon
    assert local_exchange.connections[0].session_key is not None
    assert collector.numbers == [*range(100), *range(200, 300)]
    assert len(collector.gaps) == 1
    received_before, gap = collector.gaps[0]
    assert received_before == 100
    assert gap.last_event_time is not None and gap.lost_at <= gap.resumed_at
    caught_up = await resilient.catch_up(gap, symbols=["BTCUSDT"])
    assert caught_up.account.balances and caught_up.trades == {"BTCUSDT": []}
    assert resilient.statistics().gaps == 1


async def test_failed_attempts_back_off_with_seeded_full_jitter(
    local_exchange: LocalExchange,
    resilient: ResilientSession,
    recorder: StateRecorder,
    autojump_clock: trio.testing.MockClock,
) -> None:
    logons = logons_at(local_exchange, refuse=5)
    await local_exchange.drop_all()
    await recorder.wait_for(READY, after=1)
    delays = list(itertools.islice(POLICY.delays(), 6))
    gaps = [later - earlier for earlier, later in itertools.pairwise(logons)]
    assert len(logons) == 6
    assert gaps == pytest.approx(delays[1:], abs=0.01)
    attempts = [c.attempt for c in recorder.changes if c.state is RECONNECTING]
    assert attempts == [0, 1, 2, 3, 4, 5]
    assert resilient.statistics().failed_attempts == 5


async def test_policy_gives_up_and_closes_everything(
    local_exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    credentials = local_exchange.demo_keys["alice"].ed25519
    policy = ReconnectPolicy(initial=1, cap=4, max_attempts=3, seed=1)
    async with trio_binance.connect_resilient(
        local_exchange.url, credentials=credentials, policy=policy
    ) as session:
        async with session.user_data() as events:
            local_exchange.faults.drop("session.logon", times=None)
            await local_exchange.drop_all()
            with pytest.raises(UserDataStreamLost) as lost:
                async for _ in events:
                    pass
            assert isinstance(lost.value.reason, GaveUp)
        assert session.state.state is ConnectionState.CLOSED
        assert "gave up after 3" in session.state.reason
        with pytest.raises(SessionClosed) as closed:
            await session.ping()
        assert isinstance(closed.value.reason, GaveUp)


async def test_rotate_raises_when_the_session_gives_up_while_it_waits(
    local_exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    credentials = local_exchange.demo_keys["alice"].ed25519
    policy = ReconnectPolicy(initial=1, cap=4, max_attempts=3, seed=1)
    async with trio_binance.connect_resilient(
        local_exchange.url, credentials=credentials, policy=policy
    ) as session:
        local_exchange.faults.drop("session.logon", times=None)
        outcome: list[SessionClosed] = []

        async def rotate() -> None:
            try:
                await session.rotate()
            except SessionClosed as exc:
                outcome.append(exc)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(rotate)
            await until_state(session, ConnectionState.DEGRADED)  # a replacement failed
            await local_exchange.drop_all()  # then the old connection is lost: give up
        assert session.state.state is ConnectionState.CLOSED
        assert len(outcome) == 1
        assert isinstance(outcome[0].reason, GaveUp)
        with pytest.raises(SessionClosed) as closed:  # and after the close, at once
            await session.rotate()
        assert isinstance(closed.value.reason, GaveUp)


async def test_first_connection_follows_the_policy_too(
    autojump_clock: trio.testing.MockClock,
) -> None:
    policy = ReconnectPolicy(initial=1, cap=4, max_attempts=2, seed=1)
    with pytest.raises(GaveUp):
        async with trio_binance.connect_resilient("ws://127.0.0.1:9/ws-api/v3", policy=policy):
            pass  # pragma: no cover


async def test_fail_fast_while_reconnecting(
    local_exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    credentials = local_exchange.demo_keys["alice"].ed25519
    async with trio_binance.connect_resilient(
        local_exchange.url, credentials=credentials, policy=POLICY, when_reconnecting="fail"
    ) as session:
        local_exchange.faults.drop("session.logon", times=3)
        await local_exchange.drop_all()
        await until_state(session, RECONNECTING)
        with pytest.raises(SessionClosed, match="reconnecting"):
            await session.ping()
        await until_state(session, READY)
        await session.ping()


# --- dead links and pongs ------------------------------------------------------------------


async def test_silent_link_is_replaced_after_dead_after(
    local_exchange: LocalExchange,
    resilient: ResilientSession,
    recorder: StateRecorder,
    autojump_clock: trio.testing.MockClock,
) -> None:
    await trio.sleep(30)  # a ping came at 20 s
    old = resilient.current
    local_exchange.connections[0].stall()
    stalled_at = trio.current_time()
    with pytest.raises(ResponseLost) as lost:
        await resilient.ping()
    detected_at = trio.current_time()
    assert isinstance(lost.value.reason, DeadLink)
    assert "nothing received for 50 s" in str(lost.value)
    # The last thing received was the 20 s ping (or the reply before the stall).
    assert stalled_at - 10 + 50 <= detected_at + 0.01 and detected_at <= stalled_at + 50
    await recorder.wait_for(READY, after=1)
    assert resilient.current is not old
    assert resilient.statistics().dead_links == 1
    await resilient.ping()


async def test_pings_alone_keep_a_quiet_link_alive(
    local_exchange: LocalExchange,
    resilient: ResilientSession,
    autojump_clock: trio.testing.MockClock,
) -> None:
    await trio.sleep(3 * 3600)  # no request, no event: only the exchange's pings
    stats = resilient.statistics()
    assert (stats.connections_opened, stats.dead_links, stats.reconnects) == (1, 0, 0)


async def test_pongs_go_out_while_the_consumer_is_slow(
    local_exchange: LocalExchange,
    resilient: ResilientSession,
    autojump_clock: trio.testing.MockClock,
) -> None:
    flood = UserEventFlood(local_exchange, "alice", 3_000, batch=100, interval=0)
    taken = 0
    async with resilient.user_data() as events:
        await flood.run()
        async for _ in events:  # 5 s per event: 10 minutes for the first 120
            taken += 1
            if taken == 120:
                break
            await trio.sleep(5)
        # Ten minutes with thousands of events waiting: the exchange (pong timeout 60 s)
        # would have dropped a connection whose reader had stalled.
        assert events.statistics().buffered > 0
    stats = resilient.statistics()
    assert (stats.connections_opened, stats.reconnects, stats.dead_links) == (1, 0, 0)
    assert local_exchange.connections[0].id == 1


# --- bans and connection limits ------------------------------------------------------------


async def ping_until_refused(session: ResilientSession) -> None:
    for _ in range(100):
        await session.ping()


def attempts_at(exchange: LocalExchange) -> list[tuple[float, float | None]]:
    """Record each connection attempt: (trio time, when it may retry if it was refused)."""
    attempts: list[tuple[float, float | None]] = []
    count = exchange.limiter.connection_attempt

    def connection_attempt(ip: str, now_ms: int) -> None:
        try:
            count(ip, now_ms)
        except RateLimitRejection as refusal:
            wait = (refusal.retry_after - now_ms) / 1000
            attempts.append((trio.current_time(), trio.current_time() + wait))
            raise
        attempts.append((trio.current_time(), None))

    exchange.limiter.connection_attempt = connection_attempt  # type: ignore[method-assign]
    return attempts


async def drop_and_wait(exchange: LocalExchange, session: ResilientSession) -> None:
    """Drop every connection and wait until the session has noticed."""
    await exchange.drop_all()
    await until_state(session, RECONNECTING)


async def until_state(session: ResilientSession, state: ConnectionState) -> None:
    async with session.states() as changes:
        async for change in changes:
            if change.state is state:
                return


@asynccontextmanager
async def serve(exchange: LocalExchange) -> AsyncIterator[LocalExchange]:
    exchange.demo_keys = exchange.create_demo_keys(["alice"])
    async with open_local_exchange(exchange) as served:
        yield served


async def test_ip_ban_holds_reconnects_until_it_ends(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limits = RateLimitConfig(
        request_weight=(Limit("REQUEST_WEIGHT", "MINUTE", 1, 40),),
        ban=BanPolicy(tolerated_refusals=0, first_ban_ms=120_000),
    )
    async with serve(LocalExchange(limits=limits)) as exchange:
        credentials = exchange.demo_keys["alice"].ed25519
        async with trio_binance.connect_resilient(
            exchange.url, credentials=credentials, policy=POLICY
        ) as session:
            recorder = StateRecorder()
            async with trio.open_nursery() as nursery:
                await nursery.start(recorder.run, session)
                with pytest.raises(IpBanned) as banned:
                    await ping_until_refused(session)
                banned_at = trio.current_time()
                assert banned.value.retry_after is not None
                ban_seconds = (banned.value.retry_after - exchange.now_ms()) / 1000
                assert ban_seconds > 100
                back = await recorder.wait_for(READY, after=1)
                nursery.cancel_scope.cancel()
            assert back.at >= banned_at + ban_seconds
            assert exchange.connection_attempts == 2  # no knocking during the ban
            assert exchange.refused_connections[418] == 0
            await session.ping()


async def test_ban_learnt_at_the_handshake_is_waited_out(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with serve(LocalExchange()) as exchange:
        credentials = exchange.demo_keys["alice"].ed25519
        async with trio_binance.connect_resilient(
            exchange.url, credentials=credentials, policy=POLICY
        ) as session:
            # Banned by another client on the same IP: this one learns it when it knocks.
            exchange.limiter.ban("127.0.0.1", until_ms=exchange.now_ms() + 300_000)
            dropped_at = trio.current_time()
            await drop_and_wait(exchange, session)
            await session.ping()
            assert trio.current_time() - dropped_at >= 299.9
            assert exchange.refused_connections[418] == 1
            assert exchange.connection_attempts == 3


async def test_connection_attempt_limit_is_respected(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limits = RateLimitConfig(connections=(Limit("CONNECTIONS", "MINUTE", 1, 4),))
    async with serve(LocalExchange(limits=limits)) as exchange:
        attempts = attempts_at(exchange)
        credentials = exchange.demo_keys["alice"].ed25519
        async with trio_binance.connect_resilient(
            exchange.url, credentials=credentials, policy=POLICY
        ) as session:
            for _ in range(10):  # a flapping network: drop after drop
                await session.ping()
                await drop_and_wait(exchange, session)
            await session.ping()
            assert session.statistics().reconnects == 10
            refusals = [(at, until) for at, until in attempts if until is not None]
            assert refusals  # the limit was reached...
            for refused_at, until in refusals:  # ...and then no knocking until it reset
                assert not [at for at, _ in attempts if refused_at < at < until - 0.001]
            assert exchange.refused_connections[418] == 0  # never knocked into a ban


async def test_order_lost_at_a_drop_is_reconciled_on_the_next_connection(
    local_exchange: LocalExchange,
    resilient: ResilientSession,
    autojump_clock: trio.testing.MockClock,
) -> None:
    local_exchange.faults.drop("order.place", after_execute=True)
    with pytest.raises(ResponseLost) as lost:
        await resilient.place_order(
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            time_in_force="GTC",
            price="20000",
            quantity="0.001",
        )
    found = await resilient.reconcile(lost.value)
    assert found.outcome == "executed"
    assert found.order is not None and found.order.client_order_id == found.client_order_id
    assert resilient.statistics().reconnects == 1
    assert local_exchange.requests_seen["order.place"] == 1  # never re-sent
    assert resilient.recv_window is None or int(resilient.recv_window) > 0
    assert abs(resilient.clock.now_ms() - local_exchange.now_ms()) < 1000


async def test_waiting_for_a_connection_is_bounded_by_the_callers_deadline(
    local_exchange: LocalExchange,
    resilient: ResilientSession,
    autojump_clock: trio.testing.MockClock,
) -> None:
    logons_at(local_exchange, refuse=50)
    await drop_and_wait(local_exchange, resilient)
    with trio.move_on_after(5) as waited:
        await resilient.ping()
    assert waited.cancelled_caught
    assert resilient.state.state is RECONNECTING and resilient.state.attempt >= 1


async def test_overflow_becomes_a_gap_and_the_stream_goes_on(
    local_exchange: LocalExchange,
    resilient: ResilientSession,
    autojump_clock: trio.testing.MockClock,
) -> None:
    flood = UserEventFlood(local_exchange, "alice", 340, batch=400, interval=0)
    async with resilient.user_data(buffer_size=50) as events:
        await flood.run(300)  # nobody reads: 50 buffered here, then...
        await trio.testing.wait_all_tasks_blocked()
        before: list[int | None] = []
        while not isinstance(item := await events.__anext__(), UserDataGap):
            before.append(flood.number_of(item))
        # What the buffers held came first: at least this stream's 50 (more where the
        # transport hands a burst over a task step per message, less at once).
        assert before == list(range(len(before))) and len(before) >= 50
        assert "consumer fell 50 events behind" in item.reason
        await trio.testing.wait_all_tasks_blocked()  # re-subscribed on the same connection
        await flood.run()  # a burst the buffer can hold
        rest = [flood.number_of(await events.__anext__()) for _ in range(40)]
        assert rest == list(range(300, 340))
        assert events.statistics().subscriptions == 2 and events.statistics().gaps == 1
    assert resilient.statistics().reconnects == 0


async def test_refused_resubscription_ends_the_stream_and_degrades(
    local_exchange: LocalExchange,
    resilient: ResilientSession,
    recorder: StateRecorder,
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with resilient.user_data() as events:
        local_exchange.faults.arm(
            Reply(400, -2035, "User Data Stream subscription already active."),
            method="userDataStream.subscribe",
        )
        await local_exchange.drop_all()
        degraded = await recorder.wait_for(ConnectionState.DEGRADED)
        assert "refused" in degraded.reason
        with pytest.raises(SubscriptionActive):
            await events.__anext__()
    await resilient.ping()  # requests still work


async def test_failed_rotation_attempts_degrade_while_the_old_connection_serves(
    local_exchange: LocalExchange,
    resilient: ResilientSession,
    recorder: StateRecorder,
    autojump_clock: trio.testing.MockClock,
) -> None:
    logons_at(local_exchange, refuse=2)
    old = resilient.current
    async with trio.open_nursery() as nursery:
        nursery.start_soon(resilient.rotate)
        degraded = await recorder.wait_for(ConnectionState.DEGRADED)
        assert "attempt 1 failed" in degraded.reason
        assert resilient.current is old
        await resilient.ping()  # still served by the old connection meanwhile
    assert recorder.states[-1] is READY and resilient.current is not old
    assert resilient.statistics().rotations == 1


async def test_an_exchange_that_accepts_and_says_nothing_counts_as_a_failed_attempt(
    local_exchange: LocalExchange,
    resilient: ResilientSession,
    recorder: StateRecorder,
    autojump_clock: trio.testing.MockClock,
) -> None:
    local_exchange.faults.silent("session.logon")
    dropped_at = trio.current_time()
    await drop_and_wait(local_exchange, resilient)
    back = await recorder.wait_for(READY, after=1)
    assert resilient.statistics().failed_attempts == 1
    assert 30 <= back.at - dropped_at <= 30 + POLICY.ceiling(0) + POLICY.ceiling(1) + 0.1


async def test_an_unanswered_resubscription_replaces_the_new_connection(
    local_exchange: LocalExchange,
    resilient: ResilientSession,
    recorder: StateRecorder,
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with resilient.user_data() as events:
        local_exchange.faults.silent("userDataStream.subscribe")
        await drop_and_wait(local_exchange, resilient)
        await recorder.wait_for(READY, after=1)
        assert resilient.statistics().connections_opened == 3
        local_exchange.publish_user_event(
            "alice", {"e": "balanceUpdate", "E": 1, "a": "BTC", "d": "1", "T": 2}
        )
        assert isinstance(await events.__anext__(), UserDataGap)
        event = await events.__anext__()
        assert isinstance(event, BalanceUpdate) and event.clear_time == 2


async def test_old_connection_lost_while_its_replacement_opens(
    local_exchange: LocalExchange,
    resilient: ResilientSession,
    recorder: StateRecorder,
    autojump_clock: trio.testing.MockClock,
) -> None:
    logons_at(local_exchange, refuse=3)
    async with resilient.user_data() as events, trio.open_nursery() as nursery:
        nursery.start_soon(resilient.rotate)
        await recorder.wait_for(ConnectionState.DEGRADED)  # rotation attempt 1 failed
        await local_exchange.drop_all()  # and now the old one is gone too
        lost = await recorder.wait_for(RECONNECTING)
        back = await recorder.wait_for(READY, after=recorder.changes.index(lost))
        assert back.reason.startswith("reconnected")
        local_exchange.publish_user_event(
            "alice", {"e": "balanceUpdate", "E": 1, "a": "BTC", "d": "1", "T": 2}
        )
        assert isinstance(await events.__anext__(), UserDataGap)
        assert isinstance(await events.__anext__(), BalanceUpdate)
    stats = resilient.statistics()
    assert (stats.rotations, stats.reconnects, stats.failed_attempts) == (0, 1, 3)


async def test_subscribing_while_reconnecting_waits_for_the_next_connection(
    local_exchange: LocalExchange,
    resilient: ResilientSession,
    autojump_clock: trio.testing.MockClock,
) -> None:
    logons_at(local_exchange, refuse=2)
    await drop_and_wait(local_exchange, resilient)
    async with resilient.user_data() as events:
        assert resilient.state.state is READY
        local_exchange.publish_user_event(
            "alice", {"e": "balanceUpdate", "E": 1, "a": "BTC", "d": "1", "T": 2}
        )
        event = await events.__anext__()  # no gap: nothing came before on this stream
        assert isinstance(event, BalanceUpdate)
        assert repr(events).startswith("<ResilientUserDataStream open")
    with pytest.raises(StopAsyncIteration):
        await events.__anext__()


async def test_hmac_key_resubscribes_by_signature_after_a_drop(
    local_exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    credentials = local_exchange.demo_keys["alice"].hmac  # no session.logon for HMAC keys
    async with (
        trio_binance.connect_resilient(
            local_exchange.url, credentials=credentials, policy=POLICY
        ) as session,
        session.user_data() as events,
    ):
        await drop_and_wait(local_exchange, session)
        await until_state(session, READY)
        assert local_exchange.connections[0].session_key is None
        local_exchange.publish_user_event(
            "alice", {"e": "balanceUpdate", "E": 1, "a": "BTC", "d": "1", "T": 2}
        )
        assert isinstance(await events.__anext__(), UserDataGap)
        assert isinstance(await events.__anext__(), BalanceUpdate)
        assert local_exchange.requests_seen["userDataStream.subscribe.signature"] == 2


async def test_replaced_connections_are_not_kept_alive_by_a_long_lived_stream(
    local_exchange: LocalExchange,
    resilient: ResilientSession,
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with resilient.user_data() as events:
        old = [weakref.ref(resilient.current)]
        for _ in range(3):
            await resilient.rotate()
            old.append(weakref.ref(resilient.current))
        await trio.sleep(60)  # drained and closed
        gc.collect()
        assert [ref() is None for ref in old] == [True, True, True, False]
        local_exchange.publish_user_event(
            "alice", {"e": "balanceUpdate", "E": 1, "a": "BTC", "d": "1", "T": 2}
        )
        assert isinstance(await events.__anext__(), BalanceUpdate)
