"""The local exchange's rate limiter, driven with plain integer milliseconds."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_binance._weights import request_weight
from trio_binance.testing._limits import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    SECOND_MS,
    Admission,
    BanPolicy,
    Limit,
    RateLimitConfig,
    RateLimiter,
    RateLimitRejection,
)

DAY0 = 19_700 * DAY_MS  # a midnight UTC
NOON = DAY0 + 12 * HOUR_MS  # on a minute, 10 s and 5 min boundary
IP = "203.0.113.7"
OTHER_IP = "198.51.100.2"
ACCOUNT = "account-1"
LIMIT_FIELDS = ["rateLimitType", "interval", "intervalNum", "limit", "count"]


def config(
    weight: int = 6000,
    per_10s: int = 50,
    per_day: int = 160_000,
    connections: int = 300,
    tolerated: int = 10,
) -> RateLimitConfig:
    return RateLimitConfig(
        request_weight=(Limit("REQUEST_WEIGHT", "MINUTE", 1, weight),),
        orders=(Limit("ORDERS", "SECOND", 10, per_10s), Limit("ORDERS", "DAY", 1, per_day)),
        connections=(Limit("CONNECTIONS", "MINUTE", 5, connections),),
        ban=BanPolicy(tolerated_refusals=tolerated),
    )


def weight_used(limiter: RateLimiter, ip: str, now_ms: int) -> int:
    (entry,) = limiter.rate_limits(ip, None, now_ms, include_orders=False)
    assert entry["rateLimitType"] == "REQUEST_WEIGHT"
    return int(entry["count"])


def orders_used(limiter: RateLimiter, account: str, now_ms: int) -> tuple[int, int]:
    per_10s, per_day = limiter.order_rate_limits(account, now_ms)
    return per_10s["count"], per_day["count"]


def place_order(limiter: RateLimiter, now_ms: int, ip: str = IP, account: str = ACCOUNT) -> None:
    admission = limiter.admit(ip, account, "order.place", {"symbol": "BTCUSDT"}, now_ms)
    limiter.settle(admission, succeeded=True)


def query(limiter: RateLimiter, now_ms: int, ip: str = IP, weight: int = 20) -> Admission:
    """Admit and settle a market-data request of ``weight`` (exchangeInfo: 20, ping: 1)."""
    method = {20: "exchangeInfo", 1: "ping", 5: "depth", 250: "depth"}[weight]
    params = {"symbol": "BTCUSDT", "limit": 5000} if weight == 250 else {"symbol": "BTCUSDT"}
    admission = limiter.admit(ip, None, method, params, now_ms)
    limiter.settle(admission, succeeded=True)
    return admission


def refusal(limiter: RateLimiter, now_ms: int, ip: str = IP) -> RateLimitRejection:
    with pytest.raises(RateLimitRejection) as caught:
        query(limiter, now_ms, ip)
    return caught.value


# -- windows --------------------------------------------------------------------------------


def test_a_minute_window_counts_until_the_next_minute_starts() -> None:
    limiter = RateLimiter()
    query(limiter, NOON + 23_456)  # "submitted at 00:01:23.456 counts towards 00:01:00"
    assert weight_used(limiter, IP, NOON + 59_999) == 20
    assert weight_used(limiter, IP, NOON + MINUTE_MS) == 0


def test_ten_second_windows_start_at_multiples_of_ten_seconds() -> None:
    limiter = RateLimiter()
    place_order(limiter, NOON + 9_999)
    place_order(limiter, NOON + 10_000)
    assert orders_used(limiter, ACCOUNT, NOON + 10_000) == (1, 2)
    assert orders_used(limiter, ACCOUNT, NOON + 19_999) == (1, 2)
    assert orders_used(limiter, ACCOUNT, NOON + 20_000) == (0, 2)


def test_the_day_window_resets_at_midnight_utc() -> None:
    limiter = RateLimiter()
    place_order(limiter, DAY0 + 30_000)
    place_order(limiter, DAY0 + DAY_MS - 1)
    assert orders_used(limiter, ACCOUNT, DAY0 + DAY_MS - 1)[1] == 2
    assert orders_used(limiter, ACCOUNT, DAY0 + DAY_MS)[1] == 0


def test_weight_is_shared_by_every_connection_of_an_ip_and_only_that_ip() -> None:
    limiter = RateLimiter()
    limiter.connection_attempt(IP, NOON)
    limiter.connection_attempt(IP, NOON + 1)
    query(limiter, NOON + 2)
    query(limiter, NOON + 3)
    assert weight_used(limiter, IP, NOON + 4) == 2 + 2 + 20 + 20
    assert weight_used(limiter, OTHER_IP, NOON + 4) == 0


def test_orders_are_shared_by_all_keys_and_ips_of_an_account() -> None:
    limiter = RateLimiter(config(per_10s=2))
    place_order(limiter, NOON, ip=IP)
    place_order(limiter, NOON + 1, ip=OTHER_IP)
    with pytest.raises(RateLimitRejection):
        place_order(limiter, NOON + 2, ip=OTHER_IP)
    place_order(limiter, NOON + 3, account="account-2")
    assert orders_used(limiter, ACCOUNT, NOON + 4) == (2, 2)


# -- refusals -------------------------------------------------------------------------------


def test_too_much_weight_is_a_429_retryable_when_the_window_ends() -> None:
    limiter = RateLimiter(config(weight=40))
    query(limiter, NOON + 1_000)
    query(limiter, NOON + 2_000)
    rejection = refusal(limiter, NOON + 3_000)
    assert (rejection.status, rejection.code, rejection.disconnect) == (429, -1003, False)
    assert rejection.msg == (
        "Too much request weight used; current limit is 40 request weight per 1 MINUTE. "
        "Please use WebSocket Streams for live updates to avoid polling the API."
    )
    assert rejection.data == {"serverTime": NOON + 3_000, "retryAfter": NOON + MINUTE_MS}
    assert rejection.error() == {"code": -1003, "msg": rejection.msg, "data": rejection.data}
    query(limiter, NOON + MINUTE_MS)


def test_a_light_request_still_fits_under_the_limit() -> None:
    limiter = RateLimiter(config(weight=30))
    query(limiter, NOON)
    refusal(limiter, NOON + 1)  # 20 + 20 > 30 ...
    assert weight_used(limiter, IP, NOON + 2) == 20  # ... and the refused one is not charged
    query(limiter, NOON + 3, weight=5)
    assert weight_used(limiter, IP, NOON + 4) == 25


def test_too_many_orders_is_the_documented_429() -> None:
    limiter = RateLimiter()
    for i in range(50):
        place_order(limiter, NOON + i)
    with pytest.raises(RateLimitRejection) as caught:
        place_order(limiter, NOON + 100)
    rejection = caught.value
    assert (rejection.status, rejection.code) == (429, -1015)
    # The exact text of the -1015 example in "Cancel and replace order".
    assert rejection.msg == "Too many new orders; current limit is 50 orders per 10 SECOND."
    assert rejection.retry_after == NOON + 10 * SECOND_MS
    # Refused orders are not counted; the failed request is charged its weight.
    limits = limiter.rate_limits(IP, ACCOUNT, NOON + 100, include_orders=True)
    assert [list(entry) for entry in limits] == [LIMIT_FIELDS] * 3
    assert limits == [
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50, "count": 50},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 160000, "count": 50},
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000, "count": 1},
    ]  # fmt: skip


def test_an_exhausted_day_says_so_and_stops_the_ten_second_count() -> None:
    limiter = RateLimiter(config(per_10s=5, per_day=7))
    for i in range(5):
        place_order(limiter, NOON + i)
    place_order(limiter, NOON + 10_000)
    place_order(limiter, NOON + 10_001)
    with pytest.raises(RateLimitRejection) as caught:
        place_order(limiter, NOON + 20_000)
    assert caught.value.msg == "Too many new orders; current limit is 7 orders per 1 DAY."
    assert caught.value.retry_after == DAY0 + DAY_MS
    assert orders_used(limiter, ACCOUNT, NOON + 20_000) == (0, 7)


def test_an_order_list_needs_room_for_all_its_orders() -> None:
    limiter = RateLimiter(config(per_10s=4))
    place_order(limiter, NOON)
    place_order(limiter, NOON + 1)
    with pytest.raises(RateLimitRejection):
        limiter.admit(IP, ACCOUNT, "orderList.place.otoco", {}, NOON + 2)
    admission = limiter.admit(IP, ACCOUNT, "orderList.place.oco", {}, NOON + 3)
    limiter.settle(admission, succeeded=True)
    assert orders_used(limiter, ACCOUNT, NOON + 4) == (4, 4)


def test_cancel_replace_exceeding_orders_is_refused_unless_cancel_only() -> None:
    limiter = RateLimiter(config(per_10s=1))
    place_order(limiter, NOON)
    params = {"symbol": "BTCUSDT", "cancelReplaceMode": "STOP_ON_FAILURE"}
    with pytest.raises(RateLimitRejection):
        limiter.admit(IP, ACCOUNT, "order.cancelReplace", params, NOON + 1)
    cancel_only = {**params, "orderRateLimitExceededMode": "CANCEL_ONLY"}
    admission = limiter.admit(IP, ACCOUNT, "order.cancelReplace", cancel_only, NOON + 2)
    assert admission.orders_refused is not None
    assert admission.orders_refused.code == -1015
    limiter.settle(admission, succeeded=False)  # 409: cancel done, new order refused
    assert orders_used(limiter, ACCOUNT, NOON + 3) == (1, 1)


def test_orders_need_no_account_check_without_an_account() -> None:
    limiter = RateLimiter(config(per_10s=1))
    for i in range(3):
        limiter.admit(IP, None, "order.place", {}, NOON + i)
    assert limiter.order_rate_limits(None, NOON) == []


# -- weight and orders once the outcome is known -------------------------------------------


def test_successful_order_requests_weigh_nothing_failed_ones_their_weight() -> None:
    limiter = RateLimiter()
    placed = limiter.admit(IP, ACCOUNT, "order.place", {"symbol": "BTCUSDT"}, NOON)
    assert weight_used(limiter, IP, NOON) == 1  # charged while it runs
    limiter.settle(placed, succeeded=True)
    assert weight_used(limiter, IP, NOON + 1) == 0
    assert orders_used(limiter, ACCOUNT, NOON + 1) == (1, 1)
    failed = limiter.admit(IP, ACCOUNT, "order.place", {"symbol": "BTCUSDT"}, NOON + 2)
    limiter.settle(failed, succeeded=False)
    assert weight_used(limiter, IP, NOON + 3) == 1
    assert orders_used(limiter, ACCOUNT, NOON + 3) == (1, 1)


def test_an_ip_that_only_trades_successfully_never_hits_the_weight_limit() -> None:
    limiter = RateLimiter(config(weight=3, per_10s=1000, per_day=1000))
    for i in range(100):
        place_order(limiter, NOON + i)
    assert weight_used(limiter, IP, NOON + 100) == 0


def test_an_amendment_is_free_only_when_it_expires_the_order() -> None:
    limiter = RateLimiter()
    kept = limiter.admit(IP, ACCOUNT, "order.amend.keepPriority", {}, NOON)
    limiter.settle(kept, succeeded=True)
    expired = limiter.admit(IP, ACCOUNT, "order.amend.keepPriority", {}, NOON + 1)
    limiter.settle(expired, succeeded=True, order_expired=True)
    assert weight_used(limiter, IP, NOON + 2) == 4
    assert orders_used(limiter, ACCOUNT, NOON + 2) == (0, 0)


def test_the_engine_decides_how_many_orders_a_failure_placed() -> None:
    limiter = RateLimiter()
    # "A new order that was not attempted ... will still increase the unfilled order count by 1."
    admission = limiter.admit(IP, ACCOUNT, "order.cancelReplace", {}, NOON)
    limiter.settle(admission, succeeded=False, orders_placed=1)
    assert orders_used(limiter, ACCOUNT, NOON + 1) == (1, 1)
    assert weight_used(limiter, IP, NOON + 1) == 1


def test_settling_after_the_window_ends_leaves_the_new_window_alone() -> None:
    limiter = RateLimiter()
    admission = limiter.admit(IP, ACCOUNT, "order.place", {}, NOON + 59_999)
    query(limiter, NOON + MINUTE_MS)
    limiter.settle(admission, succeeded=True)
    assert weight_used(limiter, IP, NOON + MINUTE_MS) == 20


def test_only_order_placing_methods_report_the_orders_limits() -> None:
    limiter = RateLimiter()
    assert limiter.admit(IP, ACCOUNT, "v3/orderList.place.oto", {}, NOON).reports_orders
    assert not limiter.admit(IP, ACCOUNT, "order.cancel", {}, NOON).reports_orders


def test_exchange_info_lists_the_limits_without_counts() -> None:
    assert RateLimitConfig().exchange_info() == [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 160000},
        {"rateLimitType": "CONNECTIONS", "interval": "MINUTE", "intervalNum": 5, "limit": 300},
    ]


# -- connections ----------------------------------------------------------------------------


def test_connection_attempts_are_limited_per_ip_per_five_minutes() -> None:
    limiter = RateLimiter()
    start = NOON + 3 * MINUTE_MS  # inside the 12:00-12:05 window
    for i in range(300):
        limiter.connection_attempt(IP, start + i)
    with pytest.raises(RateLimitRejection) as caught:
        limiter.connection_attempt(IP, start + 300)
    rejection = caught.value
    assert (rejection.status, rejection.code, rejection.disconnect) == (429, -1034, False)
    assert (
        rejection.msg
        == "Too many connection attempts from IP; current limit is 300 per '5 MINUTE'."
    )
    assert rejection.retry_after == NOON + 5 * MINUTE_MS
    limiter.connection_attempt(OTHER_IP, start + 301)
    limiter.connection_attempt(IP, NOON + 5 * MINUTE_MS)


def test_connecting_costs_weight_and_needs_it() -> None:
    limiter = RateLimiter(config(weight=5))
    limiter.connection_attempt(IP, NOON)
    limiter.connection_attempt(IP, NOON + 1)
    assert weight_used(limiter, IP, NOON + 2) == 4
    with pytest.raises(RateLimitRejection) as caught:
        limiter.connection_attempt(IP, NOON + 3)
    assert caught.value.code == -1003


# -- escalation to bans ---------------------------------------------------------------------

BAN_MSG = (
    "Way too much request weight used; IP banned until {}. "
    "Please use WebSocket Streams for live updates to avoid bans."
)


def exhaust(limiter: RateLimiter, now_ms: int, ip: str = IP) -> None:
    """Use up the window's weight (limit 20 in these tests) and get one 429."""
    query(limiter, now_ms, ip)
    assert refusal(limiter, now_ms + 1, ip).status == 429


def get_banned(limiter: RateLimiter, now_ms: int) -> RateLimitRejection:
    """Exhaust the window, then keep sending until banned (tolerated_refusals=2)."""
    exhaust(limiter, now_ms)
    assert refusal(limiter, now_ms + 2).status == 429
    return refusal(limiter, now_ms + 3)


def test_failing_to_back_off_gets_the_ip_banned_and_disconnected() -> None:
    limiter = RateLimiter(config(weight=20, tolerated=2))
    ban = get_banned(limiter, NOON)
    until = NOON + 3 + 2 * MINUTE_MS
    assert (ban.status, ban.code, ban.disconnect) == (418, -1003, True)
    assert ban.msg == BAN_MSG.format(until)
    assert ban.data == {"serverTime": NOON + 3, "retryAfter": until}
    assert limiter.banned_until(IP, NOON + 4) == until
    assert limiter.banned_until(OTHER_IP, NOON + 4) is None


def test_a_banned_ip_is_refused_everything_until_the_ban_ends() -> None:
    limiter = RateLimiter(config(weight=20, tolerated=2))
    until = get_banned(limiter, NOON).retry_after
    later = until - 1
    with pytest.raises(RateLimitRejection) as caught:
        limiter.admit(IP, ACCOUNT, "ping", {}, later)
    assert (caught.value.status, caught.value.retry_after, caught.value.disconnect) == (
        418,
        until,
        True,
    )
    with pytest.raises(RateLimitRejection) as caught:
        limiter.connection_attempt(IP, later)
    assert caught.value.status == 418
    query(limiter, until, weight=1)
    assert limiter.banned_until(IP, until) is None


def test_an_ip_that_backs_off_after_each_429_is_never_banned() -> None:
    limiter = RateLimiter(config(weight=20, tolerated=2))
    for minute in range(10):
        exhaust(limiter, NOON + minute * MINUTE_MS)  # then waits for retryAfter
    assert limiter.banned_until(IP, NOON + 10 * MINUTE_MS) is None


def test_bans_grow_for_repeat_offenders_up_to_three_days() -> None:
    limiter = RateLimiter(config(weight=20, tolerated=2))
    now = NOON
    lengths = []
    for _ in range(14):
        ban = get_banned(limiter, now)
        lengths.append(ban.retry_after - (now + 3))
        now = ban.retry_after + MINUTE_MS - ban.retry_after % MINUTE_MS  # next fresh minute
    assert lengths[:4] == [2 * MINUTE_MS, 4 * MINUTE_MS, 8 * MINUTE_MS, 16 * MINUTE_MS]
    assert max(lengths) == lengths[-1] == 3 * DAY_MS


def test_a_reformed_ip_starts_again_at_two_minutes() -> None:
    limiter = RateLimiter(config(weight=20, tolerated=2))
    first = get_banned(limiter, NOON)
    assert get_banned(limiter, first.retry_after + MINUTE_MS).retry_after > 0
    limiter.forget_idle(NOON + 3 * DAY_MS)  # forgetting idle state must not forget offences
    start = NOON + 3 * DAY_MS
    ban = get_banned(limiter, start)
    assert ban.retry_after - (start + 3) == 2 * MINUTE_MS


def test_the_ban_policy_arithmetic() -> None:
    policy = BanPolicy()
    assert [policy.ban_ms(n) for n in range(3)] == [2 * MINUTE_MS, 4 * MINUTE_MS, 8 * MINUTE_MS]
    assert policy.ban_ms(50) == 3 * DAY_MS


def test_forgetting_idle_state_keeps_bans_and_repeat_offences() -> None:
    limiter = RateLimiter(config(weight=20, tolerated=2))
    first = get_banned(limiter, NOON)
    limiter.forget_idle(first.retry_after - 1)
    assert limiter.banned_until(IP, first.retry_after - 1) == first.retry_after
    start = first.retry_after + HOUR_MS
    limiter.forget_idle(start)
    second = get_banned(limiter, start)
    assert second.retry_after - (start + 3) == 4 * MINUTE_MS


# -- properties -----------------------------------------------------------------------------

offsets = st.integers(min_value=0, max_value=3 * MINUTE_MS)


@given(first=offsets, later=st.integers(min_value=0, max_value=2 * MINUTE_MS))
def test_a_count_lasts_exactly_until_its_window_ends(first: int, later: int) -> None:
    limiter = RateLimiter()
    query(limiter, NOON + first)
    now = NOON + first + later
    same_minute = (first + later) // MINUTE_MS == first // MINUTE_MS
    assert weight_used(limiter, IP, now) == (20 if same_minute else 0)


@given(first=offsets, later=st.integers(min_value=0, max_value=30 * SECOND_MS))
def test_order_counts_last_exactly_until_their_ten_seconds_end(first: int, later: int) -> None:
    limiter = RateLimiter()
    place_order(limiter, NOON + first)
    same_window = (first + later) // 10_000 == first // 10_000
    assert orders_used(limiter, ACCOUNT, NOON + first + later) == (int(same_window), 1)


requests = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=5 * SECOND_MS),
        st.sampled_from([("ping", {}), ("depth", {"limit": 5000}), ("exchangeInfo", {})]),
    ),
    max_size=60,
)


def try_admit(
    limiter: RateLimiter, method: str, params: dict[str, Any], now_ms: int
) -> RateLimitRejection | None:
    try:
        limiter.admit(IP, None, method, params, now_ms)
    except RateLimitRejection as rejection:
        return rejection
    return None


@given(requests=requests, limit=st.integers(min_value=1, max_value=600))
def test_a_refused_request_never_pushes_the_count_over_the_limit(
    requests: list[tuple[int, tuple[str, dict[str, Any]]]], limit: int
) -> None:
    limiter = RateLimiter(config(weight=limit, tolerated=10**6))
    now, minute, admitted = NOON, NOON, 0
    for gap, (method, params) in requests:
        now += gap
        if now - now % MINUTE_MS != minute:
            minute, admitted = now - now % MINUTE_MS, 0
        rejection = try_admit(limiter, method, params, now)
        if rejection is None:
            admitted += request_weight(method, params)
        else:
            assert rejection.retry_after == minute + MINUTE_MS
        assert weight_used(limiter, IP, now) == admitted <= limit


def test_a_ban_imposed_by_a_test_refuses_handshakes_and_requests_until_it_ends() -> None:
    limiter = RateLimiter()
    until = NOON + 5 * MINUTE_MS
    limiter.ban(IP, until_ms=until)
    limiter.ban(IP, until_ms=NOON + MINUTE_MS)  # an earlier end does not shorten it
    assert limiter.banned_until(IP, NOON) == until
    assert limiter.banned_until(OTHER_IP, NOON) is None
    with pytest.raises(RateLimitRejection) as caught:
        limiter.connection_attempt(IP, until - 1)
    assert (caught.value.status, caught.value.retry_after) == (418, until)
    with pytest.raises(RateLimitRejection):
        limiter.admit(IP, ACCOUNT, "ping", {}, until - 1)
    limiter.forget_idle(until - 1)  # a live ban is not forgotten
    assert limiter.banned_until(IP, until - 1) == until
    limiter.connection_attempt(IP, until)
    limiter.admit(IP, ACCOUNT, "ping", {}, until)
