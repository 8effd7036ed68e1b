"""The local order book procedure (web-socket-streams.md, "How to manage a local order book
correctly"), sans-IO: a simulated exchange book emits diff events and snapshots; the local
book must equal the exchange's book at its own ``last_update_id`` whenever it says it is
synced, whatever is dropped, duplicated or reordered on the way."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_binance._order_book import BookSide, BookStatus, BookSync, Need
from trio_binance.models import OrderBook, PriceLevel
from trio_binance.models._streams import DepthUpdateEvent


class SimulatedExchange:
    """An exchange-side book: random level changes, each event a range of update ids."""

    def __init__(self, rng: random.Random, start_id: int = 1000) -> None:
        self.rng = rng
        self.update_id = start_id
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.history: dict[int, tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]] = {
            start_id: ({}, {})
        }

    def step(self) -> DepthUpdateEvent:
        first = self.update_id + 1
        self.update_id += self.rng.randint(1, 3)
        changes: dict[str, dict[Decimal, Decimal]] = {"b": {}, "a": {}}
        for _ in range(self.rng.randint(1, 4)):
            side = self.rng.choice("ba")
            # bids below 100, asks above: the book never crosses
            tick = self.rng.randint(1, 40)
            price = Decimal(100 - tick) if side == "b" else Decimal(100 + tick)
            book = self.bids if side == "b" else self.asks
            quantity = Decimal(0) if price in book and self.rng.random() < 0.4 else None
            if quantity is None:
                quantity = Decimal(self.rng.randint(1, 500)) / 100
            if quantity == 0:
                book.pop(price, None)
            else:
                book[price] = quantity
            changes[side][price] = quantity
        self.history[self.update_id] = (dict(self.bids), dict(self.asks))
        return DepthUpdateEvent(
            event_time=0,
            symbol="BNBBTC",
            first_update_id=first,
            final_update_id=self.update_id,
            bids=tuple(PriceLevel(price=p, qty=q) for p, q in changes["b"].items()),
            asks=tuple(PriceLevel(price=p, qty=q) for p, q in changes["a"].items()),
        )

    def snapshot(self) -> OrderBook:
        return OrderBook(
            last_update_id=self.update_id,
            bids=tuple(PriceLevel(price=p, qty=q) for p, q in sorted(self.bids.items())[::-1]),
            asks=tuple(PriceLevel(price=p, qty=q) for p, q in sorted(self.asks.items())),
        )


def assert_matches(sync: BookSync, exchange: SimulatedExchange) -> None:
    assert sync.last_update_id is not None
    bids, asks = exchange.history[sync.last_update_id]
    assert sync.bids.as_dict() == bids
    assert sync.asks.as_dict() == asks
    assert [level.price for level in sync.bids.top()] == sorted(bids, reverse=True)
    assert [level.price for level in sync.asks.top()] == sorted(asks)


def run_feed(
    seed: int, updates: int, *, drop: float, duplicate: float, swap: float, lag: int
) -> tuple[BookSync, SimulatedExchange, int]:
    """Drive a BookSync through ``updates`` events with faults; snapshots arrive ``lag``
    events after they are asked for. Returns the book, the exchange and the checks made."""
    rng = random.Random(seed)
    exchange = SimulatedExchange(rng)
    sync = BookSync()
    checks = 0
    snapshot_due: int | None = None
    held: DepthUpdateEvent | None = None
    for step in range(updates):
        event = exchange.step()
        wire = [event]
        if rng.random() < drop:
            wire = []
        elif rng.random() < duplicate:
            wire = [event, event]
        elif rng.random() < swap and held is None:
            held, wire = event, []  # sent after the next one
        elif held is not None:
            wire, held = [event, held], None
        for sent in wire:
            sync.feed(sent)
            if sync.synced:
                assert_matches(sync, exchange)
                checks += 1
        if sync.need is Need.SNAPSHOT and snapshot_due is None:
            snapshot_due = step + lag
        if snapshot_due is not None and step >= snapshot_due:
            snapshot_due = None
            sync.apply_snapshot(exchange.snapshot())
            if sync.synced:
                assert_matches(sync, exchange)
                checks += 1
    return sync, exchange, checks


def test_ten_thousand_clean_updates_keep_the_book_identical() -> None:
    sync, exchange, checks = run_feed(1, 10_000, drop=0, duplicate=0, swap=0, lag=3)
    assert sync.synced and sync.resyncs == 0
    assert sync.last_update_id == exchange.update_id
    assert checks > 9_990


def test_ten_thousand_updates_with_drops_duplicates_and_reordering() -> None:
    sync, exchange, checks = run_feed(2, 10_000, drop=0.01, duplicate=0.02, swap=0.01, lag=5)
    assert sync.resyncs > 10  # the faults were noticed...
    assert checks > 8_000  # ...and the book was right every time it claimed to be synced
    if sync.synced:
        assert_matches(sync, exchange)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    drop=st.sampled_from([0.0, 0.05, 0.2]),
    duplicate=st.sampled_from([0.0, 0.1]),
    swap=st.sampled_from([0.0, 0.05]),
    lag=st.integers(0, 8),
)
def test_any_fault_mix_never_shows_an_inconsistent_book(
    seed: int, drop: float, duplicate: float, swap: float, lag: int
) -> None:
    run_feed(seed, 300, drop=drop, duplicate=duplicate, swap=swap, lag=lag)


def need_of(sync: BookSync) -> Need:
    return sync.need  # a call, so a type checker does not narrow the property


def status_of(sync: BookSync) -> BookStatus:
    return sync.status


def event(first: int, last: int, bids: dict[str, str] | None = None) -> DepthUpdateEvent:
    return DepthUpdateEvent(
        event_time=0,
        symbol="BNBBTC",
        first_update_id=first,
        final_update_id=last,
        bids=tuple(PriceLevel(price=Decimal(p), qty=Decimal(q)) for p, q in (bids or {}).items()),
        asks=(),
    )


def book(last_update_id: int, bids: dict[str, str] | None = None) -> OrderBook:
    return OrderBook(
        last_update_id=last_update_id,
        bids=tuple(PriceLevel(price=Decimal(p), qty=Decimal(q)) for p, q in (bids or {}).items()),
    )


def test_the_procedure_step_by_step() -> None:
    sync = BookSync()
    assert need_of(sync) is Need.EVENT and status_of(sync) is BookStatus.SYNCING
    sync.feed(event(157, 160, {"1.0": "5"}))
    sync.feed(event(161, 165, {"1.1": "2"}))
    assert need_of(sync) is Need.SNAPSHOT and sync.first_buffered_id == 157
    # Step 4: a snapshot strictly older than the first U is refused: get another.
    assert not sync.apply_snapshot(book(150))
    assert sync.snapshots_refused == 1 and need_of(sync) is Need.SNAPSHOT
    # Step 5: events with u <= lastUpdateId are discarded; 161..165 applies on top.
    assert sync.apply_snapshot(book(160, {"1.0": "5", "0.9": "1"}))
    assert sync.synced and sync.last_update_id == 165
    assert sync.bids.top() == (
        PriceLevel(price=Decimal("1.1"), qty=Decimal(2)),
        PriceLevel(price=Decimal("1.0"), qty=Decimal(5)),
        PriceLevel(price=Decimal("0.9"), qty=Decimal(1)),
    )
    # Old and repeated events are ignored; a zero quantity removes a level.
    assert not sync.feed(event(150, 165, {"1.1": "99"}))
    assert sync.feed(event(166, 166, {"1.1": "0.000"}))
    assert sync.bids.best() == PriceLevel(price=Decimal("1.0"), qty=Decimal(5))
    # A gap: the book stays as it was (consistent at 166) but is marked resyncing.
    assert not sync.feed(event(170, 171, {"0.5": "1"}))
    assert status_of(sync) is BookStatus.RESYNCING and sync.resyncs == 1
    assert sync.last_update_id == 166 and need_of(sync) is Need.SNAPSHOT
    assert sync.apply_snapshot(book(171, {"0.5": "1"}))
    assert sync.synced and sync.bids.as_dict() == {Decimal("0.5"): Decimal(1)}


def test_a_gap_right_after_the_snapshot_restarts() -> None:
    sync = BookSync()
    sync.feed(event(100, 101))
    sync.feed(event(105, 106))  # 102..104 missing
    assert not sync.apply_snapshot(book(102))
    assert status_of(sync) is BookStatus.SYNCING and sync.resyncs == 1
    assert sync.first_buffered_id == 105
    assert sync.apply_snapshot(book(105))
    assert sync.last_update_id == 106


def test_a_gap_inside_the_buffer_keeps_the_applied_part() -> None:
    sync = BookSync()
    for first, last in [(10, 11), (12, 13), (20, 21), (22, 23)]:
        sync.feed(event(first, last))
    assert not sync.apply_snapshot(book(11))
    assert status_of(sync) is BookStatus.RESYNCING and sync.last_update_id == 13
    assert sync.first_buffered_id == 20
    assert sync.apply_snapshot(book(21))
    assert sync.last_update_id == 23


def test_snapshot_needs_an_event_first() -> None:
    with pytest.raises(RuntimeError):
        BookSync().apply_snapshot(book(1))
    with pytest.raises(ValueError, match="buffer_limit"):
        BookSync(buffer_limit=0)


def test_a_snapshot_when_synced_changes_nothing() -> None:
    sync = BookSync()
    sync.feed(event(1, 1, {"2": "1"}))
    assert sync.apply_snapshot(book(1, {"2": "1"}))
    assert sync.apply_snapshot(book(50))
    assert sync.last_update_id == 1


@given(
    st.lists(
        st.tuples(st.integers(1, 30), st.integers(0, 3)),
        max_size=80,
    ),
    st.integers(0, 40),
)
def test_book_side_matches_a_dict(changes: list[tuple[int, int]], count: int) -> None:
    for descending in (True, False):
        side = BookSide(descending=descending)
        model: dict[Decimal, Decimal] = {}
        for price, quantity in changes:
            side.set(Decimal(price), Decimal(quantity))
            if quantity:
                model[Decimal(price)] = Decimal(quantity)
            else:
                model.pop(Decimal(price), None)
        ordered = sorted(model, reverse=descending)
        assert [level.price for level in side.top()] == ordered
        assert [level.price for level in side.top(count)] == ordered[:count]
        assert len(side) == len(model)
        best = side.best()
        assert (best.price if best else None) == (ordered[0] if ordered else None)
        for price in range(1, 31):
            assert side.quantity(Decimal(price)) == model.get(Decimal(price), 0)
