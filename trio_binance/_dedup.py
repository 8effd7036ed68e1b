"""Joining two copies of one user-data stream so each event is delivered exactly once, in order.

During a make-before-break rotation the account is subscribed on two connections at once:
the old one (the *predecessor*) and its replacement (the *successor*). The exchange publishes
each event of the account to every subscription of the account (web-socket-api.md, "User Data
Stream requests"; user-data-stream.md), so both copies are the same ordered sequence, seen
through two windows that overlap:

* the predecessor's window ends with the ``eventStreamTerminated`` that answers our
  ``userDataStream.unsubscribe`` on it (user-data-stream.md, "Event Stream Terminated"): every
  event published before the exchange ran the unsubscribe came before it, on that connection;
* the successor's window starts when the exchange ran its subscribe, which was before the
  unsubscribe (we send it only after the successor's subscription was confirmed).

So the successor's events are ``P[k:] + new`` for some ``k``, where ``P`` is the predecessor's
sequence. Each successor event that is a predecessor event must be skipped, the rest
delivered. Which ones are predecessor events is decided by **order first, content second**:

* the predecessor *records* every event it delivers from the moment the successor's
  subscribe is sent (any event that reaches the successor was published after that moment,
  so its predecessor copy arrives after it too: the record holds every possible duplicate);
* the first successor event is looked up in that record (once per rotation, ``O(record)``);
  where it is found, the successor's next events must equal the record's next ones, one by
  one (``O(1)`` per event) until the record is used up; from then on nothing is compared.

An event is identified by its whole decoded content (the msgspec models compare field by
field): the event time ``E`` (ms), and per type its own identity -- ``executionReport`` the
order id ``i``, execution id ``I``, trade id ``t``, execution type and cumulative quantities;
``outboundAccountPosition`` the account-update time ``u`` and the balances; ``balanceUpdate``
and ``externalLockUpdate`` the asset, delta and clear time ``T``; ``listStatus`` the list id
``g``, statuses and ``T``. Two *different* events with equal content would need the same
millisecond and the same ids; even then only the alignment could slip (both are equal, so
delivering either is indistinguishable), and never the order. When the successor's events
disagree with the record after the alignment point, continuity is not proven and the caller
is told (:attr:`Splice.diverged`), so it can signal a gap instead of guessing.
"""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

__all__ = ["Splice", "TailRecorder"]

E = TypeVar("E")


class TailRecorder(Generic[E]):
    """The events a predecessor delivered since its successor's subscribe was sent.

    Bounded: beyond ``limit`` events the oldest are forgotten and :attr:`evicted` is set (the
    splice can then no longer prove it found every duplicate).
    """

    def __init__(self, limit: int) -> None:
        self.events: deque[E] = deque(maxlen=limit)
        self.evicted = False

    def add(self, event: E) -> None:
        events = self.events
        if len(events) == events.maxlen:
            self.evicted = True
        events.append(event)


class Splice(Generic[E]):
    """Decides, event by event, which of a successor's events its predecessor already gave.

    ``is_duplicate`` is called for each successor event in order; amortised ``O(1)``.
    """

    __slots__ = ("_aligned", "_evicted", "_tail", "diverged", "duplicates")

    def __init__(self, recorder: TailRecorder[E] | None) -> None:
        self._tail: deque[E] = recorder.events if recorder is not None else deque()
        self._evicted = recorder.evicted if recorder is not None else False
        self._aligned = False
        self.duplicates = 0
        self.diverged = False
        """The successor disagreed with the record: continuity is not proven here."""

    def is_duplicate(self, event: E) -> bool:
        tail = self._tail
        if not tail:  # the common case once aligned, and always outside rotations
            if not self._aligned:
                self._aligned = True
            return False
        if not self._aligned:
            self._aligned = True
            self._seek(event)
            if not tail:
                # Not recorded: published after the predecessor's last event, unless the
                # record lost its oldest events, where it might have been.
                self.diverged = self._evicted
                return False
        if tail[0] == event:
            tail.popleft()
            self.duplicates += 1
            return True
        tail.clear()
        self.diverged = True
        return False

    def _seek(self, first: E) -> None:
        """Drop the recorded events published before the successor's first one."""
        tail = self._tail
        while tail and tail[0] != first:
            tail.popleft()
