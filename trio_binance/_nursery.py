"""The nursery behind every ``async with`` of this library, and its exception-group handling.

A context manager that runs background tasks needs a nursery, but its users should not see
that nursery's ``ExceptionGroup`` around their own exception. The trio docs' advice for such
an internal nursery: make the background tasks never raise, and unwrap the single exception
that is then left (the body's own) so it propagates as if no nursery were there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import NoReturn

import trio


@asynccontextmanager
async def background_nursery() -> AsyncIterator[trio.Nursery]:
    """A nursery whose tasks are cancelled when the body ends; a lone error comes out bare."""
    try:
        async with trio.open_nursery() as nursery:
            try:
                yield nursery
            finally:
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        raise_single(group)


def raise_single(group: BaseExceptionGroup[BaseException]) -> NoReturn:
    """Re-raise the group's one real exception bare; a group of several stays a group.

    ``Cancelled`` from our own cleanup does not count as a real exception, unless it is all
    there is (then it belongs to an outer scope and must propagate).
    """
    real = [e for e in group.exceptions if not isinstance(e, trio.Cancelled)]
    if len(real) == 1 and not isinstance(real[0], BaseExceptionGroup):
        _raise_keeping_context(real[0])
    if not real:
        _raise_keeping_context(group.exceptions[0])
    raise group


def _raise_keeping_context(exc: BaseException) -> NoReturn:
    # Raising inside ``except`` would set the group as __context__; keep the original one.
    context = exc.__context__
    try:
        raise exc
    finally:
        exc.__context__ = context
        del exc, context
