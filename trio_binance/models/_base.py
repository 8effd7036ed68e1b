"""Building blocks shared by every model: the Struct base and enums that tolerate new values."""

from __future__ import annotations

import enum
from typing import Any

import msgspec


class Model(msgspec.Struct, frozen=True, kw_only=True, gc=False, rename="camel"):
    """Base of every decoded message: immutable, snake_case attributes over camelCase wire names.

    Fields whose wire name is not the camelCase of the attribute name (single-letter event
    keys, Binance's ``cummulativeQuoteQty`` spelling) set ``msgspec.field(name=...)``.
    Unknown fields in a message are ignored, so new fields never break decoding.
    ``gc=False``: models hold only scalars, Decimals and lists of other models, so they can
    never be part of a reference cycle.
    """


class OpenEnum(enum.StrEnum):
    """A string enum that accepts values it does not know yet.

    Binance adds enum values often; an unknown value decodes to a pseudo-member whose
    ``value`` and ``name`` are the raw string, so it compares equal to that string and never
    breaks decoding. ``is_known`` tells the two apart.
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member

    @property
    def is_known(self) -> bool:
        return self._name_ in type(self).__members__
