"""The ``trio-binance`` command line (also ``python -m trio_binance``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import trio

from trio_binance._demo import run_demo


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trio-binance",
        description="Trio client for the Binance Spot WebSocket API, with a local exchange.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("demo", help="run the demo against an embedded local exchange")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "demo":
        return trio.run(run_demo)
    return 2  # pragma: no cover - argparse rejects unknown commands first


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
