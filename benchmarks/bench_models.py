"""Decoding results into their models against ``json.loads``, and the import time of the package.

    python benchmarks/bench_models.py [--runs 7] [--iterations 5000] [--import-runs 7]
                                      [--json [PATH]]

Payloads (the ``result`` of a response, compact JSON bytes as Binance sends them):

* ``order.place FULL``: the documented FULL response of ``order.place`` (with ``fills``);
* ``depth 100 levels``: the documented ``depth`` result widened to 100 bids and 100 asks.

"model" decodes into ``METHOD_RESULTS[method]`` with the session's cached decoder
(``decode_result``): frozen structs, ``Decimal`` prices, enums. ``json.loads`` only builds
dicts and strings, and is the baseline. Each figure is the median over ``--runs`` runs of the
mean time per decode over ``--iterations`` decodes; within a run both are measured in turn.

Import time is ``python -X importtime -c "import trio_binance"`` in a fresh interpreter,
``--import-runs`` times: the cumulative microseconds the ``trio_binance`` line reports, and
the whole process's wall time less that of ``python -c pass``. Twice: compiling the sources
each time (``-B``, as this checkout runs with PYTHONDONTWRITEBYTECODE) and with the bytecode
cached in a temporary ``pycache_prefix`` (as an installed package has it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import msgspec
from _common import (
    REPO_ROOT,
    add_output_arguments,
    describe_machine,
    fmt_ns,
    fmt_ratio,
    median,
    ns_per_call,
    print_table,
    spread,
    write_results,
)

from trio_binance._protocol import decode_result
from trio_binance.models import METHOD_RESULTS

SPEC_METHODS = REPO_ROOT / "tests" / "fixtures" / "spec" / "methods.json"
DEPTH_LEVELS = 100


def documented_results(method: str) -> list[Any]:
    spec = json.loads(SPEC_METHODS.read_text(encoding="utf-8"))
    (entry,) = (m for m in spec["methods"] if m["method"] == method)
    return [response["result"] for response in entry["responses"] if "result" in response]


def full_order_result() -> Any:
    return next(result for result in documented_results("order.place") if "fills" in result)


def wide_depth(levels: int = DEPTH_LEVELS) -> Any:
    """The documented depth result with ``levels`` price levels a side, one tick apart."""
    book = documented_results("depth")[0]
    best_bid = Decimal(book["bids"][0][0])
    best_ask = Decimal(book["asks"][0][0])
    tick = Decimal("0.00000100")
    quantity = book["bids"][0][1]
    return {
        "lastUpdateId": book["lastUpdateId"],
        "bids": [[str(best_bid - tick * i), quantity] for i in range(levels)],
        "asks": [[str(best_ask + tick * i), quantity] for i in range(levels)],
    }


def compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def payloads() -> dict[str, tuple[str, bytes]]:
    """Payload name -> (method, compact JSON bytes)."""
    return {
        "order.place FULL": ("order.place", compact(full_order_result())),
        f"depth {DEPTH_LEVELS} levels": ("depth", compact(wide_depth())),
    }


# --- decoding ----------------------------------------------------------------------------


def model_decoder(method: str) -> Callable[[bytes], object]:
    result_type = METHOD_RESULTS[method]

    def decode(data: bytes) -> object:
        return decode_result(msgspec.Raw(data), result_type)

    return decode


def measure_decoding(runs: int, iterations: int) -> dict[str, Any]:
    measured: dict[str, Any] = {}
    for name, (method, data) in payloads().items():
        contenders = {"model": model_decoder(method), "json.loads": json.loads}
        samples: dict[str, list[float]] = {label: [] for label in contenders}
        for _ in range(runs):
            for label, decode in contenders.items():
                samples[label].append(ns_per_call(decode, data, iterations))
        medians = {label: median(values) for label, values in samples.items()}
        measured[name] = {
            "bytes": len(data),
            "ns_median": medians,
            "spread": {label: spread(values) for label, values in samples.items()},
            "ratio_model_to_json": medians["model"] / medians["json.loads"],
        }
    return measured


# --- import time -------------------------------------------------------------------------


def import_time_us(output: str, package: str = "trio_binance") -> int:
    """The cumulative microseconds ``-X importtime`` reports for ``package``."""
    for line in output.splitlines():
        if not line.startswith("import time:"):
            continue
        _, cumulative, name = (
            part.strip() for part in line.removeprefix("import time:").split("|")
        )
        if name == package:
            return int(cumulative)
    raise ValueError(f"{package} not in the -X importtime output")


def wall_ms(arguments: Sequence[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *arguments],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
        env=env,
    )
    return (time.perf_counter() - start) * 1000, done.stderr


def measure_import(runs: int, cache: str | None) -> dict[str, float]:
    """Import figures; ``cache`` is a bytecode cache directory (``None``: compile each time)."""
    env = dict(os.environ)
    if cache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        flags = ["-B"]
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        flags = ["-X", f"pycache_prefix={cache}"]
        wall_ms([*flags, "-c", "import trio_binance"], env)  # write the bytecode once
    cumulative, process, empty = [], [], []
    for _ in range(runs):
        elapsed, stderr = wall_ms([*flags, "-X", "importtime", "-c", "import trio_binance"], env)
        cumulative.append(import_time_us(stderr) / 1000)
        process.append(elapsed)
        empty.append(wall_ms([*flags, "-c", "pass"], env)[0])
    return {
        "importtime_cumulative_ms": median(cumulative),
        "process_ms": median(process),
        "bare_interpreter_ms": median(empty),
        "process_minus_bare_ms": median(process) - median(empty),
    }


def measure_imports(runs: int) -> dict[str, dict[str, float]]:
    """Compiled from source each time (a checkout with PYTHONDONTWRITEBYTECODE), and with
    bytecode cached, as an installed package has it."""
    with tempfile.TemporaryDirectory(prefix="bench-models-pycache-") as cache:
        return {
            "source compiled": measure_import(runs, None),
            "bytecode cached": measure_import(runs, cache),
        }


# --- the report --------------------------------------------------------------------------


def print_report(decoding: dict[str, Any], imports: dict[str, dict[str, float]], runs: int) -> None:
    print(f"decode a result into its model vs json.loads (ns per decode, median of {runs} runs)")
    rows = [
        [
            name,
            str(figures["bytes"]),
            fmt_ns(figures["ns_median"]["model"]),
            fmt_ns(figures["ns_median"]["json.loads"]),
            fmt_ratio(figures["ratio_model_to_json"]),
        ]
        for name, figures in decoding.items()
    ]
    print_table(["payload", "bytes", "model ns", "json.loads ns", "model / json"], rows)
    print()
    print("import trio_binance in a fresh interpreter (median ms)")
    print_table(
        ["bytecode", "-X importtime cumulative", "process", "bare interpreter", "difference"],
        [
            [
                name,
                f"{figures['importtime_cumulative_ms']:.1f}",
                f"{figures['process_ms']:.1f}",
                f"{figures['bare_interpreter_ms']:.1f}",
                f"{figures['process_minus_bare_ms']:.1f}",
            ]
            for name, figures in imports.items()
        ],
    )
    print()
    print(describe_machine())


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--iterations", type=int, default=5000)
    parser.add_argument("--import-runs", type=int, default=7)
    add_output_arguments(parser)
    options = parser.parse_args(argv)
    decoding = measure_decoding(options.runs, options.iterations)
    imports = measure_imports(options.import_runs)
    print_report(decoding, imports, options.runs)
    results = {"decoding": decoding, "import": imports}
    written = write_results("bench_models", results, options.json)
    if written is not None:
        print(f"results written to {written}")
    return results


if __name__ == "__main__":
    main()
