"""Rate governance: pace requests so the exchange never has to answer 429, let alone 418.

Spec: web-socket-api.md, "Rate limits" ("How to interpret rate limits", "IP limits",
"Unfilled Order Count") and "Status codes". A :class:`RateGovernor` is a plain object with no
task of its own; the session calls :meth:`RateGovernor.acquire` before it queues a request
(the request is stamped and signed later, at send time, so waiting here never ages it) and
:meth:`RateGovernor.observe` with every response. One governor may serve every session of the
same IP address and account.

What it counts. REQUEST_WEIGHT (per IP) and ORDERS (unfilled order count, per account), with
the documented weight of each request (``_weights``, parameter-dependent, 0 on success for
order methods) and the orders it adds. RAW_REQUESTS and CONNECTIONS are not governed: the
WebSocket API reports neither in ``rateLimits``.

Windows. Binance counts in fixed windows aligned on its own clock ("How to interpret rate
limits"): a window of length ``L`` ms starts at every epoch millisecond ``t`` with
``t % L == 0``, so ``1 MINUTE`` windows start on the minute, ``10 SECOND`` windows at :00,
:10, ... and ``1 DAY`` at 00:00 UTC. The governor reads the exchange clock through a callable
returning epoch milliseconds (e.g. ``session.clock.now_ms``). Neither that estimate nor the
moment a request reaches the exchange is exact, so a request is charged to *every* window
that overlaps ``now ± clock_margin_ms``: near a boundary it counts in both windows, and a
window is treated as over only ``clock_margin_ms`` after it ended. That is conservative in
both directions.

Reconciling with the exchange. The counts the exchange reports in ``rateLimits`` are its own
and include other clients of the same IP or account. The governor keeps, per window, what is
*settled* (the exchange's last word, or its own estimate when there is none) and what is
*pending* (requests let through and not answered yet); it uses ``settled + pending``. A
report is applied only when it can be placed in one window (the request was sent and answered
well inside it). REQUEST_WEIGHT counts only grow within a window (refunds of order methods
happen before the response is sent), so a report is merged as ``max(settled, reported)``:
that also ignores a report overtaken by a later one. ORDERS counts may *decrease* when orders
fill ("Unfilled Order Count": orders that are filled let you place more), so the reported
count replaces the settled one.

429 and 418. A 429 pauses the requests it concerns (all of them for -1003, order-placing ones
for -1015) until its ``retryAfter``; a 418 records the ban and every request is refused with
:class:`IpBanActive` until it ends, whatever the policy: waiting out a ban of up to three days
must be the caller's explicit choice (``on_ban="wait"``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import msgspec
import trio

from trio_binance._exceptions import InvalidParameter, NotSent
from trio_binance._protocol import ErrorResponse, ResultResponse
from trio_binance._weights import CONNECTION_WEIGHT, order_count, request_weight, weight_after
from trio_binance.models import RateLimit, RateLimitInterval, RateLimitType

Policy = Literal["wait", "fail_fast"]
BanPolicy = Literal["fail", "wait"]
ExchangeTimeMs = Callable[[], float]
"""Epoch milliseconds on the exchange's clock (e.g. ``session.clock.now_ms``)."""

REQUEST_WEIGHT = RateLimitType.REQUEST_WEIGHT
ORDERS = RateLimitType.ORDERS

# Binance's defaults (exchangeInfo example, "Rate limits"), used until adopt_limits().
DEFAULT_LIMITS: tuple[RateLimit, ...] = (
    RateLimit(
        rate_limit_type=REQUEST_WEIGHT,
        interval=RateLimitInterval.MINUTE,
        interval_num=1,
        limit=6000,
    ),
    RateLimit(rate_limit_type=ORDERS, interval=RateLimitInterval.SECOND, interval_num=10, limit=50),
    RateLimit(
        rate_limit_type=ORDERS, interval=RateLimitInterval.DAY, interval_num=1, limit=160_000
    ),
)
DEFAULT_CLOCK_MARGIN_MS = 1000
# "IP limits": bans last 2 minutes to 3 days. Only used when a 418 carries no retryAfter.
DEFAULT_BAN_MS = 2 * 60_000
# A request unanswered for this long is taken as sent and counted (its caller has gone, or the
# reply is later than any caller waits); keeps the reservation table bounded.
RESERVATION_TTL_MS = 60_000
TOO_MANY_ORDERS = -1015
_MIN_SLEEP = 0.001

LimitKey = tuple[str, str, int]
"""``(rateLimitType, interval, intervalNum)``: what identifies a limit in reports."""


class WouldExceedRateLimit(NotSent):
    """Not sent: sending now would exceed a rate limit, and the policy is to fail fast.

    Nothing left this machine, so the request is safe to send later: ``retry_after`` is when
    (exchange epoch ms, as in :class:`~trio_binance.RateLimited`), or ``None`` if it can never
    fit (it is heavier than the limit itself). ``rate_limit`` is the limit in the way (``None``
    while a 429 pause lasts).
    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None,
        retry_after: int | None,
        rate_limit: RateLimit | None,
    ) -> None:
        super().__init__(message, method=method)
        self.retry_after = retry_after
        self.rate_limit = rate_limit


class IpBanActive(NotSent):
    """Not sent: the exchange banned this IP (status 418) until ``banned_until`` (epoch ms).

    Raised whatever the policy, so a ban is never waited out silently; a governor made with
    ``on_ban="wait"`` waits for its end instead.
    """

    def __init__(self, message: str, *, method: str | None, banned_until: int) -> None:
        super().__init__(message, method=method)
        self.banned_until = banned_until
        self.retry_after = banned_until


class LimitUsage(msgspec.Struct, frozen=True, gc=False):
    """One limit in the window that holds now."""

    rate_limit_type: str
    interval: str
    interval_num: int
    limit: int
    count: int
    """Counted in this window, requests still in flight included."""
    in_flight: int
    window_end_ms: int


class RateLimitNotice(msgspec.Struct, frozen=True, gc=False):
    """The last 429 or 418 the governor saw."""

    status: int
    code: int
    msg: str
    retry_after: int
    """When sending resumes (exchange epoch ms): ``retryAfter``, or the governor's default."""
    at_ms: int


class GovernorStatistics(msgspec.Struct, frozen=True, gc=False):
    """A snapshot of a :class:`RateGovernor`, from :meth:`RateGovernor.statistics`."""

    policy: str
    limits: tuple[LimitUsage, ...]
    waiting: int
    """Callers waiting for capacity right now."""
    admitted: int
    waited: int
    """Callers that had to wait before being admitted (or failing)."""
    refused: int
    """Callers refused (fail_fast, impossible requests, bans)."""
    paused_until: int | None
    """After a 429 (-1003): no request before this (epoch ms)."""
    orders_paused_until: int | None
    """After a 429 (-1015): no order before this (epoch ms)."""
    banned_until: int | None
    last_rate_limited: RateLimitNotice | None


class _TrioEpochClock:
    """The default clock: the wall clock read once, then moved by trio's clock (epoch ms).

    Following trio keeps waits and windows in one time base. Against the local exchange under
    a mock clock, pass ``clock=exchange.now_ms`` instead: that mock clock may have jumped
    between the moments the two clocks read the wall clock.
    """

    def __init__(self) -> None:
        self._anchor: tuple[float, float] | None = None

    def __call__(self) -> float:
        now = trio.current_time()
        if self._anchor is None:
            self._anchor = (now, time.time() * 1000)
        started, epoch_ms = self._anchor
        return epoch_ms + (now - started) * 1000


@dataclass(frozen=True, slots=True)
class _Demand:
    weight: int
    orders: int
    method: str | None

    def amount(self, limit: RateLimit) -> int:
        return self.orders if limit.rate_limit_type == ORDERS else self.weight


@dataclass(slots=True)
class _Slot:
    """One window of one limit: the exchange's count (or ours) and what is in flight."""

    settled: int = 0
    pending: int = 0

    @property
    def used(self) -> int:
        return self.settled + self.pending


class _Meter:
    """The counts of one limit, in the few windows near now (at most three)."""

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self.slots: dict[int, _Slot] = {}

    @property
    def window_ms(self) -> int:
        return self.limit.window_ms

    def starts(self, low: int, high: int) -> range:
        """Starts of the windows that overlap ``[low, high]``."""
        first = low - low % self.window_ms
        return range(first, high + 1, self.window_ms)

    def window_of(self, low: int, high: int) -> int | None:
        """The one window holding all of ``[low, high]``, or ``None`` if it spans two."""
        starts = self.starts(low, high)
        return starts[0] if len(starts) == 1 else None

    def used(self, start: int) -> int:
        slot = self.slots.get(start)
        return slot.used if slot else 0

    def free_at(self, low: int, high: int, amount: int) -> int | None:
        """``None`` if ``amount`` fits every window over ``[low, high]``; else when the last
        window it does not fit ends."""
        full = [s for s in self.starts(low, high) if self.used(s) + amount > self.limit.limit]
        return max(full) + self.window_ms if full else None

    def charge(self, starts: range, amount: int, *, settled: bool) -> None:
        for start in starts:
            slot = self.slots.setdefault(start, _Slot())
            if settled:
                slot.settled += amount
            else:
                slot.pending += amount

    def release(self, starts: Iterable[int], amount: int) -> None:
        for start in starts:
            slot = self.slots.get(start)
            if slot is not None:
                slot.pending = max(slot.pending - amount, 0)

    def settle(self, starts: Iterable[int], amount: int) -> None:
        for start in starts:
            slot = self.slots.get(start)
            if slot is not None:
                slot.settled += amount

    def merge(self, start: int, count: int) -> None:
        """Take the exchange's count for the window at ``start`` (see the module docstring)."""
        slot = self.slots.setdefault(start, _Slot())
        if self.limit.rate_limit_type == ORDERS:
            slot.settled = count
        else:
            slot.settled = max(slot.settled, count)

    def forget_before(self, moment: int) -> None:
        """Drop the windows that ended before ``moment``: they can no longer matter."""
        for start in [s for s in self.slots if s + self.window_ms <= moment]:
            del self.slots[start]

    def usage(self, now: int) -> LimitUsage:
        start = now - now % self.window_ms
        slot = self.slots.get(start, _Slot())
        limit = self.limit
        return LimitUsage(
            str(limit.rate_limit_type),
            str(limit.interval),
            limit.interval_num,
            limit.limit,
            slot.used,
            slot.pending,
            start + self.window_ms,
        )


@dataclass(frozen=True, slots=True)
class _Reservation:
    """What :meth:`RateGovernor.acquire` charged for one request, until its response."""

    owner: object  # the request's params, kept alive so that its id() stays unique
    at_ms: int
    charged: dict[LimitKey, tuple[range, int]]


@dataclass(frozen=True, slots=True)
class _Block:
    """Why a request cannot go now, and when to look again (governor clock, epoch ms)."""

    until_ms: int
    reason: Literal["ban", "paused", "orders_paused", "limit", "queue"]
    limit: RateLimit | None = None


def _key(limit: RateLimit) -> LimitKey:
    return (str(limit.rate_limit_type), str(limit.interval), limit.interval_num)


def _governed(limit: RateLimit) -> bool:
    return limit.rate_limit_type in (REQUEST_WEIGHT, ORDERS) and limit.window_ms > 0


def _retry_after(response: ErrorResponse) -> int | None:
    data = response.error.decoded_data()
    value = data.get("retryAfter") if isinstance(data, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _describe(limit: RateLimit) -> str:
    return f"{limit.rate_limit_type} {limit.limit} per {limit.interval_num} {limit.interval}"


class RateGovernor:
    """Keeps requests within the exchange's rate limits; share one per IP address and account.

    ``limits``: the limits to start from (Binance's defaults otherwise; see
    :meth:`adopt_limits`). ``policy``: ``"wait"`` (default) makes a request that does not
    fit wait until the window in its way resets; ``"fail_fast"`` raises
    :class:`WouldExceedRateLimit` instead. ``on_ban``: ``"fail"`` (default) raises
    :class:`IpBanActive` during an IP ban, ``"wait"`` waits for its end. ``clock``: the
    exchange clock in epoch ms (default: the wall clock read once, then moved by trio's
    clock). ``clock_margin_ms``: how far that clock, plus the time from here to the exchange,
    may be off; requests that close to a window boundary count in both windows.

    Waiting callers queue in FIFO order; a caller that arrives while others wait goes ahead
    only if it fits with the first waiter's needs set aside, so a heavy request is never
    starved by a stream of light ones.
    """

    def __init__(
        self,
        limits: Iterable[RateLimit] | None = None,
        *,
        policy: Policy = "wait",
        on_ban: BanPolicy = "fail",
        clock: ExchangeTimeMs | None = None,
        clock_margin_ms: int = DEFAULT_CLOCK_MARGIN_MS,
    ) -> None:
        if policy not in ("wait", "fail_fast"):
            raise InvalidParameter("policy", "must be 'wait' or 'fail_fast'")
        if on_ban not in ("fail", "wait"):
            raise InvalidParameter("on_ban", "must be 'fail' or 'wait'")
        if clock_margin_ms < 0:
            raise InvalidParameter("clock_margin_ms", "must not be negative")
        self.policy: Policy = policy
        self.on_ban: BanPolicy = on_ban
        self.clock: ExchangeTimeMs = clock or _TrioEpochClock()
        """The exchange clock; may be replaced later, e.g. by ``session.clock.now_ms``."""
        self.clock_margin_ms = clock_margin_ms
        self._meters: dict[LimitKey, _Meter] = {}
        self._line = trio.Lock()  # trio.Lock is fair: waiters get it in arrival order
        self._head: _Demand | None = None
        self._changed = trio.Event()
        self.adopt_limits(DEFAULT_LIMITS)
        if limits is not None:
            self.adopt_limits(limits)
        self._reservations: dict[int, _Reservation] = {}
        self._paused_until = 0
        self._orders_paused_until = 0
        self._banned_until = 0
        self._last_rate_limited: RateLimitNotice | None = None
        self._waiting = 0
        self._admitted = 0
        self._waited = 0
        self._refused = 0

    def __repr__(self) -> str:
        return f"<RateGovernor policy={self.policy} waiting={self._waiting}>"

    # --- limits ------------------------------------------------------------------------------

    @property
    def limits(self) -> tuple[RateLimit, ...]:
        return tuple(meter.limit for meter in self._meters.values())

    def adopt_limits(self, rate_limits: Iterable[RateLimit]) -> None:
        """Use these limits, e.g. ``exchangeInfo``'s ``rate_limits``.

        For each type named (REQUEST_WEIGHT, ORDERS), the given limits replace the ones known
        so far; counts of a limit that stays are kept. Other types are ignored.
        """
        given = [limit for limit in rate_limits if _governed(limit)]
        replaced = {limit.rate_limit_type for limit in given}
        meters = {
            key: meter
            for key, meter in self._meters.items()
            if meter.limit.rate_limit_type not in replaced
        }
        for limit in given:
            meter = self._meters.get(_key(limit)) or _Meter(limit)
            meter.limit = msgspec.structs.replace(limit, count=None)
            meters[_key(limit)] = meter
        self._meters = meters
        self._wake()

    # --- the session's side (the Governor protocol) ------------------------------------------

    async def acquire(self, method: str, params: Mapping[str, Any]) -> None:
        """Wait until ``method`` may be sent and count it; raise instead per the policy."""
        demand = _Demand(request_weight(method, params), order_count(method, params), method)
        await self._admit(demand, params, wait=self.policy == "wait")

    def observe(
        self, method: str, params: Mapping[str, Any], response: ResultResponse | ErrorResponse
    ) -> None:
        """Learn from the response to a request let through by :meth:`acquire`."""
        now = self._now()
        reservation = self._take_reservation(params)
        at_ms = reservation.at_ms if reservation else now
        charged = reservation.charged if reservation else {}
        succeeded = isinstance(response, ResultResponse)
        reported = {_key(entry): entry for entry in response.rate_limits or () if _governed(entry)}
        self._add_reported_limits(reported.values())
        for key, meter in self._meters.items():
            starts, amount = charged.get(key, (range(0), 0))
            meter.release(starts, amount)
            entry = reported.get(key)
            window = meter.window_of(at_ms - self.clock_margin_ms, now + self.clock_margin_ms)
            final = self._final_amount(meter.limit, method, params, succeeded)
            if entry is not None and entry.count is not None and window is not None:
                meter.merge(window, entry.count)
            elif reservation is not None:
                meter.settle(starts, final)
            else:  # a request we did not see go out: count it now
                meter.charge(self._starts(meter, now), final, settled=True)
        if isinstance(response, ErrorResponse):
            self._note_rate_limited(response, now)
        self._wake()

    # --- the caller's own pacing -------------------------------------------------------------

    async def acquire_weight(
        self, weight: int, orders: int = 0, *, wait: bool | None = None
    ) -> None:
        """Take ``weight`` (and ``orders``) from the budget for a request you make yourself.

        ``wait`` overrides the governor's policy for this call. What is taken is counted as
        spent; the exchange's next report corrects it if it was not.
        """
        if weight < 0 or orders < 0:
            raise InvalidParameter("weight", "weight and orders must not be negative")
        demand = _Demand(weight, orders, None)
        await self._admit(demand, None, wait=self.policy == "wait" if wait is None else wait)

    @asynccontextmanager
    async def slot(
        self, weight: int = 1, orders: int = 0, *, wait: bool | None = None
    ) -> AsyncIterator[None]:
        """``async with governor.slot(weight=20):`` -- the body runs once the budget allows."""
        await self.acquire_weight(weight, orders, wait=wait)
        yield

    async def acquire_connection(self) -> None:
        """Take the weight a new WebSocket API connection costs ("IP limits": 2)."""
        await self.acquire_weight(CONNECTION_WEIGHT)

    async def wait_until_unbanned(self) -> None:
        """Sleep until the IP ban recorded from a 418 is over (returns at once if none)."""
        while (now := self._now()) < self._banned_until + self.clock_margin_ms:
            await self._sleep_until(self._banned_until + self.clock_margin_ms, now)

    # --- admission ---------------------------------------------------------------------------

    async def _admit(self, demand: _Demand, owner: object, *, wait: bool) -> None:
        await trio.lowlevel.checkpoint()
        self._refuse_impossible(demand)
        block = self._block(demand, self._head)
        if block is None:
            self._reserve(demand, owner)
            return
        if block.reason == "ban" and self.on_ban == "fail":
            raise self._ban_error(demand)
        if not wait and block.reason != "ban":
            self._refused += 1
            raise self._refusal(demand, block)
        await self._wait_in_line(demand, owner)

    async def _wait_in_line(self, demand: _Demand, owner: object) -> None:
        self._waiting += 1
        self._waited += 1
        try:
            async with self._line:
                self._head = demand
                try:
                    while (block := self._block(demand)) is not None:
                        if block.reason == "ban" and self.on_ban == "fail":
                            raise self._ban_error(demand)
                        await self._sleep_until(block.until_ms, self._now())
                finally:
                    self._head = None
                self._reserve(demand, owner)
        finally:
            self._waiting -= 1

    def _block(self, demand: _Demand, ahead: _Demand | None = None) -> _Block | None:
        """Why ``demand`` cannot go now, or ``None`` if it can.

        With ``ahead`` (the first waiter), it also cannot go if that would make the waiter
        wait longer: newcomers may use what the waiter cannot, never what it needs.
        """
        block = self._capacity_block(demand)
        if block is not None or ahead is None:
            return block
        before = self._capacity_block(ahead)
        after = self._capacity_block(ahead, demand)
        if after is not None and (before is None or after.until_ms > before.until_ms):
            return _Block(after.until_ms, "queue", after.limit)
        return None

    def _capacity_block(self, demand: _Demand, extra: _Demand | None = None) -> _Block | None:
        """Why ``demand`` (plus ``extra``) does not fit now: a ban, a pause or a full window."""
        now, margin = self._now(), self.clock_margin_ms
        if now < self._banned_until + margin:
            return _Block(self._banned_until + margin, "ban")
        if now < self._paused_until + margin:
            return _Block(self._paused_until + margin, "paused")
        if demand.orders and now < self._orders_paused_until + margin:
            return _Block(self._orders_paused_until + margin, "orders_paused")
        worst: _Block | None = None
        for meter in self._meters.values():
            amount = demand.amount(meter.limit) + (extra.amount(meter.limit) if extra else 0)
            if amount == 0:
                continue
            meter.forget_before(now - margin)
            free_at = meter.free_at(now - margin, now + margin, amount)
            if free_at is not None and (worst is None or free_at + margin > worst.until_ms):
                worst = _Block(free_at + margin, "limit", meter.limit)
        return worst

    def _reserve(self, demand: _Demand, owner: object) -> None:
        now = self._now()
        self._expire_reservations(now)
        charged: dict[LimitKey, tuple[range, int]] = {}
        for key, meter in self._meters.items():
            amount = demand.amount(meter.limit)
            if amount:
                starts = self._starts(meter, now)
                meter.charge(starts, amount, settled=owner is None)
                charged[key] = (starts, amount)
        self._admitted += 1
        if owner is not None:
            stale = self._reservations.pop(id(owner), None)
            if stale is not None:
                self._settle_unanswered(stale)
            self._reservations[id(owner)] = _Reservation(owner, now, charged)

    def _refuse_impossible(self, demand: _Demand) -> None:
        for meter in self._meters.values():
            if demand.amount(meter.limit) > meter.limit.limit:
                self._refused += 1
                raise WouldExceedRateLimit(
                    f"{demand.method or 'request'} needs {demand.amount(meter.limit)} of "
                    f"{_describe(meter.limit)}: it can never be sent",
                    method=demand.method,
                    retry_after=None,
                    rate_limit=meter.limit,
                )

    def _refusal(self, demand: _Demand, block: _Block) -> WouldExceedRateLimit:
        what = demand.method or "request"
        if block.reason == "queue":
            why = "would delay callers already waiting"
        elif block.limit is not None:
            why = f"would exceed {_describe(block.limit)}"
        else:
            why = "is paused after a 429 from the exchange"
        return WouldExceedRateLimit(
            f"{what} not sent: it {why}; retry after {block.until_ms} (epoch ms)",
            method=demand.method,
            retry_after=block.until_ms,
            rate_limit=block.limit,
        )

    def _ban_error(self, demand: _Demand) -> IpBanActive:
        self._refused += 1
        return IpBanActive(
            f"{demand.method or 'request'} not sent: this IP is banned until "
            f"{self._banned_until} (epoch ms)",
            method=demand.method,
            banned_until=self._banned_until,
        )

    # --- responses ---------------------------------------------------------------------------

    def _take_reservation(self, params: Mapping[str, Any]) -> _Reservation | None:
        reservation = self._reservations.get(id(params))
        if reservation is None or reservation.owner is not params:
            return None
        del self._reservations[id(params)]
        return reservation

    def _add_reported_limits(self, entries: Iterable[RateLimit]) -> None:
        """Adopt a limit value or a limit the exchange reports and we did not know."""
        for entry in entries:
            meter = self._meters.get(_key(entry))
            if meter is None:
                self._meters[_key(entry)] = _Meter(msgspec.structs.replace(entry, count=None))
            elif meter.limit.limit != entry.limit:
                meter.limit = msgspec.structs.replace(meter.limit, limit=entry.limit)

    @staticmethod
    def _final_amount(
        limit: RateLimit, method: str, params: Mapping[str, Any], succeeded: bool
    ) -> int:
        if limit.rate_limit_type == ORDERS:
            # "Rejected or unsuccessful orders might or might not update the ORDERS rate
            # limit type": count them unless the exchange reports otherwise.
            return order_count(method, params)
        return weight_after(method, params, succeeded=succeeded)

    def _note_rate_limited(self, response: ErrorResponse, now: int) -> None:
        if response.status not in (418, 429):
            return
        retry_after = _retry_after(response)
        code = response.error.code
        if response.status == 418:
            until = retry_after if retry_after is not None else now + DEFAULT_BAN_MS
            self._banned_until = max(self._banned_until, until)
        elif code == TOO_MANY_ORDERS:
            until = retry_after if retry_after is not None else self._window_end(ORDERS, now)
            self._orders_paused_until = max(self._orders_paused_until, until)
        else:
            until = (
                retry_after if retry_after is not None else self._window_end(REQUEST_WEIGHT, now)
            )
            self._paused_until = max(self._paused_until, until)
        self._last_rate_limited = RateLimitNotice(
            response.status, code, response.error.msg, until, now
        )

    def _window_end(self, kind: RateLimitType, now: int) -> int:
        """Without ``retryAfter``: the end of the latest full window of ``kind``, or else of its
        shortest window (a minute if none is known)."""
        meters = [m for m in self._meters.values() if m.limit.rate_limit_type == kind]
        ends = {m: now - now % m.window_ms + m.window_ms for m in meters}
        full = [end for m, end in ends.items() if m.usage(now).count >= m.limit.limit]
        if full:
            return max(full)
        return min(ends.values(), default=now + 60_000)

    def _expire_reservations(self, now: int) -> None:
        while self._reservations:
            oldest = next(iter(self._reservations))
            if self._reservations[oldest].at_ms >= now - RESERVATION_TTL_MS:
                return
            self._settle_unanswered(self._reservations.pop(oldest))

    def _settle_unanswered(self, reservation: _Reservation) -> None:
        for key, (starts, amount) in reservation.charged.items():
            meter = self._meters.get(key)
            if meter is not None:
                meter.release(starts, amount)
                meter.settle(starts, amount)

    # --- time --------------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self.clock())

    def _starts(self, meter: _Meter, now: int) -> range:
        return meter.starts(now - self.clock_margin_ms, now + self.clock_margin_ms)

    async def _sleep_until(self, until_ms: int, now_ms: int) -> None:
        """Sleep until ``until_ms`` on the governor clock, or until the counts change."""
        with trio.move_on_after(max((until_ms - now_ms) / 1000, _MIN_SLEEP)):
            await self._changed.wait()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    # --- introspection -----------------------------------------------------------------------

    def statistics(self) -> GovernorStatistics:
        now = self._now()
        return GovernorStatistics(
            policy=self.policy,
            limits=tuple(meter.usage(now) for meter in self._meters.values()),
            waiting=self._waiting,
            admitted=self._admitted,
            waited=self._waited,
            refused=self._refused,
            paused_until=self._paused_until if now < self._paused_until else None,
            orders_paused_until=(
                self._orders_paused_until if now < self._orders_paused_until else None
            ),
            banned_until=self._banned_until if now < self._banned_until else None,
            last_rate_limited=self._last_rate_limited,
        )


__all__ = [
    "DEFAULT_LIMITS",
    "GovernorStatistics",
    "IpBanActive",
    "LimitUsage",
    "RateGovernor",
    "RateLimitNotice",
    "WouldExceedRateLimit",
]
