"""Faults a test can arm on the local exchange, so every failure a client must survive is
repeatable: dropped connections, silence, late, reordered or duplicated replies, errors after
execution, rate-limit rejections, garbage frames.

A fault is armed with :meth:`FaultPlan.arm` for a method (or any method), for one connection
(or all), for a number of requests (or until cleared); the next matching request takes it.
The named helpers (:meth:`FaultPlan.drop`, :meth:`FaultPlan.silent`, ...) cover the scenarios
the docs and tests use; ``arm`` takes any :data:`Fault`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeAlias, TypeVar


@dataclass(frozen=True)
class Drop:
    """Drop the connection on this request.

    ``close_frame``: close with a close frame (code 1001) or cut the TCP stream with none.
    ``after_execute``: execute the request first (its outcome is then unknown to the client).
    """

    close_frame: bool = False
    after_execute: bool = False


@dataclass(frozen=True)
class Silent:
    """Never answer this request (optionally after executing it)."""

    after_execute: bool = False


@dataclass(frozen=True)
class Delay:
    """Answer ``seconds`` late (trio time); later requests are answered first."""

    seconds: float


@dataclass(frozen=True)
class Reply:
    """Answer with this error instead of the real result.

    ``after_execute=True`` executes the request first: the documented meaning of a 5xx or
    -1007 reply is exactly that the request may have been executed.
    """

    status: int
    code: int
    msg: str
    data: Any = None
    after_execute: bool = False


@dataclass(frozen=True)
class Garbage:
    """Send ``frame`` (text or binary) just before the real reply."""

    frame: str | bytes


@dataclass(frozen=True)
class Malformed:
    """Answer with a frame that names the request's id but breaks the protocol."""

    body: str = '"status": "not-a-number"'


@dataclass(frozen=True)
class Duplicate:
    """Answer, then send the same reply ``copies`` more times (a duplicated response id)."""

    copies: int = 1


Fault: TypeAlias = Drop | Silent | Delay | Reply | Garbage | Malformed | Duplicate


@dataclass
class Rule:
    """An armed fault. ``remaining`` is ``None`` for a fault that stays until cleared."""

    fault: Fault
    method: str | None = None
    connection: int | None = None
    remaining: int | None = 1
    taken: int = field(default=0)

    def matches(self, method: str, connection: int) -> bool:
        return (self.method is None or self.method == method) and (
            self.connection is None or self.connection == connection
        )


class _ArmedRule(Protocol):
    remaining: int | None
    taken: int

    def matches(self, target: str, connection: int, /) -> bool: ...


RuleT = TypeVar("RuleT", bound=_ArmedRule)


class RuleBook(Generic[RuleT]):
    """Armed rules, taken in the order they were armed; what the API and stream fault plans
    share (they differ in what a rule matches on: a method or a stream)."""

    def __init__(self) -> None:
        self._rules: list[RuleT] = []

    def __bool__(self) -> bool:
        return bool(self._rules)

    def _add(self, rule: RuleT) -> RuleT:
        if rule.remaining is not None and rule.remaining < 1:
            raise ValueError("times must be at least 1, or None for 'until cleared'")
        self._rules.append(rule)
        return rule

    def _take(self, target: str, connection: int) -> RuleT | None:
        """The first rule matching ``target`` on ``connection``; counts one use of it."""
        for rule in self._rules:
            if rule.matches(target, connection):
                rule.taken += 1
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._rules.remove(rule)
                return rule
        return None

    def clear(self) -> None:
        self._rules.clear()

    @property
    def armed(self) -> tuple[RuleT, ...]:
        return tuple(self._rules)


class FaultPlan(RuleBook[Rule]):
    """The faults armed on one local exchange, taken in the order they were armed."""

    def arm(
        self,
        fault: Fault,
        *,
        method: str | None = None,
        connection: int | None = None,
        times: int | None = 1,
    ) -> Rule:
        """Apply ``fault`` to the next ``times`` matching requests (``None``: all of them)."""
        return self._add(Rule(fault, method, connection, times))

    def take(self, method: str, connection: int) -> Fault | None:
        """The fault for this request, if one is armed; counts one use of it."""
        rule = self._take(method, connection)
        return None if rule is None else rule.fault

    # --- named scenarios -----------------------------------------------------------------

    def drop(
        self,
        method: str | None = None,
        *,
        close_frame: bool = False,
        after_execute: bool = False,
        times: int | None = 1,
    ) -> Rule:
        return self.arm(Drop(close_frame, after_execute), method=method, times=times)

    def silent(
        self, method: str | None = None, *, after_execute: bool = False, times: int | None = 1
    ) -> Rule:
        return self.arm(Silent(after_execute), method=method, times=times)

    def delay(self, seconds: float, method: str | None = None, *, times: int | None = 1) -> Rule:
        return self.arm(Delay(seconds), method=method, times=times)

    def server_error(
        self,
        method: str | None = None,
        *,
        status: int = 503,
        code: int = -1007,
        after_execute: bool = True,
        times: int | None = 1,
    ) -> Rule:
        """A 5xx / -1007 "execution status unknown" reply, by default after executing."""
        msg = {
            -1006: "An unexpected response was received from the message bus. "
            "Execution status unknown.",
            -1007: "Timeout waiting for response from backend server. "
            "Send status unknown; execution status unknown.",
        }.get(code, "An unknown error occurred while processing the request.")
        return self.arm(Reply(status, code, msg, None, after_execute), method=method, times=times)

    def garbage(
        self, frame: str | bytes, method: str | None = None, *, times: int | None = 1
    ) -> Rule:
        return self.arm(Garbage(frame), method=method, times=times)
