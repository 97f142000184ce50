"""Classifying one metric as Kayenta's Mann-Whitney classifier does, failing closed."""

from __future__ import annotations

import hashlib
import math
import random
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

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

if TYPE_CHECKING:
    import numpy.typing as npt

    from cockpit.judge.cleaning import Series

_add_reduce = np.add.reduce  # without ndarray.sum's Python wrapper
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


# Magnitudes below 2^e within 2^SPAN of each other make whole numbers below 2^(53 + SPAN),
# the int64 limit.
SPAN = 10


def ascending_mean(values: npt.NDArray[np.float64]) -> float:
    """mean() of an ascending float64 array, bit for bit, without making a list of it.

    fsum's answer is the exact sum, rounded once. When the magnitudes span at most 2^SPAN,
    each value times 2^(53 - e) (e the smallest exponent) is a whole number below 2^63, and
    their sum, added up in 32-bit halves, is exact in int64: rounding it once to a float is
    that same answer. Wider spans, and sums that would be subnormal, go to fsum itself.
    """
    first, last = float(values[0]), float(values[-1])
    if first > 0.0:
        smallest = first
    elif last < 0.0:
        smallest = -last
    else:  # the value nearest zero on either side, skipping zeros
        above = int(values.searchsorted(0.0, "right"))
        below = int(values.searchsorted(0.0, "left")) - 1
        sides = [float(values[above])] if above < len(values) else []
        sides += [-float(values[below])] if below >= 0 else []
        if not sides:
            return 0.0  # every value is a zero: fsum says 0.0, whatever their signs
        smallest = min(sides)
    low, high = math.frexp(smallest)[1], math.frexp(max(-first, last))[1]
    if high - low <= SPAN and low > -900 and math.isfinite(first) and math.isfinite(last):
        whole = (values * 2.0 ** (53 - low)).astype(np.int64)
        total = int(_add_reduce(whole & 0xFFFFFFFF)) + (int(_add_reduce(whole >> 32)) << 32)
        exact = math.ldexp(float(total), low - 53)
        if not exact or abs(exact) >= sys.float_info.min:  # not subnormal: rounded once
            return exact / len(values)
    return mean(values.tolist())


def mean_ratio(canary: Sequence[float], baseline: Sequence[float]) -> float:
    """mean(canary) / mean(baseline); NaN when either mean is 0, as Kayenta defines it."""
    return _ratio(mean(canary), mean(baseline))


def _ratio(c: float, b: float) -> float:
    return math.nan if c == 0.0 or b == 0.0 else c / b


def _normal(rng: random.Random) -> float:
    # Box-Muller on random(): only random() is promised to be stable across Python versions.
    return math.sqrt(-2.0 * math.log(1.0 - rng.random())) * math.cos(2.0 * math.pi * rng.random())


def add_noise(values: list[float], sd: float, rng: random.Random) -> list[float]:
    return sorted(v + sd * _normal(rng) for v in values)


def classify(
    metric: MetricInput, config: JudgeConfig, series: tuple[Series, Series] | None = None
) -> MetricResult:
    """The metric's label, the statistics behind it and the reason in words.

    `series`: the metric's (baseline, canary) already converted (judge() converts each
    series once, for cleaning and for the digest), instead of metric.baseline and .canary.
    """
    raw_baseline, raw_canary = series or (metric.baseline, metric.canary)
    canary, canary_cleaning = clean(
        raw_canary, metric.nan_strategy, metric.outliers, metric.outlier_factor
    )
    baseline, baseline_cleaning = clean(
        raw_baseline, metric.nan_strategy, metric.outliers, metric.outlier_factor
    )
    # every result has these; the statistics are added when it is made (once: a frozen
    # dataclass of 23 fields costs ~3 us to make and ~8 us to replace)
    common: dict[str, Any] = {
        "name": metric.name,
        "group": metric.group,
        "muted": metric.muted,
        "baseline_cleaning": baseline_cleaning,
        "canary_cleaning": canary_cleaning,
        "seed": seed_for(config.run_id, metric.name),
        "n_baseline": len(baseline),
        "n_canary": len(canary),
        "effect_measure": metric.effect_measure,
    }

    def base(**more: Any) -> MetricResult:
        return MetricResult(**common, **more, classification="Error", reason="", critical=False)

    words = Wording(metric, config)
    if canary_cleaning.infinite or baseline_cleaning.infinite:
        return _error(base(), metric, words.infinite(canary_cleaning, baseline_cleaning))
    if min(len(canary), len(baseline)) < config.min_points:
        return _no_data(base(), metric, words.too_few(len(canary), len(baseline)))
    largest = max(abs(float(s[i])) for s in (canary, baseline) for i in (0, -1))
    if largest > LARGEST / max(len(canary), len(baseline)):
        reason = f"values up to {largest:.3g} are too large to compare without overflow"
        return _error(base(), metric, words.cannot_judge(reason))
    counter: PairCounter = pair_counter(canary, baseline)
    at_zero = counter.at(0.0)
    test = p_value(at_zero.u, len(canary), len(baseline), at_zero.ties)
    ratio = _ratio(ascending_mean(canary), ascending_mean(baseline))
    effect = ratio if metric.effect_measure == "meanRatio" else at_zero.u / counter.n / counter.m
    stats: dict[str, Any] = {
        "u": test.u,
        "p_value": test.p_value,
        "p_method": test.method,
        "effect": effect,
        "mean_ratio": ratio,
    }
    # Identical data is no deviation at all: Kayenta reports a ratio of 1 even for zeros.
    unchanged = {**stats, "classification": "Pass", "mean_ratio": 1.0}
    if metric.effect_measure == "meanRatio":
        unchanged["effect"] = 1.0
    c_first, c_last, b_first, b_last = map(
        float, (canary[0], canary[-1], baseline[0], baseline[-1])
    )
    if (
        len(canary) == len(baseline)
        and c_first == b_first  # (equal series have equal ends: most differ there)
        and c_last == b_last
        and (canary == baseline).all()
    ):
        return MetricResult(**common, **unchanged, reason=words.identical(), critical=False)
    if c_first == c_last == b_first == b_last:
        return MetricResult(**common, **unchanged, reason=words.constant(c_first), critical=False)
    if c_first == c_last and b_first == b_last:
        # Two different constants: Kayenta adds tiny noise so an interval exists at all.
        rng = random.Random(int(common["seed"], 16))
        sds = (abs(c_first) * NOISE_SCALE, abs(b_first) * NOISE_SCALE)
        counter = ShiftCounter(
            add_noise(canary.tolist(), sds[0], rng), add_noise(baseline.tolist(), sds[1], rng)
        )
        common.update(noise_sd=sds, deviations=(dev.SEEDED_NOISE,))
    try:
        interval = kayenta_interval(counter, config.confidence)
    except AllTiedError as exc:
        return _error(base(**stats), metric, words.cannot_judge(str(exc)))
    label, reason, critical = _verdict(metric, config, interval, effect, words)
    return MetricResult(
        **common,
        **stats,
        ci_low=interval.low,
        ci_high=interval.high,
        estimate=interval.estimate,
        hodges_lehmann=hodges_lehmann(counter),
        classification=label,
        reason=reason,
        critical=critical,
    )


def _compare(
    base: MetricResult,
    metric: MetricInput,
    config: JudgeConfig,
    interval: ShiftInterval,
    effect: float,
    words: Wording,
) -> MetricResult:
    """`base` labelled by _verdict (a Pass keeps base's critical)."""
    label, reason, critical = _verdict(metric, config, interval, effect, words)
    if label == "Pass":
        return replace(base, classification=label, reason=reason)
    return replace(base, classification=label, reason=reason, critical=critical)


def _verdict(
    metric: MetricInput,
    config: JudgeConfig,
    interval: ShiftInterval,
    effect: float,
    words: Wording,
) -> tuple[str, str, bool]:
    """(label, reason, critical): High if the whole interval clears +tolerance*|estimate|
    (strictly), Low likewise below; a Pass is never critical."""
    bound = config.tolerance * abs(interval.estimate)
    undefined = math.isnan(effect)
    if interval.low > bound:
        if metric.direction == "decrease":
            return "Pass", words.allowed_direction("higher", interval), False
        if not (undefined or effect >= metric.gate("allowed_increase")):
            return "Pass", words.within("higher", interval, effect), False
        critical = metric.critical and (undefined or effect >= metric.gate("critical_increase"))
        return "High", words.shifted("higher", interval, effect, critical), critical
    if interval.high < -bound:
        if metric.direction == "increase":
            return "Pass", words.allowed_direction("lower", interval), False
        if not (undefined or effect <= metric.gate("allowed_decrease")):
            return "Pass", words.within("lower", interval, effect), False
        critical = metric.critical and (undefined or effect <= metric.gate("critical_decrease"))
        return "Low", words.shifted("lower", interval, effect, critical), critical
    return "Pass", words.no_shift(interval), False


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
