"""Extract test fixtures and generated modules from the upstream Binance Spot docs.

Usage: ``python scripts/extract_spec_fixtures.py [SPEC_DIR] [--output-root DIR]``

SPEC_DIR defaults to ``../shared/spec`` relative to the repository root; the output root
defaults to the repository root. The script (re)writes:

* ``tests/fixtures/spec/{methods,errors,user_data_events,stream_events,enums,filters}.json``
* ``trio_binance/_error_codes.py`` (``ErrorCode``) and
  ``trio_binance/testing/_error_messages.py`` (``ERROR_MESSAGES``), both from ``errors.md``.

Doc examples are JavaScript-flavoured JSON: ``//`` comments, trailing commas and bare ``%s``
placeholders are repaired before ``json.loads``. Blocks that still do not parse are listed in
the printed summary, never dropped silently. Output is deterministic: same docs, same bytes.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC_DIR = REPO_ROOT.parent / "shared" / "spec"
FIXTURE_DIR = Path("tests/fixtures/spec")
ERROR_CODES_MODULE = Path("trio_binance/_error_codes.py")
ERROR_MESSAGES_MODULE = Path("trio_binance/testing/_error_messages.py")

EXAMPLE_LANGUAGES = frozenset({"json", "javascript"})
# web-socket-api.md "Request security": the security types shown next to a method's name.
SECURITY_TYPES = ("TRADE", "USER_DATA", "USER_STREAM")
METHOD_SECTIONS = (
    "General requests",
    "Market data requests",
    "Authentication requests",
    "Trading requests",
    "Account requests",
    "User Data Stream requests",
)
UPPER_SNAKE = re.compile(r"[A-Z][A-Z0-9_]*")

JSONValue = Any  # what json.loads returns; the fixtures are plain JSON data


# --- Markdown: sections and fenced blocks ------------------------------------------------


@dataclass
class Block:
    """One fenced code block, with the text line that introduces it."""

    file: str
    line: int
    lang: str
    source: str
    label: str


@dataclass
class Section:
    """The lines under one heading, up to the next heading of any level."""

    level: int
    title: str
    path: tuple[str, ...]  # titles of the enclosing headings, outermost first
    lines: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)

    def within(self, ancestor: str) -> bool:
        return ancestor in self.path


HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$")
FENCE_OPEN = re.compile(r"^\s*```(\w*)\s*$")
FENCE_CLOSE = re.compile(r"^\s*```\s*$")


def read_sections(path: Path) -> list[Section]:
    """Split a markdown file into sections; headings inside code fences are not headings."""
    lines = path.read_text(encoding="utf-8").splitlines()
    sections = [Section(0, "", ())]
    stack: list[tuple[int, str]] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        fence = FENCE_OPEN.match(line)
        if fence:
            end = _fence_end(lines, index)
            label = _last_text_line(sections[-1].lines)
            source = "\n".join(lines[index + 1 : end])
            sections[-1].blocks.append(Block(path.name, index + 1, fence[1], source, label))
            sections[-1].lines.append("```")  # marks where a block interrupted the text
            index = end + 1
            continue
        heading = HEADING.match(line)
        if heading:
            level, title = len(heading[1]), heading[2]
            stack = [(lvl, ttl) for lvl, ttl in stack if lvl < level]
            sections.append(Section(level, title, tuple(ttl for _, ttl in stack)))
            stack.append((level, title))
        else:
            sections[-1].lines.append(line)
        index += 1
    return sections


def _fence_end(lines: list[str], start: int) -> int:
    for index in range(start + 1, len(lines)):
        if FENCE_CLOSE.match(lines[index]):
            return index
    raise ValueError(f"unclosed code fence at line {start + 1}")


def _last_text_line(lines: list[str]) -> str:
    for line in reversed(lines):
        if line.strip():
            return line.strip()
    return ""


def normalise_space(text: str) -> str:
    return " ".join(text.split())


def unescape_markdown(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


# --- Lenient JSON for doc examples -------------------------------------------------------


class UnparsedBlock(Exception):
    """A documented example that is not JSON even after the usual repairs."""


def strip_js_extras(source: str) -> str:
    """Drop ``//`` comments and trailing commas and quote bare ``%s``, outside strings only."""
    out: list[str] = []
    index, in_string = 0, False
    while index < len(source):
        char = source[index]
        if in_string:
            out.append(char)
            if char == "\\":
                out.append(source[index + 1 : index + 2])
                index += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            out.append(char)
        elif source.startswith("//", index):
            index = _end_of_line(source, index) - 1
        elif char == "," and _next_significant(source, index + 1) in ("}", "]"):
            pass  # trailing comma
        elif source.startswith("%s", index):
            out.append('"%s"')  # errors and streams docs use %s as a value placeholder
            index += 1
        else:
            out.append(char)
        index += 1
    return "".join(out)


def _end_of_line(source: str, index: int) -> int:
    end = source.find("\n", index)
    return len(source) if end < 0 else end


def _next_significant(source: str, index: int) -> str:
    """The next character that is neither whitespace nor inside a ``//`` comment."""
    while index < len(source):
        if source[index].isspace():
            index += 1
        elif source.startswith("//", index):
            index = _end_of_line(source, index)
        else:
            return source[index]
    return ""


def _exact_float(text: str) -> float:
    value = float(text)
    if repr(value) != text:  # the fixture would not reproduce the documented number
        raise UnparsedBlock(f"float literal {text} does not round-trip")
    return value


def parse_example(source: str) -> JSONValue:
    try:
        return json.loads(strip_js_extras(source), parse_float=_exact_float)
    except json.JSONDecodeError as exc:
        raise UnparsedBlock(f"not JSON: {exc.msg} (line {exc.lineno})") from exc


# An object or array whose only content is comments, e.g. ``{ // Same as <symbol>@ticker }``.
PLACEHOLDER = re.compile(r"[{\[]\s*(?://[^\n]*\n\s*)+[}\]]")


def is_placeholder(source: str) -> bool:
    return PLACEHOLDER.search(source) is not None


@dataclass
class Report:
    """What the run parsed, what it could not parse, and what it did not use."""

    parsed: int = 0
    placeholders: list[str] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)
    unused: dict[str, int] = field(default_factory=dict)

    def examples(self, blocks: Iterable[Block]) -> Iterator[tuple[Block, JSONValue]]:
        """Parse the JSON example blocks, recording the ones that fail."""
        for block in blocks:
            if block.lang not in EXAMPLE_LANGUAGES:
                continue
            try:
                value = parse_example(block.source)
            except UnparsedBlock as exc:
                self.unparsed.append(f"{block.file}:{block.line} ({block.lang}): {exc}")
                continue
            self.parsed += 1
            if is_placeholder(block.source):
                self.placeholders.append(f"{block.file}:{block.line}")
            yield block, value

    def skip(self, blocks: Iterable[Block]) -> None:
        """Count example blocks of sections no fixture is drawn from, still checking they parse."""
        for block, _ in self.examples(blocks):
            self.note_unused(block.file, 1)

    def note_unused(self, file: str, count: int) -> None:
        if count:
            self.unused[file] = self.unused.get(file, 0) + count


# --- web-socket-api.md: methods ----------------------------------------------------------

TITLE_TAG = re.compile(r"\(([A-Z_]+)\)\s*$")
WEIGHT_LABEL = re.compile(r"^\*\*Weight:?\*\*:?\s*(.*)$")
TABLE_RULE = re.compile(r"^[\s|:\-]+$")
PARAGRAPH_END = ("**", "```", "<a id", "<details")


def extract_methods(spec: Path, report: Report) -> list[dict[str, JSONValue]]:
    methods: list[dict[str, JSONValue]] = []
    for section in read_sections(spec / "web-socket-api.md"):
        if not section.within("Public API requests"):
            report.skip(section.blocks)
            continue
        examples = [value for _, value in report.examples(section.blocks)]
        method = _method_entry(section, examples, report)
        if method is not None:
            methods.append(method)
    return methods


def _method_entry(
    section: Section, examples: list[JSONValue], report: Report
) -> dict[str, JSONValue] | None:
    """The method documented by ``section``, or None for a grouping heading without one."""
    kinds = [_example_kind(value) for value in examples]
    requests = [value for value, kind in zip(examples, kinds, strict=True) if kind == "request"]
    if not requests:
        report.note_unused("web-socket-api.md", len(examples))
        return None
    responses = [value for value, kind in zip(examples, kinds, strict=True) if kind == "response"]
    others = [value for value, kind in zip(examples, kinds, strict=True) if kind == "other"]
    tag = TITLE_TAG.search(section.title)
    text = "\n".join([section.title, *section.lines])
    return {
        "method": requests[0]["method"],
        "title": section.title,
        "section": next(title for title in section.path if title in METHOD_SECTIONS),
        # "If unspecified, the security type is NONE" (web-socket-api.md, Request security).
        "security": tag[1] if tag and tag[1] in SECURITY_TYPES else "NONE",
        # session.logon is tagged (SIGNED) without a security type; its example is signed.
        "signed": any("signature" in request.get("params", {}) for request in requests),
        "weight": weight_text(section.lines),
        "deprecated": re.search(r"\bdeprecated\b", text, re.IGNORECASE) is not None,
        "requests": requests,
        "responses": responses,
        "other_examples": others,
    }


def _example_kind(value: JSONValue) -> str:
    """Request frames name a method, response frames carry a status; the rest illustrate."""
    if isinstance(value, dict) and "method" in value:
        return "request"
    if isinstance(value, dict) and "status" in value:
        return "response"
    return "other"


def weight_text(lines: list[str]) -> str:
    """The Weight paragraph (a number, a sentence or a table), whitespace-normalised."""
    for index, line in enumerate(lines):
        label = WEIGHT_LABEL.match(line.strip())
        if label is None:
            continue
        parts = [label[1]]
        for following in lines[index + 1 :]:
            if following.strip().startswith(PARAGRAPH_END):
                break
            if not TABLE_RULE.match(following):
                parts.append(following)
        return normalise_space(" ".join(parts))
    return ""


# --- CHANGELOG.md: methods removed from the WebSocket API --------------------------------

CHANGELOG_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NO_LONGER_AVAILABLE = re.compile(r"no longer be available starting from \*\*(\d{4}-\d{2}-\d{2})")
BULLET_CODE = re.compile(r"^\s*[*-]\s+`([^`]+)`\s*$")


def extract_retired(spec: Path) -> list[dict[str, str]]:
    """Methods the CHANGELOG announces as no longer available on the WebSocket API."""
    retired = []
    for section in read_sections(spec / "CHANGELOG.md"):
        if not CHANGELOG_DATE.match(section.title):
            continue
        text = "\n".join(section.lines)
        announcement = NO_LONGER_AVAILABLE.search(text)
        if announcement is None:
            continue
        for method in _websocket_api_list(section.lines):
            retired.append(
                {"method": method, "announced": section.title, "unavailable_from": announcement[1]}
            )
    return sorted(retired, key=lambda entry: entry["method"])


def _websocket_api_list(lines: list[str]) -> list[str]:
    """The backticked bullet items that follow a ``WebSocket API`` line."""
    names: list[str] = []
    in_list = False
    for line in lines:
        if line.strip() == "WebSocket API":
            in_list = True
        elif in_list and (bullet := BULLET_CODE.match(line)):
            names.append(bullet[1])
        elif in_list and line.strip():
            in_list = False
    return names


# --- errors.md ---------------------------------------------------------------------------

ERROR_HEADING = re.compile(r"^(-\d+)\s+(.+)$")
BULLET = re.compile(r"^\s*\*\s+(.*\S)\s*$")
CODE_AND_NAME = re.compile(r"(-\d+) ([A-Z][A-Z0-9_]+)")


def extract_errors(
    spec: Path, observed: dict[int, list[str]], report: Report
) -> dict[str, JSONValue]:
    sections = read_sections(spec / "errors.md")
    for section in sections:
        report.skip(section.blocks)  # the one block shows the payload shape, not a code
    errors = [_error_entry(section, observed) for section in sections if _is_error(section)]
    known = {entry["code"] for entry in errors}
    errors += _codes_named_only_in_headings(sections, known, observed)
    _disambiguate_names(errors)
    return {
        "errors": sorted(errors, key=lambda entry: -entry["code"]),
        "order_rejection_messages": _message_table(sections, "Messages for -1010"),
        "filter_failure_messages": _message_table(sections, "Filter failures"),
    }


def _is_error(section: Section) -> bool:
    return section.level == 3 and ERROR_HEADING.match(section.title) is not None


def _error_entry(section: Section, observed: dict[int, list[str]]) -> dict[str, JSONValue]:
    heading = ERROR_HEADING.match(section.title)
    assert heading is not None
    code, title = int(heading[1]), heading[2]
    bullets = [bullet[1] for line in section.lines if (bullet := BULLET.match(line))]
    entry: dict[str, JSONValue] = {"code": code, "name": title, "title": title}
    if UPPER_SNAKE.fullmatch(title) is None:
        # The cancelReplace codes (-2021, -2022) carry their message in the heading and
        # describe the code in the bullets; the WebSocket API examples show the exact text.
        entry["name"] = re.sub(r"[^A-Z0-9]+", "_", title.upper()).strip("_")
        entry["description"] = " ".join(bullets)
        bullets = observed.get(code) or [title]
    entry["section"] = section.path[-1]
    entry["messages"] = bullets
    entry["observed_messages"] = observed.get(code, [])
    return entry


def _codes_named_only_in_headings(
    sections: list[Section], known: set[int], observed: dict[int, list[str]]
) -> list[dict[str, JSONValue]]:
    """Codes such as -1010 that errors.md names only in a section heading."""
    entries = []
    for section in sections:
        for code_text, name in CODE_AND_NAME.findall(section.title):
            if int(code_text) not in known and not _is_error(section):
                known.add(int(code_text))
                entries.append(
                    {
                        "code": int(code_text),
                        "name": name,
                        "title": name,
                        "section": section.title,
                        "messages": [],
                        "observed_messages": observed.get(int(code_text), []),
                    }
                )
    return entries


def _disambiguate_names(errors: list[dict[str, JSONValue]]) -> None:
    """Give every code a distinct member name; a repeated name gets its code appended."""
    counts: dict[str, int] = {}
    for entry in errors:
        counts[entry["name"]] = counts.get(entry["name"], 0) + 1
    for entry in errors:
        if counts[entry["name"]] > 1:
            entry["name"] = f"{entry['name']}_{abs(entry['code'])}"


def _message_table(sections: list[Section], title_prefix: str) -> dict[str, str]:
    """A two-column ``Error message | Description`` table, message -> description."""
    section = next(section for section in sections if section.title.startswith(title_prefix))
    table: dict[str, str] = {}
    for line in section.lines:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if "|" not in line or len(cells) < 2 or TABLE_RULE.match(line):
            continue
        if cells[0] in ("Error message", "Error Message"):
            continue
        for message in _quoted_messages(cells[0]):
            table[message] = cells[1]
    return table


def _quoted_messages(cell: str) -> list[str]:
    """``"A." / "B."`` holds two messages; a few cells lack quotes or a closing quote."""
    quoted = re.findall(r'"([^"]*)"', cell)
    return quoted if quoted else [cell.strip('"')]


def observed_error_messages(methods: list[dict[str, JSONValue]]) -> dict[int, list[str]]:
    """Distinct ``{"code", "msg"}`` texts found anywhere in the method examples."""
    observed: dict[int, list[str]] = {}
    for method in methods:
        for example in [*method["responses"], *method["other_examples"]]:
            for code, msg in _error_objects(example):
                messages = observed.setdefault(code, [])
                if msg not in messages:
                    messages.append(msg)
    return observed


def _error_objects(value: JSONValue) -> Iterator[tuple[int, str]]:
    if isinstance(value, dict):
        if isinstance(value.get("code"), int) and isinstance(value.get("msg"), str):
            yield value["code"], value["msg"]
        for child in value.values():
            yield from _error_objects(child)
    elif isinstance(value, list):
        for child in value:
            yield from _error_objects(child)


# --- user-data-stream.md -----------------------------------------------------------------


def extract_user_data_events(spec: Path, report: Report) -> list[dict[str, JSONValue]]:
    events = []
    title = ""
    for section in read_sections(spec / "user-data-stream.md"):
        if section.level <= 3:
            title = section.title  # h4 subsections (reject/expiry reasons) belong to their h3
        for _, value in report.examples(section.blocks):
            is_frame = isinstance(value, dict) and set(value) == {"subscriptionId", "event"}
            event = value["event"] if is_frame else value
            events.append(
                {
                    "event_type": event["e"],
                    "title": title,
                    "frame": value if is_frame else None,
                    "event": event,
                }
            )
    return events


# --- web-socket-streams.md ---------------------------------------------------------------

STREAM_NAME = re.compile(r"^\*\*Stream Names?:?\*\*:?\s*(.+)$")
CONTROL_SECTION = "Live Subscribing/Unsubscribing to streams"


def extract_stream_events(spec: Path, report: Report) -> dict[str, JSONValue]:
    payloads: list[dict[str, JSONValue]] = []
    control: list[dict[str, JSONValue]] = []
    for section in read_sections(spec / "web-socket-streams.md"):
        if section.within(CONTROL_SECTION):
            control += _control_messages(section, report)
        elif section.within("Detailed Stream information") or section.title == "Server Shutdown":
            payloads += _stream_payloads(section, report)
        else:
            report.skip(section.blocks)
    return {"streams": payloads, "control_messages": control}


def _stream_payloads(section: Section, report: Report) -> list[dict[str, JSONValue]]:
    stream_name = _stream_name(section.lines)
    entries = []
    for block, value in report.examples(section.blocks):
        combined = isinstance(value, dict) and set(value) == {"stream", "data"}
        entries.append(
            {
                "title": section.title,
                "stream_name": stream_name,
                "combined": combined,
                "placeholder": is_placeholder(block.source),
                "payload": value,
            }
        )
    return entries


def _stream_name(lines: list[str]) -> str | None:
    for line in lines:
        match = STREAM_NAME.match(line.strip())
        if match:
            return unescape_markdown(match[1].strip())
    return None


def _control_messages(section: Section, report: Report) -> list[dict[str, JSONValue]]:
    messages: list[dict[str, JSONValue]] = []
    for _, value in report.examples(section.blocks):
        kind = "request" if isinstance(value, dict) and "method" in value else "response"
        messages.append({"title": section.title, "kind": kind, "frame": value})
    for line in section.lines:
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) == 2 and cells[0].startswith("{"):
            try:
                frame = parse_example(cells[0])
            except UnparsedBlock as exc:
                report.unparsed.append(f"web-socket-streams.md error table {cells[0]!r}: {exc}")
                continue
            messages.append(
                {"title": section.title, "kind": "error", "frame": frame, "description": cells[1]}
            )
    return messages


# --- enums.md and filters.md -------------------------------------------------------------

ENUM_BULLET = re.compile(r"^\s*\*\s+`?([A-Z][A-Z0-9_]*)`?\s*$")
ENUM_ROW = re.compile(r"^\s*`([A-Z][A-Z0-9_]*)`\s*\|")


def extract_enums(spec: Path, report: Report) -> dict[str, list[str]]:
    enums: dict[str, list[str]] = {}
    for section in read_sections(spec / "enums.md"):
        report.skip(section.blocks)  # the rate limiter examples illustrate, they are not values
        values = [
            match[1]
            for line in section.lines
            if (match := ENUM_BULLET.match(line) or ENUM_ROW.match(line))
        ]
        if values:
            enums[section.title.rstrip(":").strip()] = values
    return dict(sorted(enums.items()))


FILTER_GROUPS = {
    "Symbol filters": "symbol_filters",
    "Exchange Filters": "exchange_filters",
    "Asset Filters": "asset_filters",
}


def extract_filters(spec: Path, report: Report) -> dict[str, dict[str, JSONValue]]:
    filters: dict[str, dict[str, JSONValue]] = {key: {} for key in FILTER_GROUPS.values()}
    for section in read_sections(spec / "filters.md"):
        group = next((FILTER_GROUPS[t] for t in section.path if t in FILTER_GROUPS), None)
        examples = [value for _, value in report.examples(section.blocks)]
        if group is not None and examples:
            filters[group][section.title] = examples[0]
    return {group: dict(sorted(found.items())) for group, found in filters.items()}


# --- Generated Python modules ------------------------------------------------------------

GENERATED_NOTICE = (
    "Generated by scripts/extract_spec_fixtures.py from errors.md; do not edit by hand:\n"
    "change the script or the docs and run it again."
)


def render_error_codes(errors: list[dict[str, JSONValue]]) -> str:
    lines = [
        '"""Error codes of the Binance Spot API, as listed in errors.md.',
        "",
        GENERATED_NOTICE,
        '"""',
        "",
        "import enum",
        "",
        "",
        "class ErrorCode(enum.IntEnum):",
        '    """The ``code`` of a Binance error response, named as errors.md names it."""',
    ]
    for entry in errors:
        first = entry["messages"][0] if entry["messages"] else _no_message_note(entry)
        lines += ["", f"    {entry['name']} = {entry['code']}", *_docstring(first, indent=4)]
    return "\n".join(lines) + "\n"


def _no_message_note(entry: dict[str, JSONValue]) -> str:
    return f"Sent with a message from the errors.md table {entry['section']!r}."


def _docstring(text: str, indent: int) -> list[str]:
    escaped = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if escaped.endswith('"'):
        escaped = escaped[:-1] + '\\"'
    pad = " " * indent
    wrapped = textwrap.wrap(escaped, width=100 - indent - 6, break_on_hyphens=False)
    wrapped[0] = '"""' + wrapped[0]
    wrapped[-1] += '"""'
    return [pad + wrapped[0], *(pad + line for line in wrapped[1:])]


def render_error_messages(errors_doc: dict[str, JSONValue]) -> str:
    lines = [
        '"""Binance error messages, exactly as errors.md writes them, for the local exchange.',
        "",
        GENERATED_NOTICE,
        '"""',
        "",
        "from collections.abc import Mapping",
        "from types import MappingProxyType",
        "",
        "ERROR_MESSAGES: Mapping[int, tuple[str, ...]] = MappingProxyType(",
        "    {",
    ]
    for entry in errors_doc["errors"]:
        if entry["messages"]:
            lines += _tuple_item(f"{entry['code']}: ", entry["messages"], indent=8)
    lines += [
        "    }",
        ")",
        '"""Code -> the messages errors.md lists for it, in its order."""',
        "",
        "ORDER_REJECTION_MESSAGES: tuple[str, ...] = (",
        *_string_items(list(errors_doc["order_rejection_messages"]), indent=4),
        ")",
        '"""Matching-engine messages sent with -1010, -2010, -2011 and -2038 (errors.md)."""',
        "",
        "FILTER_FAILURE_MESSAGES: tuple[str, ...] = (",
        *_string_items(list(errors_doc["filter_failure_messages"]), indent=4),
        ")",
        '"""``Filter failure: <FILTER>`` messages (errors.md, "Filter failures")."""',
        "",
        "",
        "def error_message(code: int, index: int = 0) -> str:",
        '    """The ``index``-th documented message for ``code``.',
        "",
        "    Raises ``KeyError`` for a code errors.md gives no message and ``IndexError`` for an",
        "    index past its messages.",
        '    """',
        "    messages = ERROR_MESSAGES.get(code)",
        "    if messages is None:",
        '        raise KeyError(f"errors.md documents no message for error code {code}")',
        "    if not 0 <= index < len(messages):",
        "        raise IndexError(",
        '            f"error code {code} has {len(messages)} documented messages,'
        ' no index {index}"',
        "        )",
        "    return messages[index]",
    ]
    return "\n".join(lines) + "\n"


def _tuple_item(key: str, messages: list[str], indent: int) -> list[str]:
    """``key: ("a",),`` on one line when it fits, else one message per line."""
    pad = " " * indent
    if len(messages) == 1:
        one_line = f"{pad}{key}({_literal(messages[0])},),"
        if len(one_line) <= 100:
            return [one_line]
    return [f"{pad}{key}(", *_string_items(messages, indent + 4), f"{pad}),"]


def _string_items(messages: list[str], indent: int) -> list[str]:
    lines: list[str] = []
    for message in messages:
        pieces = _split_for_width(message, 100 - indent - 1)  # room for the comma
        lines += [" " * indent + _literal(piece) for piece in pieces]
        lines[-1] += ","
    return lines


def _split_for_width(text: str, width: int) -> list[str]:
    """Cut at spaces into pieces whose literals fit ``width``; joined they give ``text``."""
    if len(_literal(text)) <= width:
        return [text]  # ruff format joins pieces that fit on one line
    pieces = [""]
    for word in re.split(r"(?<= )", text):
        if pieces[-1] and len(_literal(pieces[-1] + word)) > width:
            pieces.append("")
        pieces[-1] += word
    return pieces


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- Output ------------------------------------------------------------------------------


def dump_json(value: JSONValue) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def build_outputs(spec: Path, report: Report) -> dict[Path, str]:
    methods = extract_methods(spec, report)
    errors = extract_errors(spec, observed_error_messages(methods), report)
    methods_doc = {"methods": methods, "retired": extract_retired(spec)}
    return {
        FIXTURE_DIR / "methods.json": dump_json(methods_doc),
        FIXTURE_DIR / "errors.json": dump_json(errors),
        FIXTURE_DIR / "user_data_events.json": dump_json(extract_user_data_events(spec, report)),
        FIXTURE_DIR / "stream_events.json": dump_json(extract_stream_events(spec, report)),
        FIXTURE_DIR / "enums.json": dump_json(extract_enums(spec, report)),
        FIXTURE_DIR / "filters.json": dump_json(extract_filters(spec, report)),
        ERROR_CODES_MODULE: render_error_codes(errors["errors"]),
        ERROR_MESSAGES_MODULE: render_error_messages(errors),
    }


def print_summary(outputs: dict[Path, str], report: Report) -> None:
    methods = json.loads(outputs[FIXTURE_DIR / "methods.json"])
    errors = json.loads(outputs[FIXTURE_DIR / "errors.json"])
    requests = sum(len(method["requests"]) for method in methods["methods"])
    responses = sum(len(method["responses"]) for method in methods["methods"])
    print(f"methods: {len(methods['methods'])} ({requests} requests, {responses} responses)")
    print(f"retired methods: {', '.join(m['method'] for m in methods['retired']) or 'none'}")
    print(f"error codes: {len(errors['errors'])}")
    print(f"example blocks parsed: {report.parsed}")
    for file, count in sorted(report.unused.items()):
        print(f"  {count} parsed blocks in {file} are in sections no fixture uses")
    print(f"placeholder examples (comment-only objects): {len(report.placeholders)}")
    for where in report.placeholders:
        print(f"  {where}")
    print(f"unparsed example blocks: {len(report.unparsed)}")
    for problem in report.unparsed:
        print(f"  {problem}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("spec_dir", nargs="?", type=Path, default=DEFAULT_SPEC_DIR)
    parser.add_argument("--output-root", type=Path, default=REPO_ROOT)
    args = parser.parse_args(argv)
    if not (args.spec_dir / "web-socket-api.md").is_file():
        parser.error(f"no Binance spec in {args.spec_dir}")
    report = Report()
    outputs = build_outputs(args.spec_dir, report)
    for relative, text in outputs.items():
        target = args.output_root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    print_summary(outputs, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
