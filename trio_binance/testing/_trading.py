"""Trading and account methods of the local exchange: wire parameters in, documented results
and user-data events out.

One handler per WebSocket API method, each ``(account_id, params, now_ms) -> Outcome``. The
server authenticates and strips ``apiKey``/``signature``/``timestamp``/``recvWindow``/
``returnRateLimits`` first; a handler reads the rest as Binance does (unknown parameters
-1104, missing -1102, malformed -1100, misplaced -1106...), runs the engine, and renders the
result with the field names and order of web-socket-api.md and the events of
user-data-stream.md. Refusals raise :class:`~trio_binance.testing._engine.ExchangeError`.

Pure code: no I/O, no trio import; randomness (generated client order ids) is injected.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from trio_binance.testing._config import LotSize, SymbolConfig
from trio_binance.testing._engine import (
    CanceledList,
    CanceledOrder,
    Effects,
    Exchange,
    ExchangeError,
    ExecutionRecord,
    ListStatusRecord,
    ListView,
    MarketChanges,
    Order,
    OrderRequest,
    PlacedList,
    Status,
    TradeInfo,
    rejected,
)
from trio_binance.testing._filters import decimal_places, is_multiple

JsonDict = dict[str, Any]
_T = TypeVar("_T")

_DECIMAL = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
_DECIMAL_RANGE = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
_INTEGER = re.compile(r"^-?[0-9]{1,20}$")
_INTEGER_RANGE = r"^-?[0-9]{1,20}$"
_CLIENT_ID = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
_CLIENT_ID_RANGE = r"^[\.A-Z\:/a-z0-9_-]{1,36}$"
_SYMBOL = re.compile(r"^[A-Z0-9-_.]{1,20}$")
_SYMBOL_RANGE = r"^[A-Z0-9-_.]{1,20}$"
_ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_DAY_MS = 24 * 3600 * 1000
# errors.md -2026: canceled/expired, nothing executed, older than 90 days.
_ARCHIVE_AFTER_MS = 90 * _DAY_MS

ORDER_TYPES = (
    "LIMIT",
    "LIMIT_MAKER",
    "MARKET",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
)
STP_MODES = ("NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT", "TRANSFER")
RESPONSE_TYPES = ("ACK", "RESULT", "FULL")


@dataclass
class Outcome:
    """What one handled request produced.

    ``result`` is the response's ``result``; ``events`` the user-data events it caused, as
    ``(account_id, event)`` in the order Binance sends them; ``orders_placed`` what to add to
    the account's ORDERS (unfilled order count) limits; ``market`` the trades and book levels
    it changed, for market data streams.
    """

    result: Any
    events: list[tuple[str, JsonDict]] = field(default_factory=list)
    orders_placed: int = 0
    market: MarketChanges = field(default_factory=MarketChanges)


Handler = Callable[[str, Mapping[str, Any], int], Outcome]
_NO_MARKET_CHANGES = MarketChanges()


# --- reading wire parameters ---------------------------------------------------------------


def illegal(name: str, legal: str) -> ExchangeError:
    return ExchangeError(
        400, -1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'."
    )


def mandatory(name: str) -> ExchangeError:
    return ExchangeError(
        400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def either(first: str, second: str) -> ExchangeError:
    return ExchangeError(
        400, -1102, f"Param '{first}' or '{second}' must be sent, but both were empty/null!"
    )


def not_required(name: str) -> ExchangeError:
    return ExchangeError(400, -1106, f"Parameter '{name}' sent when not required.")


def invalid(name: str) -> ExchangeError:
    return ExchangeError(400, -1130, f"Data sent for parameter '{name}' is not valid.")


BAD_COMBINATION = ExchangeError(400, -1128, "Combination of optional parameters invalid.")


class Params:
    """One request's parameters, read the way Binance reads them.

    Unknown names are refused once reading is done (:meth:`finish`, -1104); ``None`` and
    ``""`` count as not sent.
    """

    def __init__(self, raw: Mapping[str, Any], allowed: Iterable[str]) -> None:
        self._raw = raw
        self._allowed = frozenset(allowed)

    def has(self, name: str) -> bool:
        value = self._raw.get(name)
        return value is not None and value != ""

    def has_any(self, names: Iterable[str]) -> bool:
        raw = self._raw
        for name in names:  # a loop, not any(genexpr): asked of every order
            value = raw.get(name)
            if value is not None and value != "":
                return True
        return False

    def finish(self) -> None:
        unread = [name for name in self._raw if name not in self._allowed]
        if unread:
            sent = len(self._raw)
            raise ExchangeError(
                400,
                -1104,
                f"Not all sent parameters were read; read '{sent - len(unread)}' parameter(s) "
                f"but was sent '{sent}'.",
            )

    def text(
        self, name: str, *, required: bool = False, pattern: re.Pattern[str] | None = None
    ) -> str | None:
        value = self._raw.get(name)
        if value is None or value == "":  # not sent (as has() says, without a second lookup)
            if required:
                raise mandatory(name)
            return None
        if not isinstance(value, str):
            if isinstance(value, bool) or not isinstance(value, int):
                raise mandatory(name)
            value = str(value)
        if pattern is not None and not pattern.match(value):
            legal = {
                _CLIENT_ID.pattern: _CLIENT_ID_RANGE,
                _SYMBOL.pattern: _SYMBOL_RANGE,
            }.get(pattern.pattern, pattern.pattern)
            raise illegal(name, legal)
        return value

    def required_text(self, name: str, pattern: re.Pattern[str] | None = None) -> str:
        value = self.text(name, required=True, pattern=pattern)
        assert value is not None
        return value

    def decimal(self, name: str, *, required: bool = False) -> Decimal | None:
        value = self._raw.get(name)
        if value is None or value == "":
            if required:
                raise mandatory(name)
            return None
        if isinstance(value, bool):
            raise illegal(name, _DECIMAL_RANGE)
        if isinstance(value, int | float):  # a JSON number: read its text as Binance does
            value = format(Decimal(repr(value)), "f")
        if not isinstance(value, str) or not _DECIMAL.match(value):
            raise illegal(name, _DECIMAL_RANGE)
        return Decimal(value)

    def integer(self, name: str, *, required: bool = False) -> int | None:
        value = self._raw.get(name)
        if value is None or value == "":
            if required:
                raise mandatory(name)
            return None
        if isinstance(value, bool):
            raise illegal(name, _INTEGER_RANGE)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and _INTEGER.match(value):
            return int(value)
        raise illegal(name, _INTEGER_RANGE)

    def boolean(self, name: str) -> bool | None:
        if not self.has(name):
            return None
        value = self._raw[name]
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise illegal(name, "true, false")

    def choice(
        self,
        name: str,
        values: Sequence[str],
        *,
        required: bool = False,
        error: ExchangeError | Callable[[], ExchangeError] | None = None,
    ) -> str | None:
        """One of ``values``; else ``error`` (or a function making it: hot paths make the
        error only when it is raised), by default -1100."""
        value = self.text(name, required=required)
        if value is not None and value not in values:
            if callable(error):
                raise error()
            raise error or illegal(name, ", ".join(values))
        return value

    def limit(self, default: int = 500, maximum: int = 1000) -> int:
        value = self.integer("limit")
        if value is None:
            return default
        if not 1 <= value <= maximum:
            raise invalid("limit")
        return value


@dataclass(frozen=True, slots=True)
class LegNames:
    """Where an order's fields are found among a request's parameters.

    ``order.place`` uses the plain names; order-list legs prefix them (``abovePrice``,
    ``workingQuantity``...). ``None`` means the request has no such parameter.
    """

    type: str | None
    side: str
    quantity: str
    price: str
    stop_price: str | None
    trailing_delta: str | None
    time_in_force: str | None
    iceberg_qty: str
    client_order_id: str
    strategy_id: str
    strategy_type: str
    peg: tuple[str, ...]
    quote_order_qty: str | None = None
    renamed: tuple[tuple[str, str], ...] = field(init=False, repr=False, compare=False)
    """:meth:`renames`, made once: every order read carries it."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "renamed", self.renames())

    def all(self) -> list[str]:
        names = [
            self.type,
            self.side,
            self.quantity,
            self.price,
            self.stop_price,
            self.trailing_delta,
            self.time_in_force,
            self.iceberg_qty,
            self.client_order_id,
            self.strategy_id,
            self.strategy_type,
            self.quote_order_qty,
            *self.peg,
        ]
        return [name for name in names if name is not None]

    def renames(self) -> tuple[tuple[str, str], ...]:
        """Engine field -> parameter name, for -1111 messages."""
        pairs = (
            ("quantity", self.quantity),
            ("price", self.price),
            ("stopPrice", self.stop_price),
            ("icebergQty", self.iceberg_qty),
        )
        return tuple((generic, name) for generic, name in pairs if name is not None)


def _prefixed(prefix: str, *, side: str, quantity: str) -> LegNames:
    def name(suffix: str) -> str:
        return prefix + suffix

    return LegNames(
        type=name("Type"),
        side=side,
        quantity=quantity,
        price=name("Price"),
        stop_price=name("StopPrice"),
        trailing_delta=name("TrailingDelta"),
        time_in_force=name("TimeInForce"),
        iceberg_qty=name("IcebergQty"),
        client_order_id=name("ClientOrderId"),
        strategy_id=name("StrategyId"),
        strategy_type=name("StrategyType"),
        peg=(name("PegPriceType"), name("PegOffsetType"), name("PegOffsetValue")),
    )


PLAIN = LegNames(
    type="type",
    side="side",
    quantity="quantity",
    price="price",
    stop_price="stopPrice",
    trailing_delta="trailingDelta",
    time_in_force="timeInForce",
    iceberg_qty="icebergQty",
    client_order_id="newClientOrderId",
    strategy_id="strategyId",
    strategy_type="strategyType",
    peg=("pegPriceType", "pegOffsetType", "pegOffsetValue"),
    quote_order_qty="quoteOrderQty",
)
ABOVE = _prefixed("above", side="side", quantity="quantity")
BELOW = _prefixed("below", side="side", quantity="quantity")
WORKING = _prefixed("working", side="workingSide", quantity="workingQuantity")
PENDING = _prefixed("pending", side="pendingSide", quantity="pendingQuantity")
PENDING_ABOVE = _prefixed("pendingAbove", side="pendingSide", quantity="pendingQuantity")
PENDING_BELOW = _prefixed("pendingBelow", side="pendingSide", quantity="pendingQuantity")
# The deprecated orderList.place names its legs "limit" and "stop".
LIMIT_LEG = LegNames(
    type=None,
    side="side",
    quantity="quantity",
    price="price",
    stop_price=None,
    trailing_delta=None,
    time_in_force=None,
    iceberg_qty="limitIcebergQty",
    client_order_id="limitClientOrderId",
    strategy_id="limitStrategyId",
    strategy_type="limitStrategyType",
    peg=(),
)
STOP_LEG = LegNames(
    type=None,
    side="side",
    quantity="quantity",
    price="stopLimitPrice",
    stop_price="stopPrice",
    trailing_delta="trailingDelta",
    time_in_force="stopLimitTimeInForce",
    iceberg_qty="stopIcebergQty",
    client_order_id="stopClientOrderId",
    strategy_id="stopStrategyId",
    strategy_type="stopStrategyType",
    peg=(),
)

# What each order type needs (web-socket-api.md order.place, "mandatory parameters based on
# type"), and which optional order fields it accepts at all.
_NEEDS: Mapping[str, tuple[str, ...]] = {
    "LIMIT": ("timeInForce", "price", "quantity"),
    "LIMIT_MAKER": ("price", "quantity"),
    "MARKET": (),
    "STOP_LOSS": ("quantity", "stop"),
    "STOP_LOSS_LIMIT": ("timeInForce", "price", "quantity", "stop"),
    "TAKE_PROFIT": ("quantity", "stop"),
    "TAKE_PROFIT_LIMIT": ("timeInForce", "price", "quantity", "stop"),
}
_NEED_FIELDS = {"timeInForce": "time_in_force", "price": "price", "quantity": "quantity"}
_ICEBERG_TYPES = frozenset({"LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"})
_STRATEGY_TYPE_MIN = 1_000_000


# --- rendering -----------------------------------------------------------------------------


_FIXED_CACHE_SIZE = 10_000
# Text already made, per number of places. An order's reports write the same few prices and
# quantities ~30 times; a dict lookup costs a fraction of quantize + format. Equal Decimals
# (30000, 3E+4) share an entry, which is right: they quantize to the same text.
_fixed_texts: dict[int, dict[Decimal | None, str]] = {}


def _texts_at(places: int) -> dict[Decimal | None, str]:
    texts = _fixed_texts.get(places)
    if texts is None:
        texts = _fixed_texts[places] = {}
    return texts


def fixed(value: Decimal | None, places: int) -> str:
    """Binance's decimal text: fixed ``places`` decimals (a missing value is zero)."""
    texts = _texts_at(places)
    text = texts.get(value)
    if text is None:
        if len(texts) >= _FIXED_CACHE_SIZE:  # bounded: a long session meets many values
            texts.clear()
        text = texts[value] = _fixed_text(value, places)
    return text


def _fixed_text(value: Decimal | None, places: int) -> str:
    """:func:`fixed` without remembering: for values that rarely repeat (balances)."""
    return format((value or Decimal(0)).quantize(_quantum(places)), "f")


@functools.cache
def _quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


@dataclass(frozen=True, slots=True)
class Formats:
    """How one symbol writes prices, quantities and amounts."""

    config: SymbolConfig
    # fixed()'s remembered texts at this symbol's precisions, looked up directly: an
    # execution report writes ~14 values, and this saves a call on each.
    _prices: dict[Decimal | None, str] = field(init=False, repr=False, compare=False)
    _qtys: dict[Decimal | None, str] = field(init=False, repr=False, compare=False)
    _quotes: dict[Decimal | None, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_prices", _texts_at(self.config.quote_precision))
        object.__setattr__(self, "_qtys", _texts_at(self.config.base_asset_precision))
        object.__setattr__(self, "_quotes", _texts_at(self.config.quote_asset_precision))

    def price(self, value: Decimal | None) -> str:
        text = self._prices.get(value)
        return fixed(value, self.config.quote_precision) if text is None else text

    def qty(self, value: Decimal | None) -> str:
        text = self._qtys.get(value)
        return fixed(value, self.config.base_asset_precision) if text is None else text

    def quote(self, value: Decimal | None) -> str:
        text = self._quotes.get(value)
        return fixed(value, self.config.quote_asset_precision) if text is None else text

    def commission(self, value: Decimal, asset: str) -> str:
        config = self.config
        places = (
            config.base_commission_precision
            if asset == config.base_asset
            else config.quote_commission_precision
        )
        return fixed(value, places)


def _conditional_fields(order: Order, fmt: Formats, *, prevention: bool = True) -> JsonDict:
    """Fields present only when the order uses them (web-socket-api.md, "Conditional fields
    in Order Responses"), in their documented order."""
    fields: JsonDict = {}
    if order.stop_price is not None:
        fields["stopPrice"] = fmt.price(order.stop_price)
    if order.iceberg_qty is not None:
        fields["icebergQty"] = fmt.qty(order.iceberg_qty)
    if prevention and order.prevented_match_id is not None:
        fields["preventedMatchId"] = order.prevented_match_id
        fields["preventedQuantity"] = fmt.qty(order.prevented_qty)
    if order.strategy_id is not None:
        fields["strategyId"] = order.strategy_id
    if order.strategy_type is not None:
        fields["strategyType"] = order.strategy_type
    return fields


def _order_core(order: Order, fmt: Formats) -> JsonDict:
    return {
        "price": fmt.price(order.price),
        "origQty": fmt.qty(order.orig_qty),
        "executedQty": fmt.qty(order.executed_qty),
        "origQuoteOrderQty": fmt.quote(order.quote_order_qty),
        "cummulativeQuoteQty": fmt.quote(order.cumm_quote_qty),
        "status": order.status,
        "timeInForce": order.time_in_force,
        "type": order.type,
        "side": order.side,
    }


def _expiry(order: Order) -> JsonDict:
    if order.status == Status.EXPIRED and order.expiry_reason:
        return {"expiryReason": order.expiry_reason}
    return {}


def order_ack(order: Order, transact_time: int) -> JsonDict:
    return {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": order.order_list_id,
        "clientOrderId": order.client_order_id,
        "transactTime": transact_time,
    }


def order_result(order: Order, fmt: Formats, transact_time: int) -> JsonDict:
    return {
        **order_ack(order, transact_time),
        **_order_core(order, fmt),
        **_conditional_fields(order, fmt),
        "workingTime": order.working_time,
        "selfTradePreventionMode": order.stp_mode,
        **_expiry(order),
    }


def fill_json(fill: TradeInfo, fmt: Formats) -> JsonDict:
    return {
        "price": fmt.price(fill.price),
        "qty": fmt.qty(fill.qty),
        "commission": fmt.commission(fill.commission, fill.commission_asset),
        "commissionAsset": fill.commission_asset,
        "tradeId": fill.trade_id,
    }


def placement_json(
    order: Order, fmt: Formats, response_type: str, transact_time: int, fills: list[TradeInfo]
) -> JsonDict:
    """order.place's result in the ``newOrderRespType`` format."""
    if response_type == "ACK":
        return order_ack(order, transact_time)
    body = order_result(order, fmt, transact_time)
    if response_type == "FULL":
        body["fills"] = [fill_json(fill, fmt) for fill in fills]
    return body


def cancel_json(canceled: CanceledOrder, fmt: Formats, transact_time: int) -> JsonDict:
    order = canceled.order
    return {
        "symbol": order.symbol,
        "origClientOrderId": canceled.orig_client_order_id,
        "orderId": order.order_id,
        "orderListId": order.order_list_id,
        "clientOrderId": order.client_order_id,
        "transactTime": transact_time,
        **_order_core(order, fmt),
        **_conditional_fields(order, fmt, prevention=False),
        "selfTradePreventionMode": order.stp_mode,
    }


def list_status_json(view: ListView) -> JsonDict:
    return {
        "orderListId": view.order_list_id,
        "contingencyType": view.contingency_type,
        "listStatusType": view.list_status_type,
        "listOrderStatus": view.list_order_status,
        "listClientOrderId": view.list_client_order_id,
        "transactionTime": view.transaction_time,
        "symbol": view.symbol,
        "orders": [
            {"symbol": symbol, "orderId": order_id, "clientOrderId": client_order_id}
            for symbol, order_id, client_order_id in view.orders
        ],
    }


def canceled_list_json(
    canceled: CanceledList, fmt: Formats, transact_time: int, *, with_orig_ids: bool
) -> JsonDict:
    """A canceled order list; order.cancel reports legs with their previous client ids,
    orderList.cancel without them (as each method's documented example shows)."""
    reports = []
    for leg in canceled.reports:
        report = cancel_json(leg, fmt, transact_time)
        if not with_orig_ids:
            del report["origClientOrderId"]
        reports.append(report)
    return {**list_status_json(canceled.view), "orderReports": reports}


def order_status_json(order: Order, fmt: Formats) -> JsonDict:
    """order.status / openOrders.status / allOrders entry."""
    body: JsonDict = {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": order.order_list_id,
        "clientOrderId": order.client_order_id,
        "price": fmt.price(order.price),
        "origQty": fmt.qty(order.orig_qty),
        "executedQty": fmt.qty(order.executed_qty),
        "cummulativeQuoteQty": fmt.quote(order.cumm_quote_qty),
        "status": order.status,
        "timeInForce": order.time_in_force,
        "type": order.type,
        "side": order.side,
        "stopPrice": fmt.price(order.stop_price),
        "icebergQty": fmt.qty(order.iceberg_qty),
        "time": order.time,
        "updateTime": order.update_time,
        "isWorking": order.is_working,
        "workingTime": order.working_time,
        "origQuoteOrderQty": fmt.quote(order.quote_order_qty),
    }
    if order.strategy_id is not None:
        body["strategyId"] = order.strategy_id
    if order.strategy_type is not None:
        body["strategyType"] = order.strategy_type
    body["selfTradePreventionMode"] = order.stp_mode
    if order.prevented_match_id is not None:
        body["preventedMatchId"] = order.prevented_match_id
        body["preventedQuantity"] = fmt.qty(order.prevented_qty)
    body.update(_expiry(order))
    return body


def execution_report(record: ExecutionRecord, fmt: Formats) -> JsonDict:
    """user-data-stream.md "Order Update", with its conditional fields."""
    order, trade, prevention = record.order, record.trade, record.prevention
    event: JsonDict = {
        "e": "executionReport",
        "E": record.time,
        "s": order.symbol,
        "c": order.client_order_id,
        "S": order.side,
        "o": order.type,
        "f": order.time_in_force,
        "q": fmt.qty(order.orig_qty),
        "p": fmt.price(order.price),
        "P": fmt.price(order.stop_price),
        "F": fmt.qty(order.iceberg_qty),
        "g": order.order_list_id,
        "C": record.orig_client_order_id,
        "x": record.execution_type,
        "X": order.status,
        "r": "NONE",
        "i": order.order_id,
        "l": fmt.qty(trade.qty if trade else None),
        "z": fmt.qty(order.executed_qty),
        "L": fmt.price(trade.price if trade else None),
        "n": fmt.commission(trade.commission, trade.commission_asset) if trade else "0",
        "N": trade.commission_asset if trade else None,
        "T": record.time,
        "t": trade.trade_id if trade else -1,
    }
    if prevention is not None:
        event["v"] = prevention.prevented_match_id
    event |= {
        "I": record.execution_id,
        "w": order.on_book or (order.is_working and order.is_open and not order.is_market),
        "m": trade.is_maker if trade else False,
        "M": False,
        "O": order.time,
        "Z": fmt.quote(order.cumm_quote_qty),
        "Y": fmt.quote(trade.quote_qty if trade else None),
        "Q": fmt.quote(order.quote_order_qty),
    }
    if order.is_working:
        event["W"] = order.working_time
    event["V"] = order.stp_mode
    if order.strategy_id is not None:
        event["j"] = order.strategy_id
    if order.strategy_type is not None:
        event["J"] = order.strategy_type
    if prevention is not None:
        # CHANGELOG 2023-12-04: l/L/Y are 0 on TRADE_PREVENTION; pl/pL/pY say what the
        # prevented execution would have been.
        event |= {
            "A": fmt.qty(order.prevented_qty),
            "B": fmt.qty(prevention.last_prevented_qty),
            "u": -1,
            "U": prevention.counter_order_id,
            "Cs": prevention.counter_symbol,
            "pl": fmt.qty(prevention.qty),
            "pL": fmt.price(prevention.price),
            "pY": fmt.quote(prevention.qty * prevention.price),
        }
    if order.status == Status.EXPIRED and order.expiry_reason:
        event["eR"] = order.expiry_reason
    return event


def list_status_event(record: ListStatusRecord) -> JsonDict:
    view = record.view
    return {
        "e": "listStatus",
        "E": record.time,
        "s": view.symbol,
        "g": view.order_list_id,
        "c": view.contingency_type,
        "l": view.list_status_type,
        "L": view.list_order_status,
        "r": "NONE",
        "C": view.list_client_order_id,
        "T": record.time,
        "O": [{"s": s, "i": i, "c": c} for s, i, c in view.orders],
    }


def _balance_text(value: Decimal) -> str:
    # Not remembered: balances change with every trade, they would only crowd the cache.
    return _fixed_text(value, 8)


# --- the facade ----------------------------------------------------------------------------


class TradingService:
    """The trading and account methods of one local exchange.

    ``handler(method)`` gives the handler for a WebSocket API method name;
    ``account_rate_limits_orders`` (which needs the rate limiter's figures) and
    ``cancel_replace`` (which can be told the unfilled order count is exhausted) take extra
    arguments and are called directly.
    """

    def __init__(self, exchange: Exchange, rng: random.Random) -> None:
        self.exchange = exchange
        self._rng = rng
        self._formats_by_symbol: dict[str, Formats] = {}
        self.user_events = True
        """Whether outcomes carry their user-data events. The server turns this off for a
        request whose events nobody would receive: rendering them is ~10% of an order."""
        self.market_changes = True
        """Whether outcomes carry their :class:`MarketChanges` (the server turns this off
        while nothing it runs reads them: ~4% of an order)."""
        self._handlers: Mapping[str, Handler] = {
            "order.place": self.order_place,
            "order.test": self.order_test,
            "order.status": self.order_status,
            "order.cancel": self.order_cancel,
            "order.cancelReplace": self.cancel_replace,
            "order.amend.keepPriority": self.order_amend_keep_priority,
            "order.amendments": self.order_amendments,
            "openOrders.status": self.open_orders_status,
            "openOrders.cancelAll": self.open_orders_cancel_all,
            "allOrders": self.all_orders,
            "myTrades": self.my_trades,
            "orderList.place": self.order_list_place,
            "orderList.place.oco": self.order_list_place_oco,
            "orderList.place.oto": self.order_list_place_oto,
            "orderList.place.otoco": self.order_list_place_otoco,
            "orderList.cancel": self.order_list_cancel,
            "orderList.status": self.order_list_status,
            "openOrderLists.status": self.open_order_lists_status,
            "allOrderLists": self.all_order_lists,
            "account.status": self.account_status,
            "account.commission": self.account_commission,
            "myPreventedMatches": self.my_prevented_matches,
            "myFilters": self.my_filters,
        }

    def methods(self) -> list[str]:
        return [*self._handlers, "account.rateLimits.orders"]

    def handler(self, method: str) -> Handler | None:
        return self._handlers.get(method)

    # --- shared helpers ---

    def new_client_id(self) -> str:
        return "".join(self._rng.choices(_ALPHANUMERIC, k=22))

    def _formats(self, symbol: str) -> Formats:
        config = self.exchange.symbol(symbol).config
        fmt = self._formats_by_symbol.get(symbol)
        if fmt is None or fmt.config is not config:  # made once per symbol (several per order)
            fmt = self._formats_by_symbol[symbol] = Formats(config)
        return fmt

    def _effects(self, now_ms: int) -> Effects:
        # Reports are only recorded to be rendered as user-data events.
        return Effects(now_ms, keep_reports=self.user_events)

    def _outcome(self, result: Any, fx: Effects, orders_placed: int = 0) -> Outcome:
        events = self._events(fx) if self.user_events else []
        return Outcome(result, events, orders_placed, self._market(fx))

    def _attach(self, error: ExchangeError, fx: Effects, orders_placed: int) -> ExchangeError:
        """What a refused request still did, on its error."""
        error.events = self._events(fx) if self.user_events else []
        error.orders_placed = orders_placed
        error.market = self._market(fx)
        return error

    def _market(self, fx: Effects) -> MarketChanges:
        return self.exchange.market_changes(fx) if self.market_changes else _NO_MARKET_CHANGES

    def _events(self, fx: Effects) -> list[tuple[str, JsonDict]]:
        events: list[tuple[str, JsonDict]] = []
        for delta in fx.balance_deltas:
            event = {
                "e": "balanceUpdate",
                "E": fx.now,
                "a": delta.asset,
                "d": _balance_text(delta.delta),
                "T": delta.time,
            }
            events.append((delta.account_id, event))
        for record in fx.records:
            if isinstance(record, ExecutionRecord):
                fmt = self._formats(record.order.symbol)
                events.append((record.account_id, execution_report(record, fmt)))
            else:
                events.append((record.account_id, list_status_event(record)))
        for account_id, assets in fx.touched_assets.items():
            events.append((account_id, self._account_position(account_id, assets, fx.now)))
        return events

    def _account_position(self, account_id: str, assets: Iterable[str], now: int) -> JsonDict:
        account = self.exchange.account(account_id)
        balances = []
        for asset in assets:
            balance = account.balance(asset)
            free, locked = _balance_text(balance.free), _balance_text(balance.locked)
            balances.append({"a": asset, "f": free, "l": locked})
        return {"e": "outboundAccountPosition", "E": now, "u": account.update_time, "B": balances}

    def _symbol(self, p: Params, *, required: bool = True) -> str | None:
        symbol = p.text("symbol", required=required, pattern=_SYMBOL)
        if symbol is not None:
            self.exchange.symbol(symbol)  # -1121 for an unknown symbol
        return symbol

    def _required_symbol(self, p: Params) -> str:
        symbol = self._symbol(p)
        assert symbol is not None
        return symbol

    def _client_id(self, p: Params, name: str) -> str:
        return p.text(name, pattern=_CLIENT_ID) or self.new_client_id()

    def _order_ref(
        self, p: Params, id_name: str, client_name: str
    ) -> tuple[int | None, str | None]:
        order_id = p.integer(id_name)
        client_id = p.text(client_name)
        if order_id is None and client_id is None:
            raise either(client_name, id_name)
        return order_id, client_id

    # --- reading an order ---

    def _read_order(
        self,
        p: Params,
        symbol: str,
        names: LegNames,
        *,
        order_type: str | None = None,
        types: Sequence[str] = ORDER_TYPES,
    ) -> OrderRequest:
        """One order (or order-list leg) from ``p``, checked against its type's table."""
        if order_type is None:
            assert names.type is not None
            type_name = names.type
            order_type = p.choice(
                type_name, types, required=True, error=lambda: _bad_type(type_name, types)
            )
            assert order_type is not None
        side = p.choice(
            names.side,
            ("BUY", "SELL"),
            required=True,
            error=_invalid_side,
        )
        assert side is not None
        time_in_force = None
        if names.time_in_force is not None:
            time_in_force = p.choice(
                names.time_in_force,
                ("GTC", "IOC", "FOK"),
                error=_invalid_time_in_force,
            )
        request = OrderRequest(
            symbol=symbol,
            side=side,
            type=order_type,
            client_order_id=self._client_id(p, names.client_order_id),
            quantity=p.decimal(names.quantity),
            quote_order_qty=p.decimal(names.quote_order_qty) if names.quote_order_qty else None,
            price=p.decimal(names.price),
            stop_price=p.decimal(names.stop_price) if names.stop_price else None,
            time_in_force=time_in_force,
            iceberg_qty=p.decimal(names.iceberg_qty),
            strategy_id=p.integer(names.strategy_id),
            strategy_type=p.integer(names.strategy_type),
            stp_mode=p.choice("selfTradePreventionMode", STP_MODES, error=_invalid_stp_mode),
            param_names=names.renamed,
        )
        trailing = p.integer(names.trailing_delta) if names.trailing_delta else None
        _check_order_fields(p, request, names, trailing)
        return request

    def _read_response_type(self, p: Params, default: str) -> str:
        value = p.choice("newOrderRespType", RESPONSE_TYPES)
        return value or default

    # --- order.place / order.test ---

    _PLACE_PARAMS = (
        *PLAIN.all(),
        "symbol",
        "newOrderRespType",
        "selfTradePreventionMode",
    )

    def _read_new_order(self, p: Params) -> tuple[OrderRequest, str]:
        symbol = self._required_symbol(p)
        request = self._read_order(p, symbol, PLAIN)
        default = "FULL" if request.type in ("LIMIT", "MARKET") else "ACK"
        return request, self._read_response_type(p, default)

    _PLACE_ALLOWED = frozenset(_PLACE_PARAMS)

    def order_place(self, account_id: str, params: Mapping[str, Any], now_ms: int) -> Outcome:
        """order.place."""
        p = Params(params, self._PLACE_ALLOWED)
        request, response_type = self._read_new_order(p)
        p.finish()
        fx = self._effects(now_ms)
        order = self.exchange.place_order(account_id, request, fx)
        result = self._placement(order, response_type, fx)
        return self._outcome(result, fx, orders_placed=1)

    def _placement(self, order: Order, response_type: str, fx: Effects) -> JsonDict:
        fills = fx.fills.get((order.symbol, order.order_id), [])
        return placement_json(order, self._formats(order.symbol), response_type, fx.now, fills)

    def order_test(self, account_id: str, params: Mapping[str, Any], now_ms: int) -> Outcome:
        """order.test: every check of order.place, nothing sent to the matching engine."""
        p = Params(params, (*self._PLACE_PARAMS, "computeCommissionRates"))
        request, _ = self._read_new_order(p)
        compute = p.boolean("computeCommissionRates")
        p.finish()
        self.exchange.validate_order(account_id, request, now_ms)
        if not compute:
            return Outcome({})
        account = self.exchange.account(account_id).config
        zero = fixed(Decimal(0), 8)
        return Outcome(
            {
                "standardCommissionForOrder": {
                    "maker": fixed(account.maker_commission, 8),
                    "taker": fixed(account.taker_commission, 8),
                },
                "specialCommissionForOrder": {"maker": zero, "taker": zero},
                "taxCommissionForOrder": {"maker": zero, "taker": zero},
                "discount": _no_discount(),
            }
        )

    # --- querying and cancelling single orders ---

    def order_status(self, account_id: str, params: Mapping[str, Any], now_ms: int) -> Outcome:
        """order.status."""
        p = Params(params, ("symbol", "orderId", "origClientOrderId"))
        symbol = self._required_symbol(p)
        order_id, client_id = self._order_ref(p, "orderId", "origClientOrderId")
        p.finish()
        account = self.exchange.account(account_id)
        order = self.exchange.find_order(
            account,
            symbol,
            order_id,
            client_id,
            lambda: ExchangeError(400, -2013, "Order does not exist."),
        )
        if _archived(order, now_ms):
            raise ExchangeError(
                400,
                -2026,
                "Order was canceled or expired with no executed qty over 90 days ago and has "
                "been archived.",
            )
        return Outcome(order_status_json(order, self._formats(symbol)))

    def _read_cancel_restriction(self, p: Params) -> str | None:
        return p.choice(
            "cancelRestrictions",
            ("ONLY_NEW", "ONLY_PARTIALLY_FILLED"),
            error=ExchangeError(400, -1145, "Invalid cancelRestrictions"),
        )

    def order_cancel(self, account_id: str, params: Mapping[str, Any], now_ms: int) -> Outcome:
        """order.cancel."""
        allowed = (
            "symbol",
            "orderId",
            "origClientOrderId",
            "newClientOrderId",
            "cancelRestrictions",
        )
        p = Params(params, allowed)
        symbol = self._required_symbol(p)
        order_id, client_id = self._order_ref(p, "orderId", "origClientOrderId")
        new_client_id = self._client_id(p, "newClientOrderId")
        restriction = self._read_cancel_restriction(p)
        p.finish()
        fx = self._effects(now_ms)
        canceled = self.exchange.cancel_order(
            account_id,
            symbol,
            order_id=order_id,
            orig_client_order_id=client_id,
            new_client_order_id=new_client_id,
            restriction=restriction,
            fx=fx,
        )
        return self._outcome(self._cancel_result(canceled, now_ms), fx)

    def _cancel_result(self, canceled: CanceledOrder | CanceledList, now_ms: int) -> JsonDict:
        if isinstance(canceled, CanceledOrder):
            return cancel_json(canceled, self._formats(canceled.order.symbol), now_ms)
        fmt = self._formats(canceled.view.symbol)
        return canceled_list_json(canceled, fmt, now_ms, with_orig_ids=True)

    # --- cancel-replace ---

    def cancel_replace(
        self,
        account_id: str,
        params: Mapping[str, Any],
        now_ms: int,
        *,
        new_order_refusal: ExchangeError | None = None,
    ) -> Outcome:
        """order.cancelReplace: cancel, then place, not as a transaction.

        ``new_order_refusal`` is the error the new order gets without being attempted: the
        server passes the -1015 "Too many new orders" error when the unfilled order count is
        exhausted and ``orderRateLimitExceededMode`` is ``CANCEL_ONLY``.
        """
        allowed = (
            *self._PLACE_PARAMS,
            "cancelReplaceMode",
            "cancelOrderId",
            "cancelOrigClientOrderId",
            "cancelNewClientOrderId",
            "cancelRestrictions",
            "orderRateLimitExceededMode",
        )
        p = Params(params, allowed)
        symbol = self._required_symbol(p)
        mode = p.choice("cancelReplaceMode", ("STOP_ON_FAILURE", "ALLOW_FAILURE"), required=True)
        order_id, client_id = self._order_ref(p, "cancelOrderId", "cancelOrigClientOrderId")
        cancel_new_id = self._client_id(p, "cancelNewClientOrderId")
        restriction = self._read_cancel_restriction(p)
        p.choice("orderRateLimitExceededMode", ("DO_NOTHING", "CANCEL_ONLY"))
        request, response_type = self._read_new_order(p)
        p.finish()
        if not self.exchange.symbol(symbol).config.cancel_replace_allowed:
            raise rejected("Order cancel-replace is not supported for this symbol.")
        # "Filters and order count limits are evaluated before cancellation and order
        # placement occurs." (web-socket-api.md, order.cancelReplace notes)
        self.exchange.validate_order(account_id, request, now_ms)
        fx = self._effects(now_ms)
        cancel_response: Any
        try:
            canceled = self.exchange.cancel_order(
                account_id,
                symbol,
                order_id=order_id,
                orig_client_order_id=client_id,
                new_client_order_id=cancel_new_id,
                restriction=restriction,
                fx=fx,
            )
            cancel_ok, cancel_response = True, self._cancel_result(canceled, now_ms)
        except ExchangeError as error:
            cancel_ok, cancel_response = False, {"code": error.code, "msg": error.msg}
        if not cancel_ok and mode == "STOP_ON_FAILURE":
            data = _replace_data("FAILURE", "NOT_ATTEMPTED", cancel_response, None)
            failure = ExchangeError(400, -2022, "Order cancel-replace failed.", data)
            raise self._attach(failure, fx, 1)
        new_response: Any
        try:
            if new_order_refusal is not None:
                raise new_order_refusal
            order = self.exchange.place_order(account_id, request, fx)
            new_ok, new_response = True, self._placement(order, response_type, fx)
        except ExchangeError as error:
            new_ok, new_response = False, {"code": error.code, "msg": error.msg}
        data = _replace_data(
            "SUCCESS" if cancel_ok else "FAILURE",
            "SUCCESS" if new_ok else "FAILURE",
            cancel_response,
            new_response,
        )
        if cancel_ok and new_ok:
            return self._outcome(data, fx, orders_placed=1)
        if cancel_ok or new_ok:
            failure = ExchangeError(409, -2021, "Order cancel-replace partially failed.", data)
        else:
            failure = ExchangeError(400, -2022, "Order cancel-replace failed.", data)
        raise self._attach(failure, fx, 1)

    # --- amend ---

    def order_amend_keep_priority(
        self, account_id: str, params: Mapping[str, Any], now_ms: int
    ) -> Outcome:
        """order.amend.keepPriority: reduce an open order's quantity, keeping its place."""
        allowed = ("symbol", "orderId", "origClientOrderId", "newClientOrderId", "newQty")
        p = Params(params, allowed)
        symbol = self._required_symbol(p)
        order_id, client_id = self._order_ref(p, "orderId", "origClientOrderId")
        new_client_id = self._client_id(p, "newClientOrderId")
        new_qty = p.decimal("newQty", required=True)
        p.finish()
        assert new_qty is not None
        self._check_amend_quantity(symbol, new_qty)
        fx = self._effects(now_ms)
        amended = self.exchange.amend_order(
            account_id,
            symbol,
            order_id=order_id,
            orig_client_order_id=client_id,
            new_client_order_id=new_client_id,
            new_qty=new_qty,
            fx=fx,
        )
        order, fmt = amended.order, self._formats(symbol)
        body: JsonDict = {
            "transactTime": now_ms,
            "executionId": amended.execution_id,
            "amendedOrder": {
                "symbol": order.symbol,
                "orderId": order.order_id,
                "orderListId": order.order_list_id,
                "origClientOrderId": amended.orig_client_order_id,
                "clientOrderId": order.client_order_id,
                "price": fmt.price(order.price),
                "qty": fmt.qty(order.orig_qty),
                "executedQty": fmt.qty(order.executed_qty),
                "preventedQty": fmt.qty(order.prevented_qty),
                "quoteOrderQty": fmt.quote(order.quote_order_qty),
                "cumulativeQuoteQty": fmt.quote(order.cumm_quote_qty),
                "status": order.status,
                "timeInForce": order.time_in_force,
                "type": order.type,
                "side": order.side,
                **_conditional_fields(order, fmt, prevention=False),
                "workingTime": order.working_time,
                "selfTradePreventionMode": order.stp_mode,
            },
        }
        if amended.list_view is not None:
            status = list_status_json(amended.list_view)
            del status["listStatusType"], status["transactionTime"]
            body["listStatus"] = status
        return self._outcome(body, fx)

    def _check_amend_quantity(self, symbol: str, new_qty: Decimal) -> None:
        config = self.exchange.symbol(symbol).config
        if new_qty <= 0:
            raise mandatory("newQty")
        if decimal_places(new_qty) > config.base_asset_precision:
            raise ExchangeError(400, -1111, "Parameter 'newQty' has too much precision.")
        lot = config.find_filter(LotSize)
        if lot is not None and (new_qty < lot.min_qty or not is_multiple(new_qty, lot.step_size)):
            raise ExchangeError(400, -1013, "Filter failure: LOT_SIZE")

    def order_amendments(self, account_id: str, params: Mapping[str, Any], now_ms: int) -> Outcome:
        """order.amendments."""
        p = Params(params, ("symbol", "orderId", "fromExecutionId", "limit"))
        symbol = self._required_symbol(p)
        order_id = p.integer("orderId", required=True)
        from_id = p.integer("fromExecutionId")
        limit = p.limit()
        p.finish()
        account = self.exchange.account(account_id)
        self.exchange.find_order(
            account,
            symbol,
            order_id,
            None,
            lambda: ExchangeError(400, -2013, "Order does not exist."),
        )
        fmt = self._formats(symbol)
        records = account.amendments.get((symbol, order_id or 0), [])
        selected = [r for r in records if from_id is None or r.execution_id >= from_id][:limit]
        return Outcome(
            [
                {
                    "symbol": r.symbol,
                    "orderId": r.order_id,
                    "executionId": r.execution_id,
                    "origClientOrderId": r.orig_client_order_id,
                    "newClientOrderId": r.new_client_order_id,
                    "origQty": fmt.qty(r.orig_qty),
                    "newQty": fmt.qty(r.new_qty),
                    "time": r.time,
                }
                for r in selected
            ]
        )

    # --- open orders and history ---

    def open_orders_status(
        self, account_id: str, params: Mapping[str, Any], now_ms: int
    ) -> Outcome:
        """openOrders.status: one symbol's open orders, or every symbol's."""
        p = Params(params, ("symbol",))
        symbol = self._symbol(p, required=False)
        p.finish()
        account = self.exchange.account(account_id)
        orders = [o for o in account.open_orders.values() if symbol is None or o.symbol == symbol]
        return Outcome([order_status_json(o, self._formats(o.symbol)) for o in orders])

    def open_orders_cancel_all(
        self, account_id: str, params: Mapping[str, Any], now_ms: int
    ) -> Outcome:
        """openOrders.cancelAll: orders as order.cancel reports them, lists as whole lists."""
        p = Params(params, ("symbol",))
        symbol = self._required_symbol(p)
        p.finish()
        fx = self._effects(now_ms)
        results = self.exchange.cancel_all(account_id, symbol, fx)
        return self._outcome([self._cancel_result(item, now_ms) for item in results], fx)

    def all_orders(self, account_id: str, params: Mapping[str, Any], now_ms: int) -> Outcome:
        """allOrders: by time of last update, from an order id, or the most recent."""
        p = Params(params, ("symbol", "orderId", "startTime", "endTime", "limit"))
        symbol = self._required_symbol(p)
        from_id = p.integer("orderId")
        start, end = _time_range(p)
        limit = p.limit()
        p.finish()
        account = self.exchange.account(account_id)
        orders = [o for o in account.orders.get(symbol, []) if not _archived(o, now_ms)]
        selected = _select(
            orders,
            key=lambda o: o.update_time,
            start=start,
            end=end,
            from_value=from_id,
            from_key=lambda o: o.order_id,
            limit=limit,
        )
        fmt = self._formats(symbol)
        return Outcome(
            [order_status_json(o, fmt) for o in sorted(selected, key=lambda o: o.order_id)]
        )

    def my_trades(self, account_id: str, params: Mapping[str, Any], now_ms: int) -> Outcome:
        """myTrades."""
        allowed = ("symbol", "orderId", "startTime", "endTime", "fromId", "limit")
        p = Params(params, allowed)
        symbol = self._required_symbol(p)
        order_id = p.integer("orderId")
        from_id = p.integer("fromId")
        start, end = _time_range(p)
        limit = p.limit()
        p.finish()
        timed = start is not None or end is not None
        if timed and (from_id is not None or order_id is not None):
            raise BAD_COMBINATION
        trades = self.exchange.account(account_id).trades.get(symbol, [])
        if order_id is not None:
            trades = [t for t in trades if t.order_id == order_id]
        selected = _select(
            trades,
            key=lambda t: t.time,
            start=start,
            end=end,
            from_value=from_id,
            from_key=lambda t: t.id,
            limit=limit,
        )
        fmt = self._formats(symbol)
        return Outcome(
            [
                {
                    "symbol": t.symbol,
                    "id": t.id,
                    "orderId": t.order_id,
                    "orderListId": t.order_list_id,
                    "price": fmt.price(t.price),
                    "qty": fmt.qty(t.qty),
                    "quoteQty": fmt.quote(t.quote_qty),
                    "commission": fmt.commission(t.commission, t.commission_asset),
                    "commissionAsset": t.commission_asset,
                    "time": t.time,
                    "isBuyer": t.is_buyer,
                    "isMaker": t.is_maker,
                    "isBestMatch": True,
                }
                for t in selected
            ]
        )

    # --- order lists ---

    def _list_placement(self, placed: PlacedList, response_type: str, fx: Effects) -> JsonDict:
        reports = [self._placement(order, response_type, fx) for order in placed.orders]
        return {**list_status_json(placed.view), "orderReports": reports}

    _LIST_COMMON = ("symbol", "listClientOrderId", "newOrderRespType", "selfTradePreventionMode")

    def order_list_place_oco(
        self, account_id: str, params: Mapping[str, Any], now_ms: int
    ) -> Outcome:
        """orderList.place.oco."""
        p = Params(params, (*self._LIST_COMMON, *ABOVE.all(), *BELOW.all()))
        symbol = self._required_symbol(p)
        list_id = self._client_id(p, "listClientOrderId")
        above = self._read_order(p, symbol, ABOVE, types=_OCO_ABOVE_TYPES)
        below = self._read_order(p, symbol, BELOW, types=_OCO_BELOW_TYPES)
        response_type = self._read_response_type(p, "RESULT")
        p.finish()
        fx = self._effects(now_ms)
        placed = self.exchange.place_oco(account_id, above, below, list_id, fx)
        return self._outcome(self._list_placement(placed, response_type, fx), fx, orders_placed=2)

    def order_list_place(self, account_id: str, params: Mapping[str, Any], now_ms: int) -> Outcome:
        """orderList.place (deprecated OCO): a LIMIT_MAKER and a STOP_LOSS(_LIMIT) leg."""
        p = Params(params, (*self._LIST_COMMON, *LIMIT_LEG.all(), *STOP_LEG.all()))
        symbol = self._required_symbol(p)
        list_id = self._client_id(p, "listClientOrderId")
        for name in ("price", "quantity"):
            if not p.has(name):
                raise mandatory(name)
        limit_leg = self._read_order(p, symbol, LIMIT_LEG, order_type="LIMIT_MAKER")
        stop_type = "STOP_LOSS_LIMIT" if p.has("stopLimitPrice") else "STOP_LOSS"
        stop_leg = self._read_order(p, symbol, STOP_LEG, order_type=stop_type)
        response_type = self._read_response_type(p, "FULL")
        p.finish()
        above, below = (stop_leg, limit_leg) if limit_leg.side == "BUY" else (limit_leg, stop_leg)
        fx = self._effects(now_ms)
        placed = self.exchange.place_oco(account_id, above, below, list_id, fx)
        return self._outcome(self._list_placement(placed, response_type, fx), fx, orders_placed=1)

    def order_list_place_oto(
        self, account_id: str, params: Mapping[str, Any], now_ms: int
    ) -> Outcome:
        """orderList.place.oto."""
        p = Params(params, (*self._LIST_COMMON, *WORKING.all(), *PENDING.all()))
        symbol = self._required_symbol(p)
        list_id = self._client_id(p, "listClientOrderId")
        working = self._read_working(p, symbol)
        pending = self._read_order(p, symbol, PENDING)
        response_type = self._read_response_type(p, "RESULT")
        p.finish()
        fx = self._effects(now_ms)
        placed = self.exchange.place_oto(account_id, working, (pending,), list_id, fx)
        return self._outcome(self._list_placement(placed, response_type, fx), fx, orders_placed=2)

    def order_list_place_otoco(
        self, account_id: str, params: Mapping[str, Any], now_ms: int
    ) -> Outcome:
        """orderList.place.otoco."""
        allowed = (*self._LIST_COMMON, *WORKING.all(), *PENDING_ABOVE.all(), *PENDING_BELOW.all())
        p = Params(params, allowed)
        symbol = self._required_symbol(p)
        list_id = self._client_id(p, "listClientOrderId")
        working = self._read_working(p, symbol)
        above = self._read_order(p, symbol, PENDING_ABOVE, types=_OCO_ABOVE_TYPES)
        below = self._read_order(p, symbol, PENDING_BELOW, types=_OCO_BELOW_TYPES)
        response_type = self._read_response_type(p, "RESULT")
        p.finish()
        fx = self._effects(now_ms)
        placed = self.exchange.place_oto(account_id, working, (above, below), list_id, fx)
        return self._outcome(self._list_placement(placed, response_type, fx), fx, orders_placed=3)

    def _read_working(self, p: Params, symbol: str) -> OrderRequest:
        return self._read_order(p, symbol, WORKING, types=("LIMIT", "LIMIT_MAKER"))

    def order_list_cancel(self, account_id: str, params: Mapping[str, Any], now_ms: int) -> Outcome:
        """orderList.cancel."""
        allowed = ("symbol", "orderListId", "listClientOrderId", "newClientOrderId")
        p = Params(params, allowed)
        symbol = self._required_symbol(p)
        list_id, list_client_id = self._order_ref(p, "orderListId", "listClientOrderId")
        new_client_id = self._client_id(p, "newClientOrderId")
        p.finish()
        fx = self._effects(now_ms)
        canceled = self.exchange.cancel_order_list(
            account_id,
            symbol,
            order_list_id=list_id,
            list_client_order_id=list_client_id,
            new_list_client_order_id=new_client_id,
            fx=fx,
        )
        fmt = self._formats(symbol)
        return self._outcome(canceled_list_json(canceled, fmt, now_ms, with_orig_ids=False), fx)

    def order_list_status(self, account_id: str, params: Mapping[str, Any], now_ms: int) -> Outcome:
        """orderList.status: by listClientOrderId (``origClientOrderId``) or id."""
        p = Params(params, ("orderListId", "origClientOrderId"))
        list_id, list_client_id = self._order_ref(p, "orderListId", "origClientOrderId")
        p.finish()
        found = self.exchange.find_order_list(account_id, list_id, list_client_id)
        if found is None:
            raise ExchangeError(400, -2013, "Order does not exist.")
        return Outcome(list_status_json(found.view()))

    def open_order_lists_status(
        self, account_id: str, params: Mapping[str, Any], now_ms: int
    ) -> Outcome:
        """openOrderLists.status."""
        Params(params, ()).finish()
        account = self.exchange.account(account_id)
        return Outcome([list_status_json(x.view()) for x in account.open_lists()])

    def all_order_lists(self, account_id: str, params: Mapping[str, Any], now_ms: int) -> Outcome:
        """allOrderLists."""
        p = Params(params, ("fromId", "startTime", "endTime", "limit"))
        from_id = p.integer("fromId")
        start, end = _time_range(p)
        limit = p.limit()
        p.finish()
        lists = list(self.exchange.account(account_id).lists.values())
        selected = _select(
            lists,
            key=lambda x: x.transaction_time,
            start=start,
            end=end,
            from_value=from_id,
            from_key=lambda x: x.order_list_id,
            limit=limit,
        )
        return Outcome([list_status_json(x.view()) for x in selected])

    # --- account ---

    def account_status(self, account_id: str, params: Mapping[str, Any], now_ms: int) -> Outcome:
        """account.status."""
        p = Params(params, ("omitZeroBalances",))
        omit_zero = p.boolean("omitZeroBalances") or False
        p.finish()
        account = self.exchange.account(account_id)
        config = account.config
        balances = [
            {"asset": asset, "free": _balance_text(b.free), "locked": _balance_text(b.locked)}
            for asset, b in account.balances.items()
            if not omit_zero or b.free or b.locked
        ]
        return Outcome(
            {
                "makerCommission": int(config.maker_commission * 10_000),
                "takerCommission": int(config.taker_commission * 10_000),
                "buyerCommission": 0,
                "sellerCommission": 0,
                "canTrade": config.can_trade,
                "canWithdraw": config.can_withdraw,
                "canDeposit": config.can_deposit,
                "commissionRates": {
                    "maker": fixed(config.maker_commission, 8),
                    "taker": fixed(config.taker_commission, 8),
                    "buyer": fixed(Decimal(0), 8),
                    "seller": fixed(Decimal(0), 8),
                },
                "brokered": False,
                "requireSelfTradePrevention": False,
                "preventSor": False,
                "updateTime": account.update_time,
                "accountType": "SPOT",
                "balances": balances,
                "permissions": list(config.permissions),
                "uid": config.uid,
            }
        )

    def account_commission(
        self, account_id: str, params: Mapping[str, Any], now_ms: int
    ) -> Outcome:
        """account.commission."""
        p = Params(params, ("symbol",))
        symbol = self._required_symbol(p)
        p.finish()
        config = self.exchange.account(account_id).config
        zero = fixed(Decimal(0), 8)
        zeros = {"maker": zero, "taker": zero, "buyer": zero, "seller": zero}
        return Outcome(
            {
                "symbol": symbol,
                "standardCommission": {
                    "maker": fixed(config.maker_commission, 8),
                    "taker": fixed(config.taker_commission, 8),
                    "buyer": zero,
                    "seller": zero,
                },
                "specialCommission": dict(zeros),
                "taxCommission": dict(zeros),
                "discount": _no_discount(),
            }
        )

    def account_rate_limits_orders(
        self,
        account_id: str,
        params: Mapping[str, Any],
        now_ms: int,
        limits: Sequence[Mapping[str, Any]],
    ) -> Outcome:
        """account.rateLimits.orders: ``limits`` are the rate limiter's ORDERS figures."""
        Params(params, ()).finish()
        self.exchange.account(account_id)
        keys = ("rateLimitType", "interval", "intervalNum", "limit", "count")
        return Outcome([{key: item[key] for key in keys} for item in limits])

    def my_prevented_matches(
        self, account_id: str, params: Mapping[str, Any], now_ms: int
    ) -> Outcome:
        """myPreventedMatches: by preventedMatchId, or by orderId (from an id, limited)."""
        allowed = ("symbol", "preventedMatchId", "orderId", "fromPreventedMatchId", "limit")
        p = Params(params, allowed)
        symbol = self._required_symbol(p)
        match_id = p.integer("preventedMatchId")
        order_id = p.integer("orderId")
        from_id = p.integer("fromPreventedMatchId")
        limit = p.limit()
        p.finish()
        if (match_id is None) == (order_id is None) or (
            match_id is not None and from_id is not None
        ):
            raise BAD_COMBINATION
        records = self.exchange.account(account_id).prevented.get(symbol, [])
        if match_id is not None:
            selected = [r for r in records if r.prevented_match_id == match_id]
        else:
            selected = [
                r
                for r in records
                if order_id in (r.taker_order_id, r.maker_order_id)
                and (from_id is None or r.prevented_match_id >= from_id)
            ][:limit]
        fmt = self._formats(symbol)
        result = []
        for r in selected:
            entry: JsonDict = {
                "symbol": r.symbol,
                "preventedMatchId": r.prevented_match_id,
                "takerOrderId": r.taker_order_id,
                "makerSymbol": r.maker_symbol,
                "makerOrderId": r.maker_order_id,
                "tradeGroupId": r.trade_group_id,
                "selfTradePreventionMode": r.stp_mode,
                "price": fmt.price(r.price),
            }
            if r.taker_prevented_qty is not None:
                entry["takerPreventedQuantity"] = fmt.qty(r.taker_prevented_qty)
            if r.maker_prevented_qty is not None:
                entry["makerPreventedQuantity"] = fmt.qty(r.maker_prevented_qty)
            entry["transactTime"] = r.transact_time
            result.append(entry)
        return Outcome(result)

    def adjust_balance(self, account_id: str, asset: str, delta: Decimal, now_ms: int) -> Outcome:
        """A deposit (``delta`` > 0) or withdrawal: ``balanceUpdate`` then
        ``outboundAccountPosition`` (user-data-stream.md, "Balance Update"). Not a WebSocket
        API method: for tests and demos that move funds in or out."""
        fx = self._effects(now_ms)
        self.exchange.adjust_balance(account_id, asset, delta, fx)
        return self._outcome(None, fx)

    def my_filters(self, account_id: str, params: Mapping[str, Any], now_ms: int) -> Outcome:
        """myFilters: the symbol's and the exchange's filters (no asset filters here)."""
        p = Params(params, ("symbol",))
        symbol = self._required_symbol(p)
        p.finish()
        self.exchange.account(account_id)
        config = self.exchange.symbol(symbol).config
        return Outcome(
            {
                "exchangeFilters": [f.as_json() for f in self.exchange.config.exchange_filters],
                "symbolFilters": [f.as_json() for f in config.filters],
                "assetFilters": [],
            }
        )


# --- helpers -------------------------------------------------------------------------------

_OCO_ABOVE_TYPES = (
    "STOP_LOSS_LIMIT",
    "STOP_LOSS",
    "LIMIT_MAKER",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
)
# The documented examples also use LIMIT_MAKER below (buy OCOs need it there).
_OCO_BELOW_TYPES = _OCO_ABOVE_TYPES


def _invalid_side() -> ExchangeError:
    return ExchangeError(400, -1117, "Invalid side.")


def _invalid_time_in_force() -> ExchangeError:
    return ExchangeError(400, -1115, "Invalid timeInForce.")


def _invalid_stp_mode() -> ExchangeError:
    return invalid("selfTradePreventionMode")


def _bad_type(name: str, types: Sequence[str]) -> ExchangeError:
    if types is ORDER_TYPES:
        return ExchangeError(400, -1116, "Invalid orderType.")
    if types in (_OCO_ABOVE_TYPES, _OCO_BELOW_TYPES):
        return ExchangeError(400, -1158, "Order type not supported in OCO.")
    return illegal(name, ", ".join(types))


def _check_order_fields(
    p: Params, request: OrderRequest, names: LegNames, trailing_delta: int | None
) -> None:
    """Mandatory and misplaced parameters for the order's type (web-socket-api.md
    order.place, "Certain parameters (*) become mandatory based on the order type")."""
    needs = _NEEDS[request.type]
    for need in needs:
        if need == "stop":
            if request.stop_price is None and trailing_delta is None:
                assert names.stop_price is not None
                assert names.trailing_delta is not None
                raise either(names.stop_price, names.trailing_delta)
        else:
            field_name = _NEED_FIELDS[need]  # named alike on the request and its LegNames
            if getattr(request, field_name) is None:
                raise mandatory(getattr(names, field_name) or need)
    if request.type == "MARKET":
        _check_market_quantities(request, names)
    if request.time_in_force is not None and "timeInForce" not in needs:
        raise ExchangeError(400, -1114, "TimeInForce parameter sent when not required.")
    is_leg = names.iceberg_qty not in ("icebergQty", "limitIcebergQty", "stopIcebergQty")
    if is_leg and request.iceberg_qty is not None and request.time_in_force not in (None, "GTC"):
        raise ExchangeError(
            400,
            -1160,
            f"Parameter '{names.iceberg_qty}' is not supported if "
            "`aboveTimeInForce`/`belowTimeInForce` is not GTC.",
        )
    misplaced = (
        (names.quote_order_qty, request.quote_order_qty is not None and request.type != "MARKET"),
        (names.price, request.price is not None and "price" not in needs),
        (names.stop_price, request.stop_price is not None and "stop" not in needs),
        (names.iceberg_qty, request.iceberg_qty is not None and request.type not in _ICEBERG_TYPES),
    )
    for name, is_misplaced in misplaced:
        if is_misplaced and name is not None:
            raise not_required(name)
    if request.strategy_type is not None and request.strategy_type < _STRATEGY_TYPE_MIN:
        raise ExchangeError(400, -1134, "`strategyType` was less than 1000000.")
    if trailing_delta is not None:
        raise rejected("Trailing stop orders are not supported for this symbol.")
    if p.has_any(names.peg):
        raise rejected("Pegged orders are not supported for this symbol.")


def _check_market_quantities(request: OrderRequest, names: LegNames) -> None:
    qoq_name = names.quote_order_qty
    if request.quantity is None and request.quote_order_qty is None:
        raise either(names.quantity, qoq_name) if qoq_name else mandatory(names.quantity)
    if request.quantity is not None and request.quote_order_qty is not None:
        assert qoq_name is not None
        raise not_required(qoq_name)


def _replace_data(cancel: str, new: str, cancel_response: Any, new_response: Any) -> JsonDict:
    return {
        "cancelResult": cancel,
        "newOrderResult": new,
        "cancelResponse": cancel_response,
        "newOrderResponse": new_response,
    }


def _no_discount() -> JsonDict:
    return {
        "enabledForAccount": False,
        "enabledForSymbol": False,
        "discountAsset": "BNB",
        "discount": fixed(Decimal(0), 8),
    }


def _archived(order: Order, now_ms: int) -> bool:
    finished = order.status in (Status.CANCELED, Status.EXPIRED, Status.EXPIRED_IN_MATCH)
    return finished and order.executed_qty == 0 and now_ms - order.update_time > _ARCHIVE_AFTER_MS


def _time_range(p: Params) -> tuple[int | None, int | None]:
    start, end = p.integer("startTime"), p.integer("endTime")
    if start is not None and end is not None and end - start > _DAY_MS:
        raise ExchangeError(400, -1127, "More than 24 hours between startTime and endTime.")
    return start, end


def _select(
    items: Sequence[_T],
    *,
    key: Callable[[_T], int],
    start: int | None,
    end: int | None,
    from_value: int | None,
    from_key: Callable[[_T], int],
    limit: int,
) -> list[_T]:
    """web-socket-api.md, "General API Information": with startTime the oldest from it, with
    endTime the newest up to it, from an id upwards, else the most recent; ``limit`` of them."""
    if start is not None or end is not None:
        chosen = [
            item
            for item in items
            if (start is None or key(item) >= start) and (end is None or key(item) <= end)
        ]
        return chosen[:limit] if start is not None else chosen[-limit:]
    if from_value is not None:
        return [item for item in items if from_key(item) >= from_value][:limit]
    return list(items[-limit:])
