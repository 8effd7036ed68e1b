"""Turning command-line text into request parameters and credential settings.

``key=value`` guesses the type a Binance parameter usually has: ``true``/``false`` are
booleans, whole numbers without a leading zero are integers, text starting with ``[`` is a
JSON list, anything else -- prices and quantities included -- is sent as the exact text
given (never a float). ``key:=JSON`` takes the value as JSON instead, e.g.
``newClientOrderId:='"123"'`` for a string of digits. Pure functions: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

import msgspec

_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")
_BOOLEANS = {"true": True, "false": False}
# JSON numbers with a fraction become Decimal: the exact digits are sent.
_JSON = msgspec.json.Decoder(float_hook=Decimal)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

Scalar = str | int | bool | Decimal
ParamValue = Scalar | list[Scalar]


class UsageError(Exception):
    """The command line asks for something that cannot work; exit status 2."""


def parse_params(items: Iterable[str]) -> dict[str, ParamValue]:
    """``["symbol=BTCUSDT", "limit=5"]`` -> ``{"symbol": "BTCUSDT", "limit": 5}``."""
    params: dict[str, ParamValue] = {}
    for item in items:
        name, value = parse_param(item)
        if name in params:
            raise UsageError(f"parameter {name!r} is given twice")
        params[name] = value
    return params


def parse_param(item: str) -> tuple[str, ParamValue]:
    name, sep, text = item.partition("=")
    if not sep or not name.rstrip(":"):
        raise UsageError(f"parameters are written key=value (or key:=JSON), got {item!r}")
    if name.endswith(":"):
        return name[:-1], _json_value(name[:-1], text)
    return name, _guess(name, text)


def _guess(name: str, text: str) -> ParamValue:
    if text in _BOOLEANS:
        return _BOOLEANS[text]
    if _INTEGER.fullmatch(text):
        return int(text)
    if text.startswith("["):
        return _json_value(name, text)
    return text


def _json_value(name: str, text: str) -> ParamValue:
    try:
        value = _JSON.decode(text)
    except msgspec.DecodeError:
        raise UsageError(f"parameter {name!r}: not valid JSON") from None
    if isinstance(value, list) and all(_is_scalar(item) for item in value):
        return value
    if _is_scalar(value):
        return value  # type: ignore[no-any-return]
    raise UsageError(
        f"parameter {name!r}: WebSocket API parameters are strings, numbers, booleans "
        "or lists of those"
    )


def _is_scalar(value: object) -> bool:
    return isinstance(value, str | int | bool | Decimal)


def parse_env_file(text: str, source: str) -> dict[str, str]:
    """``NAME=value`` lines (``#`` comments, blank lines and an ``export`` prefix allowed).

    Errors name the line, never its value: the file holds secrets.
    """
    variables = {}
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.removeprefix("export ").partition("=")
        name = name.strip()
        if not sep or not _ENV_NAME.fullmatch(name):
            raise UsageError(f"{source}, line {number}: expected NAME=value")
        variables[name] = _unquote(value.strip())
    return variables


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value
