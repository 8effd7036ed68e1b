"""``python -m trio_binance``: the command-line interface."""

from trio_binance._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
