"""Reasons in words a release captain reads at 3 a.m.: what moved, by how much, what is allowed."""

from __future__ import annotations

import math

from cockpit.judge.cleaning import Cleaning
from cockpit.judge.inputs import JudgeConfig, MetricInput
from cockpit.judge.interval import ShiftInterval


def number(value: float) -> str:
    """Short, stable rendering: 3-4 significant digits, thousands separated."""
    if math.isnan(value):
        return "undefined"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e6 or magnitude < 1e-3:
        return f"{value:.3g}"
    if magnitude >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


class Wording:
    """Phrases for one metric under one config."""

    def __init__(self, metric: MetricInput, config: JudgeConfig) -> None:
        self.metric = metric
        self.unit = f" {metric.unit}" if metric.unit else ""
        self.confidence = f"{config.confidence * 100:g}%"
        self.min_points = config.min_points

    def interval(self, interval: ShiftInterval) -> str:
        low, high = number(interval.low), number(interval.high)
        return f"{self.confidence} CI of shift {low} to {high}{self.unit}"

    def infinite(self, canary: Cleaning, baseline: Cleaning) -> str:
        parts = [
            f"{c.infinite} infinite {name} values"
            for name, c in (("canary", canary), ("baseline", baseline))
            if c.infinite
        ]
        return f"cannot judge: {' and '.join(parts)}"

    def too_few(self, n_canary: int, n_baseline: int) -> str:
        if not n_canary and not n_baseline:
            return "no canary or baseline data after cleaning"
        if not n_canary or not n_baseline:
            return f"no {'canary' if not n_canary else 'baseline'} data after cleaning"
        return (
            f"only {n_canary} canary and {n_baseline} baseline points after cleaning "
            f"(at least {self.min_points} needed)"
        )

    def identical(self) -> str:
        return "canary and baseline data are identical"

    def constant(self, value: float) -> str:
        return f"every canary and baseline point is {number(value)}{self.unit}"

    def cannot_judge(self, why: str) -> str:
        return f"cannot judge: {why}"

    def no_shift(self, interval: ShiftInterval) -> str:
        return f"no significant shift ({self.interval(interval)})"

    def allowed_direction(self, word: str, interval: ShiftInterval) -> str:
        bad = "an increase" if self.metric.direction == "increase" else "a decrease"
        return f"canary {word} than baseline ({self.interval(interval)}), but only {bad} is bad"

    def within(self, word: str, interval: ShiftInterval, effect: float) -> str:
        gate = "allowed_increase" if word == "higher" else "allowed_decrease"
        return (
            f"{self._size(word, effect)} ({self.interval(interval)}), "
            f"within the allowed {self._limit(gate)}"
        )

    def shifted(self, word: str, interval: ShiftInterval, effect: float, critical: bool) -> str:
        allowed = "allowed_increase" if word == "higher" else "allowed_decrease"
        size = self._size(word, effect)
        text = f"{size} ({self.interval(interval)}), allowed {self._limit(allowed)}"
        if critical:
            limit = "critical_increase" if word == "higher" else "critical_decrease"
            text += f", critical beyond {self._limit(limit)}"
        return text

    def _size(self, word: str, effect: float) -> str:
        if math.isnan(effect):
            return f"canary {word} than baseline (mean ratio undefined: a mean is 0)"
        if self.metric.effect_measure == "cles":
            share = effect if word == "higher" else 1.0 - effect
            return f"canary {word} than baseline in {number(share * 100)}% of pairs"
        return f"canary {number(abs(effect - 1.0) * 100)}% {word} than baseline"

    def _limit(self, gate: str) -> str:
        value = self.metric.gate(gate)
        if self.metric.effect_measure == "cles":
            share = value if gate.endswith("increase") else 1.0 - value
            return f"{number(share * 100)}% of pairs"
        return f"{number(abs(value - 1.0) * 100)}%"
