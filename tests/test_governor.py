"""The rate governor against the local exchange's real rate limiter, under autojump_clock."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
import pytest
import trio
import trio.testing
from hypothesis import example, given, settings
from hypothesis import strategies as st

import trio_binance
from trio_binance import BadRequest, InvalidParameter, IpBanned, RateLimited
from trio_binance._governor import IpBanActive, RateGovernor, WouldExceedRateLimit
from trio_binance._protocol import ResultResponse, encode_rate_limits
from trio_binance.models import OrderResult, RateLimit, RateLimitInterval, RateLimitType
from trio_binance.testing import LocalExchange, Reply, Request, open_local_exchange
from trio_binance.testing._limits import Limit, RateLimitConfig

EPOCH_S = 1_750_000_000.0  # 40 s into a minute: bursts cross window boundaries
MINUTE_MS = 60_000
RESULT = msgspec.Raw(b"{}")
ORDERS = RateLimitType.ORDERS
SECOND = RateLimitInterval.SECOND
TEN_S_MS = 10_000


def trio_wall_clock() -> float:
    return EPOCH_S + trio.current_time()


def config(weight: int = 100, orders_10s: int = 50, orders_day: int = 160_000) -> RateLimitConfig:
    return RateLimitConfig(
        request_weight=(Limit("REQUEST_WEIGHT", "MINUTE", 1, weight),),
        orders=(Limit("ORDERS", "SECOND", 10, orders_10s), Limit("ORDERS", "DAY", 1, orders_day)),
    )


def exchange_info_limits(limits: RateLimitConfig) -> list[RateLimit]:
    """The limits as exchangeInfo's rateLimits would give them."""
    return msgspec.convert(limits.exchange_info(), list[RateLimit])


def record(exchange: LocalExchange, method: str) -> list[int]:
    """Wrap ``method``'s handler to record when each request was handled (exchange ms)."""
    seen: list[int] = []
    inner = exchange.handler(method)
    assert inner is not None

    def recording(request: Request) -> Any:
        seen.append(request.now_ms)
        return inner(request)

    exchange.register(method, recording)
    return seen


async def place_buy(session: trio_binance.Session, price: str = "100") -> OrderResult:
    return await session.place_order(
        symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC", price=price, quantity="0.1"
    )


def per_window(times_ms: list[int], window_ms: int) -> Counter[int]:
    return Counter(t - t % window_ms for t in times_ms)


@pytest.fixture
async def exchange() -> AsyncIterator[LocalExchange]:
    local = LocalExchange(start_time_ms=int(EPOCH_S * 1000), limits=config())
    async with open_local_exchange(local) as served:
        yield served


async def run_all(*calls: Callable[[], Any]) -> None:
    async with trio.open_nursery() as nursery:
        for call in calls:
            nursery.start_soon(call)


# --- REQUEST_WEIGHT -----------------------------------------------------------------------


async def test_burst_beyond_request_weight_is_paced_and_never_refused(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    pings = record(exchange, "ping")
    governor = RateGovernor(exchange_info_limits(config()), clock=exchange.now_ms)
    await governor.acquire_connection()  # connecting costs 2 weight too
    async with trio_binance.connect(exchange.url, governor=governor) as session:
        started = trio.current_time()
        await run_all(*[session.ping for _ in range(250)])  # any 429 would raise here
        elapsed = trio.current_time() - started
    assert len(pings) == 250
    assert max(per_window(pings, MINUTE_MS).values()) <= 100
    assert len(per_window(pings, MINUTE_MS)) >= 3  # 252 weight needs three windows
    assert elapsed >= 2 * 60 - 40  # the first window had 20 s left
    assert governor.statistics().last_rate_limited is None


async def test_limit_is_learned_from_the_first_response(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    governor = RateGovernor(clock=exchange.now_ms)  # believes Binance's default of 6000
    async with trio_binance.connect(exchange.url, governor=governor) as session:
        await session.ping()
        limit = governor.statistics().limits[0]
        assert (limit.limit, limit.count) == (100, 3)  # connection 2 + ping 1, as reported
        await run_all(*[session.ping for _ in range(150)])
    assert exchange.requests_seen["ping"] == 151


async def test_sessions_sharing_a_governor_share_one_budget(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    pings = record(exchange, "ping")
    governor = RateGovernor(exchange_info_limits(config()), clock=exchange.now_ms)
    await governor.acquire_connection()
    await governor.acquire_connection()
    async with (
        trio_binance.connect(exchange.url, governor=governor) as first,
        trio_binance.connect(exchange.url, governor=governor) as second,
    ):
        await run_all(*[first.ping for _ in range(90)], *[second.ping for _ in range(90)])
    assert max(per_window(pings, MINUTE_MS).values()) <= 100


async def test_weight_used_by_other_clients_is_respected(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    async with trio_binance.connect(exchange.url) as ungoverned:
        for _ in range(60):
            await ungoverned.ping()
    governor = RateGovernor(exchange_info_limits(config()), clock=exchange.now_ms)
    async with trio_binance.connect(exchange.url, governor=governor) as session:
        for _ in range(60):
            await session.ping()
    assert governor.statistics().waited >= 1


# --- ORDERS ---------------------------------------------------------------------------------


@pytest.fixture
async def small_orders_exchange() -> AsyncIterator[LocalExchange]:
    local = LocalExchange(start_time_ms=int(EPOCH_S * 1000), limits=config(orders_10s=5))
    async with open_local_exchange(local) as served:
        yield served


async def test_orders_per_ten_seconds_are_respected(
    small_orders_exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    exchange = small_orders_exchange
    placed = record(exchange, "order.place")
    keys = exchange.create_demo_keys()["alice"]
    limits = exchange_info_limits(config(orders_10s=5))
    governor = RateGovernor(limits, clock=exchange.now_ms)
    async with trio_binance.connect(
        exchange.url, credentials=keys.ed25519, governor=governor, wall_clock=trio_wall_clock
    ) as session:

        async def place() -> None:
            await place_buy(session)

        await run_all(*[place for _ in range(12)])
    assert len(placed) == 12
    assert max(per_window(placed, TEN_S_MS).values()) <= 5


async def test_weight_of_successful_orders_is_refunded_and_failures_are_charged(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limits = config(weight=20)
    local = LocalExchange(start_time_ms=int(EPOCH_S * 1000) + 1000, limits=limits)
    keys = local.create_demo_keys()["alice"]
    governor = RateGovernor(exchange_info_limits(limits), clock=local.now_ms)
    async with open_local_exchange(local) as exchange:
        await governor.acquire_connection()
        # No rateLimits in responses: the governor must count on its own.
        url = exchange.url + "?returnRateLimits=false"
        async with trio_binance.connect(
            url, credentials=keys.ed25519, governor=governor, wall_clock=trio_wall_clock
        ) as session:
            for _ in range(30):  # weight 0 each: 30 orders fit a budget of 20
                await place_buy(session)
            assert governor.statistics().waited == 0
            for _ in range(15):  # rejected (price below the filter): weight 1 each
                with pytest.raises(BadRequest):
                    await place_buy(session, price="0.001")
            assert governor.statistics().waited >= 1


# --- 429 and 418 ------------------------------------------------------------------------------


def too_many_requests(retry_after: int | None, code: int = -1003) -> Reply:
    data = (
        None if retry_after is None else {"serverTime": retry_after - 1, "retryAfter": retry_after}
    )
    return Reply(429, code, "Too many requests; please use the websocket for live updates.", data)


async def test_429_retry_after_is_honoured(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    pings = record(exchange, "ping")
    governor = RateGovernor(clock=exchange.now_ms)
    async with trio_binance.connect(exchange.url, governor=governor) as session:
        retry_after = exchange.now_ms() + 30_000
        exchange.faults.arm(too_many_requests(retry_after), method="ping")
        with pytest.raises(RateLimited):
            await session.ping()
        assert governor.statistics().paused_until == retry_after
        await session.ping()
        await session.server_time()
    assert pings[-1] >= retry_after  # the retried ping waited for retryAfter
    assert exchange.requests_seen["ping"] == 2


async def test_429_without_retry_after_pauses_until_the_window_ends(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    pings = record(exchange, "ping")
    governor = RateGovernor(clock=exchange.now_ms)
    async with trio_binance.connect(exchange.url, governor=governor) as session:
        window_end = exchange.now_ms() - exchange.now_ms() % MINUTE_MS + MINUTE_MS
        exchange.faults.arm(too_many_requests(None), method="ping")
        with pytest.raises(RateLimited):
            await session.ping()
        await session.ping()
    assert pings[-1] >= window_end


async def test_too_many_orders_pauses_orders_only(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    keys = exchange.create_demo_keys()["alice"]
    placed = record(exchange, "order.place")
    pings = record(exchange, "ping")
    governor = RateGovernor(clock=exchange.now_ms)
    async with trio_binance.connect(
        exchange.url, credentials=keys.ed25519, governor=governor, wall_clock=trio_wall_clock
    ) as session:
        retry_after = exchange.now_ms() + 8_000
        exchange.faults.arm(too_many_requests(retry_after, code=-1015), method="order.place")
        with pytest.raises(RateLimited):
            await place_buy(session)
        await session.ping()  # reads are not held up
        assert pings[-1] < retry_after
        await place_buy(session)
    assert placed[-1] >= retry_after


async def test_fail_fast_refuses_without_sending(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    pings = record(exchange, "ping")
    limits = exchange_info_limits(config(weight=100))
    governor = RateGovernor(limits, policy="fail_fast", clock=exchange.now_ms, clock_margin_ms=0)
    async with trio_binance.connect(exchange.url, governor=governor) as session:
        await session.ping()  # learns the 3 weight counted so far
        for _ in range(97):
            await session.ping()
        with pytest.raises(WouldExceedRateLimit) as refused:
            await session.ping()
        assert exchange.requests_seen["ping"] == 98
        assert refused.value.safe_to_retry
        window_end = exchange.now_ms() - exchange.now_ms() % MINUTE_MS + MINUTE_MS
        assert refused.value.retry_after == window_end
        assert governor.statistics().refused == 1
        await trio.sleep((window_end - exchange.now_ms()) / 1000)
        await session.ping()
    assert pings[-1] >= window_end


async def test_a_request_heavier_than_the_limit_is_refused_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    governor = RateGovernor(exchange_info_limits(config(weight=100)))
    with pytest.raises(WouldExceedRateLimit) as refused:
        await governor.acquire_weight(101)
    assert refused.value.retry_after is None
    assert trio.current_time() == 0


def banned(until: int) -> Reply:
    msg = f"Way too much request weight used; IP banned until {until}."
    return Reply(418, -1003, msg, {"serverTime": until - 120_000, "retryAfter": until})


async def test_418_refuses_every_request_until_the_ban_ends(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    governor = RateGovernor(clock=exchange.now_ms)
    async with trio_binance.connect(exchange.url, governor=governor) as session:
        ban_end = exchange.now_ms() + 120_000
        exchange.faults.arm(banned(ban_end), method="ping")
        with pytest.raises(IpBanned):
            await session.ping()
        seen = exchange.requests_seen.copy()
        before = trio.current_time()
        with pytest.raises(IpBanActive) as refused:
            await session.server_time()
        assert refused.value.banned_until == ban_end
        assert trio.current_time() == before  # refused at once, not waited out
        assert exchange.requests_seen == seen
        assert governor.statistics().banned_until == ban_end
        await governor.wait_until_unbanned()
        assert exchange.now_ms() >= ban_end
        await session.server_time()


async def test_waiting_out_a_ban_is_an_explicit_choice(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    times = record(exchange, "time")
    governor = RateGovernor(on_ban="wait", clock=exchange.now_ms)
    async with trio_binance.connect(exchange.url, governor=governor) as session:
        ban_end = exchange.now_ms() + 120_000
        exchange.faults.arm(banned(ban_end), method="ping")
        with pytest.raises(IpBanned):
            await session.ping()
        await session.server_time()
    assert times[-1] >= ban_end


# --- the governor on its own ----------------------------------------------------------------


async def test_waiting_callers_show_in_statistics(autojump_clock: trio.testing.MockClock) -> None:
    governor = RateGovernor(exchange_info_limits(config(weight=10)))
    await governor.acquire_weight(10)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(governor.acquire_weight, 5)
        nursery.start_soon(governor.acquire_weight, 5)
        await trio.sleep(0.5)
        assert governor.statistics().waiting == 2
    assert governor.statistics().waiting == 0
    assert governor.statistics().waited == 2


async def test_a_heavy_request_is_not_starved_by_light_ones(
    autojump_clock: trio.testing.MockClock,
) -> None:
    governor = RateGovernor(exchange_info_limits(config(weight=100)))
    heavy_done: list[float] = []

    async def light_stream() -> None:
        while not heavy_done:
            await governor.acquire_weight(10)
            await trio.sleep(0.1)

    async def heavy() -> None:
        await trio.sleep(1)
        await governor.acquire_weight(100)
        heavy_done.append(trio.current_time())

    async with trio.open_nursery() as nursery:
        for _ in range(5):
            nursery.start_soon(light_stream)
        nursery.start_soon(heavy)
    assert heavy_done[0] <= 3 * 60  # at the latest two windows after it arrived


async def test_slot_paces_requests_made_elsewhere(autojump_clock: trio.testing.MockClock) -> None:
    # The clock is 50 s into a minute: the window in use ends after 10 s.
    clock = lambda: 1_750_000_010_000 + trio.current_time() * 1000  # noqa: E731
    governor = RateGovernor(exchange_info_limits(config(weight=40)), clock=clock)
    entered: list[float] = []
    for _ in range(3):
        async with governor.slot(weight=20):
            entered.append(trio.current_time())
    # Two fit this window; the third waits for the next one (and the 1 s clock margin).
    assert entered == [0, 0, pytest.approx(11)]


async def test_reported_order_counts_may_go_down(autojump_clock: trio.testing.MockClock) -> None:
    # "Unfilled Order Count": filled orders stop counting, so the exchange's ORDERS count is
    # taken as it is, even below the governor's own.
    now = [1_750_000_005_000.0]  # mid-window
    governor = RateGovernor(exchange_info_limits(config(orders_10s=5)), clock=lambda: now[0])

    async def place(rate_limits: list[RateLimit] | None) -> None:
        params: dict[str, Any] = {"symbol": "BTCUSDT"}
        await governor.acquire("order.place", params)
        now[0] += 1
        response = ResultResponse(1, 200, RESULT, encode_rate_limits(rate_limits))
        governor.observe("order.place", params, response)

    for _ in range(4):
        await place(None)  # counted by the governor alone: 4 of 5
    filled = RateLimit(rate_limit_type=ORDERS, interval=SECOND, interval_num=10, limit=5, count=1)
    await place([filled])  # the exchange says: 1 (the others were filled)
    with trio.move_on_after(1) as waited:
        await governor.acquire_weight(1, orders=4)
    assert not waited.cancelled_caught


async def test_a_newcomer_cannot_take_what_the_first_waiter_needs(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # 45 s into the minute: the 10 s ORDERS window ends in 5 s, the weight window in 15 s.
    clock = lambda: 1_750_000_005_000 + trio.current_time() * 1000  # noqa: E731
    governor = RateGovernor(exchange_info_limits(config(weight=100, orders_10s=5)), clock=clock)
    await governor.acquire_weight(81, orders=5)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(governor.acquire_weight, 10, 1)  # waits 6 s for an order slot
        await trio.sleep(0.1)
        with pytest.raises(WouldExceedRateLimit):  # fits alone, but the waiter would then
            await governor.acquire_weight(10, wait=False)  # lack weight until the minute ends
        await governor.acquire_weight(9, wait=False)  # leaves the waiter its 10
    assert trio.current_time() == pytest.approx(6)


# --- the property: paced requests never exceed any exchange window ----------------------------

LIMIT = 50
WINDOW_MS = 10_000


@settings(max_examples=60, deadline=None)
# A request near a window boundary that reaches the exchange in the next window.
@example(arrivals=[(6.9, 50), (8.6, 50)], offset_ms=-400, latency_ms=500)
@given(
    arrivals=st.lists(
        st.tuples(st.floats(0, 40, allow_nan=False), st.integers(1, LIMIT)), max_size=40
    ),
    offset_ms=st.integers(-400, 400),
    latency_ms=st.integers(0, 500),
)
def test_paced_requests_never_exceed_an_exchange_window(
    arrivals: list[tuple[float, int]], offset_ms: int, latency_ms: int
) -> None:
    """Whatever the arrival times and weights, and a governor clock off by ``offset_ms`` with
    requests arriving ``latency_ms`` later (both within the margin), every window the exchange
    counts stays within the limit, and every request is let through."""
    epoch_ms = 1_750_000_003_000
    charged: Counter[int] = Counter()

    async def scenario() -> None:
        limit = RateLimit(rate_limit_type=ORDERS, interval=SECOND, interval_num=10, limit=LIMIT)
        governor = RateGovernor(
            [limit], clock=lambda: epoch_ms + trio.current_time() * 1000 + offset_ms
        )

        async def one(at: float, weight: int) -> None:
            await trio.sleep(at)
            await governor.acquire_weight(1, orders=weight)
            await trio.sleep(latency_ms / 1000)
            exchange_ms = math.floor(epoch_ms + trio.current_time() * 1000)
            charged[exchange_ms - exchange_ms % WINDOW_MS] += weight

        async with trio.open_nursery() as nursery:
            for at, weight in arrivals:
                nursery.start_soon(one, at, weight)

    trio.run(scenario, clock=trio.testing.MockClock(autojump_threshold=0))
    assert sum(charged.values()) == sum(weight for _, weight in arrivals)
    assert max(charged.values(), default=0) <= LIMIT


@pytest.mark.parametrize(
    "options",
    [{"policy": "sometimes"}, {"on_ban": "ignore"}, {"clock_margin_ms": -1}],
)
def test_bad_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(InvalidParameter):
        RateGovernor(**options)
