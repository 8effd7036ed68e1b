"""The fixtures extracted from the Binance docs are complete, well-formed and reproducible."""

from __future__ import annotations

import importlib.util
import json
import keyword
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_binance._error_codes import ErrorCode
from trio_binance.testing._error_messages import (
    ERROR_MESSAGES,
    FILTER_FAILURE_MESSAGES,
    ORDER_REJECTION_MESSAGES,
    error_message,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "spec"
SCRIPT = REPO_ROOT / "scripts" / "extract_spec_fixtures.py"
# The suite never reads the upstream docs on its own (users clone the project without them):
# the regeneration check runs only when a maintainer points it at a copy, e.g.
#   TRIO_BINANCE_SPEC_DIR=../shared/spec .venv/bin/pytest tests/test_spec_fixtures.py
SPEC_DIR = Path(os.environ.get("TRIO_BINANCE_SPEC_DIR", "/nonexistent"))

SECURITY_TYPES = {"NONE", "TRADE", "USER_DATA", "USER_STREAM"}
# Methods documented without a response example; none today, listed here if one appears.
METHODS_WITHOUT_RESPONSE_EXAMPLE: frozenset[str] = frozenset()


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("extract_spec_fixtures", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while decorating
    spec.loader.exec_module(module)
    return module


METHODS: list[dict[str, Any]] = load("methods.json")["methods"]
ERRORS: dict[str, Any] = load("errors.json")
extractor = load_script()


# --- methods.json ------------------------------------------------------------------------


def by_name() -> dict[str, dict[str, Any]]:
    return {method["method"]: method for method in METHODS}


def test_methods_cover_the_websocket_api() -> None:
    names = [method["method"] for method in METHODS]
    assert len(names) >= 50
    assert len(set(names)) == len(names)
    assert {"ping", "time", "exchangeInfo", "session.logon", "order.place", "order.cancel"} <= set(
        names
    )
    assert {method["section"] for method in METHODS} == {
        "General requests",
        "Market data requests",
        "Authentication requests",
        "Trading requests",
        "Account requests",
        "User Data Stream requests",
    }


def test_security_comes_from_the_title_suffix() -> None:
    methods = by_name()
    assert {method["security"] for method in METHODS} <= SECURITY_TYPES
    assert methods["ping"]["security"] == "NONE"
    assert methods["order.place"]["security"] == "TRADE"
    assert methods["account.status"]["security"] == "USER_DATA"
    assert methods["userDataStream.subscribe"]["security"] == "USER_STREAM"
    # "Log in with API key (SIGNED)": SIGNED is not a security type, but the request is signed.
    assert methods["session.logon"]["security"] == "NONE"
    assert methods["session.logon"]["signed"] is True
    assert methods["time"]["signed"] is False


def test_deprecated_methods_are_kept_and_flagged() -> None:
    deprecated = {method["method"] for method in METHODS if method["deprecated"]}
    assert "orderList.place" in deprecated
    assert "orderList.place.oco" not in deprecated


def test_retired_methods_are_dated_and_no_longer_documented() -> None:
    retired = load("methods.json")["retired"]
    names = {entry["method"] for entry in retired}
    assert {"userDataStream.start", "userDataStream.ping", "userDataStream.stop"} <= names
    assert not names & set(by_name())
    for entry in retired:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry["announced"])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry["unavailable_from"])


@pytest.mark.parametrize("method", METHODS, ids=lambda method: method["method"])
def test_method_has_request_and_response_examples(method: dict[str, Any]) -> None:
    assert method["title"]
    assert method["weight"]
    assert method["requests"]
    for request in method["requests"]:
        assert request["method"] == method["method"]
        assert "id" in request
    if method["method"] not in METHODS_WITHOUT_RESPONSE_EXAMPLE:
        assert method["responses"]


@pytest.mark.parametrize("method", METHODS, ids=lambda method: method["method"])
def test_response_examples_are_full_envelopes(method: dict[str, Any]) -> None:
    for response in method["responses"]:
        assert isinstance(response["status"], int)
        assert ("result" in response) != ("error" in response)
        assert ("error" in response) == (response["status"] >= 400)
        if "error" in response:
            assert isinstance(response["error"]["code"], int)
            assert isinstance(response["error"]["msg"], str)
        for limit in response.get("rateLimits", []):
            assert {"rateLimitType", "interval", "intervalNum", "limit", "count"} <= set(limit)


# --- errors.json and the generated modules -----------------------------------------------


def test_error_codes_are_unique_and_named_as_identifiers() -> None:
    codes = [entry["code"] for entry in ERRORS["errors"]]
    names = [entry["name"] for entry in ERRORS["errors"]]
    assert len(codes) >= 100
    assert len(set(codes)) == len(codes)
    assert len(set(names)) == len(names)
    assert all(code < 0 for code in codes)
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", name) for name in names)
    assert not any(keyword.iskeyword(name) for name in names)


def test_error_code_enum_matches_errors_json_exactly() -> None:
    documented = {entry["name"]: entry["code"] for entry in ERRORS["errors"]}
    assert {member.name: member.value for member in ErrorCode} == documented


def test_error_code_names_follow_errors_md() -> None:
    assert ErrorCode(-1000) is ErrorCode.UNKNOWN
    assert ErrorCode(-1121) is ErrorCode.BAD_SYMBOL
    assert ErrorCode(-2010) is ErrorCode.NEW_ORDER_REJECTED
    # Named only in the heading of the matching-engine message table.
    assert ErrorCode(-1010) is ErrorCode.ERROR_MSG_RECEIVED
    assert ErrorCode(-2038) is ErrorCode.ORDER_AMEND_REJECTED
    # Headed by a sentence instead of a name.
    assert ErrorCode(-2021) is ErrorCode.ORDER_CANCEL_REPLACE_PARTIALLY_FAILED


def test_error_messages_match_errors_json() -> None:
    documented = {
        entry["code"]: tuple(entry["messages"]) for entry in ERRORS["errors"] if entry["messages"]
    }
    assert dict(ERROR_MESSAGES) == documented
    assert tuple(ERRORS["order_rejection_messages"]) == ORDER_REJECTION_MESSAGES
    assert tuple(ERRORS["filter_failure_messages"]) == FILTER_FAILURE_MESSAGES


def test_error_messages_are_the_documented_texts() -> None:
    assert error_message(ErrorCode.BAD_SYMBOL) == "Invalid symbol."
    assert error_message(-1003, 1).startswith("Too much request weight used;")
    assert "Account has insufficient balance for requested action." in ORDER_REJECTION_MESSAGES
    assert "Filter failure: PRICE_FILTER" in FILTER_FAILURE_MESSAGES
    # The WebSocket API examples show these with a final period, unlike errors.md's heading.
    assert error_message(-2021) == "Order cancel-replace partially failed."


def test_error_messages_cannot_be_changed() -> None:
    with pytest.raises(TypeError):
        ERROR_MESSAGES[-1000] = ("changed",)  # type: ignore[index]


documented_message = st.sampled_from(sorted(ERROR_MESSAGES)).flatmap(
    lambda code: st.tuples(st.just(code), st.integers(0, len(ERROR_MESSAGES[code]) - 1))
)


@given(documented_message)
def test_error_message_returns_the_indexed_message(code_and_index: tuple[int, int]) -> None:
    code, index = code_and_index
    assert error_message(code, index) == ERROR_MESSAGES[code][index]


@given(st.integers().filter(lambda code: code not in ERROR_MESSAGES))
def test_error_message_refuses_undocumented_codes(code: int) -> None:
    with pytest.raises(KeyError, match=str(code)):
        error_message(code)


@given(st.sampled_from(sorted(ERROR_MESSAGES)), st.integers(min_value=0))
def test_error_message_refuses_an_index_past_the_messages(code: int, extra: int) -> None:
    with pytest.raises(IndexError):
        error_message(code, len(ERROR_MESSAGES[code]) + extra)
    with pytest.raises(IndexError):
        error_message(code, -1 - extra)


# --- user_data_events.json, stream_events.json, enums.json, filters.json -----------------


def test_user_data_events_cover_every_documented_event() -> None:
    events = load("user_data_events.json")
    assert {event["event_type"] for event in events} >= {
        "executionReport",
        "outboundAccountPosition",
        "balanceUpdate",
        "listStatus",
        "eventStreamTerminated",
        "externalLockUpdate",
    }
    for event in events:
        assert event["event"]["e"] == event["event_type"]
        if event["frame"] is not None:
            assert event["frame"]["event"] == event["event"]
            assert isinstance(event["frame"]["subscriptionId"], int)


def test_stream_payloads_name_their_stream() -> None:
    streams = load("stream_events.json")["streams"]
    names = {entry["stream_name"] for entry in streams}
    assert {"<symbol>@aggTrade", "<symbol>@trade", "<symbol>@kline_<interval>"} <= names
    for entry in streams:
        assert entry["title"]
        assert entry["stream_name"] or entry["title"] == "Server Shutdown"
        if entry["combined"]:
            assert set(entry["payload"]) == {"stream", "data"}
        if not entry["placeholder"] and isinstance(entry["payload"], dict):
            assert entry["payload"]


def test_stream_control_messages_pair_requests_with_responses() -> None:
    control = load("stream_events.json")["control_messages"]
    requests = [m["frame"] for m in control if m["kind"] == "request"]
    responses = {m["frame"]["id"]: m["frame"] for m in control if m["kind"] == "response"}
    assert {request["method"] for request in requests} == {
        "SUBSCRIBE",
        "UNSUBSCRIBE",
        "LIST_SUBSCRIPTIONS",
        "SET_PROPERTY",
        "GET_PROPERTY",
    }
    for request in requests:
        assert "result" in responses[request["id"]]
    errors = [m for m in control if m["kind"] == "error"]
    assert errors
    for error in errors:
        assert isinstance(error["frame"]["code"], int)
        assert isinstance(error["frame"]["msg"], str)
        assert error["description"]


def test_enums_are_upper_case_values_by_section() -> None:
    enums = load("enums.json")
    assert enums["Order side (side)"] == ["BUY", "SELL"]
    assert "GTC" in enums["Time in force (timeInForce)"]
    assert list(enums) == sorted(enums)
    for values in enums.values():
        assert values
        assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", value) for value in values)


def test_filter_examples_carry_their_own_filter_type() -> None:
    filters = load("filters.json")
    assert set(filters) == {"symbol_filters", "exchange_filters", "asset_filters"}
    assert {"PRICE_FILTER", "LOT_SIZE", "NOTIONAL"} <= set(filters["symbol_filters"])
    for group in filters.values():
        assert group
        for filter_type, example in group.items():
            assert example["filterType"] == filter_type


# --- the lenient example parser ----------------------------------------------------------

# Strings made of the characters the parser must not misread inside a string.
tricky_text = st.text(alphabet='/"\\%s,}]{[ a', max_size=12) | st.text()
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | tricky_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(tricky_text, children, max_size=4)
    ),
    max_leaves=20,
)


def as_doc_example(value: Any, trailing_commas: bool) -> str:
    """Write ``value`` the way the docs do: a comment on every line, maybe trailing commas."""
    lines = json.dumps(value, indent=4).splitlines()
    out = []
    for line, following in zip(lines, [*lines[1:], ""], strict=True):
        closing = following.strip()[:1] in ("}", "]")
        comma = "," if trailing_commas and closing and not line.endswith(("{", "[")) else ""
        out.append(line + comma + '  // a comment with "quotes", // and { brackets ]')
    return "\n".join(out)


@given(json_values, st.booleans())
def test_parser_reads_commented_examples_exactly(value: Any, trailing_commas: bool) -> None:
    assert extractor.parse_example(as_doc_example(value, trailing_commas)) == value


def test_parser_keeps_comment_markers_inside_strings() -> None:
    source = '{"url": "https://example.com//x", "msg": "%s", // note\n "n": 1,}'
    assert extractor.parse_example(source) == {
        "url": "https://example.com//x",
        "msg": "%s",
        "n": 1,
    }


def test_parser_quotes_bare_placeholders() -> None:
    assert extractor.parse_example('{"code": 0, "id": %s}') == {"code": 0, "id": "%s"}


def test_parser_reports_blocks_that_are_not_json() -> None:
    with pytest.raises(extractor.UnparsedBlock):
        extractor.parse_example("serverTime = getCurrentTime()")


def test_comment_only_objects_are_placeholders() -> None:
    assert extractor.is_placeholder("[\n  {\n    // Same as <symbol>@ticker payload\n  }\n]")
    assert not extractor.is_placeholder('{\n  "e": "trade" // Event type\n}')


# --- reproducibility ---------------------------------------------------------------------


@pytest.mark.skipif(
    not (SPEC_DIR / "web-socket-api.md").is_file(),
    reason="set TRIO_BINANCE_SPEC_DIR to a copy of the Binance docs to check regeneration",
)
def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(SCRIPT), str(SPEC_DIR), "--output-root", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    generated = sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*.*"))
    assert generated == sorted(
        [
            *(path.relative_to(REPO_ROOT) for path in FIXTURES.glob("*.json")),
            Path("trio_binance/_error_codes.py"),
            Path("trio_binance/testing/_error_messages.py"),
        ]
    )
    for relative in generated:
        assert (tmp_path / relative).read_bytes() == (REPO_ROOT / relative).read_bytes(), relative
