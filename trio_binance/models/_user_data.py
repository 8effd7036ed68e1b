"""User Data Stream events (spec: user-data-stream.md) and their one-pass decoder.

Events are a msgspec tagged union on ``"e"``. Binance's single-letter keys are case-sensitive
and collide (``"c"``/``"C"``, ``"q"``/``"Q"``, ``"e"``/``"E"``), so every field names its wire
key explicitly and gets a readable attribute name.

``decode_user_event`` makes one msgspec pass for a known event. Only when that fails does it
look at ``"e"`` again, to tell an event type it does not know yet (returned as
``UnknownUserEvent``, never an error: Binance adds event types) from a broken known event
(``ProtocolError``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final, TypeAlias

import msgspec

from trio_binance._exceptions import ProtocolError
from trio_binance.models._base import Model
from trio_binance.models._enums import (
    ContingencyType,
    ExecutionType,
    ExpiryReason,
    ListOrderStatus,
    ListStatusType,
    OrderStatus,
    OrderType,
    PegOffsetType,
    PegPriceType,
    SelfTradePreventionMode,
    Side,
    TimeInForce,
    WorkingFloor,
)
from trio_binance.models._streams import (
    JsonInput,
    ServerShutdown,
    as_bytes,
    event_type_of,
    tags_of,
)


class _UserEvent(Model, frozen=True, tag_field="e"):
    """Base of the user-data events: ``"e"`` names the event type, ``"E"`` is the event time."""

    event_time: int = msgspec.field(name="E")


class LastFill(Model, frozen=True):
    """The trade an ``executionReport`` with execution type ``TRADE`` reports."""

    trade_id: int
    price: Decimal
    quantity: Decimal
    quote_quantity: Decimal
    commission: Decimal
    commission_asset: str | None
    is_maker: bool
    time: int


# Statuses after which an order never changes again (enums.md, "Order status").
_FINAL_STATUSES: Final = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.REJECTED,
        OrderStatus.EXPIRED,
        OrderStatus.EXPIRED_IN_MATCH,
    }
)


class ExecutionReport(_UserEvent, frozen=True, tag="executionReport"):
    """An order update (user-data-stream.md, "Order Update").

    Fields after ``self_trade_prevention_mode`` are conditional ("Conditional Fields in
    Execution Report") and default to ``None`` (``False`` for ``used_sor``) when absent.
    ``"M"`` is documented as "Ignore" and is not mapped.
    """

    symbol: str = msgspec.field(name="s")
    client_order_id: str = msgspec.field(name="c")
    side: Side = msgspec.field(name="S")
    order_type: OrderType = msgspec.field(name="o")
    time_in_force: TimeInForce = msgspec.field(name="f")
    quantity: Decimal = msgspec.field(name="q")
    price: Decimal = msgspec.field(name="p")
    stop_price: Decimal = msgspec.field(name="P")
    iceberg_quantity: Decimal = msgspec.field(name="F")
    order_list_id: int = msgspec.field(name="g")
    # The id of the order being canceled; "" when there is none.
    original_client_order_id: str = msgspec.field(name="C")
    execution_type: ExecutionType = msgspec.field(name="x")
    order_status: OrderStatus = msgspec.field(name="X")
    # "Order Reject Reason" values (NONE, INSUFFICIENT_BALANCES, ...), not an enums.md enum.
    reject_reason: str = msgspec.field(name="r")
    order_id: int = msgspec.field(name="i")
    last_executed_quantity: Decimal = msgspec.field(name="l")
    cumulative_filled_quantity: Decimal = msgspec.field(name="z")
    last_executed_price: Decimal = msgspec.field(name="L")
    commission: Decimal = msgspec.field(name="n")
    commission_asset: str | None = msgspec.field(name="N")
    transaction_time: int = msgspec.field(name="T")
    trade_id: int = msgspec.field(name="t")
    execution_id: int = msgspec.field(name="I")
    is_on_book: bool = msgspec.field(name="w")
    is_maker: bool = msgspec.field(name="m")
    order_creation_time: int = msgspec.field(name="O")
    cumulative_quote_quantity: Decimal = msgspec.field(name="Z")
    last_quote_quantity: Decimal = msgspec.field(name="Y")
    quote_order_quantity: Decimal = msgspec.field(name="Q")
    self_trade_prevention_mode: SelfTradePreventionMode = msgspec.field(name="V")
    working_time: int | None = msgspec.field(default=None, name="W")
    trailing_delta: int | None = msgspec.field(default=None, name="d")
    trailing_time: int | None = msgspec.field(default=None, name="D")
    strategy_id: int | None = msgspec.field(default=None, name="j")
    strategy_type: int | None = msgspec.field(default=None, name="J")
    # Self-trade prevention details: present only when the order expired due to STP.
    prevented_match_id: int | None = msgspec.field(default=None, name="v")
    prevented_quantity: Decimal | None = msgspec.field(default=None, name="A")
    last_prevented_quantity: Decimal | None = msgspec.field(default=None, name="B")
    trade_group_id: int | None = msgspec.field(default=None, name="u")
    counter_order_id: int | None = msgspec.field(default=None, name="U")
    counter_symbol: str | None = msgspec.field(default=None, name="Cs")
    # With execution type TRADE_PREVENTION, l/L/Y are 0 and these hold what they would have
    # been (CHANGELOG.md, 2023-08-25 entry on pl/pL/pY).
    prevented_execution_quantity: Decimal | None = msgspec.field(default=None, name="pl")
    prevented_execution_price: Decimal | None = msgspec.field(default=None, name="pL")
    prevented_execution_quote_quantity: Decimal | None = msgspec.field(default=None, name="pY")
    match_type: str | None = msgspec.field(default=None, name="b")
    allocation_id: int | None = msgspec.field(default=None, name="a")
    working_floor: WorkingFloor | None = msgspec.field(default=None, name="k")
    used_sor: bool = msgspec.field(default=False, name="uS")
    peg_price_type: PegPriceType | None = msgspec.field(default=None, name="gP")
    peg_offset_type: PegOffsetType | None = msgspec.field(default=None, name="gOT")
    peg_offset_value: int | None = msgspec.field(default=None, name="gOV")
    pegged_price: Decimal | None = msgspec.field(default=None, name="gp")
    expiry_reason: ExpiryReason | None = msgspec.field(default=None, name="eR")

    @property
    def is_final(self) -> bool:
        """True when the order can no longer change (filled, canceled, rejected, expired)."""
        return self.order_status in _FINAL_STATUSES

    @property
    def average_price(self) -> Decimal | None:
        """Average fill price, ``Z / z`` as the spec suggests; ``None`` before any fill."""
        if not self.cumulative_filled_quantity:
            return None
        return self.cumulative_quote_quantity / self.cumulative_filled_quantity

    @property
    def last_fill(self) -> LastFill | None:
        """The trade this report announces, or ``None`` unless the execution type is TRADE."""
        if self.execution_type != ExecutionType.TRADE:
            return None
        return LastFill(
            trade_id=self.trade_id,
            price=self.last_executed_price,
            quantity=self.last_executed_quantity,
            quote_quantity=self.last_quote_quantity,
            commission=self.commission,
            commission_asset=self.commission_asset,
            is_maker=self.is_maker,
            time=self.transaction_time,
        )


class PositionBalance(Model, frozen=True):
    """One asset of an ``outboundAccountPosition``."""

    asset: str = msgspec.field(name="a")
    free: Decimal = msgspec.field(name="f")
    locked: Decimal = msgspec.field(name="l")


class OutboundAccountPosition(_UserEvent, frozen=True, tag="outboundAccountPosition"):
    """The balances that may have changed (user-data-stream.md, "Account Update")."""

    last_update_time: int = msgspec.field(name="u")
    balances: tuple[PositionBalance, ...] = msgspec.field(name="B")

    def balance_of(self, asset: str) -> PositionBalance | None:
        """The entry for ``asset``, or ``None`` if this event does not mention it."""
        return next((b for b in self.balances if b.asset == asset), None)


class BalanceUpdate(_UserEvent, frozen=True, tag="balanceUpdate"):
    """A deposit, withdrawal or transfer (user-data-stream.md, "Balance Update")."""

    asset: str = msgspec.field(name="a")
    delta: Decimal = msgspec.field(name="d")
    clear_time: int = msgspec.field(name="T")


class ListStatusOrder(Model, frozen=True):
    """One order of a ``listStatus`` event."""

    symbol: str = msgspec.field(name="s")
    order_id: int = msgspec.field(name="i")
    client_order_id: str = msgspec.field(name="c")


class ListStatus(_UserEvent, frozen=True, tag="listStatus"):
    """An order-list update, sent beside the orders' ``executionReport`` events."""

    symbol: str = msgspec.field(name="s")
    order_list_id: int = msgspec.field(name="g")
    contingency_type: ContingencyType = msgspec.field(name="c")
    list_status_type: ListStatusType = msgspec.field(name="l")
    list_order_status: ListOrderStatus = msgspec.field(name="L")
    list_reject_reason: str = msgspec.field(name="r")
    list_client_order_id: str = msgspec.field(name="C")
    transaction_time: int = msgspec.field(name="T")
    orders: tuple[ListStatusOrder, ...] = msgspec.field(name="O")


class EventStreamTerminated(_UserEvent, frozen=True, tag="eventStreamTerminated"):
    """The subscription ended: logout, unsubscribe or token expiry; no more events follow."""


class ExternalLockUpdate(_UserEvent, frozen=True, tag="externalLockUpdate"):
    """Part of the spot balance was locked or unlocked by an external system."""

    asset: str = msgspec.field(name="a")
    delta: Decimal = msgspec.field(name="d")
    transaction_time: int = msgspec.field(name="T")


class UnknownUserEvent(msgspec.Struct, frozen=True, gc=False):
    """An event type this version does not know: its ``"e"`` and the untouched JSON."""

    event_type: str
    raw: bytes


KnownUserEvent: TypeAlias = (
    ExecutionReport
    | OutboundAccountPosition
    | BalanceUpdate
    | ListStatus
    | EventStreamTerminated
    | ExternalLockUpdate
    # The WebSocket API sends serverShutdown in the same {"event": ...} envelope
    # (web-socket-api.md, "Connection events").
    | ServerShutdown
)
UserDataEvent: TypeAlias = KnownUserEvent | UnknownUserEvent

KNOWN_USER_EVENT_TYPES: Final = tags_of(KnownUserEvent)

_KNOWN_DECODER: Final[msgspec.json.Decoder[KnownUserEvent]] = msgspec.json.Decoder(KnownUserEvent)


def decode_user_event(raw: JsonInput) -> UserDataEvent:
    """Decode one user-data event object (the ``"event"`` of a frame).

    Raises ``ProtocolError`` for anything that is not a JSON object with a string ``"e"``,
    or for a known event type whose fields do not match the spec.
    """
    try:
        return _KNOWN_DECODER.decode(raw)
    except msgspec.ValidationError as exc:
        return _unknown_or_malformed(raw, exc)
    except (msgspec.DecodeError, UnicodeEncodeError, RecursionError) as exc:
        raise ProtocolError(f"user-data event is not valid JSON: {exc}") from exc


def _unknown_or_malformed(raw: JsonInput, error: Exception) -> UnknownUserEvent:
    event_type = event_type_of(raw)
    if event_type is None:
        raise ProtocolError(f"user-data event has no string 'e' field: {error}") from error
    if event_type in KNOWN_USER_EVENT_TYPES:
        raise ProtocolError(f"malformed {event_type} event: {error}") from error
    return UnknownUserEvent(event_type=event_type, raw=as_bytes(raw))
