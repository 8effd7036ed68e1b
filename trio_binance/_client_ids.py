"""Client order ids: set by the client on every order it creates, so no outcome is unknowable.

Binance generates an id when none is sent, but then a request whose reply is lost leaves the
caller nothing to look the order up by. The typed API therefore sends every client id of an
order-creating request itself, so an ``OutcomeUnknown`` error carries them and
``order.status`` / ``orderList.status`` can find out what happened.

An id is 20 base64url characters of 120 random bits from the OS (``os.urandom``) after an
optional prefix: unique across processes and restarts without coordination, unlike the
process-local counters some clients use. Ids and prefixes must match the pattern Binance
enforces for client ids (error -1100, "Illegal characters found in parameter '%s'; legal
range is '%s'"): ``^[\\.A-Z\\:/a-z0-9_-]{1,36}$``.

Pure functions: no I/O, no state.
"""

from __future__ import annotations

import binascii
import os
import re
from collections.abc import Mapping, MutableMapping
from types import MappingProxyType
from typing import Any, TypeVar

from trio_binance._exceptions import InvalidParameter

MAX_CLIENT_ID_LENGTH = 36
_RANDOM_BYTES = 15  # 120 bits -> exactly 20 base64url characters, no padding
RANDOM_PART_LENGTH = 20
MAX_PREFIX_LENGTH = MAX_CLIENT_ID_LENGTH - RANDOM_PART_LENGTH

# The characters Binance accepts in a client id; base64url's alphabet is a subset.
_ALLOWED = re.compile(r"[.A-Z:/a-z0-9_-]*")

V = TypeVar("V")

# Which client-id parameters each order-creating method gets, each with the parameter whose
# presence says the order it names exists (None: always there). The OTOCO/OPOCO below leg is
# optional (pendingBelowType is not mandatory), and an id for a leg that was not sent would be
# refused.
CLIENT_IDS_BY_METHOD: Mapping[str, tuple[tuple[str, str | None], ...]] = MappingProxyType(
    {
        "order.place": (("newClientOrderId", None),),
        "order.test": (("newClientOrderId", None),),
        # Cancels get a new client id too: it is how an unknown-outcome cancel is found.
        "order.cancel": (("newClientOrderId", None),),
        "orderList.cancel": (("newClientOrderId", None),),
        "order.cancelReplace": (("newClientOrderId", None), ("cancelNewClientOrderId", None)),
        "sor.order.place": (("newClientOrderId", None),),
        "sor.order.test": (("newClientOrderId", None),),
        "orderList.place": (
            ("listClientOrderId", None),
            ("limitClientOrderId", None),
            ("stopClientOrderId", None),
        ),
        "orderList.place.oco": (
            ("listClientOrderId", None),
            ("aboveClientOrderId", None),
            ("belowClientOrderId", None),
        ),
        "orderList.place.oto": (
            ("listClientOrderId", None),
            ("workingClientOrderId", None),
            ("pendingClientOrderId", None),
        ),
        "orderList.place.opo": (
            ("listClientOrderId", None),
            ("workingClientOrderId", None),
            ("pendingClientOrderId", None),
        ),
        "orderList.place.otoco": (
            ("listClientOrderId", None),
            ("workingClientOrderId", None),
            ("pendingAboveClientOrderId", None),
            ("pendingBelowClientOrderId", "pendingBelowType"),
        ),
        "orderList.place.opoco": (
            ("listClientOrderId", None),
            ("workingClientOrderId", None),
            ("pendingAboveClientOrderId", None),
            ("pendingBelowClientOrderId", "pendingBelowType"),
        ),
    }
)


def check_client_id_prefix(prefix: str, name: str = "client_order_id_prefix") -> str:
    """``prefix`` if it can start a client id; ``InvalidParameter`` naming ``name`` if not."""
    if not isinstance(prefix, str):
        raise InvalidParameter(name, f"must be a str, got {type(prefix).__name__}")
    if len(prefix) > MAX_PREFIX_LENGTH:
        raise InvalidParameter(
            name,
            f"is {len(prefix)} characters; at most {MAX_PREFIX_LENGTH} leave room for "
            f"{RANDOM_PART_LENGTH} random ones within Binance's {MAX_CLIENT_ID_LENGTH}",
        )
    _check_characters(prefix, name)
    return prefix


def check_client_id(value: object, name: str) -> str:
    """``value`` if Binance accepts it as a client id; ``InvalidParameter`` naming ``name``."""
    if not isinstance(value, str):
        raise InvalidParameter(name, f"must be a str, got {type(value).__name__}")
    if not 1 <= len(value) <= MAX_CLIENT_ID_LENGTH:
        raise InvalidParameter(name, f"must be 1 to {MAX_CLIENT_ID_LENGTH} characters long")
    _check_characters(value, name)
    return value


def _check_characters(value: str, name: str) -> None:
    if not _ALLOWED.fullmatch(value):
        raise InvalidParameter(
            name, f"{value!r} has characters outside Binance's range [.A-Z:/a-z0-9_-]"
        )


# base64 -> base64url ("-" and "_" for "+" and "/"): what secrets.token_urlsafe writes.
_URL_SAFE = bytes.maketrans(b"+/", b"-_")


def new_client_id(prefix: str = "") -> str:
    """A fresh client id: ``prefix`` and 120 random bits, at most 36 characters."""
    # 15 bytes are exactly 20 base64 characters: no padding to strip.
    random_part = binascii.b2a_base64(os.urandom(_RANDOM_BYTES), newline=False)
    text = random_part.translate(_URL_SAFE).decode()
    return check_client_id_prefix(prefix) + text if prefix else text


def with_client_ids(method: str, params: Mapping[str, V], prefix: str = "") -> dict[str, V | str]:
    """``params`` with a fresh id for every client-id parameter of ``method`` not given.

    Ids the caller chose are kept as they are; methods that create no order are unchanged.
    """
    filled: dict[str, V | str] = dict(params)
    add_client_ids(method, filled, prefix)
    return filled


def add_client_ids(method: str, params: MutableMapping[str, Any], prefix: str = "") -> None:
    """:func:`with_client_ids`, filling ``params`` itself."""
    for name, order_present_if in CLIENT_IDS_BY_METHOD.get(method, ()):
        if params.get(name) is None and (
            order_present_if is None or params.get(order_present_if) is not None
        ):
            params[name] = new_client_id(prefix)


__all__ = [
    "CLIENT_IDS_BY_METHOD",
    "MAX_CLIENT_ID_LENGTH",
    "MAX_PREFIX_LENGTH",
    "add_client_ids",
    "check_client_id",
    "check_client_id_prefix",
    "new_client_id",
    "with_client_ids",
]
