"""A user-data logger: every event of an account, one JSON line each, as it arrives.

Lines are appended to a file (or written to stdout) and flushed one by one, so ``tail -f``
shows them live and a crash loses nothing already received. When the stream ends -- the
connection dropped, the exchange ended the subscription, the logger fell too far behind -- the
reason is logged and the logger subscribes again after a short pause.

Against the embedded local exchange, with a few orders placed so there is something to log::

    python examples/user_data_logger.py

Against Binance with your own key (``BINANCE_API_KEY`` plus ``BINANCE_PRIVATE_KEY_PATH`` or
``BINANCE_API_SECRET``)::

    python examples/user_data_logger.py --url wss://ws-api.binance.com/ws-api/v3 --out events.jsonl
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import ExitStack
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, TextIO

import msgspec
import trio

import trio_binance
from trio_binance.models import UnknownUserEvent, UserDataEvent

RESUBSCRIBE_PAUSE = 1.0  # seconds


def as_json_line(event: UserDataEvent, received_at: float) -> str:
    """The event in Binance's field names, plus when it was received (``"received"``, epoch ms).

    Amounts are written as plain decimal text ("0.00000000"), as Binance writes them.
    """
    if isinstance(event, UnknownUserEvent):  # a newer event type: kept as it came
        fields = msgspec.json.decode(event.raw)
    else:
        fields = plain_decimals(msgspec.to_builtins(event, builtin_types=(Decimal,)))
    fields["received"] = int(received_at * 1000)
    return msgspec.json.encode(fields).decode()


def plain_decimals(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")  # str() would write 0E-8
    if isinstance(value, dict):
        return {key: plain_decimals(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_decimals(item) for item in value]
    return value


class EventLog:
    """Appends events to ``out`` as JSON lines and counts them across subscriptions."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.written = 0

    def write(self, event: UserDataEvent) -> None:
        self.out.write(as_json_line(event, time.time()) + "\n")
        self.out.flush()
        self.written += 1


async def log_events(
    session: trio_binance.Session,
    log: EventLog,
    *,
    max_events: int | None,
    task_status: trio.TaskStatus[None] | _Once = trio.TASK_STATUS_IGNORED,
) -> None:
    """Write events until ``log`` holds ``max_events`` (forever when None) or the stream ends."""
    async with session.user_data() as events:
        task_status.started()
        async for event in events:
            log.write(event)
            if log.written == max_events:
                break


class _Once:
    """A task status that passes on only the first ``started()`` (the first subscription)."""

    def __init__(self, task_status: trio.TaskStatus[None]) -> None:
        self._task_status: trio.TaskStatus[None] | None = task_status

    def started(self, value: None = None) -> None:
        if self._task_status is not None:
            self._task_status.started()
            self._task_status = None


async def main(
    url: str,
    credentials: trio_binance.Credentials,
    out: TextIO,
    *,
    max_events: int | None = None,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> int:
    """Log the account's events to ``out``, subscribing again whenever the stream ends."""
    log = EventLog(out)
    first_subscription = _Once(task_status)
    while max_events is None or log.written < max_events:
        try:
            async with trio_binance.connect(url, credentials=credentials) as session:
                await log_events(
                    session, log, max_events=max_events, task_status=first_subscription
                )
        except (trio_binance.UserDataStreamEnded, trio_binance.ConnectFailed) as error:
            print(f"stream ended ({type(error).__name__}: {error}); again shortly", file=sys.stderr)
            await trio.sleep(RESUBSCRIBE_PAUSE)
    return log.written


# --- running it against the embedded local exchange -----------------------------------------


async def place_a_few_orders(url: str, credentials: trio_binance.Credentials) -> None:
    async with trio_binance.connect(url, credentials=credentials) as session:
        for price in ("29000", "29500"):
            order = await session.place_order(
                symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC", price=price,
                quantity="0.01",
            )  # fmt: skip
            await session.cancel_order(symbol="BTCUSDT", order_id=order.order_id)


async def run_locally(out: TextIO, *, max_events: int = 8) -> int:
    """Log ``max_events`` events of alice while she places and cancels two orders."""
    from trio_binance.testing import LocalExchange, open_local_exchange

    exchange = LocalExchange()
    alice = exchange.create_demo_keys()["alice"]
    async with open_local_exchange(exchange), trio.open_nursery() as nursery:
        logger = partial(main, exchange.url, alice.ed25519, out, max_events=max_events)
        await nursery.start(logger)  # subscribed: nothing placed from now on is missed
        await place_a_few_orders(exchange.url, alice.hmac)
    return max_events


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="WebSocket API URL (default: an embedded local exchange)")
    parser.add_argument("--out", help="append to this file (default: stdout)")
    parser.add_argument("--max-events", type=int, help="stop after this many events")
    args = parser.parse_args()
    with ExitStack() as stack:
        out = stack.enter_context(Path(args.out).open("a")) if args.out else sys.stdout
        if args.url is None:
            trio.run(lambda: run_locally(out))
        else:
            credentials = trio_binance.credentials_from_env()
            trio.run(lambda: main(args.url, credentials, out, max_events=args.max_events))


if __name__ == "__main__":
    cli()
