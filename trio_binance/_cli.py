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
from typing import Any, TextIO

import trio

from trio_binance._cli_commands import (
    Console,
    OutputClosed,
    TaskStatus,
    call_command,
    demo_command,
    exchange_command,
    stream_command,
    user_data_command,
)
from trio_binance._cli_credentials import add_credential_options
from trio_binance._cli_errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    describe,
    exit_status,
    single_error,
)
from trio_binance._cli_values import UsageError
from trio_binance._endpoints import ENDPOINTS, LOCAL_PORT, STREAM_ENDPOINTS
from trio_binance._version import __version__

PROG = "trio-binance"
EPILOG = (
    "exit status: 0 ok, 1 the exchange answered with an error, 2 usage, "
    "3 connection or transport error, 4 outcome unknown, 130 interrupted"
)

Handler = Callable[[argparse.Namespace, Console, TaskStatus], Awaitable[int]]


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
    _add_call(commands)
    _add_user_data(commands)
    _add_stream(commands)
    _add_exchange(commands)
    _subcommand(commands, "demo", demo_command, "run a tour against an embedded local exchange")
    return parser


def _add_call(commands: Any) -> None:
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
    add_connection_options(call)
    add_credential_options(call)
    add_output_options(call)


def _add_user_data(commands: Any) -> None:
    user_data = _subcommand(
        commands, "user-data", user_data_command, "follow an account's events", follows=True
    )
    user_data.add_argument(
        "-n", "--count", type=_positive, help="stop after this many events (default: never)"
    )
    add_connection_options(user_data)
    add_credential_options(user_data)
    add_output_options(user_data)


def _add_stream(commands: Any) -> None:
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
    endpoints = stream.add_argument_group("endpoint")
    endpoints.add_argument(
        "-e",
        "--endpoint",
        choices=list(STREAM_ENDPOINTS),
        default="production",
        help="Binance environment (default: production); local is `trio-binance exchange`",
    )
    endpoints.add_argument("--url", help="market streams URL to use instead of a preset")
    add_output_options(stream)


def _add_exchange(commands: Any) -> None:
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
    exchange.add_argument("--json", action="store_true", help="print the URLs and keys as JSON")
    exchange.add_argument(
        "--simulate-market",
        action="store_true",
        help="a simulated maker and taker trade every symbol, so streams have data",
    )
    exchange.add_argument("--seed", type=int, default=0, help="seed of the simulated market")


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
