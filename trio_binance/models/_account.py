"""Results of the account requests that are not order or order-list reports.

Spec: web-socket-api.md, "Account requests". Order queries return ``Order`` and order-list
queries ``OrderList`` (see ``_trading``); unfilled order counts are ``RateLimit`` entries.
"""

from __future__ import annotations

from decimal import Decimal

from trio_binance.models._base import Model
from trio_binance.models._enums import AllocationType, Permission, SelfTradePreventionMode
from trio_binance.models._general import Filter
from trio_binance.models._trading import CommissionDiscount, CommissionRates


class Balance(Model, frozen=True, kw_only=True):
    """One asset balance of ``account.status``."""

    asset: str
    free: Decimal
    locked: Decimal


class AccountInfo(Model, frozen=True, kw_only=True):
    """Result of ``account.status``.

    ``maker_commission`` & co. are the legacy integer rates in basis points; use
    ``commission_rates`` for the exact decimal rates. ``balances`` only lists non-zero
    balances when ``omitZeroBalances=true`` was sent.
    """

    maker_commission: int
    taker_commission: int
    buyer_commission: int
    seller_commission: int
    can_trade: bool
    can_withdraw: bool
    can_deposit: bool
    commission_rates: CommissionRates | None = None
    brokered: bool = False
    require_self_trade_prevention: bool = False
    prevent_sor: bool = False
    update_time: int
    account_type: str
    balances: tuple[Balance, ...] = ()
    permissions: tuple[Permission, ...] = ()
    uid: int | None = None


class AccountTrade(Model, frozen=True, kw_only=True):
    """One of the account's own trades (``myTrades``)."""

    symbol: str
    id: int
    order_id: int
    order_list_id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_buyer: bool
    is_maker: bool
    is_best_match: bool


class PreventedMatch(Model, frozen=True, kw_only=True):
    """One match prevented by self-trade prevention (``myPreventedMatches``)."""

    symbol: str
    prevented_match_id: int
    taker_order_id: int
    maker_symbol: str | None = None
    maker_order_id: int
    trade_group_id: int
    self_trade_prevention_mode: SelfTradePreventionMode
    price: Decimal
    maker_prevented_quantity: Decimal
    transact_time: int


class Allocation(Model, frozen=True, kw_only=True):
    """One allocation resulting from an SOR order (``myAllocations``)."""

    symbol: str
    allocation_id: int
    allocation_type: AllocationType
    order_id: int
    order_list_id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_buyer: bool
    is_maker: bool
    is_allocator: bool


class AccountCommission(Model, frozen=True, kw_only=True):
    """Result of ``account.commission``."""

    symbol: str
    standard_commission: CommissionRates
    special_commission: CommissionRates | None = None
    tax_commission: CommissionRates
    discount: CommissionDiscount


class OrderAmendment(Model, frozen=True, kw_only=True):
    """One amendment of an order (``order.amendments``)."""

    symbol: str
    order_id: int
    execution_id: int
    orig_client_order_id: str
    new_client_order_id: str
    orig_qty: Decimal
    new_qty: Decimal
    time: int


class AccountFilters(Model, frozen=True, kw_only=True):
    """Result of ``myFilters``: the only place ``MAX_ASSET`` asset filters show up."""

    exchange_filters: tuple[Filter, ...] = ()
    symbol_filters: tuple[Filter, ...] = ()
    asset_filters: tuple[Filter, ...] = ()
