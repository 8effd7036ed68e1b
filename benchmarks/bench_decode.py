"""Decoding an ``order.place`` response frame to its typed result, against plain JSON parsing.

    python benchmarks/bench_decode.py [--runs 21] [--slices 10] [--iterations 500] [--json [PATH]]

The frames are the documented ``order.place`` responses (tests/fixtures/spec/methods.json),
serialised compactly as Binance sends them: ``ACK``, ``RESULT`` (the one closest to the issue's
747-byte frame) and ``FULL`` (with ``fills``). For each, "trio_binance" is the whole path a
response takes in a session: ``FrameDecoder().decode(text)`` (envelope and classification;
``result`` and ``rateLimits`` stay undecoded) then
``decode_result(frame.result, METHOD_RESULTS["order.place"])`` (a frozen ``OrderResult`` with
``Decimal`` prices and enums). ``json.loads`` and ``orjson.loads`` only build dicts of
strings, yet are the baseline: the issue's target is trio_binance <= 0.25x ``json.loads``.

Within a run the contenders take turns in ``--slices`` short slices of ``--iterations``
back-to-back decodes each; a contender's figure for the run is its fastest slice (mean time
per frame), since other work on the machine only ever adds time to a slice. Every time is the
median over ``--runs`` runs of those figures, and each ratio is the median of the runs' own
ratios: contenders measured within milliseconds of each other see the same machine. The second
table splits trio_binance's time into its stages and prices a few alternatives
(``hypothetical`` rows are not what the library does; ``before`` is the envelope that decoded
``rateLimits`` with every frame), to show where the time goes. ``Decimal(str) x N`` builds
the result's N ``Decimal`` values from their texts alone: the part of the result's decode
that no decoder design can avoid while prices are ``Decimal``.
"""

from __future__ import annotations

import argparse
import decimal
import enum
import json
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from _common import (
    REPO_ROOT,
    add_output_arguments,
    describe_machine,
    fmt_ns,
    fmt_ratio,
    median,
    ns_per_call,
    print_table,
    spread,
    write_results,
)

from trio_binance._protocol import (
    ErrorBody,
    FrameDecoder,
    ResultResponse,
    _Envelope,
    decode_result,
)
from trio_binance.models import RateLimit
from trio_binance.models._registry import METHOD_RESULTS

METHOD = "order.place"
SPEC_METHODS = REPO_ROOT / "tests" / "fixtures" / "spec" / "methods.json"
HEADLINE_BYTES = 747  # the frame size the target was stated for
TARGET_VS_JSON = 0.25
REFERENCE = "json.loads (measured alongside)"

Decode = Callable[[str], object]


@dataclass(frozen=True)
class SpecFrame:
    name: str
    text: str
    decimals: int
    """How many ``Decimal`` values its typed result holds."""


def documented_frames() -> list[SpecFrame]:
    """The documented ``order.place`` responses, named by their ``newOrderRespType``."""
    spec = json.loads(SPEC_METHODS.read_text(encoding="utf-8"))
    (method,) = (m for m in spec["methods"] if m["method"] == METHOD)
    frames = []
    result_type = METHOD_RESULTS[METHOD]
    for response in method["responses"]:
        result = response["result"]
        name = "FULL" if "fills" in result else "RESULT" if "price" in result else "ACK"
        text = json.dumps(response, separators=(",", ":"), ensure_ascii=False)
        typed = msgspec.json.decode(json.dumps(result), type=result_type)
        frames.append(SpecFrame(name, text, _count_decimals(typed)))
    return sorted(frames, key=lambda frame: len(frame.text))


def _count_decimals(value: object) -> int:
    if isinstance(value, decimal.Decimal):
        return 1
    if isinstance(value, msgspec.Struct):
        return sum(_count_decimals(v) for v in msgspec.structs.astuple(value))
    if isinstance(value, list | tuple):
        return sum(_count_decimals(v) for v in value)
    return 0


def headline(frames: Sequence[SpecFrame]) -> SpecFrame:
    return min(frames, key=lambda frame: abs(len(frame.text) - HEADLINE_BYTES))


# --- the contenders ----------------------------------------------------------------------


def ours(result_type: Any) -> Decode:
    """The path of a response in a session: envelope once, then the result into its type."""
    decoder = FrameDecoder()
    decode_frame = decoder.decode

    def decode(text: str) -> object:
        frame = decode_frame(text)
        if not isinstance(frame, ResultResponse):
            raise TypeError(f"not a result: {frame!r}")
        return decode_result(frame.result, result_type)

    return decode


def baselines() -> dict[str, Decode]:
    found: dict[str, Decode] = {"json.loads": json.loads}
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is a dev dependency
        return found
    found["orjson.loads"] = orjson.loads
    return found


# --- stages and alternatives, for the breakdown ------------------------------------------


class _EnvelopeEagerLimits(msgspec.Struct, frozen=True, gc=False):
    """The envelope as it was before: ``rateLimits`` decoded with every frame."""

    id: int | str | None = None
    status: int | None = None
    result: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    error: ErrorBody | None = None
    rateLimits: list[RateLimit] | None = None
    subscriptionId: int | None = None
    event: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)


def _one_pass_envelope(result_type: Any) -> Any:
    """An envelope typed for one method: the whole frame in a single decode."""
    return msgspec.defstruct(
        "OnePassEnvelope",
        [
            ("id", int | str | None, None),
            ("status", int | None, None),
            ("result", result_type | None, None),
            ("rateLimits", msgspec.Raw, msgspec.field(default_factory=msgspec.Raw)),
        ],
        frozen=True,
        gc=False,
    )


def as_text(tp: Any, *, enums: bool, _cache: dict[Any, Any] | None = None) -> Any:
    """``tp`` with every ``Decimal`` (and, if ``enums``, every enum) replaced by ``str``.

    Structs are rebuilt field by field with the same wire names, so the same JSON decodes into
    them; the difference in time is what ``Decimal`` (and enum) construction costs.
    """
    cache: dict[Any, Any] = {} if _cache is None else _cache
    if tp is decimal.Decimal or (enums and isinstance(tp, type) and issubclass(tp, enum.Enum)):
        return str
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        if tp not in cache:
            cache[tp] = _struct_as_text(tp, enums, cache)
        return cache[tp]
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        converted = [as_text(arg, enums=enums, _cache=cache) for arg in args]
        union = converted[0]
        for arg in converted[1:]:
            union = union | arg
        return union
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return tuple[as_text(args[0], enums=enums, _cache=cache), ...]  # type: ignore[misc]
    if origin is list:
        return list[as_text(args[0], enums=enums, _cache=cache)]  # type: ignore[misc]
    return tp


def _struct_as_text(cls: type[msgspec.Struct], enums: bool, cache: dict[Any, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    fields: list[Any] = []
    wire_names = {}
    for field in msgspec.structs.fields(cls):
        tp = as_text(hints[field.name], enums=enums, _cache=cache)
        wire_names[field.name] = field.encode_name
        if field.default is not msgspec.NODEFAULT:
            fields.append((field.name, tp, field.default))
        elif field.default_factory is not msgspec.NODEFAULT:
            fields.append((field.name, tp, msgspec.field(default_factory=field.default_factory)))
        else:
            fields.append((field.name, tp))
    return msgspec.defstruct(
        f"Text{cls.__name__}", fields, kw_only=True, rename=wire_names, frozen=True, gc=False
    )


@dataclass(frozen=True)
class Stage:
    name: str
    decode: Callable[[Any], object]
    arg: Any


def stages(frame: SpecFrame, result_type: Any) -> list[Stage]:
    response = FrameDecoder().decode(frame.text)
    assert isinstance(response, ResultResponse)
    raw_result = response.result
    typed = msgspec.json.Decoder(result_type)
    envelope = msgspec.json.Decoder(_Envelope)
    eager_limits = msgspec.json.Decoder(_EnvelopeEagerLimits)
    prices_text = msgspec.json.Decoder(as_text(result_type, enums=False))
    all_text = msgspec.json.Decoder(as_text(result_type, enums=True))
    one_pass = msgspec.json.Decoder(_one_pass_envelope(result_type))
    untyped = msgspec.json.Decoder()
    price_texts = _decimal_texts(frame.text, result_type)
    return [
        Stage("1. envelope: FrameDecoder.decode", FrameDecoder().decode, frame.text),
        Stage("   of which the envelope Struct (rateLimits raw)", envelope.decode, frame.text),
        Stage("   before: the envelope decoding rateLimits", eager_limits.decode, frame.text),
        Stage("   rateLimits when read (.rate_limits)", _read_rate_limits, response),
        Stage("2. result -> OrderResult: decode_result", _result_decoder(result_type), raw_result),
        Stage("   of which the cached Decoder alone", typed.decode, raw_result),
        Stage(f"   of which Decimal(str) x {len(price_texts)}", _make_decimals, price_texts),
        Stage("   hypothetical: prices as str, not Decimal", prices_text.decode, raw_result),
        Stage("   hypothetical: prices and enums as str", all_text.decode, raw_result),
        Stage("hypothetical: one pass, envelope typed per method", one_pass.decode, frame.text),
        Stage("reference: msgspec.json.decode to dicts", untyped.decode, frame.text),
    ]


def _read_rate_limits(response: ResultResponse) -> object:
    return response.rate_limits


def _decimal_texts(text: str, result_type: Any) -> list[str]:
    """The texts the result's ``Decimal`` values are made from, in the frame's order."""
    result = json.loads(text)["result"]
    prices = msgspec.json.decode(json.dumps(result), type=as_text(result_type, enums=False))
    typed = msgspec.json.decode(json.dumps(result), type=result_type)
    return _texts_of_decimals(typed, prices)


def _texts_of_decimals(typed: object, text: Any) -> list[str]:
    if isinstance(typed, decimal.Decimal):
        assert isinstance(text, str)
        return [text]
    if isinstance(typed, msgspec.Struct):
        pairs = zip(msgspec.structs.astuple(typed), msgspec.structs.astuple(text), strict=True)
        return [t for a, b in pairs for t in _texts_of_decimals(a, b)]
    if isinstance(typed, list | tuple):
        return [t for a, b in zip(typed, text, strict=True) for t in _texts_of_decimals(a, b)]
    return []


def _make_decimals(texts: list[str]) -> object:
    return [decimal.Decimal(text) for text in texts]


def _result_decoder(result_type: Any) -> Callable[[msgspec.Raw], object]:
    def decode(raw: msgspec.Raw) -> object:
        return decode_result(raw, result_type)

    return decode


# --- running -----------------------------------------------------------------------------


def measure(
    contenders: dict[str, tuple[Callable[[Any], object], Any]],
    runs: int,
    iterations: int,
    slices: int = 1,
) -> dict[str, list[float]]:
    """ns per call of each contender, one figure per run: its fastest of ``slices`` slices.

    Contenders alternate slice by slice, so each run's figures are taken side by side.
    """
    for call, arg in contenders.values():
        call(arg)  # build cached decoders, fail early
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(runs):
        best = dict.fromkeys(contenders, float("inf"))
        for _ in range(slices):
            for name, (call, arg) in contenders.items():
                best[name] = min(best[name], ns_per_call(call, arg, iterations))
        for name, figure in best.items():
            samples[name].append(figure)
    return samples


def paired_ratio(ours: list[float], theirs: list[float] | None) -> float:
    """The median over runs of each run's ratio: drift between runs cancels out."""
    if theirs is None:
        return float("nan")
    return median(o / t for o, t in zip(ours, theirs, strict=True))


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="timed runs per figure (median)")
    parser.add_argument("--slices", type=int, default=10, help="slices per run (fastest kept)")
    parser.add_argument("--iterations", type=int, default=500, help="decodes per slice")
    parser.add_argument("--no-stages", action="store_true", help="skip the breakdown table")
    add_output_arguments(parser)
    args = parser.parse_args(argv)

    result_type = METHOD_RESULTS[METHOD]
    frames = documented_frames()
    main_frame = headline(frames)
    print(f"# {METHOD} response -> {result_type.__name__}: ns per frame\n")
    print(f"{describe_machine()}\n")

    header = ["frame", "bytes", "Decimals", "trio_binance", "json.loads", "orjson.loads"]
    header += ["ours/json", "ours/orjson", f"<= {TARGET_VS_JSON}x json"]
    rows: list[list[str]] = []
    results: dict[str, Any] = {"arguments": vars(args), "frames": {}}
    for frame in frames:
        contenders = {"trio_binance": (ours(result_type), frame.text)}
        contenders |= {name: (call, frame.text) for name, call in baselines().items()}
        samples = measure(contenders, args.runs, args.iterations, args.slices)
        med = {name: median(values) for name, values in samples.items()}
        vs_json = paired_ratio(samples["trio_binance"], samples["json.loads"])
        vs_orjson = paired_ratio(samples["trio_binance"], samples.get("orjson.loads"))
        label = f"{frame.name} (headline)" if frame is main_frame else frame.name
        rows.append(
            [
                label,
                str(len(frame.text)),
                str(frame.decimals),
                fmt_ns(med["trio_binance"]),
                fmt_ns(med["json.loads"]),
                fmt_ns(med.get("orjson.loads", float("nan"))),
                fmt_ratio(vs_json),
                fmt_ratio(vs_orjson),
                "met" if vs_json <= TARGET_VS_JSON else "missed",
            ]
        )
        results["frames"][frame.name] = {
            "bytes": len(frame.text),
            "decimals": frame.decimals,
            "headline": frame is main_frame,
            "ns_per_frame": {"median": med, "runs": samples},
            "spread": {name: spread(values) for name, values in samples.items()},
            "ours_vs_json": vs_json,
            "ours_vs_orjson": vs_orjson,
        }
    print_table(header, rows)
    print(
        f"\nmedian of {args.runs} runs; a run's figure is the fastest of {args.slices} slices"
        f" of {args.iterations:,} decodes, contenders taking turns slice by slice"
    )

    if not args.no_stages:
        for frame in frames:
            if frame is not main_frame and frame.name != "FULL":
                continue
            breakdown = {s.name: (s.decode, s.arg) for s in stages(frame, result_type)}
            breakdown[REFERENCE] = (json.loads, frame.text)
            samples = measure(breakdown, args.runs, args.iterations, args.slices)
            reference = samples.pop(REFERENCE)
            print(f"\n## where the time goes: {frame.name} ({len(frame.text)} bytes)\n")
            stage_rows = [
                [name, fmt_ns(median(values)), fmt_ratio(paired_ratio(values, reference))]
                for name, values in samples.items()
            ]
            stage_rows.append([REFERENCE, fmt_ns(median(reference)), fmt_ratio(1.0)])
            print_table(["stage", "ns", "vs json.loads"], stage_rows)
            results["frames"][frame.name]["stages_ns"] = {
                name: median(values) for name, values in samples.items()
            }

    path = write_results("bench_decode", results, args.json)
    if path is not None:
        print(f"\nresults written to {path}")
    return results


if __name__ == "__main__":
    main()
