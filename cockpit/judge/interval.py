"""Kayenta's confidence interval and estimate of the shift, as R's wilcox.test computes them.

R (and Kayenta, which ports it) never report a median of differences here: the interval
ends and the estimate are roots of the continuity- and tie-corrected rank statistic of
(canary - mu) against the baseline, found by zeroin with tolerance 1e-4.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

from cockpit.judge.grouped import PairCounter
from cockpit.judge.zeroin import zeroin

ROOT_TOLERANCE = 1e-4  # R's uniroot default in wilcox.test, kept by Kayenta
ALL_TIED = "cannot compute a confidence interval when all observations are tied"


class AllTiedError(ValueError):
    """Every observation ties at some shift: the statistic has no spread."""


@dataclass(frozen=True, slots=True)
class ShiftInterval:
    """Confidence interval [low, high] for the shift canary - baseline, and the root estimate."""

    low: float
    high: float
    estimate: float  # root of the corrected statistic: not the median of differences


def corrected_statistic(counter: PairCounter, mu: float, continuity: bool = True) -> float:
    """(dz - sign(dz)/2) / sigma at shift mu: the standardised rank statistic of x - mu."""
    point = counter.at(mu)
    n, m = counter.n, counter.m
    total = n + m
    dz = point.u - n * m / 2
    correction = math.copysign(0.5, dz) if dz and continuity else 0.0
    sigma = math.sqrt((n * m / 12) * ((total + 1) - point.ties / (total * (total - 1))))
    if sigma == 0.0:
        raise AllTiedError(ALL_TIED)
    return (dz - correction) / sigma


def statistic_minus(counter: PairCounter, quantile: float) -> Callable[[float], float]:
    """mu -> corrected_statistic(counter, mu) - quantile, with the same arithmetic.

    zeroin calls it some ten times per root: the sample sizes' terms are worked out once.
    """
    n, m = counter.n, counter.m
    total = n + m
    mean = n * m / 2
    scale = n * m / 12
    above = total + 1
    pairs = total * (total - 1)
    at = counter.at

    def statistic(mu: float) -> float:
        point = at(mu)
        dz = (point.sum_low + point.sum_high) / 2 - mean
        sigma = math.sqrt(scale * (above - point.ties / pairs))
        if sigma == 0.0:
            raise AllTiedError(ALL_TIED)
        return (dz - math.copysign(0.5, dz) if dz else dz) / sigma - quantile

    return statistic


def kayenta_interval(counter: PairCounter, confidence: float) -> ShiftInterval:
    """The two-sided interval at `confidence` and the estimate, as Kayenta returns them."""
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be between 0 and 1")
    lowest, highest = counter.lowest, counter.highest
    z = NormalDist().inv_cdf((1.0 - confidence) / 2)  # negative

    def root(quantile: float) -> float:
        f = statistic_minus(counter, quantile)
        f_low = f(lowest)
        if f_low <= 0:
            return lowest
        f_high = f(highest)
        if f_high >= 0:
            return highest  # no sign change: clamp to the end, as R does
        return zeroin(f, lowest, highest, f_low, f_high, ROOT_TOLERANCE)

    low = root(-z)
    high = root(z)
    # Kayenta keeps the continuity correction for the estimate; R drops it (`correct <-
    # FALSE` before its uniroot). On mostly-zero series the two roots differ by more than
    # the tolerance and can flip a label, so the estimate is Kayenta's (x - 0.0 is x).
    f = statistic_minus(counter, 0.0)
    estimate = zeroin(f, lowest, highest, f(lowest), f(highest), ROOT_TOLERANCE)
    return ShiftInterval(low, high, estimate)
