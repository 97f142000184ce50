"""A metric's min, max and tolerance (Prometheus options) change the verdict, as documented."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cockpit.fleet.analysis import Analyst, CanaryConfig
from cockpit.fleet.snapshot import FleetSnapshot, SourceState
from cockpit.model import (
    Canary,
    CanaryMetrics,
    CanaryPhase,
    Environment,
    MetricSeries,
    Observation,
    Verdict,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def series(shift: float, *, critical: bool = True, **options: float) -> MetricSeries:
    rng = random.Random(3)
    n = 60
    return MetricSeries(
        "latency",
        "s",
        tuple(NOW - timedelta(seconds=15 * (n - i)) for i in range(n)),
        tuple(rng.gauss(1.0, 0.05) for _ in range(n)),
        tuple(rng.gauss(1.0 + shift, 0.05) for _ in range(n)),
        direction="increase",
        critical=critical,
        **options,  # type: ignore[arg-type]
    )


def verdict(metric: MetricSeries) -> Verdict:
    canary = Canary(
        "web", "prod", "1.0", "1.1", 2, 6, 10, CanaryPhase.PROGRESSING, NOW, "rollouts", NOW
    )
    snap = FleetSnapshot.empty((Environment("prod", 0, True),), NOW)
    for obs in (
        Observation("rollouts", NOW, canaries=(canary,)),
        Observation("prom", NOW, metrics=(CanaryMetrics("web", "prod", (metric,), "prom", NOW),)),
    ):
        state = SourceState(obs.source, "x", True, NOW, NOW, "", 0, 60)
        snap = snap.with_observation(obs, state, NOW)
    (judged,) = Analyst(CanaryConfig(min_points=50)).apply(snap).canaries
    assert judged.verdict is not None
    return judged.verdict


def test_metric_tolerance_allows_that_relative_deviation_before_high() -> None:
    assert verdict(series(0.05)).decision == "fail", "5% higher fails without a tolerance"
    assert verdict(series(0.05, tolerance=0.10)).decision == "pass"
    assert verdict(series(0.20, tolerance=0.10)).decision == "fail"


def test_metric_max_breached_by_the_canary_fails_a_critical_metric() -> None:
    assert verdict(series(0.0)).decision == "pass"
    v = verdict(series(0.0, max=1.05))
    assert v.decision == "fail" and v.score == 0
    (m,) = v.metrics
    assert m.classification == "High" and "above max 1.05" in m.reason


def test_metric_min_breached_holds_a_non_critical_metric_at_marginal() -> None:
    v = verdict(series(0.0, critical=False, min=0.95))
    assert v.decision == "marginal" and "below min 0.95" in v.reason
    (m,) = v.metrics
    assert m.classification == "Low"


def test_metric_bounds_the_canary_stays_within_change_nothing() -> None:
    plain = verdict(series(0.0))
    assert replace(verdict(series(0.0, min=0.0, max=10.0)), observed_at=None) == replace(
        plain, observed_at=None
    )
