"""Classifying one metric as Kayenta's Mann-Whitney classifier does, failing closed."""

from __future__ import annotations

import hashlib
import math
import random
import sys
from collections.abc import Sequence
from dataclasses import replace

from cockpit.judge import deviations as dev
from cockpit.judge.cleaning import clean
from cockpit.judge.grouped import PairCounter, pair_counter
from cockpit.judge.inputs import JudgeConfig, MetricInput
from cockpit.judge.interval import AllTiedError, ShiftInterval, kayenta_interval
from cockpit.judge.mannwhitney import p_value
from cockpit.judge.reasons import Wording
from cockpit.judge.result import MetricResult
from cockpit.judge.selection import hodges_lehmann
from cockpit.judge.shift import ShiftCounter

NOISE_SCALE = 1e-5  # Kayenta's sd for tie-breaking noise, relative to the constant value
# Shifts reach |x| + |y| and the three roots |x - mu| <= 2|x| + |y|: a quarter of the
# largest binary64 keeps them finite. Means are sums of n values, so n times that again.
LARGEST = sys.float_info.max / 4


def seed_for(run_id: str, metric: str) -> str:
    """64-bit seed (hex) from sha256(run_id, metric name), NUL-separated so pairs can't collide."""
    # surrogatepass: a lone surrogate in a name (JSON allows "\ud800") is hashed, not refused
    return hashlib.sha256(f"{run_id}\0{metric}".encode("utf-8", "surrogatepass")).hexdigest()[:16]


def mean(values: Sequence[float]) -> float:
    """Correctly rounded (fsum), so it never depends on the order of summation."""
    return math.fsum(values) / len(values)


def mean_ratio(canary: Sequence[float], baseline: Sequence[float]) -> float:
    """mean(canary) / mean(baseline); NaN when either mean is 0, as Kayenta defines it."""
    c, b = mean(canary), mean(baseline)
    return math.nan if c == 0.0 or b == 0.0 else c / b


def _normal(rng: random.Random) -> float:
    # Box-Muller on random(): only random() is promised to be stable across Python versions.
    return math.sqrt(-2.0 * math.log(1.0 - rng.random())) * math.cos(2.0 * math.pi * rng.random())


def add_noise(values: list[float], sd: float, rng: random.Random) -> list[float]:
    return sorted(v + sd * _normal(rng) for v in values)


def classify(metric: MetricInput, config: JudgeConfig) -> MetricResult:
    """The metric's label, the statistics behind it and the reason in words."""
    canary, canary_cleaning = clean(
        metric.canary, metric.nan_strategy, metric.outliers, metric.outlier_factor
    )
    baseline, baseline_cleaning = clean(
        metric.baseline, metric.nan_strategy, metric.outliers, metric.outlier_factor
    )
    base = MetricResult(
        name=metric.name,
        classification="Error",
        reason="",
        critical=False,
        group=metric.group,
        muted=metric.muted,
        baseline_cleaning=baseline_cleaning,
        canary_cleaning=canary_cleaning,
        seed=seed_for(config.run_id, metric.name),
        n_baseline=len(baseline),
        n_canary=len(canary),
        effect_measure=metric.effect_measure,
    )
    words = Wording(metric, config)
    if canary_cleaning.infinite or baseline_cleaning.infinite:
        return _error(base, metric, words.infinite(canary_cleaning, baseline_cleaning))
    if min(len(canary), len(baseline)) < config.min_points:
        return _no_data(base, metric, words.too_few(len(canary), len(baseline)))
    largest = max(abs(float(s[i])) for s in (canary, baseline) for i in (0, -1))
    if largest > LARGEST / max(len(canary), len(baseline)):
        reason = f"values up to {largest:.3g} are too large to compare without overflow"
        return _error(base, metric, words.cannot_judge(reason))
    counter: PairCounter = pair_counter(canary, baseline)
    at_zero = counter.at(0.0)
    test = p_value(at_zero.u, len(canary), len(baseline), at_zero.ties)
    ratio = mean_ratio(canary.tolist(), baseline.tolist())
    effect = ratio if metric.effect_measure == "meanRatio" else at_zero.u / counter.n / counter.m
    base = replace(
        base, u=test.u, p_value=test.p_value, p_method=test.method, effect=effect, mean_ratio=ratio
    )
    # Identical data is no deviation at all: Kayenta reports a ratio of 1 even for zeros.
    unchanged = replace(base, classification="Pass", mean_ratio=1.0)
    if metric.effect_measure == "meanRatio":
        unchanged = replace(unchanged, effect=1.0)
    if len(canary) == len(baseline) and (canary == baseline).all():
        return replace(unchanged, reason=words.identical())
    c_first, c_last, b_first, b_last = map(
        float, (canary[0], canary[-1], baseline[0], baseline[-1])
    )
    if c_first == c_last == b_first == b_last:
        return replace(unchanged, reason=words.constant(c_first))
    if c_first == c_last and b_first == b_last:
        # Two different constants: Kayenta adds tiny noise so an interval exists at all.
        rng = random.Random(int(base.seed, 16))
        sds = (abs(c_first) * NOISE_SCALE, abs(b_first) * NOISE_SCALE)
        counter = ShiftCounter(
            add_noise(canary.tolist(), sds[0], rng), add_noise(baseline.tolist(), sds[1], rng)
        )
        base = replace(base, noise_sd=sds, deviations=(dev.SEEDED_NOISE,))
    try:
        interval = kayenta_interval(counter, config.confidence)
    except AllTiedError as exc:
        return _error(base, metric, words.cannot_judge(str(exc)))
    base = replace(
        base,
        ci_low=interval.low,
        ci_high=interval.high,
        estimate=interval.estimate,
        hodges_lehmann=hodges_lehmann(counter),
    )
    return _compare(base, metric, config, interval, effect, words)


def _compare(
    base: MetricResult,
    metric: MetricInput,
    config: JudgeConfig,
    interval: ShiftInterval,
    effect: float,
    words: Wording,
) -> MetricResult:
    """High if the whole interval clears +tolerance*|estimate| (strictly), Low likewise below."""
    bound = config.tolerance * abs(interval.estimate)
    undefined = math.isnan(effect)
    if interval.low > bound:
        if metric.direction == "decrease":
            return replace(
                base, classification="Pass", reason=words.allowed_direction("higher", interval)
            )
        if not (undefined or effect >= metric.gate("allowed_increase")):
            return replace(
                base, classification="Pass", reason=words.within("higher", interval, effect)
            )
        critical = metric.critical and (undefined or effect >= metric.gate("critical_increase"))
        reason = words.shifted("higher", interval, effect, critical)
        return replace(base, classification="High", reason=reason, critical=critical)
    if interval.high < -bound:
        if metric.direction == "increase":
            return replace(
                base, classification="Pass", reason=words.allowed_direction("lower", interval)
            )
        if not (undefined or effect <= metric.gate("allowed_decrease")):
            return replace(
                base, classification="Pass", reason=words.within("lower", interval, effect)
            )
        critical = metric.critical and (undefined or effect <= metric.gate("critical_decrease"))
        reason = words.shifted("lower", interval, effect, critical)
        return replace(base, classification="Low", reason=reason, critical=critical)
    return replace(base, classification="Pass", reason=words.no_shift(interval))


def _no_data(base: MetricResult, metric: MetricInput, reason: str) -> MetricResult:
    # Kayenta also says Nodata for an empty series, but compares any non-empty one, and
    # passes an empty one under nanStrategy=replace: those are where this judge differs.
    # A short series is evidence Kayenta would have scored (maybe as High), so it counts
    # against its group: left out as Nodata, it would raise the group's score instead.
    short = bool(base.n_canary and base.n_baseline)
    differs = short or metric.nan_strategy == "replace"
    deviations = (*base.deviations, dev.TOO_FEW_POINTS_IS_NODATA) if differs else base.deviations
    if metric.critical:
        return replace(
            base, classification="Nodata", reason=reason, critical=True, deviations=deviations
        )
    if metric.must_have_data or short:
        why = "the metric must have data" if metric.must_have_data else "it counts as a failure"
        return replace(
            base,
            classification="NodataFailMetric",
            reason=f"{reason}; {why}",
            deviations=deviations,
        )
    return replace(base, classification="Nodata", reason=reason, deviations=deviations)


def _error(base: MetricResult, metric: MetricInput, reason: str) -> MetricResult:
    if not metric.critical:
        return replace(base, classification="Error", reason=reason)
    return replace(
        base,
        classification="Error",
        reason=reason,
        critical=True,
        deviations=(*base.deviations, dev.CRITICAL_ERROR_FAILS),
    )
