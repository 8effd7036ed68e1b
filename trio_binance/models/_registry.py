"""The result type of every WebSocket API method, for ``msgspec.json.decode(type=...)``.

Spec: web-socket-api.md, every documented method including the deprecated
``orderList.place``. The listen-key methods (``userDataStream.start/ping/stop``) were retired
on 2026-02-20 (CHANGELOG.md, 2026-01-21) and are not documented any more, so they are absent.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any

from trio_binance.models._account import (
    AccountCommission,
    AccountFilters,
    AccountInfo,
    AccountTrade,
    Allocation,
    OrderAmendment,
    PreventedMatch,
)
from trio_binance.models._common import RateLimit
from trio_binance.models._general import Empty, ExchangeInfo, ExecutionRules, ServerTime
from trio_binance.models._market import (
    AggregateTrade,
    AveragePrice,
    BookTicker,
    Kline,
    OrderBook,
    PriceTicker,
    ReferencePrice,
    ReferencePriceCalculation,
    RollingWindowTicker,
    Ticker24hr,
    Trade,
)
from trio_binance.models._session import SessionStatus, Subscription
from trio_binance.models._trading import (
    AmendResult,
    CancelReplaceResponse,
    Order,
    OrderList,
    OrderListResult,
    OrderReport,
    OrderResult,
    TestOrderResult,
)

_GENERAL: dict[str, Any] = {
    "ping": Empty,
    "time": ServerTime,
    "exchangeInfo": ExchangeInfo,
    "executionRules": ExecutionRules,
}

# ticker.*: one object for `symbol`, a list for `symbols` or for all symbols.
_MARKET: dict[str, Any] = {
    "depth": OrderBook,
    "trades.recent": list[Trade],
    "trades.historical": list[Trade],
    "blockTrades.historical": list[Trade],
    "trades.aggregate": list[AggregateTrade],
    "klines": list[Kline],
    "uiKlines": list[Kline],
    "avgPrice": AveragePrice,
    "ticker.24hr": Ticker24hr | list[Ticker24hr],
    "ticker.tradingDay": RollingWindowTicker | list[RollingWindowTicker],
    "ticker": RollingWindowTicker | list[RollingWindowTicker],
    "ticker.price": PriceTicker | list[PriceTicker],
    "ticker.book": BookTicker | list[BookTicker],
    "referencePrice": ReferencePrice,
    "referencePrice.calculation": ReferencePriceCalculation,
}

_SESSION: dict[str, Any] = {
    "session.logon": SessionStatus,
    "session.status": SessionStatus,
    "session.logout": SessionStatus,
    "userDataStream.subscribe": Subscription,
    "userDataStream.subscribe.signature": Subscription,
    "userDataStream.unsubscribe": Empty,
    "session.subscriptions": list[Subscription],
}

_TRADING: dict[str, Any] = {
    "order.place": OrderResult,
    "order.test": TestOrderResult,
    "order.cancel": OrderReport,
    "order.cancelReplace": CancelReplaceResponse,
    "order.amend.keepPriority": AmendResult,
    "openOrders.cancelAll": list[OrderReport],
    "orderList.place": OrderListResult,
    "orderList.place.oco": OrderListResult,
    "orderList.place.oto": OrderListResult,
    "orderList.place.otoco": OrderListResult,
    "orderList.place.opo": OrderListResult,
    "orderList.place.opoco": OrderListResult,
    "orderList.cancel": OrderListResult,
    "sor.order.place": list[OrderResult],
    "sor.order.test": TestOrderResult,
}

_ACCOUNT: dict[str, Any] = {
    "account.status": AccountInfo,
    "order.status": Order,
    "openOrders.status": list[Order],
    "allOrders": list[Order],
    "orderList.status": OrderList,
    "openOrderLists.status": list[OrderList],
    "allOrderLists": list[OrderList],
    "myTrades": list[AccountTrade],
    "account.rateLimits.orders": list[RateLimit],
    "myPreventedMatches": list[PreventedMatch],
    "myAllocations": list[Allocation],
    "account.commission": AccountCommission,
    "order.amendments": list[OrderAmendment],
    "myFilters": AccountFilters,
}

METHOD_RESULTS: Mapping[str, Any] = types.MappingProxyType(
    {**_GENERAL, **_MARKET, **_SESSION, **_TRADING, **_ACCOUNT}
)
"""Method name -> the type its ``result`` decodes to (a model, ``list[...]`` or a union)."""
