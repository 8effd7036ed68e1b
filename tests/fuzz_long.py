"""The long fuzz run of the protocol core, outside CI: a million hostile frames or more.

    python tests/fuzz_long.py [--inputs 1000000] [--seed 1] [--failures DIR]

Each input is a random buffer handed to the core property of ``tests/test_fuzz.py``
(``test_core_classifies_every_hostile_frame_and_raises_nothing``) through Hypothesis's
``fuzz_one_input``, the entry point Hypothesis offers to external fuzzers: the same
strategies draw their choices from the buffer, without the engine's per-example bookkeeping
(about four times faster than ``TRIO_BINANCE_FUZZ_EXAMPLES`` for the same property). A
failing input is saved to ``--failures`` and reported; the exit status is non-zero then.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import test_fuzz

BUFFER_SIZE = 4096


def fuzz_target() -> Callable[[bytes], bytes | None]:
    prop = test_fuzz.test_core_classifies_every_hostile_frame_and_raises_nothing
    target: Callable[[bytes], bytes | None] = prop.hypothesis.fuzz_one_input  # type: ignore[attr-defined]
    return target


def run(inputs: int, seed: int, failures: Path) -> dict[str, object]:
    target = fuzz_target()
    rng = random.Random(seed)
    used = failed = 0
    started = time.perf_counter()
    report_every = max(inputs // 10, 1)
    for n in range(1, inputs + 1):
        buffer = rng.randbytes(BUFFER_SIZE)
        try:
            if target(buffer) is not None:
                used += 1
        except Exception as exc:  # the property failed: keep the input that shows it
            failed += 1
            failures.mkdir(parents=True, exist_ok=True)
            (failures / f"input-{n}.bin").write_bytes(buffer)
            print(f"input {n} fails: {exc!r}", flush=True)
        if n % report_every == 0:
            print(f"  {n:,} inputs, {failed} failing", flush=True)
    return {
        "inputs": inputs,
        "generated_frames": used,
        "failing": failed,
        "seconds": round(time.perf_counter() - started, 1),
        "seed": seed,
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--inputs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--failures", type=Path, default=Path("fuzz-failures"))
    args = parser.parse_args(argv)
    # The core logs each malformed part it ignores (at WARNING); a million hostile frames
    # would make writing those lines the run's main cost. Failures are reported here.
    library_logger = logging.getLogger("trio_binance")
    level = library_logger.level
    library_logger.setLevel(logging.CRITICAL)
    try:
        result = run(args.inputs, args.seed, args.failures)
    finally:
        library_logger.setLevel(level)
    print(result, flush=True)
    return result


if __name__ == "__main__":
    sys.exit(1 if main()["failing"] else 0)
