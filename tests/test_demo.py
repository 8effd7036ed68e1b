"""The README's first command: the demo runs to the end and shows what it promises."""

from __future__ import annotations

import pytest

from trio_binance._cli import main


def test_demo_runs_against_the_embedded_exchange(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "local exchange listening on ws://127.0.0.1:" in out
    assert "logged on with an Ed25519 key" in out
    assert "fault survived: ExecutionStatusUnknown" in out
    assert "rate limit REQUEST_WEIGHT" in out
    assert out.rstrip().endswith("done")


def test_cli_requires_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    assert "usage: trio-binance" in capsys.readouterr().err
