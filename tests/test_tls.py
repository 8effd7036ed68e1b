"""TLS: certificates are verified by default; turning that off is explicit and loud.

A WebSocket server on loopback presents a certificate from a CA made in the test (with
``cryptography``). The default transport refuses it; a context trusting that CA accepts it;
``insecure_skip_verify=True`` connects but warns. Plain ``ws://`` beyond loopback warns too.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import msgspec
import pytest
import trio
import trio.testing
import trio_websocket
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import trio_binance
from trio_binance import ConnectFailed, InsecureTransportWarning, TrioWebsocketTransport
from trio_binance._transport import _is_loopback
from trio_binance._transport_websockets import WebsocketsTransport

# Every transport applies the same TLS policy.
TRANSPORT_CLASSES = pytest.mark.parametrize(
    "transport_class",
    [TrioWebsocketTransport, WebsocketsTransport],
    ids=["trio-websocket", "websockets"],
)


@dataclass(frozen=True)
class Pki:
    ca_pem: str
    server_context: ssl.SSLContext
    wrong_name_context: ssl.SSLContext
    """Signed by the same CA, for another host name."""


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA and a server certificate for 127.0.0.1 / localhost signed by it."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("trio_binance test CA"))
        .issuer_name(_name("trio_binance test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip

    def server_context(*names: x509.GeneralName) -> ssl.SSLContext:
        server_key = ec.generate_private_key(ec.SECP256R1())
        server_cert = (
            x509.CertificateBuilder()
            .subject_name(_name("trio_binance test server"))
            .issuer_name(ca_cert.subject)
            .public_key(server_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        directory = tmp_path_factory.mktemp("pki")
        cert_file, key_file = directory / "server.pem", directory / "server.key"
        cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            server_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        return context

    return Pki(
        ca_cert.public_bytes(serialization.Encoding.PEM).decode(),
        server_context(
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
        ),
        server_context(x509.DNSName("exchange.example")),
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory)


class _Request(msgspec.Struct):
    id: int


async def _answer_pings(request: trio_websocket.WebSocketRequest) -> None:
    ws = await request.accept()
    while True:
        try:
            message = await ws.get_message()
        except trio_websocket.ConnectionClosed:
            return
        request_id = msgspec.json.decode(message, type=_Request).id
        await ws.send_message(f'{{"id": {request_id}, "status": 200, "result": {{}}}}')


@asynccontextmanager
async def serving(context: ssl.SSLContext) -> AsyncIterator[str]:
    async with trio.open_nursery() as nursery:
        server = await nursery.start(
            trio_websocket.serve_websocket, _answer_pings, "127.0.0.1", 0, context
        )
        yield f"wss://127.0.0.1:{server.port}/ws-api/v3"
        nursery.cancel_scope.cancel()


@pytest.fixture
async def tls_url(pki: Pki) -> AsyncIterator[str]:
    async with serving(pki.server_context) as url:
        yield url


async def test_default_transport_refuses_an_unknown_certificate(tls_url: str) -> None:
    with trio.fail_after(5), pytest.raises(ConnectFailed, match="CERTIFICATE_VERIFY_FAILED"):
        async with trio_binance.connect(tls_url):
            pass  # pragma: no cover - never reached


@pytest.mark.transport_specific
@TRANSPORT_CLASSES
async def test_a_context_trusting_the_ca_connects(
    tls_url: str, pki: Pki, transport_class: type[TrioWebsocketTransport | WebsocketsTransport]
) -> None:
    context = ssl.create_default_context(cadata=pki.ca_pem)
    transport = transport_class(ssl_context=context)
    async with trio_binance.connect(tls_url, transport=transport) as session:
        assert await session.ping() is not None


@pytest.mark.transport_specific
@TRANSPORT_CLASSES
async def test_the_wrong_host_name_is_refused_even_with_the_ca(
    pki: Pki, transport_class: type[TrioWebsocketTransport | WebsocketsTransport]
) -> None:
    context = ssl.create_default_context(cadata=pki.ca_pem)
    transport = transport_class(ssl_context=context)
    async with serving(pki.wrong_name_context) as url:
        with pytest.raises(ConnectFailed, match="IP address mismatch"):
            async with trio_binance.connect(url, transport=transport):
                pass  # pragma: no cover - never reached


@pytest.mark.transport_specific
@TRANSPORT_CLASSES
async def test_insecure_skip_verify_connects_but_warns(
    tls_url: str, transport_class: type[TrioWebsocketTransport | WebsocketsTransport]
) -> None:
    with pytest.warns(InsecureTransportWarning, match="verification is OFF"):
        transport = transport_class(insecure_skip_verify=True)
    async with trio_binance.connect(tls_url, transport=transport) as session:
        assert await session.ping() is not None


@TRANSPORT_CLASSES
def test_a_context_that_does_not_verify_warns(
    transport_class: type[TrioWebsocketTransport | WebsocketsTransport],
) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    with pytest.warns(InsecureTransportWarning):
        transport_class(ssl_context=context)
    context.verify_mode = ssl.CERT_NONE
    with pytest.warns(InsecureTransportWarning):
        transport_class(ssl_context=context)


@TRANSPORT_CLASSES
def test_insecure_skip_verify_and_a_context_are_exclusive(
    transport_class: type[TrioWebsocketTransport | WebsocketsTransport],
) -> None:
    with pytest.raises(ValueError, match="not both"):
        transport_class(ssl_context=ssl.create_default_context(), insecure_skip_verify=True)


@TRANSPORT_CLASSES
def test_default_transport_verifies(
    transport_class: type[TrioWebsocketTransport | WebsocketsTransport],
) -> None:
    transport = transport_class()
    assert transport.ssl_context is None  # the system trust store, verified, at connect time


async def test_plain_ws_beyond_loopback_warns(autojump_clock: trio.testing.MockClock) -> None:
    transport = TrioWebsocketTransport(connect_timeout=5)
    with (
        pytest.warns(InsecureTransportWarning, match="unencrypted"),
        pytest.raises(ConnectFailed),
    ):
        # 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never routed; the warning comes first.
        async with trio_binance.connect("ws://192.0.2.1:9/ws-api/v3", transport=transport):
            pass  # pragma: no cover - never reached


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.8.8", True),
        ("::1", True),
        ("localhost", True),
        ("10.0.0.1", False),
        ("ws-api.binance.com", False),
        ("0.0.0.0", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert _is_loopback(host) is loopback
