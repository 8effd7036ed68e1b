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
from collections.abc import Sequence

import trio
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.trio.client import ClientConnection
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
    ``message_queue_size`` is how many frames websockets may buffer before it stops reading
    the socket; the session's reader drains them promptly.
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

    async def _handshake(self, nursery: trio.Nursery, url: str) -> ClientConnection:
        target = Target.parse(url)
        try:
            with trio.fail_after(self.connect_timeout):
                # Wrapped: websockets answers pings in its reader and tells no one, so only the
                # byte stream can say when anything (pings included) last arrived.
                stream = ActivityStream(await open_stream(target, self.ssl_context))
                try:
                    ws = ClientConnection(
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


class _WebsocketsConnection:
    __slots__ = ("_ws",)

    def __init__(self, ws: ClientConnection) -> None:
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

        ``send_context`` is websockets' own way to write protocol output (it checks the state,
        serialises writers and fails the connection on a write error); joining its pending
        writes turns one ``send_all`` per frame into one for the batch.
        """
        ws = self._ws
        protocol = ws.protocol
        try:
            async with ws.send_context():
                for frame in frames:
                    protocol.send_text(frame)
                if len(frames) > 1:
                    protocol.writes = [b"".join(protocol.data_to_send())]
        except ConnectionClosed as exc:
            raise _closed(exc) from None

    async def receive(self) -> str | bytes:
        try:
            return await self._ws.recv()
        except ConnectionClosed as exc:
            raise _closed(exc) from None

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


def _closed(exc: ConnectionClosed) -> TransportClosed:
    """The close frame of whichever side closed first, as trio-websocket reports it: the
    peer's, or ours when we closed (e.g. 1009 for a message over the size limit)."""
    frame = exc.sent if exc.rcvd_then_sent is False else (exc.rcvd or exc.sent)
    if frame is None or frame.code == 1006:  # 1006: closed with no close frame
        return TransportClosed(None, None)
    return TransportClosed(frame.code, frame.reason)
