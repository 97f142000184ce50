"""Argo Rollouts analysis semantics (R-A11): one test per truth-table row, NaN, limits, worst-of."""

from __future__ import annotations

import math

import pytest

from cockpit.judge.argo import (
    ERROR,
    FAILED,
    INCONCLUSIVE,
    PENDING,
    RUNNING,
    SUCCESSFUL,
    AnalysisMetric,
    measure,
    metric_phase,
    rollout_action,
    run_phase,
)

S, F, INC, E = SUCCESSFUL, FAILED, INCONCLUSIVE, ERROR
NAN = math.nan


def test_row_no_conditions_is_successful() -> None:
    """Argo's code (9f8d111) says Successful; its docs say Inconclusive. The code wins."""
    assert measure(0.5, None, None) == S
    assert measure(NAN, None, None) == S


@pytest.mark.parametrize(("result", "outcome"), [(0.99, S), (0.5, F)])
def test_row_success_only(result: float, outcome: str) -> None:
    assert measure(result, "result >= 0.95", None) == outcome


@pytest.mark.parametrize(("result", "outcome"), [(0.5, F), (0.99, S)])
def test_row_failure_only(result: float, outcome: str) -> None:
    assert measure(result, None, "result < 0.95") == outcome


@pytest.mark.parametrize(("result", "outcome"), [(0.5, F), (0.99, S), (0.9, INC)])
def test_row_both_conditions(result: float, outcome: str) -> None:
    assert measure(result, "result >= 0.95", "result < 0.8") == outcome


def test_row_both_true_failure_is_checked_first() -> None:
    assert measure(0.99, "result >= 0.95", "result > 0.9") == F


def test_nan_with_success_only_fails() -> None:
    assert measure(NAN, "result >= 0.95", None) == F


def test_nan_with_both_conditions_is_inconclusive() -> None:
    assert measure(NAN, "result >= 0.95", "result < 0.8") == INC


def test_nan_can_be_accepted_explicitly() -> None:
    assert measure(NAN, "isNaN(result) || result >= 0.95", None) == S
    assert measure(math.inf, "isInf(result)", None) == S


def test_condition_that_cannot_be_evaluated_is_an_error() -> None:
    assert measure([0.9], "result[3] > 1", None) == E
    assert measure(0.9, "result >", None) == E
    assert measure(0.9, "result", None) == E  # not a boolean


def test_vector_results() -> None:
    rule = "result[0] >= 0.95 && result[1] < 300"
    assert measure([0.97, 250], rule, None) == S
    assert measure([0.97, 350], rule, None) == F


def test_failure_limit_is_strictly_greater() -> None:
    metric = AnalysisMetric("m", count=5, interval=60, failure_limit=2)
    assert metric_phase(metric, [F, F]) == RUNNING
    assert metric_phase(metric, [F, F, F]) == FAILED
    assert metric_phase(AnalysisMetric("m", count=3, interval=60), [S, F]) == FAILED  # default 0


def test_failure_limit_minus_one_disables() -> None:
    metric = AnalysisMetric("m", count=3, interval=60, failure_limit=-1)
    assert metric_phase(metric, [F, F, F]) == SUCCESSFUL


def test_inconclusive_limit_is_strictly_greater() -> None:
    metric = AnalysisMetric("m", count=5, interval=60, inconclusive_limit=1)
    assert metric_phase(metric, [INC]) == RUNNING
    assert metric_phase(metric, [INC, S, INC]) == INCONCLUSIVE


def test_consecutive_error_limit_defaults_to_four() -> None:
    metric = AnalysisMetric("m", count=10, interval=60)
    assert metric_phase(metric, [E, E, E, E]) == RUNNING
    assert metric_phase(metric, [E, E, E, E, E]) == ERROR  # the fifth in a row
    assert metric_phase(metric, [E, E, E, S, E, E]) == RUNNING  # a success resets the streak


def test_later_limit_checks_override_earlier_ones() -> None:
    metric = AnalysisMetric("m", count=10, interval=60, consecutive_error_limit=0)
    assert metric_phase(metric, [F, INC, E]) == ERROR  # failed, then inconclusive, then error
    metric = AnalysisMetric("m", count=10, interval=60, consecutive_error_limit=-1)
    assert metric_phase(metric, [F, INC, E]) == INCONCLUSIVE


def test_effective_count() -> None:
    assert AnalysisMetric("m").effective_count() == 1
    assert AnalysisMetric("m", interval=60).effective_count() is None
    assert metric_phase(AnalysisMetric("m"), [S]) == SUCCESSFUL
    assert metric_phase(AnalysisMetric("m", interval=60), [S] * 50) == RUNNING


def test_pending_running_and_terminating() -> None:
    metric = AnalysisMetric("m", count=3, interval=60)
    assert metric_phase(metric, []) == PENDING
    assert metric_phase(metric, [S], in_progress=True) == RUNNING
    assert metric_phase(metric, [S], terminating=True) == SUCCESSFUL
    assert metric_phase(metric, [F], terminating=True) == FAILED  # limit already violated


def test_consecutive_success_limit_at_count() -> None:
    both = AnalysisMetric("m", count=4, interval=60, failure_limit=3, consecutive_success_limit=2)
    assert metric_phase(both, [F, S, F, S]) == INCONCLUSIVE
    assert metric_phase(both, [F, F, S, S]) == SUCCESSFUL
    only = AnalysisMetric("m", count=4, interval=60, failure_limit=-1, consecutive_success_limit=2)
    assert metric_phase(only, [F, S, F, S]) == FAILED


def test_run_is_the_worst_metric_and_dry_run_does_not_count() -> None:
    assert run_phase({"a": S, "b": RUNNING}) == RUNNING
    assert run_phase({"a": RUNNING, "b": PENDING}) == PENDING
    assert run_phase({"a": PENDING, "b": INC}) == INC
    assert run_phase({"a": INC, "b": E}) == E
    assert run_phase({"a": E, "b": F, "c": S}) == F
    assert run_phase({"a": S, "b": F}, dry_run=["b"]) == S


def test_rollout_continues_pauses_or_aborts() -> None:
    assert rollout_action(S) == "continue"
    assert rollout_action(INC) == "pause"
    assert rollout_action(F) == "abort"
    assert rollout_action(E) == "abort"
    assert rollout_action(RUNNING) == "wait"
