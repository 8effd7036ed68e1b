"""The API and stream fault plans share one rule book: order, counting, expiry, refusal."""

from __future__ import annotations

import pytest

from trio_binance.testing import Drop, FaultPlan, Silent, SkipEvent, StreamFaultPlan


def test_api_rules_are_taken_in_arming_order_and_expire_after_their_times() -> None:
    plan = FaultPlan()
    first = plan.arm(Silent(), method="order.place", times=2)
    plan.arm(Drop(), connection=7, times=None)

    assert plan.take("order.place", 1) == Silent()
    assert plan.take("order.place", 7) == Silent()  # armed first, so it wins while it lasts
    assert first.taken == 2
    assert plan.armed == (plan.armed[0],) and plan.armed[0].fault == Drop()
    assert plan.take("order.place", 7) == Drop()
    assert plan.take("ping", 1) is None  # no rule for another connection
    assert plan
    plan.clear()
    assert not plan
    assert plan.take("ping", 7) is None


def test_stream_rules_match_by_stream_and_connection() -> None:
    plan = StreamFaultPlan()
    rule = plan.arm(SkipEvent(), stream="btcusdt@trade", connection=3)

    assert plan.take("btcusdt@trade", 4) is None
    assert plan.take("ethusdt@trade", 3) is None
    assert plan.take("btcusdt@trade", 3) == SkipEvent()
    assert rule.taken == 1 and not plan


@pytest.mark.parametrize("times", [0, -1])
def test_both_plans_refuse_a_rule_that_could_never_fire(times: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        FaultPlan().arm(Silent(), times=times)
    with pytest.raises(ValueError, match="at least 1"):
        StreamFaultPlan().arm(SkipEvent(), times=times)
