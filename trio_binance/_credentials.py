"""API credentials: an API key plus the secret that signs for it.

Binance has three key types (web-socket-api.md, "SIGNED request security"): an HMAC secret
key, an RSA private key or an Ed25519 private key. Each has a class here with the same small
interface -- ``api_key``, ``key_type``, ``supports_logon``, ``sign(payload)`` and
``sign_params(params)`` -- and the loaders below build them from strings, files or the
environment.

Secret material (the HMAC secret, private keys, passphrases) never appears in a ``repr``, a
``str``, an exception message or a pickle: ``repr`` shows the key type and a short prefix of
the API key, pickling is refused, and loading errors say what is wrong, never with what.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal, NoReturn, Self, SupportsIndex, TypeAlias

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import (
    RSAPrivateKey,
    RSAPublicKey,
    generate_private_key,
)
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from trio_binance._exceptions import BinanceError
from trio_binance._params import WireValue, signature_payload
from trio_binance._signing import HmacKey, ed25519_signature, rsa_signature

KeyType: TypeAlias = Literal["HMAC", "RSA", "ED25519"]
StrOrPath: TypeAlias = str | os.PathLike[str]

_RSA_KEY_BITS = 2048
_PUBLIC_EXPONENT = 65537
_SUPPORTED_KEYS = "Binance accepts Ed25519, RSA and HMAC keys"


class CredentialsError(BinanceError, ValueError):
    """Credentials could not be loaded or used. The message never contains secret material."""


class Credentials(abc.ABC):
    """An API key and the means to sign requests for it."""

    __slots__ = ("_api_key",)

    key_type: ClassVar[KeyType]
    # Spec: web-socket-api.md, "Session Authentication" -- only Ed25519 keys may use
    # session.logon (CHANGELOG 2025-04-29 announces HMAC/RSA support "soon"; not yet).
    supports_logon: ClassVar[bool] = False

    def __init__(self, api_key: str) -> None:
        self._api_key = _checked_api_key(api_key)

    @property
    def api_key(self) -> str:
        return self._api_key

    @abc.abstractmethod
    def sign(self, payload: str) -> str:
        """The ``signature`` parameter for a signature payload."""

    def sign_params(self, params: Mapping[str, WireValue]) -> str:
        """The ``signature`` for canonical ``params`` (any ``signature`` entry is ignored)."""
        return self.sign(signature_payload(params))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key_type} api_key={_api_key_hint(self._api_key)!r}>"

    def __reduce_ex__(self, protocol: SupportsIndex) -> NoReturn:
        # Pickles end up in caches, queues and files; a secret must not travel that way.
        raise TypeError(f"{type(self).__name__} cannot be pickled: it holds secret key material")

    def __copy__(self) -> Self:
        return self  # immutable: a copy may share everything

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self


class HmacCredentials(Credentials):
    """An API key with its HMAC-SHA-256 secret key."""

    __slots__ = ("_key",)
    key_type: ClassVar[KeyType] = "HMAC"

    def __init__(self, api_key: str, secret: str | bytes) -> None:
        super().__init__(api_key)
        self._key = HmacKey(_checked_hmac_secret(secret))

    def sign(self, payload: str) -> str:
        return self._key.signature(payload)


class _PrivateKeyCredentials(Credentials):
    """An API key with the private half of an asymmetric key pair."""

    __slots__ = ("_private_key",)
    _private_key: RSAPrivateKey | Ed25519PrivateKey

    def __init__(
        self,
        api_key: str,
        private_key_pem: str | bytes,
        passphrase: str | bytes | None = None,
    ) -> None:
        super().__init__(api_key)
        self._adopt(load_private_key(private_key_pem, passphrase))

    @classmethod
    def from_file(
        cls, api_key: str, path: StrOrPath, passphrase: str | bytes | None = None
    ) -> Self:
        """Load the PEM private key stored in ``path``."""
        return cls(api_key, _read_key_file(path), passphrase)

    @classmethod
    def _from_key(cls, api_key: str, private_key: PrivateKeyTypes) -> Self:
        self = cls.__new__(cls)
        Credentials.__init__(self, api_key)
        self._adopt(private_key)
        return self

    @abc.abstractmethod
    def _adopt(self, private_key: PrivateKeyTypes) -> None:
        """Keep ``private_key`` if it is of this class's type, else raise CredentialsError."""

    def public_key_pem(self) -> str:
        """The public key (SubjectPublicKeyInfo PEM): what is registered with the exchange."""
        return (
            self._private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )


class RsaCredentials(_PrivateKeyCredentials):
    """An API key with its RSA private key (PKCS#8 PEM, optionally encrypted)."""

    __slots__ = ()
    key_type: ClassVar[KeyType] = "RSA"
    _private_key: RSAPrivateKey

    def _adopt(self, private_key: PrivateKeyTypes) -> None:
        if not isinstance(private_key, RSAPrivateKey):
            raise _wrong_key_type(private_key, "RSA")
        self._private_key = private_key

    def sign(self, payload: str) -> str:
        return rsa_signature(self._private_key, payload)


class Ed25519Credentials(_PrivateKeyCredentials):
    """An API key with its Ed25519 private key (PKCS#8 PEM, optionally encrypted)."""

    __slots__ = ()
    key_type: ClassVar[KeyType] = "ED25519"
    supports_logon: ClassVar[bool] = True
    _private_key: Ed25519PrivateKey

    def _adopt(self, private_key: PrivateKeyTypes) -> None:
        if not isinstance(private_key, Ed25519PrivateKey):
            raise _wrong_key_type(private_key, "Ed25519")
        self._private_key = private_key

    def sign(self, payload: str) -> str:
        return ed25519_signature(self._private_key, payload)


def credentials_from_pem(
    api_key: str, private_key_pem: str | bytes, passphrase: str | bytes | None = None
) -> RsaCredentials | Ed25519Credentials:
    """RSA or Ed25519 credentials, whichever the PEM private key turns out to be."""
    private_key = load_private_key(private_key_pem, passphrase)
    if isinstance(private_key, RSAPrivateKey):
        return RsaCredentials._from_key(api_key, private_key)
    if isinstance(private_key, Ed25519PrivateKey):
        return Ed25519Credentials._from_key(api_key, private_key)
    kind = _key_kind(private_key)
    raise CredentialsError(f"the private key is of type {kind}: {_SUPPORTED_KEYS}")


def credentials_from_file(
    api_key: str, path: StrOrPath, passphrase: str | bytes | None = None
) -> RsaCredentials | Ed25519Credentials:
    """RSA or Ed25519 credentials from a PEM private key file, whichever it holds."""
    return credentials_from_pem(api_key, _read_key_file(path), passphrase)


def credentials_from_env(
    prefix: str = "BINANCE_", environ: Mapping[str, str] | None = None
) -> Credentials:
    """Credentials from environment variables (``os.environ`` unless ``environ`` is given).

    ``{prefix}API_KEY`` plus exactly one of ``{prefix}API_SECRET`` (HMAC),
    ``{prefix}PRIVATE_KEY`` (PEM text) or ``{prefix}PRIVATE_KEY_PATH`` (a PEM file), and
    ``{prefix}PRIVATE_KEY_PASSPHRASE`` for an encrypted private key. RSA and Ed25519 are told
    apart by the key itself. Empty variables count as unset.
    """
    env = os.environ if environ is None else environ
    names = _EnvNames(prefix)
    api_key = env.get(names.api_key) or None
    if api_key is None:
        raise CredentialsError(f"{names.api_key} is not set")
    sources = {name: env[name] for name in names.key_sources if env.get(name)}
    if len(sources) != 1:
        found = ", ".join(sources) or "none is set"
        raise CredentialsError(f"set exactly one of {', '.join(names.key_sources)} ({found})")
    [(source, value)] = sources.items()
    passphrase = env.get(names.passphrase) or None
    if source == names.secret and passphrase is not None:
        raise CredentialsError(f"{names.passphrase} is set, but {source} is an HMAC secret")
    try:
        _checked_api_key(api_key)
    except CredentialsError as exc:
        raise CredentialsError(f"{names.api_key}: {exc}") from None
    try:
        return _credentials_from_source(names, source, api_key, value, passphrase)
    except CredentialsError as exc:
        raise CredentialsError(f"{source}: {exc}") from None


def _credentials_from_source(
    names: _EnvNames, source: str, api_key: str, value: str, passphrase: str | None
) -> Credentials:
    if source == names.secret:
        return HmacCredentials(api_key, value)
    if source == names.pem:
        return credentials_from_pem(api_key, _unescape_newlines(value), passphrase)
    return credentials_from_file(api_key, value, passphrase)


def generate_ed25519(api_key: str) -> Ed25519Credentials:
    """Fresh Ed25519 credentials (for tests and demos against the local exchange)."""
    return Ed25519Credentials._from_key(api_key, Ed25519PrivateKey.generate())


def generate_rsa(api_key: str) -> RsaCredentials:
    """Fresh RSA-2048 credentials (for tests and demos; generating takes tens of ms)."""
    private_key = generate_private_key(public_exponent=_PUBLIC_EXPONENT, key_size=_RSA_KEY_BITS)
    return RsaCredentials._from_key(api_key, private_key)


def load_private_key(
    private_key_pem: str | bytes, passphrase: str | bytes | None = None
) -> PrivateKeyTypes:
    """Parse a PEM private key; errors say what is wrong without quoting the key."""
    data = _as_bytes(private_key_pem, "private key")
    password = _as_bytes(passphrase, "passphrase") if passphrase else None
    _refuse_wrong_pem_kind(data, "PRIVATE KEY")
    # cryptography's own messages are safe, but we word them for this context and drop the
    # chained exception (`from None`) so nothing about the key reaches a traceback.
    try:
        return serialization.load_pem_private_key(data, password)
    except TypeError:  # raised when encryption and passphrase disagree
        if password is None:
            raise CredentialsError("the private key is encrypted: a passphrase is needed") from None
        raise CredentialsError(
            "a passphrase was given but the private key is not encrypted"
        ) from None
    except UnsupportedAlgorithm:
        raise CredentialsError("the private key uses an unsupported algorithm") from None
    except ValueError:
        if password is not None and b"ENCRYPTED" in data:
            raise CredentialsError("cannot decrypt the private key: wrong passphrase?") from None
        raise CredentialsError("the private key PEM is malformed or not a private key") from None


def load_public_key(public_key_pem: str | bytes) -> RSAPublicKey | Ed25519PublicKey:
    """Parse a PEM public key as registered with the exchange (RSA or Ed25519 only)."""
    data = _as_bytes(public_key_pem, "public key")
    _refuse_wrong_pem_kind(data, "PUBLIC KEY")
    try:
        public_key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise CredentialsError("the public key PEM is malformed or not a public key") from None
    if not isinstance(public_key, RSAPublicKey | Ed25519PublicKey):
        raise CredentialsError(f"the public key is neither RSA nor Ed25519: {_SUPPORTED_KEYS}")
    return public_key


class _EnvNames:
    """The environment variable names for one prefix."""

    def __init__(self, prefix: str) -> None:
        self.api_key = f"{prefix}API_KEY"
        self.secret = f"{prefix}API_SECRET"
        self.pem = f"{prefix}PRIVATE_KEY"
        self.path = f"{prefix}PRIVATE_KEY_PATH"
        self.passphrase = f"{prefix}PRIVATE_KEY_PASSPHRASE"
        self.key_sources = (self.secret, self.pem, self.path)


def _checked_api_key(api_key: object) -> str:
    if not isinstance(api_key, str):
        raise CredentialsError(f"the API key must be a str, not {type(api_key).__name__}")
    if not api_key:
        raise CredentialsError("the API key is empty")
    if not (api_key.isascii() and api_key.isprintable()) or " " in api_key:
        raise CredentialsError("the API key must be printable ASCII without spaces or newlines")
    return api_key


def _checked_hmac_secret(secret: object) -> bytes:
    data = _as_bytes(secret, "HMAC secret")
    if not data:
        raise CredentialsError("the HMAC secret is empty")
    if b"-----BEGIN" in data:
        raise CredentialsError(
            "the HMAC secret looks like a PEM key: use credentials_from_pem for RSA or Ed25519 keys"
        )
    if data.strip() != data:
        raise CredentialsError("the HMAC secret starts or ends with whitespace (a stray newline?)")
    return data


def _as_bytes(value: object, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    raise CredentialsError(f"the {what} must be str or bytes, not {type(value).__name__}")


def _refuse_wrong_pem_kind(data: bytes, wanted: str) -> None:
    """Clear errors for the PEM mix-ups people make, before cryptography's generic one."""
    if b"-----BEGIN" not in data:
        raise CredentialsError(f"the {wanted.lower()} is not PEM text (no '-----BEGIN' line)")
    if b"OPENSSH PRIVATE KEY" in data:
        raise CredentialsError(
            "OpenSSH-format keys are not supported: use a PKCS#8 PEM key "
            "(e.g. `openssl genpkey -algorithm ed25519`)"
        )
    if wanted == "PRIVATE KEY" and b"PRIVATE KEY-----" not in data:
        raise CredentialsError(
            "this is not a private key (a public key?): signing needs the private key, "
            "the public key is what gets registered with Binance"
        )
    if wanted == "PUBLIC KEY" and b"PRIVATE KEY-----" in data:
        raise CredentialsError("this is a private key: only the public key is registered")


def _wrong_key_type(private_key: PrivateKeyTypes, wanted: str) -> CredentialsError:
    kind = _key_kind(private_key)
    if kind in ("RSA", "Ed25519"):
        advice = f"use {kind.capitalize()}Credentials"
    else:
        advice = _SUPPORTED_KEYS
    return CredentialsError(f"expected an {wanted} private key, got a key of type {kind}: {advice}")


def _key_kind(private_key: PrivateKeyTypes) -> str:
    if isinstance(private_key, RSAPrivateKey):
        return "RSA"
    if isinstance(private_key, Ed25519PrivateKey):
        return "Ed25519"
    return type(private_key).__name__.removesuffix("PrivateKey")


def _api_key_hint(api_key: str) -> str:
    # API keys are sensitive too (spec: "Request security"): show at most a quarter of it,
    # never more than 6 characters -- enough to tell keys apart in logs.
    shown = min(6, len(api_key) // 4)
    return f"{api_key[:shown]}..."


def _read_key_file(path: StrOrPath) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise CredentialsError(f"cannot read key file {os.fspath(path)!r}: {reason}") from None


def _unescape_newlines(pem: str) -> str:
    r"""PEM text squeezed into one line with literal ``\n`` (common in .env files) -> real lines."""
    if "\n" not in pem and "\\n" in pem:
        return pem.replace("\\n", "\n")
    return pem
