"""The local exchange listens on loopback only, unless its user asks for more: it hands out
demo keys and executes orders for anyone who can reach it."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import trio

import trio_binance.testing.__main__ as exchange_command
from trio_binance.testing import LocalExchange, open_local_exchange

PROC_TCP = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))
LISTEN = "0A"


def listening_addresses(port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The local addresses of this machine's TCP listeners on ``port`` (Linux /proc)."""
    found: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for table in PROC_TCP:
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state != LISTEN or int(port_hex, 16) != port:
                continue
            raw = bytes.fromhex(address)
            # /proc writes each 32-bit word in host (little-endian) order
            words = [raw[i : i + 4][::-1] for i in range(0, len(raw), 4)]
            found.append(ipaddress.ip_address(b"".join(words)))
    return found


@pytest.mark.skipif(not PROC_TCP[0].exists(), reason="needs Linux /proc/net/tcp")
async def test_open_local_exchange_listens_on_loopback_only() -> None:
    async with open_local_exchange() as exchange:
        url = urlsplit(exchange.url)
        assert url.hostname == "127.0.0.1"
        assert url.port is not None
        addresses = listening_addresses(url.port)
        assert addresses, "the listener was not found"
        assert all(address.is_loopback for address in addresses), addresses


@pytest.mark.skipif(not PROC_TCP[0].exists(), reason="needs Linux /proc/net/tcp")
async def test_serve_defaults_to_loopback() -> None:
    exchange = LocalExchange()
    async with trio.open_nursery() as nursery:
        url = urlsplit(await nursery.start(exchange.serve))
        assert url.port is not None
        addresses = listening_addresses(url.port)
        assert addresses
        assert all(address.is_loopback for address in addresses), addresses
        nursery.cancel_scope.cancel()


def test_the_exchange_command_binds_loopback_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[Any] = []
    monkeypatch.setattr(trio, "run", lambda *args: served.append(args))
    exchange_command.main([])
    assert served[0][1] == "127.0.0.1"
