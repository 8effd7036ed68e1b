"""Signature payloads and signatures: the spec's worked examples, round trips and tampering."""

from __future__ import annotations

import base64
import enum
import hmac
import string
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_binance._credentials import load_private_key, load_public_key
from trio_binance._exceptions import InvalidParameter
from trio_binance._params import (
    WireValue,
    canonical_params,
    decimal_text,
    signature_payload,
)
from trio_binance._signing import (
    HmacKey,
    VerifyingKey,
    ed25519_signature,
    hmac_signature,
    rsa_signature,
    verify_ed25519,
    verify_hmac,
    verify_rsa,
    verify_signature,
)

KEYS = Path(__file__).parent / "fixtures" / "keys"

# --- web-socket-api.md, "SIGNED request example (HMAC)" -------------------------------------

SPEC_HMAC_API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SPEC_HMAC_SECRET = b"NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
SPEC_RSA_API_KEY = "CAvIjXy3F44yW6Pou5k8Dy1swsYDWJZLeoK2r8G4cFDnE9nosRppc2eKc1T8TRTQ"
SPEC_ED25519_API_KEY = "4yNzx3yWC5bS6YTwEkSRaC0nRmSQIIStAUOh1b6kqaBrTLIhjCpI5lJH8q8R8WNO"


def ascii_example(api_key: str) -> dict[str, object]:
    """The spec's first example request parameters, in the order the request lists them."""
    return {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": Decimal("0.01000000"),
        "price": Decimal("52000.00"),
        "recvWindow": 100,
        "timestamp": 1645423376532,
        "apiKey": api_key,
    }


def non_ascii_example(api_key: str) -> dict[str, object]:
    # The values of the parameter table and payload text; the spec's request JSON above them
    # says quantity "0.01000000", but the signed payload (and signature) use 1.00000000.
    return {
        "symbol": "１２３４５６",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": Decimal("1.00000000"),
        "price": Decimal("0.10000000"),
        "recvWindow": 5000,
        "timestamp": 1645423376532,
        "apiKey": api_key,
    }


def spec_ascii_payload(api_key: str) -> str:
    return (
        f"apiKey={api_key}&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL"
        "&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
    )


def spec_non_ascii_payload(api_key: str) -> str:
    return (
        f"apiKey={api_key}&price=0.10000000&quantity=1.00000000&recvWindow=5000&side=BUY"
        "&symbol=１２３４５６&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
    )


Example = Callable[[str], dict[str, object]]
PayloadOf = Callable[[str], str]

HMAC_NON_ASCII_SIGNATURE = "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd"
HMAC_GOLDEN = [
    pytest.param(
        ascii_example,
        spec_ascii_payload,
        "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24",
        id="ascii",
    ),
    pytest.param(
        non_ascii_example,
        spec_non_ascii_payload,
        HMAC_NON_ASCII_SIGNATURE,
        id="non-ascii",
    ),
]


@pytest.mark.parametrize(("example", "payload_of", "signature"), HMAC_GOLDEN)
def test_hmac_spec_examples(example: Example, payload_of: PayloadOf, signature: str) -> None:
    params = canonical_params(example(SPEC_HMAC_API_KEY))
    payload = signature_payload(params)
    assert payload == payload_of(SPEC_HMAC_API_KEY)
    assert hmac_signature(SPEC_HMAC_SECRET, payload) == signature
    assert verify_hmac(SPEC_HMAC_SECRET, payload, signature)


@pytest.mark.parametrize(("example", "payload_of", "signature"), HMAC_GOLDEN)
def test_hmac_verification_ignores_letter_case(
    example: Example, payload_of: PayloadOf, signature: str
) -> None:
    # Spec: "Signature Case Sensitivity" -- HMAC signatures are not case-sensitive.
    payload = payload_of(SPEC_HMAC_API_KEY)
    assert verify_hmac(SPEC_HMAC_SECRET, payload, signature.upper())
    assert verify_hmac(SPEC_HMAC_SECRET, payload, signature[:10].upper() + signature[10:])


@pytest.mark.parametrize(
    ("api_key", "example", "payload_of"),
    [
        (SPEC_RSA_API_KEY, ascii_example, spec_ascii_payload),
        (SPEC_RSA_API_KEY, non_ascii_example, spec_non_ascii_payload),
        (SPEC_ED25519_API_KEY, ascii_example, spec_ascii_payload),
        (SPEC_ED25519_API_KEY, non_ascii_example, spec_non_ascii_payload),
    ],
)
def test_rsa_and_ed25519_spec_payloads(
    api_key: str, example: Example, payload_of: PayloadOf
) -> None:
    # The spec's RSA/Ed25519 signatures cannot be checked: their private keys are not
    # published. The payload text can, and the signing step is checked below with our keys.
    assert signature_payload(canonical_params(example(api_key))) == payload_of(api_key)


def test_payload_ignores_signature_and_is_not_percent_encoded() -> None:
    params = canonical_params(non_ascii_example(SPEC_HMAC_API_KEY))
    payload = signature_payload({**params, "signature": HMAC_NON_ASCII_SIGNATURE})
    assert payload == spec_non_ascii_payload(SPEC_HMAC_API_KEY)
    assert "%" not in payload


# --- RSA and Ed25519 with the fixture keys -------------------------------------------------

# Computed independently with OpenSSL 3 over spec_ascii_payload(SPEC_RSA_API_KEY) etc.:
#   echo -n "$PAYLOAD" | openssl dgst -sha256 -sign rsa.pem | openssl enc -base64 -A
#   openssl pkeyutl -sign -rawin -inkey ed25519.pem -in payload.txt | openssl enc -base64 -A
# Both schemes are deterministic, so the same key and payload always give these signatures.
OPENSSL_RSA_ASCII = (
    "WfYjzsiAiZVHdQQQFGVe4ges+nePD5yAT9dwHLOiVLkTdG6qfqnomYsHUIUNWLhaWoZIwPIl9lh3B7sRQN4OlU08LLJL"
    "2k0Vl4c9zqZtHzfVpxjvDGqDhk9HV2jRGOD+3kzPcNOPqS5X5BzjykoAfA4XbItKDSVKiAYVEXEq1gk3IPn1NV345EGM"
    "3LJt2L9CN297Hf6Gj09PaaEwBTQWJonMpWuJgVBYqpFGAIFZXsuinc5WJ+iAw5Lv+NntBbgOZLCRetFNLgt12FyARtL5"
    "dmUDMSxQwTT0DV64eEBIqRqDYCMu8rhIm8PG4JRZrl9E3f4wXAPRTmXN6BoJK28Chw=="
)
OPENSSL_RSA_NON_ASCII = (
    "ciYLkHuIuoJKPi/Ic9081z/8p2jciyAPus2/9wFSw0vT/mHTkNU244Yzmuz7+D8E5UMgqU0/qC+8ltp0iyNOd7GK2lcI"
    "cWRHFozdPc5lzyQG6P0C/TNyKZDPuFpd7IQq5rqrrBI2AdXomGU53qatLy8M0RuDn7UAvyFmjggZi3yy9Un3xTz5p6Tb"
    "b0T0mqkk8duAZJ78W56PRxsL7w4kM2Ev3VGQeQ0j68lHujoGd+iC0zZXVZJ68viUMLBTZhq5A86KI93v2YCqJVqFZY9x"
    "P+ZwXlWMmPqTPZP1UtIKaoJ9iy86nmooIH2llnqbcS8jF8x5HMdDAOm/RbbJpe1iNA=="
)
OPENSSL_ED25519_ASCII = (
    "SIDQekGm+vr2ggPjCj6GxG0CTZHrHgPzEB7h3ig+RnbS/UfZO8/pgr2+H38zOkSYVJbdQZc+0i6PXviosJdEDQ=="
)
OPENSSL_ED25519_NON_ASCII = (
    "3f0tE3qIPlK+5SXJsTvBUoywDXCaCzl+6+iXRZsIDRL+VIJsB7cj+qHHOccMb/ViZoN2pljhs6+h7hPqYFbEDQ=="
)


@pytest.fixture(scope="module")
def rsa_key() -> RSAPrivateKey:
    key = load_private_key((KEYS / "rsa.pem").read_bytes())
    assert isinstance(key, RSAPrivateKey)
    return key


@pytest.fixture(scope="module")
def rsa_public() -> RSAPublicKey:
    key = load_public_key((KEYS / "rsa-public.pem").read_bytes())
    assert isinstance(key, RSAPublicKey)
    return key


@pytest.fixture(scope="module")
def ed25519_key() -> Ed25519PrivateKey:
    key = load_private_key((KEYS / "ed25519.pem").read_bytes())
    assert isinstance(key, Ed25519PrivateKey)
    return key


@pytest.fixture(scope="module")
def ed25519_public() -> Ed25519PublicKey:
    key = load_public_key((KEYS / "ed25519-public.pem").read_bytes())
    assert isinstance(key, Ed25519PublicKey)
    return key


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (spec_ascii_payload(SPEC_RSA_API_KEY), OPENSSL_RSA_ASCII),
        (spec_non_ascii_payload(SPEC_RSA_API_KEY), OPENSSL_RSA_NON_ASCII),
    ],
)
def test_rsa_signature_matches_openssl(
    rsa_key: RSAPrivateKey, rsa_public: RSAPublicKey, payload: str, expected: str
) -> None:
    assert rsa_signature(rsa_key, payload) == expected
    assert verify_rsa(rsa_public, payload, expected)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (spec_ascii_payload(SPEC_ED25519_API_KEY), OPENSSL_ED25519_ASCII),
        (spec_non_ascii_payload(SPEC_ED25519_API_KEY), OPENSSL_ED25519_NON_ASCII),
    ],
)
def test_ed25519_signature_matches_openssl(
    ed25519_key: Ed25519PrivateKey, ed25519_public: Ed25519PublicKey, payload: str, expected: str
) -> None:
    assert ed25519_signature(ed25519_key, payload) == expected
    assert verify_ed25519(ed25519_public, payload, expected)


def test_rsa_signatures_are_case_sensitive(rsa_public: RSAPublicKey) -> None:
    # Spec: "Signature Case Sensitivity" -- RSA signatures are case-sensitive.
    payload = spec_ascii_payload(SPEC_RSA_API_KEY)
    assert not verify_rsa(rsa_public, payload, OPENSSL_RSA_ASCII.swapcase())


def test_ed25519_signatures_are_case_sensitive(ed25519_public: Ed25519PublicKey) -> None:
    # Spec: "Signature Case Sensitivity" -- Ed25519 signatures are case-sensitive.
    payload = spec_ascii_payload(SPEC_ED25519_API_KEY)
    assert not verify_ed25519(ed25519_public, payload, OPENSSL_ED25519_ASCII.swapcase())


# --- round trips, tampering, malformed input --------------------------------------------------

payloads = st.text(min_size=0, max_size=300)


def signer_and_key(
    kind: str,
    rsa_key: RSAPrivateKey,
    ed25519_key: Ed25519PrivateKey,
) -> tuple[object, VerifyingKey]:
    if kind == "HMAC":
        return SPEC_HMAC_SECRET, SPEC_HMAC_SECRET
    if kind == "RSA":
        return rsa_key, rsa_key.public_key()
    return ed25519_key, ed25519_key.public_key()


def sign_with(kind: str, signer: object, payload: str) -> str:
    if kind == "HMAC":
        assert isinstance(signer, bytes)
        return hmac_signature(signer, payload)
    if kind == "RSA":
        assert isinstance(signer, RSAPrivateKey)
        return rsa_signature(signer, payload)
    assert isinstance(signer, Ed25519PrivateKey)
    return ed25519_signature(signer, payload)


KINDS = ["HMAC", "RSA", "ED25519"]


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=30, deadline=None)
@given(payload=payloads, extra=st.text(min_size=1, max_size=5))
def test_round_trip_and_tampered_payload(
    kind: str, rsa_key: RSAPrivateKey, ed25519_key: Ed25519PrivateKey, payload: str, extra: str
) -> None:
    signer, key = signer_and_key(kind, rsa_key, ed25519_key)
    signature = sign_with(kind, signer, payload)
    assert verify_signature(key, payload, signature)
    assert not verify_signature(key, payload + extra, signature)
    assert not verify_signature(key, extra + payload, signature)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=30, deadline=None)
@given(payload=payloads, data=st.data())
def test_tampered_signature_fails(
    kind: str,
    rsa_key: RSAPrivateKey,
    ed25519_key: Ed25519PrivateKey,
    payload: str,
    data: st.DataObject,
) -> None:
    signer, key = signer_and_key(kind, rsa_key, ed25519_key)
    signature = sign_with(kind, signer, payload)
    raw = bytearray.fromhex(signature) if kind == "HMAC" else bytearray(base64.b64decode(signature))
    index = data.draw(st.integers(0, len(raw) - 1), label="byte")
    raw[index] ^= data.draw(st.integers(1, 255), label="flip")
    tampered = raw.hex() if kind == "HMAC" else base64.b64encode(raw).decode()
    assert not verify_signature(key, payload, tampered)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=60, deadline=None)
@given(signature=st.one_of(st.text(max_size=400), st.binary(), st.integers(), st.none()))
def test_malformed_signature_is_refused_without_raising(
    kind: str, rsa_key: RSAPrivateKey, ed25519_key: Ed25519PrivateKey, signature: object
) -> None:
    _, key = signer_and_key(kind, rsa_key, ed25519_key)
    assert verify_signature(key, "apiKey=x&timestamp=1", signature) is False


@pytest.mark.parametrize("kind", ["RSA", "ED25519"])
def test_base64_with_junk_is_refused(
    kind: str, rsa_key: RSAPrivateKey, ed25519_key: Ed25519PrivateKey
) -> None:
    # Lenient base64 would drop the junk and accept a signature that was not what was sent.
    signer, key = signer_and_key(kind, rsa_key, ed25519_key)
    good = sign_with(kind, signer, "payload")
    assert verify_signature(key, "payload", good)
    for bad in (good + "!", " " + good, good[:10] + "\n" + good[10:], good.rstrip("=")):
        assert not verify_signature(key, "payload", bad)


def test_wrong_key_fails() -> None:
    other = Ed25519PrivateKey.generate()
    mine = Ed25519PrivateKey.generate()
    assert not verify_ed25519(other.public_key(), "p", ed25519_signature(mine, "p"))
    assert not verify_hmac(b"other secret", "p", hmac_signature(b"my secret", "p"))


# --- the canonical payload (trio_binance._params) -------------------------------------------

names = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=12)
safe_text = st.text(
    alphabet=st.characters(blacklist_characters="&=", blacklist_categories=["Cs"]), max_size=20
)
finite_decimals = st.decimals(allow_nan=False, allow_infinity=False)
wire_inputs = st.one_of(
    safe_text, st.integers(), st.booleans(), finite_decimals, st.lists(safe_text, max_size=3)
)


@given(params=st.dictionaries(names, wire_inputs, max_size=8), data=st.data())
def test_payload_is_sorted_and_independent_of_insertion_order(
    params: dict[str, object], data: st.DataObject
) -> None:
    canonical = canonical_params(params)
    payload = signature_payload(canonical)
    shuffled = data.draw(st.permutations(list(canonical.items())))
    assert signature_payload(dict(shuffled)) == payload
    pairs = [part.partition("=") for part in payload.split("&")] if payload else []
    signed = sorted(name for name in canonical if name != "signature")
    assert [name for name, _, _ in pairs] == signed
    for (name, _, text), expected_name in zip(pairs, signed, strict=True):
        value = canonical[expected_name]
        if isinstance(value, str):
            assert (name, text) == (expected_name, value)


@given(params=st.dictionaries(names, wire_inputs, max_size=8), signature=safe_text)
def test_payload_leaves_out_signature(params: dict[str, object], signature: str) -> None:
    canonical: dict[str, WireValue] = {**canonical_params(params), "signature": "ignored"}
    without = {k: v for k, v in canonical.items() if k != "signature"}
    assert signature_payload({**canonical, "signature": signature}) == signature_payload(without)


@given(name=names, value=safe_text)
def test_text_is_signed_verbatim_as_utf8(name: str, value: str) -> None:
    # No percent-encoding: the value appears as is, and HMAC is over its UTF-8 bytes.
    payload = signature_payload({name: value})
    assert payload == f"{name}={value}"
    expected = hmac.new(SPEC_HMAC_SECRET, payload.encode("utf-8"), "sha256").hexdigest()
    assert hmac_signature(SPEC_HMAC_SECRET, payload) == expected


@given(value=finite_decimals)
def test_decimal_text_is_plain_and_exact(value: Decimal) -> None:
    text = decimal_text(value)
    assert "e" not in text.lower()
    assert Decimal(text) == value
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent <= 0 and not value.is_zero():
        assert Decimal(text).as_tuple() == value.as_tuple()  # trailing zeros kept


@given(name=names, value=st.floats())
def test_floats_are_refused_naming_the_parameter(name: str, value: float) -> None:
    with pytest.raises(InvalidParameter) as caught:
        canonical_params({name: value})
    assert caught.value.name == name
    assert repr(name) in str(caught.value)


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_non_finite_decimals_are_refused(value: Decimal) -> None:
    with pytest.raises(InvalidParameter, match="price"):
        canonical_params({"price": value})


@given(value=finite_decimals)
def test_decimal_text_is_the_fixed_point_form(value: Decimal) -> None:
    # The fast path (``str``) must give exactly what ``format(value, "f")`` gives.
    reference = format(value, "f")
    assert decimal_text(value) == ("0" if reference in ("-0", "+0") else reference)


class _Side(enum.Enum):
    BUY = "BUY"


class _Level(enum.IntEnum):
    FIVE = 5


class _Tif(enum.StrEnum):
    GTC = "GTC"


class _Symbol(str):
    pass


class _Count(int):
    pass


class _Price(Decimal):
    pass


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (_Side.BUY, "BUY"),
        (_Level.FIVE, 5),
        (_Tif.GTC, "GTC"),
        (_Symbol("BTCUSDT"), "BTCUSDT"),
        (_Count(7), 7),
        (_Price("1E-7"), "0.0000001"),
        (True, True),
        ([_Side.BUY, "x", 3, Decimal("1E+2")], ["BUY", "x", 3, "100"]),
        (("a", False), ["a", False]),
    ],
)
def test_every_kind_of_value_reaches_its_wire_form(value: object, wire: WireValue) -> None:
    (sent,) = canonical_params({"p": value}).values()
    assert sent == wire


@pytest.mark.parametrize("value", [object(), b"bytes", {"a": 1}, 1.5, [1.5]])
def test_unsupported_values_are_refused_naming_the_parameter(value: object) -> None:
    with pytest.raises(InvalidParameter, match="'p'"):
        canonical_params({"p": value})


@settings(max_examples=500)
@given(secret=st.binary(max_size=200), payload=st.text(max_size=300))
def test_a_prepared_hmac_key_signs_as_hmac_does(secret: bytes, payload: str) -> None:
    # Keys longer than SHA-256's 64-byte block are hashed first (RFC 2104): both sides of 64.
    expected = hmac.new(secret, payload.encode(), "sha256").hexdigest()
    assert HmacKey(secret).signature(payload) == expected == hmac_signature(secret, payload)


def test_a_prepared_hmac_key_signs_each_payload_afresh() -> None:
    key = HmacKey(b"secret")
    first = key.signature("a=1")
    assert key.signature("a=2") != first
    assert key.signature("a=1") == first  # the prepared states are copied, never consumed
    assert "secret" not in repr(key)
