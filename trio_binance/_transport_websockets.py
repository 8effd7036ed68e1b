"""The fast transport: websockets' native Trio client behind the transport seam.

websockets (>= 17.0.1, the ``fast`` extra) parses frames in C and moves each message from its
reader task to ours with one channel hand-off; on this machine it receives several times
as many frames per second as trio-websocket (``benchmarks/``). Everything around the
WebSocket protocol is shared with the default transport, so the two behave alike: the same
TCP and TLS set-up (certificates always verified), the same connect deadline, the same
errors (``ConnectFailed``, ``TransportClosed`` with the close frame's code and reason), the
same message size limit. Like the default, it sends no pings of its own (Binance pings; the
reader answers each at once) and negotiates no compression.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import trio
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.frames import DATA_OPCODES, CloseCode, Frame, Opcode
from websockets.protocol import Event, State
from websockets.trio.client import ClientConnection
from websockets.trio.messages import MAX_FRAGMENTS
from websockets.uri import parse_uri

from trio_binance._exceptions import ConnectFailed
from trio_binance._transport import (
    DEFAULT_CLOSE_TIMEOUT,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_MESSAGE_QUEUE_SIZE,
    ActivityStream,
    Connection,
    Target,
    TransportClosed,
    handshake_rejected,
    open_stream,
    tls_context,
)

# Failures of a handshake: the socket (OSError), TLS (trio reports it as a broken stream), the
# HTTP upgrade (InvalidHandshake and its kind) or the connection closing halfway.
_HANDSHAKE_FAILURES = (OSError, trio.BrokenResourceError, WebSocketException)


class WebsocketsTransport:
    """The fast transport, built on websockets' Trio client (``pip install trio-binance-ws[fast]``).

    Select it per session with ``connect(url, transport="websockets")``, or pass an instance
    to change its settings. TLS is verified exactly as by the default transport: a context
    that does not verify, or ``insecure_skip_verify=True``, works but warns.
    ``message_queue_size`` is how many frames websockets may buffer for ``receive()`` before
    it stops reading the socket; sessions and stream clients take messages by ``deliver``,
    straight from websockets' reader, and never fill it.
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        insecure_skip_verify: bool = False,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        message_queue_size: int = DEFAULT_MESSAGE_QUEUE_SIZE,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    ) -> None:
        self.ssl_context = tls_context(ssl_context, insecure_skip_verify=insecure_skip_verify)
        self.max_message_size = max_message_size
        self.message_queue_size = message_queue_size
        self.connect_timeout = connect_timeout

    async def open(self, nursery: trio.Nursery, url: str) -> Connection:
        connection: Connection = await nursery.start(self._host_connection, url)
        return connection

    async def _host_connection(self, url: str, *, task_status: trio.TaskStatus[Connection]) -> None:
        """Run websockets' reader in a nursery of our own, for the connection's life."""
        try:
            async with trio.open_nursery() as reader_nursery:
                ws = await self._handshake(reader_nursery, url)
                task_status.started(_WebsocketsConnection(ws))
        except BaseExceptionGroup as group:
            # Only the handshake raises here (websockets' reader logs, never raises).
            failure, rest = group.split(ConnectFailed)
            if failure is None or rest is not None:
                raise
            first: BaseException = failure
            while isinstance(first, BaseExceptionGroup):
                first = first.exceptions[0]
            raise first from None

    async def _handshake(self, nursery: trio.Nursery, url: str) -> _DeliveringConnection:
        target = Target.parse(url)
        try:
            with trio.fail_after(self.connect_timeout):
                # Wrapped: websockets answers pings in its reader and tells no one, so only the
                # byte stream can say when anything (pings included) last arrived.
                stream = ActivityStream(await open_stream(target, self.ssl_context))
                try:
                    ws = _DeliveringConnection(
                        nursery,
                        stream,
                        # No extensions: no compression, as with the default transport.
                        ClientProtocol(parse_uri(url), max_size=self.max_message_size),
                        ping_interval=None,  # Binance pings us; we only answer
                        ping_timeout=None,
                        close_timeout=DEFAULT_CLOSE_TIMEOUT,
                        max_queue=self.message_queue_size,
                    )
                    await ws.handshake()
                except BaseException:
                    # A failed, timed-out or cancelled handshake leaves the socket to us.
                    await trio.aclose_forcefully(stream)
                    raise
                return ws
        except trio.TooSlowError:
            raise ConnectFailed(f"no handshake within {self.connect_timeout} s: {url}") from None
        except InvalidStatus as rejected:
            response = rejected.response
            raise handshake_rejected(url, response.status_code, bytes(response.body)) from None
        except _HANDSHAKE_FAILURES as exc:
            raise ConnectFailed(f"cannot connect to {url}: {_describe(exc)}") from None


def _describe(exc: BaseException) -> str:
    """The failure, with its cause when websockets wraps one (e.g. a TLS error)."""
    cause = exc.__cause__ or exc.__context__
    return f"{exc!r} ({cause!r})" if cause is not None else repr(exc)


class _DeliveringConnection(ClientConnection):
    """websockets' Trio connection, able to hand messages over from its own reader task.

    websockets queues each message for ``recv()``: one task switch per message. Once
    ``deliver`` installs a handler, data frames are assembled here instead, in the reader
    task, and handed straight to it: under load the reader hands over every message of one
    read in one go. Until then (and for ``receive()``), websockets' own queue is used.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.send_lock = _EagerLock()  # type: ignore[assignment]
        self.handler: Callable[[str | bytes], None] | None = None
        self.fragments: list[Frame] = []
        self.failure: Exception | None = None  # what stopped the hand-over, if not closing
        self.delivery_ended = trio.Event()

    def process_event(self, event: Event) -> None:
        handing_over = self.handler is not None and self.response is not None
        if handing_over and isinstance(event, Frame) and event.opcode in DATA_OPCODES:
            self.take(event)
        else:  # the handshake, control frames, or no handler yet
            super().process_event(event)

    def start_delivery(self, handle: Callable[[str | bytes], None]) -> None:
        """From now on, messages go to ``handle``: those already queued first, in order."""
        self.handler = handle
        queued = self.recv_messages
        while self.failure is None:
            try:
                frame = queued.recv_frames.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                break
            self.take(frame)
        queued.maybe_resume()

    def take(self, frame: Frame) -> None:
        if self.failure is not None:
            return  # the hand-over has stopped; the connection is about to end
        if not frame.fin:
            self.fragments.append(frame)
            if len(self.fragments) > MAX_FRAGMENTS:
                self.stop(_TooManyFragments())
            return
        first, data = frame, frame.data
        if self.fragments:  # the last frame of a fragmented message
            first = self.fragments[0]
            data = b"".join(part.data for part in (*self.fragments, frame))
            self.fragments = []
        assert self.handler is not None
        try:
            self.handler(str(data, "utf-8") if first.opcode is Opcode.TEXT else bytes(data))
        except Exception as exc:  # invalid UTF-8, or the handler's own
            self.stop(exc)

    def stop(self, failure: Exception) -> None:
        self.failure = failure
        self.delivery_ended.set()

    async def send_data(self) -> None:
        # The reader calls this after every read, for what the protocol has to say (a pong, a
        # close frame); mostly nothing. Then there is no lock to take, and no trip through
        # the scheduler before the read's messages are handled.
        if self.protocol.writes:
            await super().send_data()

    async def close_stream(self) -> None:
        try:
            await super().close_stream()
        finally:
            self.delivery_ended.set()


class _EagerLock:
    """websockets' send lock, taken at once when free: ``trio.Lock`` checkpoints even then,
    a trip through the scheduler before every write. The write that follows is a checkpoint
    anyway. Fair as ``trio.Lock`` is: a released lock goes to the longest waiter."""

    def __init__(self) -> None:
        self._lock = trio.Lock()

    async def __aenter__(self) -> None:
        try:
            self._lock.acquire_nowait()
        except trio.WouldBlock:
            await self._lock.acquire()

    async def __aexit__(self, *exc_info: object) -> None:
        self._lock.release()


class _TooManyFragments(Exception):
    """A message in more fragments than websockets allows (``MAX_FRAGMENTS``)."""


class _WebsocketsConnection:
    __slots__ = ("_ws",)

    def __init__(self, ws: _DeliveringConnection) -> None:
        self._ws = ws

    @property
    def last_received(self) -> float:
        """``trio.current_time()`` when bytes last arrived, pings included."""
        stream = self._ws.stream
        assert isinstance(stream, ActivityStream)  # always: see _handshake
        return stream.last_received

    async def send(self, frame: str | bytes) -> None:
        # Our frames are JSON text; ``text=True`` sends UTF-8 ``bytes`` as a text frame as is.
        try:
            await self._ws.send(frame, text=True)
        except ConnectionClosed as exc:
            raise _closed(exc) from None

    async def send_batch(self, frames: Sequence[bytes]) -> None:
        """All ``frames`` framed by websockets' protocol, then written with one system call.

        Joining the protocol's pending writes turns one ``send_all`` per frame into one for
        the batch. On an open connection this does what websockets' ``send_context`` does
        there, without the cost of an async context manager on every write (1.3 us): frame,
        write, and on a failed write fail the connection.
        """
        ws = self._ws
        protocol = ws.protocol
        if protocol.state is not State.OPEN:
            await self._fail_closed()
        for frame in frames:
            protocol.send_text(frame)
        if len(frames) > 1:
            protocol.writes = [b"".join(protocol.data_to_send())]
        try:
            await ws.send_data()
        except Exception as exc:  # as send_context: any write error loses the connection
            ws.set_connection_exc(exc)
            await ws.close_stream()
            raise _closed(ws.close_exc) from None

    async def _fail_closed(self) -> NoReturn:
        """The connection is closing or closed: websockets' ``send_context`` waits for the
        close to end, then raises its ``ConnectionClosed``."""
        try:
            async with self._ws.send_context():
                pass  # pragma: no cover (never reached on a connection that is not open)
        except ConnectionClosed as exc:
            raise _closed(exc) from None
        raise AssertionError("send_context let a write through")  # pragma: no cover

    async def receive(self) -> str | bytes:
        try:
            return await self._ws.recv()
        except ConnectionClosed as exc:
            raise _closed(exc) from None

    async def deliver(self, handle: Callable[[str | bytes], None]) -> None:
        ws = self._ws
        ws.start_delivery(handle)
        try:
            await ws.delivery_ended.wait()
        finally:
            ws.handler = None  # nothing more for a caller that has gone
        failure = ws.failure
        if failure is not None and not isinstance(failure, UnicodeDecodeError | _TooManyFragments):
            raise failure
        if failure is not None:
            # As websockets' recv() does: the message breaks the protocol, so the connection
            # fails (RFC 6455 8.1: 1007 for invalid UTF-8; 1009 for too many fragments).
            ws.set_connection_exc(failure)
            try:
                async with ws.send_context():
                    ws.protocol.fail(*_failure_close(failure))
            except ConnectionClosed as exc:
                raise _closed(exc) from None
        await ws.stream_closed.wait()  # close_exc is only final once the stream is closed
        raise _closed(ws.close_exc)

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        try:
            await self._ws.aclose(code, reason)
        finally:
            # websockets waits for the peer's TCP close after the handshake; we are done.
            await self.abort()

    async def abort(self) -> None:
        # Closing the stream drops the connection without a close frame; websockets' reader
        # sees it closed and ends.
        await trio.aclose_forcefully(self._ws.stream)


def _failure_close(failure: Exception) -> tuple[CloseCode, str]:
    if isinstance(failure, UnicodeDecodeError):
        return CloseCode.INVALID_DATA, f"{failure.reason} at position {failure.start}"
    return CloseCode.MESSAGE_TOO_BIG, "too many fragments"


def _closed(exc: ConnectionClosed) -> TransportClosed:
    """The close frame of whichever side closed first, as trio-websocket reports it: the
    peer's, or ours when we closed (e.g. 1009 for a message over the size limit)."""
    frame = exc.sent if exc.rcvd_then_sent is False else (exc.rcvd or exc.sent)
    if frame is None or frame.code == 1006:  # 1006: closed with no close frame
        return TransportClosed(None, None)
    return TransportClosed(frame.code, frame.reason)
