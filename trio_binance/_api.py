"""Typed coroutines for every WebSocket API method (filled in by the typed-API work)."""

from __future__ import annotations


class ApiMethods:
    """Mixed into :class:`~trio_binance.Session`: one typed coroutine per documented method."""
