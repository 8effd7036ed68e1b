"""Client order ids: valid for Binance, random enough to be unique across processes."""

from __future__ import annotations

import base64
import re
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_binance import InvalidParameter
from trio_binance._client_ids import (
    CLIENT_IDS_BY_METHOD,
    MAX_PREFIX_LENGTH,
    check_client_id,
    check_client_id_prefix,
    new_client_id,
    with_client_ids,
)

# The range Binance reports in -1100 for client order ids, written as documented.
DOCUMENTED = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
ALLOWED_CHARACTERS = "./:_-" + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
prefixes = st.text(alphabet=ALLOWED_CHARACTERS, max_size=MAX_PREFIX_LENGTH)


def is_documented_id(value: str) -> bool:
    return DOCUMENTED.match(value) is not None and not value.endswith("\n")


def random_part(client_id: str, prefix: str = "") -> bytes:
    assert client_id.startswith(prefix)
    return base64.urlsafe_b64decode(client_id[len(prefix) :])


def test_a_new_id_carries_120_random_bits_in_the_documented_range() -> None:
    client_id = new_client_id()
    assert is_documented_id(client_id)
    assert len(random_part(client_id)) * 8 == 120


@given(prefixes)
def test_a_prefixed_id_stays_within_36_characters(prefix: str) -> None:
    client_id = new_client_id(prefix)
    assert client_id.startswith(prefix)
    assert is_documented_id(client_id)
    assert len(random_part(client_id, prefix)) == 15


def test_ids_do_not_repeat_and_use_the_whole_alphabet() -> None:
    ids = [new_client_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    # 64 symbols per character means 6 bits each; a hex or decimal id would use 16 or 10.
    assert len(set("".join(ids))) == 64


def test_ids_from_another_process_differ() -> None:
    script = (
        "from trio_binance._client_ids import new_client_id;"
        "print(' '.join(new_client_id() for _ in range(1000)))"
    )
    child = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    here = [new_client_id() for _ in range(1000)]
    assert len(child) == 1000
    assert not set(child) & set(here)


@given(st.text(max_size=40))
def test_check_client_id_accepts_exactly_the_documented_range(value: str) -> None:
    if is_documented_id(value):
        assert check_client_id(value, "new_client_order_id") == value
    else:
        with pytest.raises(InvalidParameter) as caught:
            check_client_id(value, "new_client_order_id")
        assert caught.value.name == "new_client_order_id"


@pytest.mark.parametrize("value", ["", "x" * 37, "has space", "naïve", "semi;colon", 12345])
def test_malformed_ids_are_refused(value: object) -> None:
    with pytest.raises(InvalidParameter, match="new_client_order_id"):
        check_client_id(value, "new_client_order_id")


@given(st.text(min_size=1, max_size=MAX_PREFIX_LENGTH + 4))
def test_a_prefix_is_accepted_only_if_ids_made_with_it_are_valid(prefix: str) -> None:
    acceptable = len(prefix) <= MAX_PREFIX_LENGTH and is_documented_id(prefix)
    if acceptable:
        assert check_client_id_prefix(prefix) == prefix
    else:
        with pytest.raises(InvalidParameter) as caught:
            new_client_id(prefix)
        assert caught.value.name == "client_order_id_prefix"


@pytest.mark.parametrize("method", sorted(CLIENT_IDS_BY_METHOD))
def test_every_client_id_of_an_order_creating_method_is_filled(method: str) -> None:
    leg_types = {"pendingBelowType": "STOP_LOSS"}
    filled = with_client_ids(method, {"symbol": "BTCUSDT", **leg_types}, prefix="bot-")
    names = [name for name, _ in CLIENT_IDS_BY_METHOD[method]]
    assert all(name in filled for name in names)
    ids = [str(filled[name]) for name in names]
    assert len(set(ids)) == len(ids)
    assert all(is_documented_id(i) and i.startswith("bot-") for i in ids)


def test_ids_the_caller_chose_are_kept() -> None:
    params = {"listClientOrderId": "my-list", "aboveClientOrderId": "my-above"}
    filled = with_client_ids("orderList.place.oco", params)
    assert filled["listClientOrderId"] == "my-list"
    assert filled["aboveClientOrderId"] == "my-above"
    assert is_documented_id(str(filled["belowClientOrderId"]))


def test_the_optional_below_leg_gets_an_id_only_when_it_is_sent() -> None:
    without_below = with_client_ids("orderList.place.otoco", {"pendingAboveType": "LIMIT_MAKER"})
    assert "pendingBelowClientOrderId" not in without_below
    assert "pendingAboveClientOrderId" in without_below


def test_methods_that_change_no_order_are_unchanged() -> None:
    params = {"symbol": "BTCUSDT", "orderId": 1}
    assert with_client_ids("depth", params) == params
    assert with_client_ids("order.status", params) == params


@pytest.mark.parametrize("method", ["order.cancel", "orderList.cancel"])
def test_cancels_get_a_new_client_id_to_be_found_by(method: str) -> None:
    params = {"symbol": "BTCUSDT", "orderId": 1}
    stamped = with_client_ids(method, params)
    assert set(stamped) == {"symbol", "orderId", "newClientOrderId"}
    assert (
        with_client_ids(method, {**params, "newClientOrderId": "mine"})["newClientOrderId"]
        == "mine"
    )


def test_cancel_replace_names_both_the_new_order_and_the_cancel() -> None:
    stamped = with_client_ids("order.cancelReplace", {"symbol": "BTCUSDT", "cancelOrderId": 1})
    assert {"newClientOrderId", "cancelNewClientOrderId"} <= set(stamped)
