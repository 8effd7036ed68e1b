"""The ``trio-binance`` command line (also ``python -m trio_binance``).

Every subcommand has ``--help``. Results go to stdout (JSON unless ``--table``), errors and
progress notes to stderr, and the exit status says what happened (see ``_cli_errors``).
:func:`execute` is the whole command as a coroutine, for tests and embedding; :func:`main`
runs it with ``trio.run``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import trio

import trio_binance
from trio_binance._cli_credentials import add_credential_options, load_credentials
from trio_binance._cli_errors import (
    EXIT_API_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    describe,
    exit_status,
    single_error,
)
from trio_binance._cli_output import event_line, to_json, to_table
from trio_binance._cli_values import UsageError, parse_params
from trio_binance._client_ids import with_client_ids
from trio_binance._demo import run_demo
from trio_binance._endpoints import ENDPOINTS, LOCAL_PORT, STREAM_ENDPOINTS
from trio_binance._exceptions import OutcomeUnknown
from trio_binance._methods import METHODS
from trio_binance._version import __version__
from trio_binance.models import METHOD_RESULTS

PROG = "trio-binance"
EPILOG = (
    "exit status: 0 ok, 1 the exchange answered with an error, 2 usage, "
    "3 connection or transport error, 4 outcome unknown, 130 interrupted"
)

TaskStatus = trio.TaskStatus[None]
Handler = Callable[[argparse.Namespace, "Console", TaskStatus], Awaitable[int]]


class OutputClosed(Exception):
    """Whoever reads stdout went away (``trio-binance stream ... | head -3``)."""


class Console:
    """Where a command writes: results to ``out``, notes and errors to ``err``."""

    def __init__(self, out: TextIO, err: TextIO, *, table: bool = False) -> None:
        self.out = out
        self.err = err
        self.table = table

    def result(self, value: Any) -> None:
        self._write(self.out, to_table(value) if self.table else to_json(value, indent=2))

    def event(self, value: Any) -> None:
        self._write(self.out, event_line(value) if self.table else to_json(value))

    def text(self, text: str) -> None:
        self._write(self.out, text)

    def stream_message(self, stream: str, event: Any) -> None:
        """One market stream message: ``{"stream": ..., "data": ...}`` as combined streams
        deliver it, or ``stream: event fields`` as a table line."""
        if self.table:
            self._write(self.out, f"{stream}: {event_line(event)}")
        else:
            data = to_json(event)
            self._write(self.out, f'{{"stream":{to_json(stream)},"data":{data}}}')

    def note(self, text: str) -> None:
        self._write(self.err, text)

    def _write(self, stream: TextIO, text: str) -> None:
        try:
            stream.write(text + "\n")
            stream.flush()  # streamed events must show up as they arrive, also in a pipe
        except BrokenPipeError:
            raise OutputClosed from None


# --- commands ---------------------------------------------------------------------------


def endpoint_url(args: argparse.Namespace) -> str:
    return args.url or ENDPOINTS[args.endpoint]


def _logon(args: argparse.Namespace) -> bool | None:
    return False if args.no_logon else None


async def call_command(args: argparse.Namespace, console: Console, task_status: TaskStatus) -> int:
    params: dict[str, object] = dict(parse_params(args.params))
    credentials = load_credentials(args)
    info = METHODS.get(args.method)
    signed = args.signed or (info is not None and info.signed)
    if signed and credentials is None:
        raise UsageError(
            f"{args.method} is a signed method: give credentials "
            "(--private-key-file, --secret-file, --env-file or BINANCE_* variables)"
        )
    # Order requests always carry client ids, so an unknown outcome can be looked up.
    params = with_client_ids(args.method, params)
    result_type = METHOD_RESULTS.get(args.method, Any)
    url = endpoint_url(args)
    async with trio_binance.connect(url, credentials=credentials, logon=_logon(args)) as session:
        task_status.started()
        try:
            result = await session.request(
                args.method, params, result_type=result_type, signed=signed
            )
        except OutcomeUnknown as error:
            if not args.reconcile:
                raise
            console.note(f"outcome unknown ({describe(error)}); reconciling")
            settled = await session.reconcile(error)
            console.result(settled)
            return EXIT_OK if settled.executed else EXIT_API_ERROR
        console.result(result)
        if args.rate_limits:
            _show_rate_limits(session, console)
    return EXIT_OK


def _show_rate_limits(session: trio_binance.Session, console: Console) -> None:
    for limit in session.statistics().rate_limits:
        console.note(
            f"rate limit {limit.rate_limit_type} {limit.interval_num} {limit.interval}: "
            f"{limit.count}/{limit.limit}"
        )


async def user_data_command(
    args: argparse.Namespace, console: Console, task_status: TaskStatus
) -> int:
    credentials = load_credentials(args)
    if credentials is None:
        raise UsageError("user-data needs the account's credentials (see --help)")
    url = endpoint_url(args)
    async with (
        trio_binance.connect(url, credentials=credentials, logon=_logon(args)) as session,
        session.user_data() as events,
    ):
        console.note(f"following the user data of API key {credentials.api_key[:8]}...")
        task_status.started()
        seen = 0
        async for event in events:
            console.event(event)
            seen += 1
            if seen == args.count:
                break
    return EXIT_OK


async def stream_command(
    args: argparse.Namespace, console: Console, task_status: TaskStatus
) -> int:
    url = args.url or STREAM_ENDPOINTS[args.endpoint]
    async with trio_binance.market_streams(url, args.streams, raw=args.raw) as streams:
        console.note(f"following {', '.join(streams.streams)}")
        task_status.started()
        seen = 0
        async for message in streams:
            console.stream_message(message.stream, message.event)
            seen += 1
            if seen == args.count:
                break
    return EXIT_OK


async def exchange_command(
    args: argparse.Namespace, console: Console, task_status: TaskStatus
) -> int:
    from trio_binance.testing import LocalExchange, MarketActivity, open_local_exchange
    from trio_binance.testing.__main__ import describe as describe_exchange

    activity = MarketActivity(seed=args.seed, interval=0.5) if args.simulate_market else None
    exchange = LocalExchange()
    exchange.demo_keys = exchange.create_demo_keys()
    async with open_local_exchange(exchange, host=args.host, port=args.port, activity=activity):
        if args.keys_dir is not None:
            written = write_key_files(exchange.demo_keys.values(), Path(args.keys_dir))
            console.note(f"wrote {len(written)} key files to {args.keys_dir}")
        if args.json:
            console.result(_exchange_summary(exchange))
        else:
            console.text(describe_exchange(exchange))
        if args.host not in ("127.0.0.1", "::1", "localhost"):
            console.note(f"warning: listening on {args.host}: anyone who can reach it can trade")
        task_status.started()
        await trio.sleep_forever()


def _exchange_summary(exchange: Any) -> dict[str, Any]:
    return {
        "url": exchange.url,
        "streams_url": exchange.streams_url,
        "accounts": {
            keys.account: {
                "ed25519_api_key": keys.ed25519.api_key,
                "ed25519_private_key_pem": keys.ed25519_private_pem,
                "hmac_api_key": keys.hmac.api_key,
                "hmac_secret": keys.hmac_secret,
            }
            for keys in exchange.demo_keys.values()
        },
    }


def write_key_files(demo_keys: Any, directory: Path) -> list[Path]:
    """``ACCOUNT.env`` (Ed25519) and ``ACCOUNT-hmac.env`` for ``--env-file``, readable by the
    owner only, with the Ed25519 private key beside them."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for keys in demo_keys:
        pem = directory / f"{keys.account}-ed25519.pem"
        files = {
            pem: keys.ed25519_private_pem,
            directory / f"{keys.account}.env": (
                f"BINANCE_API_KEY={keys.ed25519.api_key}\n"
                f"BINANCE_PRIVATE_KEY_PATH={pem.resolve()}\n"
            ),
            directory / f"{keys.account}-hmac.env": (
                f"BINANCE_API_KEY={keys.hmac.api_key}\nBINANCE_API_SECRET={keys.hmac_secret}\n"
            ),
        }
        for path, text in files.items():
            path.touch(mode=0o600)
            path.chmod(0o600)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


async def demo_command(args: argparse.Namespace, console: Console, task_status: TaskStatus) -> int:
    task_status.started()
    return await run_demo()


# --- the parser -------------------------------------------------------------------------


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("endpoint")
    group.add_argument(
        "-e",
        "--endpoint",
        choices=list(ENDPOINTS),
        default="production",
        help="Binance environment: production (default), testnet, demo (Binance demo "
        "trading) or local (`trio-binance exchange` on this machine)",
    )
    group.add_argument("--url", help="WebSocket API URL to use instead of a preset")


def add_output_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--json", dest="table", action="store_false", help="print JSON (the default)"
    )
    group.add_argument("--table", action="store_true", help="print a human-readable table")


def _subcommand(
    commands: Any, name: str, handler: Handler, help: str, *, follows: bool = False
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=help, description=help[0].upper() + help[1:] + ".", epilog=EPILOG
    )
    parser.set_defaults(handler=handler, follows=follows, table=False)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Trio client for the Binance Spot WebSocket API, with a local exchange.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    call = _subcommand(commands, "call", call_command, "call any WebSocket API method")
    call.add_argument("method", metavar="METHOD", help="e.g. time, depth, order.place")
    call.add_argument(
        "params",
        metavar="key=value",
        nargs="*",
        help="parameters: true/false and whole numbers are typed, [..] is a JSON list, "
        "anything else is sent as text (prices exactly as written); key:=JSON forces JSON",
    )
    call.add_argument(
        "--signed", action="store_true", help="sign even if the method is not known to need it"
    )
    call.add_argument(
        "--reconcile",
        action="store_true",
        help="when an order request's outcome is unknown, find out what happened and print "
        "that (exit 0 if it was executed, 1 if not)",
    )
    call.add_argument(
        "--rate-limits", action="store_true", help="print the rate-limit usage to stderr"
    )
    for command in (call,):
        add_connection_options(command)
        add_credential_options(command)
        add_output_options(command)

    user_data = _subcommand(
        commands, "user-data", user_data_command, "follow an account's events", follows=True
    )
    user_data.add_argument(
        "-n", "--count", type=_positive, help="stop after this many events (default: never)"
    )
    add_connection_options(user_data)
    add_credential_options(user_data)
    add_output_options(user_data)

    stream = _subcommand(
        commands, "stream", stream_command, "follow market data streams", follows=True
    )
    stream.add_argument(
        "streams", metavar="STREAM", nargs="+", help="e.g. btcusdt@trade btcusdt@depth@100ms"
    )
    stream.add_argument(
        "-n", "--count", type=_positive, help="stop after this many messages (default: never)"
    )
    stream.add_argument(
        "--raw", action="store_true", help="one raw stream per connection (/ws/<stream>)"
    )
    stream_endpoints = stream.add_argument_group("endpoint")
    stream_endpoints.add_argument(
        "-e",
        "--endpoint",
        choices=list(STREAM_ENDPOINTS),
        default="production",
        help="Binance environment (default: production); local is `trio-binance exchange`",
    )
    stream_endpoints.add_argument("--url", help="market streams URL to use instead of a preset")
    add_output_options(stream)

    exchange = _subcommand(
        commands,
        "exchange",
        exchange_command,
        "run the local exchange and print its URL and demo keys",
        follows=True,
    )
    exchange.add_argument("--host", default="127.0.0.1", help="interface (default: loopback)")
    exchange.add_argument(
        "--port", type=int, default=LOCAL_PORT, help=f"port (default {LOCAL_PORT}; 0: any)"
    )
    exchange.add_argument(
        "--keys-dir", metavar="DIR", help="also write the demo keys there, for --env-file"
    )
    exchange.add_argument("--json", action="store_true", help="print the keys as JSON")
    exchange.add_argument(
        "--simulate-market",
        action="store_true",
        help="a simulated maker and taker trade every symbol, so streams have data",
    )
    exchange.add_argument("--seed", type=int, default=0, help="seed of the simulated market")

    _subcommand(commands, "demo", demo_command, "run a tour against an embedded local exchange")
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


# --- running ----------------------------------------------------------------------------


async def dispatch(
    args: argparse.Namespace,
    console: Console,
    task_status: TaskStatus = trio.TASK_STATUS_IGNORED,
) -> int:
    """Run the parsed command; map the errors the CLI expects to messages and exit statuses."""
    console.table = args.table
    try:
        status: int = await args.handler(args, console, task_status)
    except UsageError as error:
        console.note(f"{PROG} {args.command}: error: {error}")
        return EXIT_USAGE
    except OutputClosed:
        _silence(console.out)
        return EXIT_OK
    except Exception as error:
        leaf = single_error(error)
        status_for_error = exit_status(leaf)
        if status_for_error is None:
            raise
        console.note(f"{PROG} {args.command}: error: {describe(leaf)}")
        return status_for_error
    return status


def _silence(stream: TextIO) -> None:
    """Point a closed pipe's descriptor at /dev/null, so the interpreter's final flush does
    not complain about it (the Python docs' advice for SIGPIPE)."""
    try:
        descriptor = stream.fileno()
    except (OSError, ValueError):  # not a real file: nothing will flush it
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)


async def execute(
    argv: Sequence[str],
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    task_status: TaskStatus = trio.TASK_STATUS_IGNORED,
) -> int:
    """The command line as a coroutine: parse ``argv``, run the command, return its status.

    ``task_status.started()`` is called once the command is ready (connected, subscribed,
    serving). Usage errors found by the parser raise ``SystemExit(2)`` like ``main``'s.
    """
    args = build_parser().parse_args(argv)
    console = Console(stdout or sys.stdout, stderr or sys.stderr)
    return await dispatch(args, console, task_status)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console(sys.stdout, sys.stderr)
    try:
        return trio.run(dispatch, args, console)
    except KeyboardInterrupt:
        # Ctrl+C is how a following command (exchange, user-data, stream) is meant to end.
        return EXIT_OK if args.follows else EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
