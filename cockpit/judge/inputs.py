"""What the judge is asked: metrics (baseline and canary series, with their rules) and config."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cockpit.judge.cleaning import NAN_STRATEGIES, OUTLIER_STRATEGIES

if TYPE_CHECKING:
    from cockpit.judge.cleaning import Series

DIRECTIONS = ("increase", "decrease", "either")
EFFECT_MEASURES = ("meanRatio", "cles")
# Kayenta's defaults for the effect-size gates: "no change" on each scale.
EFFECT_DEFAULTS = {"meanRatio": 1.0, "cles": 0.5}


@dataclass(frozen=True)
class MetricInput:
    """One metric: baseline and canary series and how to judge the difference."""

    name: str
    baseline: Series
    canary: Series
    direction: str = "either"  # which shift is bad: increase, decrease or either
    critical: bool = False
    group: str = "default"
    must_have_data: bool = False
    muted: bool = False
    nan_strategy: str = "remove"
    outliers: str = "keep"
    outlier_factor: float = 3.0
    effect_measure: str = "meanRatio"
    allowed_increase: float | None = None  # None: the measure's default
    allowed_decrease: float | None = None
    critical_increase: float | None = None
    critical_decrease: float | None = None
    unit: str = ""  # shown after numbers in reasons, e.g. "ms"

    def validate(self) -> None:
        """Raise ValueError naming the first bad field."""
        if not self.name:
            raise ValueError("name: must not be empty")
        for key, value, allowed in (
            ("direction", self.direction, DIRECTIONS),
            ("nan_strategy", self.nan_strategy, NAN_STRATEGIES),
            ("outliers", self.outliers, OUTLIER_STRATEGIES),
            ("effect_measure", self.effect_measure, EFFECT_MEASURES),
        ):
            if value not in allowed:
                raise ValueError(f"{key}: {value!r} is not one of {', '.join(allowed)}")
        if not (math.isfinite(self.outlier_factor) and self.outlier_factor >= 0):
            raise ValueError("outlier_factor: must be a finite number >= 0")
        for key in (
            "allowed_increase",
            "allowed_decrease",
            "critical_increase",
            "critical_decrease",
        ):
            value = getattr(self, key)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{key}: must be a finite number")

    def gate(self, key: str) -> float:
        """An effect-size gate with the measure's default filled in."""
        value: float | None = getattr(self, key)
        return EFFECT_DEFAULTS[self.effect_measure] if value is None else value

    def settings(self) -> dict[str, Any]:
        """Everything but the series: what the canary config says about this metric."""
        return {
            "name": self.name,
            "direction": self.direction,
            "critical": self.critical,
            "group": self.group,
            "must_have_data": self.must_have_data,
            "muted": self.muted,
            "nan_strategy": self.nan_strategy,
            "outliers": self.outliers,
            "outlier_factor": float(self.outlier_factor),
            "effect_measure": self.effect_measure,
            "allowed_increase": self.gate("allowed_increase"),
            "allowed_decrease": self.gate("allowed_decrease"),
            "critical_increase": self.gate("critical_increase"),
            "critical_decrease": self.gate("critical_decrease"),
            "unit": self.unit,
        }


@dataclass(frozen=True)
class JudgeConfig:
    """Run-wide settings: group weights, thresholds and the classifier's statistics."""

    groups: Mapping[str, float] = field(
        default_factory=dict
    )  # weights; unnamed groups share the rest
    marginal: float = 75.0
    passing: float = 95.0
    tolerance: float = 0.25  # NetflixACAJudge hard-codes 0.25 ...
    confidence: float = 0.98  # ... and 0.98
    min_points: int = 50  # Spinnaker's best practice: at least 50 points per metric
    run_id: str = ""  # seeds the tie-breaking noise, with the metric name

    def validate(self) -> None:
        """Raise ValueError naming the first bad field."""
        if not (0.0 <= self.marginal <= self.passing <= 100.0):
            raise ValueError("thresholds: need 0 <= marginal <= pass <= 100")
        if not (math.isfinite(self.tolerance) and self.tolerance >= 0):
            raise ValueError("tolerance: must be a finite number >= 0")
        if not 0.0 < self.confidence < 1.0:
            raise ValueError("confidence: must be between 0 and 1 (exclusive)")
        if isinstance(self.min_points, bool) or self.min_points < 1:
            raise ValueError("min_points: must be an integer >= 1")

    def settings(self) -> dict[str, Any]:
        return {
            "groups": {name: float(w) for name, w in self.groups.items()},
            "marginal": float(self.marginal),
            "pass": float(self.passing),
            "tolerance": float(self.tolerance),
            "confidence": float(self.confidence),
            "min_points": self.min_points,
            "run_id": self.run_id,
        }
