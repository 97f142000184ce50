"""The per-metric classifier: Kayenta's vectors (R-A5), strict bounds, no-data and noise rules."""

from __future__ import annotations

import math
import random
from dataclasses import replace

import pytest

from cockpit.judge import deviations as dev
from cockpit.judge.classify import _compare, classify, seed_for
from cockpit.judge.inputs import JudgeConfig, MetricInput
from cockpit.judge.interval import ShiftInterval
from cockpit.judge.reasons import Wording

# ClassifierSuite.scala runs with tolerance 0.10 and confidence 0.95 on 5-point samples.
SUITE = JudgeConfig(tolerance=0.10, confidence=0.95, min_points=1)
E = [20, 22, 21, 25, 30]
C = [1.0, 2.2, 1.1, 2.5, 3.0]

A16 = [
    # canary, baseline, settings, label, critical
    (E, C, {"allowed_increase": 1.2, "allowed_decrease": 0.8}, "High", False),
    (E, C, {"critical": True, "critical_increase": 1.2, "critical_decrease": 1.0}, "High", True),
    ([2, 2, 2, 2, 3], [10, 20.2, 10.1, 20.5, 30],
     {"critical": True, "critical_increase": 1.0, "critical_decrease": 1.2}, "Low", True),
    (E, C, {"critical": True, "allowed_increase": 5, "allowed_decrease": 1,
            "critical_increase": 13, "critical_decrease": 1}, "High", False),
    (E, C, {"allowed_increase": 13, "allowed_decrease": 1, "critical_increase": 15,
            "critical_decrease": 1}, "Pass", False),
    ([1, 1, 1, 1, 10], [1] * 5, {}, "Pass", False),
    ([10] * 5, [1] * 5, {}, "High", False),
    ([10] * 5, [0] * 5, {}, "High", False),
    ([0, 1, 1, 1, 1], [1] * 5, {"direction": "decrease"}, "Pass", False),
]  # fmt: skip


@pytest.mark.parametrize("case", A16, ids=[f"a16-{i + 1}" for i in range(len(A16))])
def test_kayenta_classifier_vectors(case: tuple) -> None:
    canary, baseline, settings, label, critical = case
    result = classify(MetricInput("m", baseline, canary, **settings), SUITE)
    assert (result.classification, result.critical) == (label, critical)


def test_first_vector_interval_and_ratio() -> None:
    result = classify(MetricInput("m", C, E), SUITE)
    assert result.ci_low == pytest.approx(17.8, abs=1e-4)
    assert result.ci_high == pytest.approx(27.8, abs=1e-4)
    assert result.estimate == pytest.approx(20.0, abs=1e-4)
    assert result.mean_ratio == pytest.approx(12.04, abs=0.005)


def test_lower_bound_equal_to_zero_tolerance_is_a_pass() -> None:
    """Kayenta's 'Majority Tied Observations': lo == 0 == b must not be High."""
    result = classify(MetricInput("m", [1] * 5, [1, 1, 1, 1, 10]), SUITE)
    assert result.ci_low == 0.0 and result.estimate == 0.0
    assert result.classification == "Pass"


@pytest.mark.parametrize(
    ("low", "high", "label"),
    [(2.5, 5.0, "Pass"), (math.nextafter(2.5, 3), 5.0, "High"),
     (-5.0, -2.5, "Pass"), (-5.0, math.nextafter(-2.5, -3), "Low")],
)  # fmt: skip
def test_bounds_are_strict_at_lo_equal_b(low: float, high: float, label: str) -> None:
    """b = tolerance * |estimate| = 0.25 * 10; the interval must clear it strictly."""
    metric = MetricInput("m", [1.0], [1.0])
    config = JudgeConfig(tolerance=0.25, min_points=1)
    base = classify(MetricInput("m", [1.0, 2.0], [3.0, 4.0]), config)
    estimate = 10.0 if low > 0 else -10.0
    result = _compare(
        base, metric, config, ShiftInterval(low, high, estimate), math.nan, Wording(metric, config)
    )
    assert result.classification == label


def _samples(shift: float, n: int = 60, seed: int = 1) -> tuple[list[float], list[float]]:
    rng = random.Random(seed)
    baseline = [rng.gauss(100, 5) for _ in range(n)]
    canary = [rng.gauss(100 + shift, 5) for _ in range(n)]
    return baseline, canary


def test_direction_decides_which_shift_is_bad() -> None:
    baseline, canary = _samples(+20)
    config = JudgeConfig()
    assert (
        classify(MetricInput("m", baseline, canary, direction="increase"), config).classification
        == "High"
    )
    lower = classify(MetricInput("m", baseline, canary, direction="decrease"), config)
    assert lower.classification == "Pass" and "only a decrease is bad" in lower.reason
    baseline, canary = _samples(-20)
    assert classify(MetricInput("m", baseline, canary), config).classification == "Low"


def test_effect_size_gate_and_reason_words() -> None:
    baseline, canary = _samples(+10)
    config = JudgeConfig()
    high = classify(MetricInput("latency", baseline, canary, unit="ms"), config)
    assert high.classification == "High"
    assert (
        high.reason.startswith("canary ")
        and "% higher than baseline (98% CI of shift " in high.reason
    )
    assert high.reason.endswith("ms), allowed 0%")
    within = classify(MetricInput("latency", baseline, canary, allowed_increase=1.5), config)
    assert within.classification == "Pass" and "within the allowed 50%" in within.reason


def test_cles_effect_measure() -> None:
    baseline, canary = _samples(+10)
    result = classify(MetricInput("m", baseline, canary, effect_measure="cles"), JudgeConfig())
    assert result.effect == pytest.approx(result.u / 3600)
    assert result.classification == "High" and "% of pairs" in result.reason
    gated = classify(
        MetricInput("m", baseline, canary, effect_measure="cles", allowed_increase=0.999),
        JudgeConfig(),
    )
    assert gated.classification == "Pass"


def test_too_few_points_is_nodata_never_pass() -> None:
    baseline, canary = _samples(0, n=49)
    result = classify(MetricInput("m", baseline, canary), JudgeConfig())
    assert result.classification == "NodataFailMetric" and not result.critical
    assert "only 49 canary and 49 baseline points" in result.reason
    assert result.reason.endswith("it counts as a failure")
    assert dev.TOO_FEW_POINTS_IS_NODATA in result.deviations
    must = classify(MetricInput("m", baseline, canary, must_have_data=True), JudgeConfig())
    assert must.classification == "NodataFailMetric" and not must.critical
    critical = classify(
        MetricInput("m", baseline, canary, must_have_data=True, critical=True), JudgeConfig()
    )
    assert (critical.classification, critical.critical) == ("Nodata", True)


def test_empty_series_with_replace_is_nodata_not_pass() -> None:
    result = classify(MetricInput("m", [], [], nan_strategy="replace"), SUITE)
    assert result.classification == "Nodata"
    assert dev.TOO_FEW_POINTS_IS_NODATA in result.deviations


def test_nan_is_cleaned_before_counting_points() -> None:
    baseline, canary = _samples(0, n=55)
    canary[:10] = [math.nan] * 10
    result = classify(MetricInput("m", baseline, canary), JudgeConfig())
    assert result.classification == "NodataFailMetric" and result.canary_cleaning.nans == 10


def test_identical_and_constant_data_pass() -> None:
    assert classify(MetricInput("m", [3, 1, 2], [2, 3, 1]), SUITE).reason == (
        "canary and baseline data are identical"
    )
    constant = classify(MetricInput("m", [4.0] * 3, [4.0] * 5), SUITE)
    assert (
        constant.classification == "Pass"
        and "every canary and baseline point is 4" in constant.reason
    )


def test_infinite_values_are_an_error() -> None:
    result = classify(MetricInput("m", [1.0, 2.0], [1.0, math.inf]), SUITE)
    assert result.classification == "Error" and "1 infinite canary values" in result.reason


def test_noise_is_seeded_from_run_and_metric() -> None:
    """R-A6: the constant-sample noise is reproducible and its seed is recorded."""
    metric = MetricInput("errors", [1.0] * 5, [10.0] * 5)
    first = classify(metric, replace(SUITE, run_id="run-1"))
    again = classify(metric, replace(SUITE, run_id="run-1"))
    other = classify(metric, replace(SUITE, run_id="run-2"))
    assert first == again
    assert first.seed == seed_for("run-1", "errors") != other.seed
    assert (first.ci_low, first.estimate) != (other.ci_low, other.estimate)
    assert first.noise_sd == (10.0 * 1e-5, 1.0 * 1e-5)
    assert dev.SEEDED_NOISE in first.deviations


def test_seed_does_not_collide_across_the_separator() -> None:
    assert seed_for("a", "bc") != seed_for("ab", "c")
