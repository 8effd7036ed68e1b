"""Enums of orders, order lists, symbols and events (spec: enums.md, user-data-stream.md).

Every enum is an ``OpenEnum``: a value Binance adds later decodes instead of failing.
``RateLimitType`` and ``RateLimitInterval`` live in ``_common``.
"""

from __future__ import annotations

from trio_binance.models._base import OpenEnum


class SymbolStatus(OpenEnum):
    """enums.md, "Symbol status"."""

    TRADING = "TRADING"
    END_OF_DAY = "END_OF_DAY"
    HALT = "HALT"
    BREAK = "BREAK"
    CANCEL_ONLY = "CANCEL_ONLY"


class Permission(OpenEnum):
    """enums.md, "Account and Symbol Permissions"."""

    SPOT = "SPOT"
    MARGIN = "MARGIN"
    LEVERAGED = "LEVERAGED"
    TRD_GRP_002 = "TRD_GRP_002"
    TRD_GRP_003 = "TRD_GRP_003"
    TRD_GRP_004 = "TRD_GRP_004"
    TRD_GRP_005 = "TRD_GRP_005"
    TRD_GRP_006 = "TRD_GRP_006"
    TRD_GRP_007 = "TRD_GRP_007"
    TRD_GRP_008 = "TRD_GRP_008"
    TRD_GRP_009 = "TRD_GRP_009"
    TRD_GRP_010 = "TRD_GRP_010"
    TRD_GRP_011 = "TRD_GRP_011"
    TRD_GRP_012 = "TRD_GRP_012"
    TRD_GRP_013 = "TRD_GRP_013"
    TRD_GRP_014 = "TRD_GRP_014"
    TRD_GRP_015 = "TRD_GRP_015"
    TRD_GRP_016 = "TRD_GRP_016"
    TRD_GRP_017 = "TRD_GRP_017"
    TRD_GRP_018 = "TRD_GRP_018"
    TRD_GRP_019 = "TRD_GRP_019"
    TRD_GRP_020 = "TRD_GRP_020"
    TRD_GRP_021 = "TRD_GRP_021"
    TRD_GRP_022 = "TRD_GRP_022"
    TRD_GRP_023 = "TRD_GRP_023"
    TRD_GRP_024 = "TRD_GRP_024"
    TRD_GRP_025 = "TRD_GRP_025"


class OrderStatus(OpenEnum):
    """enums.md, "Order status"."""

    NEW = "NEW"
    PENDING_NEW = "PENDING_NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    PENDING_CANCEL = "PENDING_CANCEL"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    EXPIRED_IN_MATCH = "EXPIRED_IN_MATCH"


class ListStatusType(OpenEnum):
    """enums.md, "Order List Status (listStatusType)"."""

    RESPONSE = "RESPONSE"
    EXEC_STARTED = "EXEC_STARTED"
    UPDATED = "UPDATED"
    ALL_DONE = "ALL_DONE"


# enums.md calls the listStatusType enum "Order List Status"; the alias keeps both names.
OrderListStatus = ListStatusType


class ListOrderStatus(OpenEnum):
    """enums.md, "Order List Order Status (listOrderStatus)"."""

    EXECUTING = "EXECUTING"
    ALL_DONE = "ALL_DONE"
    REJECT = "REJECT"


class ContingencyType(OpenEnum):
    """enums.md, "ContingencyType" (OPO lists report ``OTO``, see orderList.place.opo)."""

    OCO = "OCO"
    OTO = "OTO"


class AllocationType(OpenEnum):
    """enums.md, "AllocationType"."""

    SOR = "SOR"


class OrderType(OpenEnum):
    """enums.md, "Order types"."""

    LIMIT = "LIMIT"
    MARKET = "MARKET"
    STOP_LOSS = "STOP_LOSS"
    STOP_LOSS_LIMIT = "STOP_LOSS_LIMIT"
    TAKE_PROFIT = "TAKE_PROFIT"
    TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"
    LIMIT_MAKER = "LIMIT_MAKER"


class OrderResponseType(OpenEnum):
    """enums.md, "Order Response Type (newOrderRespType)"."""

    ACK = "ACK"
    RESULT = "RESULT"
    FULL = "FULL"


class WorkingFloor(OpenEnum):
    """enums.md, "Working Floor"."""

    EXCHANGE = "EXCHANGE"
    SOR = "SOR"


class Side(OpenEnum):
    """enums.md, "Order side"."""

    BUY = "BUY"
    SELL = "SELL"


class TimeInForce(OpenEnum):
    """enums.md, "Time in force"."""

    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class SelfTradePreventionMode(OpenEnum):
    """enums.md, "STP Modes"."""

    NONE = "NONE"
    EXPIRE_MAKER = "EXPIRE_MAKER"
    EXPIRE_TAKER = "EXPIRE_TAKER"
    EXPIRE_BOTH = "EXPIRE_BOTH"
    DECREMENT = "DECREMENT"
    TRANSFER = "TRANSFER"


class ExecutionType(OpenEnum):
    """enums.md, "Execution types"."""

    NEW = "NEW"
    CANCELED = "CANCELED"
    REPLACED = "REPLACED"
    REJECTED = "REJECTED"
    TRADE = "TRADE"
    EXPIRED = "EXPIRED"
    TRADE_PREVENTION = "TRADE_PREVENTION"


class ExecutionRule(OpenEnum):
    """enums.md, "Execution Rules"."""

    PRICE_RANGE = "PRICE_RANGE"


class ExpiryReason(OpenEnum):
    """enums.md, "Expiry Reasons"; user-data-stream.md, "Order Expiry Reason"."""

    NONE = "NONE"
    REJECTED = "REJECTED"
    EXCHANGE_CANCELED = "EXCHANGE_CANCELED"
    OCO_TRIGGER = "OCO_TRIGGER"
    OTO_PHASE_ONE_EXPIRED = "OTO_PHASE_ONE_EXPIRED"
    UNFILLED_IOC_QUANTITY_EXPIRED = "UNFILLED_IOC_QUANTITY_EXPIRED"
    UNFILLED_FOK_ORDER_EXPIRED = "UNFILLED_FOK_ORDER_EXPIRED"
    INSUFFICIENT_LIQUIDITY = "INSUFFICIENT_LIQUIDITY"
    EXECUTION_RULE_PRICE_RANGE_EXCEEDED = "EXECUTION_RULE_PRICE_RANGE_EXCEEDED"


class CancelRestrictions(OpenEnum):
    """web-socket-api.md, order.cancel parameter ``cancelRestrictions``."""

    ONLY_NEW = "ONLY_NEW"
    ONLY_PARTIALLY_FILLED = "ONLY_PARTIALLY_FILLED"


class OrderRateLimitExceededMode(OpenEnum):
    """web-socket-api.md, order.cancelReplace parameter ``orderRateLimitExceededMode``."""

    DO_NOTHING = "DO_NOTHING"
    CANCEL_ONLY = "CANCEL_ONLY"


class CancelReplaceMode(OpenEnum):
    """web-socket-api.md, order.cancelReplace parameter ``cancelReplaceMode``."""

    STOP_ON_FAILURE = "STOP_ON_FAILURE"
    ALLOW_FAILURE = "ALLOW_FAILURE"


class CancelReplaceResult(OpenEnum):
    """``cancelResult`` / ``newOrderResult`` of order.cancelReplace."""

    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    NOT_ATTEMPTED = "NOT_ATTEMPTED"


class PegPriceType(OpenEnum):
    """web-socket-api.md, "Pegged Orders"."""

    PRIMARY_PEG = "PRIMARY_PEG"
    MARKET_PEG = "MARKET_PEG"


class PegOffsetType(OpenEnum):
    """web-socket-api.md, "Pegged Orders": only ``PRICE_LEVEL`` is supported."""

    PRICE_LEVEL = "PRICE_LEVEL"


class KlineInterval(OpenEnum):
    """web-socket-api.md, "Supported kline intervals" (case-sensitive: ``1m`` vs ``1M``)."""

    SECOND_1 = "1s"
    MINUTE_1 = "1m"
    MINUTE_3 = "3m"
    MINUTE_5 = "5m"
    MINUTE_15 = "15m"
    MINUTE_30 = "30m"
    HOUR_1 = "1h"
    HOUR_2 = "2h"
    HOUR_4 = "4h"
    HOUR_6 = "6h"
    HOUR_8 = "8h"
    HOUR_12 = "12h"
    DAY_1 = "1d"
    DAY_3 = "3d"
    WEEK_1 = "1w"
    MONTH_1 = "1M"


class FilterType(OpenEnum):
    """filters.md: symbol, exchange and asset filters (``filterType``)."""

    PRICE_FILTER = "PRICE_FILTER"
    PERCENT_PRICE = "PERCENT_PRICE"
    PERCENT_PRICE_BY_SIDE = "PERCENT_PRICE_BY_SIDE"
    LOT_SIZE = "LOT_SIZE"
    MIN_NOTIONAL = "MIN_NOTIONAL"
    NOTIONAL = "NOTIONAL"
    ICEBERG_PARTS = "ICEBERG_PARTS"
    MARKET_LOT_SIZE = "MARKET_LOT_SIZE"
    MAX_NUM_ORDERS = "MAX_NUM_ORDERS"
    MAX_NUM_ALGO_ORDERS = "MAX_NUM_ALGO_ORDERS"
    MAX_NUM_ICEBERG_ORDERS = "MAX_NUM_ICEBERG_ORDERS"
    MAX_POSITION = "MAX_POSITION"
    TRAILING_DELTA = "TRAILING_DELTA"
    MAX_NUM_ORDER_AMENDS = "MAX_NUM_ORDER_AMENDS"
    MAX_NUM_ORDER_LISTS = "MAX_NUM_ORDER_LISTS"
    EXCHANGE_MAX_NUM_ORDERS = "EXCHANGE_MAX_NUM_ORDERS"
    EXCHANGE_MAX_NUM_ALGO_ORDERS = "EXCHANGE_MAX_NUM_ALGO_ORDERS"
    EXCHANGE_MAX_NUM_ICEBERG_ORDERS = "EXCHANGE_MAX_NUM_ICEBERG_ORDERS"
    EXCHANGE_MAX_NUM_ORDER_LISTS = "EXCHANGE_MAX_NUM_ORDER_LISTS"
    MAX_ASSET = "MAX_ASSET"


class ReferencePriceCalculationType(OpenEnum):
    """web-socket-api.md, referencePrice.calculation ``calculationType``."""

    ARITHMETIC_MEAN = "ARITHMETIC_MEAN"
    EXTERNAL = "EXTERNAL"
