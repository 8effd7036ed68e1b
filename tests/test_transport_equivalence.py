"""Every fault scenario ends the same way on both transports.

Each async test of the suite already runs once per transport; this one runs a catalogue of
fault scenarios on each transport in turn and compares what a caller observes (results,
exception types and messages, session statistics, close reasons) side by side, so a
difference between the transports shows up as a diff here even where no other test pins
the exact outcome.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, get_args

import pytest
import trio
import trio.testing

import trio_binance
from trio_binance import Session, TransportName, TrioWebsocketTransport, WebsocketsTransport
from trio_binance.testing import LocalExchange, Reply, Request, open_local_exchange
from trio_binance.testing._limits import Limit, RateLimitConfig

TRANSPORTS: tuple[TransportName, ...] = get_args(TransportName)

Scenario = Callable[[LocalExchange, Session], Awaitable[list[Any]]]


def echo(request: Request) -> dict[str, Any]:
    return request.params


def outcome(exc: BaseException) -> tuple[str, str]:
    """What a caller sees of an exception: its type and its message, URL ports masked."""
    return type(exc).__name__, re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", str(exc))


async def attempt(call: Awaitable[Any]) -> Any:
    try:
        return await call
    except (trio_binance.BinanceError, trio.TooSlowError) as exc:
        return outcome(exc)


def state(session: Session) -> tuple[Any, ...]:
    stats = session.statistics()
    reason = session.close_reason
    return (
        stats.in_flight,
        stats.protocol_errors,
        stats.late_replies,
        stats.closed,
        None if reason is None else outcome(reason),
    )


async def drop_with_close_frame(exchange: LocalExchange, session: Session) -> list[Any]:
    exchange.faults.drop("echo", close_frame=True)
    lost = await attempt(session.request("echo", {"n": 1}))
    await session.wait_closed()
    return [lost, await attempt(session.request("echo", {"n": 2})), state(session)]


async def drop_without_close_frame(exchange: LocalExchange, session: Session) -> list[Any]:
    exchange.faults.drop("echo", close_frame=False, after_execute=True)
    lost = await attempt(session.request("echo", {"newClientOrderId": "x1"}))
    return [lost, await attempt(session.request("ping")), state(session)]


async def silent(exchange: LocalExchange, session: Session) -> list[Any]:
    exchange.faults.silent("echo")
    with trio.move_on_after(5) as waited:
        await session.request("echo", {"n": 1})
    return [waited.cancelled_caught, await session.request("echo", {"n": 2}), state(session)]


async def delay(exchange: LocalExchange, session: Session) -> list[Any]:
    exchange.faults.delay(10, "echo")
    order: list[int] = []

    async def call(n: int) -> None:
        await session.request("echo", {"n": n})
        order.append(n)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(call, 1)
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(call, 2)
    return [order, state(session)]


async def garbage(exchange: LocalExchange, session: Session) -> list[Any]:
    for frame in ("not json", b"\x00\xff binary", '{"id": 999999, "status": 200}', "[]"):
        exchange.faults.garbage(frame, "echo")
    results = [await session.request("echo", {"n": n}) for n in range(5)]
    return [results, state(session)]


async def malformed(exchange: LocalExchange, session: Session) -> list[Any]:
    from trio_binance.testing import Malformed

    exchange.faults.arm(Malformed(), method="echo")
    return [await attempt(session.request("echo", {"n": 1})), state(session)]


async def server_error(exchange: LocalExchange, session: Session) -> list[Any]:
    exchange.faults.server_error("echo", status=503, code=-1007)
    return [await attempt(session.request("echo", {"newClientOrderId": "c"})), state(session)]


async def revoked_key(exchange: LocalExchange, session: Session) -> list[Any]:
    await exchange.broadcast(
        '{"id": null, "status": 401, "error": {"code": -2015, "msg": "Invalid API-key."}}'
    )
    signed = await attempt(session.request("account.status", signed=True))
    return [await session.request("ping"), signed, state(session)]


async def rate_limited(exchange: LocalExchange, session: Session) -> list[Any]:
    exchange.faults.arm(Reply(429, -1003, "Too much request weight used", {"retryAfter": 6}))
    exchange.faults.arm(Reply(418, -1003, "Way too much request weight used", {"retryAfter": 9}))
    first = await attempt(session.request("time"))
    return [first, await attempt(session.request("time")), state(session)]


async def server_shutdown(exchange: LocalExchange, session: Session) -> list[Any]:
    events: list[str] = []
    session.on_connection_event(lambda event: events.append(event.event_type))
    await exchange.send_server_shutdown(close_after=1.0)
    await session.wait_closed()
    return [events, await attempt(session.request("ping")), state(session)]


SCENARIOS: dict[str, Scenario] = {
    "drop with close frame": drop_with_close_frame,
    "drop without close frame": drop_without_close_frame,
    "silent": silent,
    "delay": delay,
    "garbage and binary frames": garbage,
    "malformed reply": malformed,
    "5xx": server_error,
    "401 with a null id": revoked_key,
    "429 and 418 replies": rate_limited,
    "serverShutdown then close": server_shutdown,
}


async def run_scenario(name: TransportName, scenario: Scenario) -> list[Any]:
    unlimited = RateLimitConfig(request_weight=(Limit("REQUEST_WEIGHT", "MINUTE", 1, 10**9),))
    exchange = LocalExchange(start_time_ms=1_700_000_000_000, limits=unlimited)
    exchange.register("echo", echo)
    async with (
        open_local_exchange(exchange) as served,
        trio_binance.connect(served.url, transport=name) as session,
    ):
        return await scenario(served, session)


async def rejected_handshakes(name: TransportName) -> list[Any]:
    one_per_5_minutes = RateLimitConfig(connections=(Limit("CONNECTIONS", "MINUTE", 5, 1),))
    exchange = LocalExchange(start_time_ms=1_700_000_000_000, limits=one_per_5_minutes)
    seen: list[Any] = []
    async with open_local_exchange(exchange) as served:
        for _ in range(one_per_5_minutes.ban.tolerated_refusals + 2):
            try:
                async with trio_binance.connect(served.url, transport=name):
                    seen.append("connected")
            except trio_binance.ConnectFailed as failure:
                seen.append((*outcome(failure), failure.status, failure.retry_after))
    return seen


async def oversized_reply(name: TransportName) -> list[Any]:
    exchange = LocalExchange()
    exchange.register("echo", echo)
    transport = WebsocketsTransport if name == "websockets" else TrioWebsocketTransport
    small = transport(max_message_size=1_000)
    async with (
        open_local_exchange(exchange) as served,
        trio_binance.connect(served.url, transport=small) as session,
    ):
        lost = await attempt(session.request("echo", {"text": "x" * 2_000}))
        await session.wait_closed()
        reason = session.close_reason
        assert isinstance(reason, trio_binance.TransportClosed)
        # The reason text of a close we start is the library's own; the code is the contract.
        return [lost[0], reason.code, state(session)[:4]]


@pytest.mark.transport_specific
async def test_every_fault_scenario_ends_the_same_on_both_transports(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: dict[str, dict[str, Any]] = {}
    for name in TRANSPORTS:
        seen[name] = {title: await run_scenario(name, run) for title, run in SCENARIOS.items()}
        seen[name]["429 and 418 handshakes"] = await rejected_handshakes(name)
        seen[name]["message over the size limit"] = await oversized_reply(name)
    default, fast = (seen[name] for name in TRANSPORTS)
    assert fast == default
    # The scenarios did what they say (so equal outcomes are not equal non-events).
    assert default["drop without close frame"][0][0] == "ResponseLost"
    assert default["delay"][0] == [2, 1]
    assert default["garbage and binary frames"][1][1] == 4
    assert default["5xx"][0][0] == "ExecutionStatusUnknown"
    assert [o[0] for o in default["429 and 418 replies"][:2]] == ["RateLimited", "IpBanned"]
    assert default["serverShutdown then close"][0] == ["serverShutdown"]
    statuses = [o[2] for o in default["429 and 418 handshakes"] if o != "connected"]
    assert statuses[0] == 429 and statuses[-1] == 418
    assert default["message over the size limit"][:2] == ["ResponseLost", 1009]
