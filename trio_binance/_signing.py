"""Signatures over a request's signature payload: making them (client) and checking them
(the local exchange).

The payload is the text built by :func:`trio_binance._params.signature_payload` from the
canonical parameters; every function here signs or verifies its UTF-8 bytes.
Spec: web-socket-api.md, "SIGNED request example (HMAC)", "(RSA)" and "(Ed25519)":

* HMAC: HMAC-SHA-256 keyed with the secret key, hex encoded;
* RSA: RSASSA-PKCS1-v1_5 with SHA-256, base64 encoded;
* Ed25519: Ed25519, base64 encoded.

The verifiers never raise on what a peer sent: a malformed, truncated or non-text signature is
simply not valid. No I/O and no trio import: this is protocol code.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import TypeAlias

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

# What the local exchange keeps per API key to check signatures: the HMAC secret or a public key.
VerifyingKey: TypeAlias = bytes | RSAPublicKey | Ed25519PublicKey

__all__ = [
    "HmacKey",
    "VerifyingKey",
    "ed25519_signature",
    "hmac_signature",
    "rsa_signature",
    "verify_ed25519",
    "verify_hmac",
    "verify_rsa",
    "verify_signature",
]


def hmac_signature(secret: bytes, payload: str) -> str:
    """HMAC-SHA-256 of ``payload`` keyed with ``secret``, as lowercase hex."""
    return hmac.digest(secret, payload.encode(), "sha256").hex()


# RFC 2104: the key, padded to SHA-256's 64-byte block, XORed with these before hashing.
_BLOCK_SIZE = 64
_INNER_PAD = bytes(byte ^ 0x36 for byte in range(256))
_OUTER_PAD = bytes(byte ^ 0x5C for byte in range(256))


class HmacKey:
    """An HMAC-SHA-256 secret ready to sign: :func:`hmac_signature`, with less work per call.

    RFC 2104 hashes the padded key first on both the inner and the outer pass; those two
    hash states are computed once here and copied for each payload. ``hmac.digest`` redoes
    them, and has OpenSSL look the digest up by name, on every call (0.5 against 1.3 us).
    tests/test_signing.py holds it to ``hmac_signature``.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, secret: bytes) -> None:
        key = hashlib.sha256(secret).digest() if len(secret) > _BLOCK_SIZE else secret
        key = key.ljust(_BLOCK_SIZE, b"\0")
        self._inner = hashlib.sha256(key.translate(_INNER_PAD))
        self._outer = hashlib.sha256(key.translate(_OUTER_PAD))

    def __repr__(self) -> str:
        return "<HmacKey>"  # the hash states are as secret as the key itself

    def signature(self, payload: str) -> str:
        """HMAC-SHA-256 of ``payload``, as lowercase hex."""
        inner = self._inner.copy()
        inner.update(payload.encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


def rsa_signature(private_key: RSAPrivateKey, payload: str) -> str:
    """RSASSA-PKCS1-v1_5 / SHA-256 signature of ``payload``, base64 encoded."""
    raw = private_key.sign(payload.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(raw).decode("ascii")


def ed25519_signature(private_key: Ed25519PrivateKey, payload: str) -> str:
    """Ed25519 signature of ``payload``, base64 encoded."""
    return base64.b64encode(private_key.sign(payload.encode())).decode("ascii")


def verify_hmac(secret: bytes, payload: str, signature: object) -> bool:
    """Whether ``signature`` is the HMAC signature of ``payload``, in any letter case.

    Spec: web-socket-api.md, "Signature Case Sensitivity" -- HMAC signatures are not
    case-sensitive. The comparison takes the same time wherever the first difference is.
    """
    if not isinstance(signature, str) or not signature.isascii():
        return False
    # Compared as text (both ASCII here): no bytes copies of either side.
    return hmac.compare_digest(hmac_signature(secret, payload), signature.lower())


def verify_rsa(public_key: RSAPublicKey, payload: str, signature: object) -> bool:
    """Whether ``signature`` (base64, case-sensitive) is an RSA signature of ``payload``."""
    raw = _strict_base64(signature)
    if raw is None:
        return False
    try:
        public_key.verify(raw, payload.encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def verify_ed25519(public_key: Ed25519PublicKey, payload: str, signature: object) -> bool:
    """Whether ``signature`` (base64, case-sensitive) is an Ed25519 signature of ``payload``."""
    raw = _strict_base64(signature)
    if raw is None:
        return False
    try:
        public_key.verify(raw, payload.encode())
    except InvalidSignature:
        return False
    return True


def verify_signature(key: VerifyingKey, payload: str, signature: object) -> bool:
    """Check ``signature`` with whichever kind of key the API key was registered with."""
    if isinstance(key, bytes):
        return verify_hmac(key, payload, signature)
    if isinstance(key, RSAPublicKey):
        return verify_rsa(key, payload, signature)
    return verify_ed25519(key, payload, signature)


def _strict_base64(signature: object) -> bytes | None:
    """The bytes ``signature`` encodes, or ``None`` if it is not canonical base64 text.

    Strict decoding: base64 that only decodes after dropping junk characters is not the
    signature that was sent, so it must not verify.
    """
    if not isinstance(signature, str) or not signature.isascii():
        return None
    try:
        return base64.b64decode(signature, validate=True)
    except binascii.Error:
        return None
