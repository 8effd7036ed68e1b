"""The suite runs on every transport.

Each async test (the ones that open connections) runs once per transport: its id ends in
``[trio-websocket]`` or ``[websockets]``, and every session it opens without naming a
transport uses that one. ``--transport NAME`` runs one transport only. A test that chooses
its transports itself is marked ``transport_specific`` and runs once.
"""

from __future__ import annotations

import inspect
from typing import get_args

import pytest

from trio_binance import _transport

TRANSPORTS: tuple[_transport.TransportName, ...] = get_args(_transport.TransportName)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--transport",
        choices=[*TRANSPORTS, "both"],
        default="both",
        help="the transport sessions use in async tests (default: both, each test twice)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "transport_specific: the test picks its transports itself; run it once"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if not inspect.iscoroutinefunction(metafunc.function):
        return
    if metafunc.definition.get_closest_marker("transport_specific"):
        return
    chosen = metafunc.config.getoption("transport")
    names = TRANSPORTS if chosen == "both" else (chosen,)
    metafunc.parametrize("transport_name", names, indirect=True)


@pytest.fixture(autouse=True)
def transport_name(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> _transport.TransportName:
    """The transport a session opened without ``transport=`` uses in this test."""
    name: _transport.TransportName = getattr(request, "param", _transport.DEFAULT_TRANSPORT)
    monkeypatch.setattr(_transport, "DEFAULT_TRANSPORT", name)
    return name
