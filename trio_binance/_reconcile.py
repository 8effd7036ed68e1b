"""After an unknown outcome: find out what happened, never by sending the request again.

Spec: web-socket-api.md, "Status codes" (a 5xx "does not necessarily mean that your request
has failed ... Please use query methods to confirm the status"), "Query order" and "Query
Order list", and "Timing security".

:func:`reconcile` asks the exchange about the order (or order list) an
:class:`~trio_binance.OutcomeUnknown` request was about, by the client order id it carried.
Finding it settles the question at once. Not finding it settles it only once the request can
no longer reach the matching engine: "Timing security" forwards a request only while
``serverTime - timestamp <= recvWindow``, and a ``timestamp`` is refused when more than one
second ahead of the exchange, so ``recvWindow + 1 s`` after the failure (plus a little for
the matching engine and the database behind ``orderList.status``), "does not exist" is final.
Until then a negative answer is asked again, not believed.

:func:`request_with_retry` retries what is safe to retry: a request that was never sent, and a
read whose outcome is unknown. It never retries an order-changing request whose outcome is
unknown -- that is how orders get placed twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, Literal, TypeVar, overload

import msgspec
import trio

from trio_binance._auth import DEFAULT_RECV_WINDOW
from trio_binance._exceptions import (
    ApiError,
    BinanceError,
    ExecutionStatusUnknown,
    InvalidParameter,
    IpBanned,
    NotSent,
    OutcomeUnknown,
    RateLimited,
    SessionClosed,
)
from trio_binance._governor import IpBanActive, WouldExceedRateLimit
from trio_binance._methods import is_signed, method_info
from trio_binance._session import Session
from trio_binance._weights import canonical_method
from trio_binance.models import ListOrderStatus, Order, OrderList, OrderStatus

T = TypeVar("T")

ReconciledOutcome = Literal["executed", "not_executed"]

# "Timing security": a timestamp more than 1 s ahead of the exchange is refused.
TIMESTAMP_LEEWAY_MS = 1000
# After recvWindow has passed, time for a request already forwarded to reach the matching
# engine and for orderList.status ("Data Source: Database") to see its result.
SETTLE_MS = 1000
# Backoff between queries whose own answer is unknown (seconds, trio time).
FIRST_BACKOFF = 0.25
MAX_BACKOFF = 4.0
# Longest wait for a 429's retryAfter between two queries.
MAX_RATE_LIMIT_WAIT = 60.0
# request_with_retry: backoff between attempts (seconds), doubling, capped.
RETRY_BACKOFF = 0.1
MAX_RETRY_BACKOFF = 1.0

# Orders that can still change: a cancel may still be on its way to them.
_LIVE = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_NEW})
# Methods documented as NONE or USER_DATA that nevertheless change something.
_NOT_READS = frozenset({"session.logon", "session.logout", "userDataStream.unsubscribe"})
NO_SUCH_ORDER = -2013
CANCEL_REJECTED = -2011


class CannotReconcile(BinanceError, ValueError):
    """:func:`reconcile` cannot identify what the request was about (e.g. no client order id
    was sent, or the method changes nothing an order query can see)."""


class Reconciliation(msgspec.Struct, frozen=True, kw_only=True):
    """What happened to a request whose outcome was unknown.

    ``outcome`` is ``"executed"`` or ``"not_executed"``:

    * placing an order or order list (``order.place``, ``sor.order.place``,
      ``orderList.place*``, the new order of ``order.cancelReplace``): executed means the
      order exists -- whatever its status now (it may be filled, expired or rejected); see
      ``order`` / ``order_list``;
    * cancelling (``order.cancel``, ``orderList.cancel``): executed means the order is
      ``CANCELED`` (for a list: one of its orders is); not executed means it is still live,
      finished otherwise, or unknown to the exchange.

    ``canceled_order`` is, for ``order.cancelReplace``, the order it was to cancel, as it is
    now. ``queries`` counts the requests made to find out.
    """

    outcome: ReconciledOutcome
    method: str
    client_order_id: str | None = None
    order: Order | None = None
    order_list: OrderList | None = None
    canceled_order: Order | None = None
    queries: int = 0

    @property
    def executed(self) -> bool:
        return self.outcome == "executed"


class _Inquiry:
    """The queries of one reconciliation, with their retries and the finality deadline."""

    def __init__(self, session: Session, error: OutcomeUnknown, recv_window_ms: Decimal) -> None:
        self.session = session
        self.method = canonical_method(error.method or "")
        self.params: Mapping[str, Any] = error.params
        wait_ms = recv_window_ms + TIMESTAMP_LEEWAY_MS + SETTLE_MS
        self.final_at = trio.current_time() + float(wait_ms) / 1000
        self.queries = 0

    def require(self, *names: str) -> dict[str, Any]:
        """The first of ``names`` the request carried, as ``{name: value}``."""
        for name in names:
            value = self.params.get(name)
            if value is not None:
                return {name: value}
        raise CannotReconcile(
            f"{self.method} carried none of {', '.join(names)}: what it was about cannot be "
            "identified. Always send client order ids with orders."
        )

    async def order(self, symbol: Any, ids: dict[str, Any]) -> Order | None:
        return await self._ask("order.status", {"symbol": symbol, **ids}, Order)

    async def order_list(self, ids: dict[str, Any]) -> OrderList | None:
        return await self._ask("orderList.status", ids, OrderList)

    async def settled(
        self, query: Callable[[], Awaitable[T | None]], final: Callable[[T], bool]
    ) -> T | None:
        """Ask; if the answer could still change (see the module docstring), ask once more
        when it no longer can."""
        found = await query()
        if (found is None or not final(found)) and trio.current_time() < self.final_at:
            await trio.sleep_until(self.final_at)
            found = await query()
        return found

    def result(self, executed: bool, client_order_id: Any = None, **found: Any) -> Reconciliation:
        return Reconciliation(
            outcome="executed" if executed else "not_executed",
            method=self.method,
            client_order_id=None if client_order_id is None else str(client_order_id),
            queries=self.queries,
            **found,
        )

    async def _ask(self, method: str, params: dict[str, Any], result_type: type[T]) -> T | None:
        """One query, asked again while its own answer is unknown; ``None``: no such order."""
        backoff = FIRST_BACKOFF
        while True:
            self.queries += 1
            try:
                return await self.session.request(
                    method, params, result_type=result_type, signed=True
                )
            except ApiError as error:
                if _means_no_such_order(method, error):
                    return None
                delay = self._delay_after(error, backoff)
            except (SessionClosed, IpBanActive):
                raise  # nothing more can be learned through this session, or not now
            except WouldExceedRateLimit as error:
                delay = self._delay_until(error.retry_after, backoff)
            except (OutcomeUnknown, NotSent):
                delay = backoff
            await trio.sleep(delay)
            backoff = min(backoff * 2, MAX_BACKOFF)

    def _delay_after(self, error: ApiError, backoff: float) -> float:
        if isinstance(error, IpBanned) or not isinstance(
            error, ExecutionStatusUnknown | RateLimited
        ):
            raise error
        if isinstance(error, RateLimited):
            return self._delay_until(error.retry_after, backoff)
        return backoff

    def _delay_until(self, retry_after: int | None, backoff: float) -> float:
        if retry_after is None:
            return backoff
        wait = (retry_after - self.session.clock.now_ms()) / 1000
        return min(max(wait, backoff), MAX_RATE_LIMIT_WAIT)


def _means_no_such_order(method: str, error: ApiError) -> bool:
    # errors.md: -2013 "Order does not exist."; order lists may also answer -2011 with
    # "Unknown order sent." (errors.md, "Messages for -1010, -2010, -2011 and -2038").
    if error.code == NO_SUCH_ORDER:
        return True
    return method == "orderList.status" and error.code == CANCEL_REJECTED


def _is_final_order(order: Order) -> bool:
    return order.status not in _LIVE


# --- what to ask, per method ------------------------------------------------------------------


async def _placed_order(inquiry: _Inquiry) -> Reconciliation:
    symbol = inquiry.require("symbol")["symbol"]
    ids = inquiry.require("newClientOrderId")
    client_id = ids["newClientOrderId"]
    order = await inquiry.settled(
        lambda: inquiry.order(symbol, {"origClientOrderId": client_id}), lambda _: True
    )
    return inquiry.result(order is not None, client_id, order=order)


_How = Literal["stable", "renamed", "original"]


@dataclass(frozen=True, slots=True)
class _Found(Generic[T]):
    item: T
    how: _How


@dataclass(frozen=True, slots=True)
class _CancelTarget:
    """Where to look for what a cancel was about, as query parameters, best first.

    A cancel gives the cancelled order (or list) a new client id, "freeing up" the old one
    (order.cancel notes; the new id is generated when not sent). So the order is found by its
    numeric id (``stable``), by the id the cancel gives it (``renamed``: found so, the cancel
    ran), or by the id it had (``original``: found so, it was not cancelled).
    """

    stable: dict[str, Any] | None
    renamed: dict[str, Any] | None
    original: dict[str, Any] | None

    @classmethod
    def of(cls, params: Mapping[str, Any], *names: tuple[str, str]) -> _CancelTarget:
        """From ``(request parameter, query parameter)`` pairs: stable, renamed, original."""
        found = [
            {query: params[name]} if params.get(name) is not None else None for name, query in names
        ]
        return cls(*found)

    @property
    def absence_is_an_answer(self) -> bool:
        """Whether "not found" says the cancel did not run (else the old id is all we had)."""
        return self.stable is not None or self.renamed is not None

    async def find(self, ask: Callable[[dict[str, Any]], Awaitable[T | None]]) -> _Found[T] | None:
        ways: tuple[tuple[_How, dict[str, Any] | None], ...] = (
            ("stable", self.stable),
            ("renamed", self.renamed),
            ("original", self.original),
        )
        for how, ids in ways:
            if ids is not None and (item := await ask(ids)) is not None:
                return _Found(item, how)
        return None


def _unknowable(method: str) -> CannotReconcile:
    return CannotReconcile(
        f"{method}: the order no longer has the client id the request named, and the request "
        "carried neither its numeric id nor the new client id it gives the order, so whether "
        "it was this request that cancelled it cannot be told. Send newClientOrderId with "
        "cancels to make them reconcilable."
    )


async def _cancel_replaced(inquiry: _Inquiry) -> Reconciliation:
    placed = await _placed_order(inquiry)
    symbol = inquiry.require("symbol")["symbol"]
    target = _CancelTarget.of(
        inquiry.params,
        ("cancelOrderId", "orderId"),
        ("cancelNewClientOrderId", "origClientOrderId"),
        ("cancelOrigClientOrderId", "origClientOrderId"),
    )
    found = await target.find(lambda ids: inquiry.order(symbol, ids))
    canceled = found.item if found else None
    return msgspec.structs.replace(placed, canceled_order=canceled, queries=inquiry.queries)


async def _canceled_order(inquiry: _Inquiry) -> Reconciliation:
    symbol = inquiry.require("symbol")["symbol"]
    inquiry.require("orderId", "origClientOrderId")
    target = _CancelTarget.of(
        inquiry.params,
        ("orderId", "orderId"),
        ("newClientOrderId", "origClientOrderId"),
        ("origClientOrderId", "origClientOrderId"),
    )
    found = await inquiry.settled(
        lambda: target.find(lambda ids: inquiry.order(symbol, ids)),
        lambda found: _is_final_order(found.item),
    )
    if found is None and not target.absence_is_an_answer:
        raise _unknowable(inquiry.method)
    order = found.item if found else None
    executed = found is not None and found.how != "original"
    executed = executed and order is not None and order.status == OrderStatus.CANCELED
    return inquiry.result(executed, order.client_order_id if order else None, order=order)


async def _placed_list(inquiry: _Inquiry) -> Reconciliation:
    list_id = inquiry.require("listClientOrderId")["listClientOrderId"]
    found = await inquiry.settled(
        lambda: inquiry.order_list({"origClientOrderId": list_id}), lambda _: True
    )
    return inquiry.result(found is not None, list_id, order_list=found)


async def _canceled_list(inquiry: _Inquiry) -> Reconciliation:
    inquiry.require("orderListId", "listClientOrderId")
    target = _CancelTarget.of(
        inquiry.params,
        ("orderListId", "orderListId"),
        ("newClientOrderId", "origClientOrderId"),
        ("listClientOrderId", "origClientOrderId"),
    )
    found = await inquiry.settled(
        lambda: target.find(inquiry.order_list),
        lambda found: found.item.list_order_status != ListOrderStatus.EXECUTING,
    )
    if found is None and not target.absence_is_an_answer:
        raise _unknowable(inquiry.method)
    order_list = found.item if found else None
    executed = found is not None and found.how == "renamed"
    if found is not None and found.how == "stable":
        executed = await _any_member_canceled(inquiry, found.item)
    client_id = order_list.list_client_order_id if order_list else None
    return inquiry.result(executed, client_id, order_list=order_list)


async def _any_member_canceled(inquiry: _Inquiry, order_list: OrderList) -> bool:
    """ALL_DONE also follows a fill: the list was cancelled if one of its orders was."""
    if order_list.list_order_status != ListOrderStatus.ALL_DONE:
        return False
    for member in order_list.orders:
        order = await inquiry.order(member.symbol, {"orderId": member.order_id})
        if order is not None and order.status == OrderStatus.CANCELED:
            return True
    return False


_PLANS: dict[str, Callable[[_Inquiry], Awaitable[Reconciliation]]] = {
    "order.place": _placed_order,
    "sor.order.place": _placed_order,
    "order.cancelReplace": _cancel_replaced,
    "order.cancel": _canceled_order,
    "orderList.place": _placed_list,
    "orderList.place.oco": _placed_list,
    "orderList.place.oto": _placed_list,
    "orderList.place.otoco": _placed_list,
    "orderList.place.opo": _placed_list,
    "orderList.place.opoco": _placed_list,
    "orderList.cancel": _canceled_list,
}


def _recv_window_ms(session: Session, params: Mapping[str, Any], given: Any) -> Decimal:
    """The recvWindow the request was sent with: given, in its params, the session's, or 5000."""
    for value in (given, params.get("recvWindow"), session.recv_window):
        if value is not None:
            try:
                return Decimal(str(value))
            except InvalidOperation:
                continue
    return Decimal(DEFAULT_RECV_WINDOW)


async def reconcile(
    session: Session, error: OutcomeUnknown, *, recv_window: int | Decimal | str | None = None
) -> Reconciliation:
    """Find out whether the request behind ``error`` was executed, without re-sending it.

    ``session`` may be a new session (after a :class:`~trio_binance.ResponseLost`, the old
    one is closed); it needs the credentials of the same account. Queries whose own answer
    is unknown (5xx, -1006/-1007, a lost response, a 429) are asked again with a bounded
    backoff; bound the whole with ``trio.fail_after``. Proving that an order was *not*
    placed takes up to ``recvWindow`` + 2 s. ``recv_window`` is the one the request was sent
    with, when it was neither in its parameters nor the session's own.

    Raises :class:`CannotReconcile` for a request that carries no client order id (or is not
    an order request), and the query's own error when it is neither "no such order" nor
    unknown (e.g. 401).
    """
    plan = _PLANS.get(canonical_method(error.method or ""))
    if plan is None:
        raise CannotReconcile(
            f"{error.method!r} is not an order request reconcile() knows; a read can simply "
            "be sent again (see request_with_retry)"
        )
    inquiry = _Inquiry(session, error, _recv_window_ms(session, error.params, recv_window))
    return await plan(inquiry)


# --- retrying what is safe to retry ----------------------------------------------------------


def is_idempotent_read(method: str) -> bool:
    """Whether ``method`` only reads: security NONE or USER_DATA and changes nothing."""
    info = method_info(method)
    if info is None:
        return False
    return info.security in ("NONE", "USER_DATA") and info.name not in _NOT_READS


@overload
async def request_with_retry(
    session: Session,
    method: str,
    params: Mapping[str, object] | None = None,
    *,
    result_type: type[T],
    signed: bool | None = None,
    attempts: int = 3,
) -> T: ...


@overload
async def request_with_retry(
    session: Session,
    method: str,
    params: Mapping[str, object] | None = None,
    *,
    result_type: Any = ...,
    signed: bool | None = None,
    attempts: int = 3,
) -> Any: ...


async def request_with_retry(
    session: Session,
    method: str,
    params: Mapping[str, object] | None = None,
    *,
    result_type: Any = Any,
    signed: bool | None = None,
    attempts: int = 3,
) -> Any:
    """``session.request``, tried up to ``attempts`` times when that is safe.

    Retried: :class:`~trio_binance.NotSent` failures of any request (nothing left this
    machine), and :class:`~trio_binance.OutcomeUnknown` failures of idempotent reads
    (:func:`is_idempotent_read`). Never retried: an ``OutcomeUnknown`` of a request that
    changes something -- it may have been executed; :func:`reconcile` it instead --, errors
    from the exchange, and rate-limit refusals (pacing is the governor's job). A closed
    session fails at once. ``signed`` defaults to what the method needs.
    """
    if attempts < 1:
        raise InvalidParameter("attempts", "must be at least 1")
    read = is_idempotent_read(method)
    sign = is_signed(method) if signed is None else signed
    delay = RETRY_BACKOFF
    for attempt in range(1, attempts + 1):
        try:
            return await session.request(method, params, result_type=result_type, signed=sign)
        except (SessionClosed, WouldExceedRateLimit, IpBanActive):
            raise
        except NotSent:
            if attempt == attempts:
                raise
        except OutcomeUnknown:
            if not read or attempt == attempts:
                raise
        await trio.sleep(delay)
        delay = min(delay * 2, MAX_RETRY_BACKOFF)
    raise AssertionError("unreachable")  # pragma: no cover


__all__ = [
    "CannotReconcile",
    "Reconciliation",
    "is_idempotent_read",
    "reconcile",
    "request_with_retry",
]
