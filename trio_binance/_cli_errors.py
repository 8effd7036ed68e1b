"""Exit statuses of the command line, and the one-line error messages it writes to stderr.

====  ==========================================================================
0     success
1     the exchange answered with an error (``ApiError``), or a reconciled request
      turned out not to have been executed
2     usage: bad arguments, parameters or credentials; nothing was sent
3     connection or transport: could not connect, the connection was lost before
      the request was written, a stream ended, a frame could not be understood
4     outcome unknown: the request may or may not have been executed
130   interrupted (Ctrl+C)
====  ==========================================================================
"""

from __future__ import annotations

from trio_binance._credentials import CredentialsError
from trio_binance._exceptions import (
    ApiError,
    ConnectFailed,
    InvalidParameter,
    NotSent,
    OutcomeUnknown,
    ProtocolError,
)
from trio_binance._reconcile import CannotReconcile
from trio_binance._transport import TransportClosed
from trio_binance._user_data import UserDataStreamEnded

EXIT_OK = 0
EXIT_API_ERROR = 1
EXIT_USAGE = 2
EXIT_CONNECTION = 3
EXIT_OUTCOME_UNKNOWN = 4
EXIT_INTERRUPTED = 130

_USAGE = (InvalidParameter, CredentialsError, CannotReconcile)
_CONNECTION = (ConnectFailed, NotSent, ProtocolError, TransportClosed, UserDataStreamEnded, OSError)


def exit_status(error: BaseException) -> int | None:
    """The exit status for ``error``, or None when it is not an error the CLI expects."""
    if isinstance(error, OutcomeUnknown):  # before ApiError: 5xx is both
        return EXIT_OUTCOME_UNKNOWN
    if isinstance(error, ApiError):
        return EXIT_API_ERROR
    if isinstance(error, _USAGE):
        return EXIT_USAGE
    if isinstance(error, _CONNECTION):
        return EXIT_CONNECTION
    return None


def describe(error: BaseException) -> str:
    """What went wrong, for stderr. Library messages never carry secrets."""
    text = f"{type(error).__name__}: {error}".rstrip(": ")
    if isinstance(error, OutcomeUnknown) and error.client_order_ids:
        ids = ", ".join(error.client_order_ids)
        text += (
            f"\nclient order ids: {ids}"
            "\nlook the order up before sending it again (or repeat the call with --reconcile)"
        )
    return text


def single_error(error: BaseException) -> BaseException:
    """The one exception inside nested exception groups of one leaf each, else ``error``."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error
