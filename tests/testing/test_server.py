"""The local exchange's server: request handling, rate-limit reporting, lifecycle, plugin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
import trio
import trio.testing
import trio_websocket

import trio_binance
from trio_binance import (
    BadRequest,
    ConnectFailed,
    IpBanned,
    RateLimited,
    ResponseLost,
    SessionClosed,
)
from trio_binance.testing import LocalExchange, open_local_exchange
from trio_binance.testing._limits import Limit, RateLimitConfig


@pytest.fixture
async def exchange() -> AsyncIterator[LocalExchange]:
    async with open_local_exchange(LocalExchange(start_time_ms=1_750_000_000_000)) as served:
        yield served


async def raw_exchange(url: str, frame: str) -> dict[str, Any]:
    """Send one frame with bare trio-websocket and return the decoded reply."""
    async with trio_websocket.open_websocket_url(url) as ws:
        await ws.send_message(frame)
        reply: dict[str, Any] = msgspec.json.decode(await ws.get_message())
        return reply


async def test_invalid_json_is_answered_with_a_null_id(exchange: LocalExchange) -> None:
    reply = await raw_exchange(exchange.url, "{not json")
    assert reply == {
        "id": None,
        "status": 400,
        "error": {"code": -1135, "msg": "Invalid JSON Request"},
    }


async def test_unknown_and_retired_methods_are_answered_alike(exchange: LocalExchange) -> None:
    unknown = await raw_exchange(exchange.url, '{"id": 1, "method": "no.such"}')
    # The listenKey methods were retired on 2026-02-20 (CHANGELOG 2026-01-21).
    retired = await raw_exchange(exchange.url, '{"id": 1, "method": "userDataStream.start"}')
    assert (
        unknown["error"]
        == retired["error"]
        == {"code": -1020, "msg": "This operation is not supported."}
    )


async def test_version_prefix_is_accepted(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    reply = await raw_exchange(exchange.url, '{"id": "a1", "method": "v3/time"}')
    assert reply["result"] == {"serverTime": 1_750_000_000_000}


async def test_rate_limits_are_shown_unless_hidden(exchange: LocalExchange) -> None:
    shown = await raw_exchange(exchange.url, '{"id": 1, "method": "time"}')
    assert shown["rateLimits"] == [
        {
            "rateLimitType": "REQUEST_WEIGHT",
            "interval": "MINUTE",
            "intervalNum": 1,
            "limit": 6000,
            "count": 3,
        }
    ]
    hidden = await raw_exchange(
        exchange.url, '{"id": 2, "method": "time", "params": {"returnRateLimits": false}}'
    )
    assert "rateLimits" not in hidden
    quiet_url = exchange.url + "?returnRateLimits=false"
    assert "rateLimits" not in await raw_exchange(quiet_url, '{"id": 3, "method": "time"}')
    asked = await raw_exchange(
        quiet_url, '{"id": 4, "method": "time", "params": {"returnRateLimits": true}}'
    )
    assert asked["rateLimits"][0]["count"] == 3 * 4  # one connection (2) + one request (1) each


async def test_weight_limit_gives_429_then_a_ban_and_a_disconnect(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limits = RateLimitConfig(request_weight=(Limit("REQUEST_WEIGHT", "MINUTE", 1, 10),))
    async with (
        open_local_exchange(LocalExchange(limits=limits)) as exchange,
        trio_binance.connect(exchange.url) as session,
    ):
        for _ in range(8):
            await session.request("ping")
        with pytest.raises(RateLimited) as limited:
            await session.request("ping")
        assert limited.value.retry_after is not None
        banned = None
        for _ in range(20):
            try:
                await session.request("ping")
            except IpBanned as error:
                banned = error
                break
            except RateLimited:
                continue
        assert banned is not None
        assert banned.retry_after is not None
        await session.wait_closed()
        with pytest.raises(SessionClosed, match="IP banned"):
            await session.request("ping")


async def test_server_pings_keep_a_live_client_connected(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    async with trio_binance.connect(exchange.url) as session:
        await trio.sleep(3600)
        assert await session.request("ping") == {}


async def test_client_that_stops_answering_pings_is_dropped(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    # A client whose one-message queue is full stops reading, so it answers no pings.
    async with trio_websocket.open_websocket_url(exchange.url, message_queue_size=1) as ws:
        for _ in range(3):
            await ws.send_message('{"id": 1, "method": "ping"}')
        await trio.sleep(exchange.lifecycle.ping_interval + exchange.lifecycle.pong_timeout + 1)
        assert not exchange.connections


async def test_connections_are_cut_at_24_hours(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    async with trio_binance.connect(exchange.url) as session:
        start = trio.current_time()
        await session.wait_closed()
        assert trio.current_time() - start == pytest.approx(24 * 3600, abs=1)
    assert isinstance(session.close_reason, Exception)
    assert "1000" in str(session.close_reason)


async def test_server_shutdown_is_announced_then_connections_close(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    async with trio_binance.connect(exchange.url) as session:
        events: list[str] = []
        session.on_connection_event(lambda event: events.append(event.event_type))
        await exchange.send_server_shutdown(close_after=30)
        await session.wait_closed()
    assert events == ["serverShutdown"]


async def test_drop_after_execute_loses_the_reply_but_not_the_order(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    keys = exchange.create_demo_keys(["alice"])["alice"]
    exchange.faults.drop("order.place", after_execute=True)
    async with trio_binance.connect(exchange.url, credentials=keys.hmac) as session:
        with pytest.raises(ResponseLost) as lost:
            await session.request(
                "order.place",
                {
                    "symbol": "BTCUSDT",
                    "side": "BUY",
                    "type": "LIMIT",
                    "timeInForce": "GTC",
                    "price": "20000",
                    "quantity": "0.01",
                    "newClientOrderId": "keepme1",
                },
                signed=True,
            )
    assert lost.value.client_order_ids == ("keepme1",)
    async with trio_binance.connect(exchange.url, credentials=keys.hmac) as session:
        order = await session.request(
            "order.status", {"symbol": "BTCUSDT", "origClientOrderId": "keepme1"}, signed=True
        )
    assert order["status"] == "NEW"
    assert exchange.requests_seen["order.place"] == 1


async def test_connection_attempts_are_limited(autojump_clock: trio.testing.MockClock) -> None:
    limits = RateLimitConfig(connections=(Limit("CONNECTIONS", "MINUTE", 5, 2),))
    async with open_local_exchange(LocalExchange(limits=limits)) as exchange:
        for _ in range(2):
            async with trio_binance.connect(exchange.url):
                pass
        with pytest.raises(ConnectFailed):
            async with trio_binance.connect(exchange.url):
                pass


async def test_demo_keys_work_for_each_account(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    keys = exchange.create_demo_keys()
    for account, demo in keys.items():
        assert account in repr(demo)
        assert demo.hmac_secret not in repr(demo)
        for credentials in (demo.ed25519, demo.hmac):
            async with trio_binance.connect(exchange.url, credentials=credentials) as session:
                status = await session.request("account.status", signed=True)
                assert status["uid"] > 0


async def test_bad_order_is_rejected_with_the_documented_error(exchange: LocalExchange) -> None:
    keys = exchange.create_demo_keys(["bob"])["bob"]
    async with trio_binance.connect(exchange.url, credentials=keys.ed25519) as session:
        with pytest.raises(BadRequest, match="-1102"):
            await session.request(
                "order.place", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT"}, signed=True
            )


def test_command_line_describes_url_and_keys() -> None:
    from trio_binance.testing.__main__ import describe

    exchange = LocalExchange()
    exchange.url = "ws://127.0.0.1:1/ws-api/v3"
    exchange.demo_keys = exchange.create_demo_keys(["alice"])
    text = describe(exchange)
    assert exchange.url in text
    assert exchange.demo_keys["alice"].hmac_secret in text
    assert "BEGIN PRIVATE KEY" in text


async def test_plugin_fixtures_give_a_logged_on_session(
    local_exchange: LocalExchange, exchange_session: trio_binance.Session
) -> None:
    status = await exchange_session.request("session.status")
    assert status["apiKey"] == local_exchange.demo_keys["alice"].ed25519.api_key
    assert set(local_exchange.demo_keys) == {"alice", "bob"}
