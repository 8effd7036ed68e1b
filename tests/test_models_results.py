"""Result models against every documented response example (tests/fixtures/spec/methods.json)."""

from __future__ import annotations

import copy
import enum
import functools
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_binance.models import (
    METHOD_RESULTS,
    CancelReplaceResponse,
    CancelReplaceResult,
    ExchangeInfo,
    Filter,
    FilterType,
    Kline,
    OpenEnum,
    OrderListResult,
    OrderReport,
    OrderResult,
    OrderStatus,
    SessionStatus,
    Ticker24hr,
)

FIXTURE = Path(__file__).parent / "fixtures" / "spec" / "methods.json"

# Documented keys that no model field holds, each with its reason. Paths use "*" for any
# list index; the result itself is "$".
NOT_MODELLED = {
    # web-socket-api.md, klines: the twelfth element is "Unused field, ignore".
    ("klines", "$[*][11]"),
    ("uiKlines", "$[*][11]"),
}

Path_ = tuple[str | int, ...]


@functools.cache
def documented_methods() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(FIXTURE.read_text(encoding="utf-8"))["methods"])


def success_examples() -> list[tuple[str, int, Any]]:
    return [
        (entry["method"], index, frame["result"])
        for entry in documented_methods()
        for index, frame in enumerate(entry["responses"])
        if "result" in frame
    ]


def cancel_replace_error_data() -> list[Any]:
    return [
        frame["error"]["data"]
        for entry in documented_methods()
        if entry["method"] == "order.cancelReplace"
        for frame in entry["responses"]
        if "error" in frame and "data" in frame["error"]
    ]


def decode(result: Any, method: str) -> Any:
    return msgspec.json.decode(json.dumps(result).encode(), type=METHOD_RESULTS[method])


def pattern(path: Path_) -> str:
    return "$" + "".join(step_pattern(step) for step in path)


def step_pattern(step: str | int) -> str:
    if isinstance(step, int):
        return "[*]"  # any item of a list
    if step.startswith("#"):
        return f"[{step[1:]}]"  # a fixed position of an array-like struct (klines)
    return f".{step}"


def index_of(step: str | int) -> str | int:
    return int(step[1:]) if isinstance(step, str) and step.startswith("#") else step


class Walk:
    """Pairs every value of a JSON document with what the decoded model made of it."""

    def __init__(self) -> None:
        self.leaves: list[tuple[Path_, Any, Any]] = []
        self.unmapped: list[Path_] = []

    def visit(self, doc: Any, obj: Any, path: Path_ = ()) -> None:
        if isinstance(obj, msgspec.Struct):
            self.visit_struct(doc, obj, path)
        elif isinstance(obj, tuple | list):
            assert isinstance(doc, list), path
            assert len(doc) == len(obj), path
            for index, (item_doc, item_obj) in enumerate(zip(doc, obj, strict=True)):
                self.visit(item_doc, item_obj, (*path, index))
        else:
            self.leaves.append((path, doc, obj))

    def visit_struct(self, doc: Any, obj: msgspec.Struct, path: Path_) -> None:
        fields = msgspec.structs.fields(obj)
        if obj.__struct_config__.array_like:
            assert isinstance(doc, list), path
            for index, item in enumerate(doc):
                position = f"#{index}"
                if index < len(fields):
                    self.visit(item, getattr(obj, fields[index].name), (*path, position))
                else:
                    self.unmapped.append((*path, position))
            return
        assert isinstance(doc, dict), path
        by_wire_name = {f.encode_name: f.name for f in fields}
        for key, value in doc.items():
            if key in by_wire_name:
                self.visit(value, getattr(obj, by_wire_name[key]), (*path, key))
            else:
                self.unmapped.append((*path, key))


def walk(doc: Any, obj: Any) -> Walk:
    walker = Walk()
    walker.visit(doc, obj)
    return walker


DECIMAL_TEXT = re.compile(r"-?[0-9]+\.[0-9]+")


def same_value(doc: Any, obj: Any) -> bool:
    """Whether a decoded leaf holds exactly the documented value, with the right type."""
    if doc is None or obj is None:
        return doc is None and obj is None
    if isinstance(obj, Decimal):
        # Binance sends every decimal as a string; a JSON number here means a miscast int.
        return isinstance(doc, str) and Decimal(doc) == obj
    if isinstance(obj, enum.Enum):
        return isinstance(doc, str) and obj.value == doc
    if isinstance(obj, str) and DECIMAL_TEXT.fullmatch(obj):
        return False  # a price or quantity left as text instead of Decimal
    return type(doc) is type(obj) and doc == obj


def set_at(doc: Any, path: Path_, value: Any) -> Any:
    doc = copy.deepcopy(doc)
    if not path:
        return value
    target = doc
    for step in path[:-1]:
        target = target[index_of(step)]
    target[index_of(path[-1])] = value
    return doc


def objects_in(doc: Any, path: Path_ = ()) -> Iterator[Path_]:
    """Paths of every JSON object in ``doc``."""
    if isinstance(doc, dict):
        yield path
        for key, value in doc.items():
            yield from objects_in(value, (*path, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from objects_in(value, (*path, index))


@functools.cache
def leaves_of(method: str, index: int) -> tuple[tuple[Path_, Any, Any], ...]:
    frame = documented_methods()[[e["method"] for e in documented_methods()].index(method)]
    result = frame["responses"][index]["result"]
    return tuple(walk(result, decode(result, method)).leaves)


EXAMPLES = success_examples()
EXAMPLE_IDS = [f"{method}#{index}" for method, index, _ in EXAMPLES]


# (a) ---------------------------------------------------------------------------------------


def test_every_documented_method_has_a_result_type() -> None:
    documented = {entry["method"] for entry in documented_methods()}
    assert len(documented) >= 55
    assert documented - set(METHOD_RESULTS) == set()


def test_registry_holds_only_documented_methods() -> None:
    documented = {entry["method"] for entry in documented_methods()}
    assert set(METHOD_RESULTS) - documented == set()


def test_every_documented_method_has_a_success_example() -> None:
    # Otherwise (b) and (c) would silently skip a method.
    assert {method for method, _, _ in EXAMPLES} == set(METHOD_RESULTS)


# (b) and (c) -------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "index", "result"), EXAMPLES, ids=EXAMPLE_IDS)
def test_documented_result_decodes(method: str, index: int, result: Any) -> None:
    decoded = decode(result, method)
    assert decoded is not None


@pytest.mark.parametrize(("method", "index", "result"), EXAMPLES, ids=EXAMPLE_IDS)
def test_decoding_keeps_every_documented_field(method: str, index: int, result: Any) -> None:
    walker = walk(result, decode(result, method))
    dropped = {pattern(path) for path in walker.unmapped} - {
        p for m, p in NOT_MODELLED if m == method
    }
    assert dropped == set()
    wrong = [
        (pattern(path), doc, obj) for path, doc, obj in walker.leaves if not same_value(doc, obj)
    ]
    assert wrong == []


def test_not_modelled_exceptions_are_all_still_needed() -> None:
    seen = {
        (method, pattern(path))
        for method, _, result in EXAMPLES
        for path in walk(result, decode(result, method)).unmapped
    }
    assert seen == NOT_MODELLED


@pytest.mark.parametrize("data", cancel_replace_error_data())
def test_cancel_replace_error_data_decodes_with_the_result_type(data: Any) -> None:
    # errors hand over error.data as parsed JSON, so convert must work as well as decode.
    for decoded in (
        msgspec.convert(data, CancelReplaceResponse),
        msgspec.json.decode(json.dumps(data).encode(), type=CancelReplaceResponse),
    ):
        walker = walk(data, decoded)
        assert walker.unmapped == []
        assert all(same_value(doc, obj) for _, doc, obj in walker.leaves)


def test_cancel_replace_error_data_tells_failed_half_from_order() -> None:
    outcomes = [msgspec.convert(d, CancelReplaceResponse) for d in cancel_replace_error_data()]
    assert outcomes, "the spec documents cancelReplace error data"
    for outcome in outcomes:
        for verdict, half in (
            (outcome.cancel_result, outcome.cancel_response),
            (outcome.new_order_result, outcome.new_order_response),
        ):
            if verdict == CancelReplaceResult.SUCCESS:
                assert half is not None
                assert not half.is_error
                assert half.as_order().order_id == half.order_id
            elif verdict == CancelReplaceResult.FAILURE:
                assert half is not None
                assert half.is_error
                assert half.code is not None
                assert half.code < 0
            else:
                assert half is None


def test_order_report_is_either_an_order_or_an_order_list() -> None:
    (cancel_all,) = [e for e in documented_methods() if e["method"] == "openOrders.cancelAll"]
    single, listed = decode(cancel_all["responses"][0]["result"], "openOrders.cancelAll")
    assert not single.is_order_list
    assert isinstance(single.as_order(), OrderResult)
    assert listed.is_order_list
    as_list = listed.as_order_list()
    assert isinstance(as_list, OrderListResult)
    assert [r.order_id for r in as_list.order_reports] == [o.order_id for o in as_list.orders]
    with pytest.raises(ValueError, match="not a single order"):
        listed.as_order()
    with pytest.raises(ValueError, match="not an order list"):
        single.as_order_list()


def test_order_report_refuses_an_error_as_order() -> None:
    report = msgspec.convert({"code": -2011, "msg": "Unknown order sent."}, OrderReport)
    with pytest.raises(ValueError, match="not a single order"):
        report.as_order()


def test_ticker_decodes_one_object_or_a_list() -> None:
    one = {
        "symbol": "BNBBTC",
        "openPrice": "1",
        "highPrice": "2",
        "lowPrice": "0.5",
        "lastPrice": "1.5",
        "volume": "10",
        "quoteVolume": "15",
        "openTime": 1,
        "closeTime": 2,
        "firstId": 3,
        "lastId": 4,
    }
    single = decode(one, "ticker.24hr")
    assert isinstance(single, Ticker24hr)
    assert single.bid_price is None  # MINI: FULL-only fields absent
    many = decode([one, {**one, "symbol": "BTCUSDT", "bidPrice": "1.25"}], "ticker.24hr")
    assert [t.symbol for t in many] == ["BNBBTC", "BTCUSDT"]
    assert many[1].bid_price == Decimal("1.25")


def test_kline_ignores_trailing_elements_binance_may_append() -> None:
    row = [1, "1.0", "2.0", "0.5", "1.5", "100", 2, "150", 7, "50", "75", "0", "later", [1]]
    (kline,) = msgspec.json.decode(json.dumps([row]).encode(), type=list[Kline])
    assert kline.close == Decimal("1.5")
    assert kline.taker_buy_quote_volume == Decimal("75")


def test_kline_missing_elements_are_an_error() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'[[1, "1.0", "2.0"]]', type=list[Kline])


def test_filter_limit_keeps_wire_type() -> None:
    parts = msgspec.convert({"filterType": "ICEBERG_PARTS", "limit": 10}, Filter)
    asset = msgspec.convert({"filterType": "MAX_ASSET", "asset": "USDC", "limit": "42.5"}, Filter)
    assert parts.limit == 10
    assert type(parts.limit) is int
    assert asset.limit == Decimal("42.5")


def test_session_status_repr_hides_the_api_key() -> None:
    key = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
    status = SessionStatus(api_key=key, connected_since=1, return_rate_limits=False, server_time=2)
    assert key not in repr(status)
    assert status.api_key == key
    assert "api_key=None" in repr(msgspec.structs.replace(status, api_key=None))


# (d) ---------------------------------------------------------------------------------------


def test_unknown_filter_type_and_fields_decode() -> None:
    info = msgspec.convert(
        {
            "timezone": "UTC",
            "serverTime": 1,
            "exchangeFilters": [{"filterType": "EXCHANGE_MAX_SOMETHING_NEW", "maxThings": 3}],
            "symbols": [],
            "brandNewTopLevelField": {"nested": [1, 2]},
        },
        ExchangeInfo,
    )
    (new_filter,) = info.exchange_filters
    assert new_filter.filter_type == "EXCHANGE_MAX_SOMETHING_NEW"
    assert not new_filter.filter_type.is_known
    assert FilterType.PRICE_FILTER.is_known


def test_unknown_enum_value_and_fields_in_an_order_decode() -> None:
    (place,) = [e for e in documented_methods() if e["method"] == "order.place"]
    result = dict(place["responses"][1]["result"])
    result.update(status="PARKED", selfTradePreventionMode="EXPIRE_EVERYTHING", newThing=[{}])
    order = decode(result, "order.place")
    assert order.status == "PARKED"
    assert isinstance(order.status, OrderStatus)
    assert not order.status.is_known
    assert order.self_trade_prevention_mode == "EXPIRE_EVERYTHING"


# (e) ---------------------------------------------------------------------------------------

NEW_ENUM_VALUE = st.from_regex(r"[A-Z][A-Z0-9_]{0,20}", fullmatch=True)
# Wire keys are camelCase or single letters: a key with "_" can never be a known field.
UNKNOWN_KEY = st.from_regex(r"x_[a-zA-Z0-9]{1,10}", fullmatch=True)
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_mutated_enums_and_extra_fields_still_decode(data: st.DataObject) -> None:
    method, index, result = data.draw(st.sampled_from(EXAMPLES))
    enum_paths = [p for p, _, obj in leaves_of(method, index) if isinstance(obj, OpenEnum)]
    mutated = copy.deepcopy(result)
    changed = {}
    if enum_paths:
        for path in data.draw(st.lists(st.sampled_from(enum_paths), max_size=3, unique=True)):
            changed[path] = data.draw(NEW_ENUM_VALUE)
            mutated = set_at(mutated, path, changed[path])
    object_paths = list(objects_in(mutated))
    if object_paths:
        for path in data.draw(st.lists(st.sampled_from(object_paths), max_size=3)):
            mutated = set_at(mutated, (*path, data.draw(UNKNOWN_KEY)), data.draw(ANY_JSON))
    decoded = decode(mutated, method)
    values = {path: obj for path, _, obj in walk(mutated, decoded).leaves}
    for path, value in changed.items():
        assert values[path] == value


# (f) ---------------------------------------------------------------------------------------

# No "i", "n" or "s": Decimal spells NaN and Infinity with those, and they are numbers.
NOT_A_NUMBER = st.text(alphabet="abcdefghjklmopqrtuvwxyzABCDEFGHJKLMOPQRTUVWXYZ-:/", min_size=1)
WRONG_SHAPE = st.sampled_from([True, [], {}, [["1"]], {"price": "1"}])


def decimal_paths(method: str, index: int) -> list[Path_]:
    return [p for p, _, obj in leaves_of(method, index) if isinstance(obj, Decimal)]


WITH_DECIMALS = [e for e in EXAMPLES if decimal_paths(e[0], e[1])]


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_price_that_is_not_a_number_is_a_validation_error(data: st.DataObject) -> None:
    method, index, result = data.draw(st.sampled_from(WITH_DECIMALS))
    path = data.draw(st.sampled_from(decimal_paths(method, index)))
    bad = data.draw(NOT_A_NUMBER | WRONG_SHAPE)
    with pytest.raises(msgspec.ValidationError):
        decode(set_at(result, path, bad), method)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_leaf_of_the_wrong_shape_is_a_validation_error(data: st.DataObject) -> None:
    method, index, result = data.draw(st.sampled_from(EXAMPLES))
    leaves = [p for p, doc, _ in leaves_of(method, index) if doc is not None]
    if not leaves:
        return
    path = data.draw(st.sampled_from(leaves))
    with pytest.raises(msgspec.ValidationError):
        decode(set_at(result, path, data.draw(st.sampled_from([[], {}, [1, "x"]]))), method)
