"""The benchmark scripts still run: each is imported and run with tiny sizes.

No figure is checked here (benchmarks are scripts, never timed assertions); only that every
code path of the scripts works against today's library and writes what it promises.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

TINY_ROUNDTRIP = ["--runs", "1", "--requests", "4", "--throughput-requests", "8"]
TINY_ROUNDTRIP += ["--concurrency", "3"]


@pytest.fixture
def load(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ModuleType]:
    """Import a benchmark script the way ``python benchmarks/NAME.py`` would find it."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return importlib.import_module


def test_decode(
    load: Callable[[str], ModuleType], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load("bench_decode")
    out = tmp_path / "decode.json"
    results = bench.main(["--runs", "1", "--iterations", "3", "--json", str(out)])

    frames = results["frames"]
    assert set(frames) == {"ACK", "RESULT", "FULL"}
    assert [name for name, frame in frames.items() if frame["headline"]] == ["RESULT"]
    assert frames["FULL"]["decimals"] > frames["RESULT"]["decimals"] > frames["ACK"]["decimals"]
    assert set(frames["RESULT"]["ns_per_frame"]["median"]) == {
        "trio_binance",
        "json.loads",
        "orjson.loads",
    }
    assert "stages_ns" in frames["RESULT"]
    assert "stages_ns" in frames["FULL"]
    written = json.loads(out.read_text())
    assert written["benchmark"] == "bench_decode"
    assert written["machine"]["cpus"]
    printed = capsys.readouterr().out
    assert "| RESULT (headline) |" in printed
    assert "where the time goes: FULL" in printed


def test_decode_text_variants_decode_the_same_frame(load: Callable[[str], ModuleType]) -> None:
    """The breakdown's hypothetical types read the same JSON, with strings for Decimals."""
    bench = load("bench_decode")
    from trio_binance.models._registry import METHOD_RESULTS

    result_type = METHOD_RESULTS["order.place"]
    (full,) = (f for f in bench.documented_frames() if f.name == "FULL")
    result = json.dumps(json.loads(full.text)["result"])
    typed = bench.msgspec.json.decode(result, type=result_type)
    as_text = bench.msgspec.json.decode(result, type=bench.as_text(result_type, enums=True))
    assert as_text.price == str(typed.price) == "23416.10000000"
    assert as_text.status == typed.status == "FILLED"
    assert as_text.fills[1].qty == "0.00212000"


def test_roundtrip_in_process(load: Callable[[str], ModuleType], tmp_path: Path) -> None:
    bench = load("bench_roundtrip")
    out = tmp_path / "roundtrip.json"
    results = bench.main([*TINY_ROUNDTRIP, "--server", "inproc", "--json", str(out)])

    (setup,) = results["setups"].values()
    assert set(setup["median"]) == {
        "bare trio-websocket",
        "bare websockets",
        "bare + our codec",
        "trio_binance",
        "trio_binance fast",
    }
    assert setup["fast_vs_default"]["median"]["rps"] > 0
    for figures in setup["median"].values():
        assert figures["p50_us"] > 0
        assert figures["rps"] > 0
    assert setup["throughput_ratio"] > 0
    assert json.loads(out.read_text())["benchmark"] == "bench_roundtrip"


def test_roundtrip_child_process_server(
    load: Callable[[str], ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load("bench_roundtrip")
    results = bench.main([*TINY_ROUNDTRIP, "--server", "subprocess"])

    (setup,) = results["setups"].values()
    assert setup["median"]["trio_binance"]["rps"] > 0
    assert "child process" in capsys.readouterr().out


def test_roundtrip_profile(
    load: Callable[[str], ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load("bench_roundtrip")
    bench.main([*TINY_ROUNDTRIP, "--profile", "ours", "--profile-lines", "3"])
    assert "cProfile of the trio_binance client" in capsys.readouterr().out


def test_roundtrip_profile_of_the_fast_transport(
    load: Callable[[str], ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load("bench_roundtrip")
    bench.main([*TINY_ROUNDTRIP, "--profile", "fast", "--profile-lines", "3"])
    assert "cProfile of the trio_binance fast client" in capsys.readouterr().out


def test_resilient(load: Callable[[str], ModuleType], tmp_path: Path) -> None:
    bench = load("bench_resilient")
    out = tmp_path / "resilient.json"
    results = bench.main(
        ["--runs", "1", "--events", "50", "--records", "10,20", "--json", str(out)]
    )
    assert set(results["delivery"]["median"]) == {bench.PLAIN, bench.RESILIENT}
    assert set(results["splice_ns_per_event"]) == {10, 20}
    assert json.loads(out.read_text())["benchmark"] == "bench_resilient"


@pytest.mark.parametrize("mode", [["--logic-only"], ["--with-streams"]])
def test_exchange_logic_only(
    load: Callable[[str], ModuleType], capsys: pytest.CaptureFixture[str], mode: list[str]
) -> None:
    bench = load("bench_exchange")
    assert bench.main([*mode, "--requests", "1000", "--runs", "1"]) == 0
    out = capsys.readouterr().out
    assert "| requests/s |" in out
    assert ("streams subscribed" in out) == (mode == ["--with-streams"])


def test_streams(
    load: Callable[[str], ModuleType], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load("bench_streams")
    out = tmp_path / "streams.json"
    results = bench.main(["--runs", "1", "--frames", "20", "--breakdown", "--json", str(out)])

    assert set(results["cases"]) == {label for label, _, _ in bench.CASES}
    for case in results["cases"].values():
        assert len(case["ratios"]) == len(case["no_decode_ratios"]) == 1
        assert case["ratios"][0] > 0
    assert len(results["book"]["end_to_end"]) == len(results["book"]["sans_io"]) == 1
    assert json.loads(out.read_text())["benchmark"] == "bench_streams"
    printed = capsys.readouterr().out
    assert "| trade, combined |" in printed
    assert "local_order_book end to end" in printed
    assert "ours without decoding/bare" in printed


def test_streams_on_the_fast_transport(load: Callable[[str], ModuleType]) -> None:
    bench = load("bench_streams")
    results = bench.main(["--runs", "1", "--frames", "20", "--transport", "websockets"])

    assert results["transport"] == "websockets"
    assert all(case["ratios"][0] > 0 for case in results["cases"].values())


def test_api(
    load: Callable[[str], ModuleType], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from trio_binance import _api

    bench = load("bench_api")
    out = tmp_path / "api.json"
    results = bench.main(
        ["--runs", "1", "--iterations", "3", "--requests", "4", "--json", str(out)]
    )

    assert set(results["checks_ns"]) == {
        "checked_params",
        "checked_params before",
        "typed preparation",
        "typed preparation before",
    }
    assert set(results["place_order_us"]) == {"request", "place_order", "place_order before"}
    assert set(results["typed_minus_request_us"]) == {"place_order", "place_order before"}
    assert _api.checked_params is not bench.before_checked_params  # the baseline is undone
    assert bench.before_checked_params("order.place", bench.ARGUMENTS) == _api.checked_params(
        "order.place", bench.ARGUMENTS
    )
    assert json.loads(out.read_text())["benchmark"] == "bench_api"
    printed = capsys.readouterr().out
    assert "| checked_params    |" in printed
    assert "| place_order, checks before    |" in printed
