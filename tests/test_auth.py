"""Signing, logon and the exchange clock, end to end against the local exchange."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest
import trio
import trio.testing

import trio_binance
from trio_binance import BadRequest, InvalidParameter, Unauthorized
from trio_binance._auth import RequestSigner, checked_recv_window
from trio_binance._clock import ClockSample, ExchangeClock
from trio_binance._credentials import (
    Credentials,
    Ed25519Credentials,
    HmacCredentials,
    RsaCredentials,
    generate_ed25519,
)
from trio_binance.models import SessionStatus
from trio_binance.testing import LocalExchange, Request, open_local_exchange

KEYS = Path(__file__).parent / "fixtures" / "keys"
EPOCH_S = 1_750_000_000.0
HMAC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"


def trio_wall_clock() -> float:
    """A wall clock that moves with trio's clock, so autojump_clock moves both sides."""
    return EPOCH_S + trio.current_time()


def who_am_i(request: Request) -> dict[str, Any]:
    return {"account": request.account, "params": request.params}


@pytest.fixture
async def exchange() -> AsyncIterator[LocalExchange]:
    local = LocalExchange(start_time_ms=int(EPOCH_S * 1000))
    local.register("account.commission", who_am_i)  # a USER_DATA method
    async with open_local_exchange(local) as served:
        yield served


def ed25519(
    exchange: LocalExchange, api_key: str = "edkey1", account: str = "alice"
) -> Ed25519Credentials:
    credentials = generate_ed25519(api_key)
    exchange.keys.add_credentials(credentials, account)
    return credentials


def rsa(exchange: LocalExchange, account: str = "bob") -> RsaCredentials:
    credentials = RsaCredentials.from_file("rsakey1", KEYS / "rsa.pem")
    exchange.keys.add_credentials(credentials, account)
    return credentials


def hmac(exchange: LocalExchange, account: str = "carol") -> HmacCredentials:
    exchange.keys.add("hmackey1", account, hmac_secret=HMAC_SECRET)
    return HmacCredentials("hmackey1", HMAC_SECRET)


CREDENTIALS: dict[str, Callable[[LocalExchange], Credentials]] = {
    "ed25519": ed25519,
    "rsa": rsa,
    "hmac": hmac,
}


@pytest.mark.parametrize("kind", sorted(CREDENTIALS))
async def test_signed_request_for_each_key_type(
    exchange: LocalExchange, kind: str, autojump_clock: trio.testing.MockClock
) -> None:
    credentials = CREDENTIALS[kind](exchange)
    async with trio_binance.connect(
        exchange.url, credentials=credentials, wall_clock=trio_wall_clock
    ) as session:
        reply = await session.request("account.commission", {"symbol": "BTCUSDT"}, signed=True)
    assert reply["params"] == {"symbol": "BTCUSDT"}  # key, signature, timestamp consumed
    assert reply["account"] == {"ed25519": "alice", "rsa": "bob", "hmac": "carol"}[kind]


async def test_ed25519_logs_on_and_then_sends_no_key_or_signature(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    credentials = ed25519(exchange)
    seen: list[dict[str, Any]] = []

    def record(request: Request) -> dict[str, Any]:
        seen.append(request.received)
        return {}

    exchange.register("account.commission", record)
    async with trio_binance.connect(
        exchange.url, credentials=credentials, wall_clock=trio_wall_clock
    ) as session:
        status = await session.request("session.status", result_type=SessionStatus)
        assert status.api_key == "edkey1"
        await session.request("account.commission", signed=True)
        logged_out = await session.request("session.logout", result_type=SessionStatus)
        assert logged_out.api_key is None
        await session.request("account.commission", signed=True)
    assert "apiKey" not in seen[0] and "signature" not in seen[0]
    assert "timestamp" in seen[0]
    assert {"apiKey", "signature", "timestamp"} <= set(seen[1])


@pytest.mark.parametrize("kind", ["rsa", "hmac"])
async def test_logon_is_refused_for_keys_other_than_ed25519(
    exchange: LocalExchange, kind: str, autojump_clock: trio.testing.MockClock
) -> None:
    credentials = CREDENTIALS[kind](exchange)
    with pytest.raises(BadRequest, match="-1020"):
        async with trio_binance.connect(
            exchange.url, credentials=credentials, logon=True, wall_clock=trio_wall_clock
        ):
            pass


async def test_unknown_key_and_bad_signature(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    stranger = generate_ed25519("nobody")
    async with trio_binance.connect(
        exchange.url, credentials=stranger, logon=False, wall_clock=trio_wall_clock
    ) as session:
        with pytest.raises(Unauthorized, match="-2015"):
            await session.request("account.commission", signed=True)
    impostor = generate_ed25519("edkey1")
    ed25519(exchange)  # registers a different key pair under the same API key
    async with trio_binance.connect(
        exchange.url, credentials=impostor, logon=False, wall_clock=trio_wall_clock
    ) as session:
        with pytest.raises(BadRequest, match="-1022"):
            await session.request("account.commission", signed=True)


async def test_key_without_permission_is_refused(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    credentials = generate_ed25519("readonly")
    exchange.keys.add_credentials(credentials, "dave", permissions={"TRADE"})
    async with trio_binance.connect(
        exchange.url, credentials=credentials, wall_clock=trio_wall_clock
    ) as session:
        with pytest.raises(Unauthorized, match="-2015"):
            await session.request("account.commission", signed=True)


async def test_skewed_clock_is_recovered_by_one_resync_and_retry(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    credentials = hmac(exchange)
    async with trio_binance.connect(
        exchange.url, credentials=credentials, wall_clock=trio_wall_clock, clock_refresh=None
    ) as session:
        exchange.clock_skew_ms = 30_000  # the exchange jumps 30 s ahead of our estimate
        reply = await session.request("account.commission", signed=True)
        assert reply["account"] == "carol"
        assert exchange.requests_seen["account.commission"] == 2
        assert session.clock.offset_ms >= 29_000


async def test_clock_is_refreshed_periodically(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    credentials = hmac(exchange)
    async with trio_binance.connect(
        exchange.url, credentials=credentials, wall_clock=trio_wall_clock, clock_refresh=60
    ) as session:
        before = session.clock.offset_ms
        exchange.clock_skew_ms = 7_000
        await trio.sleep(59)
        assert session.clock.offset_ms == before
        await trio.sleep(2)
        assert session.clock.offset_ms - before == pytest.approx(7_000, abs=50)


async def test_revoked_key_ends_the_session_and_stops_signed_requests(
    exchange: LocalExchange, autojump_clock: trio.testing.MockClock
) -> None:
    credentials = ed25519(exchange)
    async with trio_binance.connect(
        exchange.url, credentials=credentials, wall_clock=trio_wall_clock
    ) as session:
        exchange.keys.revoke("edkey1")
        assert await session.request("ping") == {}  # the next request triggers the revocation
        with pytest.raises(Unauthorized, match="-2015"):
            await session.request("account.commission", signed=True)
        assert session.statistics().requests_sent >= 4


def stamped_at(exchange_ms: int, timestamp_ms: int, recv_window: Any = None) -> dict[str, Any]:
    params: dict[str, Any] = {"apiKey": "hmackey1", "timestamp": timestamp_ms}
    if recv_window is not None:
        params["recvWindow"] = recv_window
    return params


@pytest.mark.parametrize(
    ("offset_ms", "recv_window", "message"),
    [
        (-999, None, None),
        (-1000, None, "1000ms ahead"),
        (5000, None, None),
        (5001, None, "outside of the recvWindow"),
        (5001, "6000.5", None),
        (59_000, 60000, None),
    ],
)
def test_timing_security_rule(offset_ms: int, recv_window: Any, message: str | None) -> None:
    from trio_binance.testing._auth import Authenticator, KeyRing
    from trio_binance.testing._errors import ExchangeError

    keys = KeyRing()
    keys.add("hmackey1", "carol", hmac_secret=HMAC_SECRET)
    now = 1_750_000_000_000
    params = stamped_at(now, now - offset_ms, recv_window)
    params["signature"] = HmacCredentials("hmackey1", HMAC_SECRET).sign_params(params)
    authenticator = Authenticator(keys)
    if message is None:
        assert (
            authenticator.authenticate(
                params, security="USER_DATA", session_key=None, now_ms=now
            ).key.account
            == "carol"
        )
    else:
        with pytest.raises(ExchangeError, match=message) as caught:
            authenticator.authenticate(params, security="USER_DATA", session_key=None, now_ms=now)
        assert caught.value.code == -1021


def test_timestamps_before_2017_and_windows_over_a_minute_are_refused() -> None:
    from trio_binance.testing._auth import Authenticator, KeyRing
    from trio_binance.testing._errors import ExchangeError

    keys = KeyRing()
    keys.add("hmackey1", "carol", hmac_secret=HMAC_SECRET)
    authenticator = Authenticator(keys)
    with pytest.raises(ExchangeError, match="recvWindow"):
        authenticator.authenticate(
            stamped_at(0, 1_483_228_799_999, 60001),
            security="TRADE",
            session_key=None,
            now_ms=1_483_228_800_000,
        )
    with pytest.raises(ExchangeError, match="outside of the recvWindow"):
        authenticator.authenticate(
            stamped_at(0, 1_483_228_799_999),
            security="TRADE",
            session_key=None,
            now_ms=1_483_228_800_000,
        )


def test_microsecond_timestamps_are_understood() -> None:
    from trio_binance.testing._auth import Authenticator, KeyRing

    keys = KeyRing()
    keys.add("hmackey1", "carol", hmac_secret=HMAC_SECRET)
    now = 1_750_000_000_000
    params = stamped_at(now, (now - 10) * 1000)
    params["signature"] = HmacCredentials("hmackey1", HMAC_SECRET).sign_params(params)
    assert (
        Authenticator(keys)
        .authenticate(params, security="TRADE", session_key=None, now_ms=now)
        .key.account
        == "carol"
    )


def test_signer_stamps_at_send_time_and_omits_key_after_logon() -> None:
    now = [1_750_000_000.0]
    clock = ExchangeClock(lambda: now[0])
    signer = RequestSigner(
        HmacCredentials("k", HMAC_SECRET), clock, recv_window=Decimal("6000.346")
    )
    first = signer.stamp("order.place", {"symbol": "BTCUSDT"})
    now[0] += 3
    second = signer.stamp("order.place", {"symbol": "BTCUSDT"})
    assert second["timestamp"] == cast(int, first["timestamp"]) + 3000
    assert first["recvWindow"] == "6000.346"
    assert set(first) == {"symbol", "timestamp", "recvWindow", "apiKey", "signature"}
    signer.logged_on = True
    assert set(signer.stamp("account.status", {})) == {"timestamp", "recvWindow"}
    relogon = signer.stamp("session.logon", {})
    assert {"apiKey", "signature"} <= set(relogon)
    assert "NhqPt" not in repr(signer)


@pytest.mark.parametrize("value", [0, -1, 60001, Decimal("1.0001"), "abc", 1.5, True])
def test_bad_recv_window_is_refused(value: Any) -> None:
    with pytest.raises(InvalidParameter, match="recvWindow"):
        checked_recv_window(value)


def test_clock_takes_the_sample_with_the_shortest_round_trip() -> None:
    clock = ExchangeClock(lambda: 100.0)
    clock.update(
        [
            ClockSample(sent_at=10.0, server_time_ms=20_000, received_at=10.5),  # 500 ms trip
            ClockSample(sent_at=11.0, server_time_ms=21_050, received_at=11.1),  # 100 ms trip
        ]
    )
    assert clock.offset_ms == pytest.approx(21_050 - 11_050)
    assert clock.round_trip_ms == pytest.approx(100)
    assert clock.timestamp() == (100_000 + 10_000)
    micro = ExchangeClock(lambda: 1.0, microseconds=True)
    assert micro.timestamp() == 1_000_000
