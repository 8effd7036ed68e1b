"""Views of an account kept current from its user data events: orders and balances.

Both are pure: feed them events (``view.apply(event)``, any user data event; the ones a view
does not use are ignored), ask them questions. No I/O, no trio, ``Decimal`` throughout::

    orders, balances = OrderTracker(), BalancesView.from_account(await session.account_info())
    async with session.user_data() as events:
        async for event in events:
            orders.apply(event)
            balances.apply(event)

Spec: user-data-stream.md ("Order Update", "Account Update", "Balance Update").
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from decimal import Decimal
from typing import Final

import msgspec

from trio_binance.models import (
    AccountInfo,
    BalanceUpdate,
    ExecutionReport,
    ExecutionType,
    LastFill,
    OrderStatus,
    OrderType,
    OutboundAccountPosition,
    Side,
    UserDataEvent,
)

DEFAULT_MAX_FINISHED_ORDERS: Final = 10_000
_ZERO: Final = Decimal(0)


class TrackedOrder(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """One order as its ``executionReport`` events describe it so far (a snapshot)."""

    symbol: str
    order_id: int
    client_order_id: str
    """The order's own client id (a cancel's report carries it in ``"C"``)."""
    side: Side
    order_type: OrderType
    status: OrderStatus
    price: Decimal
    quantity: Decimal
    filled_quantity: Decimal
    """Cumulative filled quantity (``"z"``)."""
    filled_quote_quantity: Decimal
    """Cumulative quote quantity transacted (``"Z"``)."""
    fills: tuple[LastFill, ...]
    """Each trade, once, in the order reported."""
    last_report: ExecutionReport

    @property
    def is_final(self) -> bool:
        """True once the order can no longer change (filled, canceled, rejected, expired)."""
        return self.last_report.is_final

    @property
    def average_price(self) -> Decimal | None:
        """``Z / z``, as the spec suggests ("Order Update"); ``None`` before any fill."""
        return self.last_report.average_price

    @property
    def remaining_quantity(self) -> Decimal:
        return self.quantity - self.filled_quantity


class OrderTracker:
    """Orders kept current from ``executionReport`` events, found by client or exchange id.

    Orders are keyed by ``(symbol, orderId)`` (order ids are unique per symbol). A final
    order never changes again, so a replayed report for it is ignored; a trade is counted
    once even if its report comes twice. The newest ``max_finished`` final orders are kept,
    older ones forgotten; open orders are always kept.
    """

    def __init__(self, *, max_finished: int = DEFAULT_MAX_FINISHED_ORDERS) -> None:
        if max_finished < 0:
            raise ValueError("max_finished must not be negative")
        self.max_finished = max_finished
        self._orders: dict[tuple[str, int], TrackedOrder] = {}
        self._by_client_id: dict[str, tuple[str, int]] = {}
        self._finished: OrderedDict[tuple[str, int], None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._orders)

    def __iter__(self) -> Iterator[TrackedOrder]:
        return iter(list(self._orders.values()))

    def apply(self, event: UserDataEvent) -> TrackedOrder | None:
        """Take in one event; the order it updated, or ``None`` for other events."""
        if not isinstance(event, ExecutionReport):
            return None
        key = (event.symbol, event.order_id)
        current = self._orders.get(key)
        if current is not None and current.is_final:
            return current
        order = _updated(current, event)
        self._orders[key] = order
        self._by_client_id[order.client_order_id] = key
        if event.execution_type != ExecutionType.CANCELED:
            self._by_client_id[event.client_order_id] = key  # e.g. a new id after an amend
        if order.is_final:
            self._finish(key)
        return order

    def get(self, symbol: str, order_id: int) -> TrackedOrder | None:
        return self._orders.get((symbol, order_id))

    def by_client_order_id(self, client_order_id: str) -> TrackedOrder | None:
        key = self._by_client_id.get(client_order_id)
        return self._orders.get(key) if key is not None else None

    def open_orders(self, symbol: str | None = None) -> list[TrackedOrder]:
        """Orders not final yet, of one symbol or all, in the order first seen."""
        return [
            order
            for order in self._orders.values()
            if not order.is_final and (symbol is None or order.symbol == symbol)
        ]

    def _finish(self, key: tuple[str, int]) -> None:
        self._finished[key] = None
        while len(self._finished) > self.max_finished:
            old, _ = self._finished.popitem(last=False)
            forgotten = self._orders.pop(old)
            self._forget_client_ids(old, forgotten)

    def _forget_client_ids(self, key: tuple[str, int], order: TrackedOrder) -> None:
        for client_id in (order.client_order_id, order.last_report.client_order_id):
            if self._by_client_id.get(client_id) == key:
                del self._by_client_id[client_id]


def _updated(current: TrackedOrder | None, report: ExecutionReport) -> TrackedOrder:
    fills = current.fills if current is not None else ()
    fill = report.last_fill
    if fill is not None and all(known.trade_id != fill.trade_id for known in fills):
        fills = (*fills, fill)
    return TrackedOrder(
        symbol=report.symbol,
        order_id=report.order_id,
        client_order_id=_own_client_id(current, report),
        side=report.side,
        order_type=report.order_type,
        status=report.order_status,
        price=report.price,
        quantity=report.quantity,
        filled_quantity=report.cumulative_filled_quantity,
        filled_quote_quantity=report.cumulative_quote_quantity,
        fills=fills,
        last_report=report,
    )


def _own_client_id(current: TrackedOrder | None, report: ExecutionReport) -> str:
    # A cancel's report carries the cancel request's id in "c" and the order's own in "C"
    # ("Original client order ID; This is the ID of the order being canceled").
    if report.execution_type == ExecutionType.CANCELED:
        if report.original_client_order_id:
            return report.original_client_order_id
        if current is not None:
            return current.client_order_id
    return report.client_order_id


class AssetBalance(msgspec.Struct, frozen=True, gc=False):
    """One asset's balance."""

    asset: str
    free: Decimal
    locked: Decimal

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


class BalancesView:
    """Free and locked balances per asset, kept current from the account's events.

    ``outboundAccountPosition`` is authoritative: it is sent whenever a balance changes
    ("Account Update") and carries absolute values, applied unless older (``"u"``) than
    what the view has. ``balanceUpdate`` (deposits, withdrawals, transfers) moves ``free`` by
    its delta at once, unless a position at least as recent as its clear time (``"T"``)
    already counted it. ``externalLockUpdate`` is left to the position that follows it.
    """

    def __init__(self) -> None:
        self._balances: dict[str, AssetBalance] = {}
        self._as_of: dict[str, int] = {}

    @classmethod
    def from_account(cls, account: AccountInfo) -> BalancesView:
        """Start from an ``account.status`` result (``session.account_info()``)."""
        view = cls()
        for balance in account.balances:
            view._set(balance.asset, balance.free, balance.locked, account.update_time)
        return view

    def __len__(self) -> int:
        return len(self._balances)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._balances))

    def __contains__(self, asset: object) -> bool:
        return asset in self._balances

    def __getitem__(self, asset: str) -> AssetBalance:
        """The balance of ``asset``; zero for an asset not seen yet."""
        return self._balances.get(asset) or AssetBalance(asset, _ZERO, _ZERO)

    def snapshot(self) -> dict[str, AssetBalance]:
        return dict(self._balances)

    def apply(self, event: UserDataEvent) -> bool:
        """Take in one event; whether any balance changed."""
        if isinstance(event, OutboundAccountPosition):
            return self._apply_position(event)
        if isinstance(event, BalanceUpdate):
            return self._apply_delta(event)
        return False

    def _apply_position(self, event: OutboundAccountPosition) -> bool:
        changed = False
        for balance in event.balances:
            if event.last_update_time < self._as_of.get(balance.asset, -1):
                continue  # older than what is known
            changed |= self._set(
                balance.asset, balance.free, balance.locked, event.last_update_time
            )
        return changed

    def _apply_delta(self, event: BalanceUpdate) -> bool:
        if event.clear_time <= self._as_of.get(event.asset, -1):
            return False  # a position at least this recent already includes it
        if not event.delta:
            return False
        current = self[event.asset]
        self._balances[event.asset] = AssetBalance(
            event.asset, current.free + event.delta, current.locked
        )
        return True

    def _set(self, asset: str, free: Decimal, locked: Decimal, as_of: int) -> bool:
        self._as_of[asset] = as_of
        new = AssetBalance(asset, free, locked)
        if self._balances.get(asset) == new:
            return False
        self._balances[asset] = new
        return True


__all__ = [
    "DEFAULT_MAX_FINISHED_ORDERS",
    "AssetBalance",
    "BalancesView",
    "OrderTracker",
    "TrackedOrder",
]
