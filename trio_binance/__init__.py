"""Trio-native, structured-concurrency client for the Binance Spot WebSocket API."""

from trio_binance._version import __version__

__all__ = ["__version__"]
