"""Where Binance serves the Spot WebSocket API, by environment.

Spec: web-socket-api.md, "General API Information" (production and testnet base endpoints);
Binance's "Demo Mode for SPOT Trading" page (demo-mode/general-info.md upstream) for the demo
mode URLs. ``local`` is where ``trio-binance exchange`` (and ``python -m
trio_binance.testing``) listens by default.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from trio_binance._market_streams import STREAMS_PRODUCTION, STREAMS_TESTNET
from trio_binance._session import PRODUCTION, TESTNET

DEMO_MODE = "wss://demo-ws-api.binance.com/ws-api/v3"
STREAMS_DEMO_MODE = "wss://demo-stream.binance.com:9443"
LOCAL_PORT = 9443
LOCAL = f"ws://127.0.0.1:{LOCAL_PORT}/ws-api/v3"
# The local exchange serves the market streams on the same port as the WebSocket API.
STREAMS_LOCAL = f"ws://127.0.0.1:{LOCAL_PORT}"

ENDPOINTS: Mapping[str, str] = MappingProxyType(
    {"production": PRODUCTION, "testnet": TESTNET, "demo": DEMO_MODE, "local": LOCAL}
)
"""Preset name -> WebSocket API URL."""

STREAM_ENDPOINTS: Mapping[str, str] = MappingProxyType(
    {
        "production": STREAMS_PRODUCTION,
        "testnet": STREAMS_TESTNET,
        "demo": STREAMS_DEMO_MODE,
        "local": STREAMS_LOCAL,
    }
)
"""Preset name -> market streams base URL (web-socket-streams.md, "General WSS information")."""

__all__ = ["DEMO_MODE", "ENDPOINTS", "LOCAL", "STREAMS_DEMO_MODE", "STREAM_ENDPOINTS"]
