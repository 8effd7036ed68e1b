"""Per-signature cost of each API key type over a typical ``order.place`` request.

Run: ``python benchmarks/bench_signing.py [--runs 7]``. Prints one row per key type with the
median, over several runs, of the mean cost per call in microseconds:

* ``sign``: signing an already built payload (what the key type costs);
* ``sign_params``: building the canonical payload and signing it (what a request costs);
* ``verify``: checking the signature, as the local exchange does.
"""

from __future__ import annotations

import argparse
import statistics
import timeit
from collections.abc import Callable
from decimal import Decimal
from functools import partial

from trio_binance._credentials import (
    Credentials,
    HmacCredentials,
    generate_ed25519,
    generate_rsa,
    load_public_key,
)
from trio_binance._params import canonical_params, signature_payload
from trio_binance._signing import VerifyingKey, verify_signature

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
HMAC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"


def order_place_params() -> dict[str, object]:
    return {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": Decimal("0.00100000"),
        "price": Decimal("52000.01"),
        "newClientOrderId": "tb-6f1c2a9e4d3b4f0a8c7e5d2b1a0f9e8d",
        "newOrderRespType": "RESULT",
        "recvWindow": 5000,
        "timestamp": 1645423376532,
        "apiKey": API_KEY,
    }


def key_types() -> list[tuple[Credentials, VerifyingKey]]:
    ed25519 = generate_ed25519(API_KEY)
    rsa = generate_rsa(API_KEY)
    return [
        (HmacCredentials(API_KEY, HMAC_SECRET), HMAC_SECRET.encode()),
        (rsa, load_public_key(rsa.public_key_pem())),
        (ed25519, load_public_key(ed25519.public_key_pem())),
    ]


def median_microseconds(call: Callable[[], object], runs: int) -> float:
    """Median over ``runs`` of the mean time per call, in microseconds."""
    timer = timeit.Timer(call)
    number, _ = timer.autorange()  # calls per run: enough for >= 0.2 s, so timer noise vanishes
    totals = timer.repeat(repeat=runs, number=number)
    return statistics.median(totals) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per figure")
    runs = parser.parse_args().runs

    params = canonical_params(order_place_params())
    payload = signature_payload(params)
    print(f"order.place payload: {len(payload.encode())} bytes, {len(params)} parameters")
    print(f"median of {runs} runs, microseconds per call\n")
    print(f"{'key type':<9} {'sign':>10} {'sign_params':>12} {'verify':>10}")
    for credentials, key in key_types():
        signature = credentials.sign(payload)
        assert verify_signature(key, payload, signature)
        sign = median_microseconds(partial(credentials.sign, payload), runs)
        sign_params = median_microseconds(partial(credentials.sign_params, params), runs)
        verify = median_microseconds(partial(verify_signature, key, payload, signature), runs)
        print(f"{credentials.key_type:<9} {sign:>10.1f} {sign_params:>12.1f} {verify:>10.1f}")


if __name__ == "__main__":
    main()
