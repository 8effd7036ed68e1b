"""Splicing a predecessor's and a successor's copies of one event sequence (pure, no I/O)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from trio_binance._dedup import Splice, TailRecorder


def splice(
    sequence: list[int], *, recorded_from: int, old_end: int, new_start: int, limit: int = 10_000
) -> tuple[list[int], Splice[int]]:
    """What the consumer gets: the predecessor's events up to ``old_end``, then the
    successor's from ``new_start`` with its duplicates skipped."""
    recorder: TailRecorder[int] = TailRecorder(limit)
    delivered = list(sequence[:old_end])
    for event in sequence[recorded_from:old_end]:
        recorder.add(event)
    joined = Splice(recorder)
    delivered += [e for e in sequence[new_start:] if not joined.is_duplicate(e)]
    return delivered, joined


@given(
    st.integers(0, 60).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.integers(0, n),  # where the successor's subscribe was sent (recording starts)
            st.integers(0, n),  # where the successor's window starts
            st.integers(0, n),  # where the predecessor's window ends
        )
    )
)
def test_overlapping_windows_join_exactly_once_in_order(
    case: tuple[int, int, int, int],
) -> None:
    n, recorded_from, new_start, old_end = case
    # The protocol guarantees: recording starts before the successor's window, which starts
    # before the predecessor's ends (make before break).
    recorded_from, new_start, old_end = sorted((recorded_from, new_start, old_end))
    sequence = list(range(n))
    delivered, joined = splice(
        sequence, recorded_from=recorded_from, old_end=old_end, new_start=new_start
    )
    assert delivered == sequence
    assert joined.duplicates == old_end - new_start
    assert not joined.diverged


def test_successor_starting_after_the_last_recorded_event_loses_nothing() -> None:
    delivered, joined = splice(list(range(10)), recorded_from=2, old_end=5, new_start=5)
    assert delivered == list(range(10)) and joined.duplicates == 0 and not joined.diverged


def test_disagreement_after_alignment_is_reported_not_guessed() -> None:
    recorder: TailRecorder[str] = TailRecorder(10)
    for event in "abcd":
        recorder.add(event)
    joined = Splice(recorder)
    assert [joined.is_duplicate(e) for e in "bcXd"] == [True, True, False, False]
    assert joined.diverged


def evicted_record() -> TailRecorder[int]:
    recorder: TailRecorder[int] = TailRecorder(3)
    for event in range(6):
        recorder.add(event)
    assert recorder.evicted and list(recorder.events) == [3, 4, 5]
    return recorder


def test_an_evicted_record_cannot_prove_continuity() -> None:
    joined = Splice(evicted_record())
    assert joined.is_duplicate(4) and joined.is_duplicate(5)
    assert not joined.diverged
    unproven = Splice(evicted_record())
    assert not unproven.is_duplicate(9)  # not recorded: maybe in what was forgotten
    assert unproven.diverged


def test_without_a_record_nothing_is_a_duplicate() -> None:
    joined: Splice[int] = Splice(None)
    assert not any(joined.is_duplicate(e) for e in range(5))
    assert not joined.diverged
