"""The gap marker a resilient user-data stream yields, and catching up after one.

When a connection is lost without a clean end, events published while no subscription was in
place are gone for good: the stream cannot replay them. It says so with a
:class:`UserDataGap` item, in order, between the last event before and the first event after,
and :func:`catch_up` asks the WebSocket API for the state that matters to a trading
application -- balances (``account.status``), open orders (``openOrders.status``) and the
account's trades since the last event seen (``myTrades``) -- so the application can rebuild
what it missed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import msgspec

from trio_binance.models import AccountInfo, AccountTrade, Order

if TYPE_CHECKING:
    from trio_binance._api import ApiMethods

__all__ = ["CatchUp", "UserDataGap", "catch_up"]

# myTrades: "The time between startTime and endTime can't be longer than 24 hours."
_MY_TRADES_SPAN_MS = 24 * 3600 * 1000


class UserDataGap(msgspec.Struct, frozen=True, gc=False):
    """Events may be missing here: a marker item in a resilient user-data stream.

    ``reason`` says why continuity could not be proven. ``last_event_time`` is the event
    time (``E``, exchange ms) of the last event delivered before the gap (``None`` if none
    was); pass it to :func:`catch_up` to fetch the trades made since. ``lost_at`` and
    ``resumed_at`` are ``trio.current_time()`` readings: when the old subscription ended and
    when the new one took over.
    """

    reason: str
    last_event_time: int | None
    lost_at: float
    resumed_at: float


class CatchUp(msgspec.Struct, frozen=True, gc=False):
    """The account's state after a gap, from :func:`catch_up`."""

    account: AccountInfo
    """Balances, permissions and commissions (``account.status``)."""
    open_orders: list[Order]
    """Every open order on every symbol (``openOrders.status``)."""
    trades: dict[str, list[AccountTrade]]
    """Per symbol asked for, the account's trades since the gap (``myTrades``)."""


async def catch_up(
    session: ApiMethods,
    gap: UserDataGap | None = None,
    *,
    symbols: Sequence[str] = (),
    trades_limit: int = 1000,
) -> CatchUp:
    """Fetch what a gap may have hidden: balances, open orders, and trades on ``symbols``.

    Trades are those since ``gap.last_event_time`` when known (up to 24 hours after it, the
    longest span ``myTrades`` accepts), else the latest ``trades_limit``. Weight: 20 for the
    account, 80 for the open orders, 20 per symbol. Bound the wait with ``trio.fail_after``.
    """
    account = await session.account_status()
    open_orders = await session.open_orders()
    since = gap.last_event_time if gap is not None else None
    trades: dict[str, list[AccountTrade]] = {}
    for symbol in symbols:
        if since is None:
            trades[symbol] = await session.my_trades(symbol=symbol, limit=trades_limit)
        else:
            trades[symbol] = await session.my_trades(
                symbol=symbol,
                start_time=since,
                end_time=since + _MY_TRADES_SPAN_MS - 1,
                limit=trades_limit,
            )
    return CatchUp(account=account, open_orders=open_orders, trades=trades)
