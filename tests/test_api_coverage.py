"""Every documented method has a typed coroutine, the catalogue matches the spec, and every
documented response decodes into the type its coroutine declares.

The method list comes from tests/fixtures/spec/methods.json (extracted from the Binance docs).
That each coroutine really sends the method it is mapped to is checked end to end in
tests/test_api.py.
"""

from __future__ import annotations

import functools
import inspect
import json
import typing
from pathlib import Path
from typing import Any

import msgspec
import pytest

from trio_binance import Session
from trio_binance._api import API_METHODS, ApiMethods, python_name
from trio_binance._methods import METHODS, RETIRED, is_signed, method_info, security_of
from trio_binance.models import METHOD_RESULTS

FIXTURE = Path(__file__).parent / "fixtures" / "spec" / "methods.json"
SIGNING_PARAMS = {"apiKey", "signature", "timestamp"}

# Retired upstream (CHANGELOG.md 2026-01-21: unavailable from 2026-02-20); no coroutine.
RETIRED_METHODS = {"userDataStream.start", "userDataStream.ping", "userDataStream.stop"}


@functools.cache
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return loaded


def documented() -> list[dict[str, Any]]:
    methods: list[dict[str, Any]] = spec()["methods"]
    return methods


def documented_names() -> list[str]:
    return [entry["method"] for entry in documented()]


def coroutine_of(method: str) -> Any:
    return getattr(ApiMethods, API_METHODS[method])


def declared_return(method: str) -> Any:
    return typing.get_type_hints(coroutine_of(method))["return"]


# --- coverage ----------------------------------------------------------------------------


def test_every_documented_method_has_a_coroutine_and_nothing_else_does() -> None:
    assert set(API_METHODS) == set(documented_names())
    public = {
        name
        for name, member in inspect.getmembers(ApiMethods, inspect.iscoroutinefunction)
        if not name.startswith("_") and name != "request"
    }
    assert public == set(API_METHODS.values())
    assert len(set(API_METHODS.values())) == len(API_METHODS)  # one coroutine per method


def test_retired_methods_are_listed_and_have_no_coroutine() -> None:
    retired = {entry["method"] for entry in spec()["retired"]}
    assert retired == RETIRED_METHODS == set(RETIRED)
    for entry in spec()["retired"]:
        info = RETIRED[entry["method"]]
        assert (info.announced, info.unavailable_from) == (
            entry["announced"],
            entry["unavailable_from"],
        )
    assert not retired & set(API_METHODS)


def test_the_session_has_every_typed_coroutine() -> None:
    for name in API_METHODS.values():
        assert inspect.iscoroutinefunction(getattr(Session, name)), name


# --- the catalogue -----------------------------------------------------------------------


def test_catalogue_matches_the_spec_exactly() -> None:
    assert list(METHODS) == documented_names()
    for entry in documented():
        info = METHODS[entry["method"]]
        assert (info.security, info.signed, info.deprecated, info.weight) == (
            entry["security"],
            entry["signed"],
            entry["deprecated"],
            entry["weight"],
        ), entry["method"]


@pytest.mark.parametrize("method", documented_names())
def test_security_and_signing_lookups(method: str) -> None:
    entry = next(e for e in documented() if e["method"] == method)
    assert security_of(method) == security_of(f"v3/{method}") == entry["security"]
    assert is_signed(method) is is_signed(f"v3/{method}") is entry["signed"]


def test_unknown_methods_are_not_signed_and_have_no_security_type() -> None:
    assert not is_signed("no.such.method")
    assert not is_signed("userDataStream.start")  # retired
    assert method_info("no.such.method") is None
    with pytest.raises(KeyError, match="not a documented"):
        security_of("no.such.method")


def test_logon_is_signed_although_its_security_type_is_none() -> None:
    assert security_of("session.logon") == "NONE"
    assert is_signed("session.logon")


@pytest.mark.parametrize("method", documented_names())
def test_docstring_states_what_it_does_its_weight_and_security(method: str) -> None:
    info = METHODS[method]
    doc = " ".join((coroutine_of(method).__doc__ or "").split())
    assert f"``{method}``" in doc  # names the wire method it sends
    assert f"Weight {info.weight_summary}; security {info.security}." in doc
    if info.deprecated:
        assert "deprecated" in doc
    if len(inspect.signature(coroutine_of(method)).parameters) > 1:  # more than self
        assert "InvalidParameter" in doc  # says what bad input raises


# --- parameters and results --------------------------------------------------------------


@pytest.mark.parametrize("method", documented_names())
def test_documented_request_parameters_are_keyword_arguments(method: str) -> None:
    """Every parameter of the documented request example is a snake_case keyword argument."""
    signature = inspect.signature(coroutine_of(method))
    accepted = set(signature.parameters) - {"self"}
    for parameter in signature.parameters.values():
        if parameter.name != "self":
            assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, parameter
    for request in next(e for e in documented() if e["method"] == method)["requests"]:
        for wire in set(request.get("params") or {}) - SIGNING_PARAMS:
            assert python_name(wire) in accepted, (method, wire)


@pytest.mark.parametrize("method", documented_names())
def test_declared_return_type_is_the_registered_result_type(method: str) -> None:
    assert declared_return(method) == METHOD_RESULTS[method]


def documented_results() -> list[tuple[str, int, Any]]:
    return [
        (entry["method"], index, frame["result"])
        for entry in documented()
        for index, frame in enumerate(entry["responses"])
        if "result" in frame
    ]


@pytest.mark.parametrize(("method", "index", "result"), documented_results())
def test_every_documented_result_decodes_into_the_declared_return_type(
    method: str, index: int, result: Any
) -> None:
    decoded = msgspec.json.decode(json.dumps(result).encode(), type=declared_return(method))
    assert decoded is not None
    if isinstance(result, list):
        assert isinstance(decoded, list)
        assert len(decoded) == len(result)


def test_the_docs_table_lists_every_method_as_the_catalogue_has_it() -> None:
    page = (Path(__file__).parent.parent / "docs" / "api-methods.md").read_text(encoding="utf-8")
    rows = {}
    for line in page.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`") and cells[1].startswith("`"):
            rows[cells[0].split("`")[1]] = cells
    assert list(rows) == documented_names()
    for method, (_, coroutine, _, security, weight) in rows.items():
        info = METHODS[method]
        assert coroutine == f"`{API_METHODS[method]}`"
        assert security.split()[0] == info.security
        assert weight == info.weight_summary
