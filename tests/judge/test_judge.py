"""judge() end to end: determinism (R-A6), canonical JSON, digests and evidence (R-A14)."""

from __future__ import annotations

import hashlib
import json
import math
import random
import struct
from pathlib import Path

import pytest

from cockpit.judge import JUDGE_VERSION, JudgeConfig, MetricInput, judge, load_document
from cockpit.judge.canonical import canonical_json, digest, input_digests
from cockpit.model import Verdict

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "judge"


def _document(name: str) -> tuple[list[MetricInput], JudgeConfig]:
    return load_document(json.loads((FIXTURES / name).read_text()))


def test_judging_twice_gives_identical_bytes() -> None:
    metrics, config = _document("canary_fail.json")
    first, second = judge(metrics, config).to_json(), judge(metrics, config).to_json()
    assert first == second
    assert first.encode("ascii")  # canonical JSON is ASCII only


def test_json_is_canonical() -> None:
    metrics, config = _document("canary_pass.json")
    text = judge(metrics, config).to_json()
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert data["judge_version"] == JUDGE_VERSION
    assert data["thresholds"] == {"marginal": 75.0, "pass": 95.0}


def test_evidence_in_the_verdict() -> None:
    """R-A14: digests, version, seed, per-metric statistics, groups, thresholds, label."""
    metrics, config = _document("canary_fail.json")
    data = json.loads(judge(metrics, config).to_json())
    metric = data["metrics"][1]
    for key in ("ci_low", "ci_high", "estimate", "hodges_lehmann", "effect", "classification",
                "reason", "critical", "seed", "u", "p_value", "cleaning"):  # fmt: skip
        assert key in metric
    assert metric["cleaning"]["canary"]["nan_strategy"] == "remove"
    assert {name: g["weight"] for name, g in data["groups"].items()} == {
        "latency": 50.0, "errors": 30.0, "saturation": 20.0
    }  # fmt: skip
    for key in ("digest", "series_digest", "config_digest"):
        assert data[key].startswith("sha256:") and len(data[key]) == 71
    assert data["decision"] == "fail" and data["score"] == 45.0


def _encoding(metrics: list[MetricInput]) -> bytes:
    """The documented series encoding, written independently with struct."""
    out = [b"cockpit.judge series v1\n", struct.pack(">Q", len(metrics))]
    for m in metrics:
        name = m.name.encode("utf-8")
        out += [struct.pack(">Q", len(name)), name]
        for values in (m.baseline, m.canary):
            out.append(struct.pack(">Q", len(values)))
            out += [
                struct.pack(">d", v) if v == v else bytes.fromhex("7ff8000000000000")
                for v in values
            ]
    return b"".join(out)


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_digests_follow_the_documented_encoding() -> None:
    metrics, config = _document("canary_pass.json")
    result = judge(metrics, config)
    settings = canonical_json(
        {"config": config.settings(), "metrics": [m.settings() for m in metrics]}
    ).encode("ascii")
    series = _encoding(metrics)
    assert result.series_digest == _sha(series)
    assert (
        result.config_digest
        == _sha(settings)
        == digest({"config": config.settings(), "metrics": [m.settings() for m in metrics]})
    )
    assert result.digest == _sha(series + struct.pack(">Q", len(settings)) + settings)


def test_digest_changes_with_any_input() -> None:
    metrics, config = _document("canary_pass.json")
    base = judge(metrics, config)
    nudged = [
        metrics[0].__class__(**{**metrics[0].__dict__, "canary": [*metrics[0].canary[:-1], 1.0]})
    ]
    assert judge(nudged + metrics[1:], config).digest != base.digest
    other = config.__class__(**{**config.__dict__, "run_id": "other"})
    changed = judge(metrics, other)
    assert changed.config_digest != base.config_digest
    assert changed.series_digest == base.series_digest


def _with(metric: MetricInput, **changes: object) -> MetricInput:
    return MetricInput(**{**metric.__dict__, **changes})


def test_one_ulp_changes_the_digest() -> None:
    metrics, config = _document("canary_pass.json")
    base = judge(metrics, config)
    canary = list(metrics[0].canary)
    canary[7] = math.nextafter(canary[7], math.inf)
    nudged = judge([_with(metrics[0], canary=canary), *metrics[1:]], config)
    assert nudged.series_digest != base.series_digest and nudged.digest != base.digest
    assert nudged.config_digest == base.config_digest


def test_zero_signs_are_different_inputs() -> None:
    signed = [_series_digest([0.0] * 3), _series_digest([-0.0, 0.0, 0.0])]
    assert signed[0] != signed[1]


def test_nan_payloads_are_canonical() -> None:
    """Every NaN digests alike: a missing point is missing, whatever bits carried it."""
    payloads = ["7ff8000000000000", "fff8000000000000", "7ff0000000000001", "7ff8dead00000000"]
    nans = [struct.unpack(">d", bytes.fromhex(h))[0] for h in payloads]
    assert all(math.isnan(v) for v in nans)
    assert len({struct.pack(">d", v) for v in nans}) > 1  # really different bit patterns
    digests = {_series_digest([1.0, v, 2.0]) for v in [*nans, math.nan, None]}
    assert len(digests) == 1
    assert _series_digest([1.0, math.inf, 2.0]) not in digests


def test_lengths_frame_the_series() -> None:
    """Moving a point from the baseline to the canary, or a character between names, changes it."""
    a = series_digest_of([("ab", [1.0, 2.0], [3.0])])
    assert a != series_digest_of([("ab", [1.0], [2.0, 3.0])])
    assert series_digest_of([("a", [1.0], [2.0]), ("b", [3.0], [4.0])]) != series_digest_of(
        [("ab", [1.0], [2.0]), ("", [3.0], [4.0])]
    )


def series_digest_of(series: list[tuple[str, list[float], list[float]]]) -> str:
    return input_digests(series, "{}")[0]


def _series_digest(canary: list) -> str:
    return series_digest_of([("m", [1.0], canary)])


def test_non_finite_numbers_are_spelled_out() -> None:
    assert canonical_json({"b": [math.nan, math.inf, -math.inf, 1.5], "a": 1}) == (
        '{"a":1,"b":["NaN","Infinity","-Infinity",1.5]}'
    )


def test_to_verdict_carries_the_decision() -> None:
    metrics, config = _document("canary_fail.json")
    result = judge(metrics, config)
    verdict = result.to_verdict()
    assert isinstance(verdict, Verdict)
    assert (verdict.score, verdict.decision, verdict.marginal, verdict.passing) == (
        45.0,
        "fail",
        75.0,
        95.0,
    )
    assert verdict.digest == result.digest and verdict.reason == result.reason
    assert [(m.name, m.classification) for m in verdict.metrics] == [
        ("p99 latency", "Pass"), ("p50 latency", "High"), ("5xx ratio", "High"),
        ("cpu per request", "Pass"),
    ]  # fmt: skip


def test_a_clean_canary_passes() -> None:
    rng = random.Random(4)
    metrics = [
        MetricInput(
            f"m{i}", [rng.gauss(10, 1) for _ in range(80)], [rng.gauss(10, 1) for _ in range(80)]
        )
        for i in range(5)
    ]
    result = judge(metrics, JudgeConfig(run_id="x"))
    assert result.decision == "pass" and result.score == 100.0


def test_inputs_are_validated_with_paths() -> None:
    with pytest.raises(ValueError, match=r"metrics\[1\]\.name: 'a' appears twice"):
        judge([MetricInput("a", [1.0], [1.0]), MetricInput("a", [1.0], [1.0])])
    with pytest.raises(ValueError, match="metrics: at least one"):
        judge([])
    with pytest.raises(ValueError, match="thresholds"):
        judge([MetricInput("a", [1.0], [1.0])], JudgeConfig(marginal=96, passing=95))
