"""Market streams of the local exchange, rendered from its own trading
(web-socket-streams.md, "Detailed Stream information").

Real-time streams (``trade``, ``aggTrade``, ``bookTicker``) are sent at the end of the
request that caused them, from its :class:`~trio_binance.testing._engine.MarketChanges`.
Periodic streams are sent by one task on trio's clock: diff and partial depth every 1000 ms or
100 ms, klines every 1000 ms (``1s``) or 2000 ms, tickers, ``avgPrice`` and
``referencePrice`` every 1000 ms. While nobody subscribes, requests build no
``MarketChanges`` and the task sleeps.

Readings of what the spec leaves open:

* diff depth events merge everything since the previous event: ``U`` is the previous ``u`` + 1,
  ``u`` the book's update id when sent, each changed level at its quantity then (0: gone), so
  ``depth``'s ``lastUpdateId`` and the events follow "How to manage a local order book
  correctly" exactly. No event is sent when the book did not change.
* individual tickers, klines, ``avgPrice``, partial depth and ``referencePrice`` are sent at
  every update; ``!miniTicker@arr`` and ``!ticker_<w>@arr`` carry the symbols whose figures
  changed since the stream's previous array (all symbols in its first), none when nothing did.
* a kline stream sends the candle that just closed once more with ``"x": true`` when the next
  one opens; a candle without trades is flat at the previous close with first and last trade
  ids -1.
* a well-formed stream of a symbol the exchange does not list is accepted and stays silent, as
  Binance does; ``blockTrade`` stays silent (the local exchange makes no block trades) and
  ``referencePrice`` reports ``"r": null`` (it sets none).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Protocol

import msgspec
import trio

from trio_binance.testing._engine import (
    BookSide,
    DepthChange,
    MarketChanges,
    PublicTrade,
    SymbolState,
)
from trio_binance.testing._market_data import (
    DAY_MS,
    KLINE_INTERVALS,
    MINUTE_MS,
    ZERO,
    AggregateTape,
    AggregateTrade,
    KlineCalendar,
    TimeUnit,
    TradeStats,
    _average_minutes,
    _last_price_before,
    trades_between,
)
from trio_binance.testing._stream_names import FAST_MS, Kind, Stream
from trio_binance.testing._trading import Formats

if TYPE_CHECKING:
    from trio_binance.testing._server import LocalExchange

JsonDict = dict[str, Any]
Level = tuple[Decimal, Decimal]

TICK_S: Final = FAST_MS / 1000  # the scheduler's resolution: the fastest update speed
_TICKS_PER_SECOND: Final = 10
_UNITS: Final = {1: TimeUnit(1), 1000: TimeUnit(1000)}
_REAL_TIME: Final = frozenset({Kind.TRADE, Kind.AGG_TRADE, Kind.BOOK_TICKER, Kind.BLOCK_TRADE})


class Subscriber(Protocol):
    """A stream connection as the streams see it."""

    id: int
    per_ms: int
    """1 for milliseconds, 1000 for microseconds (``timeUnit=MICROSECOND``)."""

    def deliver(self, stream: str, payload: str) -> None:
        """Queue ``payload`` of ``stream`` for the client (never blocks)."""


class DepthFeed:
    """One diff depth stream of one symbol: the levels changed since its last event.

    Changes arrive from requests (``see``); should the book have changed in a way no request
    reported (a test driving the engine directly), the next event is the difference between
    the book and what was last sent, so the stream stays exact either way.
    """

    def __init__(self, state: SymbolState) -> None:
        self._state = state
        self.published = state.last_update_id
        self._seen = state.last_update_id
        self._missed = False
        self._sent_bids = dict(state.bids.levels())
        self._sent_asks = dict(state.asks.levels())
        self._bids: dict[Decimal, None] = {}
        self._asks: dict[Decimal, None] = {}

    def see(self, change: DepthChange) -> None:
        if change.first_update_id != self._seen + 1:
            self._missed = True
        self._seen = change.last_update_id
        for price, _ in change.bids:
            self._bids[price] = None
        for price, _ in change.asks:
            self._asks[price] = None

    def take(self) -> tuple[int, int, list[Level], list[Level]] | None:
        """``(U, u, bids, asks)`` of the next event, or ``None`` if nothing changed."""
        state = self._state
        last = state.last_update_id
        if last == self.published:
            return None
        if self._missed or self._seen != last:
            bids = _difference(self._sent_bids, dict(state.bids.levels()))
            asks = _difference(self._sent_asks, dict(state.asks.levels()))
        else:
            bids = [(price, state.bids.level_qty(price)) for price in self._bids]
            asks = [(price, state.asks.level_qty(price)) for price in self._asks]
        bids.sort(reverse=True)
        asks.sort()
        _remember(self._sent_bids, bids)
        _remember(self._sent_asks, asks)
        first = self.published + 1
        self.published = self._seen = last
        self._missed = False
        self._bids.clear()
        self._asks.clear()
        return first, last, bids, asks


def _difference(sent: dict[Decimal, Decimal], now: dict[Decimal, Decimal]) -> list[Level]:
    changed = [(price, qty) for price, qty in now.items() if sent.get(price) != qty]
    return changed + [(price, ZERO) for price in sent if price not in now]


def _remember(sent: dict[Decimal, Decimal], levels: Iterable[Level]) -> None:
    for price, qty in levels:
        if qty:
            sent[price] = qty
        else:
            sent.pop(price, None)


class MarketStreams:
    """Subscriptions and rendering of every market stream of one local exchange."""

    def __init__(self, exchange: LocalExchange) -> None:
        self._exchange = exchange
        self._subscribers: dict[str, dict[int, Subscriber]] = {}
        self._streams: dict[str, Stream] = {}
        self._depth: dict[str, DepthFeed] = {}
        self._tops: dict[str, tuple[Level, Level]] = {}
        self._aggregates_sent: dict[str, int] = {}
        self._kline_opens: dict[str, int] = {}
        self._arrays_sent: dict[str, dict[str, TradeStats]] = {}
        self._formats: dict[str, Formats] = {}
        self._lower: dict[str, str] = {}
        self._changed = trio.Event()
        self._last_tick = 0

    @property
    def active(self) -> bool:
        """Whether anyone subscribes to anything (requests then report their changes)."""
        return bool(self._subscribers)

    def subscribers(self, stream: str) -> int:
        """How many connections subscribe to ``stream``."""
        return len(self._subscribers.get(stream, ()))

    # --- subscriptions ---

    def subscribe(self, subscriber: Subscriber, stream: Stream) -> None:
        subscribers = self._subscribers.get(stream.name)
        if subscribers is None:
            subscribers = self._subscribers[stream.name] = {}
            self._streams[stream.name] = stream
            self._start(stream)
        subscribers[subscriber.id] = subscriber
        self._changed.set()

    def unsubscribe(self, subscriber: Subscriber, name: str) -> None:
        subscribers = self._subscribers.get(name)
        if subscribers is None or subscribers.pop(subscriber.id, None) is None:
            return
        if not subscribers:
            del self._subscribers[name]
            self._stop(self._streams.pop(name))
            self._changed.set()

    def _start(self, stream: Stream) -> None:
        """What a stream needs to know before its first event."""
        symbol = stream.symbol
        if symbol is None or not self._listed(symbol):
            return
        if stream.kind is Kind.DIFF_DEPTH:
            self._depth[stream.name] = DepthFeed(self._state(symbol))
        elif stream.kind is Kind.AGG_TRADE:
            tape = self._tape(symbol)
            self._aggregates_sent[symbol] = tape.last_id
        elif stream.kind is Kind.BOOK_TICKER:
            self._tops.pop(symbol, None)

    def _stop(self, stream: Stream) -> None:
        self._depth.pop(stream.name, None)
        self._kline_opens.pop(stream.name, None)
        self._arrays_sent.pop(stream.name, None)

    # --- real-time streams: the changes of one request ---

    def publish(self, changes: MarketChanges) -> None:
        """Send the real-time events of one request and note its book changes."""
        if not self._subscribers:
            return
        now = self._exchange.now_ms()
        for change in changes.depth:
            self._book_changed(change, now)
        if changes.trades:
            self._traded(changes.trades, now)

    def _book_changed(self, change: DepthChange, now: int) -> None:
        lower = self._lowercase(change.symbol)
        for name in (f"{lower}@depth", f"{lower}@depth@100ms"):
            feed = self._depth.get(name)
            if feed is not None:
                feed.see(change)
        name = f"{lower}@bookTicker"
        if name in self._subscribers:
            self._send_book_ticker(name, change.symbol)

    def _send_book_ticker(self, name: str, symbol: str) -> None:
        state = self._state(symbol)
        top = (_best(state.bids), _best(state.asks))
        if self._tops.get(symbol) == top:
            return
        self._tops[symbol] = top
        fmt = self.format(symbol)
        (bid, bid_qty), (ask, ask_qty) = top
        payload = _json(
            {
                "u": state.last_update_id,
                "s": symbol,
                "b": fmt.price(bid),
                "B": fmt.qty(bid_qty),
                "a": fmt.price(ask),
                "A": fmt.qty(ask_qty),
            }
        )
        self._send(name, lambda unit: payload)

    def _traded(self, trades: Sequence[PublicTrade], now: int) -> None:
        symbols: dict[str, None] = {}
        for trade in trades:
            symbols[trade.symbol] = None
            name = f"{self._lowercase(trade.symbol)}@trade"
            if name in self._subscribers:
                self._send(name, _trade_renderer(trade, self.format(trade.symbol), now))
        for symbol in symbols:
            name = f"{self._lowercase(symbol)}@aggTrade"
            if name in self._subscribers:
                self._send_aggregates(name, symbol, now)

    def _send_aggregates(self, name: str, symbol: str, now: int) -> None:
        tape = self._tape(symbol)
        fresh = tape.after(self._aggregates_sent.get(symbol, 0))
        if not fresh:
            return
        self._aggregates_sent[symbol] = fresh[-1].id
        fmt = self.format(symbol)
        for record in fresh:
            self._send(name, _aggregate_renderer(symbol, record, fmt, now))

    # --- periodic streams ---

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Send the periodic streams on time, for as long as the exchange serves."""
        task_status.started()
        while True:
            self._changed = trio.Event()
            tick = self._next_tick()
            if tick is None:
                await self._changed.wait()
                continue
            with trio.move_on_at(tick * TICK_S):
                await self._changed.wait()
                continue  # subscriptions changed: the next tick may be sooner
            self._last_tick = tick
            self.send_periodic(tick)

    def _next_tick(self) -> int | None:
        """The next tick (in 100 ms steps of trio time) at which a periodic stream is due."""
        streams = [s for s in self._streams.values() if s.kind not in _REAL_TIME]
        if not streams:
            return None
        # The tick now (a hair of slack: k * 0.1 s may read as just under k ticks), then the
        # next one, and never one already sent.
        now = int(trio.current_time() * _TICKS_PER_SECOND + 1e-6)
        if any(s.period_ms == FAST_MS for s in streams):
            tick = now + 1
        else:
            tick = (now // _TICKS_PER_SECOND + 1) * _TICKS_PER_SECOND
        return max(tick, self._last_tick + 1)

    def send_periodic(self, tick: int) -> None:
        """Send every periodic stream due at ``tick`` (100 ms steps of trio time)."""
        now = self._exchange.now_ms()
        cache = _TickCache(self, now)
        for stream in list(self._streams.values()):
            if stream.kind not in _REAL_TIME and _due(stream, tick):
                self._send_periodic(stream, now, cache)

    def _send_periodic(self, stream: Stream, now: int, cache: _TickCache) -> None:
        if stream.kind is Kind.ALL_MINI_TICKERS:
            self._send_array(stream, cache, DAY_MS)
            return
        if stream.kind is Kind.ALL_ROLLING_TICKERS:
            self._send_array(stream, cache, stream.window_ms)
            return
        symbol = stream.symbol
        if symbol is None or not self._listed(symbol):
            return
        render = self._periodic_renderer(stream, symbol, now, cache)
        if render is not None:
            self._send(stream.name, render)

    def _periodic_renderer(
        self, stream: Stream, symbol: str, now: int, cache: _TickCache
    ) -> Callable[[TimeUnit], str] | None:
        kind = stream.kind
        if kind is Kind.DIFF_DEPTH:
            return self._diff_depth(stream, symbol, now)
        if kind is Kind.PARTIAL_DEPTH:
            return self._partial_depth(stream, symbol)
        if kind is Kind.KLINE:
            self._close_kline(stream, symbol, now, cache)
            return cache.kline(stream, symbol, self._kline_opens[stream.name], closed=False)
        if kind is Kind.MINI_TICKER:
            return cache.mini_ticker(symbol, DAY_MS)
        if kind is Kind.TICKER:
            return cache.ticker(symbol)
        if kind is Kind.ROLLING_TICKER:
            return cache.rolling_ticker(symbol, stream.interval, stream.window_ms)
        if kind is Kind.AVG_PRICE:
            return cache.avg_price(symbol)
        return _reference_price_renderer(symbol, now)

    def _diff_depth(
        self, stream: Stream, symbol: str, now: int
    ) -> Callable[[TimeUnit], str] | None:
        feed = self._depth.get(stream.name)
        taken = feed.take() if feed is not None else None
        if taken is None:
            return None
        first, last, bids, asks = taken
        fmt = self.format(symbol)
        levels = _levels(bids, fmt), _levels(asks, fmt)

        def render(unit: TimeUnit) -> str:
            event = {"e": "depthUpdate", "E": unit.at(now), "s": symbol, "U": first, "u": last}
            return _json({**event, "b": levels[0], "a": levels[1]})

        return render

    def _partial_depth(self, stream: Stream, symbol: str) -> Callable[[TimeUnit], str]:
        state = self._state(symbol)
        fmt = self.format(symbol)
        bids = _top(state.bids.prices_best_first(), state.bids.level_qty, stream.levels)
        asks = _top(state.asks.prices_best_first(), state.asks.level_qty, stream.levels)
        payload = _json(
            {
                "lastUpdateId": state.last_update_id,
                "bids": _levels(bids, fmt),
                "asks": _levels(asks, fmt),
            }
        )
        return lambda unit: payload

    def _close_kline(self, stream: Stream, symbol: str, now: int, cache: _TickCache) -> None:
        """Send the candle that just closed, marked closed, when the next one has opened."""
        open_ms = KlineCalendar.of(stream.interval, stream.offset_ms).open_at(now)
        previous = self._kline_opens.get(stream.name)
        self._kline_opens[stream.name] = open_ms
        if previous is not None and previous != open_ms:
            self._send(stream.name, cache.kline(stream, symbol, previous, closed=True))

    def _send_array(self, stream: Stream, cache: _TickCache, window_ms: int) -> None:
        sent = self._arrays_sent.setdefault(stream.name, {})
        changed = []
        for symbol in self._exchange.engine.symbol_names():
            stats = cache.stats(symbol, window_ms)
            if sent.get(symbol) != stats:
                sent[symbol] = stats
                changed.append(symbol)
        if not changed:
            return
        if stream.kind is Kind.ALL_MINI_TICKERS:
            events = [cache.mini_ticker_event(symbol, window_ms) for symbol in changed]
        else:
            events = [
                cache.rolling_ticker_event(symbol, stream.interval, window_ms) for symbol in changed
            ]
        self._send(stream.name, lambda unit: _json([event(unit) for event in events]))

    # --- delivery and helpers ---

    def _send(self, name: str, render: Callable[[TimeUnit], str]) -> None:
        """Render once per time unit in use and queue it for every subscriber."""
        subscribers = self._subscribers.get(name)
        if not subscribers:
            return
        texts: dict[int, str] = {}
        for subscriber in list(subscribers.values()):
            text = texts.get(subscriber.per_ms)
            if text is None:
                text = texts[subscriber.per_ms] = render(_UNITS[subscriber.per_ms])
            subscriber.deliver(name, text)

    def _listed(self, symbol: str) -> bool:
        return symbol in self._exchange.engine.symbol_names()

    def _state(self, symbol: str) -> SymbolState:
        return self._exchange.engine.symbol(symbol)

    def _tape(self, symbol: str) -> AggregateTape:
        tape = self._exchange.market_data.aggregate_tape(symbol)
        tape.update(self._state(symbol).trades)
        return tape

    def format(self, symbol: str) -> Formats:
        """How ``symbol`` writes prices and quantities (made once per symbol)."""
        config = self._state(symbol).config
        fmt = self._formats.get(symbol)
        if fmt is None or fmt.config is not config:
            fmt = self._formats[symbol] = Formats(config)
        return fmt

    def _lowercase(self, symbol: str) -> str:
        lower = self._lower.get(symbol)
        if lower is None:
            lower = self._lower[symbol] = symbol.lower()
        return lower


class _TickCache:
    """Figures computed once per tick however many streams show them."""

    def __init__(self, streams: MarketStreams, now: int) -> None:
        self._streams = streams
        self._engine = streams._exchange.engine
        self.now = now
        self._trades: dict[str, Sequence[PublicTrade]] = {}
        self._stats: dict[tuple[str, int], TradeStats] = {}

    def trades(self, symbol: str) -> Sequence[PublicTrade]:
        trades = self._trades.get(symbol)
        if trades is None:
            trades = self._trades[symbol] = self._engine.trades(symbol)
        return trades

    def open_of(self, window_ms: int) -> int:
        """A rolling window opens on a minute; the 24 h ticker exactly 24 h ago."""
        if window_ms == DAY_MS:
            return self.now - DAY_MS
        return (self.now - window_ms) // MINUTE_MS * MINUTE_MS

    def stats(self, symbol: str, window_ms: int) -> TradeStats:
        key = (symbol, window_ms)
        stats = self._stats.get(key)
        if stats is None:
            window = trades_between(self.trades(symbol), self.open_of(window_ms), self.now)
            stats = self._stats[key] = TradeStats.of(window) or TradeStats.flat(ZERO)
        return stats

    def mini_ticker_event(self, symbol: str, window_ms: int) -> Callable[[TimeUnit], JsonDict]:
        stats, fmt, now = self.stats(symbol, window_ms), self._streams.format(symbol), self.now

        def event(unit: TimeUnit) -> JsonDict:
            return {
                "e": "24hrMiniTicker",
                "E": unit.at(now),
                "s": symbol,
                "c": fmt.price(stats.close),
                "o": fmt.price(stats.open),
                "h": fmt.price(stats.high),
                "l": fmt.price(stats.low),
                "v": fmt.qty(stats.volume),
                "q": fmt.quote(stats.quote_volume),
            }

        return event

    def mini_ticker(self, symbol: str, window_ms: int) -> Callable[[TimeUnit], str]:
        event = self.mini_ticker_event(symbol, window_ms)
        return lambda unit: _json(event(unit))

    def _change(self, symbol: str, window_ms: int) -> JsonDict:
        stats, fmt = self.stats(symbol, window_ms), self._streams.format(symbol)
        return {
            "p": fmt.price(stats.close - stats.open),
            "P": stats.price_change_percent(),
            "w": fmt.price(stats.weighted_average()),
        }

    def _totals(self, symbol: str, window_ms: int, unit: TimeUnit) -> JsonDict:
        stats, fmt = self.stats(symbol, window_ms), self._streams.format(symbol)
        return {
            "v": fmt.qty(stats.volume),
            "q": fmt.quote(stats.quote_volume),
            "O": unit.at(self.open_of(window_ms)),
            "C": unit.at(self.now),
            "F": stats.first_id,
            "L": stats.last_id,
            "n": stats.count,
        }

    def ticker(self, symbol: str) -> Callable[[TimeUnit], str]:
        """``<symbol>@ticker``: the rolling 24 hours, with the best bid and ask."""
        stats, fmt = self.stats(symbol, DAY_MS), self._streams.format(symbol)
        state = self._engine.symbol(symbol)
        (bid, bid_qty), (ask, ask_qty) = _best(state.bids), _best(state.asks)
        before = _last_price_before(self.trades(symbol), self.open_of(DAY_MS))
        now = self.now

        def render(unit: TimeUnit) -> str:
            return _json(
                {
                    "e": "24hrTicker",
                    "E": unit.at(now),
                    "s": symbol,
                    **self._change(symbol, DAY_MS),
                    "x": fmt.price(before),
                    "c": fmt.price(stats.close),
                    "Q": fmt.qty(stats.last_qty),
                    "b": fmt.price(bid),
                    "B": fmt.qty(bid_qty),
                    "a": fmt.price(ask),
                    "A": fmt.qty(ask_qty),
                    "o": fmt.price(stats.open),
                    "h": fmt.price(stats.high),
                    "l": fmt.price(stats.low),
                    **self._totals(symbol, DAY_MS, unit),
                }
            )

        return render

    def rolling_ticker_event(
        self, symbol: str, window: str, window_ms: int
    ) -> Callable[[TimeUnit], JsonDict]:
        stats, fmt, now = self.stats(symbol, window_ms), self._streams.format(symbol), self.now

        def event(unit: TimeUnit) -> JsonDict:
            change = self._change(symbol, window_ms)
            return {
                "e": f"{window}Ticker",
                "E": unit.at(now),
                "s": symbol,
                "p": change["p"],
                "P": change["P"],
                "o": fmt.price(stats.open),
                "h": fmt.price(stats.high),
                "l": fmt.price(stats.low),
                "c": fmt.price(stats.close),
                "w": change["w"],
                **self._totals(symbol, window_ms, unit),
            }

        return event

    def rolling_ticker(self, symbol: str, window: str, window_ms: int) -> Callable[[TimeUnit], str]:
        event = self.rolling_ticker_event(symbol, window, window_ms)
        return lambda unit: _json(event(unit))

    def avg_price(self, symbol: str) -> Callable[[TimeUnit], str]:
        state = self._engine.symbol(symbol)
        minutes = _average_minutes(state.config)
        price = self._engine.average_price(symbol, self.now, minutes) or ZERO
        trades = self.trades(symbol)
        last_trade = trades[-1].time if trades else self.now  # as the avgPrice method
        text, now = self._streams.format(symbol).price(price), self.now

        def render(unit: TimeUnit) -> str:
            return _json(
                {
                    "e": "avgPrice",
                    "E": unit.at(now),
                    "s": symbol,
                    "i": f"{minutes}m",
                    "w": text,
                    "T": unit.at(last_trade),
                }
            )

        return render

    def kline(
        self, stream: Stream, symbol: str, open_ms: int, *, closed: bool
    ) -> Callable[[TimeUnit], str]:
        calendar = KlineCalendar(KLINE_INTERVALS[stream.interval], stream.offset_ms)
        close_ms = calendar.next_open(open_ms)
        trades = self.trades(symbol)
        low = bisect_left(trades, open_ms, key=_trade_time)
        high = bisect_left(trades, close_ms, lo=low, key=_trade_time)
        stats = TradeStats.of(trades[low:high])
        if stats is None:
            stats = TradeStats.flat(trades[low - 1].price if low else ZERO)
        fmt, now, interval = self._streams.format(symbol), self.now, stream.interval

        def render(unit: TimeUnit) -> str:
            candle = {
                "t": unit.at(open_ms),
                "T": unit.just_before(close_ms),
                "s": symbol,
                "i": interval,
                "f": stats.first_id,
                "L": stats.last_id,
                "o": fmt.price(stats.open),
                "c": fmt.price(stats.close),
                "h": fmt.price(stats.high),
                "l": fmt.price(stats.low),
                "v": fmt.qty(stats.volume),
                "n": stats.count,
                "x": closed,
                "q": fmt.quote(stats.quote_volume),
                "V": fmt.qty(stats.taker_buy_volume),
                "Q": fmt.quote(stats.taker_buy_quote_volume),
                "B": "0",
            }
            return _json({"e": "kline", "E": unit.at(now), "s": symbol, "k": candle})

        return render


def _due(stream: Stream, tick: int) -> bool:
    if stream.kind in (Kind.DIFF_DEPTH, Kind.PARTIAL_DEPTH) and stream.period_ms == FAST_MS:
        return True
    if stream.kind is Kind.KLINE and stream.interval != "1s":
        return tick % (2 * _TICKS_PER_SECOND) == 0  # "2000ms for the other intervals"
    return tick % _TICKS_PER_SECOND == 0


def _trade_time(trade: PublicTrade) -> int:
    return trade.time


def _best(side: BookSide) -> Level:
    price = side.best_price()
    return (ZERO, ZERO) if price is None else (price, side.level_qty(price))


def _top(prices: list[Decimal], qty: Callable[[Decimal], Decimal], levels: int) -> list[Level]:
    return [(price, qty(price)) for price in prices[:levels]]


def _levels(levels: Iterable[Level], fmt: Formats) -> list[list[str]]:
    return [[fmt.price(price), fmt.qty(qty)] for price, qty in levels]


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def _trade_renderer(trade: PublicTrade, fmt: Formats, now: int) -> Callable[[TimeUnit], str]:
    def render(unit: TimeUnit) -> str:
        return _json(
            {
                "e": "trade",
                "E": unit.at(now),
                "s": trade.symbol,
                "t": trade.id,
                "p": fmt.price(trade.price),
                "q": fmt.qty(trade.qty),
                "T": unit.at(trade.time),
                "m": trade.is_buyer_maker,
                "M": True,
            }
        )

    return render


def _aggregate_renderer(
    symbol: str, record: AggregateTrade, fmt: Formats, now: int
) -> Callable[[TimeUnit], str]:
    def render(unit: TimeUnit) -> str:
        return _json(
            {
                "e": "aggTrade",
                "E": unit.at(now),
                "s": symbol,
                "a": record.id,
                "p": fmt.price(record.price),
                "q": fmt.qty(record.qty),
                "f": record.first_trade_id,
                "l": record.last_trade_id,
                "T": unit.at(record.time),
                "m": record.is_buyer_maker,
                "M": True,
            }
        )

    return render


def _reference_price_renderer(symbol: str, now: int) -> Callable[[TimeUnit], str]:
    # "t": "engine timestamp when reference price was valid"; the payload has no "E".
    return lambda unit: _json({"e": "referencePrice", "s": symbol, "r": None, "t": unit.at(now)})
