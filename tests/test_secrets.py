"""Secrets never leak: real signed sessions for each key type, every log line at DEBUG (the
library's and the local exchange's), every error a caller can meet, formatted with its full
traceback and chain, every repr and str -- scanned for any form of the secret.

The scan looks for the HMAC secret, the private key's PEM body lines, its raw bytes (hex and
base64) and the passphrase. ``test_the_scan_finds_a_planted_secret`` shows it would notice.
"""

from __future__ import annotations

import base64
import logging
import traceback
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from cryptography.hazmat.primitives import serialization

import trio_binance
from trio_binance import (
    ApiError,
    BinanceError,
    Credentials,
    Ed25519Credentials,
    HmacCredentials,
    RsaCredentials,
)
from trio_binance.testing import Drop, LocalExchange, Reply, open_local_exchange

KEYS = Path(__file__).parent / "fixtures" / "keys"
HMAC_SECRET = "hM4cS3cr3t" + "Zq9" * 20


@dataclass
class KeyCase:
    name: str
    credentials: Credentials
    secrets: list[str]


def pem_body_lines(pem: str) -> list[str]:
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def private_forms(pem_name: str, passphrase: str | None) -> list[str]:
    """Every way the private key could show up in text."""
    pem = (KEYS / pem_name).read_text()
    key = serialization.load_pem_private_key(
        pem.encode(), passphrase.encode() if passphrase else None
    )
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    forms = [*pem_body_lines(pem), der.hex(), base64.b64encode(der).decode()[:60]]
    try:
        raw = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        forms += [raw.hex(), base64.b64encode(raw).decode(), repr(raw)[2:-1]]
    except ValueError:  # RSA has no raw form; its PEM and DER forms are checked
        pass
    if passphrase:
        forms.append(passphrase)
    return forms


def key_cases() -> list[KeyCase]:
    rsa = RsaCredentials.from_file("rsaKeyOfTheTests", KEYS / "rsa.pem")
    ed = Ed25519Credentials.from_file(
        "edKeyOfTheTests", KEYS / "ed25519-encrypted.pem", "fixture-ed25519-passphrase"
    )
    hmac = HmacCredentials("hmacKeyOfTheTests", HMAC_SECRET)
    return [
        KeyCase("rsa", rsa, private_forms("rsa.pem", None)),
        KeyCase(
            "ed25519",
            ed,
            private_forms("ed25519-encrypted.pem", "fixture-ed25519-passphrase")
            + private_forms("ed25519.pem", None),
        ),
        KeyCase("hmac", hmac, [HMAC_SECRET, HMAC_SECRET.encode().hex()]),
    ]


def leaks(text: str, secrets: list[str]) -> list[str]:
    return [secret[:12] + "..." for secret in secrets if secret and secret in text]


def everything_about(error: BaseException) -> str:
    """All a caller or a log could print about ``error``: str, repr, the formatted
    traceback with its chain, and the repr of every attribute."""
    parts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    parts += [f"{name}={value!r}" for name, value in vars(error).items()]
    return "\n".join(parts)


@pytest.fixture(params=key_cases(), ids=lambda case: case.name)
def case(request: pytest.FixtureRequest) -> KeyCase:
    case: KeyCase = request.param
    return case


@pytest.fixture
async def exchange(case: KeyCase) -> AsyncIterator[LocalExchange]:
    local = LocalExchange()
    if isinstance(case.credentials, HmacCredentials):
        local.keys.add(case.credentials.api_key, "alice", hmac_secret=HMAC_SECRET)
    else:
        local.keys.add_credentials(case.credentials, "alice")
    async with open_local_exchange(local) as served:
        yield served


async def exercise(
    exchange: LocalExchange, credentials: Credentials, errors: list[BaseException]
) -> list[str]:
    """Drive a signed session through success and every failure; collect what it shows."""
    shown: list[str] = [repr(credentials), str(credentials)]

    async def expect_error(call: Callable[[], object]) -> None:
        try:
            await call()  # type: ignore[misc]
        except BinanceError as exc:
            errors.append(exc)
        else:
            raise AssertionError("the call was meant to fail")

    order: dict[str, Any] = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "time_in_force": "GTC",
    }
    async with trio_binance.connect(exchange.url, credentials=credentials) as session:
        shown.append(repr(session))
        shown.append(repr(await session.account_status()))
        # rejected by the exchange (a filter failure): ApiError with the parameters
        await expect_error(lambda: session.place_order(**order, price="0.1", quantity="1e-9"))
        # status unknown after execution: the error carries method and parameters
        exchange.faults.arm(
            Reply(503, -1007, "Timeout waiting for response.", after_execute=True),
            method="order.place",
        )
        await expect_error(lambda: session.place_order(**order, price="1", quantity="0.001"))
        # a signed request, then the connection drops: ResponseLost with its parameters
        exchange.faults.arm(Drop(), method="order.place")
        await expect_error(lambda: session.place_order(**order, price="1", quantity="0.002"))
        await expect_error(session.account_status)  # SessionClosed
        shown.append(repr(session.statistics()))
    # the key revoked while a session is open: Unauthorized on the next signed request
    async with trio_binance.connect(exchange.url, credentials=credentials) as session:
        exchange.keys.revoke(credentials.api_key)
        await expect_error(session.account_status)
    return shown


async def test_no_secret_in_logs_errors_tracebacks_or_reprs(
    case: KeyCase, exchange: LocalExchange, caplog: pytest.LogCaptureFixture
) -> None:
    errors: list[BaseException] = []
    with caplog.at_level(logging.DEBUG):
        shown = await exercise(exchange, case.credentials, errors)
    assert len(errors) == 5, errors
    assert {type(e).__name__ for e in errors} >= {
        "ExecutionStatusUnknown",
        "ResponseLost",
        "SessionClosed",
    }
    assert any(isinstance(e, ApiError) and e.status == 400 for e in errors)
    logged = "\n".join(
        [record.getMessage() for record in caplog.records]
        + [logging.Formatter().format(record) for record in caplog.records]
    )
    assert "order.place" in logged  # the capture did see the traffic it scans
    text = "\n".join([logged, *shown, *(everything_about(error) for error in errors)])
    assert leaks(text, case.secrets) == []


def test_the_scan_finds_a_planted_secret() -> None:
    """A scan that cannot fail proves nothing: each key's secret forms are found when there."""
    for case in key_cases():
        assert len(case.secrets) >= 2
        for secret in case.secrets:
            assert leaks(f"log line {secret} end", case.secrets), (case.name, secret[:8])
        assert leaks(repr(case.credentials), case.secrets) == []


async def test_signed_request_parameters_in_errors_are_redacted(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An error carrying the request's parameters (for reconciling) never carries the
    signature or the API key it was sent with."""
    local = LocalExchange()
    keys = local.create_demo_keys(["alice"])
    async with open_local_exchange(local) as served:
        hmac = keys["alice"].hmac
        async with trio_binance.connect(served.url, credentials=hmac) as session:
            served.faults.server_error("order.place")
            with pytest.raises(trio_binance.ExecutionStatusUnknown) as unknown:
                await session.place_order(
                    symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC",
                    price="1", quantity="0.001",
                )  # fmt: skip
    params = unknown.value.params
    assert params is not None
    assert params["symbol"] == "BTCUSDT"
    assert "signature" not in params
    assert "apiKey" not in params
    assert hmac.api_key not in everything_about(unknown.value)
