"""Kayenta's confidence interval and estimate of the shift, as R's wilcox.test computes them.

R (and Kayenta, which ports it) never report a median of differences here: the interval
ends and the estimate are roots of the continuity- and tie-corrected rank statistic of
(canary - mu) against the baseline, found by zeroin with tolerance 1e-4.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from cockpit.judge.grouped import PairCounter
from cockpit.judge.zeroin import zeroin

ROOT_TOLERANCE = 1e-4  # R's uniroot default in wilcox.test, kept by Kayenta


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
        raise AllTiedError("cannot compute a confidence interval when all observations are tied")
    return (dz - correction) / sigma


def kayenta_interval(counter: PairCounter, confidence: float) -> ShiftInterval:
    """The two-sided interval at `confidence` and the estimate, as Kayenta returns them."""
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be between 0 and 1")
    lowest, highest = counter.lowest, counter.highest
    z = NormalDist().inv_cdf((1.0 - confidence) / 2)  # negative

    def root(quantile: float) -> float:
        f_low = corrected_statistic(counter, lowest) - quantile
        if f_low <= 0:
            return lowest
        f_high = corrected_statistic(counter, highest) - quantile
        if f_high >= 0:
            return highest  # no sign change: clamp to the end, as R does
        return zeroin(
            lambda mu: corrected_statistic(counter, mu) - quantile,
            lowest,
            highest,
            f_low,
            f_high,
            ROOT_TOLERANCE,
        )

    low = root(-z)
    high = root(z)
    # Kayenta keeps the continuity correction for the estimate; R drops it (`correct <-
    # FALSE` before its uniroot). On mostly-zero series the two roots differ by more than
    # the tolerance and can flip a label, so the estimate is Kayenta's.
    estimate = zeroin(
        lambda mu: corrected_statistic(counter, mu),
        lowest,
        highest,
        corrected_statistic(counter, lowest),
        corrected_statistic(counter, highest),
        ROOT_TOLERANCE,
    )
    return ShiftInterval(low, high, estimate)
