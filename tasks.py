#!/usr/bin/env python3
"""Developer entry point that needs nothing but Python 3.11+.

    python3 tasks.py demo    # run the demo against the embedded local exchange
    python3 tasks.py test    # lint, type-check and run the whole test suite

Each command creates `.venv/` (with the project and its dev tools) on first use.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
STAMP = VENV / ".installed-from"


def run(*args: str | Path) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True)


def ensure_venv() -> None:
    """Create the virtual environment and install the project, once per pyproject change."""
    if sys.version_info < (3, 11):  # noqa: UP036 (this file runs on any python3 first)
        sys.exit("trio_binance needs Python 3.11 or newer")
    pyproject = (ROOT / "pyproject.toml").read_bytes()
    if not PYTHON.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    if STAMP.exists() and STAMP.read_bytes() == pyproject:
        return
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PYTHON, "-m", "pip", "install", "--quiet", "-e", ".[dev]")
    STAMP.write_bytes(pyproject)


def demo() -> None:
    run(PYTHON, "-m", "trio_binance", "demo")


def test() -> None:
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")
    run(BIN / "mypy")
    run(
        PYTHON, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html", "-q"
    )
    run(PYTHON, "-m", "coverage", "run", "-m", "pytest", "-q", *sys.argv[2:])
    run(PYTHON, "-m", "coverage", "report", "--fail-under=85")


COMMANDS = {"demo": demo, "test": test}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: python3 tasks.py {{{'|'.join(COMMANDS)}}}")
    ensure_venv()
    try:
        COMMANDS[sys.argv[1]]()
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
