"""The judge's numbers and verdicts, frozen before its counting was rewritten for tied data.

tests/fixtures/judge/same_results.json was recorded on main at 8b0c549, before the
grouped (tied-value) path existed: every p-value, interval end, estimate, Hodges-Lehmann
median and decision for seeded inputs of both real shapes (continuous latencies, and
integer-valued counts with 2 to 20 distinct values) and for every metric the judge tests
of that commit classified. Faster code must keep them to 1e-12.
"""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest

from cockpit.judge import JudgeConfig, MetricInput, judge
from cockpit.judge.classify import classify
from cockpit.judge.result import MetricResult

from .conftest import FIXTURES

EXPECTED = json.loads((FIXTURES / "same_results.json").read_text())
NUMBERS = (
    "u",
    "p_value",
    "ci_low",
    "ci_high",
    "estimate",
    "hodges_lehmann",
    "effect",
    "mean_ratio",
)
EXACT = ("classification", "critical", "deviations", "p_method", "reason")


def latencies(seed: int, count: int, points: int) -> list[MetricInput]:
    """Log-normal latencies (ms); canaries as fast, 3% or 30% slower, or 30% faster."""
    rng = random.Random(seed)
    made = []
    for i in range(count):
        scale = (1.0, 1.03, 1.3, 0.7)[i % 4]
        base = rng.uniform(20, 400)
        baseline = [base * rng.lognormvariate(0, 0.25) for _ in range(points)]
        canary = [scale * base * rng.lognormvariate(0, 0.25) for _ in range(points)]
        made.append(MetricInput(f"latency-{i}", baseline, canary))
    return made


def counts(seed: int, distinct: int, points: int, step: float = 1.0) -> list[MetricInput]:
    """Integer-valued series (binomial, `distinct` values, times `step`), four shifts each."""
    rng = random.Random(seed)
    made = []
    for i, lift in enumerate((1.0, 1.15, 0.85, 1.02)):
        p = rng.uniform(0.15, 0.6)
        n_base, n_canary = points, points if i % 2 == 0 else points // 3 + 7

        def draw(q: float, size: int) -> list[float]:
            trials = distinct - 1
            return [step * sum(rng.random() < q for _ in range(trials)) for _ in range(size)]

        made.append(
            MetricInput(
                f"count-{distinct}-{i}", draw(p, n_base), draw(min(p * lift, 1.0), n_canary)
            )
        )
    return made


def mostly_zero(seed: int, points: int) -> list[MetricInput]:
    """Error counts: mostly 0, a few 1..5 (Poisson-like), with and without a rise."""
    rng = random.Random(seed)

    def draw(rate: float) -> list[float]:
        return [float(min(5, int(rng.expovariate(1 / rate)))) if rng.random() < rate else 0.0
                for _ in range(points)]  # fmt: skip

    return [
        MetricInput("errors-flat", draw(0.05), draw(0.05), direction="increase"),
        MetricInput("errors-rise", draw(0.05), draw(0.2), direction="increase"),
        MetricInput("errors-surge", draw(0.3), draw(0.9), direction="increase"),
        MetricInput("errors-negative", [-v for v in draw(0.3)], [-v for v in draw(0.1)]),
    ]


def rounded(seed: int, points: int, digits: int) -> list[MetricInput]:
    """Latencies rounded to `digits` decimals: many ties, hundreds of distinct values."""
    rng = random.Random(seed)
    return [
        MetricInput(
            f"rounded-{digits}-{i}",
            [round(rng.lognormvariate(0, 1), digits) for _ in range(points)],
            [round(rng.lognormvariate(0.1 * i, 1), digits) for _ in range(points)],
        )
        for i in range(3)
    ]


def generated() -> dict[str, list[MetricInput]]:
    """Every seeded case by name (the fixture holds their results, not their inputs)."""
    cases = {"latencies": latencies(1, 8, 1000), "latencies-small": latencies(2, 8, 60)}
    for distinct in (2, 3, 5, 8, 13, 20):
        cases[f"counts-{distinct}"] = counts(distinct, distinct, 1000)
    cases["counts-tenths"] = counts(30, 9, 400, step=0.1)
    cases["counts-large"] = counts(31, 6, 500, step=1e6 + 0.5)
    cases["mostly-zero"] = mostly_zero(40, 1000)
    cases["rounded-2"] = rounded(50, 500, 2)
    cases["rounded-1"] = rounded(51, 500, 1)
    return cases


def number(value: Any) -> Any:
    """JSON has no NaN or infinity: they are stored as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


def unnumber(value: Any) -> Any:
    return float(value) if value in ("nan", "inf", "-inf") else value


def summary(result: MetricResult) -> dict[str, Any]:
    """What must not change: the numbers behind a label and the label itself."""
    record: dict[str, Any] = {key: number(getattr(result, key)) for key in NUMBERS}
    record.update({key: getattr(result, key) for key in EXACT})
    record["deviations"] = list(result.deviations)
    return record


def _same(actual: dict[str, Any], expected: dict[str, Any], where: str) -> None:
    for key in EXACT:
        assert actual[key] == expected[key], f"{where}: {key}"
    for key in NUMBERS:
        got, want = unnumber(actual[key]), unnumber(expected[key])
        if got is None or want is None or math.isnan(want):
            assert got is want or (got is not None and math.isnan(got)), f"{where}: {key}"
        else:
            assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12), (
                f"{where}: {key} {got!r} != {want!r}"
            )


@pytest.mark.parametrize("case", sorted(EXPECTED["generated"]))
def test_seeded_shapes_keep_their_numbers_and_verdicts(case: str) -> None:
    metrics = generated()[case]
    result = judge(metrics, JudgeConfig(run_id=case))
    expected = EXPECTED["generated"][case]
    assert (result.score, result.decision) == (expected["score"], expected["decision"])
    for metric, want in zip(result.metrics, expected["metrics"], strict=True):
        _same(summary(metric), want, f"{case}/{metric.name}")


def _recorded_input(entry: dict[str, Any]) -> tuple[MetricInput, JudgeConfig]:
    fields = dict(entry["metric"])
    baseline = [unnumber(v) for v in fields.pop("baseline")]
    canary = [unnumber(v) for v in fields.pop("canary")]
    config = dict(entry["config"])
    config["passing"] = config.pop("pass")
    return MetricInput(baseline=baseline, canary=canary, **fields), JudgeConfig(**config)


@pytest.mark.parametrize("index", range(len(EXPECTED["recorded"])))
def test_metrics_of_the_judge_tests_keep_their_numbers(index: int) -> None:
    entry = EXPECTED["recorded"][index]
    metric, config = _recorded_input(entry)
    _same(summary(classify(metric, config)), entry["result"], f"recorded[{index}]")
