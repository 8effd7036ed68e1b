"""Stream names and control messages as the local exchange reads them (no I/O), and the
activity generator's determinism."""

from __future__ import annotations

import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from trio_binance.testing import LocalExchange, MarketActivity, open_local_exchange
from trio_binance.testing.__main__ import describe
from trio_binance.testing._stream_control import Control, Refusal, read_control
from trio_binance.testing._stream_names import Kind, parse_stream


@pytest.mark.parametrize(
    ("name", "kind", "symbol", "detail"),
    [
        ("btcusdt@trade", Kind.TRADE, "BTCUSDT", {}),
        ("btcusdt@aggTrade", Kind.AGG_TRADE, "BTCUSDT", {}),
        ("btcusdt@blockTrade", Kind.BLOCK_TRADE, "BTCUSDT", {}),
        ("btcusdt@kline_1M", Kind.KLINE, "BTCUSDT", {"interval": "1M", "offset_ms": 0}),
        (
            "btcusdt@kline_1s@+08:00",
            Kind.KLINE,
            "BTCUSDT",
            {"interval": "1s", "offset_ms": 8 * 3_600_000},
        ),
        ("btcusdt@miniTicker", Kind.MINI_TICKER, "BTCUSDT", {}),
        ("btcusdt@ticker", Kind.TICKER, "BTCUSDT", {}),
        ("btcusdt@ticker_4h", Kind.ROLLING_TICKER, "BTCUSDT", {"interval": "4h"}),
        ("btcusdt@bookTicker", Kind.BOOK_TICKER, "BTCUSDT", {}),
        ("btcusdt@avgPrice", Kind.AVG_PRICE, "BTCUSDT", {}),
        ("btcusdt@referencePrice", Kind.REFERENCE_PRICE, "BTCUSDT", {}),
        ("btcusdt@depth", Kind.DIFF_DEPTH, "BTCUSDT", {"period_ms": 1000}),
        ("btcusdt@depth@100ms", Kind.DIFF_DEPTH, "BTCUSDT", {"period_ms": 100}),
        ("btcusdt@depth20@100ms", Kind.PARTIAL_DEPTH, "BTCUSDT", {"levels": 20, "period_ms": 100}),
        ("btcusdt@depth5", Kind.PARTIAL_DEPTH, "BTCUSDT", {"levels": 5, "period_ms": 1000}),
        ("!miniTicker@arr", Kind.ALL_MINI_TICKERS, None, {}),
        ("!ticker_1d@arr", Kind.ALL_ROLLING_TICKERS, None, {"interval": "1d"}),
    ],
)
def test_documented_names(
    name: str, kind: Kind, symbol: str | None, detail: dict[str, object]
) -> None:
    stream = parse_stream(name)
    assert stream is not None
    assert (stream.name, stream.kind, stream.symbol) == (name, kind, symbol)
    for field, value in detail.items():
        assert getattr(stream, field) == value


@pytest.mark.parametrize(
    "name",
    [
        "BTCUSDT@trade",  # "All symbols for streams are lowercase"
        "btcusdt",
        "btcusdt@",
        "@trade",
        "btcusdt@trades",
        "btcusdt@trade@100ms",
        "btcusdt@kline_2m",
        "btcusdt@kline_1m@+09:00",
        "btcusdt@ticker_2h",
        "btcusdt@depth7",
        "btcusdt@depth05",
        "btcusdt@depth@250ms",
        "!ticker@arr",  # retired
        "!miniTicker",
        "!bookTicker@arr",
        "btcusdt@ticker_1h@arr",
    ],
)
def test_anything_else_is_no_stream(name: str) -> None:
    assert parse_stream(name) is None


@given(st.text(max_size=80))
def test_any_text_reads_as_a_stream_or_none(name: str) -> None:
    stream = parse_stream(name)
    assert stream is None or stream.name == name


@given(st.one_of(st.text(max_size=120), st.binary(max_size=120)))
def test_any_control_frame_gets_a_request_or_a_refusal(frame: str | bytes) -> None:
    read = read_control(frame)
    assert isinstance(read, Control | Refusal)
    if isinstance(read, Refusal):
        assert read.code in (0, 1, 2, 3) and read.frame().startswith('{"code":')


def test_json_error_positions_count_lines_and_columns() -> None:
    refusal = read_control('{\n  "method": "SUBSCRIBE",\n  "params": [,]\n}')
    assert refusal == Refusal(3, "Invalid JSON: expected value at line 3 column 14")


async def run_activity(seed: int) -> list[tuple[int, str, str]]:
    exchange = LocalExchange(start_time_ms=1_750_000_000_000)
    async with open_local_exchange(exchange, activity=MarketActivity(seed=seed, interval=0.1)):
        await trio.sleep(30)
    return [(t.id, str(t.price), str(t.qty)) for t in exchange.engine.trades("BTCUSDT")]


async def test_the_same_seed_trades_the_same(autojump_clock: trio.testing.MockClock) -> None:
    first, again, other = await run_activity(3), await run_activity(3), await run_activity(4)
    assert first and first == again and first != other


async def test_activity_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="interval"):
        MarketActivity(interval=0)
    with pytest.raises(ValueError, match="levels"):
        MarketActivity(levels=0)


async def test_the_command_prints_the_streams_url(autojump_clock: trio.testing.MockClock) -> None:
    async with open_local_exchange() as exchange:
        text = describe(exchange)
    assert f"market streams: {exchange.streams_url}/ws/<stream>" in text
    assert exchange.streams_url.startswith("ws://127.0.0.1:")
