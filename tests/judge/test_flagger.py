"""Flagger-style checks (R-A12): inclusive ranges, no data fails, cumulative failed checks."""

from __future__ import annotations

import math

import pytest

from cockpit.judge.flagger import FlaggerAnalysis, ThresholdRange, time_to_promote, time_to_rollback


@pytest.mark.parametrize(
    ("value", "passes"), [(99.0, True), (100.0, True), (98.99, False), (100.01, False)]
)
def test_range_is_inclusive(value: float, passes: bool) -> None:
    assert (ThresholdRange(min=99.0, max=100.0).failure(value) is None) is passes


def test_legacy_threshold_direction() -> None:
    assert ThresholdRange.legacy("request-success-rate", 99) == ThresholdRange(min=99)
    assert ThresholdRange.legacy("request-duration", 500) == ThresholdRange(max=500)
    assert ThresholdRange.legacy("my-custom-metric", 5) == ThresholdRange(max=5)


def test_no_data_is_a_failed_check() -> None:
    assert ThresholdRange(max=500).failure(None) == "no values found"
    assert ThresholdRange(max=500).failure(math.nan) == "value is NaN"


def test_failed_checks_are_cumulative_and_roll_back_at_threshold() -> None:
    analysis = FlaggerAnalysis(
        {
            "request-success-rate": ThresholdRange(min=99),
            "request-duration": ThresholdRange(max=500),
        },
        threshold=3,
    )
    ok = {"request-success-rate": 99.5, "request-duration": 300.0}
    assert analysis.iterate(ok).action == "advance"
    first = analysis.iterate({"request-success-rate": 97.0, "request-duration": 300.0})
    assert (first.action, first.failed_checks) == ("halt", 1)
    assert first.failures == ("request-success-rate: 97 < 99",)
    assert analysis.iterate(ok).failed_checks == 1  # a success does not reset the count
    second = analysis.iterate({"request-success-rate": 99.5})  # duration missing: no data
    assert (second.action, second.failed_checks) == ("halt", 2)
    assert second.failures == ("request-duration: no values found",)
    third = analysis.iterate({"request-success-rate": 99.5, "request-duration": 900.0})
    assert (third.action, third.failed_checks) == ("rollback", 3)


def test_progress_deadline_rolls_back_at_once() -> None:
    analysis = FlaggerAnalysis({"m": ThresholdRange(max=1)}, threshold=5)
    assert analysis.iterate({"m": 0.5}, deadline_passed=True).action == "rollback"


def test_timing() -> None:
    assert time_to_rollback(60, 5) == 300
    assert time_to_promote(60, max_weight=50, step_weight=10) == 300
    assert time_to_promote(60, max_weight=50, step_weight=20) == 180  # 20, 40, 50
    assert time_to_promote(30, iterations=10) == 300
    with pytest.raises(ValueError, match="step_weight"):
        time_to_promote(60, max_weight=50)
