"""Hostile frames, into the protocol core and into live sessions on the local exchange.

The promise under test (DESIGN.md, "Bad input gets a clear error and loses nothing"): whatever
arrives, the only error that reaches a caller is ``ProtocolError`` (or the exchange error the
frame spells out), no request is left waiting, and the session keeps serving real requests.

CI runs a few hundred examples. The long run raises the count for the protocol core::

    TRIO_BINANCE_FUZZ_EXAMPLES=1000000 python -m pytest -q -p no:cacheprovider \
        tests/test_fuzz.py -k core
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
import trio
import trio.testing
from hostile import (
    INVALID_UTF8,
    LONG_RUN_EXAMPLES,
    documented_events,
    examples,
    hostile_frames,
    result_with_wrong_type,
    wrong_type_anywhere,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trio_binance
from trio_binance import BinanceError, ProtocolError, ResponseLost, SessionClosed
from trio_binance._exceptions import api_error
from trio_binance._protocol import (
    BadFrame,
    ConnectionEvent,
    ErrorResponse,
    Frame,
    FrameDecoder,
    ResultResponse,
    UserDataFrame,
    decode_result,
    rate_limits_summary,
)
from trio_binance._transport import TrioWebsocketTransport
from trio_binance.models import (
    METHOD_RESULTS,
    ServerTime,
    decode_combined_frame,
    decode_stream_payload,
    decode_user_event,
)
from trio_binance.testing import Garbage, LocalExchange, Malformed, Request, open_local_exchange
from trio_binance.testing._faults import Duplicate
from trio_binance.testing._limits import Limit, RateLimitConfig

FUZZ = settings(
    max_examples=examples(300),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LIVE = settings(
    max_examples=25 if not LONG_RUN_EXAMPLES else 1_000,  # each costs a connection
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# The longest a BadFrame's reason may be: a bounded quote plus msgspec's message.
REASON_LIMIT = 1_000


# --- the protocol core -------------------------------------------------------------------


def consume(frame: Frame) -> None:
    """Everything the session does with a classified frame, minus the I/O.

    Raises only what the session turns into ``ProtocolError`` (msgspec's errors for a result
    that does not fit its type) or ``ProtocolError`` itself (a malformed user-data event).
    """
    if isinstance(frame, BadFrame):
        assert len(frame.reason) < REASON_LIMIT
    elif isinstance(frame, ErrorResponse):
        error = api_error(frame.status, frame.error.code, frame.error.msg)
        assert isinstance(error, BinanceError)
        frame.error.decoded_data()
        str(error)
        rate_limits_summary(frame.rate_limits)
    elif isinstance(frame, ResultResponse):
        rate_limits_summary(frame.rate_limits)
        for result_type in (Any, ServerTime, METHOD_RESULTS["exchangeInfo"]):
            with contextlib.suppress(msgspec.ValidationError, msgspec.DecodeError):
                decode_result(frame.result, result_type)
    elif isinstance(frame, UserDataFrame):
        with contextlib.suppress(ProtocolError):
            decode_user_event(frame.event)
    else:
        assert isinstance(frame, ConnectionEvent)
        assert frame.event_type


@FUZZ
@given(hostile_frames())
def test_core_classifies_every_hostile_frame_and_raises_nothing(data: str | bytes) -> None:
    consume(FrameDecoder().decode(data))


@FUZZ
@given(INVALID_UTF8)
def test_core_turns_invalid_utf8_text_into_a_bad_frame(text: str) -> None:
    frame = FrameDecoder().decode(text)
    assert isinstance(frame, BadFrame)
    assert "UTF-8" in frame.reason


@FUZZ
@given(result_with_wrong_type())
def test_core_typed_results_with_wrong_types_raise_only_decode_errors(
    case: tuple[str, Any],
) -> None:
    method, result = case
    raw = msgspec.Raw(json.dumps(result).encode())
    with contextlib.suppress(msgspec.ValidationError, msgspec.DecodeError):
        decode_result(raw, METHOD_RESULTS[method])  # the session raises ProtocolError for these


@FUZZ
@given(wrong_type_anywhere(documented_events()))
def test_core_user_events_with_wrong_types_raise_only_protocol_error(event: Any) -> None:
    with contextlib.suppress(ProtocolError):
        decode_user_event(json.dumps(event).encode())


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    "payload",
    [
        f'{{"e": 5, "x": {DEEP}}}',
        f'{{"x": {DEEP}, "e": "balanceUpdate"}}',
        f'{{"e": "balanceUpdate", "x": {DEEP}}}',
        f'{{"e": "somethingNew", "x": {DEEP}}}',
    ],
)
def test_core_events_nested_too_deeply_raise_only_protocol_error(payload: str) -> None:
    """Found by the long fuzz run: a known event type with nesting deeper than msgspec's
    guard failed validation first, then raised RecursionError while its type was probed."""
    with contextlib.suppress(ProtocolError):
        decode_user_event(payload.encode())
    with contextlib.suppress(ProtocolError):
        decode_stream_payload("btcusdt@trade", payload.encode())
    with contextlib.suppress(ProtocolError):
        decode_combined_frame(f'{{"stream": "btcusdt@trade", "data": {payload}}}')


def test_core_oversized_frame_is_classified_with_a_bounded_quote() -> None:
    huge = '{"id": 1, "status": 200, "result": "' + "x" * (20 * 1024 * 1024) + '"'
    frame = FrameDecoder().decode(huge)
    assert isinstance(frame, BadFrame)
    assert len(frame.reason) < REASON_LIMIT


# --- live sessions ------------------------------------------------------------------------

UNLIMITED = RateLimitConfig(request_weight=(Limit("REQUEST_WEIGHT", "MINUTE", 1, 10**9),))
# Garbage sent before a real reply must not name a request of the session under test;
# ids this large are never reached by a fresh session.
FOREIGN_IDS = st.integers(min_value=10**12, max_value=2**63 - 1) | st.text(min_size=1, max_size=36)


def can_be_sent(data: str | bytes) -> bool:
    """Text with lone surrogates has no UTF-8 form: it cannot go out as a text frame (the
    wire form of invalid UTF-8 has its own test below)."""
    if isinstance(data, bytes):
        return True
    try:
        data.encode()
    except UnicodeEncodeError:
        return False
    return True


def names_no_live_request(data: str | bytes) -> bool:
    frame = FrameDecoder().decode(data)
    request_id = getattr(frame, "request_id", None)
    return not (isinstance(request_id, int) and 0 <= request_id < 10**12)


@st.composite
def foreign_responses(draw: st.DrawFn) -> str:
    """A well-formed response or error to a request nobody sent (an unknown id)."""
    request_id = draw(FOREIGN_IDS)
    if draw(st.booleans()):
        return json.dumps({"id": request_id, "status": 200, "result": {"forged": True}})
    return json.dumps({"id": request_id, "status": 400, "error": {"code": -1, "msg": "forged"}})


GARBAGE = (hostile_frames() | foreign_responses()).filter(can_be_sent).filter(names_no_live_request)
# Bodies put after ``{"id": <the request's id>,`` in place of the real reply.
MALFORMED_BODIES = st.one_of(
    st.sampled_from(
        [
            '"status": "200", "result": {}',
            '"status": 200',
            '"status": 200, "result": {"serverTime": "soon"}',
            '"status": 200, "result": {"serverTime": 1e400}',
            '"status": 200, "result": {"serverTime": 99999999999999999999999}',
            '"status": 400, "error": {"code": "x", "msg": []}',
            '"status": 400, "error": {"code": -1100, "msg": "bad", "data": {"a": [[[[]]]]}}',
            '"status": 200, "result": {}, "rateLimits": [{"count": "many"}]',
            '"status": 200, "result": {}, "rateLimits": 5',
            '"subscriptionId": 1, "event": {"e": "balanceUpdate", "d": {}}}',
            '"event": {"e": "serverShutdown"}',
        ]
    ),
    st.dictionaries(st.sampled_from(["status", "result", "error", "rateLimits"]), st.just(None))
    .map(json.dumps)
    .map(lambda text: text[1:-1]),
)


class Op(msgspec.Struct, frozen=True):
    """One scripted request: how the exchange mistreats it, and which method it calls."""

    kind: str  # "garbage", "malformed", "duplicate" or "clean"
    payload: str | bytes = ""


OPS = st.one_of(
    GARBAGE.map(lambda frame: Op("garbage", frame)),
    MALFORMED_BODIES.map(lambda body: Op("malformed", body)),
    st.just(Op("duplicate")),
    st.just(Op("clean")),
)


def echo(request: Request) -> dict[str, Any]:
    return request.params


async def with_live_session(
    body: Callable[[LocalExchange, trio_binance.Session], Awaitable[None]], **connect: Any
) -> None:
    exchange = LocalExchange(start_time_ms=1_700_000_000_000, limits=UNLIMITED)
    exchange.register("echo", echo)
    async with (
        open_local_exchange(exchange) as served,
        trio_binance.connect(served.url, **connect) as session,
    ):
        await body(served, session)


async def run_script(
    exchange: LocalExchange, session: trio_binance.Session, ops: list[Op]
) -> list[object]:
    """Send one ``time`` request per op, one after another, each with its fault armed."""
    outcomes: list[object] = []
    for op in ops:
        if op.kind == "garbage":
            exchange.faults.arm(Garbage(op.payload), method="time")
        elif op.kind == "malformed":
            assert isinstance(op.payload, str)
            exchange.faults.arm(Malformed(op.payload), method="time")
        elif op.kind == "duplicate":
            exchange.faults.arm(Duplicate(), method="time")
        # A frame no decoder can attribute (not JSON up to its id) leaves its request waiting:
        # the caller's own deadline is the bound, as for any lost reply.
        with trio.move_on_after(60) as waited:
            try:
                outcomes.append(await session.request("time", result_type=ServerTime))
            except BinanceError as exc:
                outcomes.append(exc)
        if waited.cancelled_caught:
            outcomes.append("timed out")
    return outcomes


def expected_kinds(op: Op) -> tuple[type, ...]:
    if op.kind == "malformed":
        return (ProtocolError, BinanceError, ServerTime, str)
    return (ServerTime,)  # the real reply always reaches its caller


@LIVE
@given(st.lists(OPS, min_size=1, max_size=12))
def test_live_session_survives_hostile_frames_and_keeps_serving(ops: list[Op]) -> None:
    async def body(exchange: LocalExchange, session: trio_binance.Session) -> None:
        outcomes = await run_script(exchange, session, ops)
        assert len(outcomes) == len(ops)  # exactly one outcome per request
        for op, outcome in zip(ops, outcomes, strict=True):
            assert isinstance(outcome, expected_kinds(op)), (op, outcome)
            if op.kind == "malformed" and isinstance(outcome, BinanceError):
                # the documented errors only: a protocol error, or the error the frame spells
                assert isinstance(outcome, ProtocolError | trio_binance.ApiError), outcome
        with trio.fail_after(5):  # the session still serves, at once
            assert isinstance(await session.request("time", result_type=ServerTime), ServerTime)
        stats = session.statistics()
        assert stats.in_flight == 0
        assert stats.queued == 0
        assert not stats.closed

    trio.run(
        with_live_session,
        body,
        clock=trio.testing.MockClock(autojump_threshold=0),
    )


async def test_garbage_flood_between_concurrent_requests(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Hundreds of concurrent callers, a garbage frame before every reply: all get theirs."""
    frames: list[str | bytes] = [
        "",
        "{",
        "[]",
        "null",
        '{"id": 99999999999999, "status": 200, "result": 1}',
        b"\x00",
    ]

    async def body(exchange: LocalExchange, session: trio_binance.Session) -> None:
        for n in range(600):
            exchange.faults.arm(Garbage(frames[n % len(frames)]), method="echo")
        replies: dict[int, Any] = {}

        async def call(n: int) -> None:
            replies[n] = await session.request("echo", {"n": n})

        with trio.fail_after(60):
            async with trio.open_nursery() as nursery:
                for n in range(600):
                    nursery.start_soon(call, n)
        assert replies == {n: {"n": n} for n in range(600)}
        stats = session.statistics()
        assert stats.protocol_errors == 500  # "" "{" "[]" "null" and the binary frame
        assert stats.late_replies == 100  # the forged response to an unknown id
        assert stats.in_flight == 0

    await with_live_session(body)


async def test_duplicated_reply_is_dropped_as_late(autojump_clock: trio.testing.MockClock) -> None:
    async def body(exchange: LocalExchange, session: trio_binance.Session) -> None:
        exchange.faults.arm(Duplicate(copies=3), method="time")
        first = await session.request("time", result_type=ServerTime)
        second = await session.request("time", result_type=ServerTime)
        assert second.server_time >= first.server_time
        stats = session.statistics()
        assert stats.late_replies == 3
        assert stats.in_flight == 0

    await with_live_session(body)


async def test_oversized_message_ends_the_session_and_fails_what_waits(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A frame over ``max_message_size`` closes the connection (1009): the waiting request
    learns it at once (its outcome is unknown), later ones are refused as never sent."""
    transport = TrioWebsocketTransport(max_message_size=64 * 1024)

    async def body(exchange: LocalExchange, session: trio_binance.Session) -> None:
        exchange.faults.arm(Garbage("x" * (65 * 1024)), method="time")
        with trio.fail_after(30), pytest.raises(ResponseLost):
            await session.request("time", result_type=ServerTime)
        with pytest.raises(SessionClosed) as refused:
            await session.request("time", result_type=ServerTime)
        assert "1009" in str(refused.value)
        assert session.statistics().in_flight == 0

    await with_live_session(body, transport=transport)


async def test_invalid_utf8_text_frame_fails_the_connection_and_what_waits(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """RFC 6455 8.1: invalid UTF-8 in a text frame fails the connection (1007). The request
    waiting for its reply learns at once that its outcome is unknown; nothing hangs."""

    async def body(exchange: LocalExchange, session: trio_binance.Session) -> None:
        exchange.faults.silent("time")
        async with trio.open_nursery() as nursery:
            outcome: list[BaseException] = []

            async def ask() -> None:
                with pytest.raises(ResponseLost) as lost:
                    await session.request("time", result_type=ServerTime)
                outcome.append(lost.value)

            nursery.start_soon(ask)
            await trio.testing.wait_all_tasks_blocked()
            (connection,) = exchange.connections
            async with connection.ws._stream_lock:  # a text frame, FIN, 3 bytes, unmasked
                await connection.ws._stream.send_all(b"\x81\x03\xff\xfe\xfd")
        assert outcome
        assert "1007" in str(session.close_reason)
        assert session.statistics().in_flight == 0
        with pytest.raises(SessionClosed):
            await session.request("time", result_type=ServerTime)

    with trio.fail_after(30):
        await with_live_session(body)


def test_long_run_driver_runs_and_reports(tmp_path: Path) -> None:
    """tests/fuzz_long.py (the million-input run) still works: a few inputs, no failure."""
    import fuzz_long

    result = fuzz_long.main(["--inputs", "40", "--failures", str(tmp_path / "failures")])
    assert result["inputs"] == 40
    assert result["failing"] == 0
    assert isinstance(result["generated_frames"], int)
    assert result["generated_frames"] > 0
    assert not (tmp_path / "failures").exists()
