"""Results of the authentication and user data stream subscription requests.

Spec: web-socket-api.md, "Authentication requests" and "User Data Stream requests".
"""

from __future__ import annotations

import msgspec

from trio_binance.models._base import Model


class SessionStatus(Model, frozen=True, kw_only=True):
    """Result of ``session.logon``, ``session.status`` and ``session.logout``.

    ``api_key`` and ``authorized_since`` are ``None`` on an unauthenticated connection.
    ``user_data_stream`` is ``None`` where user data subscriptions are not available,
    ``True`` while at least one is active (spec: "User Data Stream subscription").
    The API key is shortened in ``repr`` so it never lands whole in a log line.
    """

    api_key: str | None = None
    authorized_since: int | None = None
    connected_since: int
    return_rate_limits: bool
    server_time: int
    user_data_stream: bool | None = None

    def __repr__(self) -> str:
        if self.api_key is None:
            return msgspec.Struct.__repr__(self)
        shown = msgspec.structs.replace(self, api_key=f"{self.api_key[:4]}…")
        return msgspec.Struct.__repr__(shown)


class Subscription(Model, frozen=True, kw_only=True):
    """Result of ``userDataStream.subscribe`` and ``userDataStream.subscribe.signature``;
    ``session.subscriptions`` returns a list of them."""

    subscription_id: int
