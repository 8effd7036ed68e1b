"""The narrow seam between a session and the WebSocket library underneath it.

A session needs four things from a WebSocket: open it, send a text frame, receive the next
frame, close it. :class:`Transport` is that seam; :class:`TrioWebsocketTransport` implements
it with trio-websocket, the default, and ``_transport_websockets.WebsocketsTransport`` with
websockets' native Trio client, the fast option. Errors of the library underneath are mapped
at this boundary to :class:`TransportClosed` and ``ConnectFailed``, so nothing above it knows
which library carries the frames.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import ssl
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol
from urllib.parse import urlsplit

import msgspec
import trio
import trio_websocket
import wsproto.utilities

from trio_binance import _handover as handover
from trio_binance._exceptions import ConnectFailed

logger = logging.getLogger("trio_binance.transport")

# exchangeInfo for all symbols is well over 1 MiB, trio-websocket's default limit.
DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024
# Large reads mean fewer wakeups when frames arrive in bursts.
DEFAULT_RECEIVE_BUFFER_SIZE = 64 * 1024
# Frames trio-websocket may buffer between its reader and ours; ours drains it promptly.
DEFAULT_MESSAGE_QUEUE_SIZE = 256
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_CLOSE_TIMEOUT = 5.0

TransportName = Literal["trio-websocket", "websockets"]
"""The transports ``connect(transport=...)`` knows by name, each with its default settings."""
# What ``transport=None`` means. A constant, not a setting: the suite's conftest patches it to
# run every test on each transport.
DEFAULT_TRANSPORT: TransportName = "trio-websocket"


class InsecureTransportWarning(UserWarning):
    """A connection that does not verify who it talks to: API keys, signatures and orders
    can be read and changed by anyone on the path. Only ever for local testing."""


class TransportClosed(Exception):
    """The connection is closed; ``code`` and ``reason`` come from the close frame if any."""

    def __init__(self, code: int | None, reason: str | None) -> None:
        self.code = code
        self.reason = reason
        super().__init__(self.describe())

    def describe(self) -> str:
        if self.code is None:
            return "connection lost"
        return f"connection closed with code {self.code}" + (
            f" ({self.reason})" if self.reason else ""
        )


class Connection(Protocol):
    """An open WebSocket connection, as a session uses it."""

    async def send(self, frame: str | bytes) -> None:
        """Send one text frame (``bytes`` are UTF-8 JSON sent as text)."""

    async def send_batch(self, frames: Sequence[bytes]) -> None:
        """Send text frames in order, in as few writes as the library allows."""

    async def receive(self) -> str | bytes:
        """The next frame: ``str`` for text, ``bytes`` for binary frames."""
        ...

    async def deliver(self, handle: Callable[[str | bytes], None]) -> None:
        """Hand every message, in order, to ``handle`` until the connection ends.

        Raises ``TransportClosed`` then, or what ``handle`` raised (no message is handed
        over after that). ``handle`` must not block: a transport may call it from its own
        reader task, saving a task switch per message. Not while a ``receive`` is waiting.
        """

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        """Close with a close frame, as far as the peer lets us; never raises."""

    async def abort(self) -> None:
        """Drop the connection at once, with no close handshake."""


class Transport(Protocol):
    """Opens connections; selected per session."""

    async def open(self, nursery: trio.Nursery, url: str) -> Connection:
        """Connect to ``url``; background tasks of the connection run in ``nursery``."""
        ...


def resolve_transport(transport: Transport | TransportName | None) -> Transport:
    """The transport asked for: an instance as is, a name built with its default settings."""
    if transport is None:
        transport = DEFAULT_TRANSPORT
    if not isinstance(transport, str):
        return transport
    if transport == "trio-websocket":
        return TrioWebsocketTransport()
    if transport == "websockets":
        # Imported here: websockets is an optional dependency (the ``fast`` extra).
        try:
            from trio_binance._transport_websockets import WebsocketsTransport
        except ModuleNotFoundError as exc:
            if exc.name is None or not exc.name.startswith("websockets"):
                raise
            raise ModuleNotFoundError(
                "the 'websockets' transport needs websockets >= 17.0.1: "
                "pip install 'trio-binance-ws[fast]'",
                name=exc.name,
            ) from exc
        return WebsocketsTransport()
    raise ValueError(f"unknown transport {transport!r}: use 'trio-websocket' or 'websockets'")


class TrioWebsocketTransport:
    """The default transport, built on trio-websocket.

    TLS certificates and host names are always verified against the system's trust store.
    ``ssl_context`` replaces it (e.g. a private CA); a context that does not verify, or
    ``insecure_skip_verify=True``, works but warns with :class:`InsecureTransportWarning`.
    ``message_queue_size`` is how many messages trio-websocket may queue for ``receive()``
    before it stops reading; sessions and stream clients take messages by ``deliver``,
    straight from trio-websocket's reader, and never fill it.
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        insecure_skip_verify: bool = False,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        receive_buffer_size: int = DEFAULT_RECEIVE_BUFFER_SIZE,
        message_queue_size: int = DEFAULT_MESSAGE_QUEUE_SIZE,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    ) -> None:
        self.ssl_context = tls_context(ssl_context, insecure_skip_verify=insecure_skip_verify)
        self.max_message_size = max_message_size
        self.receive_buffer_size = receive_buffer_size
        self.message_queue_size = message_queue_size
        self.connect_timeout = connect_timeout

    async def open(self, nursery: trio.Nursery, url: str) -> Connection:
        connection: Connection = await nursery.start(self._host_connection, url)
        return connection

    async def _host_connection(self, url: str, *, task_status: trio.TaskStatus[Connection]) -> None:
        """Run trio-websocket's reader in a nursery of our own, for the connection's life.

        trio-websocket reports a rejected handshake from its reader task, so the reader needs
        a nursery whose failures we can map to ``ConnectFailed``; after the handshake, the
        reader ending (the connection closed) is not an error of ours.
        """
        started = False
        try:
            async with trio.open_nursery() as reader_nursery:
                ws = await self._handshake(reader_nursery, url)
                task_status.started(_TrioWebsocketConnection(ws))
                started = True
        except BaseExceptionGroup as group:
            if started and _pong_refused_while_closing(group):
                return  # the connection is closed, as it was being closed
            failure = _connect_failure(group)
            if failure is None or started:
                raise
            if isinstance(failure, ConnectFailed):
                raise failure from None
            if isinstance(failure, trio_websocket.ConnectionRejected):
                raise handshake_rejected(url, failure.status_code, failure.body) from None
            raise ConnectFailed(f"cannot connect to {url}: {failure!r}") from None

    async def _handshake(
        self, nursery: trio.Nursery, url: str
    ) -> trio_websocket.WebSocketConnection:
        target = Target.parse(url)
        try:
            with trio.fail_after(self.connect_timeout):
                stream = ActivityStream(await open_stream(target, self.ssl_context))
                try:
                    return await trio_websocket.wrap_client_stream(
                        nursery,
                        stream,  # type: ignore[arg-type]  # it only uses the Stream interface
                        target.host_header,
                        target.resource,
                        max_message_size=self.max_message_size,
                        receive_buffer_size=self.receive_buffer_size,
                        message_queue_size=self.message_queue_size,
                    )
                finally:
                    # A rejected or timed-out handshake cancels us here: the socket is ours.
                    if trio.current_effective_deadline() == -math.inf:
                        await trio.aclose_forcefully(stream)
        except trio.TooSlowError:
            raise ConnectFailed(f"no handshake within {self.connect_timeout} s: {url}") from None


async def open_stream(
    target: Target, ssl_context: ssl.SSLContext | None
) -> trio.SocketStream | trio.SSLStream[trio.SocketStream]:
    """The TCP (and, for ``wss://``, TLS) stream a WebSocket handshake runs over."""
    if not target.secure:
        if not _is_loopback(target.host):
            warnings.warn(
                f"unencrypted ws:// connection to {target.host}: use wss:// beyond loopback",
                InsecureTransportWarning,
                stacklevel=2,
            )
        return await trio.open_tcp_stream(target.host, target.port)
    # TLS always verifies certificates: the default context does, and a caller's own context
    # is the only way to change that.
    context = ssl_context or ssl.create_default_context()
    stream = await trio.open_ssl_over_tcp_stream(
        target.host, target.port, ssl_context=context, https_compatible=True
    )
    try:
        # Here, not on the first write: trio-websocket would otherwise wait for a handshake
        # reply that never comes until the connect deadline.
        await stream.do_handshake()
    except trio.BrokenResourceError as exc:
        await trio.aclose_forcefully(stream)
        raise ConnectFailed(f"TLS handshake with {target.host} failed: {exc.__cause__}") from exc
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise
    return stream


@dataclass(frozen=True)
class Target:
    """Where a ``ws://`` or ``wss://`` URL points; a URL of any other form is refused."""

    host: str
    port: int
    resource: str
    secure: bool

    @classmethod
    def parse(cls, url: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ConnectFailed(f"not a WebSocket URL (ws:// or wss://): {url}")
        secure = parts.scheme == "wss"
        port = parts.port or (443 if secure else 80)
        resource = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(parts.hostname, port, resource, secure)

    @property
    def host_header(self) -> str:
        default = 443 if self.secure else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


class _RejectionError(msgspec.Struct):
    code: int | None = None
    msg: str | None = None
    data: dict[str, object] | None = None


class _Rejection(msgspec.Struct):
    """The body Binance sends with a refused handshake: an error response with no id."""

    error: _RejectionError


_rejection_decoder = msgspec.json.Decoder(_Rejection)


def handshake_rejected(url: str, status: int, body: bytes | None) -> ConnectFailed:
    """The server answered the handshake with an HTTP error (``status``) instead of 101.

    Binance refuses a connection over the connection limit with 429 and a banned IP with 418,
    with an error body whose ``data.retryAfter`` says when to try again ("IP limits" in
    web-socket-api.md); any other body is quoted, shortened.
    """
    try:
        error = _rejection_decoder.decode(body or b"").error
    except (msgspec.DecodeError, msgspec.ValidationError):
        text = (body or b"").decode("utf-8", "replace").strip()[:200]
        detail = f": {text}" if text else ""
        retry_after = None
    else:
        detail = f": {error.code} {error.msg}" if error.msg else ""
        retry = (error.data or {}).get("retryAfter")
        retry_after = retry if isinstance(retry, int) else None
    return ConnectFailed(
        f"cannot connect to {url}: the server rejected the handshake with HTTP {status}{detail}",
        status=status,
        body=body or b"",
        retry_after=retry_after,
    )


def _pong_refused_while_closing(group: BaseExceptionGroup[BaseException]) -> bool:
    """Whether ``group`` is only trio-websocket's reader failing to answer a ping after our
    Close frame went out (python-trio/trio-websocket#184): wsproto refuses to send anything
    then, and RFC 6455 §5.5.1 owes nothing after a Close, so the close simply completes."""
    refused, rest = group.split(wsproto.utilities.LocalProtocolError)
    return refused is not None and rest is None


def tls_context(
    ssl_context: ssl.SSLContext | None, *, insecure_skip_verify: bool
) -> ssl.SSLContext | None:
    """The TLS policy every transport applies: verified unless turned off explicitly, loudly.

    ``None`` means the system trust store, verified, at connect time.
    """
    if insecure_skip_verify:
        if ssl_context is not None:
            raise ValueError("give ssl_context or insecure_skip_verify, not both")
        ssl_context = ssl.create_default_context()
        ssl_context.check_hostname = False
        ssl_context.verify_mode = ssl.CERT_NONE
    if ssl_context is not None and not _verifies(ssl_context):
        warnings.warn(
            "TLS certificate verification is OFF for this transport: anyone on the network "
            "path can read and alter API keys, signatures and orders",
            InsecureTransportWarning,
            stacklevel=3,
        )
    return ssl_context


def _verifies(context: ssl.SSLContext) -> bool:
    return context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _connect_failure(group: BaseExceptionGroup[BaseException]) -> BaseException | None:
    """The handshake failure inside ``group``, if that is all it holds."""
    failures = group.subgroup((OSError, trio_websocket.HandshakeError, ConnectFailed))
    rest = group.split((OSError, trio_websocket.HandshakeError, ConnectFailed))[1]
    if failures is None or rest is not None:
        return None
    first: BaseException = failures
    while isinstance(first, BaseExceptionGroup):
        first = first.exceptions[0]
    return first


class ActivityStream(trio.abc.Stream):
    """The byte stream under a WebSocket library, noting when bytes last arrived.

    Both libraries answer pings inside their reader and tell no one, so a ping proves the link
    alive only here, below it: a dead-link detector needs "anything at all received", pings
    included, not just messages.
    """

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.inner = stream
        self.last_received = trio.current_time()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        data = await self.inner.receive_some(max_bytes)
        self.last_received = trio.current_time()
        return data

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self.inner.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self.inner.wait_send_all_might_not_block()

    async def aclose(self) -> None:
        await self.inner.aclose()


class _TrioWebsocketConnection:
    def __init__(self, ws: trio_websocket.WebSocketConnection) -> None:
        self._ws = ws
        self._handover = handover.install(ws)

    @property
    def last_received(self) -> float:
        stream = self._ws._stream
        return stream.last_received if isinstance(stream, ActivityStream) else math.inf

    async def send(self, frame: str | bytes) -> None:
        # Our frames are JSON text; trio-websocket sends ``bytes`` as binary frames.
        text = frame.decode() if isinstance(frame, bytes) else frame
        try:
            await self._ws.send_message(text)
        except trio_websocket.ConnectionClosed as exc:
            raise _closed(exc.reason) from None

    async def send_batch(self, frames: Sequence[bytes]) -> None:
        # trio-websocket writes each message on its own: no batch to be had.
        for frame in frames:
            await self.send(frame)

    async def receive(self) -> str | bytes:
        try:
            return await self._ws.get_message()
        except trio_websocket.ConnectionClosed as exc:
            raise _closed(exc.reason) from None

    async def deliver(self, handle: Callable[[str | bytes], None]) -> None:
        # The reader calls ``handle`` itself (see _handover): no task step per message.
        messages = self._handover
        if messages is None:  # a trio-websocket we cannot hand over from
            while True:
                handle(await self.receive())
        messages.take_queued(handle)
        try:
            await messages.ended.wait()
        finally:
            messages.handler = None  # nothing more for a caller that has gone
        if messages.failure is not None:
            raise messages.failure
        message = await self.receive()  # the connection has ended: this says how
        raise AssertionError(f"a message after the connection ended: {message!r}")

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        try:
            await self._ws.aclose(code, reason or None)
        except (trio_websocket.ConnectionClosed, trio.BrokenResourceError, OSError):
            logger.debug("close handshake failed; connection already gone")
        finally:
            # After a close started by the peer, trio-websocket leaves the socket open until
            # the peer's TCP close arrives; we are done with it either way.
            await self.abort()

    async def abort(self) -> None:
        # trio-websocket has no public abort; closing the byte stream drops the connection
        # without a close frame, which is what an abort means.
        await self._ws._stream.aclose()


def _closed(reason: trio_websocket.CloseReason | None) -> TransportClosed:
    if reason is None or reason.code == 1006:  # 1006: closed with no close frame
        return TransportClosed(None, None)
    return TransportClosed(reason.code, reason.reason)
