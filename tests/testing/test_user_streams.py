"""The local exchange's User Data Stream methods, seen on the wire by a bare WebSocket client.

Shapes come from the documented examples (tests/fixtures/spec/methods.json and
user_data_events.json); behaviour from web-socket-api.md, "User Data Stream requests".
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio
import trio_websocket

from trio_binance._credentials import (
    Credentials,
    Ed25519Credentials,
    HmacCredentials,
    RsaCredentials,
    generate_ed25519,
)
from trio_binance.testing import LocalExchange, open_local_exchange
from trio_binance.testing._limits import Limit, RateLimitConfig
from trio_binance.testing._user_streams import UserStreams, install_user_streams

SPEC = Path(__file__).parent.parent / "fixtures" / "spec"
KEYS = Path(__file__).parent.parent / "fixtures" / "keys"
METHODS = {m["method"]: m for m in json.loads((SPEC / "methods.json").read_text())["methods"]}
EVENTS = json.loads((SPEC / "user_data_events.json").read_text())
UNLIMITED = RateLimitConfig(request_weight=(Limit("REQUEST_WEIGHT", "MINUTE", 1, 10**9),))
HMAC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"

JsonDict = dict[str, Any]


def documented_result(method: str) -> Any:
    return METHODS[method]["responses"][0]["result"]


class RawClient:
    """A bare client: JSON requests in, every frame out, nothing interpreted."""

    def __init__(self, exchange: LocalExchange, ws: trio_websocket.WebSocketConnection) -> None:
        self.exchange = exchange
        self.ws = ws
        self._ids = itertools.count(1)

    async def call(self, method: str, params: JsonDict | None = None) -> tuple[list[Any], Any]:
        """Send one request; the frames that came before its reply, and the reply."""
        request_id = next(self._ids)
        request: JsonDict = {"id": request_id, "method": method}
        if params is not None:
            request["params"] = params
        await self.ws.send_message(json.dumps(request))
        before: list[Any] = []
        while True:
            frame = json.loads(await self.ws.get_message())
            if frame.get("id") == request_id:
                return before, frame
            before.append(frame)

    async def result(self, method: str, params: JsonDict | None = None) -> Any:
        _, reply = await self.call(method, params)
        assert reply["status"] == 200, reply
        return reply["result"]

    async def error(self, method: str, params: JsonDict | None = None) -> tuple[int, int, str]:
        _, reply = await self.call(method, params)
        assert "error" in reply, reply
        return reply["status"], reply["error"]["code"], reply["error"]["msg"]

    def signed(self, credentials: Credentials, **params: Any) -> JsonDict:
        stamped: JsonDict = {
            "apiKey": credentials.api_key,
            "timestamp": self.exchange.now_ms(),
            **params,
        }
        stamped["signature"] = credentials.sign_params(stamped)
        return stamped

    async def logon(self, credentials: Credentials) -> None:
        await self.result("session.logon", self.signed(credentials))

    async def subscribe_by_signature(self, credentials: Credentials) -> int:
        result = await self.result("userDataStream.subscribe.signature", self.signed(credentials))
        return int(result["subscriptionId"])

    async def next_frame(self) -> Any:
        with trio.fail_after(5):
            return json.loads(await self.ws.get_message())


@pytest.fixture
async def exchange() -> AsyncIterator[LocalExchange]:
    local = LocalExchange(start_time_ms=1_750_000_000_000, limits=UNLIMITED)
    async with open_local_exchange(local) as served:
        yield served


@pytest.fixture
def streams(exchange: LocalExchange) -> UserStreams:
    return install_user_streams(exchange)


@pytest.fixture
def alice(exchange: LocalExchange) -> Ed25519Credentials:
    credentials = generate_ed25519("alicekey")
    exchange.keys.add_credentials(credentials, "alice")
    return credentials


@pytest.fixture
def bob(exchange: LocalExchange) -> HmacCredentials:
    exchange.keys.add("bobkey", "bob", hmac_secret=HMAC_SECRET)
    return HmacCredentials("bobkey", HMAC_SECRET)


@asynccontextmanager
async def raw_client(exchange: LocalExchange) -> AsyncIterator[RawClient]:
    async with trio_websocket.open_websocket_url(exchange.url) as ws:
        yield RawClient(exchange, ws)


@pytest.fixture
async def client(exchange: LocalExchange, streams: UserStreams) -> AsyncIterator[RawClient]:
    async with raw_client(exchange) as opened:
        yield opened


def terminated(subscription_id: int) -> tuple[int, str]:
    return subscription_id, "eventStreamTerminated"


def events_of(frames: list[Any]) -> list[tuple[int, str]]:
    return [(frame["subscriptionId"], frame["event"]["e"]) for frame in frames]


# --- results and frames as documented ---------------------------------------------------------


async def test_results_have_the_documented_shapes(
    client: RawClient, alice: Ed25519Credentials
) -> None:
    await client.logon(alice)
    subscribed = await client.result("userDataStream.subscribe")
    assert subscribed == documented_result("userDataStream.subscribe")  # {"subscriptionId": 0}
    by_signature = await client.result(
        "userDataStream.subscribe.signature", client.signed(generate_bob_ed25519(client))
    )
    assert by_signature == {"subscriptionId": 1}
    listed = await client.result("session.subscriptions", {})
    assert listed == documented_result("session.subscriptions")  # [{0}, {1}]
    unsubscribed = await client.result("userDataStream.unsubscribe", {"subscriptionId": 1})
    assert unsubscribed == documented_result("userDataStream.unsubscribe")  # {}


def generate_bob_ed25519(client: RawClient) -> Ed25519Credentials:
    credentials = generate_ed25519("bobedkey")
    client.exchange.keys.add_credentials(credentials, "bob")
    return credentials


async def test_published_events_are_the_documented_frames(
    client: RawClient, streams: UserStreams, alice: Ed25519Credentials
) -> None:
    await client.logon(alice)
    assert await client.result("userDataStream.subscribe") == {"subscriptionId": 0}
    for documented in EVENTS:
        assert streams.publish("alice", documented["event"]) == 1
    received = [await client.next_frame() for _ in EVENTS]
    assert received == [documented["frame"] for documented in EVENTS]


# --- subscribing ----------------------------------------------------------------------------


async def test_subscribe_needs_a_logged_on_session_and_no_parameters(
    client: RawClient, alice: Ed25519Credentials
) -> None:
    status, code, msg = await client.error("userDataStream.subscribe")
    assert (status, code) == (400, -1102) and "'apiKey'" in msg
    await client.logon(alice)
    # A timestamp is not a parameter of this method (web-socket-api.md: "Parameters: NONE").
    status, code, msg = await client.error("userDataStream.subscribe", {"timestamp": 1})
    assert (status, code) == (400, -1104)
    assert msg == "Not all sent parameters were read; read '0' parameter(s) but was sent '1'."
    assert await client.result("userDataStream.subscribe") == {"subscriptionId": 0}


@pytest.mark.parametrize("kind", ["hmac", "rsa", "ed25519"])
async def test_subscribe_by_signature_takes_any_key_type(
    client: RawClient, exchange: LocalExchange, kind: str
) -> None:
    credentials: Credentials
    if kind == "hmac":
        exchange.keys.add("carolkey", "carol", hmac_secret=HMAC_SECRET)
        credentials = HmacCredentials("carolkey", HMAC_SECRET)
    elif kind == "rsa":
        credentials = RsaCredentials.from_file("carolkey", KEYS / "rsa.pem")
        exchange.keys.add_credentials(credentials, "carol")
    else:
        credentials = generate_ed25519("carolkey")
        exchange.keys.add_credentials(credentials, "carol")
    assert await client.subscribe_by_signature(credentials) == 0


async def test_subscribe_by_signature_checks_key_signature_and_time(
    client: RawClient, exchange: LocalExchange, alice: Ed25519Credentials, bob: HmacCredentials
) -> None:
    method = "userDataStream.subscribe.signature"
    forged = {**client.signed(bob), "signature": client.signed(bob)["signature"][::-1]}
    assert (await client.error(method, forged))[:2] == (400, -1022)
    stranger = HmacCredentials("strangerkey", HMAC_SECRET)
    assert (await client.error(method, client.signed(stranger)))[:2] == (401, -2015)
    stale = client.signed(bob, timestamp=exchange.now_ms() - 10_000)
    assert (await client.error(method, stale))[:2] == (400, -1021)
    extra = client.signed(bob, symbol="BTCUSDT")
    assert (await client.error(method, extra))[1:] == (
        -1104,
        "Not all sent parameters were read; read '3' parameter(s) but was sent '4'.",
    )
    # Logged on, the key and signature are still this method's own parameters.
    await client.logon(alice)
    status, code, msg = await client.error(method, {"timestamp": exchange.now_ms()})
    assert (status, code) == (400, -1102) and "'apiKey'" in msg


async def test_one_subscription_per_account_per_connection(
    exchange: LocalExchange, client: RawClient, alice: Ed25519Credentials, bob: HmacCredentials
) -> None:
    await client.logon(alice)
    await client.result("userDataStream.subscribe")
    assert await client.error("userDataStream.subscribe.signature", client.signed(alice)) == (
        400,
        -2035,
        "User Data Stream subscription already active.",
    )
    alice_hmac = HmacCredentials("alicehmac", HMAC_SECRET)
    exchange.keys.add("alicehmac", "alice", hmac_secret=HMAC_SECRET)  # same account, other key
    assert (await client.error("userDataStream.subscribe.signature", client.signed(alice_hmac)))[
        1
    ] == -2035
    assert await client.subscribe_by_signature(bob) == 1
    async with raw_client(exchange) as other:  # ids and the rule are per connection
        assert await other.subscribe_by_signature(alice) == 0


async def test_limits_are_per_connection_with_their_documented_errors(
    exchange: LocalExchange,
) -> None:
    install_user_streams(exchange, max_active=2, max_lifetime=3)
    keys = []
    for n in range(3):
        exchange.keys.add(f"key{n}", f"account{n}", hmac_secret=HMAC_SECRET)
        keys.append(HmacCredentials(f"key{n}", HMAC_SECRET))
    method = "userDataStream.subscribe.signature"
    async with raw_client(exchange) as client:
        assert [await client.subscribe_by_signature(key) for key in keys[:2]] == [0, 1]
        assert await client.error(method, client.signed(keys[2])) == (
            400,
            -1191,
            "Too many subscriptions. Connection may create up to '2' subscriptions at a time.",
        )
        await client.result("userDataStream.unsubscribe", {"subscriptionId": 0})
        assert await client.subscribe_by_signature(keys[2]) == 2
        await client.result("userDataStream.unsubscribe", {})
        assert await client.result("session.subscriptions") == []
        assert await client.error(method, client.signed(keys[0])) == (
            400,
            -2042,
            "Maximum subscription ID reached for this connection.",
        )
        async with raw_client(exchange) as fresh:  # a new connection starts again
            assert await fresh.subscribe_by_signature(keys[0]) == 0


async def test_the_documented_thousand_active_subscriptions(
    exchange: LocalExchange, client: RawClient
) -> None:
    keys = []
    for n in range(1_001):
        exchange.keys.add(f"key{n}", f"account{n}", hmac_secret=HMAC_SECRET)
        keys.append(HmacCredentials(f"key{n}", HMAC_SECRET))
    for key in keys[:1_000]:
        await client.subscribe_by_signature(key)
    method = "userDataStream.subscribe.signature"
    assert (await client.error(method, client.signed(keys[1_000])))[1] == -1191
    await client.result("userDataStream.unsubscribe", {"subscriptionId": 999})
    assert await client.subscribe_by_signature(keys[1_000]) == 1_000


# --- ending subscriptions -----------------------------------------------------------------


async def test_unsubscribe_one_or_all_each_with_event_stream_terminated(
    client: RawClient, alice: Ed25519Credentials, bob: HmacCredentials
) -> None:
    await client.logon(alice)
    await client.result("userDataStream.subscribe")
    await client.subscribe_by_signature(bob)
    before, reply = await client.call("userDataStream.unsubscribe", {"subscriptionId": 1})
    assert reply["result"] == {} and events_of(before) == [terminated(1)]
    before, reply = await client.call("userDataStream.unsubscribe", {"subscriptionId": 7})
    assert reply["result"] == {} and before == []  # "if it exists"
    await client.subscribe_by_signature(bob)
    before, reply = await client.call("userDataStream.unsubscribe")
    assert reply["result"] == {} and sorted(events_of(before)) == [terminated(0), terminated(2)]
    assert await client.result("session.subscriptions") == []


async def test_unsubscribe_refuses_what_it_does_not_read(client: RawClient) -> None:
    method = "userDataStream.unsubscribe"
    assert (await client.error(method, {"subscriptionId": 1, "symbol": "X"}))[1:] == (
        -1104,
        "Not all sent parameters were read; read '1' parameter(s) but was sent '2'.",
    )
    assert (await client.error(method, {"subscriptionId": "one"}))[1] == -1102
    assert (await client.error("session.subscriptions", {"x": 1}))[1] == -1104


async def test_logout_ends_only_the_logon_subscription(
    client: RawClient, alice: Ed25519Credentials, bob: HmacCredentials
) -> None:
    await client.logon(alice)
    assert (await client.result("session.status"))["userDataStream"] is False
    await client.result("userDataStream.subscribe")
    await client.subscribe_by_signature(bob)
    assert (await client.result("session.status"))["userDataStream"] is True
    before, reply = await client.call("session.logout")
    assert events_of(before) == [terminated(0)]
    assert reply["result"]["apiKey"] is None
    assert reply["result"]["userDataStream"] is True  # bob's is still active
    assert await client.result("session.subscriptions") == [{"subscriptionId": 1}]
    await client.result("userDataStream.unsubscribe")
    assert (await client.result("session.status"))["userDataStream"] is False
    logon = await client.result("session.logon", client.signed(alice))
    assert logon["userDataStream"] is False


# --- publishing -----------------------------------------------------------------------------


async def test_publish_reaches_every_subscription_of_the_account_in_order(
    exchange: LocalExchange,
    streams: UserStreams,
    client: RawClient,
    alice: Ed25519Credentials,
    bob: HmacCredentials,
) -> None:
    await client.subscribe_by_signature(alice)
    await client.subscribe_by_signature(bob)
    (first,) = exchange.connections
    async with raw_client(exchange) as second:
        await second.subscribe_by_signature(alice)
        (closing,) = [c for c in exchange.connections if c is not first]
        events = [{"e": "balanceUpdate", "E": n, "a": "BTC", "d": "1", "T": n} for n in range(5)]
        assert streams.publish_all(("alice", event) for event in events) == 10
        assert streams.publish("carol", events[0]) == 0
        assert [await client.next_frame() for _ in events] == [
            {"subscriptionId": 0, "event": event} for event in events
        ]
        assert [await second.next_frame() for _ in events] == [
            {"subscriptionId": 0, "event": event} for event in events
        ]
        assert len(streams.subscriptions("alice")) == 2
    with trio.fail_after(5):
        await closing.closed.wait()
    assert streams.publish("alice", events[0]) == 1  # the closed connection is forgotten
    assert [s.connection for s in streams.subscriptions()] == [first, first]


async def test_terminate_ends_every_subscription_of_the_account(
    streams: UserStreams, client: RawClient, alice: Ed25519Credentials, bob: HmacCredentials
) -> None:
    await client.subscribe_by_signature(alice)
    await client.subscribe_by_signature(bob)
    assert streams.terminate("alice") == 1
    frame = await client.next_frame()
    assert events_of([frame]) == [terminated(0)]
    assert set(frame["event"]) == {"e", "E"}  # as documented: event type and time only
    assert await client.result("session.subscriptions") == [{"subscriptionId": 1}]
    assert streams.terminate("alice") == 0


async def test_installing_twice_keeps_one_registry(
    exchange: LocalExchange, streams: UserStreams
) -> None:
    assert install_user_streams(exchange) is streams
