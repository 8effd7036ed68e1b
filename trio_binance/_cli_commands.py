"""What the ``trio-binance`` subcommands do, and the console they write to.

Each command is a coroutine ``(args, console, task_status) -> exit status``; it calls
``task_status.started()`` once it is ready (connected, subscribed, serving). Errors it does
not handle itself propagate to ``_cli.dispatch``, which turns them into exit statuses.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import trio

import trio_binance
from trio_binance._cli_credentials import load_credentials, names_credentials
from trio_binance._cli_errors import EXIT_API_ERROR, EXIT_OK, describe
from trio_binance._cli_output import event_line, to_json, to_table
from trio_binance._cli_values import UsageError, parse_params
from trio_binance._client_ids import with_client_ids
from trio_binance._demo import run_demo
from trio_binance._endpoints import ENDPOINTS, STREAM_ENDPOINTS
from trio_binance._exceptions import OutcomeUnknown
from trio_binance._methods import METHODS
from trio_binance.models import METHOD_RESULTS

if TYPE_CHECKING:  # the local exchange is imported only by the command that runs it
    from trio_binance.testing import DemoKeys, LocalExchange

TaskStatus = trio.TaskStatus[None]


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
    info = METHODS.get(args.method)
    signed = args.signed or (info is not None and info.signed)
    # A public method needs no key: credentials merely lying around in the environment are
    # neither loaded (a broken key file cannot fail a ping) nor logged on with. Those named on
    # the command line are still checked.
    public = info is not None and info.security == "NONE" and not signed
    credentials = None if public and not names_credentials(args) else load_credentials(args)
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


def _exchange_summary(exchange: LocalExchange) -> dict[str, Any]:
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


def write_key_files(demo_keys: Iterable[DemoKeys], directory: Path) -> list[Path]:
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
