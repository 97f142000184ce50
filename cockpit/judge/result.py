"""The judge's answer: per-metric results, group scores and the decision, as canonical JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cockpit.judge.canonical import canonical_json
from cockpit.judge.cleaning import Cleaning
from cockpit.model import MetricVerdict, Verdict


@dataclass(frozen=True)
class MetricResult:
    """One metric's classification, the statistics behind it, and the reason in words."""

    name: str
    classification: str  # Pass, High, Low, Nodata, NodataFailMetric, Error
    reason: str
    critical: bool
    group: str
    muted: bool
    baseline_cleaning: Cleaning
    canary_cleaning: Cleaning
    seed: str  # hex; seeds the tie-breaking noise (sha256 of run id and metric name)
    n_baseline: int = 0
    n_canary: int = 0
    u: float | None = None  # U1 of the canary against the baseline
    p_value: float | None = None  # two-sided, scipy's 'auto' method
    p_method: str | None = None
    ci_low: float | None = None  # Kayenta's interval for the shift canary - baseline
    ci_high: float | None = None
    estimate: float | None = None  # Kayenta/R root estimate of the shift (not a median)
    hodges_lehmann: float | None = None  # median of all pairwise differences
    effect: float | None = None  # the configured effect-size measure (NaN: undefined)
    effect_measure: str = "meanRatio"
    mean_ratio: float | None = None  # always reported, as Kayenta's "deviation"
    noise_sd: tuple[float, float] | None = None  # (canary, baseline) when noise was added
    deviations: tuple[str, ...] = ()  # named deviations from Kayenta that applied here

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "classification": self.classification,
            "reason": self.reason,
            "critical": self.critical,
            "group": self.group,
            "muted": self.muted,
            "cleaning": {
                "baseline": self.baseline_cleaning.to_dict(),
                "canary": self.canary_cleaning.to_dict(),
            },
            "seed": self.seed,
            "n_baseline": self.n_baseline,
            "n_canary": self.n_canary,
            "u": self.u,
            "p_value": self.p_value,
            "p_method": self.p_method,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "estimate": self.estimate,
            "hodges_lehmann": self.hodges_lehmann,
            "effect": self.effect,
            "effect_measure": self.effect_measure,
            "mean_ratio": self.mean_ratio,
            "noise_sd": list(self.noise_sd) if self.noise_sd else None,
            "deviations": list(self.deviations),
        }


@dataclass(frozen=True, slots=True)
class GroupResult:
    name: str
    score: float  # 100 * Pass / (Pass + High + Low + NodataFailMetric); 0 without any
    weight: float
    no_data: bool  # none of those four labels: the group counts as 0 (Kayenta: 100)
    counts: tuple[tuple[str, int], ...]  # classification -> unmuted metrics

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "weight": self.weight,
            "no_data": self.no_data,
            "counts": dict(self.counts),
        }


@dataclass(frozen=True)
class JudgeResult:
    """The verdict: score 0-100, decision, why, and everything needed to audit it."""

    score: float
    decision: str  # pass, marginal, fail
    reason: str
    metrics: tuple[MetricResult, ...]
    groups: Mapping[str, GroupResult]  # by name, in order of first appearance
    marginal: float
    passing: float
    digest: str  # sha256 of the canonical inputs and config
    series_digest: str  # ... of the raw series alone
    config_digest: str  # ... of the config alone (thresholds, weights, metric settings)
    judge_version: str
    confidence: float
    tolerance: float
    min_points: int
    run_id: str
    deviations: tuple[str, ...] = ()  # named deviations from Kayenta that changed this verdict

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "decision": self.decision,
            "reason": self.reason,
            "metrics": [m.to_dict() for m in self.metrics],
            "groups": {name: g.to_dict() for name, g in self.groups.items()},
            "thresholds": {"marginal": self.marginal, "pass": self.passing},
            "digest": self.digest,
            "series_digest": self.series_digest,
            "config_digest": self.config_digest,
            "judge_version": self.judge_version,
            "confidence": self.confidence,
            "tolerance": self.tolerance,
            "min_points": self.min_points,
            "run_id": self.run_id,
            "deviations": list(self.deviations),
        }

    def to_json(self) -> str:
        """Canonical JSON: judging the same input twice gives the same bytes."""
        return canonical_json(self.to_dict())

    def action(self, *, final: bool) -> str:
        """What a multi-interval run does now: abort, continue, promote or needs-approval.

        Every interval must score above marginal (score == marginal aborts, although the
        label says marginal). After the last one only a pass promotes; the marginal band
        waits for a signed human approval and never promotes by itself.
        """
        if self.decision == "fail" or self.score <= self.marginal:
            return "abort"
        if not final:
            return "continue"
        return "promote" if self.decision == "pass" else "needs-approval"

    def to_verdict(self) -> Verdict:
        return Verdict(
            score=self.score,
            decision=self.decision,
            marginal=self.marginal,
            passing=self.passing,
            metrics=tuple(
                MetricVerdict(m.name, m.classification, m.reason, m.critical) for m in self.metrics
            ),
            digest=self.digest,
            reason=self.reason,
        )
