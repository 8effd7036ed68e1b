"""Orders and order lists as the trading and query requests return them.

Spec: web-socket-api.md, "Trading requests", "Account requests" (order queries) and
"Conditional fields in Order Responses": many fields appear only for some order types or
parameters, so they default to ``None``. Binance spells ``cummulativeQuoteQty`` with a double
"m"; the attribute is ``cumulative_quote_qty``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

import msgspec

from trio_binance.models._base import Model
from trio_binance.models._enums import (
    CancelReplaceResult,
    ContingencyType,
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

_M = TypeVar("_M", bound=Model)


class Fill(Model, frozen=True, kw_only=True):
    """One trade that filled an order at once (``fills`` of a FULL response).

    ``match_type`` and ``alloc_id`` appear for SOR orders (``sor.order.place``).
    """

    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    trade_id: int
    match_type: str | None = None
    alloc_id: int | None = None


class OrderDetails(Model, frozen=True, kw_only=True, repr_omit_defaults=True):
    """Fields shared by every order report; all optional because which ones appear depends on
    ``newOrderRespType``, the order type and its parameters ("Conditional fields")."""

    orig_client_order_id: str | None = None
    price: Decimal | None = None
    orig_qty: Decimal | None = None
    executed_qty: Decimal | None = None
    orig_quote_order_qty: Decimal | None = None
    cumulative_quote_qty: Decimal | None = msgspec.field(default=None, name="cummulativeQuoteQty")
    status: OrderStatus | None = None
    time_in_force: TimeInForce | None = None
    type: OrderType | None = None
    side: Side | None = None
    stop_price: Decimal | None = None
    iceberg_qty: Decimal | None = None
    working_time: int | None = None
    self_trade_prevention_mode: SelfTradePreventionMode | None = None
    trailing_delta: int | None = None
    trailing_time: int | None = None
    strategy_id: int | None = None
    strategy_type: int | None = None
    prevented_match_id: int | None = None
    prevented_quantity: Decimal | None = None
    used_sor: bool | None = None
    working_floor: WorkingFloor | None = None
    peg_price_type: PegPriceType | None = None
    peg_offset_type: PegOffsetType | None = None
    peg_offset_value: int | None = None
    pegged_price: Decimal | None = None
    expiry_reason: ExpiryReason | None = None
    fills: tuple[Fill, ...] = ()


class OrderResult(OrderDetails, frozen=True, kw_only=True):
    """An order as placed or cancelled: ``order.place``, ``sor.order.place`` (a list), and the
    ``orderReports`` of order lists. With ``newOrderRespType=ACK`` only the fields below are
    set; ``RESULT`` adds the order details, ``FULL`` adds ``fills``."""

    symbol: str
    order_id: int
    order_list_id: int  # -1 for an order outside a list
    client_order_id: str
    transact_time: int


class Order(OrderDetails, frozen=True, kw_only=True):
    """An order as queried: ``order.status``, ``openOrders.status``, ``allOrders``."""

    symbol: str
    order_id: int
    order_list_id: int
    client_order_id: str
    time: int
    update_time: int
    is_working: bool


class OrderListOrder(Model, frozen=True, kw_only=True):
    """One member of an order list's ``orders``."""

    symbol: str
    order_id: int
    client_order_id: str


class OrderListSummary(Model, frozen=True, kw_only=True):
    """The order-list fields every report has; ``listStatus`` of ``order.amend.keepPriority``."""

    order_list_id: int
    contingency_type: ContingencyType
    list_order_status: ListOrderStatus
    list_client_order_id: str
    symbol: str
    orders: tuple[OrderListOrder, ...] = ()


class OrderList(OrderListSummary, frozen=True, kw_only=True):
    """An order list as queried: ``orderList.status``, ``openOrderLists.status``,
    ``allOrderLists``."""

    list_status_type: ListStatusType
    transaction_time: int


class OrderListResult(OrderList, frozen=True, kw_only=True):
    """An order list as placed or cancelled: ``orderList.place*``, ``orderList.cancel``.

    ``order_reports`` follow ``newOrderRespType`` like ``OrderResult``.
    """

    order_reports: tuple[OrderResult, ...] = ()


class OrderReport(OrderDetails, frozen=True, kw_only=True):
    """A report whose shape is only known on arrival: ``order.cancel`` (one order, or the whole
    list when the order belonged to one), each entry of ``openOrders.cancelAll``, and both
    halves of ``order.cancelReplace``, which may also be an error ``{code, msg}``.

    msgspec cannot choose between untagged object types, so this struct holds the fields of
    all three shapes; ``is_error``/``is_order_list`` say which one arrived and
    ``as_order()``/``as_order_list()`` give the strictly typed model.
    """

    symbol: str | None = None
    order_id: int | None = None
    order_list_id: int | None = None
    client_order_id: str | None = None
    transact_time: int | None = None
    # Order-list shape
    contingency_type: ContingencyType | None = None
    list_status_type: ListStatusType | None = None
    list_order_status: ListOrderStatus | None = None
    list_client_order_id: str | None = None
    transaction_time: int | None = None
    orders: tuple[OrderListOrder, ...] = ()
    order_reports: tuple[OrderResult, ...] = ()
    # Error shape (order.cancelReplace halves)
    code: int | None = None
    msg: str | None = None

    @property
    def is_error(self) -> bool:
        return self.code is not None

    @property
    def is_order_list(self) -> bool:
        return self.contingency_type is not None

    def as_order(self) -> OrderResult:
        """This report as an ``OrderResult``; ``ValueError`` if it is not a single order."""
        if self.is_error or self.is_order_list:
            raise ValueError("this report is not a single order")
        return _retype(self, OrderResult)

    def as_order_list(self) -> OrderListResult:
        """This report as an ``OrderListResult``; ``ValueError`` if it is not an order list."""
        if not self.is_order_list:
            raise ValueError("this report is not an order list")
        return _retype(self, OrderListResult)


def _retype(report: OrderReport, model: type[_M]) -> _M:
    try:
        return msgspec.convert(msgspec.to_builtins(report), model)
    except msgspec.ValidationError as exc:
        raise ValueError(f"report does not fit {model.__name__}: {exc}") from exc


class CancelReplaceResponse(Model, frozen=True, kw_only=True):
    """Result of ``order.cancelReplace``; also the ``data`` of its 400/409 errors.

    Decode a ``PartialSuccess``'s data with ``msgspec.convert(error.data,
    CancelReplaceResponse)``: a failed half is an ``OrderReport`` whose ``is_error`` is true,
    a half never attempted is ``None``.
    """

    cancel_result: CancelReplaceResult
    new_order_result: CancelReplaceResult
    cancel_response: OrderReport | None = None
    new_order_response: OrderReport | None = None


class AmendedOrder(Model, frozen=True, kw_only=True):
    """``amendedOrder`` of ``order.amend.keepPriority``.

    This report spells its fields differently from other order reports (``qty``,
    ``quoteOrderQty``, ``cumulativeQuoteQty``, ``preventedQty``); they are kept as sent.
    """

    symbol: str
    order_id: int
    order_list_id: int
    orig_client_order_id: str
    client_order_id: str
    price: Decimal
    qty: Decimal
    executed_qty: Decimal
    prevented_qty: Decimal | None = None
    quote_order_qty: Decimal | None = None
    cumulative_quote_qty: Decimal | None = None
    status: OrderStatus
    time_in_force: TimeInForce
    type: OrderType
    side: Side
    working_time: int | None = None
    self_trade_prevention_mode: SelfTradePreventionMode | None = None
    stop_price: Decimal | None = None
    iceberg_qty: Decimal | None = None
    trailing_delta: int | None = None
    trailing_time: int | None = None
    strategy_id: int | None = None
    strategy_type: int | None = None
    peg_price_type: PegPriceType | None = None
    peg_offset_type: PegOffsetType | None = None
    peg_offset_value: int | None = None
    pegged_price: Decimal | None = None


class AmendResult(Model, frozen=True, kw_only=True):
    """Result of ``order.amend.keepPriority``; ``list_status`` only for orders in a list."""

    transact_time: int
    execution_id: int
    amended_order: AmendedOrder
    list_status: OrderListSummary | None = None


class CommissionRates(Model, frozen=True, kw_only=True):
    """Commission rates; ``buyer``/``seller`` appear in ``account.*`` results only."""

    maker: Decimal
    taker: Decimal
    buyer: Decimal | None = None
    seller: Decimal | None = None


class CommissionDiscount(Model, frozen=True, kw_only=True):
    """The BNB discount on standard commissions."""

    enabled_for_account: bool
    enabled_for_symbol: bool
    discount_asset: str
    discount: Decimal


class TestOrderResult(Model, frozen=True, kw_only=True):
    """Result of ``order.test`` and ``sor.order.test``: empty unless
    ``computeCommissionRates=true`` was sent (``sor.order.test`` has no special rates)."""

    __test__ = False  # not a pytest test class, whatever its name

    standard_commission_for_order: CommissionRates | None = None
    special_commission_for_order: CommissionRates | None = None
    tax_commission_for_order: CommissionRates | None = None
    discount: CommissionDiscount | None = None
