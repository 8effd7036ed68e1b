"""The README's first command: the demo runs to the end and shows what it promises."""

from __future__ import annotations

import re

import pytest

from trio_binance._cli import main


def test_demo_runs_against_the_embedded_exchange(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "local exchange listening on ws://127.0.0.1:" in out
    assert "logged on with an Ed25519 key: aliceEd25519" in out
    assert re.search(r"server time \d{4}-\d\d-\d\dT[\d:.]+\+00:00, measured clock offset", out)
    assert re.search(r"BTCUSDT +TRADING +BTC/USDT +price tick 0\.01", out)
    assert "book (depth): best ask 30000 x 0.5" in out
    # User-data events are printed as they arrive, before the tour moves on.
    fill = out.index("<- executionReport BUY 0.2 BTCUSDT @ 30000: TRADE -> FILLED")
    assert fill < out.index("order 2 FILLED, 1 fill(s)")
    cancel = out.index("<- executionReport BUY 0.1 BTCUSDT @ 29000: CANCELED -> CANCELED")
    assert cancel < out.index("order 3 CANCELED")
    assert "market streams: btcusdt@trade, btcusdt@bookTicker and a local order book" in out
    assert "   ~  btcusdt@trade: 0.2 @ 30000\n" in out
    assert "   ~  btcusdt@bookTicker: bid 0.1 @ 29000 / ask 0.3 @ 30000\n" in out
    assert re.search(r"local order book \(snapshot \+ diff stream, update \d+\): best bid -, "
                     r"best ask 0\.3 @ 30000", out)  # fmt: skip
    assert "rate limit REQUEST_WEIGHT: " in out
    assert "unfilled orders: " in out
    assert "fault survived: ExecutionStatusUnknown: 503 -1007" in out
    assert "reconciled without re-sending: executed, order 4 is NEW (1 query)" in out
    assert re.search(r"\ndone in \d+\.\d s$", out.rstrip())


def test_cli_requires_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    assert "usage: trio-binance" in capsys.readouterr().err
