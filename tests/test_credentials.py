"""Credentials: loading from strings, files and the environment; signing; keeping secrets."""

from __future__ import annotations

import copy
import pickle
import string
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given
from hypothesis import strategies as st

from trio_binance._credentials import (
    Credentials,
    CredentialsError,
    Ed25519Credentials,
    HmacCredentials,
    RsaCredentials,
    credentials_from_env,
    credentials_from_file,
    credentials_from_pem,
    generate_ed25519,
    generate_rsa,
    load_private_key,
    load_public_key,
)
from trio_binance._exceptions import BinanceError
from trio_binance._params import canonical_params, signature_payload
from trio_binance._signing import VerifyingKey, verify_signature

KEYS = Path(__file__).parent / "fixtures" / "keys"
API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
HMAC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
RSA_PASSPHRASE = "fixture-rsa-passphrase"
ED25519_PASSPHRASE = "fixture-ed25519-passphrase"
WRONG_PASSPHRASE = "wrong-passphrase-xyz"


def pem(name: str) -> str:
    return (KEYS / name).read_text()


def pem_body_lines(text: str) -> list[str]:
    """The base64 lines of a PEM block: the part that must never be shown."""
    return [line for line in text.splitlines() if line and not line.startswith("-----")]


def all_secrets() -> list[str]:
    """Every secret the fixtures hold; none may appear in any text we produce."""
    secrets = [HMAC_SECRET, RSA_PASSPHRASE, ED25519_PASSPHRASE, WRONG_PASSPHRASE]
    for name in ("rsa.pem", "rsa-encrypted.pem", "ed25519.pem", "ed25519-encrypted.pem"):
        secrets += pem_body_lines(pem(name))
    secrets += pem_body_lines(pem("ec-p256.pem"))
    return secrets


def texts_of_exception(exc: BaseException) -> Iterator[str]:
    yield str(exc)
    yield repr(exc)
    yield "".join(traceback.format_exception(exc))


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in all_secrets():
            assert secret not in text
        assert API_KEY not in text


# --- the three key types ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def hmac_credentials() -> HmacCredentials:
    return HmacCredentials(API_KEY, HMAC_SECRET)


@pytest.fixture(scope="module")
def rsa_credentials() -> RsaCredentials:
    return RsaCredentials.from_file(API_KEY, KEYS / "rsa.pem")


@pytest.fixture(scope="module")
def ed25519_credentials() -> Ed25519Credentials:
    return Ed25519Credentials.from_file(API_KEY, KEYS / "ed25519.pem")


@pytest.fixture(scope="module", params=["HMAC", "RSA", "ED25519"])
def credentials_and_key(
    request: pytest.FixtureRequest,
    hmac_credentials: HmacCredentials,
    rsa_credentials: RsaCredentials,
    ed25519_credentials: Ed25519Credentials,
) -> tuple[Credentials, VerifyingKey]:
    """Credentials and what the exchange would verify their signatures with."""
    if request.param == "HMAC":
        return hmac_credentials, HMAC_SECRET.encode()
    chosen = rsa_credentials if request.param == "RSA" else ed25519_credentials
    return chosen, load_public_key(chosen.public_key_pem())


def test_key_types_and_logon_support(
    hmac_credentials: HmacCredentials,
    rsa_credentials: RsaCredentials,
    ed25519_credentials: Ed25519Credentials,
) -> None:
    assert [c.key_type for c in (hmac_credentials, rsa_credentials, ed25519_credentials)] == [
        "HMAC",
        "RSA",
        "ED25519",
    ]
    # Spec: "Session Authentication" -- only Ed25519 keys are supported for session.logon.
    assert not hmac_credentials.supports_logon
    assert not rsa_credentials.supports_logon
    assert ed25519_credentials.supports_logon
    assert {c.api_key for c in (hmac_credentials, rsa_credentials, ed25519_credentials)} == {
        API_KEY
    }


def test_hmac_credentials_sign_the_spec_example(hmac_credentials: HmacCredentials) -> None:
    # web-socket-api.md, "SIGNED request example (HMAC)", first example.
    params = canonical_params(
        {
            "symbol": "BTCUSDT",
            "side": "SELL",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.01000000",
            "price": "52000.00",
            "recvWindow": 100,
            "timestamp": 1645423376532,
            "apiKey": API_KEY,
            "signature": "------ FILL ME ------",
        }
    )
    expected = "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"
    assert hmac_credentials.sign_params(params) == expected


def test_sign_params_signs_the_canonical_payload(
    credentials_and_key: tuple[Credentials, VerifyingKey],
) -> None:
    credentials, key = credentials_and_key
    params = canonical_params({"symbol": "１２３４５６", "timestamp": 1, "apiKey": API_KEY})
    signature = credentials.sign_params(params)
    assert verify_signature(key, signature_payload(params), signature)
    # All three schemes are deterministic: signing the payload text gives the same signature.
    assert credentials.sign(signature_payload(params)) == signature


@given(payload=st.text(max_size=200))
def test_sign_round_trip(
    credentials_and_key: tuple[Credentials, VerifyingKey], payload: str
) -> None:
    credentials, key = credentials_and_key
    assert verify_signature(key, payload, credentials.sign(payload))
    assert not verify_signature(key, payload + "&x=1", credentials.sign(payload))


def test_public_key_pem_matches_the_fixture(
    rsa_credentials: RsaCredentials, ed25519_credentials: Ed25519Credentials
) -> None:
    assert rsa_credentials.public_key_pem() == pem("rsa-public.pem")
    assert ed25519_credentials.public_key_pem() == pem("ed25519-public.pem")


# --- loading ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "name", "passphrase", "public_name"),
    [
        (RsaCredentials, "rsa.pem", None, "rsa-public.pem"),
        (RsaCredentials, "rsa-pkcs1.pem", None, "rsa-public.pem"),
        (RsaCredentials, "rsa-encrypted.pem", RSA_PASSPHRASE, "rsa-public.pem"),
        (Ed25519Credentials, "ed25519.pem", None, "ed25519-public.pem"),
        (Ed25519Credentials, "ed25519-encrypted.pem", ED25519_PASSPHRASE, "ed25519-public.pem"),
    ],
)
def test_every_loader_gives_the_same_key(
    cls: type[RsaCredentials | Ed25519Credentials],
    name: str,
    passphrase: str | None,
    public_name: str,
) -> None:
    public = pem(public_name)
    text = pem(name)
    loaded = [
        cls(API_KEY, text, passphrase),
        cls(API_KEY, text.encode(), passphrase.encode() if passphrase else None),
        cls.from_file(API_KEY, KEYS / name, passphrase),
        cls.from_file(API_KEY, str(KEYS / name), passphrase),
        credentials_from_pem(API_KEY, text, passphrase),
        credentials_from_file(API_KEY, KEYS / name, passphrase),
    ]
    for credentials in loaded:
        assert type(credentials) is cls
        assert credentials.public_key_pem() == public


def test_generated_keys_verify_with_their_public_key() -> None:
    for credentials in (generate_ed25519("demo-ed25519-key"), generate_rsa("demo-rsa-key")):
        key = load_public_key(credentials.public_key_pem())
        assert verify_signature(key, "a=1", credentials.sign("a=1"))
    assert generate_ed25519("k" * 8).public_key_pem() != generate_ed25519("k" * 8).public_key_pem()


def env_for(**values: str) -> dict[str, str]:
    return {f"BINANCE_{name}": value for name, value in values.items()}


@pytest.mark.parametrize(
    ("environ", "cls"),
    [
        (env_for(API_KEY=API_KEY, API_SECRET=HMAC_SECRET), HmacCredentials),
        (env_for(API_KEY=API_KEY, PRIVATE_KEY=pem("ed25519.pem")), Ed25519Credentials),
        (env_for(API_KEY=API_KEY, PRIVATE_KEY=pem("rsa.pem")), RsaCredentials),
        (
            env_for(API_KEY=API_KEY, PRIVATE_KEY=pem("ed25519.pem").replace("\n", "\\n")),
            Ed25519Credentials,
        ),
        (
            env_for(API_KEY=API_KEY, PRIVATE_KEY_PATH=str(KEYS / "rsa.pem")),
            RsaCredentials,
        ),
        (
            env_for(
                API_KEY=API_KEY,
                PRIVATE_KEY_PATH=str(KEYS / "ed25519-encrypted.pem"),
                PRIVATE_KEY_PASSPHRASE=ED25519_PASSPHRASE,
            ),
            Ed25519Credentials,
        ),
        (  # empty variables count as unset
            env_for(API_KEY=API_KEY, API_SECRET="", PRIVATE_KEY=pem("ed25519.pem")),
            Ed25519Credentials,
        ),
    ],
)
def test_credentials_from_env(environ: dict[str, str], cls: type[Credentials]) -> None:
    credentials = credentials_from_env(environ=environ)
    assert type(credentials) is cls
    assert credentials.api_key == API_KEY


def test_credentials_from_env_prefix_and_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIO_BINANCE_TEST_API_KEY", API_KEY)
    monkeypatch.setenv("TRIO_BINANCE_TEST_API_SECRET", HMAC_SECRET)
    credentials = credentials_from_env("TRIO_BINANCE_TEST_")
    assert credentials.sign("x") == HmacCredentials(API_KEY, HMAC_SECRET).sign("x")


# --- errors: clear, and never holding a secret -----------------------------------------------


def bad_loads() -> Iterator[tuple[str, Callable[[], object], str]]:
    """(case id, a failing load, a phrase its message must contain)."""
    rsa, enc = pem("rsa.pem"), pem("rsa-encrypted.pem")
    yield "wrong passphrase", lambda: RsaCredentials(API_KEY, enc, WRONG_PASSPHRASE), "wrong"
    yield (
        "wrong passphrase, ed25519",
        lambda: Ed25519Credentials.from_file(
            API_KEY, KEYS / "ed25519-encrypted.pem", WRONG_PASSPHRASE
        ),
        "wrong passphrase",
    )
    yield "missing passphrase", lambda: RsaCredentials(API_KEY, enc), "passphrase is needed"
    yield (
        "needless passphrase",
        lambda: RsaCredentials(API_KEY, rsa, RSA_PASSPHRASE),
        "not encrypted",
    )
    yield (
        "rsa key as ed25519",
        lambda: Ed25519Credentials(API_KEY, rsa),
        "use RsaCredentials",
    )
    yield (
        "ed25519 key as rsa",
        lambda: RsaCredentials(API_KEY, pem("ed25519.pem")),
        "use Ed25519Credentials",
    )
    yield "ec key", lambda: credentials_from_pem(API_KEY, pem("ec-p256.pem")), "type EC"
    yield "ec key as ed25519", lambda: Ed25519Credentials(API_KEY, pem("ec-p256.pem")), "type EC"
    truncated = rsa[: len(rsa) // 2] + "\n-----END PRIVATE KEY-----\n"
    yield "truncated pem", lambda: RsaCredentials(API_KEY, truncated), "malformed"
    yield "not pem", lambda: RsaCredentials(API_KEY, HMAC_SECRET), "not PEM"
    yield (
        "public key given",
        lambda: Ed25519Credentials(API_KEY, pem("ed25519-public.pem")),
        "not a private key",
    )
    openssh = rsa.replace("PRIVATE KEY-----", "OPENSSH PRIVATE KEY-----")
    yield "openssh key", lambda: credentials_from_pem(API_KEY, openssh), "OpenSSH"
    yield (
        "missing file",
        lambda: credentials_from_file(API_KEY, KEYS / "absent.pem"),
        "absent.pem",
    )
    yield "pem as hmac secret", lambda: HmacCredentials(API_KEY, rsa), "PEM"
    yield "hmac secret newline", lambda: HmacCredentials(API_KEY, HMAC_SECRET + "\n"), "newline"
    yield "empty secret", lambda: HmacCredentials(API_KEY, ""), "empty"
    yield "api key newline", lambda: HmacCredentials(API_KEY + "\n", HMAC_SECRET), "API key"
    yield "empty api key", lambda: HmacCredentials("", HMAC_SECRET), "API key is empty"
    yield (
        "private key as public key",
        lambda: load_public_key(rsa),
        "private key",
    )
    yield (
        "ec public key",
        lambda: load_public_key(ec_public_pem()),
        "neither RSA nor Ed25519",
    )
    yield (
        "env: no api key",
        lambda: credentials_from_env(environ=env_for(API_SECRET=HMAC_SECRET)),
        "BINANCE_API_KEY is not set",
    )
    yield (
        "env: no secret",
        lambda: credentials_from_env(environ=env_for(API_KEY=API_KEY)),
        "none is set",
    )
    yield (
        "env: two secrets",
        lambda: credentials_from_env(
            environ=env_for(API_KEY=API_KEY, API_SECRET=HMAC_SECRET, PRIVATE_KEY=rsa)
        ),
        "BINANCE_API_SECRET, BINANCE_PRIVATE_KEY)",
    )
    yield (
        "env: passphrase with hmac",
        lambda: credentials_from_env(
            environ=env_for(
                API_KEY=API_KEY, API_SECRET=HMAC_SECRET, PRIVATE_KEY_PASSPHRASE=RSA_PASSPHRASE
            )
        ),
        "BINANCE_PRIVATE_KEY_PASSPHRASE is set",
    )
    yield (
        "env: wrong passphrase",
        lambda: credentials_from_env(
            environ=env_for(
                API_KEY=API_KEY,
                PRIVATE_KEY=enc,
                PRIVATE_KEY_PASSPHRASE=WRONG_PASSPHRASE,
            )
        ),
        "BINANCE_PRIVATE_KEY: cannot decrypt",
    )
    yield (
        "env: bad key file",
        lambda: credentials_from_env(
            environ=env_for(API_KEY=API_KEY, PRIVATE_KEY_PATH=str(KEYS / "ec-p256.pem"))
        ),
        "BINANCE_PRIVATE_KEY_PATH: the private key is of type EC",
    )
    yield (
        "env: bad hmac secret",
        lambda: credentials_from_env(
            environ=env_for(API_KEY=API_KEY, API_SECRET=" " + HMAC_SECRET)
        ),
        "BINANCE_API_SECRET: the HMAC secret",
    )
    yield (
        "env: bad api key",
        lambda: credentials_from_env(
            environ=env_for(API_KEY=API_KEY + " ", API_SECRET=HMAC_SECRET)
        ),
        "BINANCE_API_KEY: ",
    )


def ec_public_pem() -> str:
    private = load_private_key(pem("ec-p256.pem"))
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


BAD_LOADS = [pytest.param(load, phrase, id=case) for case, load, phrase in bad_loads()]


@pytest.mark.parametrize(("load", "phrase"), BAD_LOADS)
def test_load_errors_are_clear_and_hold_no_secret(load: Callable[[], object], phrase: str) -> None:
    with pytest.raises(CredentialsError) as caught:
        load()
    assert isinstance(caught.value, BinanceError)
    assert isinstance(caught.value, ValueError)
    assert phrase in str(caught.value)
    assert_no_secret(*texts_of_exception(caught.value))


def test_repr_and_str_show_type_and_key_prefix_only(
    hmac_credentials: HmacCredentials,
    rsa_credentials: RsaCredentials,
    ed25519_credentials: Ed25519Credentials,
) -> None:
    for credentials in (hmac_credentials, rsa_credentials, ed25519_credentials):
        for text in (repr(credentials), str(credentials), f"{credentials}"):
            assert credentials.key_type in text
            assert API_KEY[:6] in text
            assert_no_secret(text)


@given(
    api_key=st.text(alphabet=string.ascii_letters + string.digits, min_size=24, max_size=64),
    secret=st.text(alphabet=string.ascii_letters + string.digits, min_size=16, max_size=64),
)
def test_hmac_repr_never_shows_secret_or_whole_key(api_key: str, secret: str) -> None:
    text = repr(HmacCredentials(api_key, secret))
    assert secret not in text
    assert api_key not in text
    assert api_key[:7] not in text


def test_pickling_is_refused_without_leaking(
    credentials_and_key: tuple[Credentials, VerifyingKey],
) -> None:
    credentials, _ = credentials_and_key
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError, match="cannot be pickled") as caught:
            pickle.dumps(credentials, protocol)
        assert_no_secret(*texts_of_exception(caught.value))


def test_copies_are_the_same_object(credentials_and_key: tuple[Credentials, VerifyingKey]) -> None:
    credentials, _ = credentials_and_key
    assert copy.copy(credentials) is credentials
    assert copy.deepcopy({"creds": credentials})["creds"] is credentials


def test_credentials_are_not_dicts(hmac_credentials: HmacCredentials) -> None:
    # No __dict__: vars() and naive serializers cannot dump the secret.
    with pytest.raises(TypeError):
        vars(hmac_credentials)
