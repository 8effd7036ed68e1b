"""What the local exchange trades and who trades on it: frozen configuration objects.

Symbol filters mirror filters.md one class per ``filterType``; ``as_json()`` gives each in its
``exchangeInfo`` form. :func:`default_config` is a ready-made exchange (BTCUSDT, ETHUSDT, ETHBTC
and two funded demo accounts); :func:`symbol_config` and :func:`account_config` build your own
from a few keyword arguments.

Pure data: no I/O, no trio import.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

ALL_ORDER_TYPES = (
    "LIMIT",
    "LIMIT_MAKER",
    "MARKET",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
)
# TRANSFER needs trade groups, which the local exchange does not model.
SUPPORTED_STP_MODES = ("NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT")


_F = TypeVar("_F")


def _text(value: Decimal, places: int = 8) -> str:
    return format(value.quantize(Decimal(1).scaleb(-places)), "f")


# --- symbol filters (filters.md, "Symbol filters") ---------------------------------------


@dataclass(frozen=True, slots=True)
class PriceFilter:
    filter_type: ClassVar[str] = "PRICE_FILTER"
    min_price: Decimal
    max_price: Decimal
    tick_size: Decimal

    def as_json(self) -> dict[str, Any]:
        return {
            "filterType": self.filter_type,
            "minPrice": _text(self.min_price),
            "maxPrice": _text(self.max_price),
            "tickSize": _text(self.tick_size),
        }


@dataclass(frozen=True, slots=True)
class PercentPrice:
    filter_type: ClassVar[str] = "PERCENT_PRICE"
    multiplier_up: Decimal
    multiplier_down: Decimal
    avg_price_mins: int

    def as_json(self) -> dict[str, Any]:
        return {
            "filterType": self.filter_type,
            "multiplierUp": str(self.multiplier_up),
            "multiplierDown": str(self.multiplier_down),
            "avgPriceMins": self.avg_price_mins,
        }


@dataclass(frozen=True, slots=True)
class PercentPriceBySide:
    filter_type: ClassVar[str] = "PERCENT_PRICE_BY_SIDE"
    bid_multiplier_up: Decimal
    bid_multiplier_down: Decimal
    ask_multiplier_up: Decimal
    ask_multiplier_down: Decimal
    avg_price_mins: int

    def as_json(self) -> dict[str, Any]:
        return {
            "filterType": self.filter_type,
            "bidMultiplierUp": str(self.bid_multiplier_up),
            "bidMultiplierDown": str(self.bid_multiplier_down),
            "askMultiplierUp": str(self.ask_multiplier_up),
            "askMultiplierDown": str(self.ask_multiplier_down),
            "avgPriceMins": self.avg_price_mins,
        }


@dataclass(frozen=True, slots=True)
class _QuantityBounds:
    """The shape LOT_SIZE and MARKET_LOT_SIZE share; each names its own ``filter_type``.

    Siblings, not parent and child: a search for one must never find the other.
    """

    filter_type: ClassVar[str]
    min_qty: Decimal
    max_qty: Decimal
    step_size: Decimal

    def as_json(self) -> dict[str, Any]:
        return {
            "filterType": self.filter_type,
            "minQty": _text(self.min_qty),
            "maxQty": _text(self.max_qty),
            "stepSize": _text(self.step_size),
        }


@dataclass(frozen=True, slots=True)
class LotSize(_QuantityBounds):
    filter_type: ClassVar[str] = "LOT_SIZE"


@dataclass(frozen=True, slots=True)
class MarketLotSize(_QuantityBounds):
    filter_type: ClassVar[str] = "MARKET_LOT_SIZE"


@dataclass(frozen=True, slots=True)
class MinNotional:
    filter_type: ClassVar[str] = "MIN_NOTIONAL"
    min_notional: Decimal
    apply_to_market: bool
    avg_price_mins: int

    def as_json(self) -> dict[str, Any]:
        return {
            "filterType": self.filter_type,
            "minNotional": _text(self.min_notional),
            "applyToMarket": self.apply_to_market,
            "avgPriceMins": self.avg_price_mins,
        }


@dataclass(frozen=True, slots=True)
class Notional:
    filter_type: ClassVar[str] = "NOTIONAL"
    min_notional: Decimal
    apply_min_to_market: bool
    max_notional: Decimal
    apply_max_to_market: bool
    avg_price_mins: int

    def as_json(self) -> dict[str, Any]:
        return {
            "filterType": self.filter_type,
            "minNotional": _text(self.min_notional),
            "applyMinToMarket": self.apply_min_to_market,
            "maxNotional": _text(self.max_notional),
            "applyMaxToMarket": self.apply_max_to_market,
            "avgPriceMins": self.avg_price_mins,
        }


@dataclass(frozen=True, slots=True)
class IcebergParts:
    filter_type: ClassVar[str] = "ICEBERG_PARTS"
    limit: int

    def as_json(self) -> dict[str, Any]:
        return {"filterType": self.filter_type, "limit": self.limit}


@dataclass(frozen=True, slots=True)
class MaxNumOrders:
    filter_type: ClassVar[str] = "MAX_NUM_ORDERS"
    max_num_orders: int

    def as_json(self) -> dict[str, Any]:
        return {"filterType": self.filter_type, "maxNumOrders": self.max_num_orders}


@dataclass(frozen=True, slots=True)
class MaxNumAlgoOrders:
    filter_type: ClassVar[str] = "MAX_NUM_ALGO_ORDERS"
    max_num_algo_orders: int

    def as_json(self) -> dict[str, Any]:
        return {"filterType": self.filter_type, "maxNumAlgoOrders": self.max_num_algo_orders}


@dataclass(frozen=True, slots=True)
class MaxNumIcebergOrders:
    filter_type: ClassVar[str] = "MAX_NUM_ICEBERG_ORDERS"
    max_num_iceberg_orders: int

    def as_json(self) -> dict[str, Any]:
        return {
            "filterType": self.filter_type,
            "maxNumIcebergOrders": self.max_num_iceberg_orders,
        }


@dataclass(frozen=True, slots=True)
class MaxPosition:
    filter_type: ClassVar[str] = "MAX_POSITION"
    max_position: Decimal

    def as_json(self) -> dict[str, Any]:
        return {"filterType": self.filter_type, "maxPosition": _text(self.max_position)}


@dataclass(frozen=True, slots=True)
class MaxNumOrderAmends:
    filter_type: ClassVar[str] = "MAX_NUM_ORDER_AMENDS"
    max_num_order_amends: int

    def as_json(self) -> dict[str, Any]:
        return {"filterType": self.filter_type, "maxNumOrderAmends": self.max_num_order_amends}


@dataclass(frozen=True, slots=True)
class MaxNumOrderLists:
    filter_type: ClassVar[str] = "MAX_NUM_ORDER_LISTS"
    max_num_order_lists: int

    def as_json(self) -> dict[str, Any]:
        return {"filterType": self.filter_type, "maxNumOrderLists": self.max_num_order_lists}


SymbolFilter = (
    PriceFilter
    | PercentPrice
    | PercentPriceBySide
    | LotSize
    | MarketLotSize
    | MinNotional
    | Notional
    | IcebergParts
    | MaxNumOrders
    | MaxNumAlgoOrders
    | MaxNumIcebergOrders
    | MaxPosition
    | MaxNumOrderAmends
    | MaxNumOrderLists
)


# --- exchange filters (filters.md, "Exchange Filters") -----------------------------------


@dataclass(frozen=True, slots=True)
class ExchangeMaxNumOrders:
    filter_type: ClassVar[str] = "EXCHANGE_MAX_NUM_ORDERS"
    max_num_orders: int

    def as_json(self) -> dict[str, Any]:
        return {"filterType": self.filter_type, "maxNumOrders": self.max_num_orders}


@dataclass(frozen=True, slots=True)
class ExchangeMaxNumAlgoOrders:
    filter_type: ClassVar[str] = "EXCHANGE_MAX_NUM_ALGO_ORDERS"
    max_num_algo_orders: int

    def as_json(self) -> dict[str, Any]:
        return {"filterType": self.filter_type, "maxNumAlgoOrders": self.max_num_algo_orders}


@dataclass(frozen=True, slots=True)
class ExchangeMaxNumIcebergOrders:
    filter_type: ClassVar[str] = "EXCHANGE_MAX_NUM_ICEBERG_ORDERS"
    max_num_iceberg_orders: int

    def as_json(self) -> dict[str, Any]:
        return {
            "filterType": self.filter_type,
            "maxNumIcebergOrders": self.max_num_iceberg_orders,
        }


@dataclass(frozen=True, slots=True)
class ExchangeMaxNumOrderLists:
    filter_type: ClassVar[str] = "EXCHANGE_MAX_NUM_ORDER_LISTS"
    max_num_order_lists: int

    def as_json(self) -> dict[str, Any]:
        return {"filterType": self.filter_type, "maxNumOrderLists": self.max_num_order_lists}


ExchangeFilter = (
    ExchangeMaxNumOrders
    | ExchangeMaxNumAlgoOrders
    | ExchangeMaxNumIcebergOrders
    | ExchangeMaxNumOrderLists
)


# --- symbols, accounts, exchange ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SymbolConfig:
    """One trading pair, with the fields ``exchangeInfo`` describes.

    Trailing stops, pegged orders and OPO lists are not modelled, so their flags are fixed
    to ``false`` (orders using them are refused with the documented "not supported" error).
    """

    symbol: str
    base_asset: str
    quote_asset: str
    filters: tuple[SymbolFilter, ...] = ()
    status: str = "TRADING"
    base_asset_precision: int = 8
    quote_precision: int = 8
    quote_asset_precision: int = 8
    base_commission_precision: int = 8
    quote_commission_precision: int = 8
    order_types: tuple[str, ...] = ALL_ORDER_TYPES
    iceberg_allowed: bool = True
    oco_allowed: bool = True
    oto_allowed: bool = True
    quote_order_qty_market_allowed: bool = True
    cancel_replace_allowed: bool = True
    amend_allowed: bool = True
    is_spot_trading_allowed: bool = True
    is_margin_trading_allowed: bool = False
    permission_sets: tuple[tuple[str, ...], ...] = (("SPOT",),)
    default_stp_mode: str = "EXPIRE_MAKER"
    allowed_stp_modes: tuple[str, ...] = SUPPORTED_STP_MODES

    allow_trailing_stop: ClassVar[bool] = False
    peg_instructions_allowed: ClassVar[bool] = False
    opo_allowed: ClassVar[bool] = False

    def find_filter(self, kind: type[_F]) -> _F | None:
        """This symbol's filter of type ``kind``, if it has one."""
        for item in self.filters:
            if isinstance(item, kind):
                return item
        return None

    def as_json(self) -> dict[str, Any]:
        """This symbol as one entry of ``exchangeInfo``'s ``symbols`` (documented field order)."""
        return {
            "symbol": self.symbol,
            "status": self.status,
            "baseAsset": self.base_asset,
            "baseAssetPrecision": self.base_asset_precision,
            "quoteAsset": self.quote_asset,
            "quotePrecision": self.quote_precision,
            "quoteAssetPrecision": self.quote_asset_precision,
            "baseCommissionPrecision": self.base_commission_precision,
            "quoteCommissionPrecision": self.quote_commission_precision,
            "orderTypes": list(self.order_types),
            "icebergAllowed": self.iceberg_allowed,
            "ocoAllowed": self.oco_allowed,
            "otoAllowed": self.oto_allowed,
            "opoAllowed": self.opo_allowed,
            "quoteOrderQtyMarketAllowed": self.quote_order_qty_market_allowed,
            "allowTrailingStop": self.allow_trailing_stop,
            "cancelReplaceAllowed": self.cancel_replace_allowed,
            "amendAllowed": self.amend_allowed,
            "pegInstructionsAllowed": self.peg_instructions_allowed,
            "isSpotTradingAllowed": self.is_spot_trading_allowed,
            "isMarginTradingAllowed": self.is_margin_trading_allowed,
            "filters": [item.as_json() for item in self.filters],
            "permissions": [],
            "permissionSets": [list(group) for group in self.permission_sets],
            "defaultSelfTradePreventionMode": self.default_stp_mode,
            "allowedSelfTradePreventionModes": list(self.allowed_stp_modes),
        }


@dataclass(frozen=True, slots=True)
class AccountConfig:
    """One account: its starting balances, commission rates and permissions."""

    account_id: str
    balances: tuple[tuple[str, Decimal], ...] = ()
    maker_commission: Decimal = Decimal("0.001")
    taker_commission: Decimal = Decimal("0.001")
    can_trade: bool = True
    can_withdraw: bool = True
    can_deposit: bool = True
    permissions: tuple[str, ...] = ("SPOT",)
    uid: int = 0


@dataclass(frozen=True, slots=True)
class ExchangeConfig:
    """Everything the local exchange starts from."""

    symbols: tuple[SymbolConfig, ...]
    accounts: tuple[AccountConfig, ...]
    exchange_filters: tuple[ExchangeFilter, ...] = ()
    # Public trade history kept per symbol (older trades are forgotten).
    trade_history_limit: int = 100_000

    def symbol(self, name: str) -> SymbolConfig | None:
        return next((item for item in self.symbols if item.symbol == name), None)

    def account(self, account_id: str) -> AccountConfig | None:
        return next((item for item in self.accounts if item.account_id == account_id), None)


def symbol_config(
    symbol: str = "BTCUSDT",
    base_asset: str = "BTC",
    quote_asset: str = "USDT",
    *,
    tick_size: str = "0.01",
    min_price: str = "0.01",
    max_price: str = "1000000",
    step_size: str = "0.00001",
    min_qty: str = "0.00001",
    max_qty: str = "9000",
    min_notional: str = "5",
    max_notional: str = "9000000",
    percent_price: tuple[str, str] | None = ("5", "0.2"),
    avg_price_mins: int = 5,
    iceberg_parts: int = 100,
    max_num_orders: int = 200,
    max_num_algo_orders: int = 5,
    max_num_order_lists: int = 20,
    max_num_order_amends: int = 10,
    extra_filters: Iterable[SymbolFilter] = (),
    **options: Any,
) -> SymbolConfig:
    """A symbol with the usual Binance filter set, from a few numbers.

    ``percent_price`` is ``(up, down)`` applied to both sides (``None`` leaves the filter out);
    ``options`` sets any other :class:`SymbolConfig` field.
    """
    dec = Decimal
    filters: list[SymbolFilter] = [PriceFilter(dec(min_price), dec(max_price), dec(tick_size))]
    if percent_price is not None:
        up, down = dec(percent_price[0]), dec(percent_price[1])
        filters.append(PercentPriceBySide(up, down, up, down, avg_price_mins))
    filters += [
        LotSize(dec(min_qty), dec(max_qty), dec(step_size)),
        MarketLotSize(dec(0), dec(max_qty), dec(0)),
        Notional(dec(min_notional), True, dec(max_notional), False, avg_price_mins),
        IcebergParts(iceberg_parts),
        MaxNumOrders(max_num_orders),
        MaxNumAlgoOrders(max_num_algo_orders),
        MaxNumOrderLists(max_num_order_lists),
        MaxNumOrderAmends(max_num_order_amends),
        *extra_filters,
    ]
    return SymbolConfig(symbol, base_asset, quote_asset, tuple(filters), **options)


def account_config(
    account_id: str,
    balances: Mapping[str, str | int | Decimal] | None = None,
    *,
    maker_commission: str = "0.001",
    taker_commission: str = "0.001",
    **options: Any,
) -> AccountConfig:
    """An account from a mapping of starting balances (``{"USDT": "1000"}``)."""
    pairs = tuple((asset, Decimal(amount)) for asset, amount in (balances or {}).items())
    return AccountConfig(
        account_id,
        pairs,
        Decimal(maker_commission),
        Decimal(taker_commission),
        **options,
    )


DEMO_BALANCES: Mapping[str, str] = {
    "BNB": "0",
    "BTC": "100",
    "ETH": "1000",
    "USDT": "10000000",
}


def default_config() -> ExchangeConfig:
    """BTCUSDT, ETHUSDT and ETHBTC with realistic filters, and two funded accounts.

    The accounts are ``"alice"`` and ``"bob"``, each holding plenty of BTC, ETH and USDT (and
    a zero BNB balance, to show ``omitZeroBalances``).
    """
    symbols = (
        symbol_config("BTCUSDT", "BTC", "USDT"),
        symbol_config(
            "ETHUSDT", "ETH", "USDT", step_size="0.0001", min_qty="0.0001", max_qty="100000"
        ),
        symbol_config(
            "ETHBTC",
            "ETH",
            "BTC",
            tick_size="0.00001",
            min_price="0.00001",
            max_price="922327",
            step_size="0.0001",
            min_qty="0.0001",
            max_qty="100000",
            min_notional="0.0001",
            max_notional="9000000",
        ),
    )
    accounts = (
        account_config("alice", DEMO_BALANCES, uid=354937868),
        account_config("bob", DEMO_BALANCES, uid=354937869),
    )
    filters = (ExchangeMaxNumOrders(1000), ExchangeMaxNumOrderLists(1000))
    return ExchangeConfig(symbols, accounts, filters)
