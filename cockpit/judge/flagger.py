"""Flagger-style metric checks: inclusive threshold ranges and a cumulative failed-check count.

Follows fluxcd/flagger at 15bd6ad (scheduler_metrics.go, scheduler.go): no data is a
failed check, failed checks are never reset by later successes within one canary run,
and the canary rolls back once failed checks reach analysis.threshold.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

# The legacy scalar `threshold` is a minimum for success rate, a maximum for the rest.
MINIMUM_METRICS = frozenset({"request-success-rate"})


@dataclass(frozen=True, slots=True)
class ThresholdRange:
    """thresholdRange {min, max}: both ends inclusive, either may be absent."""

    min: float | None = None
    max: float | None = None

    @classmethod
    def legacy(cls, metric: str, threshold: float) -> ThresholdRange:
        return cls(min=threshold) if metric in MINIMUM_METRICS else cls(max=threshold)

    def failure(self, value: float | None) -> str | None:
        """Why the value fails the check, or None when it passes."""
        if value is None:
            return "no values found"
        if math.isnan(value):
            # NaN compares false both ways, so Flagger itself would pass it: fail closed.
            return "value is NaN"
        if self.min is not None and value < self.min:
            return f"{value:g} < {self.min:g}"
        if self.max is not None and value > self.max:
            return f"{value:g} > {self.max:g}"
        return None


@dataclass(frozen=True, slots=True)
class Iteration:
    action: str  # advance, halt or rollback
    failed_checks: int
    failures: tuple[str, ...]  # "metric: why", in the order the metrics were given


@dataclass
class FlaggerAnalysis:
    """One canary run's checks: call iterate() once per analysis interval."""

    checks: Mapping[str, ThresholdRange]
    threshold: int  # analysis.threshold: failed checks before rollback
    failed_checks: int = 0
    history: list[Iteration] = field(default_factory=list)

    def iterate(
        self, values: Mapping[str, float | None], *, deadline_passed: bool = False
    ) -> Iteration:
        """Check every metric; a missing metric counts as no data."""
        failures = tuple(
            f"{name}: {why}"
            for name, check in self.checks.items()
            if (why := check.failure(values.get(name))) is not None
        )
        if failures:
            self.failed_checks += 1  # cumulative until the next canary run
        if deadline_passed or self.failed_checks >= self.threshold:
            action = "rollback"
        else:
            action = "halt" if failures else "advance"
        step = Iteration(action, self.failed_checks, failures)
        self.history.append(step)
        return step


def time_to_rollback(interval: float, threshold: int) -> float:
    """Seconds from the first failed check to rollback when every check fails."""
    return interval * threshold


def time_to_promote(
    interval: float, *, max_weight: int = 0, step_weight: int = 0, iterations: int = 0
) -> float:
    """Seconds to promotion with every check passing: weight steps, or A/B iterations."""
    if iterations:
        return interval * iterations
    if step_weight <= 0:
        raise ValueError("step_weight must be positive for a progressive canary")
    return interval * math.ceil(max_weight / step_weight)
