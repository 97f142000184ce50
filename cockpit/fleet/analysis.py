"""Canary analysis in the hub: attach metric series to canaries and judge them.

Any canary, from any rollout source, is judged by the cockpit's own judge: with its own
series (the demo, Argo Rollouts analysis charts) or with the series a metrics source
(Prometheus) reports for the same service and environment. Verdicts are cached by the
series they rest on, so an unchanged canary is never judged twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from cockpit.fleet.cells import updated
from cockpit.fleet.snapshot import Changes, FleetSnapshot
from cockpit.model import Canary, MetricSeries

if TYPE_CHECKING:  # made by the judge, after the first frame (cockpit.model_later)
    from cockpit.model import CanaryMetrics, MetricVerdict, Verdict

NODATA = "nodata"  # not enough evidence to act on, either way
ERROR = "error"
UNKNOWN = "unknown"  # the evidence's source is failing or stale: no decision either way


@dataclass
class CanaryConfig:
    """How canaries are judged (the `canary:` section of the config file)."""

    marginal: float = 75.0
    passing: float = 95.0
    min_points: int = 50
    confidence: float = 0.98
    tolerance: float = 0.25
    groups: dict[str, float] = field(default_factory=dict)  # weights; others share the rest

    def validate(self) -> None:
        if not 0 <= self.marginal <= self.passing <= 100:
            raise ValueError("need 0 <= marginal <= passing <= 100")
        if self.min_points < 1:
            raise ValueError("min_points must be at least 1")


def decision_of(verdict: Verdict) -> str:
    """The verdict's decision, except that a canary mostly without data is "nodata":
    the judge fails it (fail closed), but nobody should roll back on missing evidence."""
    if verdict.decision not in ("fail", "marginal"):
        return verdict.decision
    nodata = [m for m in verdict.metrics if m.classification in ("Nodata", "NodataFailMetric")]
    if verdict.metrics and 2 * len(nodata) >= len(verdict.metrics):
        return NODATA
    return verdict.decision


class Analyst:
    def __init__(self, config: CanaryConfig | None = None) -> None:
        self.config = config or CanaryConfig()
        self._cache: dict[tuple[str, str, str], tuple[tuple[MetricSeries, ...], Verdict]] = {}

    def _series(self, snap: FleetSnapshot) -> list[tuple[Canary, tuple[MetricSeries, ...]]]:
        """Each active canary with the series it is judged on: a configured metrics
        source's when there is one (an operator's own queries beat a rollout's built-in
        series), else the canary's own."""
        out = []
        for canary in snap.canaries:
            measured = metrics_for(snap, canary)
            series = measured.metrics if measured else canary.metrics
            if canary.phase.active and series:
                out.append((canary, tuple(series)))
        return out

    def pending(self, snap: FleetSnapshot) -> bool:
        """Whether some canary's series are not judged yet (judging may take a while)."""
        return any(not self._fresh(c, s) for c, s in self._series(snap))

    def apply(self, snap: FleetSnapshot, *, judge: bool = True) -> FleetSnapshot:
        """The snapshot with every active canary carrying its series and its verdict.

        With `judge=False` nothing is computed: canaries keep the last verdict given for
        their version (cheap, for the frame shown while judging runs elsewhere).
        """
        if not snap.canaries:
            return snap
        burns = {(m.service, m.environment): m for m in snap.metrics if m.burn and m.slo}
        touched: dict[tuple[str, str], Canary] = {}
        for canary, series in self._series(snap):
            if judge:
                verdict: Verdict | None = self.verdict(canary, series)
            else:
                cached = self._cache.get(
                    (canary.service, canary.environment, canary.canary_version)
                )
                verdict = cached[1] if cached is not None else None
            if verdict is not None and (burn := burns.get(canary.key)) is not None:
                age = (snap.taken_at - canary.started_at).total_seconds()
                verdict = with_burn(verdict, burn, age)
            problem = snap.source_problem(*evidence_sources(snap, canary))
            if verdict is not None and problem:
                verdict = unsound(verdict, problem)
            new = replace(canary, metrics=series, verdict=verdict)
            if new != canary:
                touched[canary.key] = new
        if not touched:
            return snap
        judged = tuple(touched.get(c.key, c) if c.phase.active else c for c in snap.canaries)
        judged_cells = []
        for key, canary in touched.items():
            cell = snap.cells.get(key)
            if cell is not None and cell.canary is not canary:
                judged_cells.append((key, replace(cell, canary=canary)))
        cells = updated(snap.cells, (), judged_cells)  # no copy of every cell
        if judge:  # a later frame than `snap`: screens apply it as the next generation
            return replace(
                snap,
                generation=snap.generation + 1,
                canaries=judged,
                cells=cells,
                changes=Changes(cells=frozenset(touched), other=True),
            )
        changes = replace(snap.changes, cells=snap.changes.cells | frozenset(touched))
        return replace(snap, canaries=judged, cells=cells, changes=changes)

    def _fresh(self, canary: Canary, series: Sequence[MetricSeries]) -> bool:
        cached = self._cache.get((canary.service, canary.environment, canary.canary_version))
        return (
            cached is not None
            and len(cached[0]) == len(series)
            and all(a is b for a, b in zip(cached[0], series, strict=True))
        )

    def verdict(self, canary: Canary, series: Sequence[MetricSeries]) -> Verdict:
        key = (canary.service, canary.environment, canary.canary_version)
        cached = self._cache.get(key)
        # The same series objects (identity, cheap) mean the same verdict. The entry keeps
        # them alive, so an id can never be reused by different data while it is cached.
        if (
            cached is not None
            and len(cached[0]) == len(series)
            and all(a is b for a, b in zip(cached[0], series, strict=True))
        ):
            return cached[1]
        verdict = self._judge(canary, series)
        sampled = [s.times[-1] for s in series if s.times]
        verdict = replace(verdict, observed_at=max(sampled, default=canary.observed_at))
        if len(self._cache) > 256:  # canaries come and go; keep the recent ones
            self._cache.clear()
        self._cache[key] = (tuple(series), verdict)
        return verdict

    def _judge(self, canary: Canary, series: Sequence[MetricSeries]) -> Verdict:
        from cockpit.judge import JudgeConfig, MetricInput, judge
        from cockpit.model import Verdict

        cfg = self.config
        weights: dict[str, float] = dict(cfg.groups)
        for s in series:
            if s.weight is not None and s.group:
                weights.setdefault(s.group, s.weight)
        try:
            result = judge(
                [
                    MetricInput(
                        name=s.name,
                        baseline=s.baseline,
                        canary=s.canary,
                        direction=s.direction,
                        critical=s.critical,
                        group=s.group or "default",
                        unit=s.unit,
                        allowed_increase=_allowed(s.allowed_increase, s.tolerance, +1),
                        allowed_decrease=_allowed(s.allowed_decrease, s.tolerance, -1),
                    )
                    for s in series
                ],
                JudgeConfig(
                    groups=weights,
                    marginal=cfg.marginal,
                    passing=cfg.passing,
                    tolerance=cfg.tolerance,
                    confidence=cfg.confidence,
                    min_points=cfg.min_points,
                    run_id=f"{canary.service}/{canary.environment}/{canary.canary_version}",
                ),
            )
        except ValueError as exc:  # a canary config the judge refuses: say so, never pass
            return Verdict(0.0, ERROR, cfg.marginal, cfg.passing, reason=f"cannot judge: {exc}")
        return with_bounds(result.to_verdict(), series)


def _allowed(gate: float | None, tolerance: float | None, sign: int) -> float | None:
    """A metric's effect-size gate: as given, else from its tolerance (the relative
    deviation of the canary's mean allowed before High or Low: 0.1 is 10 %)."""
    if gate is not None or tolerance is None:
        return gate
    return max(0.0, 1.0 + sign * tolerance)


def with_bounds(verdict: Verdict, series: Sequence[MetricSeries]) -> Verdict:
    """A canary value outside a metric's configured [min, max] fails that metric: on a
    critical metric the canary fails (score 0), otherwise it is marginal at best (a
    human decides). Missing points (NaN) are no evidence either way and are skipped."""
    breaches: dict[str, tuple[str, str, bool]] = {}
    for s in series:
        values = [v for v in s.canary if v == v]
        unit = f" {s.unit}" if s.unit else ""
        if s.max is not None and values and max(values) > s.max:
            why = f"canary reached {max(values):.4g}{unit}, above max {s.max:g}{unit}"
            breaches[s.name] = ("High", why, s.critical)
        elif s.min is not None and values and min(values) < s.min:
            why = f"canary fell to {min(values):.4g}{unit}, below min {s.min:g}{unit}"
            breaches[s.name] = ("Low", why, s.critical)
    if not breaches:
        return verdict
    metrics = tuple(
        replace(m, classification=b[0], reason=b[1], critical=b[2])
        if (b := breaches.get(m.name))
        else m
        for m in verdict.metrics
    )
    detail = "; ".join(f"{name}: {b[1]}" for name, b in breaches.items())
    if any(b[2] for b in breaches.values()):
        return replace(
            verdict, metrics=metrics, decision="fail", score=0.0, reason=f"out of bounds: {detail}"
        )
    if verdict.decision == "pass":
        return replace(
            verdict, metrics=metrics, decision="marginal", reason=f"out of bounds: {detail}"
        )
    return replace(verdict, metrics=metrics)


def metrics_for(snap: FleetSnapshot, canary: Canary) -> CanaryMetrics | None:
    """The series a metrics source reports for this canary's service and environment."""
    return next((m for m in snap.metrics if m.key == canary.key and m.metrics), None)


def evidence_sources(snap: FleetSnapshot, canary: Canary) -> tuple[str, ...]:
    """The sources a canary's verdict rests on: the rollout's, and the metrics source's.

    Without measured series, every metrics source that has never answered counts too:
    until it has, nobody knows whether it covers this canary, and its series would take
    precedence over the canary's own (Prometheus down from start-up is no green canary)."""
    measured = metrics_for(snap, canary)
    if measured:
        return (canary.source, measured.source)
    silent = tuple(
        s.name
        for s in snap.sources.values()
        if "metrics" in s.capabilities and s.last_success is None
    )
    return (canary.source, *silent)


def unsound(verdict: Verdict, problem: str) -> Verdict:
    """The verdict as unknown: its evidence's source is failing or stale, so the last
    answer may no longer hold, whichever way it went (no promotion, no automatic rollback)."""
    return replace(
        verdict,
        decision=UNKNOWN,
        reason=f"evidence not current: {problem}; last verdict {summarise(verdict)}",
    )


def with_burn(verdict: Verdict, metrics: CanaryMetrics, canary_age: float) -> Verdict:
    """The multi-window burn-rate rule over the canary's error budget (SRE workbook):
    a page-tier trip fails the canary (roll back), a ticket-tier trip holds it (marginal:
    no promotion without a human). Windows older than the canary are skipped."""
    from cockpit.judge.burnrate import Window, evaluate

    assert metrics.slo is not None
    windows = {w.seconds: Window(w.errors, w.total) for w in metrics.burn}
    decision = evaluate(windows, slo=metrics.slo, canary_age=canary_age)
    tripped = [p for p in decision.pairs if p.status == "tripped"]
    detail = ", ".join(
        f"{p.pair.severity} {p.long_rate:.1f}x/{p.short_rate:.1f}x over {p.threshold:g}x"
        for p in tripped
    )
    if decision.action == "rollback":
        return replace(
            verdict, decision="fail", score=0.0, reason=f"error budget burning fast: {detail}"
        )
    if decision.action == "hold" and verdict.decision == "pass":
        return replace(verdict, decision="marginal", reason=f"error budget burning: {detail}")
    return verdict


def summarise(verdict: Verdict) -> str:
    """One line for banners and audit reasons: decision, score and the worst metric."""
    worst: MetricVerdict | None = next(
        (m for m in verdict.metrics if m.critical and m.classification not in ("Pass",)),
        next((m for m in verdict.metrics if m.classification in ("High", "Low")), None),
    )
    text = f"{verdict.decision} (score {verdict.score:.0f})"
    if verdict.reason.startswith("error budget"):
        return f"{text}: {verdict.reason}"
    if worst is not None:
        text += f": {worst.name} {worst.reason}"
    return text
