"""The sans-IO protocol core: classification, round trips, ids, and that it does no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_binance._protocol import (
    MAX_REQUEST_ID,
    BadFrame,
    BadRequestFrame,
    ConnectionEvent,
    ErrorResponse,
    FrameDecoder,
    InFlight,
    RequestDecoder,
    RequestEncoder,
    RequestFrame,
    ResponseEncoder,
    ResultResponse,
    UserDataFrame,
    decode_rate_limits,
    decode_result,
    encode_rate_limits,
    reports_rate_limits,
    valid_request_id,
)
from trio_binance.models import RateLimit, RateLimitInterval, RateLimitType

PACKAGE = Path(__file__).resolve().parent.parent / "trio_binance"
SANS_IO = ["_protocol.py", "_params.py", "_exceptions.py"]

OK_FRAME = """{
  "id": "e2a85d9f-07a5-4f94-8d5f-789dc3deb097", "status": 200,
  "result": {"serverTime": 1656400526260},
  "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE",
                  "intervalNum": 1, "limit": 6000, "count": 70}]
}"""
ERROR_FRAME = """{
  "id": "fc93a61a-a192-4cf4-bb2a-a8f0f0c51e06", "status": 418,
  "error": {"code": -1003, "msg": "Way too much request weight used; IP banned until 1659146400000.",
            "data": {"serverTime": 1659142907531, "retryAfter": 1659146400000}},
  "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE",
                  "intervalNum": 1, "limit": 6000, "count": 2411}]
}"""
EVENT_FRAME = """{"subscriptionId": 0, "event": {"e": "outboundAccountPosition",
  "E": 1728972148778, "u": 1728972148778, "B": [{"a": "BTC", "f": "11818.00000000", "l": "182.00000000"}]}}"""
SHUTDOWN_FRAME = '{"event": {"e": "serverShutdown", "E": 1770123456789}}'


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _module_path(name: str) -> Path | None:
    rel = name.removeprefix("trio_binance").lstrip(".").replace(".", "/")
    for candidate in (PACKAGE / f"{rel}.py", PACKAGE / rel / "__init__.py"):
        if rel and candidate.exists():
            return candidate
    return None


def test_protocol_core_never_imports_trio() -> None:
    """The protocol core and everything it imports from the package stay free of I/O."""
    seen: set[Path] = set()
    todo = [PACKAGE / name for name in SANS_IO]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _imports(path):
            root = name.split(".")[0]
            assert root not in {"trio", "trio_websocket", "socket", "ssl"}, (path, name)
            if root == "trio_binance" and (target := _module_path(name)) is not None:
                todo.append(target)
    assert PACKAGE / "models" / "_common.py" in seen  # the walk did follow package imports


def test_classifies_documented_success_response() -> None:
    frame = FrameDecoder().decode(OK_FRAME)
    assert isinstance(frame, ResultResponse)
    assert frame.request_id == "e2a85d9f-07a5-4f94-8d5f-789dc3deb097"
    assert frame.status == 200
    assert msgspec.json.decode(frame.result) == {"serverTime": 1656400526260}
    assert frame.rate_limits == [
        RateLimit(
            rate_limit_type=RateLimitType.REQUEST_WEIGHT,
            interval=RateLimitInterval.MINUTE,
            interval_num=1,
            limit=6000,
            count=70,
        )
    ]


def test_classifies_documented_error_response() -> None:
    frame = FrameDecoder().decode(ERROR_FRAME)
    assert isinstance(frame, ErrorResponse)
    assert (frame.status, frame.error.code) == (418, -1003)
    assert frame.error.decoded_data() == {"serverTime": 1659142907531, "retryAfter": 1659146400000}
    assert frame.rate_limits is not None and frame.rate_limits[0].count == 2411


def test_classifies_user_data_and_connection_events() -> None:
    decoder = FrameDecoder()
    event = decoder.decode(EVENT_FRAME)
    assert isinstance(event, UserDataFrame)
    assert event.subscription_id == 0
    assert msgspec.json.decode(event.event)["e"] == "outboundAccountPosition"
    shutdown = decoder.decode(SHUTDOWN_FRAME)
    assert isinstance(shutdown, ConnectionEvent)
    assert shutdown.event_type == "serverShutdown"


def test_session_wide_error_has_null_id() -> None:
    frame = FrameDecoder().decode(
        '{"id": null, "status": 401, "error": {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}}'
    )
    assert isinstance(frame, ErrorResponse)
    assert frame.request_id is None
    assert frame.rate_limits is None
    assert frame.error.decoded_data() is None


@pytest.mark.parametrize(
    ("data", "reason", "request_id"),
    [
        (b"\x00\x01", "binary frame", None),
        ("not json", "malformed", None),
        ("[1, 2]", "Expected `object`", None),
        ('{"id": 7, "status": "200", "result": {}}', "got `str` - at `$.status`", 7),
        ('{"id": 8, "status": 200}', "neither result nor error", 8),
        ('{"id": 9}', "unknown shape", 9),
        ('{"event": {"E": 1}}', "without a type", None),
        ('{"id": 3, "status": 400, "error": {"code": "x", "msg": 1}}', "at `$.error.code`", 3),
    ],
)
def test_bad_frames_are_classified_with_the_request_they_name(
    data: str | bytes, reason: str, request_id: int | None
) -> None:
    frame = FrameDecoder().decode(data)
    assert isinstance(frame, BadFrame)
    assert reason in frame.reason
    assert frame.request_id == request_id


def test_bad_frame_quotes_are_bounded() -> None:
    frame = FrameDecoder().decode('{"id": 1, "oops": "' + "x" * 10_000)
    assert isinstance(frame, BadFrame)
    assert len(frame.reason) < 400


@given(st.text())
def test_arbitrary_text_only_ever_classifies(text: str) -> None:
    frame = FrameDecoder().decode(text)
    assert isinstance(
        frame, BadFrame | ResultResponse | ErrorResponse | UserDataFrame | ConnectionEvent
    )


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
ENVELOPE_KEYS = st.sampled_from(
    ["id", "status", "result", "error", "rateLimits", "subscriptionId", "event"]
)


@given(st.dictionaries(ENVELOPE_KEYS, JSON, max_size=7))
def test_arbitrary_envelopes_only_ever_classify(obj: dict[str, object]) -> None:
    frame = FrameDecoder().decode(msgspec.json.encode(obj).decode())
    assert isinstance(
        frame, BadFrame | ResultResponse | ErrorResponse | UserDataFrame | ConnectionEvent
    )


WIRE_SCALAR = st.text() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.booleans()
WIRE_PARAMS = st.dictionaries(
    st.text(min_size=1), WIRE_SCALAR | st.lists(WIRE_SCALAR, max_size=3), max_size=6
)


@given(st.text(min_size=1), WIRE_PARAMS)
def test_request_round_trip_client_to_exchange(method: str, params: dict[str, object]) -> None:
    encoder = RequestEncoder()
    request_id = encoder.next_id()
    decoded = RequestDecoder().decode(encoder.encode(request_id, method, params))  # type: ignore[arg-type]
    assert decoded == RequestFrame(id=request_id, method=method, params=params)


@given(JSON, st.integers(min_value=0, max_value=2**63 - 1))
def test_response_round_trip_exchange_to_client(result: object, request_id: int) -> None:
    if result is None:
        result = {}
    data = ResponseEncoder().result(request_id, result, None).decode()
    frame = FrameDecoder().decode(data)
    assert isinstance(frame, ResultResponse)
    assert frame.request_id == request_id
    assert decode_result(frame.result, object) == result


def test_error_round_trip_keeps_data_and_rate_limits() -> None:
    rate_limits = [
        {
            "rateLimitType": "ORDERS",
            "interval": "SECOND",
            "intervalNum": 10,
            "limit": 50,
            "count": 3,
        }
    ]
    data = ResponseEncoder().error(
        5, 429, -1015, "Too many new orders.", data={"retryAfter": 1}, rate_limits=rate_limits
    )
    frame = FrameDecoder().decode(data.decode())
    assert isinstance(frame, ErrorResponse)
    assert frame.error.decoded_data() == {"retryAfter": 1}
    assert frame.rate_limits is not None and frame.rate_limits[0].window_ms == 10_000


def test_request_without_params_leaves_params_out() -> None:
    assert RequestEncoder().encode(1, "time", {}) == b'{"id":1,"method":"time"}'


def test_request_ids_are_unique_positive_and_wrap_inside_64_bits() -> None:
    encoder = RequestEncoder()
    ids = [encoder.next_id() for _ in range(1000)]
    assert len(set(ids)) == 1000 and min(ids) >= 1
    encoder._last_id = MAX_REQUEST_ID - 1
    assert encoder.next_id() == MAX_REQUEST_ID
    assert encoder.next_id() == 1
    assert all(valid_request_id(i) for i in (1, MAX_REQUEST_ID))


@pytest.mark.parametrize(
    ("request_id", "valid"),
    [
        (None, True),
        (0, True),
        (-(2**63), True),
        (2**63, False),
        ("a" * 36, True),
        ("a" * 37, False),
        ("", False),
        (True, False),
        (1.5, False),
    ],
)
def test_valid_request_ids(request_id: object, valid: bool) -> None:
    assert valid_request_id(request_id) is valid


@pytest.mark.parametrize(
    ("data", "code", "request_id"),
    [
        ("{", -1135, None),
        ('{"id": 4, "method": 5}', -1135, 4),
        ('{"id": 2.5, "method": "time"}', -1135, None),
        ('{"id": "' + "x" * 40 + '", "method": "time"}', -1102, None),
        ('{"id": 6}', -1102, 6),
    ],
)
def test_exchange_side_rejects_bad_request_frames(data: str, code: int, request_id: object) -> None:
    frame = RequestDecoder().decode(data)
    assert isinstance(frame, BadRequestFrame)
    assert (frame.code, frame.request_id) == (code, request_id)


def test_in_flight_entries_are_removed_exactly_once() -> None:
    waiting: InFlight[str] = InFlight()
    waiting.add(1, "a")
    waiting.add(2, "b")
    with pytest.raises(ValueError, match="already in flight"):
        waiting.add(1, "again")
    assert waiting.pop(1) == "a"
    assert waiting.pop(1) is None
    waiting.discard(2)
    waiting.discard(2)
    waiting.add(3, "c")
    assert waiting.pop_all() == ["c"]
    assert len(waiting) == 0


RATE_LIMITS = st.lists(
    st.builds(
        RateLimit,
        rate_limit_type=st.sampled_from(RateLimitType) | st.text(min_size=1, max_size=12),
        interval=st.sampled_from(RateLimitInterval),
        interval_num=st.integers(min_value=1, max_value=1000),
        limit=st.integers(min_value=0, max_value=2**31),
        count=st.none() | st.integers(min_value=0, max_value=2**31),
    ),
    max_size=4,
)


@given(RATE_LIMITS, st.booleans())
def test_rate_limits_round_trip_and_stay_undecoded_until_read(
    rate_limits: list[RateLimit], failed: bool
) -> None:
    encoder = ResponseEncoder()
    wire = msgspec.to_builtins(rate_limits)
    data = (
        encoder.error(1, 429, -1003, "x", rate_limits=wire)
        if failed
        else encoder.result(1, {}, wire)
    )
    frame = FrameDecoder().decode(data.decode())
    assert isinstance(frame, ErrorResponse | ResultResponse)
    assert msgspec.json.decode(frame.raw_rate_limits) == wire  # kept as sent
    assert reports_rate_limits(frame.raw_rate_limits) == bool(rate_limits)
    assert frame.rate_limits == rate_limits
    assert decode_rate_limits(encode_rate_limits(rate_limits)) == rate_limits


def test_absent_rate_limits_read_as_none() -> None:
    frame = FrameDecoder().decode('{"id": 1, "status": 200, "result": {}}')
    assert isinstance(frame, ResultResponse)
    assert frame.rate_limits is None
    assert not reports_rate_limits(frame.raw_rate_limits)
    assert encode_rate_limits(None) == msgspec.Raw()


@pytest.mark.parametrize("malformed", ["5", '[{"bogus": 1}]', '[{"rateLimitType": 1}]', "{}"])
def test_malformed_rate_limits_do_not_hide_the_result(
    malformed: str, caplog: pytest.LogCaptureFixture
) -> None:
    frame = FrameDecoder().decode(
        f'{{"id": 4, "status": 200, "result": {{"orderId": 1}}, "rateLimits": {malformed}}}'
    )
    assert isinstance(frame, ResultResponse)
    assert msgspec.json.decode(frame.result) == {"orderId": 1}
    with caplog.at_level("WARNING", logger="trio_binance.protocol"):
        assert frame.rate_limits is None
    assert "malformed rateLimits ignored" in caplog.text
    assert malformed in caplog.text
