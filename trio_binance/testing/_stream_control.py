"""Control messages of a market stream connection, read and answered without I/O
(web-socket-streams.md, "Live Subscribing/Unsubscribing to streams").

A request is ``{"method": ..., "params": [...], "id": ...}``; a success is
``{"result": ..., "id": ...}``; a refusal is the flat object of the "Error Messages" table,
``{"code": ..., "msg": ..., "id": ...}``. The table shows ``id`` on one row only; here a
refusal carries the request's ``id`` whenever the request had a valid one (a client can then
match every refusal to its request), and none when the id itself, or the JSON, was the
problem.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

import msgspec

RequestId: TypeAlias = int | str | None

METHODS: Final = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")
PROPERTIES: Final = ("combined",)
_INT64: Final = range(-(2**63), 2**63)
_MAX_STRING_ID: Final = 36
_METHOD_VALUE: Final = re.compile(r'"method"\s*:\s*("(?:[^"\\]|\\.)*"|[^,}\s]+)')


class _NoId:
    """The request's id could not be read: the refusal goes out without one."""

    def __repr__(self) -> str:
        return "NO_ID"


NO_ID: Final = _NoId()


@dataclass(frozen=True, slots=True)
class Control:
    """A well-formed control request."""

    method: str
    params: list[Any]
    id: RequestId


@dataclass(frozen=True, slots=True)
class Refusal:
    """A control request refused, with the code and message of the "Error Messages" table."""

    code: int
    msg: str
    id: RequestId | _NoId = NO_ID

    def frame(self) -> str:
        body: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if not isinstance(self.id, _NoId):
            body["id"] = self.id
        return msgspec.json.encode(body).decode()


def invalid_request(detail: str, request_id: RequestId | _NoId = NO_ID) -> Refusal:
    return Refusal(2, f"Invalid request: {detail}", request_id)


def reply(request_id: RequestId, result: Any = None) -> str:
    """A successful answer: ``result`` is null for SUBSCRIBE, UNSUBSCRIBE and SET_PROPERTY."""
    return msgspec.json.encode({"result": result, "id": request_id}).decode()


def read_control(text: str | bytes) -> Control | Refusal:
    """Read one control request, or the refusal it gets."""
    try:
        body = msgspec.json.decode(text)
    except msgspec.DecodeError:
        line, column = _json_error_position(text)
        return Refusal(3, f"Invalid JSON: expected value at line {line} column {column}")
    if not isinstance(body, dict):
        return invalid_request("expected a JSON object")
    source = text.decode(errors="replace") if isinstance(text, bytes) else text
    if "method" not in body:
        line, column = _end_position(source)
        return invalid_request(f"missing field `method` at line {line} column {column}")
    method = body["method"]
    if method not in METHODS:
        return _unknown_method(source, method)
    request_id = body.get("id", NO_ID)
    if not _valid_id(request_id):
        return invalid_request("request ID must be an unsigned integer")
    params = body.get("params")
    if params is None:
        params = []
    if not isinstance(params, list):
        return invalid_request("params must be an array", request_id)
    return _check_params(Control(method, params, request_id))


def _check_params(control: Control) -> Control | Refusal:
    """The parameter rules of each method ("Error Messages")."""
    method, params, request_id = control.method, control.params, control.id
    if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
        if not all(isinstance(name, str) for name in params):
            return invalid_request("invalid stream", request_id)
        return control
    if method == "LIST_SUBSCRIPTIONS":
        return invalid_request("too many parameters", request_id) if params else control
    most = 2 if method == "SET_PROPERTY" else 1
    if len(params) > most:
        return invalid_request("too many parameters", request_id)
    if not params or not isinstance(params[0], str):
        return invalid_request("property name must be a string", request_id)
    if params[0] not in PROPERTIES:
        return Refusal(0, "Unknown property", request_id)
    if method == "SET_PROPERTY" and (len(params) < 2 or not isinstance(params[1], bool)):
        return Refusal(1, "Invalid value type: expected Boolean", request_id)
    return control


def _valid_id(value: Any) -> bool:
    """The accepted id formats: a 64-bit signed integer, an alphanumeric string of at most
    36 characters, or null."""
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value in _INT64
    if isinstance(value, str):
        return 0 < len(value) <= _MAX_STRING_ID and value.isascii() and value.isalnum()
    return False


def _unknown_method(source: str, method: Any) -> Refusal:
    match = _METHOD_VALUE.search(source)
    shown = method if isinstance(method, str) else msgspec.json.encode(method).decode()
    line, column = _position(source, match.end(1)) if match else _end_position(source)
    expected = ", ".join(f"`{name}`" for name in METHODS)
    return invalid_request(
        f"unknown variant `{shown}`, expected one of {expected} at line {line} column {column}"
    )


def _json_error_position(text: str | bytes) -> tuple[int, int]:
    """Where a JSON parser stops on ``text`` (1-based line and column)."""
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return error.lineno, error.colno
    except (UnicodeDecodeError, RecursionError):
        pass
    return 1, 1


def _end_position(source: str) -> tuple[int, int]:
    return _position(source, len(source.rstrip()))


def _position(source: str, offset: int) -> tuple[int, int]:
    before = source[:offset]
    line = before.count("\n") + 1
    return line, offset - (before.rfind("\n") + 1)
