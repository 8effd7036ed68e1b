"""The ``trio-binance`` command line, run in-process against the local exchange."""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

import trio_binance
from trio_binance._cli import execute, main
from trio_binance._cli_commands import endpoint_url
from trio_binance._cli_errors import (
    EXIT_API_ERROR,
    EXIT_CONNECTION,
    EXIT_OK,
    EXIT_OUTCOME_UNKNOWN,
    EXIT_USAGE,
)
from trio_binance._cli_values import parse_param
from trio_binance._endpoints import DEMO_MODE, LOCAL
from trio_binance.testing import LocalExchange


class Run:
    """One finished command: its exit status and what it wrote."""

    def __init__(self, status: int, out: str, err: str) -> None:
        self.status = status
        self.out = out
        self.err = err

    def json(self) -> Any:
        return json.loads(self.out)


async def cli(*argv: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    status = await execute(list(argv), stdout=out, stderr=err)
    return Run(status, out.getvalue(), err.getvalue())


@pytest.fixture
def keys_dir(local_exchange: LocalExchange, tmp_path: Path) -> Path:
    from trio_binance._cli_commands import write_key_files

    write_key_files(local_exchange.demo_keys.values(), tmp_path)
    return tmp_path


# --- call -----------------------------------------------------------------------------------


async def test_call_prints_the_typed_result_as_json(local_exchange: LocalExchange) -> None:
    run = await cli("call", "time", "--url", local_exchange.url)
    assert run.status == EXIT_OK, run.err
    assert run.json()["serverTime"] == pytest.approx(local_exchange.now_ms(), abs=5_000)
    assert run.err == ""


async def test_call_sends_typed_parameters_and_keeps_decimals_exact(
    local_exchange: LocalExchange, keys_dir: Path
) -> None:
    env = str(keys_dir / "alice.env")
    placed = await cli(
        "call", "order.place", "symbol=BTCUSDT", "side=BUY", "type=LIMIT", "timeInForce=GTC",
        "price=1000.10", "quantity=0.01", "--url", local_exchange.url, "--env-file", env,
    )  # fmt: skip
    assert placed.status == EXIT_OK, placed.err
    order = placed.json()
    assert order["price"] == "1000.10000000"  # plain text, never 1E+3 or a float
    assert order["executedQty"] == "0.00000000"
    # The CLI sets a client order id, so an unknown outcome could be looked up.
    assert len(order["clientOrderId"]) == 20
    assert "stopPrice" not in order  # fields without a value are left out

    listed = await cli(
        "call", "openOrders.status", "symbol=BTCUSDT", "--url", local_exchange.url,
        "--env-file", env, "--table",
    )  # fmt: skip
    assert listed.status == EXIT_OK, listed.err
    header, rule, row = listed.out.splitlines()
    assert header.split()[:2] == ["price", "orig_qty"]
    assert set(rule) <= {"-", " "}
    assert order["clientOrderId"] in row.split()


async def test_call_shows_a_single_result_as_a_field_table(local_exchange: LocalExchange) -> None:
    run = await cli("call", "depth", "symbol=BTCUSDT", "limit=5", "--url", local_exchange.url,
                    "--table")  # fmt: skip
    assert run.status == EXIT_OK, run.err
    lines = run.out.splitlines()
    assert lines[0].split() == ["field", "value"]
    assert [line.split()[0] for line in lines[2:]] == ["last_update_id", "bids", "asks"]


async def test_call_signs_with_key_files(local_exchange: LocalExchange, tmp_path: Path) -> None:
    alice = local_exchange.demo_keys["alice"]
    pem = tmp_path / "alice.pem"
    pem.write_text(alice.ed25519_private_pem)
    secret = tmp_path / "secret"
    secret.write_text(alice.hmac_secret + "\n")
    by_pem = await cli("call", "account.status", "omitZeroBalances=true", "--url",
                       local_exchange.url, "--api-key", alice.ed25519.api_key,
                       "--private-key-file", str(pem))  # fmt: skip
    by_secret = await cli("call", "account.status", "--url", local_exchange.url,
                          "--api-key", alice.hmac.api_key, "--secret-file", str(secret),
                          "--no-logon", "--rate-limits")  # fmt: skip
    assert (by_pem.status, by_secret.status) == (EXIT_OK, EXIT_OK), by_pem.err + by_secret.err
    assert [b["asset"] for b in by_pem.json()["balances"]] == ["BTC", "ETH", "USDT"]
    assert by_secret.json()["uid"] == by_pem.json()["uid"]
    assert "rate limit REQUEST_WEIGHT 1 MINUTE:" in by_secret.err
    assert local_exchange.requests_seen["session.logon"] == 1  # only the Ed25519 call


async def test_call_reads_credentials_from_the_environment(
    local_exchange: LocalExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = local_exchange.demo_keys["alice"]
    monkeypatch.setenv("BOT_API_KEY", alice.hmac.api_key)
    monkeypatch.setenv("BOT_API_SECRET", alice.hmac_secret)
    run = await cli("call", "account.commission", "symbol=BTCUSDT", "--url", local_exchange.url,
                    "--env-prefix", "BOT_")  # fmt: skip
    assert run.status == EXIT_OK, run.err
    assert run.json()["symbol"] == "BTCUSDT"


async def test_a_public_method_ignores_credentials_in_the_environment(
    local_exchange: LocalExchange, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.pem"
    broken.write_text("not a key\n")
    monkeypatch.setenv("BINANCE_API_KEY", local_exchange.demo_keys["alice"].ed25519.api_key)
    monkeypatch.setenv("BINANCE_PRIVATE_KEY_PATH", str(broken))
    run = await cli("call", "ping", "--url", local_exchange.url)
    assert run.status == EXIT_OK, run.err
    assert local_exchange.requests_seen["session.logon"] == 0
    signed = await cli("call", "account.status", "--url", local_exchange.url)
    assert signed.status == EXIT_USAGE  # a signed one needs them: the broken key is reported
    assert "BINANCE_PRIVATE_KEY_PATH: the private key is not PEM text" in signed.err


async def test_an_api_error_exits_1_with_the_error_on_stderr(
    local_exchange: LocalExchange, keys_dir: Path
) -> None:
    run = await cli(
        "call", "order.place", "symbol=BTCUSDT", "side=BUY", "type=LIMIT", "timeInForce=GTC",
        "price=1000.001", "quantity=0.01", "--url", local_exchange.url,
        "--env-file", str(keys_dir / "alice.env"),
    )  # fmt: skip
    assert run.status == EXIT_API_ERROR
    assert run.out == ""
    assert run.err.startswith("trio-binance call: error: BadRequest: 400 -1013: Filter failure")


async def test_a_signed_method_without_credentials_is_a_usage_error(
    local_exchange: LocalExchange,
) -> None:
    run = await cli("call", "account.status", "--url", local_exchange.url)
    assert run.status == EXIT_USAGE
    assert "account.status is a signed method: give credentials" in run.err
    assert local_exchange.requests_seen["account.status"] == 0


async def test_an_unknown_outcome_exits_4_and_names_the_order(
    local_exchange: LocalExchange, keys_dir: Path
) -> None:
    local_exchange.faults.server_error("order.place")
    run = await cli(
        "call", "order.place", "symbol=BTCUSDT", "side=BUY", "type=LIMIT", "timeInForce=GTC",
        "price=1000", "quantity=0.01", "newClientOrderId=cli-test-1", "--url",
        local_exchange.url, "--env-file", str(keys_dir / "alice.env"),
    )  # fmt: skip
    assert run.status == EXIT_OUTCOME_UNKNOWN
    assert "ExecutionStatusUnknown: 503 -1007" in run.err
    assert "client order ids: cli-test-1" in run.err
    assert "--reconcile" in run.err


@pytest.mark.parametrize(("after_execute", "status"), [(True, EXIT_OK), (False, EXIT_API_ERROR)])
async def test_reconcile_settles_an_unknown_outcome(
    local_exchange: LocalExchange,
    keys_dir: Path,
    autojump_clock: trio.testing.MockClock,
    after_execute: bool,
    status: int,
) -> None:
    local_exchange.faults.server_error("order.place", after_execute=after_execute)
    run = await cli(
        "call", "order.place", "symbol=BTCUSDT", "side=BUY", "type=LIMIT", "timeInForce=GTC",
        "price=1000", "quantity=0.01", "--reconcile", "--url", local_exchange.url,
        "--env-file", str(keys_dir / "alice.env"),
    )  # fmt: skip
    assert run.status == status, run.err
    settled = run.json()
    assert settled["outcome"] == ("executed" if after_execute else "not_executed")
    assert "outcome unknown" in run.err
    assert local_exchange.requests_seen["order.place"] == 1  # never sent twice


async def test_a_connection_failure_exits_3() -> None:
    listener = trio.socket.socket()
    await listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there any more
    run = await cli("call", "ping", "--url", f"ws://127.0.0.1:{port}/ws-api/v3")
    assert run.status == EXIT_CONNECTION
    assert run.err.startswith("trio-binance call: error: ConnectFailed:")


async def test_secrets_on_the_command_line_are_refused_and_not_echoed(
    local_exchange: LocalExchange,
) -> None:
    for option in ("--api-secret", "--private-key"):
        run = await cli("call", "time", "--url", local_exchange.url, option, "s3cr3t-value")
        assert run.status == EXIT_USAGE
        assert "secrets are not accepted on the command line" in run.err
        assert "s3cr3t" not in run.err + run.out
    assert local_exchange.requests_seen["time"] == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["symbol"], "parameters are written key=value"),
        (["a=1", "a=2"], "parameter 'a' is given twice"),
        (["a:=nope"], "parameter 'a': not valid JSON"),
        (["a:={}"], "WebSocket API parameters are strings, numbers, booleans or lists"),
    ],
)
async def test_bad_parameters_are_usage_errors(argv: list[str], message: str) -> None:
    run = await cli("call", "time", *argv, "--url", "ws://127.0.0.1:9/ws-api/v3")
    assert run.status == EXIT_USAGE
    assert message in run.err


async def test_bad_credential_files_are_usage_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.env"
    bad.write_text("BINANCE_API_KEY=abc\nthis line has no equals sign s3cr3t\n")
    url = "ws://127.0.0.1:9/ws-api/v3"
    run = await cli("call", "time", "--url", url, "--env-file", str(bad))
    assert (run.status, "s3cr3t" in run.err) == (EXIT_USAGE, False)
    assert "line 2: expected NAME=value" in run.err
    run = await cli("call", "time", "--url", url, "--env-file", str(tmp_path / "missing"))
    assert "--env-file: cannot read" in run.err
    run = await cli("call", "time", "--url", url, "--private-key-file", str(bad))
    assert "a key file needs --api-key" in run.err
    run = await cli("call", "time", "--url", url, "--api-key", "k", "--private-key-file", str(bad))
    assert run.status == EXIT_USAGE
    assert "CredentialsError: --private-key-file: the private key is not PEM text" in run.err
    both = ("--private-key-file", str(bad), "--secret-file", str(bad))
    run = await cli("call", "time", "--url", url, *both)
    assert "either --private-key-file or --secret-file" in run.err


def test_the_parser_rejects_unknown_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["call", "time", "--nope"])
    assert exited.value.code == EXIT_USAGE
    assert "unrecognized arguments: --nope" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--help"], ["call", "--help"], ["user-data", "--help"],
                                  ["exchange", "--help"], ["demo", "--help"], ["--version"]])  # fmt: skip
def test_every_command_has_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(("usage: trio-binance", "trio-binance 0."))


def test_endpoint_presets() -> None:
    from trio_binance._cli import build_parser

    def url(*argv: str) -> str:
        return endpoint_url(build_parser().parse_args(["call", "ping", *argv]))

    assert url() == trio_binance.PRODUCTION
    assert url("-e", "testnet") == trio_binance.TESTNET
    assert url("--endpoint", "demo") == DEMO_MODE == "wss://demo-ws-api.binance.com/ws-api/v3"
    assert url("-e", "local") == LOCAL == "ws://127.0.0.1:9443/ws-api/v3"
    assert url("-e", "testnet", "--url", "ws://10.0.0.1/x") == "ws://10.0.0.1/x"


# --- user-data and exchange -------------------------------------------------------------------


async def start_cli(nursery: trio.Nursery, *argv: str) -> tuple[io.StringIO, io.StringIO]:
    """Start a following command; return once it is ready (subscribed, serving)."""
    out, err = io.StringIO(), io.StringIO()

    async def run(task_status: trio.TaskStatus[None]) -> None:
        await execute(list(argv), stdout=out, stderr=err, task_status=task_status)

    await nursery.start(run)
    return out, err


async def test_user_data_prints_events_as_json_lines(
    local_exchange: LocalExchange, keys_dir: Path, exchange_session: trio_binance.Session
) -> None:
    async with trio.open_nursery() as nursery:
        out, err = await start_cli(
            nursery, "user-data", "--count", "2", "--url", local_exchange.url,
            "--env-file", str(keys_dir / "alice-hmac.env"),
        )  # fmt: skip
        assert err.getvalue().startswith("following the user data of API key aliceHma")
        await exchange_session.place_order(
            symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC",
            price="1000", quantity="0.01", new_client_order_id="followed",
        )  # fmt: skip
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [event["e"] for event in events] == ["executionReport", "outboundAccountPosition"]
    assert events[0]["c"] == "followed"
    assert events[0]["p"] == "1000.00000000"


async def test_user_data_table_lines_and_missing_credentials(
    local_exchange: LocalExchange, keys_dir: Path, exchange_session: trio_binance.Session
) -> None:
    async with trio.open_nursery() as nursery:
        out, _ = await start_cli(
            nursery, "user-data", "-n", "1", "--table", "--url", local_exchange.url,
            "--env-file", str(keys_dir / "alice.env"),
        )  # fmt: skip
        await exchange_session.place_order(
            symbol="BTCUSDT", side="SELL", type="LIMIT", time_in_force="GTC",
            price="90000", quantity="0.01",
        )  # fmt: skip
    [line] = out.getvalue().splitlines()
    assert line.startswith("executionReport symbol=BTCUSDT ")
    assert " side=SELL " in line and " price=90000.00000000 " in line
    run = await cli("user-data", "--url", local_exchange.url)
    assert run.status == EXIT_USAGE
    assert "user-data needs the account's credentials" in run.err


async def test_exchange_serves_and_writes_keys_the_other_commands_use(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    async with trio.open_nursery() as nursery:
        out, err = await start_cli(
            nursery, "exchange", "--port", "0", "--keys-dir", str(tmp_path / "keys"),
            "--simulate-market",
        )  # fmt: skip
        banner = out.getvalue()
        url = banner.splitlines()[0].removeprefix("local exchange: ")
        assert url.startswith("ws://127.0.0.1:") and url.endswith("/ws-api/v3")
        assert "Ed25519 private key (PEM)" in banner
        assert "wrote 6 key files" in err.getvalue()
        env_file = tmp_path / "keys" / "bob.env"
        assert env_file.stat().st_mode & 0o077 == 0  # the owner's only
        run = await cli("call", "account.status", "--url", url, "--env-file", str(env_file))
        assert run.status == EXIT_OK, run.err
        streams_url = url.removesuffix("/ws-api/v3")
        traded = await cli("stream", "ethbtc@trade", "-n", "1", "--url", streams_url)
        assert json.loads(traded.out)["data"]["s"] == "ETHBTC"  # the simulated market trades
        nursery.cancel_scope.cancel()


async def test_exchange_json_and_a_warning_off_loopback() -> None:
    async with trio.open_nursery() as nursery:
        out, err = await start_cli(nursery, "exchange", "--port", "0", "--json",
                                   "--host", "0.0.0.0")  # fmt: skip
        summary = json.loads(out.getvalue())
        assert set(summary["accounts"]) == {"alice", "bob"}
        assert summary["streams_url"] == summary["url"].removesuffix("/ws-api/v3")
        assert summary["accounts"]["alice"]["ed25519_private_key_pem"].startswith("-----BEGIN")
        assert "warning: listening on 0.0.0.0" in err.getvalue()
        nursery.cancel_scope.cancel()


# --- the pure parts ------------------------------------------------------------------------


def test_parameter_values_are_typed_sensibly() -> None:
    from trio_binance._cli_values import parse_params

    assert parse_params(
        ["limit=5", "price=0.00100", "flag=true", "off=false", "id=007", "neg=-3",
         "symbols=[\"BTCUSDT\",\"ETHBTC\"]", "n:=\"123\"", "q:=1.50", "empty="]
    ) == {
        "limit": 5, "price": "0.00100", "flag": True, "off": False, "id": "007", "neg": -3,
        "symbols": ["BTCUSDT", "ETHBTC"], "n": "123", "q": Decimal("1.50"), "empty": "",
    }  # fmt: skip


def test_env_files_allow_comments_export_and_quotes() -> None:
    from trio_binance._cli_values import parse_env_file

    text = "# keys\n\nexport A='x y'\nB=\"z\"\n C = plain \n"
    assert parse_env_file(text, "f") == {"A": "x y", "B": "z", "C": "plain"}


def test_table_rendering_of_scalars_lists_and_unknown_events() -> None:
    from trio_binance._cli_output import event_line, to_json, to_table
    from trio_binance.models import UnknownUserEvent

    assert to_table([]) == "(none)"
    assert to_table({}) == "(empty)"
    assert to_table(["a", 1]) == "a\n1"
    assert to_table(True) == "true"
    newer = UnknownUserEvent(event_type="shiny", raw=b'{"e":"shiny","E":1,"x":[1]}')
    assert to_json(newer) == '{"e":"shiny","E":1,"x":[1]}'  # passed on as it came
    assert event_line(newer) == "shiny e=shiny E=1"
    assert event_line(7) == "7"


# --- the documented commands ----------------------------------------------------------------


def documented_commands() -> list[list[str]]:
    """Every ``$ trio-binance ...`` line of docs/cli.md and the README, as argv lists."""
    import shlex

    root = Path(__file__).resolve().parent.parent
    text = "\n".join(
        (root / page).read_text(encoding="utf-8") for page in ("docs/cli.md", "README.md")
    )
    joined = text.replace("\\\n", " ")
    return [
        shlex.split(line.removeprefix("$ trio-binance "))
        for line in joined.splitlines()
        if line.startswith("$ trio-binance ")
    ]


def test_every_documented_command_parses() -> None:
    from trio_binance._cli import build_parser

    commands = documented_commands()
    assert len(commands) >= 10
    parser = build_parser()
    for argv in commands:
        if "--help" in argv:
            continue
        args = parser.parse_args(argv)
        assert args.command in {"call", "user-data", "exchange", "demo", "stream"}


# --- stream ------------------------------------------------------------------------------------


async def test_stream_prints_market_data_as_json_lines_and_tables(
    local_exchange: LocalExchange, exchange_session: trio_binance.Session
) -> None:
    bob = local_exchange.demo_keys["bob"]
    async with trio.open_nursery() as nursery:
        out, err = await start_cli(
            nursery, "stream", "BTCUSDT@trade", "--count", "1", "--url", local_exchange.streams_url
        )
        table, _ = await start_cli(
            nursery, "stream", "btcusdt@trade", "-n", "1", "--table", "--raw",
            "--url", local_exchange.streams_url,
        )  # fmt: skip
        assert err.getvalue() == "following btcusdt@trade\n"
        async with trio_binance.connect(local_exchange.url, credentials=bob.hmac) as seller:
            await seller.place_order(
                symbol="BTCUSDT", side="SELL", type="LIMIT", time_in_force="GTC",
                price="30000", quantity="0.01",
            )  # fmt: skip
        await exchange_session.place_order(
            symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01"
        )
    [line] = out.getvalue().splitlines()
    message = json.loads(line)
    assert message["stream"] == "btcusdt@trade"
    assert (message["data"]["e"], message["data"]["p"], message["data"]["q"]) == (
        "trade",
        "30000.00000000",
        "0.01000000",
    )
    [row] = table.getvalue().splitlines()
    assert row.startswith("btcusdt@trade: trade symbol=BTCUSDT trade_id=1 price=30000.00000000 ")


async def test_stream_endpoints_and_refusals(local_exchange: LocalExchange) -> None:
    from trio_binance._cli import build_parser
    from trio_binance._endpoints import STREAM_ENDPOINTS

    args = build_parser().parse_args(["stream", "btcusdt@trade", "-e", "demo"])
    assert STREAM_ENDPOINTS[args.endpoint] == "wss://demo-stream.binance.com:9443"
    assert STREAM_ENDPOINTS["local"] == "ws://127.0.0.1:9443"
    run = await cli("stream", "not a stream", "--url", local_exchange.streams_url)
    assert run.status == EXIT_USAGE
    assert "error: InvalidParameter" in run.err


# --- how the program ends ----------------------------------------------------------------------


class ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError


async def test_a_closed_stdout_ends_the_command_quietly(local_exchange: LocalExchange) -> None:
    err = io.StringIO()
    status = await execute(["call", "time", "--url", local_exchange.url], stdout=ClosedPipe(),
                           stderr=err)  # fmt: skip
    assert (status, err.getvalue()) == (EXIT_OK, "")


@pytest.mark.parametrize(("command", "status"), [(["call", "time"], 130),
                                                 (["user-data"], 0), (["exchange"], 0)])  # fmt: skip
def test_ctrl_c_ends_following_commands_normally(
    command: list[str], status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(trio, "run", interrupted)
    assert main(command) == status


# --- properties of the parameter parser --------------------------------------------------------

NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,15}", fullmatch=True)


@given(NAMES, st.integers())
def test_whole_numbers_become_integers(name: str, value: int) -> None:
    assert parse_param(f"{name}={value}") == (name, value)


@given(NAMES, st.decimals(allow_nan=False, allow_infinity=False, places=8))
def test_amounts_are_sent_exactly_as_written(name: str, value: Decimal) -> None:
    text = format(value, "f")  # always with 8 decimals: never a whole number
    assert parse_param(f"{name}={text}") == (name, text)


@given(NAMES, st.lists(st.one_of(st.integers(), st.booleans(), st.text(max_size=5)), max_size=4))
def test_json_lists_round_trip(name: str, items: list[object]) -> None:
    import json

    assert parse_param(f"{name}={json.dumps(items)}") == (name, items)
    assert parse_param(f"{name}:={json.dumps(items)}") == (name, items)


@given(NAMES, st.text(max_size=20).filter(lambda t: not t.startswith("[")))
def test_other_text_is_kept_as_text(name: str, text: str) -> None:
    typed: bool | int | None = {"true": True, "false": False}.get(text)
    if typed is None and re.fullmatch(r"-?(0|[1-9][0-9]*)", text):
        typed = int(text)
    assert parse_param(f"{name}={text}") == (name, text if typed is None else typed)
