"""Every Python example in ``docs/**/*.md`` and ``README.md`` runs, against the local exchange.

The convention (written down for authors in docs/index.md, "Writing examples"):

* Every ```` ```python ```` block is executed. The blocks of one page share a namespace and
  run in page order, as a reader would type them: a block may use names an earlier block on
  the same page defined. Blocks run with ``__name__`` other than ``"__main__"``, so an
  ``if __name__ == "__main__": trio.run(...)`` tail is allowed and is not run.
* A block that defines ``async def main(url)`` is then awaited with the URL of a fresh local
  exchange; a block that defines ``async def main()`` (no parameters) is awaited as is -- it
  opens whatever it needs itself. Time is a mock clock that jumps ahead whenever every task
  waits, so ``trio.sleep`` and timeouts in examples cost no real time.
* A block that defines top-level ``test_*`` functions is a pytest file: it is run by pytest
  with pytest-trio in ``trio_mode`` and must pass.
* A block preceded by the line ``<!-- no-test -->`` is not run (nor used by later blocks).

Each example is one test, named by file and line of its opening fence. While an example
runs, resolving any host name fails the test: examples talk to the local exchange's
``ws://127.0.0.1:<port>`` URL and never reach the internet.
"""

from __future__ import annotations

import ast
import inspect
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from markdown_it import MarkdownIt

from trio_binance.testing import open_local_exchange

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
NO_TEST = "<!-- no-test -->"
PYTHON_FENCES = frozenset({"python", "py"})

# Pages whose examples do not follow the convention yet, with the exception they fail with
# today: such a failure is reported as xfail, any other failure fails. Each entry is a
# reported problem in a page this harness does not own; remove it once the page is fixed.
KNOWN_BROKEN: dict[str, tuple[type[BaseException], str]] = {}


@dataclass(frozen=True)
class Example:
    """One fenced Python block of a Markdown page."""

    page: str
    """The page's path relative to the project root, with forward slashes."""
    line: int
    """1-based line of the opening fence."""
    source: str
    runnable: bool
    """False for a block marked ``<!-- no-test -->``."""

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"

    def compile(self) -> Any:
        """The block as a code object whose line numbers are the page's line numbers."""
        tree = ast.parse(self.source, filename=self.page)
        ast.increment_lineno(tree, self.line)
        return compile(tree, self.page, "exec")

    @property
    def test_names(self) -> list[str]:
        """The top-level ``test_*`` functions the block defines."""
        return [
            node.name
            for node in ast.parse(self.source).body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name.startswith("test_")
        ]

    @property
    def defines_tests(self) -> bool:
        return bool(self.test_names)


def examples_in(page: str, text: str) -> list[Example]:
    """The Python blocks of one Markdown page, in page order."""
    found = []
    previous = None
    for token in MarkdownIt("commonmark").parse(text):
        if token.type == "fence" and token.map is not None:
            language = token.info.split(maxsplit=1)[0] if token.info.strip() else ""
            if language in PYTHON_FENCES:
                skip = (
                    previous is not None
                    and previous.type == "html_block"
                    and previous.content.strip() == NO_TEST
                )
                found.append(Example(page, token.map[0] + 1, token.content, not skip))
        previous = token
    return found


def collect_examples() -> list[Example]:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    examples = []
    for path in pages:
        if "_build" in path.relative_to(ROOT).parts:
            continue
        page = path.relative_to(ROOT).as_posix()
        examples.extend(examples_in(page, path.read_text(encoding="utf-8")))
    return examples


EXAMPLES = collect_examples()
RUNNABLE = [example for example in EXAMPLES if example.runnable]
SCRIPTS = [example for example in RUNNABLE if not example.defines_tests]
TEST_FILES = [example for example in RUNNABLE if example.defines_tests]


class ReachedForTheNetwork(AssertionError):
    """An example tried to resolve a host name: it would have left the machine."""


_getaddrinfo = socket.getaddrinfo


def numeric_hosts_only(  # noqa: PLR0917 - the signature of socket.getaddrinfo
    host: bytes | str | None,
    port: bytes | str | int | None,
    family: int = 0,
    type: int = 0,
    proto: int = 0,
    flags: int = 0,
) -> Any:
    """``socket.getaddrinfo`` that refuses name lookups (trio tries numeric hosts first)."""
    if not flags & socket.AI_NUMERICHOST:
        raise ReachedForTheNetwork(
            f"an example tried to resolve {host!r}: examples must use the URL they are given"
        )
    return _getaddrinfo(host, port, family, type, proto, flags)


# Written next to a pytest example, so that it cannot resolve host names either.
CONFTEST = """\
import socket

import pytest

_getaddrinfo = socket.getaddrinfo


def numeric_hosts_only(host, port, family=0, type=0, proto=0, flags=0):
    if not flags & socket.AI_NUMERICHOST:
        raise AssertionError(f"an example tried to resolve {host!r}")
    return _getaddrinfo(host, port, family, type, proto, flags)


@pytest.fixture(autouse=True)
def _no_host_names(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", numeric_hosts_only)
"""


@pytest.fixture
def no_host_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", numeric_hosts_only)


def namespace_before(example: Example, examples: list[Example]) -> dict[str, Any]:
    """A fresh namespace in which the page's runnable blocks before ``example`` have run."""
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    for earlier in examples:
        if earlier.page == example.page and earlier.line < example.line and earlier.runnable:
            exec(earlier.compile(), namespace)
    return namespace


async def run_example(example: Example, examples: list[Example]) -> None:
    """Execute ``example`` after its page's earlier blocks; await its ``main`` if it has one."""
    namespace = namespace_before(example, examples)
    earlier_main = namespace.get("main")
    exec(example.compile(), namespace)
    main: Callable[..., Awaitable[None]] | None = namespace.get("main")
    if main is None or main is earlier_main:
        return
    assert inspect.iscoroutinefunction(main), f"{example.id}: main must be an async def"
    parameters = inspect.signature(main).parameters
    if not parameters:
        await main()
        return
    assert list(parameters) == ["url"], f"{example.id}: main takes (url) or nothing"
    async with open_local_exchange() as exchange:
        await main(exchange.url)


def test_examples_are_found() -> None:
    pages = {example.page for example in RUNNABLE}
    assert "docs/quickstart.md" in pages
    assert "docs/concepts/testing-with-the-local-exchange.md" in pages
    assert TEST_FILES, "the testing page shows at least one pytest example"
    skipped = [example.id for example in EXAMPLES if not example.runnable]
    assert len(skipped) <= 2, f"skips must stay rare: {skipped}"


@pytest.mark.parametrize("example", SCRIPTS, ids=[example.id for example in SCRIPTS])
async def test_example(
    example: Example, autojump_clock: trio.testing.MockClock, no_host_names: None
) -> None:
    known = KNOWN_BROKEN.get(example.page)
    if known is None:
        await run_example(example, EXAMPLES)
        return
    expected, reason = known
    try:
        await run_example(example, EXAMPLES)
    except expected:
        pytest.xfail(reason)


@pytest.mark.parametrize("example", TEST_FILES, ids=[example.id for example in TEST_FILES])
def test_pytest_example(example: Example, pytester: pytest.Pytester) -> None:
    # Blank lines first, so a failure's line numbers are the page's.
    (pytester.path / "conftest.py").write_text(CONFTEST)
    (pytester.path / "test_example.py").write_text("\n" * example.line + example.source)
    # trio_binance's own pytest plugin (its fixtures) loads as it would for a user.
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "-o", "trio_mode=true", "-W", "error"
    )
    result.assert_outcomes(passed=len(example.test_names))


# --- the harness itself ------------------------------------------------------------------

PAGE = """\
# A page

```python
VALUE = 41
```

<!-- no-test -->
```python
raise AssertionError("skipped blocks never run")
```

Text.

```python
async def main(url: str) -> None:
    assert VALUE + 1 == 42
    raise LookupError(url)
```

```py
raise ValueError("a failing example fails its test")
```

```console
$ not python
```
"""


def test_harness_finds_blocks_with_lines_and_marks() -> None:
    examples = examples_in("page.md", PAGE)
    assert [(example.line, example.runnable) for example in examples] == [
        (3, True),
        (8, False),
        (14, True),
        (20, True),
    ]
    assert examples[0].id == "page.md:3"
    assert examples[0].source == "VALUE = 41\n"


async def test_harness_awaits_main_with_a_local_exchange_url(
    autojump_clock: trio.testing.MockClock,
) -> None:
    examples = examples_in("page.md", PAGE)
    # LookupError comes from main: it ran, after the first block and without the skipped one.
    with pytest.raises(LookupError, match=r"^ws://127\.0\.0\.1:\d+/ws-api/v3$"):
        await run_example(examples[2], examples)
    # A later block that does not define main does not run the earlier one again.
    later = Example("page.md", 40, "AFTER = VALUE\n", True)
    await run_example(later, [*examples[:3], later])


async def test_harness_awaits_main_without_parameters() -> None:
    example = Example("page.md", 1, "async def main() -> None:\n    raise LookupError\n", True)
    with pytest.raises(LookupError):
        await run_example(example, [example])


async def test_harness_refuses_other_main_signatures() -> None:
    example = Example("page.md", 1, "async def main(address: str) -> None: ...\n", True)
    with pytest.raises(AssertionError, match="main takes"):
        await run_example(example, [example])
    example = Example("page.md", 1, "def main() -> None: ...\n", True)
    with pytest.raises(AssertionError, match="must be an async def"):
        await run_example(example, [example])


async def test_harness_reports_the_page_line_of_a_failure() -> None:
    examples = examples_in("page.md", PAGE)
    with pytest.raises(ValueError, match="a failing example") as caught:
        await run_example(examples[3], examples)
    assert caught.traceback[-1].lineno + 1 == 21  # pytest's lineno is 0-based
    assert str(caught.traceback[-1].path) == "page.md"


def leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside ``exc``, through exception groups and ``__cause__``."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaves(inner)]
    return [exc, *(leaves(exc.__cause__) if exc.__cause__ is not None else [])]


async def test_harness_refuses_host_names(no_host_names: None) -> None:
    source = (
        "import trio_binance\n"
        "async def main() -> None:\n"
        "    async with trio_binance.connect(trio_binance.TESTNET):\n"
        "        pass\n"
    )
    example = Example("page.md", 1, source, True)
    with pytest.raises(BaseException) as caught:  # noqa: PT011 - searched below
        await run_example(example, [example])
    refusals = [str(exc) for exc in leaves(caught.value) if isinstance(exc, ReachedForTheNetwork)]
    assert len(refusals) == 1
    assert "an example tried to resolve b'ws-api.testnet.binance.vision'" in refusals[0]


def test_harness_refuses_host_names_in_pytest_examples(pytester: pytest.Pytester) -> None:
    (pytester.path / "conftest.py").write_text(CONFTEST)
    (pytester.path / "test_example.py").write_text(
        "import trio\n"
        "async def test_lookup() -> None:\n"
        "    await trio.socket.getaddrinfo('example.com', 443)\n"
    )
    result = pytester.runpytest_inprocess("-o", "trio_mode=true")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*an example tried to resolve*example.com*"])


def test_harness_tells_pytest_files_apart() -> None:
    assert Example("p.md", 1, "async def test_x() -> None: ...\n", True).defines_tests
    assert not Example("p.md", 1, "async def main() -> None: ...\n", True).defines_tests
