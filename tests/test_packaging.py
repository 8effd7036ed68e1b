"""The wheel builds, and the installed ``trio-binance`` command works in a fresh environment.

Marked ``packaging`` (deselect with ``-m "not packaging"``): it builds the wheel with
``python -m build --no-isolation`` and installs it with ``--no-deps --no-index`` into a new
virtual environment that borrows the runtime dependencies from the running one, so nothing
is downloaded. The new environment sees the running one's ``site-packages`` through a
``.pth`` line, which adds the directory but runs none of its ``.pth`` files: the development
checkout's editable install stays invisible, and ``trio_binance`` can only come from the
wheel. The local exchange runs in another process (``trio-binance exchange --port 0``),
because the command under test is a separate program.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import trio_binance

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.packaging


def run(*args: str | Path, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=check, timeout=120
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", out, ROOT, cwd=out)
    [built] = out.glob("trio_binance_ws-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed; its ``bin`` directory."""
    env = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(env)
    bin_dir = env / ("Scripts" if os.name == "nt" else "bin")
    target = Path(
        run(bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
            cwd=env).stdout.strip()
    )  # fmt: skip
    (target / "borrowed-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    run(sys.executable, "-m", "pip", "--python", bin_dir / "python", "install", "--no-deps",
        "--no-index", "--quiet", wheel, cwd=env)  # fmt: skip
    return bin_dir


def test_the_wheel_holds_the_package_and_its_entry_points(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        [entry_points] = [name for name in names if name.endswith("entry_points.txt")]
        text = archive.read(entry_points).decode()
    assert "trio_binance/py.typed" in names
    assert "trio_binance/testing/_plugin.py" in names
    assert "trio-binance = trio_binance._cli:main" in text
    assert "trio_binance = trio_binance.testing._plugin" in text
    assert wheel.name.startswith(f"trio_binance_ws-{trio_binance.__version__}-")


@pytest.fixture
def exchange_url(installed: Path, tmp_path: Path) -> Iterator[str]:
    """A local exchange served by the installed command, in a process of its own."""
    with subprocess.Popen(
        [str(installed / "trio-binance"), "exchange", "--port", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            first = process.stdout.readline()  # blocks until the exchange listens
            assert first.startswith("local exchange: ws://127.0.0.1:"), first
            yield first.split()[-1]
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_the_installed_command_runs_from_the_wheel(
    installed: Path, exchange_url: str, tmp_path: Path
) -> None:
    helped = run(installed / "trio-binance", "--help", cwd=tmp_path)
    assert helped.stdout.startswith("usage: trio-binance")
    where = run(installed / "python", "-c", "import trio_binance; print(trio_binance.__file__)",
                cwd=tmp_path)  # fmt: skip
    assert Path(where.stdout.strip()).is_relative_to(installed.parent)  # the wheel, not ROOT
    version = run(installed / "trio-binance", "--version", cwd=tmp_path)
    assert version.stdout.strip() == f"trio-binance {trio_binance.__version__}"
    pinged = run(installed / "trio-binance", "call", "ping", "--url", exchange_url, cwd=tmp_path)
    assert (pinged.returncode, pinged.stdout.strip()) == (0, "{}")
    failed = run(installed / "trio-binance", "call", "account.status", "--url", exchange_url,
                 cwd=tmp_path, check=False)  # fmt: skip
    assert failed.returncode == 2
    assert "account.status is a signed method" in failed.stderr
