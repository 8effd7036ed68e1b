"""The local exchange's rate limiter: Binance's fixed-window arithmetic, with no I/O.

Spec: web-socket-api.md, "Rate limits". Every limit counts in fixed windows aligned on the
exchange clock (epoch milliseconds, which are UTC): a ``1 MINUTE`` window starts every minute,
``10 SECOND`` windows start at :00, :10, ..., ``1 DAY`` resets at 00:00 UTC. REQUEST_WEIGHT and
connection attempts are counted per IP (shared by all its connections), ORDERS per account
(shared by all its API keys).

The server drives it in three steps per request: :meth:`RateLimiter.admit` before running it
(raises :class:`RateLimitRejection`, or returns an :class:`Admission`),
:meth:`RateLimiter.settle` once the outcome is known (weight 0 on success for order methods,
orders actually placed), then :meth:`RateLimiter.rate_limits` for the response's
``rateLimits``. Time is always passed in (``now_ms``), so tests need no clock.

Where the spec is silent, this module chooses, and says so:

* A request refused for REQUEST_WEIGHT is not charged (it never ran), so a window's count
  never exceeds its limit. A request refused for ORDERS *is* charged its weight: it failed,
  and failed requests are charged (the -1015 example in "Cancel and replace order" shows
  ``REQUEST_WEIGHT`` count 1 for such a request). Refused orders are not counted.
* Connecting costs weight (``CONNECTION_WEIGHT``); a connection that would exceed the weight
  limit is refused like a request.
* Escalation (``BanPolicy``): "repeatedly violating rate limits and/or failing to back off
  after receiving 429s" bans the IP. Here a refusal counts as a strike while the IP is still
  inside the period named by its last ``retryAfter``; past ``tolerated_refusals`` strikes the
  next refusal bans the IP instead. Bans last 2 minutes, then double per repeat offence up to
  3 days; an IP unbanned for ``forgive_after_ms`` starts again at 2 minutes. Only IP limits
  (weight, connections) escalate: ORDERS are per account and the spec bans only IPs.
* A refused connection attempt uses -1034's IP message (errors.md), the only documented text
  for connection attempts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from trio_binance._weights import (
    CONNECTION_WEIGHT,
    canonical_method,
    order_count,
    request_weight,
    weight_after,
)
from trio_binance.testing._error_messages import error_message

SECOND_MS = 1_000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

_INTERVAL_MS = {"SECOND": SECOND_MS, "MINUTE": MINUTE_MS, "HOUR": HOUR_MS, "DAY": DAY_MS}

TOO_MANY_REQUESTS = -1003
TOO_MANY_ORDERS = -1015
TOO_MANY_CONNECTIONS = -1034


@dataclass(frozen=True)
class Limit:
    """One rate limit, as ``exchangeInfo`` describes it."""

    rate_limit_type: str
    interval: str
    interval_num: int
    limit: int

    @cached_property
    def window_ms(self) -> int:
        # Asked several times per request; cached_property writes the instance __dict__
        # directly, so it works on this frozen dataclass.
        return _INTERVAL_MS[self.interval] * self.interval_num

    def window_start(self, now_ms: int) -> int:
        """Start of the window holding ``now_ms``: windows are aligned on the epoch (UTC)."""
        return now_ms - now_ms % self.window_ms

    def window_end(self, now_ms: int) -> int:
        """First millisecond of the next window: when the count resets."""
        return self.window_start(now_ms) + self.window_ms

    @property
    def per(self) -> str:
        """The interval as error messages write it: ``10 SECOND``, ``1 MINUTE``."""
        return f"{self.interval_num} {self.interval}"

    def describe(self) -> dict[str, Any]:
        """This limit as an ``exchangeInfo.rateLimits`` entry (no count)."""
        return {
            "rateLimitType": self.rate_limit_type,
            "interval": self.interval,
            "intervalNum": self.interval_num,
            "limit": self.limit,
        }

    def entry(self, count: int) -> dict[str, Any]:
        """This limit as a response's ``rateLimits`` entry, field order as in the spec."""
        # Spelled out rather than {**describe(), ...}: built for every response.
        return {
            "rateLimitType": self.rate_limit_type,
            "interval": self.interval,
            "intervalNum": self.interval_num,
            "limit": self.limit,
            "count": count,
        }


# Binance's defaults ("exchangeInfo" example, CHANGELOG 2023-08-25).
REQUEST_WEIGHT_PER_MINUTE = Limit("REQUEST_WEIGHT", "MINUTE", 1, 6000)
ORDERS_PER_10_SECONDS = Limit("ORDERS", "SECOND", 10, 50)
ORDERS_PER_DAY = Limit("ORDERS", "DAY", 1, 160_000)
CONNECTIONS_PER_5_MINUTES = Limit("CONNECTIONS", "MINUTE", 5, 300)


@dataclass(frozen=True)
class BanPolicy:
    """How refusals escalate to IP bans ("IP limits": bans scale "from 2 minutes to 3 days")."""

    tolerated_refusals: int = 10
    first_ban_ms: int = 2 * MINUTE_MS
    growth: int = 2
    longest_ban_ms: int = 3 * DAY_MS
    forgive_after_ms: int = DAY_MS

    def ban_ms(self, earlier_bans: int) -> int:
        """Length of a ban that follows ``earlier_bans`` unforgiven bans."""
        factor: int = self.growth**earlier_bans
        return min(self.first_ban_ms * factor, self.longest_ban_ms)


@dataclass(frozen=True)
class RateLimitConfig:
    """The limits the local exchange enforces; Binance's by default."""

    request_weight: tuple[Limit, ...] = (REQUEST_WEIGHT_PER_MINUTE,)
    orders: tuple[Limit, ...] = (ORDERS_PER_10_SECONDS, ORDERS_PER_DAY)
    connections: tuple[Limit, ...] = (CONNECTIONS_PER_5_MINUTES,)
    connection_weight: int = CONNECTION_WEIGHT
    ban: BanPolicy = field(default_factory=BanPolicy)

    def exchange_info(self) -> list[dict[str, Any]]:
        """The ``rateLimits`` of ``exchangeInfo``, in the order of the spec's example."""
        limits = (*self.request_weight, *self.orders, *self.connections)
        return [limit.describe() for limit in limits]


class RateLimitRejection(Exception):
    """A request or connection refused by a rate limit, ready to become an error frame.

    ``disconnect`` is set for a banned IP: the server must drop the connection after sending
    the error ("IP limits": "you will be disconnected").
    """

    def __init__(
        self,
        status: int,
        code: int,
        msg: str,
        *,
        server_time: int,
        retry_after: int,
        disconnect: bool = False,
    ) -> None:
        super().__init__(f"{status} {code}: {msg}")
        self.status = status
        self.code = code
        self.msg = msg
        self.retry_after = retry_after
        self.data: dict[str, Any] = {"serverTime": server_time, "retryAfter": retry_after}
        self.disconnect = disconnect

    def error(self) -> dict[str, Any]:
        """The response's ``error`` object."""
        return {"code": self.code, "msg": self.msg, "data": dict(self.data)}


@dataclass(slots=True)  # not frozen: one per request, and frozen ones build ~3x slower
class Admission:
    """A request let through by :meth:`RateLimiter.admit`; hand it back to ``settle``.

    ``orders_refused`` is set when a cancelReplace with ``orderRateLimitExceededMode=
    CANCEL_ONLY`` exceeds the ORDERS limit: the cancel runs, the new order must fail with
    this error (status 409, "Cancel and replace order").
    """

    ip: str
    account: str | None
    method: str
    params: Mapping[str, Any]
    weight: int
    orders: int
    at_ms: int
    orders_refused: RateLimitRejection | None = None

    @property
    def reports_orders(self) -> bool:
        """Whether the response's ``rateLimits`` shows the ORDERS limits."""
        return order_count(self.method, self.params) > 0


@dataclass
class _Counter:
    """The count of one limit in its current window."""

    limit: Limit
    start: int = 0
    count: int = 0
    # The window arithmetic inline (Limit.window_start without the calls): several counters
    # are asked on every request.
    _window_ms: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._window_ms = self.limit.window_ms

    def count_at(self, now_ms: int) -> int:
        return self.count if now_ms - now_ms % self._window_ms == self.start else 0

    def add(self, at_ms: int, amount: int) -> None:
        """Count ``amount`` in the window of ``at_ms``; a window already gone is left alone."""
        start = at_ms - at_ms % self._window_ms
        if start > self.start:
            self.start, self.count = start, 0
        if start == self.start:
            self.count += amount

    def take_back(self, at_ms: int, amount: int) -> None:
        if at_ms - at_ms % self._window_ms == self.start:
            self.count = max(self.count - amount, 0)


class _Meter:
    """Counters for a group of limits that are charged together (e.g. ORDERS 10 s and 1 day)."""

    def __init__(self, limits: tuple[Limit, ...]) -> None:
        self._counters = tuple(_Counter(limit) for limit in limits)

    def violated(self, now_ms: int, amount: int) -> Limit | None:
        """The limit ``amount`` more would exceed; of several, the one that resets last.

        "If you exhaust a longer interval, you will have to wait for that interval to reset."
        """
        over = [c.limit for c in self._counters if c.count_at(now_ms) + amount > c.limit.limit]
        if not over:  # the usual answer: skip max() and its key function
            return None
        return max(over, key=lambda limit: limit.window_end(now_ms))

    def add(self, at_ms: int, amount: int) -> None:
        for counter in self._counters:
            counter.add(at_ms, amount)

    def take_back(self, at_ms: int, amount: int) -> None:
        for counter in self._counters:
            counter.take_back(at_ms, amount)

    def entries(self, now_ms: int) -> list[dict[str, Any]]:
        return [c.limit.entry(c.count_at(now_ms)) for c in self._counters]

    def idle(self, now_ms: int) -> bool:
        return all(counter.count_at(now_ms) == 0 for counter in self._counters)


@dataclass
class _IpState:
    weight: _Meter
    connections: _Meter
    limited_until: int = 0  # retryAfter of the last refusal; refusals before it are strikes
    strikes: int = 0
    banned_until: int = 0
    bans: int = 0  # bans that still lengthen the next one
    last_ban_end: int = 0

    def idle(self, now_ms: int, forgive_after_ms: int) -> bool:
        return (
            self.weight.idle(now_ms)
            and self.connections.idle(now_ms)
            and now_ms >= max(self.limited_until, self.banned_until)
            and (self.bans == 0 or now_ms - self.last_ban_end >= forgive_after_ms)
        )


def _cancel_only(method: str, params: Mapping[str, Any]) -> bool:
    # "Cancel and replace order": with orderRateLimitExceededMode=CANCEL_ONLY the cancel
    # still runs when the ORDERS limit is exceeded; with DO_NOTHING (default) it is a 429.
    return (
        canonical_method(method) == "order.cancelReplace"
        and params.get("orderRateLimitExceededMode") == "CANCEL_ONLY"
    )


class RateLimiter:
    """Binance's REQUEST_WEIGHT, ORDERS and CONNECTIONS limits, and IP bans."""

    def __init__(self, config: RateLimitConfig | None = None) -> None:
        self.config = config or RateLimitConfig()
        self._ips: dict[str, _IpState] = {}
        self._accounts: dict[str, _Meter] = {}

    # -- the server's entry points ---------------------------------------------------------

    def connection_attempt(self, ip: str, now_ms: int) -> None:
        """Count a new connection from ``ip``; raise :class:`RateLimitRejection` to refuse it."""
        self.forget_idle(now_ms)
        state = self._ip(ip)
        self._refuse_if_banned(state, now_ms)
        limit = state.connections.violated(now_ms, 1)
        if limit is not None:
            raise self._strike(state, now_ms, _connections_refusal(limit, now_ms))
        self._charge_weight(state, self.config.connection_weight, now_ms)
        state.connections.add(now_ms, 1)

    def admit(
        self,
        ip: str,
        account: str | None,
        method: str,
        params: Mapping[str, Any],
        now_ms: int,
    ) -> Admission:
        """Decide, before running it, whether a request may run; charge its weight if so.

        ``account`` is the account of the request's API key (``None`` when unauthenticated);
        its ORDERS are reserved now and reconciled by :meth:`settle`.
        """
        state = self._ip(ip)
        self._refuse_if_banned(state, now_ms)
        weight = request_weight(method, params)
        self._charge_weight(state, weight, now_ms)
        orders = order_count(method, params) if account is not None else 0
        refusal = self._reserve_orders(account, orders, now_ms)
        if refusal is not None:
            if not _cancel_only(method, params):
                raise refusal
            orders = 0
        return Admission(ip, account, method, dict(params), weight, orders, now_ms, refusal)

    def settle(
        self,
        admission: Admission,
        *,
        succeeded: bool,
        orders_placed: int | None = None,
        order_expired: bool = False,
    ) -> None:
        """Reconcile an admitted request with its outcome.

        ``succeeded`` is a 200 response. ``orders_placed`` defaults to the method's order
        count on success and to 0 on failure ("Rejected or unsuccessful orders might or might
        not update the ORDERS rate limit type": the engine passes what it decided, e.g. 1 for
        a cancelReplace whose new order was NOT_ATTEMPTED). ``order_expired`` reports that an
        amendment expired its order (CHANGELOG 2026-04-02).
        """
        self._refund_weight(admission, succeeded=succeeded, order_expired=order_expired)
        if orders_placed is None:
            orders_placed = admission.orders if succeeded else 0
        self._reconcile_orders(admission, orders_placed)

    def rate_limits(
        self, ip: str, account: str | None, now_ms: int, *, include_orders: bool
    ) -> list[dict[str, Any]]:
        """A response's ``rateLimits``: ORDERS first (when asked and known), then weight."""
        entries = self.order_rate_limits(account, now_ms) if include_orders else []
        state = self._ips.get(ip)
        weight = state.weight if state else _Meter(self.config.request_weight)
        return entries + weight.entries(now_ms)

    def order_rate_limits(self, account: str | None, now_ms: int) -> list[dict[str, Any]]:
        """The ORDERS entries of ``account`` (the ``account.rateLimits.orders`` result)."""
        if account is None:
            return []
        meter = self._accounts.get(account) or _Meter(self.config.orders)
        return meter.entries(now_ms)

    def banned_until(self, ip: str, now_ms: int) -> int | None:
        """When the ban on ``ip`` ends, or ``None`` if it is not banned."""
        state = self._ips.get(ip)
        if state is None or now_ms >= state.banned_until:
            return None
        return state.banned_until

    def ban(self, ip: str, *, until_ms: int) -> None:
        """Ban ``ip`` until ``until_ms`` (exchange ms), as if it had earned it: its handshakes
        are refused with 418 and ``retryAfter`` until then, and so are its requests on open
        connections. What a client sees when another client on the same IP got it banned.
        An earlier end than a ban already in place does not shorten that ban."""
        state = self._ip(ip)
        state.banned_until = max(state.banned_until, until_ms)
        state.last_ban_end = max(state.last_ban_end, state.banned_until)

    def forget_idle(self, now_ms: int) -> None:
        """Drop state that no longer affects anything, so memory stays bounded."""
        forgive = self.config.ban.forgive_after_ms
        self._ips = {ip: s for ip, s in self._ips.items() if not s.idle(now_ms, forgive)}
        self._accounts = {a: m for a, m in self._accounts.items() if not m.idle(now_ms)}

    # -- weight ----------------------------------------------------------------------------

    def _ip(self, ip: str) -> _IpState:
        state = self._ips.get(ip)
        if state is None:
            config = self.config
            state = _IpState(_Meter(config.request_weight), _Meter(config.connections))
            self._ips[ip] = state
        return state

    def _charge_weight(self, state: _IpState, weight: int, now_ms: int) -> None:
        limit = state.weight.violated(now_ms, weight)
        if limit is not None:
            raise self._strike(state, now_ms, _weight_refusal(limit, now_ms))
        state.weight.add(now_ms, weight)

    def _refund_weight(self, admission: Admission, *, succeeded: bool, order_expired: bool) -> None:
        final = weight_after(
            admission.method, admission.params, succeeded=succeeded, order_expired=order_expired
        )
        state = self._ips.get(admission.ip)
        if state is not None and final < admission.weight:
            state.weight.take_back(admission.at_ms, admission.weight - final)

    # -- orders ----------------------------------------------------------------------------

    def _reserve_orders(
        self, account: str | None, orders: int, now_ms: int
    ) -> RateLimitRejection | None:
        if account is None or orders == 0:
            return None
        meter = self._account_meter(account)
        # A refused order is not counted, so an exhausted DAY limit also stops the 10 s count
        # (CHANGELOG 2025-04-07).
        limit = meter.violated(now_ms, orders)
        if limit is not None:
            return _orders_refusal(limit, now_ms)
        meter.add(now_ms, orders)
        return None

    def _account_meter(self, account: str) -> _Meter:
        meter = self._accounts.get(account)
        if meter is None:
            meter = self._accounts[account] = _Meter(self.config.orders)
        return meter

    def _reconcile_orders(self, admission: Admission, placed: int) -> None:
        if admission.account is None or placed == admission.orders:
            return
        meter = self._account_meter(admission.account)
        if placed > admission.orders:
            meter.add(admission.at_ms, placed - admission.orders)
        else:
            meter.take_back(admission.at_ms, admission.orders - placed)

    # -- escalation ------------------------------------------------------------------------

    def _refuse_if_banned(self, state: _IpState, now_ms: int) -> None:
        if now_ms < state.banned_until:
            raise _ban_refusal(state.banned_until, now_ms)

    def _strike(
        self, state: _IpState, now_ms: int, refusal: RateLimitRejection
    ) -> RateLimitRejection:
        """Count a refusal as a strike; return it, or the ban it has earned."""
        if now_ms >= state.limited_until:
            state.strikes = 0
        state.strikes += 1
        state.limited_until = max(state.limited_until, refusal.retry_after)
        if state.strikes > self.config.ban.tolerated_refusals:
            return self._ban(state, now_ms)
        return refusal

    def _ban(self, state: _IpState, now_ms: int) -> RateLimitRejection:
        policy = self.config.ban
        if now_ms - state.last_ban_end >= policy.forgive_after_ms:
            state.bans = 0
        state.banned_until = now_ms + policy.ban_ms(state.bans)
        state.bans += 1
        state.last_ban_end = state.banned_until
        state.strikes, state.limited_until = 0, 0
        return _ban_refusal(state.banned_until, now_ms)


# -- the documented refusals (errors.md) ----------------------------------------------------


def _weight_refusal(limit: Limit, now_ms: int) -> RateLimitRejection:
    msg = error_message(TOO_MANY_REQUESTS, 1) % (limit.limit, limit.per)
    return RateLimitRejection(
        429, TOO_MANY_REQUESTS, msg, server_time=now_ms, retry_after=limit.window_end(now_ms)
    )


def _orders_refusal(limit: Limit, now_ms: int) -> RateLimitRejection:
    msg = error_message(TOO_MANY_ORDERS, 1) % (limit.limit, limit.per)
    return RateLimitRejection(
        429, TOO_MANY_ORDERS, msg, server_time=now_ms, retry_after=limit.window_end(now_ms)
    )


def _connections_refusal(limit: Limit, now_ms: int) -> RateLimitRejection:
    msg = error_message(TOO_MANY_CONNECTIONS, 2) % (limit.limit, limit.per)
    return RateLimitRejection(
        429, TOO_MANY_CONNECTIONS, msg, server_time=now_ms, retry_after=limit.window_end(now_ms)
    )


def _ban_refusal(until_ms: int, now_ms: int) -> RateLimitRejection:
    # "IP limits": status 418, retryAfter is when the ban is lifted, and the IP is disconnected.
    msg = error_message(TOO_MANY_REQUESTS, 2) % until_ms
    return RateLimitRejection(
        418, TOO_MANY_REQUESTS, msg, server_time=now_ms, retry_after=until_ms, disconnect=True
    )
