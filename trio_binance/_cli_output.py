"""What the command line prints: JSON by default, aligned tables with ``--table``.

JSON is msgspec's encoding of the typed result, so field names are Binance's own and
``Decimal`` amounts are strings with every digit kept. Streams print one JSON document per
line (JSON Lines), so ``jq`` and friends can follow them. Tables use the Python field names
of the models and show nested values as compact JSON. Pure functions: callers write the text.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import msgspec

from trio_binance.models import UnknownStreamEvent, UnknownUserEvent


def to_json(value: Any, *, indent: int = 0) -> str:
    """``value`` as JSON text; ``indent`` > 0 pretty-prints.

    Decimals are written as plain decimal text (``"0.00000000"``, never ``"0E-8"``) and
    fields without a value are left out, as Binance leaves them out.
    """
    if isinstance(value, UnknownUserEvent | UnknownStreamEvent):
        value = msgspec.json.decode(value.raw)  # a newer event type: passed on as it came
    data = msgspec.json.encode(_json_ready(msgspec.to_builtins(value, builtin_types=(Decimal,))))
    if indent:
        data = msgspec.json.format(data, indent=indent)
    return data.decode()


def _json_ready(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [_json_ready(item) for item in value]
    return value


def to_plain(value: Any) -> Any:
    """``value`` as dicts, lists and scalars, keyed by the models' Python field names."""
    if isinstance(value, UnknownUserEvent | UnknownStreamEvent):
        fields = msgspec.json.decode(value.raw)
        return (
            {"event_type": value.event_type or "unknown", **fields}
            if isinstance(fields, dict)
            else fields
        )
    if isinstance(value, msgspec.Struct):
        return {
            name: to_plain(getattr(value, name))
            for name in value.__struct_fields__
            if getattr(value, name) is not None
        }
    if isinstance(value, Mapping):
        return {str(key): to_plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(item) for item in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, msgspec.Raw):
        return msgspec.json.decode(value)
    return value


def cell(value: Any) -> str:
    """One value as table text: scalars as themselves, anything nested as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str | int):
        return str(value)
    return to_json(value)


def to_table(value: Any) -> str:
    """A human-readable rendering of a result."""
    plain = to_plain(value)
    if isinstance(plain, list):
        if not plain:
            return "(none)"
        if all(isinstance(row, dict) for row in plain):
            return _columns(plain)
        return "\n".join(cell(item) for item in plain)
    if isinstance(plain, dict):
        if not plain:
            return "(empty)"
        return _columns([{"field": key, "value": item} for key, item in plain.items()])
    return cell(plain)


def _columns(rows: Sequence[Mapping[str, Any]]) -> str:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    texts = [[cell(row.get(name)) for name in names] for row in rows]
    widths = [max(len(name), *(len(text[i]) for text in texts)) for i, name in enumerate(names)]
    lines = [_line(list(names), widths), _line(["-" * width for width in widths], widths)]
    lines += [_line(text, widths) for text in texts]
    return "\n".join(lines)


def _line(texts: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(text.ljust(width) for text, width in zip(texts, widths, strict=True)).rstrip()


def event_line(event: Any) -> str:
    """One streamed event on one line: its type, then its scalar fields as ``name=value``."""
    plain = to_plain(event)
    if not isinstance(plain, dict):
        return cell(plain)
    tag = event.__struct_config__.tag if isinstance(event, msgspec.Struct) else None
    kind = plain.pop("event_type", None) or tag or type(event).__name__
    fields = " ".join(
        f"{name}={cell(item)}"
        for name, item in plain.items()
        if not isinstance(item, dict | list) and name != "event_time"
    )
    return f"{kind} {fields}".rstrip()
