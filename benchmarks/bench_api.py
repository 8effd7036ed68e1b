"""What the typed API's argument checks cost: ``checked_params`` and ``session.place_order``.

    python benchmarks/bench_api.py [--runs 9] [--iterations 2000] [--requests 1000] [--json [PATH]]

Two measurements, each against baselines taken in the same run, the contenders taking turns:

* **checks**: nanoseconds per ``checked_params("order.place", ...)`` for a LIMIT order, with
  the 19 keyword arguments ``place_order`` passes (13 of them ``None``), and per "typed
  preparation" (the checks, the generated client order id and the canonical wire params:
  everything ``place_order`` does before ``request``). *before* is the previous
  implementation, kept here as the baseline: every wire name rebuilt and every value's check
  found by a suffix search on each call, and the order-leg rules rebuilt as closures.
  Fastest of 10 interleaved slices per run, median over runs; the ratio is the median of the
  runs' own ratios.
* **place_order**: microseconds per request, one in flight, against a local exchange in the
  same process that answers ``order.place`` with the documented RESULT body (its own work is
  in every contender's figure alike): ``session.request("order.place", wire params)`` (no
  checks), ``session.place_order(...)``, and ``place_order`` with the *before* checks patched
  in. "typed - request" is what the typed path adds per request (median of the runs' own
  differences).
"""

from __future__ import annotations

import argparse
import inspect
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from itertools import repeat
from typing import Any

import trio
from _common import (
    REPO_ROOT,
    add_output_arguments,
    describe_machine,
    fmt_ns,
    fmt_ratio,
    median,
    print_table,
    write_results,
)

import trio_binance
from trio_binance import _api
from trio_binance._api import (
    _CHECKS_BY_SUFFIX,
    _LIMIT_MAX,
    _ORDER_LEGS,
    _REQUIRED_BY_TYPE,
    _RULES,
    _at_most_one,
    _check_time_range,
    _iceberg_needs_gtc,
    _integer,
    _invalid,
    _together,
    checked_params,
    python_name,
)
from trio_binance._client_ids import add_client_ids, with_client_ids
from trio_binance._credentials import generate_ed25519
from trio_binance._params import canonical_params
from trio_binance.models import OrderResult
from trio_binance.testing import Lifecycle, LocalExchange, Request, open_local_exchange
from trio_binance.testing._limits import Limit, RateLimitConfig

SPEC_METHODS = REPO_ROOT / "tests" / "fixtures" / "spec" / "methods.json"
SLICES = 10

ORDER: dict[str, object] = {
    "symbol": "BTCUSDT",
    "side": "SELL",
    "type": "LIMIT",
    "time_in_force": "GTC",
    "price": Decimal("23416.10000000"),
    "quantity": Decimal("0.00847000"),
}
# Every keyword argument of place_order, as it hands them to checked_params.
ARGUMENTS: dict[str, object] = {
    **dict.fromkeys(
        name
        for name, parameter in inspect.signature(_api.ApiMethods.place_order).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    ),
    **ORDER,
}
WIRE_ORDER: dict[str, object] = {
    "symbol": "BTCUSDT",
    "side": "SELL",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "price": Decimal("23416.10000000"),
    "quantity": Decimal("0.00847000"),
    "newClientOrderId": "bench-untyped-000001",
}


# --- the previous implementation: the baseline -------------------------------------------


def before_wire_name(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def before_value(method: str, wire: str, value: object) -> object:
    if wire == "limit":
        return _integer(wire, value, minimum=1, maximum=_LIMIT_MAX[method])
    lowered = wire.lower()
    for suffix, check in _CHECKS_BY_SUFFIX:
        if lowered.endswith(suffix):
            return check(wire, value)
    raise AssertionError(f"no check for {wire!r}")


def before_leg(prefix: str, name: str) -> str:
    return prefix + name[0].upper() + name[1:] if prefix else name


def before_order(params: Mapping[str, object], prefix: str, own_quantity: bool) -> None:
    order_type = params.get(before_leg(prefix, "type"))
    pegged = before_leg(prefix, "pegPriceType") in params
    for alternatives in _REQUIRED_BY_TYPE.get(str(order_type), ()):
        shared_quantity = "quantity" in alternatives and not own_quantity
        if shared_quantity or (alternatives[0] == "price" and pegged):
            continue
        names = [before_leg(prefix, name) for name in alternatives]
        if not any(name in params for name in names):
            either = "".join(f" (or {python_name(name)!r})" for name in names[1:])
            raise _invalid(names[0], f"is required for a {order_type} order{either}")
    if order_type == "MARKET":
        _at_most_one(before_leg(prefix, "quantity"), before_leg(prefix, "quoteOrderQty"))(params)
    _together(before_leg(prefix, "pegOffsetType"), before_leg(prefix, "pegOffsetValue"))(params)
    _iceberg_needs_gtc(before_leg(prefix, "icebergQty"), before_leg(prefix, "timeInForce"))(params)


def before_checked_params(method: str, arguments: Mapping[str, object]) -> dict[str, object]:
    params = {
        wire: before_value(method, wire, value)
        for wire, value in ((before_wire_name(name), value) for name, value in arguments.items())
        if value is not None
    }
    for rule in _RULES.get(method, ()):
        rule(params)
    for prefix, own_quantity in _ORDER_LEGS.get(method, ()):
        before_order(params, prefix, own_quantity)
    _check_time_range(method, params)
    return params


# --- checks ------------------------------------------------------------------------------


def prepare_now() -> object:
    """What ``place_order`` does before ``request`` sends: as ``ApiMethods._call``."""
    params = checked_params("order.place", ARGUMENTS)
    add_client_ids("order.place", params)
    return canonical_params(params)  # checked params pass through unconverted


def prepare_before() -> object:
    params = with_client_ids("order.place", before_checked_params("order.place", ARGUMENTS))
    return canonical_params(params)


def check_contenders() -> dict[str, Callable[[], object]]:
    return {
        "checked_params": lambda: checked_params("order.place", ARGUMENTS),
        "checked_params before": lambda: before_checked_params("order.place", ARGUMENTS),
        "typed preparation": prepare_now,
        "typed preparation before": prepare_before,
    }


def ns_per_call(call: Callable[[], object], iterations: int) -> float:
    perf = time.perf_counter_ns
    start = perf()
    for _ in repeat(None, iterations):
        call()
    return (perf() - start) / iterations


def measure_checks(runs: int, iterations: int) -> dict[str, list[float]]:
    contenders = check_contenders()
    assert contenders["checked_params"]() == contenders["checked_params before"]()
    figures: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(runs):
        fastest = dict.fromkeys(contenders, float("inf"))
        for _ in range(SLICES):
            for name, call in contenders.items():
                fastest[name] = min(fastest[name], ns_per_call(call, iterations))
        for name, ns in fastest.items():
            figures[name].append(ns)
    return figures


# --- place_order end to end --------------------------------------------------------------


def documented_result() -> dict[str, Any]:
    """The documented ``order.place`` response with ``newOrderRespType=RESULT``."""
    spec = json.loads(SPEC_METHODS.read_text(encoding="utf-8"))
    (method,) = (m for m in spec["methods"] if m["method"] == "order.place")
    (result,) = (
        r["result"]
        for r in method["responses"]
        if "price" in r["result"] and "fills" not in r["result"]
    )
    return dict(result)


def canned_exchange() -> LocalExchange:
    """Limits no benchmark reaches, no pings, and ``order.place`` answered from a constant."""
    unlimited = Limit("REQUEST_WEIGHT", "MINUTE", 1, 10**12)
    orders = Limit("ORDERS", "SECOND", 10, 10**12)
    exchange = LocalExchange(
        limits=RateLimitConfig(request_weight=(unlimited,), orders=(orders,)),
        lifecycle=Lifecycle(ping_interval=3600.0, pong_timeout=3600.0),
    )
    body = documented_result()

    def handler(request: Request) -> dict[str, Any]:
        return body

    exchange.register("order.place", handler)
    return exchange


@contextmanager
def before_checks() -> Any:
    """``place_order`` with the previous ``checked_params`` (the module global it calls)."""
    # It returned a plain dict, which request() then converted once more.
    _api.checked_params = before_checked_params  # type: ignore[assignment]
    try:
        yield
    finally:
        _api.checked_params = checked_params


def rotated(names: list[str], turn: int) -> list[str]:
    shift = turn % len(names)
    return names[shift:] + names[:shift]


async def us_per_request(place: Callable[[], Awaitable[object]], count: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(count):
        await place()
    return (time.perf_counter_ns() - start) / count / 1000


async def measure_place_order(runs: int, requests: int) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"request": [], "place_order": [], "place_order before": []}
    async with open_local_exchange(canned_exchange()) as exchange:
        credentials = generate_ed25519("benchkey")
        exchange.keys.add_credentials(credentials, "bench")
        async with trio_binance.connect(
            exchange.url, credentials=credentials, clock_refresh=None
        ) as session:

            async def untyped() -> object:
                return await session.request(
                    "order.place", WIRE_ORDER, result_type=OrderResult, signed=True
                )

            async def typed() -> object:
                return await session.place_order(**ORDER)  # type: ignore[arg-type]

            async def typed_before() -> object:
                with before_checks():
                    return await typed()

            places = {"request": untyped, "place_order": typed, "place_order before": typed_before}
            await us_per_request(typed, 50)  # warm up: connection, caches, decoders
            block = max(1, requests // SLICES)
            for _ in range(runs):
                totals = dict.fromkeys(figures, 0.0)
                for turn in range(SLICES):  # each contender takes each place in the order
                    for name in rotated(list(places), turn):
                        totals[name] += await us_per_request(places[name], block)
                for name, total in totals.items():
                    figures[name].append(total / SLICES)
    return figures


# --- report ------------------------------------------------------------------------------


def paired(
    values: list[float], base: list[float], combine: Callable[[float, float], float]
) -> float:
    return median(combine(value, other) for value, other in zip(values, base, strict=True))


def summarise(checks: dict[str, list[float]], orders: dict[str, list[float]]) -> dict[str, Any]:
    ratio = lambda a, b: a / b  # noqa: E731
    minus = lambda a, b: a - b  # noqa: E731
    return {
        "checks_ns": {name: median(values) for name, values in checks.items()},
        "checks_after_over_before": {
            name: paired(checks[name], checks[f"{name} before"], ratio)
            for name in ("checked_params", "typed preparation")
        },
        "place_order_us": {name: median(values) for name, values in orders.items()},
        "typed_minus_request_us": {
            name: paired(orders[name], orders["request"], minus)
            for name in ("place_order", "place_order before")
        },
        "runs": {"checks_ns": checks, "place_order_us": orders},
    }


def report(summary: dict[str, Any]) -> None:
    checks, ratios = summary["checks_ns"], summary["checks_after_over_before"]
    print("\nchecks of a LIMIT order, ns per call (median of runs):\n")
    print_table(
        ["", "before", "now", "now/before"],
        [
            [name, fmt_ns(checks[f"{name} before"]), fmt_ns(checks[name]), fmt_ratio(ratios[name])]
            for name in ("checked_params", "typed preparation")
        ],
    )
    orders, extra = summary["place_order_us"], summary["typed_minus_request_us"]
    print("\nplace a LIMIT order, one in flight, us per request (median of runs):\n")
    print_table(
        ["", "us/request", "- request"],
        [
            ["session.request (wire params)", f"{orders['request']:.1f}", ""],
            ["place_order", f"{orders['place_order']:.1f}", f"{extra['place_order']:+.1f}"],
            [
                "place_order, checks before",
                f"{orders['place_order before']:.1f}",
                f"{extra['place_order before']:+.1f}",
            ],
        ],
    )


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--iterations", type=int, default=2000, help="calls per check slice")
    parser.add_argument("--requests", type=int, default=1000, help="orders per contender and run")
    add_output_arguments(parser)
    args = parser.parse_args(argv)
    print(describe_machine())
    checks = measure_checks(args.runs, args.iterations)
    orders = trio.run(measure_place_order, args.runs, args.requests)
    summary = summarise(checks, orders)
    report(summary)
    path = write_results("bench_api", summary, args.json)
    if path is not None:
        print(f"\nwrote {path}")
    return summary


if __name__ == "__main__":
    main()
