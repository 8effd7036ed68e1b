"""The local exchange's matching engine and account state.

Per symbol: an order book with price-time priority, untriggered stop orders and the public
trade history. Per account: balances (``free``/``locked``), orders, order lists, trades,
prevented matches and amendments. Every command records what happened in an
:class:`Effects` (execution reports, list statuses, touched balances, trades, book levels);
the trading facade (``_trading``) turns those into wire results and user-data events.

Locking follows Binance: a BUY locks ``price * remaining`` of the quote asset (stop-market
BUYs lock at ``stopPrice``), a SELL locks its remaining base quantity; MARKET executions are
paid from ``free``. The two legs of an OCO share one lock (the larger leg's need) that the
surviving leg keeps when the other expires. Commission is charged in the asset received.

Pure code: no I/O, no trio import; time comes in as ``now`` (ms) on every command.
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Context, Decimal
from operator import attrgetter
from typing import Any

from trio_binance.testing._config import (
    AccountConfig,
    ExchangeConfig,
    LotSize,
    MarketLotSize,
    SymbolConfig,
)
from trio_binance.testing._filters import (
    ALGO_TYPES,
    MARKET_TYPES,
    FilterContext,
    FilterPlan,
    OpenCounts,
    OrderShape,
    Rejection,
    amend_rejection,
    filter_plan,
    first_failure,
    precision_rejection,
)

ZERO = Decimal(0)
# Products of 8-decimal prices and quantities can exceed the default 28 digits; this
# context is only ever used to compute, never modified.
_EXACT = Context(prec=80)

# Matching engine messages, verbatim from errors.md ("Messages for -1010, -2010, -2011 and
# -2038"), backticks and all.
INSUFFICIENT_BALANCE = "Account has insufficient balance for requested action."
DUPLICATE_ORDER = "Duplicate order sent."
UNKNOWN_ORDER = "Unknown order sent."
MARKET_CLOSED = "Market is closed."
WOULD_TRIGGER = "Order would trigger immediately."
WOULD_MATCH = "Order would immediately match and take."
BAD_OCO_PRICES = "The relationship of the prices for the orders is not correct."
CANNOT_TRADE = "This account may not place or cancel orders."
NOT_PERMITTED = "This symbol is not permitted for this account."
CANCEL_RESTRICTED = "Order was not canceled due to cancel restrictions."
ZERO_NOTIONAL = "Price * QTY is zero or less."
ICEBERG_EXCEEDS = "IcebergQty exceeds QTY."
NO_LIQUIDITY = "Order book liquidity is less than symbol minimum quantity."
LOT_SIZE_LIQUIDITY = "Order book liquidity is less than `LOT_SIZE` filter minimum quantity."
UNSUPPORTED_COMBINATION = "Unsupported order combination."
AMEND_UNSUPPORTED = "Order amend is not supported for this symbol."
AMEND_INCREASE = "Order amend (quantity increase) is not supported."
AMEND_NO_CHANGE = "The requested action would change no state; rejecting"
TYPE_UNSUPPORTED = {
    "MARKET": "Market orders are not supported for this symbol.",
    "STOP_LOSS": "Stop loss orders are not supported for this symbol.",
    "STOP_LOSS_LIMIT": "Stop loss limit orders are not supported for this symbol.",
    "TAKE_PROFIT": "Take profit orders are not supported for this symbol.",
    "TAKE_PROFIT_LIMIT": "Take profit limit orders are not supported for this symbol.",
    "LIMIT": UNSUPPORTED_COMBINATION,
    "LIMIT_MAKER": UNSUPPORTED_COMBINATION,
}


class ExchangeError(Exception):
    """A request the exchange refuses: the response ``status`` and ``{"code", "msg"}``.

    ``data`` is the error's ``data`` member (cancel-replace reports both halves there). A
    refused request may still have changed something (a cancel-replace whose cancel
    succeeded): ``events``, ``orders_placed`` and ``market`` then say what, as they would
    on a successful outcome.
    """

    def __init__(self, status: int, code: int, msg: str, data: Any = None) -> None:
        super().__init__(f"{status} {code}: {msg}")
        self.status = status
        self.code = code
        self.msg = msg
        self.data = data
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.orders_placed = 0
        self.market: MarketChanges | None = None

    def error_json(self) -> dict[str, Any]:
        """The response's ``error`` member."""
        body: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if self.data is not None:
            body["data"] = self.data
        return body


def rejected(msg: str) -> ExchangeError:
    """-2010 NEW_ORDER_REJECTED with a matching-engine message."""
    return ExchangeError(400, -2010, msg)


def cancel_rejected(msg: str) -> ExchangeError:
    """-2011 CANCEL_REJECTED with a matching-engine message."""
    return ExchangeError(400, -2011, msg)


def amend_rejected(msg: str) -> ExchangeError:
    """-2038 ORDER_AMEND_REJECTED with a matching-engine message."""
    return ExchangeError(400, -2038, msg)


def from_rejection(rejection: Rejection) -> ExchangeError:
    return ExchangeError(400, rejection.code, rejection.msg)


class Side:
    """Order sides. Plain strings, as they go on the wire."""

    BUY = "BUY"
    SELL = "SELL"


class Status:
    """Order statuses (enums.md). Plain strings, as they go on the wire."""

    NEW = "NEW"
    PENDING_NEW = "PENDING_NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    EXPIRED_IN_MATCH = "EXPIRED_IN_MATCH"


class Execution:
    """Execution types (enums.md). Plain strings, as they go on the wire."""

    NEW = "NEW"
    CANCELED = "CANCELED"
    REPLACED = "REPLACED"
    REJECTED = "REJECTED"
    TRADE = "TRADE"
    EXPIRED = "EXPIRED"
    TRADE_PREVENTION = "TRADE_PREVENTION"


OPEN_STATUSES = frozenset({Status.NEW, Status.PENDING_NEW, Status.PARTIALLY_FILLED})
STOP_TYPES = ALGO_TYPES
LIMIT_TYPES = frozenset({"LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"})
NO_TRADE_GROUP = -1


def mul(a: Decimal, b: Decimal) -> Decimal:
    return _EXACT.multiply(a, b)


@functools.cache
def _quantum(places: int) -> Decimal:
    """``10 ** -places``, made once per precision."""
    return Decimal(1).scaleb(-places)


# --- requests and state ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A validated-from-the-wire order, as the engine takes it."""

    symbol: str
    side: str
    type: str
    client_order_id: str
    quantity: Decimal | None = None
    quote_order_qty: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: str | None = None
    iceberg_qty: Decimal | None = None
    strategy_id: int | None = None
    strategy_type: int | None = None
    stp_mode: str | None = None
    # Parameter names to use in error messages (order-list legs: "abovePrice", ...).
    param_names: tuple[tuple[str, str], ...] = ()

    def shape(self) -> OrderShape:
        return OrderShape(
            self.side,
            self.type,
            self.quantity,
            self.price,
            self.stop_price,
            self.quote_order_qty,
            self.iceberg_qty,
        )


@dataclass(eq=False, slots=True)
class Order:
    """One order's full state; reports hold copies taken when they were made."""

    symbol: str
    order_id: int
    client_order_id: str
    account_id: str
    side: str
    type: str
    time_in_force: str
    price: Decimal
    orig_qty: Decimal
    quote_order_qty: Decimal
    stop_price: Decimal | None
    iceberg_qty: Decimal | None
    strategy_id: int | None
    strategy_type: int | None
    stp_mode: str
    time: int
    update_time: int
    order_list_id: int = -1
    status: str = Status.NEW
    executed_qty: Decimal = ZERO
    cumm_quote_qty: Decimal = ZERO
    working_time: int = -1
    prevented_match_id: int | None = None
    prevented_qty: Decimal = ZERO
    expiry_reason: str | None = None
    locked: Decimal = ZERO
    visible: Decimal = ZERO
    on_book: bool = False
    amendments: int = 0

    @property
    def remaining(self) -> Decimal:
        return self.orig_qty - self.executed_qty - self.prevented_qty

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_market(self) -> bool:
        return self.type in MARKET_TYPES

    @property
    def is_working(self) -> bool:
        return self.working_time != -1

    def snapshot(self) -> Order:
        """A copy of the order as it is now (reports keep these).

        Several per request: ``Order(*fields)`` is about 5x faster than ``copy.copy``, which
        goes through ``__reduce_ex__`` for a slotted class.
        """
        return Order(*_order_fields(self))


_order_fields = attrgetter(*(item.name for item in fields(Order)))


@dataclass(frozen=True, slots=True)
class ListView:
    """An order list as reports show it, frozen when taken."""

    order_list_id: int
    contingency_type: str
    list_status_type: str
    list_order_status: str
    list_client_order_id: str
    transaction_time: int
    symbol: str
    orders: tuple[tuple[str, int, str], ...]  # (symbol, orderId, clientOrderId)


@dataclass(eq=False, slots=True)
class OrderList:
    order_list_id: int
    symbol: str
    account_id: str
    contingency_type: str
    list_client_order_id: str
    transaction_time: int
    orders: list[Order]
    working: Order | None = None
    pending: tuple[Order, ...] = ()
    oco_pair: tuple[Order, Order] | None = None
    list_status_type: str = "EXEC_STARTED"
    list_order_status: str = "EXECUTING"

    @property
    def is_open(self) -> bool:
        return self.list_order_status == "EXECUTING"

    def view(self, list_status_type: str | None = None) -> ListView:
        return ListView(
            self.order_list_id,
            self.contingency_type,
            list_status_type or self.list_status_type,
            self.list_order_status,
            self.list_client_order_id,
            self.transaction_time,
            self.symbol,
            tuple((o.symbol, o.order_id, o.client_order_id) for o in self.orders),
        )

    def sibling(self, order: Order) -> Order | None:
        if self.oco_pair is None or order not in self.oco_pair:
            return None
        first, second = self.oco_pair
        return second if order is first else first


@dataclass(slots=True)
class Balance:
    free: Decimal = ZERO
    locked: Decimal = ZERO


# What a request did, recorded for the trading layer to render. Not frozen (nothing changes
# them once made): several are made per request, and a frozen dataclass builds ~3x slower
# (an object.__setattr__ call per field).


@dataclass(slots=True)
class TradeInfo:
    trade_id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    is_maker: bool


@dataclass(slots=True)
class PreventionInfo:
    prevented_match_id: int
    last_prevented_qty: Decimal
    counter_order_id: int
    counter_symbol: str
    price: Decimal
    qty: Decimal  # what would have traded without STP


@dataclass(slots=True)
class ExecutionRecord:
    account_id: str
    order: Order
    execution_type: str
    execution_id: int
    time: int
    orig_client_order_id: str = ""
    trade: TradeInfo | None = None
    prevention: PreventionInfo | None = None


@dataclass(slots=True)
class ListStatusRecord:
    account_id: str
    view: ListView
    time: int


@dataclass(slots=True)
class BalanceDelta:
    account_id: str
    asset: str
    delta: Decimal
    time: int


@dataclass(frozen=True, slots=True)
class PublicTrade:
    """A trade as market data shows it."""

    symbol: str
    id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    time: int
    is_buyer_maker: bool
    buyer_order_id: int
    seller_order_id: int


@dataclass(frozen=True, slots=True)
class AccountTrade:
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


@dataclass(frozen=True, slots=True)
class PreventedMatch:
    symbol: str
    prevented_match_id: int
    taker_order_id: int
    maker_symbol: str
    maker_order_id: int
    trade_group_id: int
    stp_mode: str
    price: Decimal
    taker_prevented_qty: Decimal | None
    maker_prevented_qty: Decimal | None
    transact_time: int


@dataclass(frozen=True, slots=True)
class Amendment:
    symbol: str
    order_id: int
    execution_id: int
    orig_client_order_id: str
    new_client_order_id: str
    orig_qty: Decimal
    new_qty: Decimal
    time: int


@dataclass(frozen=True, slots=True)
class BookLevels:
    """One symbol's book: ``(price, visible quantity)`` per level, best first."""

    last_update_id: int
    bids: tuple[tuple[Decimal, Decimal], ...]
    asks: tuple[tuple[Decimal, Decimal], ...]


@dataclass(frozen=True, slots=True)
class DepthChange:
    """Book levels changed by one request; quantity 0 means the level is gone."""

    symbol: str
    first_update_id: int
    last_update_id: int
    bids: tuple[tuple[Decimal, Decimal], ...]
    asks: tuple[tuple[Decimal, Decimal], ...]


@dataclass(frozen=True, slots=True)
class MarketChanges:
    """What market data streams need to know about one request."""

    trades: tuple[PublicTrade, ...] = ()
    depth: tuple[DepthChange, ...] = ()


@dataclass(eq=False)
class Effects:
    """Everything one command did, in the order it happened.

    With ``keep_reports`` off, execution reports and list statuses are not recorded (their
    ids are still taken): for a caller that will not render them, as copying the order for
    each report is a good part of its cost.
    """

    now: int
    keep_reports: bool = True
    records: list[ExecutionRecord | ListStatusRecord] = field(default_factory=list)
    balance_deltas: list[BalanceDelta] = field(default_factory=list)
    touched_assets: dict[str, dict[str, None]] = field(default_factory=dict)
    trades: list[PublicTrade] = field(default_factory=list)
    fills: dict[tuple[str, int], list[TradeInfo]] = field(default_factory=dict)
    depth_first_id: dict[str, int] = field(default_factory=dict)
    depth_levels: dict[str, dict[tuple[str, Decimal], None]] = field(default_factory=dict)
    deferred: list[Callable[[], None]] = field(default_factory=list)

    def touch(self, account_id: str, asset: str) -> None:
        assets = self.touched_assets.get(account_id)
        if assets is None:
            assets = self.touched_assets[account_id] = {}
        assets[asset] = None


@dataclass(eq=False)
class AccountState:
    config: AccountConfig
    balances: dict[str, Balance]
    update_time: int = 0
    open_orders: dict[tuple[str, int], Order] = field(default_factory=dict)
    orders: dict[str, list[Order]] = field(default_factory=dict)
    by_id: dict[tuple[str, int], Order] = field(default_factory=dict)
    client_ids: dict[tuple[str, str], Order] = field(default_factory=dict)
    trades: dict[str, list[AccountTrade]] = field(default_factory=dict)
    lists: dict[int, OrderList] = field(default_factory=dict)
    prevented: dict[str, list[PreventedMatch]] = field(default_factory=dict)
    amendments: dict[tuple[str, int], list[Amendment]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: AccountConfig) -> AccountState:
        balances = {asset: Balance(amount) for asset, amount in config.balances}
        return cls(config, balances)

    def balance(self, asset: str) -> Balance:
        balance = self.balances.get(asset)
        if balance is None:  # not setdefault: that would build a Balance on every call
            balance = self.balances[asset] = Balance()
        return balance

    def open_lists(self) -> list[OrderList]:
        return [item for item in self.lists.values() if item.is_open]


class BookSide:
    """One side of a book: FIFO queues per price level."""

    def __init__(self, best_is_highest: bool) -> None:
        self._best_is_highest = best_is_highest
        self._prices: list[Decimal] = []  # ascending
        self._levels: dict[Decimal, deque[Order]] = {}

    def best_price(self) -> Decimal | None:
        if not self._prices:
            return None
        return self._prices[-1] if self._best_is_highest else self._prices[0]

    def front(self, price: Decimal) -> Order:
        return self._levels[price][0]

    def add(self, order: Order) -> None:
        level = self._levels.get(order.price)
        if level is None:
            level = self._levels[order.price] = deque()
            self._insert_price(order.price)
        level.append(order)

    def remove(self, order: Order) -> None:
        level = self._levels[order.price]
        level.remove(order)
        if not level:
            del self._levels[order.price]
            self._prices.remove(order.price)

    def move_to_back(self, order: Order) -> None:
        level = self._levels[order.price]
        level.remove(order)
        level.append(order)

    def level_qty(self, price: Decimal) -> Decimal:
        level = self._levels.get(price)
        if not level:
            return ZERO
        return sum((o.visible for o in level), ZERO)

    def prices_best_first(self) -> list[Decimal]:
        return self._prices[::-1] if self._best_is_highest else list(self._prices)

    def orders_best_first(self) -> Iterator[Order]:
        for price in self.prices_best_first():
            yield from self._levels[price]

    def levels(self) -> tuple[tuple[Decimal, Decimal], ...]:
        return tuple((price, self.level_qty(price)) for price in self.prices_best_first())

    def _insert_price(self, price: Decimal) -> None:
        prices = self._prices
        low, high = 0, len(prices)
        while low < high:
            middle = (low + high) // 2
            if prices[middle] < price:
                low = middle + 1
            else:
                high = middle
        prices.insert(low, price)


class TradeTotals:
    """Running quote and base totals over a symbol's kept trades.

    The volume-weighted average over the last N minutes is a difference of two running
    totals, found by bisecting the trade times: O(log n) per order instead of a scan of up to
    ``trade_history_limit`` (100,000) trades, which PERCENT_PRICE_BY_SIDE needs on every order.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._times: list[int] = []
        # Totals of every trade before index i (one more entry than there are trades).
        self._quote_before: list[Decimal] = [ZERO]
        self._qty_before: list[Decimal] = [ZERO]
        # A skewed clock can record a trade earlier than the one before it; bisecting then
        # no longer finds the window, so the average falls back to the scan.
        self._in_order = True

    def add(self, trade: PublicTrade) -> None:
        times = self._times
        if times and trade.time < times[-1]:
            self._in_order = False
        times.append(trade.time)
        self._quote_before.append(_EXACT.add(self._quote_before[-1], trade.quote_qty))
        self._qty_before.append(_EXACT.add(self._qty_before[-1], trade.qty))
        if len(times) >= 2 * self._limit:  # forget the oldest, in one go now and then
            drop = len(times) - self._limit
            del times[:drop], self._quote_before[:drop], self._qty_before[:drop]

    def since(self, since: int) -> tuple[Decimal, Decimal]:
        """(quote, base) traded by the kept trades after the last one before ``since``."""
        times = self._times
        end = len(times)
        kept = max(end - self._limit, 0)
        if self._in_order:
            start = bisect.bisect_left(times, since, kept)
        else:
            start = end
            while start > kept and times[start - 1] >= since:
                start -= 1
        return (
            _EXACT.subtract(self._quote_before[end], self._quote_before[start]),
            _EXACT.subtract(self._qty_before[end], self._qty_before[start]),
        )


class SymbolState:
    def __init__(self, config: SymbolConfig, history_limit: int) -> None:
        self.config = config
        self.bids = BookSide(best_is_highest=True)
        self.asks = BookSide(best_is_highest=False)
        self.stops: list[Order] = []
        self.trades: deque[PublicTrade] = deque(maxlen=history_limit)
        self.totals = TradeTotals(history_limit)
        self.filter_plan: FilterPlan | None = None
        self.last_price: Decimal | None = None
        self.last_update_id = 0
        self.next_order_id = 1
        self.next_trade_id = 1
        self.next_execution_id = 1
        self.next_prevented_id = 1

    def book(self, side: str) -> BookSide:
        return self.bids if side == Side.BUY else self.asks

    def opposite(self, side: str) -> BookSide:
        return self.asks if side == Side.BUY else self.bids

    def take_order_id(self) -> int:
        self.next_order_id += 1
        return self.next_order_id - 1

    def take_trade_id(self) -> int:
        self.next_trade_id += 1
        return self.next_trade_id - 1

    def take_execution_id(self) -> int:
        self.next_execution_id += 1
        return self.next_execution_id - 1

    def take_prevented_id(self) -> int:
        self.next_prevented_id += 1
        return self.next_prevented_id - 1


@dataclass(frozen=True, slots=True)
class CanceledOrder:
    orig_client_order_id: str
    order: Order


@dataclass(frozen=True, slots=True)
class CanceledList:
    view: ListView
    reports: tuple[CanceledOrder, ...]


@dataclass(frozen=True, slots=True)
class PlacedList:
    """An order list and its orders as they were right after placement."""

    view: ListView
    orders: tuple[Order, ...]


@dataclass(frozen=True, slots=True)
class AmendResult:
    order: Order
    orig_client_order_id: str
    execution_id: int
    list_view: ListView | None


def crosses(side: str, limit: Decimal | None, price: Decimal) -> bool:
    """Whether an order on ``side`` with ``limit`` (None: market) trades at ``price``."""
    if limit is None:
        return True
    return price <= limit if side == Side.BUY else price >= limit


def stop_is_triggered(order_type: str, side: str, stop: Decimal, last: Decimal) -> bool:
    """Trigger on the last trade price (web-socket-api.md, order.place notes):
    STOP_LOSS BUY / TAKE_PROFIT SELL wait for the price to rise to stopPrice, the others
    for it to fall to stopPrice."""
    rises = (order_type.startswith("STOP_LOSS")) == (side == Side.BUY)
    return last >= stop if rises else last <= stop


# --- the exchange --------------------------------------------------------------------------


class Exchange:
    """All symbols' books and all accounts' state, changed only through its commands."""

    def __init__(self, config: ExchangeConfig) -> None:
        self.config = config
        self._symbols = {
            item.symbol: SymbolState(item, config.trade_history_limit) for item in config.symbols
        }
        self._accounts = {
            item.account_id: AccountState.from_config(item) for item in config.accounts
        }
        self._lists: dict[int, OrderList] = {}
        self._next_list_id = 1
        # Commission collected per asset: what left the accounts as fees.
        self.commission_collected: dict[str, Decimal] = {}

    # --- read-only views (market data and queries) ---

    def symbol_names(self) -> list[str]:
        return list(self._symbols)

    def symbol(self, name: str) -> SymbolState:
        state = self._symbols.get(name)
        if state is None:
            raise ExchangeError(400, -1121, "Invalid symbol.")
        return state

    def account(self, account_id: str) -> AccountState:
        state = self._accounts.get(account_id)
        if state is None:
            raise ExchangeError(400, -2015, "Invalid API-key, IP, or permissions for action.")
        return state

    def account_ids(self) -> list[str]:
        return list(self._accounts)

    def open_account(self, config: AccountConfig) -> None:
        """Add an account after start (the activity generator trades with its own)."""
        if config.account_id in self._accounts:
            raise ValueError(f"account {config.account_id!r} exists")
        self._accounts[config.account_id] = AccountState.from_config(config)

    def book_levels(self, symbol: str) -> BookLevels:
        state = self.symbol(symbol)
        return BookLevels(state.last_update_id, state.bids.levels(), state.asks.levels())

    def trades(self, symbol: str, limit: int | None = None) -> Sequence[PublicTrade]:
        """The symbol's kept trade history, oldest first (only the last ``limit``, if given)."""
        history = self.symbol(symbol).trades
        if limit is None or limit >= len(history):
            return tuple(history)
        return tuple(reversed(tuple(itertools.islice(reversed(history), limit))))

    def last_price(self, symbol: str) -> Decimal | None:
        return self.symbol(symbol).last_price

    def average_price(self, symbol: str, now: int, minutes: int) -> Decimal | None:
        """Volume-weighted average over the last ``minutes`` (else the last price)."""
        state = self.symbol(symbol)
        if minutes == 0:
            return state.last_price
        quote, qty = state.totals.since(now - minutes * 60_000)
        return quote / qty if qty else state.last_price

    def order_list(self, order_list_id: int) -> OrderList | None:
        return self._lists.get(order_list_id)

    def find_order(
        self,
        account: AccountState,
        symbol: str,
        order_id: int | None,
        client_order_id: str | None,
        not_found: Callable[[], ExchangeError],
    ) -> Order:
        """An order by id (checked against the client id when both are given) or client id."""
        order: Order | None = None
        if order_id is not None:
            order = account.by_id.get((symbol, order_id))
            if order is None:
                raise not_found()
            if client_order_id is not None and order.client_order_id != client_order_id:
                raise ExchangeError(400, -2039, "Client order ID is not correct for this order ID.")
            return order
        if client_order_id is not None:
            order = account.client_ids.get((symbol, client_order_id))
        if order is None:
            raise not_found()
        return order

    # --- validation shared by placement and order.test ---

    def validate_order(
        self,
        account_id: str,
        request: OrderRequest,
        now: int,
        *,
        new_orders: int = 1,
        new_lists: int = 0,
    ) -> None:
        """Everything checked before an order reaches the book: precision, filters, symbol
        and account permissions. ``new_orders``/``new_lists`` count the whole request."""
        account = self.account(account_id)
        state = self.symbol(request.symbol)
        config = state.config
        shape = request.shape()
        rejection = precision_rejection(config, shape)
        if rejection is not None:  # again, naming the parameter as the request did
            rejection = precision_rejection(config, shape, dict(request.param_names))
        else:
            context = self._filter_context(
                account, state, request, now, new_orders=new_orders, new_lists=new_lists
            )
            rejection = first_failure(self._filter_plan(state), shape, context)
        if rejection is not None:
            raise from_rejection(rejection)
        self._check_symbol_allows(account, config, request)

    def _filter_plan(self, state: SymbolState) -> FilterPlan:
        """The symbol's filters then the exchange's, with their checks (made once: configs
        are fixed for the exchange's life)."""
        if state.filter_plan is None:
            state.filter_plan = filter_plan(state.config, self.config.exchange_filters)
        return state.filter_plan

    def _check_symbol_allows(
        self, account: AccountState, config: SymbolConfig, request: OrderRequest
    ) -> None:
        price, quantity = request.price, request.quantity
        is_limit = request.type in LIMIT_TYPES
        if is_limit and price is not None and quantity is not None and mul(price, quantity) <= 0:
            raise ExchangeError(400, -1013, ZERO_NOTIONAL)
        if request.iceberg_qty is not None:
            if request.time_in_force not in (None, "GTC"):
                raise ExchangeError(400, -1014, UNSUPPORTED_COMBINATION)
            if not config.iceberg_allowed:
                raise rejected("Iceberg orders are not supported for this symbol.")
            if request.quantity is not None and request.iceberg_qty >= request.quantity:
                raise rejected(ICEBERG_EXCEEDS)
        if config.status != "TRADING":
            raise rejected(MARKET_CLOSED)
        if not account.config.can_trade:
            raise rejected(CANNOT_TRADE)
        if not _permitted(account.config.permissions, config.permission_sets):
            raise rejected(NOT_PERMITTED)
        if request.type not in config.order_types:
            raise rejected(TYPE_UNSUPPORTED[request.type])
        if request.quote_order_qty is not None and not config.quote_order_qty_market_allowed:
            raise rejected("Quote order qty market orders are not support for this symbol.")
        stp = request.stp_mode
        if stp is not None and stp not in config.allowed_stp_modes:
            raise ExchangeError(
                400, -1130, "Data sent for parameter 'selfTradePreventionMode' is not valid."
            )

    def _filter_context(
        self,
        account: AccountState,
        state: SymbolState,
        request: OrderRequest,
        now: int,
        *,
        new_orders: int,
        new_lists: int,
    ) -> FilterContext:
        symbol = state.config.symbol
        placing = OpenCounts(
            new_orders, int(request.type in ALGO_TYPES), int(bool(request.iceberg_qty)), new_lists
        )
        base = account.balances.get(state.config.base_asset)
        position = base.free + base.locked if base is not None else ZERO
        opens, lists = account.open_orders, account.open_lists()
        if opens or lists:
            mine = [o for o in opens.values() if o.symbol == symbol]
            symbol_counts = _open_counts(mine, sum(x.symbol == symbol for x in lists), placing)
            exchange_counts = _open_counts(opens.values(), len(lists), placing)
            position += sum((o.remaining for o in mine if o.side == "BUY"), ZERO)
        else:  # nothing open yet, as when orders trade at once: only what is being placed
            symbol_counts = exchange_counts = placing
        return FilterContext(
            reference_price=lambda minutes: self.average_price(symbol, now, minutes),
            symbol_counts=symbol_counts,
            exchange_counts=exchange_counts,
            position=position,
        )

    # --- commands: single orders ---

    def place_order(self, account_id: str, request: OrderRequest, fx: Effects) -> Order:
        """order.place: validate, lock, report NEW, match or rest (or wait for a trigger)."""
        self.validate_order(account_id, request, fx.now)
        account = self.account(account_id)
        state = self.symbol(request.symbol)
        self._check_client_id_free(account, request.symbol, request.client_order_id)
        order = self._new_order(account, state, request, fx.now)
        self._check_placeable(account, state, order)
        self._open(account, state, order, fx)
        _mark_working(order, fx.now)
        self._report(order, Execution.NEW, fx)
        self._go_live(order, fx)
        placed = order.snapshot()  # as placed: before any stop it set off runs
        self._settle(state, fx)
        return placed

    def _check_client_id_free(self, account: AccountState, symbol: str, client_id: str) -> None:
        existing = account.client_ids.get((symbol, client_id))
        if existing is not None and existing.is_open:
            raise rejected(DUPLICATE_ORDER)

    def _new_order(
        self, account: AccountState, state: SymbolState, request: OrderRequest, now: int
    ) -> Order:
        config = state.config
        is_limit = request.type in LIMIT_TYPES
        quantity = request.quantity
        if quantity is None:  # quoteOrderQty MARKET: the quantity the book can give
            quantity = self._quote_order_quantity(account, state, request)
        return Order(
            symbol=config.symbol,
            order_id=0,
            client_order_id=request.client_order_id,
            account_id=account.config.account_id,
            side=request.side,
            type=request.type,
            time_in_force=request.time_in_force or "GTC",
            price=(request.price or ZERO) if is_limit else ZERO,
            orig_qty=quantity,
            quote_order_qty=request.quote_order_qty or ZERO,
            stop_price=request.stop_price,
            iceberg_qty=request.iceberg_qty,
            strategy_id=request.strategy_id,
            strategy_type=request.strategy_type,
            stp_mode=request.stp_mode or config.default_stp_mode,
            time=now,
            update_time=now,
        )

    def _quote_order_quantity(
        self, account: AccountState, state: SymbolState, request: OrderRequest
    ) -> Decimal:
        """The base quantity a quoteOrderQty MARKET order will trade (web-socket-api.md:
        "as close as possible to requested quoteOrderQty", following LOT_SIZE)."""
        book = state.opposite(request.side)
        if book.best_price() is None:
            raise rejected(NO_LIQUIDITY)
        lot = state.config.find_filter(LotSize)
        step = lot.step_size if lot else ZERO
        quote_left = request.quote_order_qty or ZERO
        stp = request.stp_mode or state.config.default_stp_mode
        quantity = ZERO
        for maker in book.orders_best_first():
            if maker.account_id == account.config.account_id and stp != "NONE":
                continue
            affordable = _steps_affordable(quote_left, maker.price, step)
            take = min(maker.remaining, affordable)
            if take <= 0:
                break
            quantity += take
            quote_left -= mul(take, maker.price)
        minimum = max((f.min_qty for f in _lot_filters(state.config)), default=ZERO)
        if quantity <= 0 or quantity < minimum:
            raise rejected(LOT_SIZE_LIQUIDITY)
        return quantity

    def _check_placeable(self, account: AccountState, state: SymbolState, order: Order) -> None:
        """Matching-engine checks on a new order: stop triggers, post-only, balance."""
        last = state.last_price
        stop = order.stop_price
        if (
            order.type in STOP_TYPES
            and stop is not None
            and last is not None
            and stop_is_triggered(order.type, order.side, stop, last)
        ):
            raise rejected(WOULD_TRIGGER)
        if order.type == "LIMIT_MAKER" and self._would_take(state, order):
            raise rejected(WOULD_MATCH)
        if order.is_market and order.type == "MARKET":
            self._check_market_funds(account, state, order)
        elif self._free(account, order) < self._lock_need(order):
            raise rejected(INSUFFICIENT_BALANCE)

    def _would_take(self, state: SymbolState, order: Order) -> bool:
        best = state.opposite(order.side).best_price()
        return best is not None and crosses(order.side, order.price, best)

    def _check_market_funds(self, account: AccountState, state: SymbolState, order: Order) -> None:
        """MARKET orders are paid from free balance as they trade: refuse one that could
        not pay for every fill the book offers."""
        spend = ZERO
        want = order.remaining
        for maker in state.opposite(order.side).orders_best_first():
            if want <= 0:
                break
            if maker.account_id == order.account_id and order.stp_mode != "NONE":
                continue  # never traded: STP expires one side or the other
            take = min(want, maker.remaining)
            want -= take
            spend += mul(take, maker.price) if order.side == Side.BUY else take
        if self._free(account, order) < spend:
            raise rejected(INSUFFICIENT_BALANCE)

    def _free(self, account: AccountState, order: Order) -> Decimal:
        return account.balance(self._lock_asset(order)).free

    def _lock_asset(self, order: Order) -> str:
        config = self.symbol(order.symbol).config
        return config.quote_asset if order.side == Side.BUY else config.base_asset

    @staticmethod
    def _lock_need(order: Order) -> Decimal:
        """What an open order must hold locked for its remaining quantity."""
        if order.status == Status.PENDING_NEW or order.type == "MARKET":
            return ZERO
        if order.side == Side.SELL:
            return order.remaining
        unit = order.price if order.type in LIMIT_TYPES else order.stop_price or ZERO
        return mul(order.remaining, unit)

    def _open(self, account: AccountState, state: SymbolState, order: Order, fx: Effects) -> None:
        """Give ``order`` its id, index it and lock what it needs."""
        self._index(account, state, order)
        self._lock(order, self._lock_need(order), fx)

    def _lock(self, order: Order, amount: Decimal, fx: Effects) -> None:
        if amount <= 0:
            return
        account = self.account(order.account_id)
        asset = self._lock_asset(order)
        balance = account.balance(asset)
        balance.free -= amount
        balance.locked += amount
        order.locked += amount
        self._touch(account, asset, fx)

    def _release(self, order: Order, amount: Decimal, fx: Effects) -> None:
        if amount <= 0:
            return
        account = self.account(order.account_id)
        asset = self._lock_asset(order)
        balance = account.balance(asset)
        balance.locked -= amount
        balance.free += amount
        order.locked -= amount
        self._touch(account, asset, fx)

    def _trim_lock(self, order: Order, fx: Effects) -> None:
        self._release(order, order.locked - self._lock_need(order), fx)

    def _touch(self, account: AccountState, asset: str, fx: Effects) -> None:
        account.update_time = fx.now
        fx.touch(account.config.account_id, asset)

    def _report(
        self,
        order: Order,
        execution_type: str,
        fx: Effects,
        *,
        orig_client_order_id: str = "",
        trade: TradeInfo | None = None,
        prevention: PreventionInfo | None = None,
    ) -> int:
        execution_id = self.symbol(order.symbol).take_execution_id()
        if not fx.keep_reports:
            return execution_id
        fx.records.append(
            ExecutionRecord(
                order.account_id,
                order.snapshot(),
                execution_type,
                execution_id,
                fx.now,
                orig_client_order_id,
                trade,
                prevention,
            )
        )
        return execution_id

    def _report_list(
        self, order_list: OrderList, fx: Effects, status_type: str | None = None
    ) -> None:
        if fx.keep_reports:
            view = order_list.view(status_type)
            fx.records.append(ListStatusRecord(order_list.account_id, view, fx.now))

    # --- going live: matching, resting, triggers ---

    def _go_live(self, order: Order, fx: Effects) -> None:
        state = self.symbol(order.symbol)
        if order.type in STOP_TYPES and order.working_time == -1:
            state.stops.append(order)  # waits for the last price to reach stopPrice
            return
        order.working_time = fx.now
        if order.is_market:
            self._execute_market(order, fx)
        elif order.type == "LIMIT_MAKER":
            self._rest_or_reject(order, fx)
        else:
            self._execute_limit(order, fx)

    def _execute_market(self, order: Order, fx: Effects) -> None:
        state = self.symbol(order.symbol)
        account = self.account(order.account_id)
        self._release(order, order.locked, fx)  # a triggered stop pays from free, like MARKET
        try:
            self._check_market_funds(account, state, order)
        except ExchangeError:
            self._end(order, Status.EXPIRED, Execution.EXPIRED, fx, reason="REJECTED")
            return
        self._match(order, fx)
        if order.is_open:
            self._end(order, Status.EXPIRED, Execution.EXPIRED, fx, reason="INSUFFICIENT_LIQUIDITY")

    def _execute_limit(self, order: Order, fx: Effects) -> None:
        if order.time_in_force == "FOK" and not self._fok_fillable(order):
            self._end(
                order, Status.EXPIRED, Execution.EXPIRED, fx, reason="UNFILLED_FOK_ORDER_EXPIRED"
            )
            return
        self._match(order, fx)
        if not order.is_open:
            return
        if order.time_in_force == "IOC":
            self._end(
                order, Status.EXPIRED, Execution.EXPIRED, fx, reason="UNFILLED_IOC_QUANTITY_EXPIRED"
            )
            return
        self._rest(order, fx)

    def _rest_or_reject(self, order: Order, fx: Effects) -> None:
        """LIMIT_MAKER going live later (order lists): expire it if it would take."""
        if self._would_take(self.symbol(order.symbol), order):
            self._end(order, Status.EXPIRED, Execution.EXPIRED, fx, reason="REJECTED")
        else:
            self._rest(order, fx)

    def _rest(self, order: Order, fx: Effects) -> None:
        state = self.symbol(order.symbol)
        order.visible = min(order.iceberg_qty or order.remaining, order.remaining)
        order.on_book = True
        state.book(order.side).add(order)
        self._touch_level(state, order.side, order.price, fx)

    def _touch_level(self, state: SymbolState, side: str, price: Decimal, fx: Effects) -> None:
        state.last_update_id += 1
        symbol = state.config.symbol
        fx.depth_first_id.setdefault(symbol, state.last_update_id)
        fx.depth_levels.setdefault(symbol, {})[(side, price)] = None

    def _fok_fillable(self, order: Order) -> bool:
        """FOK: the whole quantity must trade now. Own orders stop the count unless STP
        lets the taker go past them (NONE trades with them, EXPIRE_MAKER removes them)."""
        state = self.symbol(order.symbol)
        want = order.remaining
        for maker in state.opposite(order.side).orders_best_first():
            if not crosses(order.side, order.price, maker.price):
                break
            if maker.account_id == order.account_id and order.stp_mode != "NONE":
                if order.stp_mode == "EXPIRE_MAKER":
                    continue
                break
            want -= maker.remaining
            if want <= 0:
                return True
        return False

    def _match(self, taker: Order, fx: Effects) -> None:
        """Trade ``taker`` against the opposite side, best price first, oldest first."""
        state = self.symbol(taker.symbol)
        book = state.opposite(taker.side)
        limit = None if taker.is_market else taker.price
        while taker.is_open and taker.remaining > 0:
            price = book.best_price()
            if price is None or not crosses(taker.side, limit, price):
                return
            maker = book.front(price)
            if maker.account_id == taker.account_id and taker.stp_mode != "NONE":
                self._prevent(taker, maker, fx)
                continue
            self._trade(taker, maker, min(taker.remaining, maker.visible), fx)

    def _trade(self, taker: Order, maker: Order, qty: Decimal, fx: Effects) -> None:
        self._resolve_oco(maker, fx)
        self._resolve_oco(taker, fx)
        state = self.symbol(taker.symbol)
        config = state.config
        price = maker.price
        quote = mul(price, qty)
        trade_id = state.take_trade_id()
        buyer, seller = (taker, maker) if taker.side == Side.BUY else (maker, taker)
        self._pay(buyer, config.quote_asset, quote, mul(qty, buyer.price), fx)
        self._pay(seller, config.base_asset, qty, qty, fx)
        infos: dict[int, TradeInfo] = {}
        for order, received_asset, received, places in (
            (buyer, config.base_asset, qty, config.base_commission_precision),
            (seller, config.quote_asset, quote, config.quote_commission_precision),
        ):
            is_maker = order is maker
            fee = self._credit(
                order, received_asset, received, places=places, is_maker=is_maker, fx=fx
            )
            infos[id(order)] = TradeInfo(trade_id, price, qty, quote, fee, received_asset, is_maker)
            order.executed_qty += qty
            order.cumm_quote_qty += quote
            order.update_time = fx.now
            self._record_account_trade(order, infos[id(order)], buyer is order, fx.now)
        fx.fills.setdefault((taker.symbol, taker.order_id), []).append(infos[id(taker)])
        self._record_public_trade(state, infos[id(buyer)], buyer, seller, fx)
        self._update_maker_after_trade(state, maker, qty, fx)
        for order in (taker, maker):
            info = infos[id(order)]
            if order.remaining == 0:
                self._end(order, Status.FILLED, Execution.TRADE, fx, trade=info)
            else:
                order.status = Status.PARTIALLY_FILLED
                self._report(order, Execution.TRADE, fx, trade=info)

    def _pay(
        self, order: Order, asset: str, amount: Decimal, from_lock: Decimal, fx: Effects
    ) -> None:
        """The buyer pays quote, the seller delivers base: from its lock (``from_lock`` of
        it, returning the excess: a BUY may fill below its limit) or, at market, from free."""
        account = self.account(order.account_id)
        balance = account.balance(asset)
        if order.is_market:
            balance.free -= amount
        else:
            balance.locked -= from_lock
            order.locked -= from_lock
            balance.free += from_lock - amount
        self._touch(account, asset, fx)

    def _credit(
        self,
        order: Order,
        asset: str,
        amount: Decimal,
        *,
        places: int,
        is_maker: bool,
        fx: Effects,
    ) -> Decimal:
        """Credit what ``order`` received, less commission in that asset; return the fee."""
        account = self.account(order.account_id)
        rate = account.config.maker_commission if is_maker else account.config.taker_commission
        fee = mul(amount, rate).quantize(_quantum(places), rounding=ROUND_HALF_UP)
        account.balance(asset).free += amount - fee
        self.commission_collected[asset] = self.commission_collected.get(asset, ZERO) + fee
        self._touch(account, asset, fx)
        return fee

    def _record_account_trade(
        self, order: Order, info: TradeInfo, is_buyer: bool, now: int
    ) -> None:
        account = self.account(order.account_id)
        account.trades.setdefault(order.symbol, []).append(
            AccountTrade(
                order.symbol,
                info.trade_id,
                order.order_id,
                order.order_list_id,
                info.price,
                info.qty,
                info.quote_qty,
                info.commission,
                info.commission_asset,
                now,
                is_buyer,
                info.is_maker,
            )
        )

    def _record_public_trade(
        self, state: SymbolState, buyer_info: TradeInfo, buyer: Order, seller: Order, fx: Effects
    ) -> None:
        info = buyer_info
        trade = PublicTrade(
            state.config.symbol,
            info.trade_id,
            info.price,
            info.qty,
            info.quote_qty,
            fx.now,
            info.is_maker,
            buyer.order_id,
            seller.order_id,
        )
        state.trades.append(trade)
        state.totals.add(trade)
        state.last_price = info.price
        fx.trades.append(trade)

    def _update_maker_after_trade(
        self, state: SymbolState, maker: Order, qty: Decimal, fx: Effects
    ) -> None:
        """Take ``qty`` off the maker's visible part; a drained iceberg shows its next part
        at the back of its level (it loses time priority)."""
        maker.visible -= qty
        self._touch_level(state, maker.side, maker.price, fx)
        if maker.visible == 0 and maker.remaining > 0:
            maker.visible = min(maker.iceberg_qty or maker.remaining, maker.remaining)
            state.book(maker.side).move_to_back(maker)

    # --- self-trade prevention ---

    def _prevent(self, taker: Order, maker: Order, fx: Effects) -> None:
        """STP: the taker's mode decides which side expires (enums.md "STP Modes");
        DECREMENT takes the smaller remaining quantity off both."""
        state = self.symbol(taker.symbol)
        mode = taker.stp_mode
        match_id = state.take_prevented_id()
        would_trade = min(taker.remaining, maker.visible)
        price = maker.price
        prevented: dict[int, Decimal] = {}
        if mode in ("EXPIRE_TAKER", "EXPIRE_BOTH"):
            prevented[id(taker)] = taker.remaining
        if mode in ("EXPIRE_MAKER", "EXPIRE_BOTH"):
            prevented[id(maker)] = maker.remaining
        if mode == "DECREMENT":
            both = min(taker.remaining, maker.remaining)
            prevented = {id(taker): both, id(maker): both}
        self._record_prevented_match(taker, maker, match_id, prevented, fx.now)
        for order in (taker, maker):
            if id(order) in prevented:
                self._resolve_oco(order, fx)
        for order, counter in ((taker, maker), (maker, taker)):
            amount = prevented.get(id(order))
            if amount is None:
                continue
            info = PreventionInfo(
                match_id, amount, counter.order_id, counter.symbol, price, would_trade
            )
            self._apply_prevention(state, order, amount, info, fx)

    def _apply_prevention(
        self,
        state: SymbolState,
        order: Order,
        amount: Decimal,
        info: PreventionInfo,
        fx: Effects,
    ) -> None:
        order.prevented_qty += amount
        order.prevented_match_id = info.prevented_match_id
        order.update_time = fx.now
        if order.remaining == 0:
            self._end(
                order, Status.EXPIRED_IN_MATCH, Execution.TRADE_PREVENTION, fx, prevention=info
            )
            return
        self._trim_lock(order, fx)
        if order.on_book:  # it shows less now
            order.visible = min(order.visible, order.remaining)
            self._touch_level(state, order.side, order.price, fx)
        self._report(order, Execution.TRADE_PREVENTION, fx, prevention=info)

    def _record_prevented_match(
        self,
        taker: Order,
        maker: Order,
        match_id: int,
        prevented: dict[int, Decimal],
        now: int,
    ) -> None:
        record = PreventedMatch(
            taker.symbol,
            match_id,
            taker.order_id,
            maker.symbol,
            maker.order_id,
            NO_TRADE_GROUP,
            taker.stp_mode,
            maker.price,
            prevented.get(id(taker)),
            prevented.get(id(maker)),
            now,
        )
        self.account(taker.account_id).prevented.setdefault(taker.symbol, []).append(record)

    # --- ending orders ---

    def _end(
        self,
        order: Order,
        status: str,
        execution_type: str,
        fx: Effects,
        *,
        reason: str | None = None,
        orig_client_order_id: str = "",
        trade: TradeInfo | None = None,
        prevention: PreventionInfo | None = None,
    ) -> None:
        """Move ``order`` to a final status, report it, then let its order list react."""
        self._retire(order, status, fx, reason)
        self._report(
            order,
            execution_type,
            fx,
            orig_client_order_id=orig_client_order_id,
            trade=trade,
            prevention=prevention,
        )
        self._on_order_ended(order, fx)

    def _retire(self, order: Order, status: str, fx: Effects, reason: str | None = None) -> None:
        state = self.symbol(order.symbol)
        account = self.account(order.account_id)
        if order.on_book:
            state.book(order.side).remove(order)
            self._touch_level(state, order.side, order.price, fx)
            order.on_book = False
            order.visible = ZERO
        if order in state.stops:
            state.stops.remove(order)
        self._release(order, order.locked, fx)
        order.status = status
        order.update_time = fx.now
        if status == Status.EXPIRED:
            order.expiry_reason = reason
        account.open_orders.pop((order.symbol, order.order_id), None)

    # --- triggers and deferred work ---

    def _settle(self, state: SymbolState, fx: Effects) -> None:
        """Run what the request set off: order-list activations, then triggered stops,
        until nothing more happens."""
        while True:
            if fx.deferred:
                fx.deferred.pop(0)()
                continue
            order = self._next_triggered(state)
            if order is None:
                return
            self._trigger(order, fx)

    def _next_triggered(self, state: SymbolState) -> Order | None:
        last = state.last_price
        if last is None:
            return None
        for order in state.stops:
            assert order.stop_price is not None
            if stop_is_triggered(order.type, order.side, order.stop_price, last):
                return order
        return None

    def _trigger(self, order: Order, fx: Effects) -> None:
        state = self.symbol(order.symbol)
        state.stops.remove(order)
        order.working_time = fx.now
        order.update_time = fx.now
        self._report(order, Execution.NEW, fx)
        self._resolve_oco(order, fx)
        self._go_live(order, fx)

    # --- order lists ---

    def _resolve_oco(self, order: Order, fx: Effects) -> None:
        """One OCO leg starts working (trades, triggers, is prevented): the other expires
        and hands over its share of the pair's lock (user-data-stream.md: OCO_TRIGGER)."""
        order_list = self._lists.get(order.order_list_id)
        if order_list is None:
            return
        sibling = order_list.sibling(order)
        if sibling is None or not sibling.is_open or sibling.status == Status.PENDING_NEW:
            return
        order.locked += sibling.locked
        sibling.locked = ZERO
        self._end(sibling, Status.EXPIRED, Execution.EXPIRED, fx, reason="OCO_TRIGGER")
        self._trim_lock(order, fx)

    def _on_order_ended(self, order: Order, fx: Effects) -> None:
        order_list = self._lists.get(order.order_list_id)
        if order_list is None:
            return
        if order is order_list.working:
            if order.status == Status.FILLED:
                fx.deferred.append(lambda: self._activate_pending(order_list, fx))
            else:
                for pending in order_list.pending:
                    if pending.status == Status.PENDING_NEW:
                        self._end(
                            pending,
                            Status.EXPIRED,
                            Execution.EXPIRED,
                            fx,
                            reason="OTO_PHASE_ONE_EXPIRED",
                        )
        elif order.expiry_reason != "OCO_TRIGGER":
            self._resolve_oco(order, fx)
        self._finish_list_if_done(order_list, fx)

    def _finish_list_if_done(self, order_list: OrderList, fx: Effects) -> None:
        if not order_list.is_open or not _list_done(order_list):
            return
        order_list.list_status_type = "ALL_DONE"
        order_list.list_order_status = "ALL_DONE"
        order_list.transaction_time = fx.now
        self._report_list(order_list, fx)

    def _activate_pending(self, order_list: OrderList, fx: Effects) -> None:
        """The working order filled: the pending order(s) go live (lock, NEW, match)."""
        legs = [o for o in order_list.pending if o.status == Status.PENDING_NEW]
        if not legs:
            return
        account = self.account(order_list.account_id)
        for leg in legs:
            leg.status = Status.NEW
        total = _pair_targets(self._lock_need, legs)[2]
        if self._free(account, legs[0]) < total:
            for leg in legs:
                self._retire(leg, Status.EXPIRED, fx, "REJECTED")
                self._report(leg, Execution.EXPIRED, fx)
            self._finish_list_if_done(order_list, fx)
            return
        if len(legs) == 2:
            self._lock_pair(legs[0], legs[1], fx)
        else:
            self._lock(legs[0], self._lock_need(legs[0]), fx)
        for leg in legs:
            leg.update_time = fx.now
            _mark_working(leg, fx.now)
            self._report(leg, Execution.NEW, fx)
        order_list.transaction_time = fx.now
        self._report_list(order_list, fx)
        for leg in legs:
            if leg.is_open:
                self._go_live(leg, fx)

    def _lock_pair(self, first: Order, second: Order, fx: Effects) -> None:
        """Bring an OCO pair's locks to what the pair needs: the larger leg's need, shared
        (the first leg holds its own need, the second the rest)."""
        first_target, second_target, _ = _pair_targets(self._lock_need, [first, second])
        for order, target in ((first, first_target), (second, second_target)):
            if order.locked < target:
                self._lock(order, target - order.locked, fx)
            else:
                self._release(order, order.locked - target, fx)

    # --- placing order lists ---

    def place_oco(
        self,
        account_id: str,
        above: OrderRequest,
        below: OrderRequest,
        list_client_order_id: str,
        fx: Effects,
    ) -> PlacedList:
        """orderList.place.oco: a pair where one leg working expires the other."""
        check_oco_legs(above, below)
        for leg in (above, below):
            self.validate_order(account_id, leg, fx.now, new_orders=2, new_lists=1)
        self._check_list_symbol(above.symbol, "oco")
        account = self.account(account_id)
        state = self.symbol(above.symbol)
        self._check_list_ids(account, list_client_order_id, (above, below))
        first, second = _stop_leg_first(above, below)
        orders = [self._new_order(account, state, leg, fx.now) for leg in (first, second)]
        self._check_oco_prices(state, above, below)
        for order in orders:
            if order.type == "LIMIT_MAKER" and self._would_take(state, order):
                raise rejected(WOULD_MATCH)
        if self._free(account, orders[0]) < _pair_targets(self._lock_need, orders)[2]:
            raise rejected(INSUFFICIENT_BALANCE)
        order_list = self._new_list(account, state, "OCO", list_client_order_id, orders, fx=fx)
        order_list.oco_pair = (orders[0], orders[1])
        for order in orders:
            self._index(account, state, order)
        self._lock_pair(orders[0], orders[1], fx)
        self._start_list(order_list, orders, fx)
        for order in orders:
            if order.is_open:
                self._go_live(order, fx)
        placed = PlacedList(order_list.view(), tuple(o.snapshot() for o in orders))
        self._settle(state, fx)
        return placed

    def place_oto(
        self,
        account_id: str,
        working: OrderRequest,
        pending: Sequence[OrderRequest],
        list_client_order_id: str,
        fx: Effects,
    ) -> PlacedList:
        """orderList.place.oto / .otoco: a working order whose fill places the pending
        order (OTO) or pending OCO pair (OTOCO: ``pending`` is ``(above, below)``)."""
        if len(pending) == 2:
            check_oco_legs(pending[0], pending[1])
        total_orders = 1 + len(pending)
        for leg in (working, *pending):
            self.validate_order(account_id, leg, fx.now, new_orders=total_orders, new_lists=1)
        self._check_list_symbol(working.symbol, "oto")
        account = self.account(account_id)
        state = self.symbol(working.symbol)
        self._check_list_ids(account, list_client_order_id, (working, *pending))
        legs = list(pending) if len(pending) == 1 else list(_stop_leg_first(pending[0], pending[1]))
        if len(pending) == 2 and _key_price(pending[0]) <= _key_price(pending[1]):
            raise rejected(BAD_OCO_PRICES)
        working_order = self._new_order(account, state, working, fx.now)
        if working_order.type == "LIMIT_MAKER" and self._would_take(state, working_order):
            raise rejected(WOULD_MATCH)
        if self._free(account, working_order) < self._lock_need(working_order):
            raise rejected(INSUFFICIENT_BALANCE)
        pending_orders = [self._new_order(account, state, leg, fx.now) for leg in legs]
        for order in pending_orders:
            order.status = Status.PENDING_NEW
        orders = [working_order, *pending_orders]
        order_list = self._new_list(account, state, "OTO", list_client_order_id, orders, fx=fx)
        order_list.working = working_order
        order_list.pending = tuple(pending_orders)
        if len(pending_orders) == 2:
            order_list.oco_pair = (pending_orders[0], pending_orders[1])
        for order in orders:
            self._index(account, state, order)
        self._lock(working_order, self._lock_need(working_order), fx)
        self._start_list(order_list, orders, fx)
        self._go_live(working_order, fx)
        # As placed: pending orders still PENDING_NEW even if the working order filled
        # (web-socket-api.md, orderList.place.oto notes).
        placed = PlacedList(order_list.view(), tuple(o.snapshot() for o in orders))
        self._settle(state, fx)
        return placed

    def _check_list_symbol(self, symbol: str, kind: str) -> None:
        config = self.symbol(symbol).config
        if kind == "oco" and not config.oco_allowed:
            raise rejected("OCO orders are not supported for this symbol")
        if kind == "oto" and not config.oto_allowed:
            raise rejected("OTO orders are not supported for this symbol.")

    def _check_list_ids(
        self, account: AccountState, list_client_order_id: str, legs: Sequence[OrderRequest]
    ) -> None:
        if any(x.list_client_order_id == list_client_order_id for x in account.open_lists()):
            raise rejected(DUPLICATE_ORDER)
        seen: set[str] = set()
        for leg in legs:
            if leg.client_order_id in seen:
                raise rejected(DUPLICATE_ORDER)
            seen.add(leg.client_order_id)
            self._check_client_id_free(account, leg.symbol, leg.client_order_id)

    def _check_oco_prices(
        self, state: SymbolState, above: OrderRequest, below: OrderRequest
    ) -> None:
        """web-socket-api.md orderList.place.oco: above leg's price > last price > below
        leg's price (limit price for LIMIT_MAKER, stopPrice for the others)."""
        high, low = _key_price(above), _key_price(below)
        last = state.last_price
        ok = high > low if last is None else high > last > low
        if not ok:
            raise rejected(BAD_OCO_PRICES)

    def _new_list(
        self,
        account: AccountState,
        state: SymbolState,
        contingency_type: str,
        list_client_order_id: str,
        orders: list[Order],
        *,
        fx: Effects,
    ) -> OrderList:
        list_id = self._next_list_id
        self._next_list_id += 1
        order_list = OrderList(
            list_id,
            state.config.symbol,
            account.config.account_id,
            contingency_type,
            list_client_order_id,
            fx.now,
            orders,
        )
        self._lists[list_id] = order_list
        account.lists[list_id] = order_list
        for order in orders:
            order.order_list_id = list_id
        return order_list

    def _index(self, account: AccountState, state: SymbolState, order: Order) -> None:
        order.order_id = state.take_order_id()
        account.open_orders[(order.symbol, order.order_id)] = order
        account.orders.setdefault(order.symbol, []).append(order)
        account.by_id[(order.symbol, order.order_id)] = order
        account.client_ids[(order.symbol, order.client_order_id)] = order

    def _start_list(self, order_list: OrderList, orders: list[Order], fx: Effects) -> None:
        for order in orders:
            if order.status != Status.PENDING_NEW:
                _mark_working(order, fx.now)
            self._report(order, Execution.NEW, fx)
        self._report_list(order_list, fx)

    # --- cancelling ---

    def cancel_order(
        self,
        account_id: str,
        symbol: str,
        *,
        order_id: int | None,
        orig_client_order_id: str | None,
        new_client_order_id: str,
        restriction: str | None,
        fx: Effects,
    ) -> CanceledOrder | CanceledList:
        """order.cancel: an order of a list cancels the whole list (web-socket-api.md)."""
        account = self.account(account_id)
        state = self.symbol(symbol)
        if not account.config.can_trade:
            raise cancel_rejected(CANNOT_TRADE)
        order = self.find_order(
            account, symbol, order_id, orig_client_order_id, lambda: cancel_rejected(UNKNOWN_ORDER)
        )
        if not order.is_open:
            raise cancel_rejected(UNKNOWN_ORDER)
        if restriction == "ONLY_NEW" and order.status != Status.NEW:
            raise cancel_rejected(CANCEL_RESTRICTED)
        if restriction == "ONLY_PARTIALLY_FILLED" and order.status != Status.PARTIALLY_FILLED:
            raise cancel_rejected(CANCEL_RESTRICTED)
        order_list = self._lists.get(order.order_list_id)
        if order_list is not None:
            result = self._cancel_list(order_list, fx, leg_client_order_id=new_client_order_id)
            self._settle(state, fx)
            return result
        original = order.client_order_id
        self._rename(account, order, new_client_order_id)
        self._end(order, Status.CANCELED, Execution.CANCELED, fx, orig_client_order_id=original)
        self._settle(state, fx)
        return CanceledOrder(original, order)

    def cancel_order_list(
        self,
        account_id: str,
        symbol: str,
        *,
        order_list_id: int | None,
        list_client_order_id: str | None,
        new_list_client_order_id: str,
        fx: Effects,
    ) -> CanceledList:
        """orderList.cancel."""
        account = self.account(account_id)
        state = self.symbol(symbol)
        if not account.config.can_trade:
            raise cancel_rejected(CANNOT_TRADE)
        order_list = self._find_list(account, symbol, order_list_id, list_client_order_id)
        if order_list is None or not order_list.is_open:
            raise cancel_rejected(UNKNOWN_ORDER)
        order_list.list_client_order_id = new_list_client_order_id
        result = self._cancel_list(order_list, fx)
        self._settle(state, fx)
        return result

    def _find_list(
        self,
        account: AccountState,
        symbol: str | None,
        order_list_id: int | None,
        list_client_order_id: str | None,
    ) -> OrderList | None:
        candidates = [x for x in account.lists.values() if symbol is None or x.symbol == symbol]
        if list_client_order_id is not None:
            matches = [x for x in candidates if x.list_client_order_id == list_client_order_id]
            found = matches[-1] if matches else None
            if (
                found is not None
                and order_list_id is not None
                and found.order_list_id != order_list_id
            ):
                return None
            return found
        return next((x for x in candidates if x.order_list_id == order_list_id), None)

    def find_order_list(
        self, account_id: str, order_list_id: int | None, list_client_order_id: str | None
    ) -> OrderList | None:
        """orderList.status lookup: by listClientOrderId when given, else by id."""
        account = self.account(account_id)
        if list_client_order_id is not None:
            return self._find_list(account, None, None, list_client_order_id)
        return self._find_list(account, None, order_list_id, None)

    def _cancel_list(
        self, order_list: OrderList, fx: Effects, *, leg_client_order_id: str | None = None
    ) -> CanceledList:
        account = self.account(order_list.account_id)
        reports: list[CanceledOrder] = []
        for leg in order_list.orders:
            original = leg.client_order_id
            if leg_client_order_id is not None:
                self._rename(account, leg, leg_client_order_id)
            if leg.is_open:
                self._retire(leg, Status.CANCELED, fx)
                self._report(leg, Execution.CANCELED, fx, orig_client_order_id=original)
            reports.append(CanceledOrder(original, leg.snapshot()))
        order_list.list_status_type = "ALL_DONE"
        order_list.list_order_status = "ALL_DONE"
        order_list.transaction_time = fx.now
        self._report_list(order_list, fx)
        return CanceledList(order_list.view(), tuple(reports))

    def _rename(self, account: AccountState, order: Order, client_order_id: str) -> None:
        """A new client id frees the old one (web-socket-api.md, order.cancel notes)."""
        old_key = (order.symbol, order.client_order_id)
        if account.client_ids.get(old_key) is order:
            del account.client_ids[old_key]
        order.client_order_id = client_order_id
        account.client_ids[(order.symbol, client_order_id)] = order

    def cancel_all(
        self, account_id: str, symbol: str, fx: Effects
    ) -> list[CanceledOrder | CanceledList]:
        """openOrders.cancelAll: every open order and order list on ``symbol``."""
        account = self.account(account_id)
        state = self.symbol(symbol)
        if not account.config.can_trade:
            raise cancel_rejected(CANNOT_TRADE)
        opens = [o for o in account.open_orders.values() if o.symbol == symbol]
        if not opens:
            raise cancel_rejected(UNKNOWN_ORDER)
        results: list[CanceledOrder | CanceledList] = []
        for order in opens:
            if not order.is_open:
                continue  # cancelled with its list already
            order_list = self._lists.get(order.order_list_id)
            if order_list is not None:
                results.append(self._cancel_list(order_list, fx))
                continue
            original = order.client_order_id
            self._retire(order, Status.CANCELED, fx)
            self._report(order, Execution.CANCELED, fx, orig_client_order_id=original)
            results.append(CanceledOrder(original, order.snapshot()))
        self._settle(state, fx)
        return results

    # --- amending ---

    def amend_order(
        self,
        account_id: str,
        symbol: str,
        *,
        order_id: int | None,
        orig_client_order_id: str | None,
        new_client_order_id: str,
        new_qty: Decimal,
        fx: Effects,
    ) -> AmendResult:
        """order.amend.keepPriority: reduce the quantity without losing queue position.
        An OCO's legs share one quantity, so both are amended."""
        account = self.account(account_id)
        state = self.symbol(symbol)
        if not state.config.amend_allowed:
            raise amend_rejected(AMEND_UNSUPPORTED)
        order = self.find_order(
            account, symbol, order_id, orig_client_order_id, lambda: amend_rejected(UNKNOWN_ORDER)
        )
        if not order.is_open:
            raise amend_rejected(UNKNOWN_ORDER)
        rejection = amend_rejection(state.config, order.amendments)
        if rejection is not None:
            raise from_rejection(rejection)
        if new_qty == order.orig_qty:
            raise amend_rejected(AMEND_NO_CHANGE)
        if new_qty > order.orig_qty:
            raise amend_rejected(AMEND_INCREASE)
        holder = account.client_ids.get((symbol, new_client_order_id))
        if holder is not None and holder is not order and holder.is_open:
            raise amend_rejected(DUPLICATE_ORDER)
        order_list = self._lists.get(order.order_list_id)
        sibling = order_list.sibling(order) if order_list else None
        original = order.client_order_id
        paired = sibling is not None and sibling.is_open
        execution_id = self._amend_one(
            account, state, order, new_client_order_id, new_qty=new_qty, fx=fx, trim=not paired
        )
        if sibling is not None and paired:
            self._amend_one(
                account,
                state,
                sibling,
                sibling.client_order_id,
                new_qty=new_qty,
                fx=fx,
                trim=False,
            )
            if order.is_open and sibling.is_open:
                self._lock_pair(order, sibling, fx)
        list_view = None
        if order_list is not None:
            list_view = order_list.view()
            self._report_list(order_list, fx, "UPDATED")
        if order.status not in OPEN_STATUSES:  # amended down to what already traded
            self._on_order_ended(order, fx)
        self._settle(state, fx)
        return AmendResult(order.snapshot(), original, execution_id, list_view)

    def _amend_one(
        self,
        account: AccountState,
        state: SymbolState,
        order: Order,
        new_client_order_id: str,
        *,
        new_qty: Decimal,
        fx: Effects,
        trim: bool = True,
    ) -> int:
        original, old_qty = order.client_order_id, order.orig_qty
        self._rename(account, order, new_client_order_id)
        # The quantity cannot drop below what already traded or was prevented.
        order.orig_qty = max(new_qty, order.executed_qty + order.prevented_qty)
        order.amendments += 1
        order.update_time = fx.now
        if order.remaining == 0:
            self._retire(order, Status.EXPIRED, fx)
        else:
            if trim:
                self._trim_lock(order, fx)
            if order.on_book:
                order.visible = min(order.visible, order.remaining)
                self._touch_level(state, order.side, order.price, fx)
        execution_id = self._report(order, Execution.REPLACED, fx, orig_client_order_id=original)
        account.amendments.setdefault((order.symbol, order.order_id), []).append(
            Amendment(
                order.symbol,
                order.order_id,
                execution_id,
                original,
                new_client_order_id,
                old_qty,
                order.orig_qty,
                fx.now,
            )
        )
        return execution_id

    # --- balances ---

    def adjust_balance(self, account_id: str, asset: str, delta: Decimal, fx: Effects) -> None:
        """A deposit (or, negative, a withdrawal) of ``asset``: a ``balanceUpdate`` event."""
        account = self.account(account_id)
        balance = account.balance(asset)
        if balance.free + delta < 0:
            raise rejected(INSUFFICIENT_BALANCE)
        balance.free += delta
        self._touch(account, asset, fx)
        fx.balance_deltas.append(BalanceDelta(account_id, asset, delta, fx.now))

    # --- summarising a request for market data ---

    def market_changes(self, fx: Effects) -> MarketChanges:
        changed = fx.depth_levels.items()
        depth = tuple(self._depth_change(symbol, levels, fx) for symbol, levels in changed)
        return MarketChanges(tuple(fx.trades), depth)

    def _depth_change(
        self, symbol: str, levels: dict[tuple[str, Decimal], None], fx: Effects
    ) -> DepthChange:
        """The levels of ``symbol`` that a request changed, as they are now."""
        state = self.symbol(symbol)
        bids: list[tuple[Decimal, Decimal]] = []
        asks: list[tuple[Decimal, Decimal]] = []
        for side, price in levels:  # one pass, no generators: made for every request
            if side == Side.BUY:
                bids.append((price, state.bids.level_qty(price)))
            else:
                asks.append((price, state.asks.level_qty(price)))
        bids.sort(reverse=True)
        asks.sort()
        first_id = fx.depth_first_id[symbol]
        return DepthChange(symbol, first_id, state.last_update_id, tuple(bids), tuple(asks))


# --- helpers -------------------------------------------------------------------------------


def _mark_working(order: Order, now: int) -> None:
    """Orders that are not waiting for a trigger work from the moment they are accepted."""
    if order.type not in STOP_TYPES or order.working_time != -1:
        order.working_time = now


def _open_counts(orders: Iterable[Order], lists: int, placing: OpenCounts) -> OpenCounts:
    """Open orders and order lists, with the ones being placed."""
    count = algo = iceberg = 0
    for order in orders:
        count += 1
        algo += order.type in ALGO_TYPES
        iceberg += bool(order.iceberg_qty)
    return OpenCounts(
        count + placing.orders,
        algo + placing.algo_orders,
        iceberg + placing.iceberg_orders,
        lists + placing.order_lists,
    )


def _permitted(
    account_permissions: Sequence[str], permission_sets: Sequence[Sequence[str]]
) -> bool:
    """web-socket-api.md exchangeInfo: every set needs one permission the account has."""
    # Plain loops: asked on every order, and generators cost ~3x here.
    for group in permission_sets:
        for permission in group:
            if permission in account_permissions:
                break
        else:
            return False
    return True


def _steps_affordable(quote: Decimal, price: Decimal, step: Decimal) -> Decimal:
    """The most base quantity, in whole steps, that ``quote`` buys at ``price``."""
    if quote <= 0:
        return ZERO
    if step == 0:
        return _EXACT.divide(quote, price)
    return _EXACT.divide_int(quote, mul(price, step)) * step


def _lot_filters(config: SymbolConfig) -> list[LotSize | MarketLotSize]:
    return [f for f in config.filters if isinstance(f, LotSize | MarketLotSize)]


def _key_price(leg: OrderRequest) -> Decimal:
    """The price an OCO leg is placed at: its limit for LIMIT_MAKER, else its stopPrice."""
    value = leg.price if leg.type == "LIMIT_MAKER" else leg.stop_price
    return value or ZERO


def _is_stop_loss(leg: OrderRequest) -> bool:
    return leg.type in ("STOP_LOSS", "STOP_LOSS_LIMIT")


def _stop_leg_first(above: OrderRequest, below: OrderRequest) -> tuple[OrderRequest, OrderRequest]:
    """Leg order in reports: the stop-loss leg first, as every documented example shows."""
    return (below, above) if _is_stop_loss(below) and not _is_stop_loss(above) else (above, below)


def check_oco_legs(above: OrderRequest, below: OrderRequest) -> None:
    """The leg types an OCO allows, by side (errors.md -1158, -1165...-1199)."""
    if not _is_stop_loss(above) and not _is_stop_loss(below):
        raise ExchangeError(400, -1168, "At least one OCO order must be contingent.")
    if above.side == Side.SELL:
        if _is_stop_loss(above):
            raise ExchangeError(400, -1197, "A stop loss order in a sell OCO must be below.")
        if below.type == "LIMIT_MAKER":
            raise ExchangeError(400, -1166, "A limit order in a sell OCO must be above.")
        if not _is_stop_loss(below):
            raise ExchangeError(400, -1199, "A take profit order in a sell OCO must be above.")
    else:
        if above.type == "LIMIT_MAKER":
            raise ExchangeError(400, -1165, "A limit order in a buy OCO must be below.")
        if not _is_stop_loss(above):
            raise ExchangeError(400, -1198, "A take profit order in a buy OCO must be below.")
        if _is_stop_loss(below):
            raise ExchangeError(400, -1196, "A stop loss order in a buy OCO must be above.")


def _pair_targets(
    need: Callable[[Order], Decimal], legs: Sequence[Order]
) -> tuple[Decimal, Decimal, Decimal]:
    """(first leg's lock, second leg's lock, total) for an OCO pair; one leg: its need."""
    first = need(legs[0])
    if len(legs) == 1:
        return first, ZERO, first
    total = max(first, need(legs[1]))
    return first, total - first, total


def _list_done(order_list: OrderList) -> bool:
    """An order list is done when nothing in it can still set anything off."""
    working = order_list.working
    if working is not None and working.is_open:
        return False
    legs = order_list.pending if working is not None else tuple(order_list.orders)
    if not legs:
        return True
    if order_list.oco_pair is not None:
        return any(not leg.is_open for leg in legs)
    return all(not leg.is_open for leg in legs)
