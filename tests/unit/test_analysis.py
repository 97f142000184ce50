"""The hub's canary analysis: series attached, verdicts cached, burn-rate trips."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from cockpit.fleet.analysis import Analyst, CanaryConfig, decision_of
from cockpit.fleet.snapshot import FleetSnapshot, SourceState
from cockpit.model import (
    BurnWindow,
    Canary,
    CanaryMetrics,
    CanaryPhase,
    Environment,
    MetricSeries,
    Observation,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
ENVS = (Environment("prod", 0, True),)


def series(name: str, shift: float, n: int = 60, seed: int = 1) -> MetricSeries:
    rng = random.Random(seed)
    times = tuple(NOW - timedelta(seconds=15 * (n - i)) for i in range(n))
    base = tuple(rng.gauss(1.0, 0.1) for _ in range(n))
    can = tuple(rng.gauss(1.0 + shift, 0.1) for _ in range(n))
    return MetricSeries(
        name, "%", times, base, can, direction="increase", critical=True, group="golden"
    )


def canary(age: timedelta, metrics: tuple[MetricSeries, ...] = ()) -> Canary:
    return Canary(
        "web",
        "prod",
        "1.0",
        "1.1",
        2,
        6,
        10,
        CanaryPhase.PROGRESSING,
        NOW - age,
        "rollouts",
        NOW,
        metrics=metrics,
    )


def snapshot(*observations: Observation) -> FleetSnapshot:
    snap = FleetSnapshot.empty(ENVS, NOW)
    for obs in observations:
        snap = snap.with_observation(
            obs, SourceState(obs.source, "x", True, NOW, NOW, "", 0, 60), NOW
        )
    return snap


def judged(snap: FleetSnapshot, analyst: Analyst | None = None) -> Canary:
    out = (analyst or Analyst(CanaryConfig(min_points=50))).apply(snap)
    (c,) = out.canaries
    assert out.cell("web", "prod").canary is c, "the cell shows the judged canary"
    return c


def test_series_from_a_metrics_source_are_attached_and_judged() -> None:
    rollout = Observation("rollouts", NOW, canaries=(canary(timedelta(minutes=20)),))
    prom = Observation(
        "prom", NOW, metrics=(CanaryMetrics("web", "prod", (series("errors", 0.5),), "prom", NOW),)
    )
    c = judged(snapshot(rollout, prom))
    assert [m.name for m in c.metrics] == ["errors"]
    assert (
        c.verdict is not None
        and c.verdict.decision == "fail"
        and c.verdict.digest.startswith("sha256:")
    )


def test_a_healthy_canary_passes_and_the_verdict_is_cached() -> None:
    c0 = canary(timedelta(minutes=20), (series("errors", 0.0),))
    analyst = Analyst(CanaryConfig(min_points=50))
    snap = snapshot(Observation("rollouts", NOW, canaries=(c0,)))
    first = judged(snap, analyst)
    assert first.verdict is not None and first.verdict.decision == "pass"
    assert judged(snap, analyst).verdict is first.verdict, "same series, same verdict object"


def test_too_few_points_is_nodata_not_a_reason_to_roll_back() -> None:
    c0 = canary(timedelta(minutes=2), (series("errors", 0.5, n=10),))
    c = judged(snapshot(Observation("rollouts", NOW, canaries=(c0,))))
    assert c.verdict is not None and c.verdict.decision != "pass"
    assert decision_of(c.verdict) == "nodata"


def burn(age_minutes: int, ratio: float) -> CanaryMetrics:
    windows = tuple(
        BurnWindow(s, errors=ratio * 10_000, total=10_000) for s in (300, 1800, 3600, 21600, 259200)
    )
    return CanaryMetrics(
        "web", "prod", (series("errors", 0.0),), "prom", NOW, slo=0.999, burn=windows
    )


def test_a_page_tier_burn_fails_a_canary_the_statistics_pass() -> None:
    rollout = Observation("rollouts", NOW, canaries=(canary(timedelta(hours=2)),))
    c = judged(snapshot(rollout, Observation("prom", NOW, metrics=(burn(120, 0.02),))))
    assert c.verdict is not None and c.verdict.decision == "fail" and c.verdict.score == 0
    assert c.verdict.reason.startswith("error budget burning fast: page 20.0x/20.0x over 14.4x")
    assert decision_of(c.verdict) == "fail"


def test_windows_older_than_the_canary_are_skipped() -> None:
    rollout = Observation("rollouts", NOW, canaries=(canary(timedelta(minutes=20)),))
    c = judged(snapshot(rollout, Observation("prom", NOW, metrics=(burn(20, 0.02),))))
    assert c.verdict is not None and c.verdict.decision == "pass", (
        "a 1h window says nothing of a 20m canary"
    )


def test_a_ticket_tier_burn_holds_promotion() -> None:
    rollout = Observation("rollouts", NOW, canaries=(canary(timedelta(days=4)),))
    c = judged(snapshot(rollout, Observation("prom", NOW, metrics=(burn(6000, 0.002),))))
    assert c.verdict is not None and c.verdict.decision == "marginal"
    assert c.verdict.reason.startswith("error budget burning: ticket")
