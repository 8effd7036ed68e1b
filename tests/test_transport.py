"""The transports, each over real loopback connections: handshake failures, TLS, close codes,
abort, message size, pings. Like every async test, each runs once per transport (conftest);
``transport_named`` builds the test's transport with settings of its own."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
import trio_websocket
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import trio_binance
from trio_binance import (
    ConnectFailed,
    InvalidParameter,
    ResponseLost,
    Transport,
    TransportClosed,
    TransportName,
    TrioWebsocketTransport,
    WebsocketsTransport,
)
from trio_binance._nursery import background_nursery
from trio_binance._params import WireParams
from trio_binance._transport import DEFAULT_MAX_MESSAGE_SIZE, resolve_transport
from trio_binance.testing import LocalExchange, Request, open_local_exchange
from trio_binance.testing._limits import Limit, RateLimitConfig

Handler = Callable[[trio_websocket.WebSocketRequest], Awaitable[None]]


def transport_named(name: TransportName, **settings: Any) -> Transport:
    if name == "websockets":
        return WebsocketsTransport(**settings)
    return TrioWebsocketTransport(**settings)


@asynccontextmanager
async def serving(
    handler: Handler, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[str]:
    """A bare trio-websocket server on loopback running ``handler``; yields its URL."""
    async with trio.open_nursery() as nursery:
        server = await nursery.start(
            trio_websocket.serve_websocket, handler, "127.0.0.1", 0, ssl_context
        )
        scheme = "wss" if ssl_context else "ws"
        yield f"{scheme}://127.0.0.1:{server.port}/ws-api/v3"
        nursery.cancel_scope.cancel()


@asynccontextmanager
async def opened(transport: Transport, url: str) -> AsyncIterator[trio_binance.Connection]:
    async with background_nursery() as nursery:
        connection = await transport.open(nursery, url)
        try:
            yield connection
        finally:
            await connection.abort()


# --- choosing a transport ---------------------------------------------------------------


def test_a_transport_is_chosen_by_name_or_given_as_is() -> None:
    assert isinstance(resolve_transport("trio-websocket"), TrioWebsocketTransport)
    assert isinstance(resolve_transport("websockets"), WebsocketsTransport)
    mine = WebsocketsTransport(max_message_size=1)
    assert resolve_transport(mine) is mine
    with pytest.raises(ValueError, match="unknown transport 'aiohttp'"):
        resolve_transport("aiohttp")  # type: ignore[arg-type]


def test_websockets_transport_is_public_and_says_so() -> None:
    assert trio_binance.WebsocketsTransport is WebsocketsTransport
    assert WebsocketsTransport.__module__ == "trio_binance"
    with pytest.raises(AttributeError):
        _ = trio_binance.NoSuchThing


def test_without_the_fast_extra_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [m for m in sys.modules if m == "websockets" or m.startswith("websockets.")]:
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed
    monkeypatch.delitem(sys.modules, "trio_binance._transport_websockets")
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'trio-binance-ws\[fast\]'"):
        resolve_transport("websockets")
    assert isinstance(resolve_transport(None), TrioWebsocketTransport)


def test_importing_trio_binance_does_not_import_websockets() -> None:
    code = "import sys, trio_binance; print(sorted(m for m in sys.modules if 'websockets' in m))"
    imported = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert imported.stdout.strip() == "[]"


async def test_the_session_uses_the_transport_asked_for() -> None:
    async with open_local_exchange(LocalExchange()) as exchange:
        for name in ("trio-websocket", "websockets"):
            async with trio_binance.connect(exchange.url, transport=name) as session:
                assert (await session.server_time()).server_time > 0
        # Without ``transport=``: the default, which this test run sets per transport.
        async with trio_binance.connect(exchange.url) as session:
            assert await session.request("ping") == {}


# --- the handshake ------------------------------------------------------------------------


async def test_rejected_handshake_carries_status_and_retry_after(
    autojump_clock: trio.testing.MockClock,
) -> None:
    one_per_5_minutes = Limit("CONNECTIONS", "MINUTE", 5, 1)
    exchange = LocalExchange(limits=RateLimitConfig(connections=(one_per_5_minutes,)))
    async with open_local_exchange(exchange) as served:
        async with trio_binance.connect(served.url):
            pass
        with pytest.raises(ConnectFailed, match="rejected the handshake with HTTP 429") as caught:
            async with trio_binance.connect(served.url):
                pytest.fail("the body must not run")
    assert caught.value.status == 429
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > served.now_ms()
    assert "HTTP 429: -1034 Too many connection attempts" in str(caught.value)


async def test_banned_ip_is_rejected_with_418_until_the_ban_ends(
    autojump_clock: trio.testing.MockClock,
) -> None:
    one_per_5_minutes = Limit("CONNECTIONS", "MINUTE", 5, 1)
    limits = RateLimitConfig(connections=(one_per_5_minutes,))
    async with open_local_exchange(LocalExchange(limits=limits)) as served:
        statuses = []
        for _ in range(limits.ban.tolerated_refusals + 3):
            try:
                async with trio_binance.connect(served.url):
                    pass
            except ConnectFailed as failure:
                statuses.append(failure.status)
                last = failure
    assert statuses[-1] == 418
    assert 429 in statuses
    assert last.retry_after is not None and last.retry_after > served.now_ms()


async def test_rejection_without_a_binance_body_is_quoted(
    transport_name: TransportName,
) -> None:
    async def refuse(request: trio_websocket.WebSocketRequest) -> None:
        await request.reject(503, body=b"<html>maintenance</html>")

    async with serving(refuse) as url:
        with pytest.raises(ConnectFailed, match="HTTP 503: <html>maintenance</html>") as caught:
            async with opened(transport_named(transport_name), url):
                pytest.fail("a rejected handshake must not connect")
    assert caught.value.status == 503
    assert caught.value.retry_after is None


async def test_no_handshake_in_time_fails_to_connect(
    transport_name: TransportName, autojump_clock: trio.testing.MockClock
) -> None:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.serve_listeners, _never_answer, listeners)
        transport = transport_named(transport_name, connect_timeout=3.0)
        with pytest.raises(ConnectFailed, match=r"no handshake within 3\.0 s"):
            async with trio_binance.connect(f"ws://127.0.0.1:{port}/", transport=transport):
                pass
        assert trio.current_time() == pytest.approx(3.0)
        nursery.cancel_scope.cancel()


async def _never_answer(stream: trio.SocketStream) -> None:
    await trio.sleep_forever()


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/", "ws:///no-host", "127.0.0.1:9443"])
async def test_a_url_that_is_not_a_websocket_url_fails_to_connect(url: str) -> None:
    with pytest.raises(ConnectFailed, match="not a WebSocket URL"):
        async with trio_binance.connect(url):
            pass


# --- TLS ----------------------------------------------------------------------------------


def self_signed(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a fresh self-signed certificate, and a client one trusting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert_pem)
    key_file.write_bytes(key_pem)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return server, client


async def _echo(request: trio_websocket.WebSocketRequest) -> None:
    ws = await request.accept()
    with contextlib.suppress(trio_websocket.ConnectionClosed):  # the client left
        while True:
            await ws.send_message(await ws.get_message())


async def test_tls_certificates_are_verified_by_default(
    transport_name: TransportName, tmp_path: Path
) -> None:
    server_context, client_context = self_signed(tmp_path)
    async with serving(_echo, server_context) as url:
        with pytest.raises(ConnectFailed, match=r"TLS handshake with 127\.0\.0\.1 failed.*CERTIF"):
            async with opened(transport_named(transport_name), url):
                pytest.fail("an untrusted certificate must not connect")
        trusting = transport_named(transport_name, ssl_context=client_context)
        async with opened(trusting, url) as connection:
            await connection.send(b'{"id":1}')
            assert await connection.receive() == '{"id":1}'


# --- frames and closing ---------------------------------------------------------------------


async def test_messages_up_to_the_size_limit_arrive_whole(
    transport_name: TransportName,
) -> None:
    big = "x" * (DEFAULT_MAX_MESSAGE_SIZE // 8)  # 2 MiB: more than exchangeInfo, for one

    async def send_big(request: trio_websocket.WebSocketRequest) -> None:
        ws = await request.accept()
        await ws.send_message(big)
        await ws.send_message(b"\x00binary")
        await trio.sleep_forever()

    async with serving(send_big) as url, opened(transport_named(transport_name), url) as conn:
        assert await conn.receive() == big
        assert await conn.receive() == b"\x00binary"


async def test_a_message_over_the_limit_closes_with_1009(
    transport_name: TransportName,
) -> None:
    async def send_too_big(request: trio_websocket.WebSocketRequest) -> None:
        ws = await request.accept()
        await ws.send_message("x" * 2000)
        with pytest.raises(trio_websocket.ConnectionClosed):
            await ws.get_message()

    small = transport_named(transport_name, max_message_size=1000)
    async with serving(send_too_big) as url, opened(small, url) as connection:
        with pytest.raises(TransportClosed) as caught:
            await connection.receive()
    assert caught.value.code == 1009
    with pytest.raises(TransportClosed):
        await connection.send(b"{}")


async def test_close_and_abort_as_the_server_sees_them(
    transport_name: TransportName,
) -> None:
    seen: list[int | None] = []
    both_seen = trio.Event()

    async def record_close(request: trio_websocket.WebSocketRequest) -> None:
        ws = await request.accept()
        try:
            await ws.get_message()
        except trio_websocket.ConnectionClosed as closed:
            seen.append(closed.reason.code if closed.reason else None)
        if len(seen) == 2:
            both_seen.set()

    transport = transport_named(transport_name)
    async with serving(record_close) as url:
        async with opened(transport, url) as connection:
            await connection.aclose(4000, "bye")
        async with opened(transport, url) as connection:
            await connection.abort()
        with trio.fail_after(5):
            await both_seen.wait()
    assert seen == [4000, 1006]  # 1006: the connection ended with no close frame


async def test_server_close_frame_reaches_the_receiver_and_later_sends(
    transport_name: TransportName,
) -> None:
    async def close_with_reason(request: trio_websocket.WebSocketRequest) -> None:
        ws = await request.accept()
        await ws.aclose(1001, "going away")

    async with (
        serving(close_with_reason) as url,
        opened(transport_named(transport_name), url) as connection,
    ):
        with pytest.raises(TransportClosed) as caught:
            await connection.receive()
        with pytest.raises(TransportClosed) as caught_sending:
            await connection.send_batch([b"{}", b"{}"])  # after the close handshake
    assert (caught.value.code, caught.value.reason) == (1001, "going away")
    assert str(caught.value) == "connection closed with code 1001 (going away)"
    assert (caught_sending.value.code, caught_sending.value.reason) == (1001, "going away")


@pytest.mark.transport_specific
async def test_a_failed_write_on_the_fast_transport_loses_the_connection() -> None:
    received: list[object] = []
    first_received = trio.Event()

    async def read_all(request: trio_websocket.WebSocketRequest) -> None:
        ws = await request.accept()
        with contextlib.suppress(trio_websocket.ConnectionClosed):
            while True:
                received.append(await ws.get_message())
                first_received.set()

    async def broken_pipe(data: object) -> None:
        raise trio.BrokenResourceError("the write failed")

    async with (
        serving(read_all) as url,
        opened(transport_named("websockets"), url) as connection,
    ):
        await connection.send_batch([b'{"n":1}'])
        with trio.fail_after(5):
            await first_received.wait()
        connection._ws.stream.send_all = broken_pipe  # type: ignore[attr-defined]
        with pytest.raises(TransportClosed) as caught:
            await connection.send_batch([b'{"n":2}'])
        assert caught.value.code is None  # 1006: no close frame could be sent
        with pytest.raises(TransportClosed):
            await connection.send_batch([b'{"n":3}'])  # the connection stays lost
        with pytest.raises(TransportClosed), trio.fail_after(5):
            await connection.deliver(received.append)  # the reader has stopped too
    assert received == ['{"n":1}']


async def test_deliver_hands_over_every_message_in_order_queued_ones_first(
    transport_name: TransportName,
) -> None:
    from wsproto.events import BytesMessage, TextMessage

    async def send_all_kinds(request: trio_websocket.WebSocketRequest) -> None:
        ws = await request.accept()
        for number in range(1, 4):  # at once: two of them wait in the transport's queue
            await ws.send_message(f"m{number}")
        await ws.get_message()  # then, once the client delivers (wsproto, for fragments):
        await ws._send(TextMessage(data="frag", message_finished=False))
        await ws._send(TextMessage(data="mented", message_finished=True))
        await ws._send(BytesMessage(data=b"\x01", message_finished=False))
        await ws._send(BytesMessage(data=b"\x02", message_finished=True))
        await ws.aclose(1001, "done")

    got: list[str | bytes] = []
    async with (
        serving(send_all_kinds) as url,
        opened(transport_named(transport_name), url) as connection,
    ):
        assert await connection.receive() == "m1"
        await connection.send(b"go")
        with pytest.raises(TransportClosed) as caught, trio.fail_after(5):
            await connection.deliver(got.append)
    assert got == ["m2", "m3", "fragmented", b"\x01\x02"]
    assert (caught.value.code, caught.value.reason) == (1001, "done")


async def test_a_message_over_the_limit_ends_delivery_with_1009_and_nothing_after_it(
    transport_name: TransportName,
) -> None:
    from wsproto.events import TextMessage

    async def send_too_big_between(request: trio_websocket.WebSocketRequest) -> None:
        ws = await request.accept()
        await ws.get_message()  # once the client delivers: three messages in one write
        frames = [ws._wsproto.send(TextMessage(data=m)) for m in ("before", "x" * 2000, "after")]
        await ws._stream.send_all(b"".join(frames))
        with pytest.raises(trio_websocket.ConnectionClosed):
            await ws.get_message()

    got: list[str | bytes] = []
    small = transport_named(transport_name, max_message_size=1000)
    async with serving(send_too_big_between) as url, opened(small, url) as connection:
        await connection.send(b"go")
        with pytest.raises(TransportClosed) as caught, trio.fail_after(5):
            await connection.deliver(got.append)
    assert caught.value.code == 1009
    assert got == ["before"]


@pytest.mark.transport_specific
async def test_without_trio_websockets_channel_deliver_reads_it_message_by_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from trio_binance import _handover

    class Elsewhere:  # a trio-websocket that keeps its messages some other way
        pass

    assert _handover.install(Elsewhere()) is None  # type: ignore[arg-type]
    monkeypatch.setattr(_handover, "install", lambda ws: None)

    async def send_two(request: trio_websocket.WebSocketRequest) -> None:
        ws = await request.accept()
        await ws.send_message("one")
        await ws.send_message(b"two")
        await ws.aclose(1000, "bye")

    got: list[str | bytes] = []
    async with serving(send_two) as url, opened(TrioWebsocketTransport(), url) as connection:
        with pytest.raises(TransportClosed) as caught, trio.fail_after(5):
            await connection.deliver(got.append)
    assert got == ["one", b"two"] and caught.value.code == 1000


async def test_what_the_handler_raises_ends_delivery_and_reaches_the_caller(
    transport_name: TransportName,
) -> None:
    async def send_three(request: trio_websocket.WebSocketRequest) -> None:
        ws = await request.accept()
        for number in range(3):
            await ws.send_message(str(number))
        await trio.sleep_forever()

    got: list[str | bytes] = []

    def take(message: str | bytes) -> None:
        if message == "1":
            raise LookupError("the handler's own failure")
        got.append(message)

    async with (
        serving(send_three) as url,
        opened(transport_named(transport_name), url) as connection,
    ):
        with pytest.raises(LookupError, match="handler's own"), trio.fail_after(5):
            await connection.deliver(take)
    assert got == ["0"]  # nothing after the failure


async def test_exchange_pings_are_answered_so_an_idle_session_stays_up(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # The local exchange pings every 20 s and drops a connection that misses pongs for 60 s.
    async with (
        open_local_exchange(LocalExchange()) as exchange,
        trio_binance.connect(exchange.url) as session,
    ):
        await trio.sleep(600)
        assert not session.closed
        assert await session.request("ping") == {}


async def test_requests_in_flight_when_the_connection_drops_learn_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with (
        open_local_exchange(LocalExchange()) as exchange,
        trio_binance.connect(exchange.url) as session,
    ):
        exchange.faults.drop("ping", close_frame=False)
        with pytest.raises(ResponseLost, match="connection lost"):
            await session.request("ping")


# --- what the send task writes -------------------------------------------------------------


class _SignsAllButBoom:
    """A signer that cannot sign ``boom``: its request fails when its frame is rendered."""

    def stamp(self, method: str, params: WireParams) -> WireParams:
        if method == "boom":
            raise InvalidParameter("signature", "cannot be made for boom")
        return params


async def test_batched_requests_fail_or_go_one_by_one(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: list[Any] = []

    def record(request: Request) -> dict[str, Any]:
        seen.append(request.params["n"])
        return request.params

    exchange = LocalExchange()
    exchange.register("record", record)
    async with (
        open_local_exchange(exchange) as served,
        trio_binance.connect(served.url, signer=_SignsAllButBoom()) as session,
    ):
        with trio.CancelScope() as gave_up:
            # The caller leaves at its first checkpoint, once queued: whether the send task
            # took it first (and wrote it) or not is a race; either way nothing waits for it.
            gave_up.cancel()
            await session.request("record", {"n": -1})
        results: dict[int, Any] = {}

        async def call(n: int) -> None:
            try:
                results[n] = await session.request("record", {"n": n})
            except InvalidParameter as exc:
                results[n] = exc

        async with trio.open_nursery() as nursery:
            for n in range(100):  # queued together: written in batches
                nursery.start_soon(call, n)
            nursery.start_soon(partial(call, 100))
            with pytest.raises(InvalidParameter, match="cannot be made for boom"):
                await session.request("boom", {"n": 101}, signed=True)
        assert [results[n] for n in range(101)] == [{"n": n} for n in range(101)]
        gave_up_sent = -1 in seen
        assert sorted(n for n in seen if n >= 0) == list(range(101))  # boom never written
        stats = session.statistics()
        assert (stats.requests_sent, stats.in_flight) == (101 + gave_up_sent, 0)
