"""Helpers shared by the benchmark scripts: timing, medians, percentiles, tables, JSON results.

The scripts import this as ``_common`` (``python benchmarks/bench_x.py`` puts ``benchmarks/``
first on ``sys.path``). Nothing here asserts anything about speed: the scripts print figures,
they never fail because a machine is slow.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from importlib import metadata
from itertools import repeat
from pathlib import Path
from typing import Any

BENCHMARKS_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCHMARKS_DIR.parent
RESULTS_DIR = BENCHMARKS_DIR / "results"

_VERSIONED = ("trio", "trio-websocket", "websockets", "wsproto", "msgspec", "orjson")


# --- timing ------------------------------------------------------------------------------


def ns_per_call(call: Callable[[Any], object], arg: Any, iterations: int) -> float:
    """Mean nanoseconds of ``call(arg)`` over ``iterations`` back-to-back calls.

    The loop is as thin as Python allows (``itertools.repeat``, a local name), so the figure
    includes one call's overhead and nothing else.
    """
    perf = time.perf_counter_ns
    start = perf()
    for _ in repeat(None, iterations):
        call(arg)
    return (perf() - start) / iterations


def median(values: Iterable[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in ``[0, 1]``) of ``values``."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def spread(values: Sequence[float]) -> float:
    """``(max - min) / median``: how much the runs disagree, as a fraction."""
    mid = median(values)
    return (max(values) - min(values)) / mid if mid else 0.0


# --- output ------------------------------------------------------------------------------


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured markdown table; the first column left-aligned, the rest right."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = ["-" * max(width - 1, 1) + (":" if i else "-") for i, width in enumerate(widths)]
    return "\n".join([line(header), line(rule), *(line(row) for row in rows)])


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    print(markdown_table(header, rows))


def fmt_ns(ns: float) -> str:
    return f"{ns:,.0f}"


def fmt_us(ns: float) -> str:
    """Nanoseconds shown as microseconds."""
    return f"{ns / 1000:,.1f}"


def fmt_ratio(ratio: float) -> str:
    return f"{ratio:.2f}x"


# --- the machine and the results file -----------------------------------------------------


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    versions: dict[str, str] = {}
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "versions": versions,
        "load_average": load_average(),
    }


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages: other work competing for the cores."""
    try:
        return [round(load, 2) for load in os.getloadavg()]
    except OSError:  # not available on this platform
        return None


def describe_machine() -> str:
    info = machine()
    libs = ", ".join(f"{name} {version}" for name, version in info["versions"].items())
    load = info["load_average"]
    busy = f"; load average {load[0]:.2f} at start" if load else ""
    where = f"{info['cpu']}, {info['cpus']} CPUs; {info['python']} on {info['platform']}"
    return f"{where}; {libs}{busy}"


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        nargs="?",
        const="auto",
        default=None,
        metavar="PATH",
        help="also write the results as JSON (default path: benchmarks/results/NAME-TIME.json)",
    )


def write_results(name: str, results: dict[str, Any], destination: str | None) -> Path | None:
    """Write ``results`` (plus the machine description) as JSON; ``None`` writes nothing."""
    if destination is None:
        return None
    if destination == "auto":
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        path = RESULTS_DIR / f"{name}-{stamp}.json"
    else:
        path = Path(destination)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"benchmark": name, "machine": machine(), **results}
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    return path
