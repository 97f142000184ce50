"""Argo Rollouts analysis semantics: measurement outcomes, metric limits, the run's worst phase.

Follows argo-rollouts at 9f8d111 (utils/evaluate, analysis/analysis.go): the code, not the
docs, where they differ. A metric with no conditions counts as Successful (the docs say
Inconclusive); the tests pin this choice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cockpit.judge.expr import ExpressionError, condition

SUCCESSFUL, RUNNING, PENDING = "Successful", "Running", "Pending"
INCONCLUSIVE, ERROR, FAILED = "Inconclusive", "Error", "Failed"
# Worst-of order across metrics (utils/analysis/helpers.go IsWorse).
SEVERITY = {SUCCESSFUL: 0, RUNNING: 1, PENDING: 2, INCONCLUSIVE: 3, ERROR: 4, FAILED: 5}
DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4


def measure(result: Any, success: str | None, failure: str | None) -> str:
    """One measurement's outcome from its result and the metric's conditions.

    The failure condition is checked first; a condition that cannot be evaluated makes
    the measurement an Error.
    """
    try:
        if failure is not None and condition(failure, result):
            return FAILED
        if success is None:
            return SUCCESSFUL  # failure absent or false: nothing says it failed
        if condition(success, result):
            return SUCCESSFUL
        return FAILED if failure is None else INCONCLUSIVE
    except ExpressionError:
        return ERROR


@dataclass(frozen=True)
class AnalysisMetric:
    """An AnalysisTemplate metric's limits (defaults as in argo-rollouts)."""

    name: str
    success_condition: str | None = None
    failure_condition: str | None = None
    count: int | None = None
    interval: float | None = None  # seconds between measurements
    failure_limit: int = 0  # Failed when failed > limit; -1 disables
    inconclusive_limit: int = 0  # Inconclusive when inconclusive > limit; -1 disables
    consecutive_error_limit: int = DEFAULT_CONSECUTIVE_ERROR_LIMIT  # Error when > limit
    consecutive_success_limit: int = 0  # 0 disables
    dry_run: bool = False

    def effective_count(self) -> int | None:
        """Measurements to take: count; 1 without count and interval; None (unbounded) with
        only an interval."""
        if self.count is not None:
            return self.count
        return None if self.interval is not None else 1


@dataclass(frozen=True, slots=True)
class Tally:
    """A metric's measurement counters, as Argo keeps them in its MetricResult."""

    count: int = 0
    successful: int = 0
    failed: int = 0
    inconclusive: int = 0
    error: int = 0
    consecutive_error: int = 0
    consecutive_success: int = 0

    @classmethod
    def of(cls, phases: Iterable[str]) -> Tally:
        t = cls()
        for phase in phases:
            t = t.add(phase)
        return t

    def add(self, phase: str) -> Tally:
        ok = phase == SUCCESSFUL
        return Tally(
            count=self.count + 1,
            successful=self.successful + ok,
            failed=self.failed + (phase == FAILED),
            inconclusive=self.inconclusive + (phase == INCONCLUSIVE),
            error=self.error + (phase == ERROR),
            consecutive_error=self.consecutive_error + 1 if phase == ERROR else 0,
            consecutive_success=self.consecutive_success + 1 if ok else 0,
        )


def limits_phase(metric: AnalysisMetric, tally: Tally) -> str | None:
    """Failed, Inconclusive or Error when a limit is exceeded (strictly); later checks win."""
    phase = None
    if metric.failure_limit >= 0 and tally.failed > metric.failure_limit:
        phase = FAILED
    if metric.inconclusive_limit >= 0 and tally.inconclusive > metric.inconclusive_limit:
        phase = INCONCLUSIVE
    limit = metric.consecutive_error_limit
    if limit >= 0 and tally.consecutive_error > limit:
        phase = ERROR
    return phase


def metric_phase(
    metric: AnalysisMetric,
    measurements: Sequence[str],
    *,
    in_progress: bool = False,
    terminating: bool = False,
) -> str:
    """The metric's phase after these measurement outcomes (oldest first)."""
    if not measurements and not in_progress:
        return SUCCESSFUL if terminating else PENDING
    if in_progress:
        return RUNNING
    tally = Tally.of(measurements)
    exceeded = limits_phase(metric, tally)
    if exceeded is not None:
        return exceeded
    wanted = metric.effective_count()
    if wanted is not None and tally.count >= wanted:
        streak = metric.consecutive_success_limit
        if streak <= 0 or tally.consecutive_success >= streak:
            return SUCCESSFUL
        # the streak was required and not met
        return INCONCLUSIVE if metric.failure_limit >= 0 else FAILED
    return SUCCESSFUL if terminating else RUNNING


def worst(phases: Iterable[str]) -> str:
    return max(phases, key=SEVERITY.__getitem__, default=SUCCESSFUL)


def run_phase(metrics: Mapping[str, str], dry_run: Iterable[str] = ()) -> str:
    """The analysis run's phase: the worst metric phase, dry-run metrics left out."""
    skip = set(dry_run)
    return worst(phase for name, phase in metrics.items() if name not in skip)


def rollout_action(phase: str) -> str:
    """continue on Successful, pause on Inconclusive (a human resumes or aborts), abort on
    Failed or Error, wait while Running or Pending."""
    return {
        SUCCESSFUL: "continue",
        INCONCLUSIVE: "pause",
        FAILED: "abort",
        ERROR: "abort",
    }.get(phase, "wait")
