"""The soak script, CI-sized: a few thousand requests through one session, with random faults
and random cancellations, in trio's autojump time. ``benchmarks/soak.py`` runs the full
million outside CI (see docs/reliability.md for the last figures)."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def soak(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return importlib.import_module("soak")


@pytest.mark.parametrize("transport", ["trio-websocket", "websockets"])
def test_soak_every_request_gets_exactly_one_documented_outcome(
    soak: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str], transport: str
) -> None:
    size = ["--requests", "4000", "--concurrency", "32", "--seed", "12", "--autojump"]
    faults = ["--fault-rate", "0.3", "--cancel-rate", "0.05", "--transport", transport]
    results = soak.main([*size, *faults, "--json", str(tmp_path / "s.json")])
    assert results["transport"] == transport
    assert results["checks"] == dict.fromkeys(results["checks"], True)
    assert results["passed"]
    # every fault kind was met, and every kind of outcome happened
    assert set(results["faults_armed"]) == set(soak.FAULT_KINDS)
    outcomes = results["outcomes"]
    assert sum(outcomes.values()) == 4000
    assert outcomes["unexpected"] == 0
    for kind in ("ok", "cancelled", "protocol_error", "api_error", "unknown"):
        assert outcomes[kind] > 0, kind
    assert results["subscriptions_opened"] > 0
    assert results["session"]["late_replies"] > 0  # duplicated replies were dropped
    assert results["session"]["protocol_errors"] > 0
    assert (tmp_path / "s.json").exists()
    assert "[ok] every request has exactly one outcome" in capsys.readouterr().out


def test_soak_report_catches_a_lost_outcome(soak: ModuleType) -> None:
    """The checks can fail: a request with no recorded outcome is reported."""
    run = soak.Soak(requests=3, concurrency=1, fault_rate=0, cancel_rate=0, rng=None)
    run.record(0, "none", "ok")
    run.record(1, "none", "ok")
    run.record(1, "none", "ok")
    run.record(2, "silent", "ok")  # a silenced request cannot succeed

    class Stats:
        in_flight = queued = subscriptions = 0
        requests_sent = frames_received = protocol_errors = late_replies = 0
        closed = False

    report = run.report(Stats(), 0, 1.0)
    assert not report["checks"]["every request has exactly one outcome"]
    assert not report["checks"]["only documented outcomes"]
    assert report["wrong_outcomes"] == {"silent->ok": 1}
    assert not report["passed"]
