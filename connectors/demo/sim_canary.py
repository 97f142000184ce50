"""The demo fleet's canaries: metric samples, steps and weights, and their frozen view.

A degrading canary goes bad the way real ones often do: its p99 latency climbs first (the
judge scores it marginal: a human should look), then its error rate follows (the judge
fails it on a critical metric). The marginal stretch lasts about a minute of demo time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

from cockpit.model import Canary, CanaryPhase, MetricSeries

CANARY_WEIGHTS = (5, 10, 25, 50, 75, 100)
CANARY_STEP_TICKS = 60
METRIC_POINTS = 90
METRIC_EVERY = 2  # ticks between metric samples
DEGRADE_AFTER = 200  # seconds of canary age before a degrading canary's latency climbs
ERRORS_AFTER = 360  # ... and before its errors climb too
ALLOWED_INCREASE = 1.10  # a shift under 10% of the baseline mean is noise, not a failure
UNITS = {"error_rate": "%", "latency_p99": "ms", "cpu": "%"}


@dataclass(eq=False)  # a canary as it moves: compared by identity
class CanaryState:
    """One simulated canary as it moves through its steps."""

    service: str
    environment: str
    baseline: str
    candidate: str
    step: int
    phase: CanaryPhase
    started_at: datetime
    ticks_in_step: int = 0
    degrade: bool = False
    message: str = ""
    times: list[datetime] = field(default_factory=list)
    series: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    frozen: Canary | None = None

    def __post_init__(self) -> None:
        for name in UNITS:
            self.series.setdefault(name, ([], []))

    def erroring(self, when: datetime) -> bool:
        """Whether this canary's errors climb at `when` (what pages someone)."""
        return (
            self.degrade
            and self.phase.active
            and (when - self.started_at).total_seconds() > ERRORS_AFTER
        )


def sample(state: CanaryState, rng: random.Random, when: datetime) -> None:
    """One metric sample of baseline and canary at `when`."""
    age = (when - state.started_at).total_seconds()
    slow = max(0.0, age - DEGRADE_AFTER) / 60 if state.degrade else 0.0
    errors = max(0.0, age - ERRORS_AFTER) / 60 if state.degrade else 0.0
    # Baseline and canary come from the same distributions unless the canary degrades.
    # Six draws per sample whatever the state: the rest of the demo's random stream (and so
    # every seeded picture) does not depend on how a canary fares.
    values = {
        "error_rate": (rng.gauss(0.40, 0.06), rng.gauss(0.40 + 0.30 * errors, 0.06)),
        "latency_p99": (rng.gauss(182, 9), rng.gauss(182 + 30 * slow, 9)),
        "cpu": (rng.gauss(41, 3), rng.gauss(41, 3)),
    }
    state.times.append(when)
    for name, (base, can) in values.items():
        b, c = state.series[name]
        b.append(round(max(base, 0.0), 4))
        c.append(round(max(can, 0.0), 4))
        if len(b) > METRIC_POINTS:
            del b[0], c[0]
    if len(state.times) > METRIC_POINTS:
        del state.times[0]
    state.frozen = None


def restart(state: CanaryState, baseline: str, version: str, now: datetime) -> None:
    """A new release of a canaried service starts a fresh canary at step 1."""
    state.baseline = baseline
    state.candidate = version
    state.step = 0
    state.ticks_in_step = 0
    state.phase = CanaryPhase.PROGRESSING
    state.message = ""
    state.started_at = now
    state.times.clear()
    for b, c in state.series.values():
        b.clear()
        c.clear()
    state.frozen = None


def step(state: CanaryState, rng: random.Random, tick_no: int, now: datetime) -> None:
    """One tick of an active canary: a sample every METRIC_EVERY ticks, a step a minute."""
    if not state.phase.active:
        return
    if tick_no % METRIC_EVERY == 0:
        sample(state, rng, now)
    if state.phase is CanaryPhase.PAUSED:
        return
    state.ticks_in_step += 1
    if state.ticks_in_step >= CANARY_STEP_TICKS and state.step < len(CANARY_WEIGHTS) - 1:
        state.step += 1
        state.ticks_in_step = 0
        state.frozen = None
        if state.step == len(CANARY_WEIGHTS) - 1:
            # The last step waits for a human, as an Argo Rollouts `pause: {}` does.
            state.phase = CanaryPhase.PAUSED
            state.message = "waiting for promotion to 100%"


def freeze(state: CanaryState, source: str, now: datetime, digest: str) -> Canary:
    """The canary as the domain sees it, rebuilt only after the state changed."""
    if state.frozen is None:
        state.frozen = Canary(
            service=state.service,
            environment=state.environment,
            baseline_version=state.baseline,
            canary_version=state.candidate,
            step=state.step + 1,
            steps=len(CANARY_WEIGHTS),
            weight=CANARY_WEIGHTS[state.step] if state.phase.active else 0,
            phase=state.phase,
            started_at=state.started_at,
            source=source,
            observed_at=now,
            metrics=tuple(
                MetricSeries(
                    name=name,
                    unit=UNITS[name],
                    times=tuple(state.times),
                    baseline=tuple(b),
                    canary=tuple(c),
                    direction="increase",
                    critical=name == "error_rate",
                    group={"cpu": "saturation"}.get(name, "golden"),
                    allowed_increase=ALLOWED_INCREASE,
                )
                for name, (b, c) in state.series.items()
            ),
            canary_digest=digest,
            message=state.message,
            remote_id=f"rollout/{state.service}",
        )
    return state.frozen
