"""``benchmarks/bench_peers.py`` still works: its statistics, tables and docs output on fake
figures, and one tiny real run of trio_binance's own contenders.

Nothing here installs the peer libraries or reaches the network, and no figure's size is
checked (benchmarks are scripts, never timed assertions).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
DOCS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "performance.md"

DEFAULT = "trio_binance (trio-websocket)"
FAST = "trio_binance (websockets)"
BARE = "bare trio-websocket (frames only)"
UNTYPED = "trio_binance (websockets, session.request)"
FLOOR = "bare websockets.trio (canned frames)"


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The script, imported the way ``python benchmarks/bench_peers.py`` would find it."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return importlib.import_module("bench_peers")


def figures(p50: float, rps: float, frames: float = 10_000.0, **more: float) -> dict[str, Any]:
    return {
        "import_s": 0.2,
        "p50_us": p50,
        "p99_us": p50 * 3,
        "rps": rps,
        "cpu_us": 100.0,
        "frames_per_s": frames,
        "peak_rss_mib": 40.0,
        **more,
    }


def fake_runs() -> dict[str, list[dict[str, Any]]]:
    """Three runs; in each, the fast transport's rps is run-by-run exactly 2.5x
    python-binance's although the medians of the two (600 / 200 = 3.0) are not."""
    return {
        DEFAULT: [figures(300, 400), figures(320, 380), figures(310, 390)],
        FAST: [figures(100, 500, 30_000), figures(120, 600, 20_000), figures(110, 1_000)],
        "python-binance": [figures(150, 200), figures(130, 240), figures(140, 400, 5_000)],
        "binance-sdk-spot": [figures(200, 300), {"error": "exit 1: boom"}, figures(210, 600)],
        "ccxt": [{"error": "no result within 330 s"}] * 3,
        BARE: [
            {"import_s": 0.1, "frames_per_s": f, "peak_rss_mib": 30.0} for f in (12e3, 24e3, 9e3)
        ],
    }


def test_summary_is_medians_and_ranges_of_the_runs_that_succeeded(bench: ModuleType) -> None:
    summary = bench.summarise(fake_runs())

    assert summary[FAST]["rps"] == {"median": 600, "min": 500, "max": 1_000}
    assert summary[FAST]["runs"] == 3
    assert summary["binance-sdk-spot"]["runs"] == 2
    assert summary["binance-sdk-spot"]["errors"] == ["exit 1: boom"]
    assert summary["binance-sdk-spot"]["p50_us"]["median"] == 205
    assert summary["ccxt"]["runs"] == 0
    assert "p50_us" not in summary["ccxt"]


def test_ratios_are_paired_run_by_run(bench: ModuleType) -> None:
    runs = fake_runs()

    assert bench.paired_ratio(runs, FAST, "python-binance", "rps") == 2.5
    # Runs where either side failed are left out of the pairs.
    assert bench.paired_ratio(runs, FAST, "binance-sdk-spot", "rps") == pytest.approx(
        (500 / 300 + 1_000 / 600) / 2
    )
    assert bench.paired_ratio(runs, FAST, "ccxt", "rps") is None
    assert bench.paired_ratio(runs, FAST, BARE, "rps") is None  # frames only

    ratios = bench.ratios(runs)
    assert set(ratios) == {FAST, DEFAULT}  # the bare floor is a target's baseline only
    assert list(ratios[FAST]) == [DEFAULT, "python-binance", "binance-sdk-spot", "ccxt"]
    assert DEFAULT not in ratios[DEFAULT]
    assert ratios[FAST]["python-binance"]["p50_us"] == pytest.approx(
        110 / 140
    )  # the middle of 0.67, 0.92, 0.79


def test_targets_are_judged_on_paired_ratios(bench: ModuleType) -> None:
    runs = fake_runs()
    verdicts = {target.what: target.verdict(runs) for target in bench.TARGETS}

    assert verdicts["p50 <= python-binance's"][1] == "met"
    assert verdicts["req/s >= 2x python-binance's"] == (2.5, "met")
    assert verdicts["req/s >= 2x binance-sdk-spot's"][1] == "missed"
    assert verdicts["p50 <= ccxt's"] == (None, "not measured")
    # Default transport against bare trio-websocket: 10/12, 10/24, 10/9 -> 0.83x.
    assert verdicts["default transport: frames/s >= 0.85x bare"] == (10 / 12, "missed")


def test_report_carries_every_table(bench: ModuleType) -> None:
    runs = fake_runs()
    block = bench.report(runs, bench.summarise(runs), "runs: 3", "a test machine")

    assert block.startswith("Measured on: a test machine.")
    assert "| ccxt " in block
    assert "failed" in block  # ccxt: no run succeeded
    (bare_row,) = (line for line in block.splitlines() if line.startswith(f"| {BARE}"))
    assert "12,000" in bare_row
    assert bare_row.split("|")[3].strip() == "-"  # no requests measured
    assert "| websockets      | trio_binance (trio-websocket) |" in block
    assert "| req/s >= 2x python-binance's " in block
    (line,) = (line for line in block.splitlines() if "import <= 0.25 s (" + FAST in line)
    assert line.split("|")[2:4] == ["   0.20 s ", "          met "]


def test_docs_block_is_replaced_between_the_markers(bench: ModuleType, tmp_path: Path) -> None:
    page = tmp_path / "performance.md"
    page.write_text(DOCS_PAGE.read_text(encoding="utf-8"), encoding="utf-8")
    before, _, after = page.read_text(encoding="utf-8").partition(bench.BEGIN_MARK)

    bench.write_docs_block(page, "FIRST")
    bench.write_docs_block(page, "SECOND")

    text = page.read_text(encoding="utf-8")
    assert "SECOND" in text
    assert "FIRST" not in text
    assert text.startswith(before + bench.BEGIN_MARK)
    assert text.endswith(after[after.index(bench.END_MARK) :])


def test_plot_data_has_a_bar_per_measured_contender(bench: ModuleType) -> None:
    data = bench.plot_data(bench.summarise(fake_runs()))

    assert [panel["metric"] for panel in data["panels"]] == [
        "p50_us",
        "rps",
        "cpu_us",
        "frames_per_s",
    ]
    rps = data["panels"][1]["bars"]
    assert [bar["name"] for bar in rps] == [DEFAULT, FAST, "python-binance", "binance-sdk-spot"]
    frames = data["panels"][3]["bars"]
    assert frames[-1] == {"name": BARE, "median": 12e3, "low": 9e3, "high": 24e3, "ours": False}
    assert rps[1] == {"name": FAST, "median": 600, "low": 500, "high": 1_000, "ours": True}
    assert rps[2]["ours"] is False


def test_tiny_run_of_trio_binance_on_both_transports(
    bench: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "peers.json"
    page_before = DOCS_PAGE.read_bytes()
    tiny = ["--runs", "1", "--requests", "5", "--throughput-requests", "20"]
    tiny += ["--concurrency", "4", "--stream-frames", "70", "--pin", "none"]

    results = bench.main(["--no-peers", *tiny, "--json", str(out)])

    assert set(results["runs"]) == {DEFAULT, FAST, BARE, UNTYPED, FLOOR}
    (untyped,) = results["runs"][UNTYPED]
    assert untyped["rps"] > 0
    assert "frames_per_s" not in untyped  # the typed contender reads the stream
    for name in (DEFAULT, FAST):
        (run,) = results["runs"][name]
        assert "error" not in run, run
        for metric in bench.METRICS:
            assert run[metric] > 0, metric
    (floor,) = results["runs"][FLOOR]
    assert floor["rps"] > 0 and floor["p50_us"] > 0
    assert "frames_per_s" not in floor
    (bare,) = results["runs"][BARE]
    assert bare["frames_per_s"] > 0
    assert "rps" not in bare
    assert results["peers"] == {}
    assert json.loads(out.read_text())["benchmark"] == "bench_peers"
    assert DOCS_PAGE.read_bytes() == page_before  # --no-peers never writes the docs
    printed = capsys.readouterr().out
    assert f"| {FAST} " in printed
    ratio_rows = [line for line in printed.splitlines() if line.startswith("| websockets ")]
    assert any(f" {DEFAULT} |" in row for row in ratio_rows)
    assert any(f" {UNTYPED} |" in row for row in ratio_rows)
    assert any(f" {FLOOR} |" in row for row in ratio_rows)
