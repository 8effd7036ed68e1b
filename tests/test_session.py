"""The session over real loopback WebSockets to the local exchange, time under autojump_clock."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import msgspec
import pytest
import trio
import trio.testing

import trio_binance
from trio_binance import (
    BadRequest,
    ConnectFailed,
    ExecutionStatusUnknown,
    InvalidParameter,
    IpBanned,
    NotSent,
    ProtocolError,
    RateLimited,
    ResponseLost,
    SessionClosed,
    Unauthorized,
)
from trio_binance._protocol import ConnectionEvent
from trio_binance.testing import Delay, LocalExchange, Request, Silent, open_local_exchange
from trio_binance.testing._limits import Limit, RateLimitConfig


def echo(request: Request) -> dict[str, Any]:
    return request.params


@pytest.fixture
async def exchange() -> AsyncIterator[LocalExchange]:
    # These tests are about the session; rate limits have their own tests.
    unlimited = RateLimitConfig(request_weight=(Limit("REQUEST_WEIGHT", "MINUTE", 1, 10**9),))
    local = LocalExchange(start_time_ms=1_700_000_000_000, limits=unlimited)
    local.register("echo", echo)
    async with open_local_exchange(local) as served:
        yield served


@pytest.fixture
async def session(exchange: LocalExchange) -> AsyncIterator[trio_binance.Session]:
    async with trio_binance.connect(exchange.url) as opened:
        yield opened


class ServerTime(msgspec.Struct):
    serverTime: int


async def test_typed_result_and_plain_result(session: trio_binance.Session) -> None:
    typed = await session.request("time", result_type=ServerTime)
    assert typed.serverTime >= 1_700_000_000_000
    assert await session.request("ping") == {}
    assert await session.request("echo", {"x": Decimal("2E-5"), "skip": None}) == {"x": "0.00002"}


async def test_thousand_concurrent_callers_get_their_own_replies_out_of_order(
    exchange: LocalExchange, session: trio_binance.Session, autojump_clock: trio.testing.MockClock
) -> None:
    rng = random.Random(7)
    for _ in range(1000):
        exchange.faults.arm(Delay(rng.uniform(0, 2)), method="echo")
    replies: dict[int, Any] = {}

    async def call(n: int) -> None:
        replies[n] = await session.request("echo", {"n": n})

    async with trio.open_nursery() as nursery:
        for n in range(1000):
            nursery.start_soon(call, n)
    assert replies == {n: {"n": n} for n in range(1000)}
    assert session.statistics().in_flight == 0


async def test_drop_fails_every_pending_request_at_once(
    exchange: LocalExchange, session: trio_binance.Session, autojump_clock: trio.testing.MockClock
) -> None:
    exchange.faults.arm(Silent(), method="echo", times=10)
    outcomes: list[tuple[ResponseLost, float]] = []

    async def call() -> None:
        try:
            await session.request("echo", {"newClientOrderId": "abc", "signature": "s3cr3t"})
        except ResponseLost as exc:
            outcomes.append((exc, trio.current_time()))

    async with trio.open_nursery() as nursery:
        for _ in range(10):
            nursery.start_soon(call)
        await trio.testing.wait_all_tasks_blocked()
        assert session.statistics().in_flight == 10
        exchange.faults.drop("ping")
        dropped_at = trio.current_time()
        with pytest.raises(ResponseLost):
            await session.request("ping")
    assert len(outcomes) == 10
    for exc, failed_at in outcomes:
        assert failed_at - dropped_at <= 0.050
        assert exc.client_order_ids == ("abc",)
        assert "signature" not in exc.params
        assert "s3cr3t" not in str(exc)
    with pytest.raises(SessionClosed, match="connection lost"):
        await session.request("ping")
    assert session.statistics().in_flight == 0


async def test_close_frame_reason_reaches_later_callers(
    exchange: LocalExchange, session: trio_binance.Session
) -> None:
    exchange.faults.drop("ping", close_frame=True)
    with pytest.raises(ResponseLost):
        await session.request("ping")
    await session.wait_closed()
    with pytest.raises(SessionClosed, match="code 1001") as caught:
        await session.request("time")
    assert caught.value.safe_to_retry


async def test_silent_server_and_caller_deadline_leave_no_waiter(
    exchange: LocalExchange, session: trio_binance.Session, autojump_clock: trio.testing.MockClock
) -> None:
    exchange.faults.silent("echo")
    with pytest.raises(trio.TooSlowError):
        with trio.fail_after(5):
            await session.request("echo", {"n": 1})
    assert session.statistics().in_flight == 0
    assert await session.request("echo", {"n": 2}) == {"n": 2}


async def test_late_reply_after_cancellation_is_dropped(
    exchange: LocalExchange, session: trio_binance.Session, autojump_clock: trio.testing.MockClock
) -> None:
    exchange.faults.delay(10, "echo")
    with trio.move_on_after(1):
        await session.request("echo", {"n": 1})
    await trio.sleep(20)
    stats = session.statistics()
    assert (stats.in_flight, stats.late_replies) == (0, 1)
    assert await session.request("echo", {"n": 2}) == {"n": 2}


@pytest.mark.parametrize(
    ("status", "code"), [(503, -1007), (500, -1000), (400, -1006), (408, -1007)]
)
async def test_unknown_execution_status(
    exchange: LocalExchange, session: trio_binance.Session, status: int, code: int
) -> None:
    exchange.faults.server_error("echo", status=status, code=code)
    with pytest.raises(ExecutionStatusUnknown) as caught:
        await session.request("echo", {"newClientOrderId": "cid-1", "apiKey": "k"})
    error = caught.value
    assert (error.status, error.code, error.method) == (status, code, "echo")
    assert error.client_order_ids == ("cid-1",)
    assert error.params == {"newClientOrderId": "cid-1"}
    assert not error.safe_to_retry


async def test_rate_limited_and_banned_carry_retry_after(
    exchange: LocalExchange, session: trio_binance.Session
) -> None:
    from trio_binance.testing import Reply

    exchange.faults.arm(
        Reply(429, -1003, "Too much request weight used", {"serverTime": 1, "retryAfter": 60_000})
    )
    with pytest.raises(RateLimited) as limited:
        await session.request("time")
    assert limited.value.retry_after == 60_000
    assert not isinstance(limited.value, IpBanned)
    exchange.faults.arm(Reply(418, -1003, "Way too much request weight used", {"retryAfter": 99}))
    with pytest.raises(IpBanned) as banned:
        await session.request("time")
    assert banned.value.retry_after == 99
    exchange.faults.arm(Reply(429, -1015, "Too many new orders."))
    with pytest.raises(RateLimited) as no_data:
        await session.request("time")
    assert no_data.value.retry_after is None


async def test_session_wide_401_reaches_signed_requests_without_crashing_the_reader(
    exchange: LocalExchange, session: trio_binance.Session
) -> None:
    await exchange.broadcast(
        '{"id": null, "status": 401, "error": {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}}'
    )
    assert await session.request("ping") == {}
    with pytest.raises(Unauthorized, match="-2015"):
        await session.request("account.status", signed=True)


async def test_signed_request_without_credentials_is_not_sent(
    session: trio_binance.Session,
) -> None:
    with pytest.raises(NotSent, match="no credentials"):
        await session.request("account.status", signed=True)
    assert session.statistics().requests_sent == 0


async def test_garbage_frames_do_not_disturb_real_requests(
    exchange: LocalExchange, session: trio_binance.Session
) -> None:
    garbage: list[str | bytes] = [
        b"\x00\xff binary",
        "not json at all",
        "[1,2,3]",
        '{"id": 999999, "status": 200, "result": {}}',
        '{"id": "unknown", "status": 400, "error": {"code": -1, "msg": "x"}}',
        '{"status": "200"}',
        '{"event": {"no": "type"}}',
        '{"subscriptionId": 42, "event": {"e": "executionReport"}}',
        "{" * 5000,
    ]
    for frame in garbage:
        exchange.faults.garbage(frame, "echo")
    results = [await session.request("echo", {"n": n}) for n in range(len(garbage) + 3)]
    assert results == [{"n": n} for n in range(len(garbage) + 3)]
    stats = session.statistics()
    assert stats.protocol_errors == 6
    assert stats.late_replies == 2


async def test_malformed_reply_fails_only_its_own_request(
    exchange: LocalExchange, session: trio_binance.Session
) -> None:
    from trio_binance.testing import Malformed

    exchange.faults.arm(Malformed(), method="echo")
    with pytest.raises(ProtocolError, match="malformed response"):
        await session.request("echo", {"n": 1})
    assert await session.request("echo", {"n": 2}) == {"n": 2}


async def test_result_that_does_not_fit_its_type_is_a_protocol_error(
    session: trio_binance.Session,
) -> None:
    with pytest.raises(ProtocolError, match="does not decode"):
        await session.request("ping", result_type=ServerTime)


async def test_cancellation_storm_leaves_nothing_behind(
    exchange: LocalExchange, session: trio_binance.Session, autojump_clock: trio.testing.MockClock
) -> None:
    rng = random.Random(11)
    for _ in range(500):
        exchange.faults.arm(Delay(rng.uniform(0, 1)), method="echo")
    answered = 0

    async def call(n: int) -> None:
        nonlocal answered
        with trio.move_on_after(rng.uniform(0, 1)):
            assert await session.request("echo", {"n": n}) == {"n": n}
            answered += 1

    async with trio.open_nursery() as nursery:
        for n in range(500):
            nursery.start_soon(call, n)
    await trio.sleep(2)
    stats = session.statistics()
    assert (stats.in_flight, stats.queued) == (0, 0)
    assert 0 < answered < 500
    assert stats.late_replies == stats.requests_sent - answered


async def test_callers_beyond_max_in_flight_wait_for_a_slot(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    exchange.faults.delay(5, "echo", times=3)
    async with trio_binance.connect(exchange.url, max_in_flight=2) as session:
        async with trio.open_nursery() as nursery:
            for n in range(3):
                nursery.start_soon(session.request, "echo", {"n": n})
            await trio.testing.wait_all_tasks_blocked()
            assert session.statistics().in_flight == 2
        assert trio.current_time() >= 10


async def test_bad_input_is_refused_before_anything_is_sent(session: trio_binance.Session) -> None:
    with pytest.raises(InvalidParameter, match="'price' is a float"):
        await session.request("echo", {"price": 0.1})
    assert session.statistics().requests_sent == 0


async def test_api_errors_from_the_exchange(session: trio_binance.Session) -> None:
    with pytest.raises(BadRequest, match="-1020") as caught:
        await session.request("no.such.method")
    assert caught.value.status == 400


async def test_user_data_frames_reach_their_subscription(
    exchange: LocalExchange, session: trio_binance.Session
) -> None:
    got: list[Any] = []
    session.add_subscription(3, lambda raw: got.append(msgspec.json.decode(raw)))
    await exchange.broadcast('{"subscriptionId": 3, "event": {"e": "balanceUpdate"}}')
    await exchange.broadcast('{"subscriptionId": 4, "event": {"e": "balanceUpdate"}}')
    await session.request("ping")
    assert got == [{"e": "balanceUpdate"}]
    session.remove_subscription(3)
    assert session.statistics().subscriptions == 0


async def test_server_shutdown_event_reaches_handlers(
    exchange: LocalExchange, session: trio_binance.Session
) -> None:
    seen: list[ConnectionEvent] = []
    session.on_connection_event(seen.append)
    await exchange.send_server_shutdown()
    await session.request("ping")
    assert [event.event_type for event in seen] == ["serverShutdown"]


async def test_close_is_idempotent_and_later_calls_fail_fast(exchange: LocalExchange) -> None:
    async with trio_binance.connect(exchange.url) as session:
        await session.aclose()
        await session.aclose()
        assert session.closed
        with pytest.raises(SessionClosed, match="session closed"):
            await session.request("ping")
    assert session.close_reason is None


async def test_callers_waiting_when_the_session_closes_learn_their_fate(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    exchange.faults.silent("echo", times=None)
    errors: list[BaseException] = []

    async def call() -> None:
        try:
            await opened.request("echo")
        except (ResponseLost, SessionClosed) as exc:
            errors.append(exc)

    async with (
        trio_binance.connect(exchange.url, send_queue_size=1, max_in_flight=100) as opened,
        trio.open_nursery() as nursery,
    ):
        for _ in range(20):
            nursery.start_soon(call)
        await trio.testing.wait_all_tasks_blocked()
        await opened.aclose()
    assert len(errors) == 20
    assert any(isinstance(e, ResponseLost) for e in errors)
    assert opened.statistics().in_flight == 0


async def test_failed_handshake_raises_before_the_body(
    autojump_clock: trio.testing.MockClock,
) -> None:
    listener = (await trio.open_tcp_listeners(0, host="127.0.0.1"))[0]
    port = listener.socket.getsockname()[1]
    await listener.aclose()
    with pytest.raises(ConnectFailed, match="cannot connect"):
        async with trio_binance.connect(f"ws://127.0.0.1:{port}/ws-api/v3"):
            pytest.fail("the body must not run")


async def test_body_exception_is_not_wrapped_in_a_group(exchange: LocalExchange) -> None:
    with pytest.raises(KeyError):
        async with trio_binance.connect(exchange.url):
            raise KeyError("mine")


async def test_outer_cancellation_passes_through_without_waiting_for_a_close_handshake(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    with trio.move_on_after(0.5) as scope:
        async with trio_binance.connect(exchange.url) as session:
            exchange.faults.silent("ping")
            await session.request("ping")
    assert scope.cancelled_caught
    assert trio.current_time() < 1


async def test_statistics_show_the_latest_rate_limits_and_skip_malformed_ones(
    exchange: LocalExchange, session: trio_binance.Session, caplog: pytest.LogCaptureFixture
) -> None:
    from trio_binance.testing import Malformed

    assert session.statistics().rate_limits == ()
    await session.request("echo", {"n": 1})
    (first,) = session.statistics().rate_limits
    assert (first.rate_limit_type, first.interval, first.limit) == (
        "REQUEST_WEIGHT",
        "MINUTE",
        10**9,
    )
    await session.request("echo", {"n": 2})
    (second,) = session.statistics().rate_limits
    assert second.count is not None and first.count is not None and second.count > first.count
    # Malformed rateLimits no longer hide the result: it is delivered, the array is skipped.
    bogus = '"status": 200, "result": {"n": 3}, "rateLimits": [{"bogus": true}]'
    exchange.faults.arm(Malformed(bogus), method="echo")
    assert await session.request("echo", {"n": 3}) == {"n": 3}
    with caplog.at_level("WARNING", logger="trio_binance.protocol"):
        assert session.statistics().rate_limits == (second,)
    assert "malformed rateLimits ignored" in caplog.text
    assert session.statistics().protocol_errors == 0
