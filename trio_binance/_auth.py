"""Stamping signed requests: ``timestamp``, ``recvWindow``, ``apiKey`` and ``signature``.

The session calls :meth:`RequestSigner.stamp` from its send task, right before the frame is
written (after any queueing or rate-limit wait), so a request that waited can never age out
of ``recvWindow`` before it leaves. After ``session.logon`` the connection is authenticated
and signed requests carry only ``timestamp`` (and ``recvWindow``), as "Session
Authentication" in web-socket-api.md allows.
"""

from __future__ import annotations

from decimal import Decimal

from trio_binance._clock import ExchangeClock
from trio_binance._credentials import Credentials
from trio_binance._exceptions import InvalidParameter
from trio_binance._params import WireParams, decimal_text

DEFAULT_RECV_WINDOW = 5000
# Requests that carry their own key and signature even on a logged-on connection: re-logon
# ("Calling session.logon multiple times changes the current authenticated API key") and the
# signature subscription, whose signature is its authorisation.
ALWAYS_SIGNED = frozenset({"session.logon", "userDataStream.subscribe.signature"})
MAX_RECV_WINDOW = 60000  # "Timing security": maximum recvWindow is 60000 ms


def checked_recv_window(value: int | Decimal | str) -> int | str:
    """``recvWindow`` as sent: at most 60000 ms, at most three decimals ("Timing security")."""
    if isinstance(value, bool | float):
        raise InvalidParameter("recvWindow", "must be an int, a Decimal or a decimal string")
    try:
        amount = Decimal(value)
    except ArithmeticError:
        raise InvalidParameter("recvWindow", f"is not a number: {value!r}") from None
    if not amount.is_finite() or not 0 < amount <= MAX_RECV_WINDOW:
        raise InvalidParameter("recvWindow", f"must be above 0 and at most {MAX_RECV_WINDOW}")
    if amount.as_tuple().exponent < -3:  # type: ignore[operator]
        raise InvalidParameter("recvWindow", "supports at most three decimal places")
    return int(amount) if amount == amount.to_integral_value() else decimal_text(amount)


class RequestSigner:
    """Signs requests for one set of credentials on one session."""

    def __init__(
        self,
        credentials: Credentials,
        clock: ExchangeClock,
        *,
        recv_window: int | Decimal | str = DEFAULT_RECV_WINDOW,
    ) -> None:
        self.credentials = credentials
        self.clock = clock
        self.recv_window = checked_recv_window(recv_window)
        self.logged_on = False
        """Set once ``session.logon`` succeeded: requests then need no key or signature."""

    def __repr__(self) -> str:
        state = "logged on" if self.logged_on else "signing each request"
        return f"<RequestSigner {self.credentials!r} {state}>"

    def stamp(self, method: str, params: WireParams) -> WireParams:
        stamped = dict(params)
        stamped["timestamp"] = self.clock.timestamp()
        if "recvWindow" not in stamped and self.recv_window != DEFAULT_RECV_WINDOW:
            stamped["recvWindow"] = self.recv_window
        if self.logged_on and method not in ALWAYS_SIGNED:
            return stamped
        stamped["apiKey"] = self.credentials.api_key
        stamped["signature"] = self.credentials.sign_params(stamped)
        return stamped
