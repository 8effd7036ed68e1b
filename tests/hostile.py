"""Hypothesis strategies for hostile frames, shared by the fuzz tests and the long fuzz run.

Every strategy yields what a WebSocket transport can hand the session: ``str`` for a text
frame, ``bytes`` for a binary frame. Text frames include lone surrogates (what invalid UTF-8
becomes under ``surrogateescape``), so a decoder that assumes clean text is caught too.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FIXTURES = Path(__file__).parent / "fixtures" / "spec"

# The long run: TRIO_BINANCE_FUZZ_EXAMPLES=1000000 python -m pytest tests/test_fuzz.py -k core
LONG_RUN_EXAMPLES = int(os.environ.get("TRIO_BINANCE_FUZZ_EXAMPLES", "0"))


if LONG_RUN_EXAMPLES:
    # Outside CI: no example database (a million entries), no deadline, no health checks
    # about slow data; a failure still shrinks and prints its reproduction blob.
    settings.register_profile(
        "trio-binance-long-fuzz",
        max_examples=LONG_RUN_EXAMPLES,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=list(HealthCheck),
    )
    settings.load_profile("trio-binance-long-fuzz")


def examples(ci_default: int) -> int:
    """Examples per fuzz test: the CI default, or the long run's count when one is asked for."""
    return LONG_RUN_EXAMPLES or ci_default


ENVELOPE_KEYS = ("id", "status", "result", "error", "rateLimits", "subscriptionId", "event")

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)

# Numbers no 64-bit field can hold, written as JSON text (json.dumps cannot write most of them).
HUGE_NUMBERS = st.one_of(
    st.integers(min_value=2**63, max_value=2**200).map(str),
    st.integers(min_value=2**63, max_value=2**200).map(lambda n: f"-{n}"),
    st.integers(min_value=300, max_value=10**6).map(lambda e: f"1e{e}"),
    st.integers(min_value=300, max_value=10**6).map(lambda e: f"-1.5E-{e}"),
    st.integers(min_value=400, max_value=5_000).map(lambda n: "9" * n),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "-0", "0e0", "1.", ".5", "01", "+1"]),
)


@functools.cache
def documented_frames() -> tuple[str, ...]:
    """Every documented response and user-data frame, as JSON text."""
    methods = json.loads((FIXTURES / "methods.json").read_text(encoding="utf-8"))["methods"]
    events = json.loads((FIXTURES / "user_data_events.json").read_text(encoding="utf-8"))
    frames = [response for entry in methods for response in entry["responses"]]
    frames += [event["frame"] for event in events]
    return tuple(json.dumps(frame) for frame in frames)


@functools.cache
def documented_results() -> tuple[tuple[str, Any], ...]:
    """``(method, result)`` for every documented successful response."""
    methods = json.loads((FIXTURES / "methods.json").read_text(encoding="utf-8"))["methods"]
    return tuple(
        (entry["method"], response["result"])
        for entry in methods
        for response in entry["responses"]
        if "result" in response
    )


@functools.cache
def documented_events() -> tuple[Any, ...]:
    events = json.loads((FIXTURES / "user_data_events.json").read_text(encoding="utf-8"))
    return tuple(event["event"] for event in events)


def paths(doc: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every path to a value inside ``doc`` (the root is ``()``)."""
    found = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += paths(value, (*prefix, index))
    return found


def replaced(doc: Any, path: tuple[str | int, ...], value: Any) -> Any:
    """A copy of ``doc`` with the value at ``path`` replaced."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        return {**doc, head: replaced(doc[head], rest, value)}
    copy = list(doc)
    copy[head] = replaced(doc[head], rest, value)  # type: ignore[index]
    return copy


@st.composite
def wrong_type_anywhere(draw: st.DrawFn, documents: tuple[Any, ...]) -> Any:
    """A documented document with one value, at any depth, replaced by any JSON value."""
    doc = draw(st.sampled_from(documents))
    path = draw(st.sampled_from(paths(doc)))
    return replaced(doc, path, draw(JSON))


@st.composite
def result_with_wrong_type(draw: st.DrawFn) -> tuple[str, Any]:
    """``(method, result)``: a documented result with one value replaced by any JSON value."""
    method, result = draw(st.sampled_from(documented_results()))
    path = draw(st.sampled_from(paths(result)))
    return method, replaced(result, path, draw(JSON))


@st.composite
def envelope_with_wrong_types(draw: st.DrawFn) -> str:
    """A documented frame whose envelope fields are removed, added or replaced by any JSON."""
    frame = json.loads(draw(st.sampled_from(documented_frames())))
    for key in draw(st.lists(st.sampled_from(ENVELOPE_KEYS), min_size=1, max_size=3)):
        if draw(st.booleans()):
            frame[key] = draw(JSON)
        else:
            frame.pop(key, None)
    return json.dumps(frame)


@st.composite
def huge_number_in_a_field(draw: st.DrawFn) -> str:
    """A documented frame with one number-shaped hole filled with a huge or odd number."""
    frame = json.loads(draw(st.sampled_from(documented_frames())))
    path = draw(st.sampled_from(paths(frame)[1:] or [()]))
    marker = "__HUGE__"
    text = json.dumps(replaced(frame, path, marker))
    return text.replace(json.dumps(marker), draw(HUGE_NUMBERS), 1)


@st.composite
def deeply_nested(draw: st.DrawFn) -> str:
    depth = draw(st.integers(min_value=1, max_value=20_000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    inner = opener * depth + "1" + closer * depth
    where = draw(st.sampled_from(["bare", "result", "event", "error.data", "rateLimits"]))
    if where == "bare":
        return inner
    if where == "result":
        return f'{{"id": 4242424242, "status": 200, "result": {inner}}}'
    if where == "event":
        return f'{{"subscriptionId": 7, "event": {inner}}}'
    if where == "error.data":
        return f'{{"id": 4242424242, "status": 400, "error": {{"code": -1, "msg": "x", "data": {inner}}}}}'
    return f'{{"id": 4242424242, "status": 200, "result": {{}}, "rateLimits": [{inner}]}}'


@st.composite
def truncated(draw: st.DrawFn) -> str:
    frame = draw(st.sampled_from(documented_frames()))
    return frame[: draw(st.integers(min_value=0, max_value=max(len(frame) - 1, 0)))]


INVALID_UTF8 = st.binary(min_size=1, max_size=64).map(
    lambda data: (b"\xff" + data).decode("utf-8", "surrogateescape")
)
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=200)


def hostile_frames() -> st.SearchStrategy[str | bytes]:
    """Any hostile frame: what the protocol core and a live session must survive."""
    return st.one_of(
        st.binary(max_size=200),
        ANY_TEXT,
        INVALID_UTF8,
        JSON.map(json.dumps),
        st.dictionaries(st.sampled_from(ENVELOPE_KEYS), JSON, max_size=7).map(json.dumps),
        envelope_with_wrong_types(),
        wrong_type_anywhere(tuple(json.loads(f) for f in documented_frames())).map(json.dumps),
        huge_number_in_a_field(),
        deeply_nested(),
        truncated(),
    )
