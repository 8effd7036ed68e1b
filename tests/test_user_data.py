"""User data streams end to end against the local exchange, and the account views.

The matching engine is not wired to the streams here: the exchange publishes the documented
event shapes (tests/fixtures/spec/user_data_events.json, varied) with ``UserStreams.publish``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
import trio
import trio.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trio_binance
from trio_binance import InvalidParameter, NotSent, ProtocolError, Session
from trio_binance._account_views import BalancesView, OrderTracker
from trio_binance._credentials import Ed25519Credentials, HmacCredentials, generate_ed25519
from trio_binance._user_data import (
    SubscriptionActive,
    SubscriptionIdsExhausted,
    TooManySubscriptions,
    UserDataOverflow,
    UserDataStream,
    UserDataStreamLost,
    UserDataStreamTerminated,
)
from trio_binance.models import (
    AccountInfo,
    BalanceUpdate,
    ExecutionReport,
    ListStatus,
    OrderStatus,
    OutboundAccountPosition,
    UnknownUserEvent,
    UserDataEvent,
    decode_user_event,
)
from trio_binance.testing import LocalExchange, Request, open_local_exchange
from trio_binance.testing._limits import Limit, RateLimitConfig
from trio_binance.testing._user_streams import UserStreams, install_user_streams

FIXTURES = Path(__file__).parent / "fixtures" / "spec" / "user_data_events.json"
DOCUMENTED: dict[str, dict[str, Any]] = {
    entry["event_type"]: entry["event"] for entry in json.loads(FIXTURES.read_text())
}
EPOCH_S = 1_750_000_000.0
UNLIMITED = RateLimitConfig(request_weight=(Limit("REQUEST_WEIGHT", "MINUTE", 1, 10**9),))
HMAC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"

JsonDict = dict[str, Any]


def trio_wall_clock() -> float:
    """A wall clock that moves with trio's clock, so both sides agree under autojump_clock."""
    return EPOCH_S + trio.current_time()


# --- documented events, varied --------------------------------------------------------------


def documented(event_type: str, **fields: Any) -> JsonDict:
    """The documented example of ``event_type`` with ``fields`` replaced (nested values are
    shared with the example: replace them, never mutate them)."""
    return {**DOCUMENTED[event_type], **fields}


def report(order_id: int, **fields: Any) -> JsonDict:
    """A documented executionReport for ``order_id`` (conditional STP field "v" removed)."""
    event = documented("executionReport", **{"i": order_id, "c": f"client{order_id}", **fields})
    event.pop("v", None)
    return event


def lifecycle(order_id: int, client_id: str) -> list[JsonDict]:
    """One order's life as a user data stream shows it: new, two fills, with balances."""
    new = report(order_id, c=client_id, q="1.00000000", p="0.10000000")
    partial = report(
        order_id,
        c=client_id,
        x="TRADE",
        X="PARTIALLY_FILLED",
        l="0.40000000",
        L="0.09000000",
        Y="0.03600000",
        z="0.40000000",
        Z="0.03600000",
        n="0.00001000",
        N="BNB",
        t=101,
        m=True,
    )
    filled = report(
        order_id,
        c=client_id,
        x="TRADE",
        X="FILLED",
        l="0.60000000",
        L="0.10000000",
        Y="0.06000000",
        z="1.00000000",
        Z="0.09600000",
        n="0.00002000",
        N="BNB",
        t=102,
        w=False,
    )
    position = documented(
        "outboundAccountPosition",
        B=[{"a": "ETH", "f": "1.00000000", "l": "0"}, {"a": "BTC", "f": "9.904", "l": "0"}],
    )
    # A withdrawal the position (later "u") already counts.
    withdrawal = documented("balanceUpdate", d="-0.5", T=position["u"] - 10)
    return [new, partial, position, filled, withdrawal]


def typed(event: JsonDict) -> UserDataEvent:
    return decode_user_event(msgspec.json.encode(event))


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture
async def exchange() -> AsyncIterator[LocalExchange]:
    local = LocalExchange(start_time_ms=int(EPOCH_S * 1000), limits=UNLIMITED)
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


@pytest.fixture
async def session(
    exchange: LocalExchange, streams: UserStreams, alice: Ed25519Credentials
) -> AsyncIterator[Session]:
    async with trio_binance.connect(
        exchange.url, credentials=alice, wall_clock=trio_wall_clock
    ) as opened:
        yield opened


async def take(stream: UserDataStream, count: int) -> list[UserDataEvent]:
    return [await anext(stream) for _ in range(count)]


async def order_ids_until_error(stream: UserDataStream) -> tuple[list[int], Exception]:
    """The order ids of the executionReports iterated, and the error iteration ended with."""
    got: list[int] = []
    try:
        async for event in stream:
            assert isinstance(event, ExecutionReport)
            got.append(event.order_id)
    except Exception as error:
        return got, error
    raise AssertionError(f"iteration ended without an error after {got}")


async def settle(session: Session) -> None:
    """A round trip: every frame queued before its reply has been routed when it returns."""
    await session.request("ping")


# --- delivery -------------------------------------------------------------------------------


async def test_order_lifecycle_arrives_typed_and_in_order(
    session: Session, streams: UserStreams
) -> None:
    events = lifecycle(7, "myOrder7")
    async with session.user_data() as stream:
        for event in events:
            assert streams.publish("alice", event) == 1
        got = await take(stream, len(events))
    assert got == [typed(event) for event in events]
    assert [type(event) for event in got] == [
        ExecutionReport,
        ExecutionReport,
        OutboundAccountPosition,
        ExecutionReport,
        BalanceUpdate,
    ]
    filled = got[3]
    assert isinstance(filled, ExecutionReport)
    assert filled.order_status is OrderStatus.FILLED and filled.is_final
    assert filled.average_price == Decimal("0.096")
    assert filled.last_fill is not None and filled.last_fill.price == Decimal("0.10000000")


async def test_order_lists_external_locks_and_unknown_event_types_arrive_as_they_are(
    session: Session, streams: UserStreams
) -> None:
    new_kind = {"e": "somethingNew", "E": 1, "x": [1, 2]}
    events = [documented("listStatus"), documented("externalLockUpdate"), new_kind]
    async with session.user_data() as stream:
        for event in events:
            streams.publish("alice", event)
        got = await take(stream, 3)
    assert isinstance(got[0], ListStatus) and [o.order_id for o in got[0].orders] == [17, 18]
    assert got[1] == typed(events[1])
    assert isinstance(got[2], UnknownUserEvent)
    assert got[2].event_type == "somethingNew"
    assert msgspec.json.decode(got[2].raw) == new_kind


decimals = st.decimals(min_value=0, max_value=10**9, places=8).map(lambda d: format(d, "f"))
assets = st.sampled_from(["BTC", "ETH", "USDT", "BNB", "ÄÖÜ"])  # non-ASCII: user-data-stream.md
random_events = st.one_of(
    st.builds(
        lambda i, q, p, z, x: report(
            i, q=q, p=p, z=z, Z=z, x=x, X="NEW" if x == "NEW" else "FILLED"
        ),
        st.integers(0, 2**53),
        decimals,
        decimals,
        decimals,
        st.sampled_from(["NEW", "TRADE", "CANCELED", "EXPIRED", "TRADE_PREVENTION"]),
    ),
    st.builds(lambda a, d: documented("balanceUpdate", a=a, d=d), assets, decimals),
    st.builds(
        lambda bs: documented(
            "outboundAccountPosition", B=[{"a": a, "f": f, "l": lk} for a, f, lk in bs]
        ),
        st.lists(st.tuples(assets, decimals, decimals), max_size=4),
    ),
    st.builds(lambda a, d: documented("externalLockUpdate", a=a, d=d), assets, decimals),
    st.builds(
        lambda name, n: {"e": name, "E": n},
        st.text(st.characters(categories=["L"]), min_size=1, max_size=12).filter(
            lambda name: name not in DOCUMENTED and name != "serverShutdown"
        ),
        st.integers(0, 2**53),
    ),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(random_events, min_size=1, max_size=40))
async def test_any_event_sequence_arrives_typed_complete_and_in_order(
    events: list[JsonDict],
) -> None:
    local = LocalExchange(start_time_ms=int(EPOCH_S * 1000), limits=UNLIMITED)
    streams = install_user_streams(local)
    local.keys.add("bobkey", "bob", hmac_secret=HMAC_SECRET)
    credentials = HmacCredentials("bobkey", HMAC_SECRET)
    async with (
        open_local_exchange(local) as exchange,
        trio_binance.connect(exchange.url, credentials=credentials) as session,
        session.user_data() as stream,
    ):
        for event in events:
            streams.publish("bob", event)
        got = await take(stream, len(events))
        await settle(session)
        assert stream.statistics().buffered == 0  # nothing more than was published
    assert got == [typed(event) for event in events]


async def test_a_burst_of_ten_thousand_events_arrives_complete_and_in_order(
    session: Session, streams: UserStreams
) -> None:
    count = 10_000
    received: list[int] = []
    async with session.user_data() as stream:
        for order_id in range(count):
            streams.publish("alice", report(order_id))
        async for event in stream:
            assert isinstance(event, ExecutionReport)
            received.append(event.order_id)
            if len(received) == count:
                break
        assert stream.statistics().lost == 0
    assert received == list(range(count))


async def test_a_stalled_consumer_gets_an_overflow_with_the_count_and_requests_keep_flowing(
    exchange: LocalExchange, session: Session, streams: UserStreams
) -> None:
    async with session.user_data(buffer_size=100) as stream:
        for order_id in range(1_000):
            streams.publish("alice", report(order_id))
        # The consumer reads nothing meanwhile; the session still answers at once.
        for _ in range(3):
            await session.request("time")
        assert stream.statistics().lost == 900
        received, overflow = await order_ids_until_error(stream)
        streams.publish("alice", report(1_000))
        await settle(session)
    assert received == list(range(100))  # the buffered ones first, then the error
    assert isinstance(overflow, UserDataOverflow)
    assert overflow.lost == 901  # counts on until the block is left
    assert overflow.buffer_size == 100
    assert "901 lost" in str(overflow)
    assert exchange.requests_seen["userDataStream.unsubscribe"] == 1
    assert await session.user_data_subscriptions() == []


async def test_two_accounts_on_one_connection_are_routed_by_subscription(
    session: Session, streams: UserStreams, bob: HmacCredentials
) -> None:
    async with (
        session.user_data() as alice_events,
        session.user_data(credentials=bob) as bob_events,
    ):
        assert alice_events.method == "userDataStream.subscribe"
        assert bob_events.method == "userDataStream.subscribe.signature"
        assert alice_events.subscription_id != bob_events.subscription_id
        for order_id in range(20):
            streams.publish("alice" if order_id % 3 else "bob", report(order_id))
        alice_got = await take(alice_events, 13)
        bob_got = await take(bob_events, 7)
        await settle(session)
        assert alice_events.statistics().buffered == bob_events.statistics().buffered == 0
    assert [e.order_id for e in alice_got if isinstance(e, ExecutionReport)] == [
        i for i in range(20) if i % 3
    ]
    assert [e.order_id for e in bob_got if isinstance(e, ExecutionReport)] == [
        i for i in range(20) if not i % 3
    ]


async def test_a_session_without_logon_subscribes_its_own_account_by_signature(
    exchange: LocalExchange, streams: UserStreams, bob: HmacCredentials
) -> None:
    async with (
        trio_binance.connect(exchange.url, credentials=bob) as session,
        session.user_data() as stream,
    ):
        assert stream.method == "userDataStream.subscribe.signature"
        streams.publish("bob", documented("balanceUpdate"))
        assert await anext(stream) == typed(documented("balanceUpdate"))


async def test_a_malformed_known_event_raises_in_the_consumer_and_the_stream_goes_on(
    session: Session, streams: UserStreams
) -> None:
    async with session.user_data() as stream:
        streams.publish("alice", report(1))
        streams.publish("alice", {"e": "executionReport", "E": 1, "s": 5})
        streams.publish("alice", report(2))
        got, error = await order_ids_until_error(stream)
        assert isinstance(error, ProtocolError) and "executionReport" in str(error)
        assert await session.request("time")  # the session did not notice
        async for event in stream:  # iterating again continues after the bad event
            assert isinstance(event, ExecutionReport)
            got.append(event.order_id)
            break
    assert got == [1, 2]


async def test_events_sent_before_the_subscribe_reply_are_not_lost(
    exchange: LocalExchange,
    session: Session,
    streams: UserStreams,
    autojump_clock: trio.testing.MockClock,
) -> None:
    subscribe = exchange.handler("userDataStream.subscribe")
    assert subscribe is not None

    def subscribe_then_publish(request: Request) -> Any:
        result = subscribe(request)
        streams.publish("alice", documented("balanceUpdate"))  # queued before the reply
        return result

    exchange.register("userDataStream.subscribe", subscribe_then_publish)
    async with session.user_data() as stream:
        with trio.fail_after(5):
            assert await anext(stream) == typed(documented("balanceUpdate"))


# --- how streams end ------------------------------------------------------------------------


async def test_event_stream_terminated_ends_the_stream_after_the_buffered_events(
    exchange: LocalExchange, session: Session, streams: UserStreams
) -> None:
    async with session.user_data() as stream:
        streams.publish("alice", report(1))
        assert streams.terminate("alice") == 1
        assert isinstance(await anext(stream), ExecutionReport)
        with pytest.raises(UserDataStreamTerminated) as ended:
            await anext(stream)
        assert ended.value.subscription_id == stream.subscription_id
        assert ended.value.event.event_time > 0
        with pytest.raises(UserDataStreamTerminated):  # it stays ended
            await anext(stream)
    # Already gone on the exchange: nothing to unsubscribe.
    assert exchange.requests_seen["userDataStream.unsubscribe"] == 0


async def test_logout_ends_the_logon_stream_but_not_signature_streams(
    session: Session, streams: UserStreams, bob: HmacCredentials
) -> None:
    async with (
        session.user_data() as alice_events,
        session.user_data(credentials=bob) as bob_events,
    ):
        status = await session.logout()
        assert status.user_data_stream is True  # bob's subscription is still active
        with pytest.raises(UserDataStreamTerminated):
            await anext(alice_events)
        streams.publish("bob", report(5))
        assert typed(report(5)) == await anext(bob_events)
        assert [s.account for s in streams.subscriptions()] == ["bob"]


async def test_termination_read_before_a_connection_loss_is_the_reason_given(
    exchange: LocalExchange, session: Session, streams: UserStreams
) -> None:
    async with session.user_data() as stream:
        streams.terminate("alice")
        await settle(session)
        await exchange.drop_all(close_frame=True)
        await session.wait_closed()
        with pytest.raises(UserDataStreamTerminated):
            await anext(stream)


@pytest.mark.parametrize("close_frame", [True, False])
async def test_connection_loss_ends_the_stream_saying_events_may_be_missed(
    exchange: LocalExchange, session: Session, streams: UserStreams, close_frame: bool
) -> None:
    async with session.user_data() as stream:
        streams.publish("alice", report(1))
        await settle(session)
        await exchange.drop_all(close_frame=close_frame)
        assert isinstance(await anext(stream), ExecutionReport)  # buffered: still delivered
        with pytest.raises(UserDataStreamLost, match="may have been missed") as lost:
            await anext(stream)
        assert lost.value.reason is session.close_reason
    assert session.closed


async def test_leaving_the_block_unsubscribes(
    exchange: LocalExchange, session: Session, streams: UserStreams
) -> None:
    async with session.user_data() as stream:
        assert await session.user_data_subscriptions() != []
        assert (await session.session_status()).user_data_stream is True
    assert exchange.requests_seen["userDataStream.unsubscribe"] == 1
    assert await session.user_data_subscriptions() == []
    assert (await session.session_status()).user_data_stream is False
    assert streams.subscriptions() == []
    assert session.statistics().subscriptions == 0
    with pytest.raises(StopAsyncIteration):
        await anext(stream)
    async with session.user_data():  # the account's slot is free again
        pass


async def test_a_cancelled_block_still_unsubscribes(
    exchange: LocalExchange, session: Session, autojump_clock: trio.testing.MockClock
) -> None:
    with trio.move_on_after(10) as waited:
        async with session.user_data() as stream:
            async for _event in stream:  # nothing comes; the deadline cancels the wait
                pass
    assert waited.cancelled_caught
    assert exchange.requests_seen["userDataStream.unsubscribe"] == 1
    assert await session.user_data_subscriptions() == []


async def test_a_cancelled_block_on_a_silent_exchange_leaves_in_bounded_time(
    exchange: LocalExchange, session: Session, autojump_clock: trio.testing.MockClock
) -> None:
    exchange.faults.silent("userDataStream.unsubscribe")
    start = trio.current_time()
    with trio.move_on_after(1):
        async with session.user_data():
            await trio.sleep_forever()
    waited = trio.current_time() - start
    assert exchange.requests_seen["userDataStream.unsubscribe"] == 1
    assert 1 + 5 <= waited < 1 + 5 + 0.1  # the deadline, then at most close_timeout (5 s)
    assert await session.request("time")  # the session is fine


# --- refusals and limits --------------------------------------------------------------------


async def test_a_second_stream_for_the_same_key_is_refused_before_sending(
    exchange: LocalExchange, session: Session, bob: HmacCredentials
) -> None:
    async with session.user_data(credentials=bob):
        sent = exchange.requests_seen.copy()
        with pytest.raises(SubscriptionActive) as refused:
            async with session.user_data(credentials=bob):
                pass
        assert refused.value.sent is False and refused.value.code == -2035
        assert exchange.requests_seen == sent


async def test_the_exchange_refuses_a_second_key_of_the_same_account(
    exchange: LocalExchange, session: Session
) -> None:
    exchange.keys.add("alicehmac", "alice", hmac_secret=HMAC_SECRET)
    async with session.user_data():
        with pytest.raises(SubscriptionActive) as refused:
            async with session.user_data(credentials=HmacCredentials("alicehmac", HMAC_SECRET)):
                pass
    assert refused.value.sent is True
    assert refused.value.msg == "User Data Stream subscription already active."


async def test_exchange_limits_map_to_their_own_errors() -> None:
    local = LocalExchange(start_time_ms=int(EPOCH_S * 1000), limits=UNLIMITED)
    install_user_streams(local, max_active=2, max_lifetime=3)
    keys = [HmacCredentials(f"key{n}", HMAC_SECRET) for n in range(3)]
    for n, key in enumerate(keys):
        local.keys.add(key.api_key, f"account{n}", hmac_secret=HMAC_SECRET)
    async with (
        open_local_exchange(local) as exchange,
        trio_binance.connect(exchange.url) as session,
    ):
        async with session.user_data(credentials=keys[0]), session.user_data(credentials=keys[1]):
            with pytest.raises(TooManySubscriptions) as too_many:
                async with session.user_data(credentials=keys[2]):
                    pass
        async with session.user_data(credentials=keys[2]):  # the third of this connection's life
            pass
        with pytest.raises(SubscriptionIdsExhausted) as exhausted:
            async with session.user_data(credentials=keys[0]):
                pass
    assert (too_many.value.code, too_many.value.sent) == (-1191, True)
    assert (exhausted.value.code, exhausted.value.sent) == (-2042, True)


async def test_the_thousand_and_first_active_stream_is_refused_before_sending(
    exchange: LocalExchange, streams: UserStreams
) -> None:
    keys = [HmacCredentials(f"key{n}", HMAC_SECRET) for n in range(1_001)]
    for n, key in enumerate(keys):
        exchange.keys.add(key.api_key, f"account{n}", hmac_secret=HMAC_SECRET)
    async with trio_binance.connect(exchange.url) as session, AsyncExitStack() as stack:
        for key in keys[:1_000]:
            await stack.enter_async_context(session.user_data(credentials=key, buffer_size=1))
        sent = session.statistics().requests_sent
        with pytest.raises(TooManySubscriptions) as refused:
            await stack.enter_async_context(session.user_data(credentials=keys[1_000]))
        assert refused.value.sent is False
        assert session.statistics().requests_sent == sent


async def test_a_session_without_credentials_cannot_subscribe(exchange: LocalExchange) -> None:
    async with trio_binance.connect(exchange.url) as session:
        with pytest.raises(NotSent, match="credentials"):
            async with session.user_data():
                pass
        assert session.statistics().requests_sent == 0


@pytest.mark.parametrize("size", [0, -1, True, 1.5])
async def test_buffer_size_must_be_a_positive_int(session: Session, size: Any) -> None:
    with pytest.raises(InvalidParameter, match="buffer_size"):
        async with session.user_data(buffer_size=size):
            pass


# --- account views, fed by a stream ----------------------------------------------------------


async def test_views_follow_the_stream(session: Session, streams: UserStreams) -> None:
    orders, balances = OrderTracker(), BalancesView()
    events = lifecycle(9, "mine")
    async with session.user_data() as stream:
        for event in events:
            streams.publish("alice", event)
        for received in await take(stream, len(events)):
            orders.apply(received)
            balances.apply(received)
    order = orders.by_client_order_id("mine")
    assert order is not None and order is orders.get("ETHBTC", 9)
    assert order.is_final and order.filled_quantity == Decimal(1)
    assert [fill.trade_id for fill in order.fills] == [101, 102]
    assert balances["BTC"].free == Decimal("9.904")  # the position counted the withdrawal
    assert balances["ETH"].free == Decimal(1)


# --- OrderTracker ----------------------------------------------------------------------------


def reports(*events: JsonDict) -> Iterator[UserDataEvent]:
    return (typed(event) for event in events)


def test_a_cancel_is_found_by_the_orders_own_client_id() -> None:
    tracker = OrderTracker()
    new = report(3, c="original")
    cancel = report(3, c="cancelRequest", C="original", x="CANCELED", X="CANCELED")
    for event in reports(new, cancel):
        tracker.apply(event)
    order = tracker.by_client_order_id("original")
    assert order is not None and order.status is OrderStatus.CANCELED
    assert order.client_order_id == "original"
    assert tracker.by_client_order_id("cancelRequest") is None
    assert tracker.open_orders() == []


def test_a_repeated_trade_counts_once_and_a_final_order_never_changes() -> None:
    tracker = OrderTracker()
    trade = report(4, x="TRADE", X="PARTIALLY_FILLED", l="0.5", L="2", Y="1", z="0.5", Z="1", t=1)
    done = report(4, x="TRADE", X="FILLED", l="0.5", L="4", Y="2", z="1", Z="3", t=2)
    for event in reports(report(4), trade, trade, done, report(4)):
        tracker.apply(event)
    order = tracker.get("ETHBTC", 4)
    assert order is not None
    assert [fill.trade_id for fill in order.fills] == [1, 2]
    assert order.status is OrderStatus.FILLED and order.average_price == Decimal(3)
    assert order.remaining_quantity == 0


def test_other_events_are_ignored_and_open_orders_are_listed() -> None:
    tracker = OrderTracker()
    assert tracker.apply(typed(documented("balanceUpdate"))) is None
    tracker.apply(typed(report(1, s="BTCUSDT")))
    tracker.apply(typed(report(2)))
    assert [o.order_id for o in tracker.open_orders()] == [1, 2]
    assert [o.order_id for o in tracker.open_orders("BTCUSDT")] == [1]
    assert len(tracker) == 2 and {o.order_id for o in tracker} == {1, 2}


def test_finished_orders_are_bounded_and_open_ones_kept() -> None:
    tracker = OrderTracker(max_finished=3)
    tracker.apply(typed(report(0)))  # stays open
    for order_id in range(1, 11):
        tracker.apply(typed(report(order_id, x="CANCELED", X="CANCELED")))
    assert sorted(o.order_id for o in tracker) == [0, 8, 9, 10]
    assert tracker.by_client_order_id("client1") is None
    assert tracker.by_client_order_id("client9") is not None


@given(
    st.lists(
        st.tuples(
            st.decimals(min_value=Decimal("0.001"), max_value=1000, places=3),
            st.decimals(min_value=Decimal("0.01"), max_value=100_000, places=2),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_fills_add_up_to_the_cumulative_quantities(fills: list[tuple[Decimal, Decimal]]) -> None:
    tracker = OrderTracker()
    total = sum(quantity for quantity, _ in fills)
    tracker.apply(typed(report(1, q=str(total))))
    filled = quote = Decimal(0)
    for trade_id, (quantity, price) in enumerate(fills):
        filled += quantity
        quote += quantity * price
        status = "FILLED" if filled == total else "PARTIALLY_FILLED"
        fields = {"l": str(quantity), "L": str(price), "Y": str(quantity * price)}
        tracker.apply(
            typed(report(1, x="TRADE", X=status, z=str(filled), Z=str(quote), t=trade_id, **fields))
        )
    order = tracker.get("ETHBTC", 1)
    assert order is not None and order.is_final
    assert sum(fill.quantity for fill in order.fills) == order.filled_quantity == total
    assert order.average_price == quote / total
    assert sum(fill.quote_quantity for fill in order.fills) == order.filled_quote_quantity


# --- BalancesView ----------------------------------------------------------------------------


def position(update_time: int, *balances: tuple[str, str, str]) -> UserDataEvent:
    rows = [{"a": a, "f": f, "l": lk} for a, f, lk in balances]
    return typed(documented("outboundAccountPosition", u=update_time, B=rows))


def deposit(asset: str, delta: str, clear_time: int) -> UserDataEvent:
    return typed(documented("balanceUpdate", a=asset, d=delta, T=clear_time))


def test_positions_set_balances_and_deltas_move_free() -> None:
    view = BalancesView()
    assert view.apply(position(10, ("BTC", "1.5", "0.5")))
    assert view["BTC"].total == Decimal(2)
    assert view.apply(deposit("BTC", "0.25", clear_time=11))
    assert view["BTC"].free == Decimal("1.75") and view["BTC"].locked == Decimal("0.5")
    assert view["XRP"].free == 0 and "XRP" not in view
    assert not view.apply(typed(documented("externalLockUpdate")))


def test_stale_positions_and_already_counted_deltas_are_ignored() -> None:
    view = BalancesView()
    view.apply(position(20, ("ETH", "3", "0")))
    assert not view.apply(position(19, ("ETH", "1", "0")))  # older than what is known
    assert not view.apply(deposit("ETH", "5", clear_time=20))  # the position included it
    assert view["ETH"].free == Decimal(3)
    assert not view.apply(position(21, ("ETH", "3", "0")))  # no change
    assert list(view) == ["ETH"] and len(view) == 1


def test_a_view_starts_from_the_account_status() -> None:
    account = AccountInfo(
        maker_commission=0,
        taker_commission=0,
        buyer_commission=0,
        seller_commission=0,
        can_trade=True,
        can_withdraw=True,
        can_deposit=True,
        update_time=100,
        account_type="SPOT",
        balances=(trio_binance.models.Balance(asset="USDT", free=Decimal(50), locked=Decimal(0)),),
    )
    view = BalancesView.from_account(account)
    assert view.snapshot()["USDT"].free == Decimal(50)
    assert not view.apply(deposit("USDT", "1", clear_time=99))  # before the snapshot
    assert view.apply(deposit("USDT", "1", clear_time=101))
    assert view["USDT"].free == Decimal(51)


@given(
    st.lists(st.decimals(min_value=-1000, max_value=1000, places=8), max_size=10),
    st.decimals(min_value=0, max_value=10**6, places=8),
)
def test_a_position_after_any_deltas_is_the_truth(deltas: list[Decimal], free: Decimal) -> None:
    view = BalancesView()
    for n, delta in enumerate(deltas):
        view.apply(deposit("BNB", format(delta, "f"), clear_time=n))
    view.apply(position(len(deltas), ("BNB", format(free, "f"), "1")))
    assert (view["BNB"].free, view["BNB"].locked) == (free, Decimal(1))
