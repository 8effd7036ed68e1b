"""The demo behind ``python3 tasks.py demo``: a tour of the client against a local exchange."""

from __future__ import annotations

import trio

import trio_binance
from trio_binance._credentials import generate_ed25519
from trio_binance.models import ServerTime, SessionStatus
from trio_binance.testing import LocalExchange, open_local_exchange


def say(text: str) -> None:
    print(text, flush=True)


async def run_demo() -> int:
    exchange = LocalExchange()
    credentials = generate_ed25519("demoEd25519Key")
    exchange.keys.add_credentials(credentials, "demo-account")
    async with open_local_exchange(exchange) as served:
        say(f"local exchange listening on {served.url}")
        async with trio_binance.connect(served.url, credentials=credentials) as session:
            status = await session.request("session.status", result_type=SessionStatus)
            say(f"logged on with an Ed25519 key: {status.api_key}")
            server = await session.request("time", result_type=ServerTime)
            say(f"server time {server.server_time}, clock offset {session.clock.offset_ms:+.1f} ms")
            await show_unknown_outcome(served, session)
            for limit in session.statistics().rate_limits:
                say(
                    f"rate limit {limit.rate_limit_type}: {limit.count}/{limit.limit}"
                    f" per {limit.interval_num} {limit.interval}"
                )
    say("done")
    return 0


async def show_unknown_outcome(exchange: LocalExchange, session: trio_binance.Session) -> None:
    exchange.faults.server_error("time")
    try:
        await session.request("time")
    except trio_binance.OutcomeUnknown as error:
        say(f"fault survived: {type(error).__name__}: {error}")


if __name__ == "__main__":  # pragma: no cover
    trio.run(run_demo)
