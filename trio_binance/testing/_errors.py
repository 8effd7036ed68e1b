"""The one exception type the local exchange's handlers raise to reject a request."""

from __future__ import annotations

from typing import Any


class ExchangeError(Exception):
    """A request the exchange rejects: answered with ``status`` and ``{"code", "msg"}``.

    ``data``, when given, becomes ``error.data`` (e.g. ``retryAfter`` on a 429, or both
    halves of a 409 ``order.cancelReplace``).
    """

    def __init__(self, status: int, code: int, msg: str, data: Any = None) -> None:
        super().__init__(f"{status} {code}: {msg}")
        self.status = status
        self.code = code
        self.msg = msg
        self.data = data
