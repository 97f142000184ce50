"""Kayenta's shift interval and estimate (R-A3), Hodges-Lehmann (R-A4), counting vs ranking."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from cockpit.judge.interval import (
    ROOT_TOLERANCE,
    AllTiedError,
    corrected_statistic,
    kayenta_interval,
)
from cockpit.judge.mannwhitney import average_ranks
from cockpit.judge.selection import hodges_lehmann, select_differences
from cockpit.judge.shift import ShiftCounter
from cockpit.judge.zeroin import zeroin


def counter(canary: list[float], baseline: list[float]) -> ShiftCounter:
    return ShiftCounter(sorted(canary), sorted(baseline))


def ranked_statistic(x: list[float], y: list[float], mu: float, continuity: bool) -> float:
    """The statistic exactly as Kayenta computes it: rank (x - mu) ++ y with average ties."""
    ranks = average_ranks([v - mu for v in x] + y)
    n, m = len(x), len(y)
    dz = sum(ranks[:n]) - n * (n + 1) / 2 - n * m / 2
    ties = sum(t**3 - t for t in Counter(ranks).values())
    correction = math.copysign(0.5, dz) if dz and continuity else 0.0
    return (dz - correction) / math.sqrt(
        (n * m / 12) * ((n + m + 1) - ties / ((n + m) * (n + m - 1)))
    )


def test_kayenta_ci_and_estimate_vector() -> None:
    """Kayenta's 'CI & Estimate' test: exp [10,20,30,40] vs ctl [1,2,3,4] at 95%."""
    result = kayenta_interval(counter([10, 20, 30, 40], [1, 2, 3, 4]), 0.95)
    assert result.low == pytest.approx(6.0, abs=1e-9)
    assert result.high == pytest.approx(39.0, abs=1e-9)
    assert result.estimate == pytest.approx(22.5, abs=1e-9)  # R-A2: positive, canary higher


def test_r_tie_out_vectors_within_1e6(tie_out: dict) -> None:
    """The interval as R's to 1e-6; the estimate, Kayenta's (continuity-corrected), to the
    solver tolerance of R's, as Kayenta's own tie-out test allows."""
    result = kayenta_interval(counter(tie_out["experiment"], tie_out["control"]), 0.95)
    assert result.low == pytest.approx(tie_out["r"]["low"], abs=1e-6)
    assert result.high == pytest.approx(tie_out["r"]["high"], abs=1e-6)
    assert result.estimate == pytest.approx(tie_out["r"]["estimate"], abs=ROOT_TOLERANCE)


def test_tie_out_roots_are_sign_changes(tie_out: dict) -> None:
    """Roots are checked by a sign change of the statistic at +/-1e-4, not by equality."""
    c = counter(tie_out["experiment"], tie_out["control"])
    result = kayenta_interval(c, 0.95)
    z = 1.959963984540054
    for root, quantile in ((result.low, z), (result.high, -z)):
        below = corrected_statistic(c, root - ROOT_TOLERANCE) - quantile
        above = corrected_statistic(c, root + ROOT_TOLERANCE) - quantile
        assert below > 0 >= above or below >= 0 > above
    at = [corrected_statistic(c, result.estimate + d) for d in (-1e-4, 1e-4)]
    assert at[0] >= 0 >= at[1]


def test_estimate_is_not_the_median_of_differences(tie_out: dict) -> None:
    """R-A4: the root estimate and Hodges-Lehmann differ on tied data, and are both kept."""
    c = counter(tie_out["experiment"], tie_out["control"])
    estimate = kayenta_interval(c, 0.95).estimate
    assert hodges_lehmann(c) == -0.5
    assert estimate != -0.5
    assert abs(estimate - -0.5) < 1e-4


def _random_pair(rng: random.Random, tied: bool) -> tuple[list[float], list[float]]:
    n, m = rng.randint(1, 40), rng.randint(1, 40)
    if tied:
        return [float(rng.randint(0, 6)) for _ in range(n)], [
            float(rng.randint(0, 6)) for _ in range(m)
        ]
    return [rng.gauss(0.5, 1) for _ in range(n)], [rng.gauss(0, 1) for _ in range(m)]


@pytest.mark.parametrize("seed", range(40))
def test_counting_equals_ranking(seed: int) -> None:
    """The counting statistic is bit-identical to re-ranking, ties and all."""
    rng = random.Random(seed)
    x, y = _random_pair(rng, tied=seed % 2 == 0)
    c = counter(x, y)
    lo, hi = c.lowest, c.highest
    shifts = [lo, hi, 0.0] + [rng.uniform(lo, hi) for _ in range(15)]
    shifts += [a - b for a, b in zip(x[:5], y[:5], strict=False)]  # exact pair differences
    for mu in shifts:
        for continuity in (True, False):
            expected = None
            try:
                expected = ranked_statistic(x, y, mu, continuity)
            except ZeroDivisionError:
                with pytest.raises(AllTiedError):
                    corrected_statistic(c, mu, continuity)
                continue
            assert corrected_statistic(c, mu, continuity) == expected


@pytest.mark.parametrize("seed", range(30))
def test_interval_matches_zeroin_on_ranked_statistic(seed: int) -> None:
    """The fast interval follows exactly the path zeroin takes on Kayenta's ranked statistic."""
    rng = random.Random(100 + seed)
    x, y = _random_pair(rng, tied=seed % 3 == 0)
    if len(set(x + y)) == 1:
        return
    lo, hi = min(x) - max(y), max(x) - min(y)
    z = 2.3263478740408408  # 98%

    def root(q: float) -> float:
        fl = ranked_statistic(x, y, lo, True) - q
        fu = ranked_statistic(x, y, hi, True) - q
        if fl <= 0:
            return lo
        if fu >= 0:
            return hi
        return zeroin(lambda mu: ranked_statistic(x, y, mu, True) - q, lo, hi, fl, fu)

    def f0(mu: float) -> float:
        return ranked_statistic(x, y, mu, True)  # Kayenta keeps the continuity correction

    ours = kayenta_interval(counter(x, y), 0.98)
    assert ours.low == root(z)
    assert ours.high == root(-z)
    assert ours.estimate == zeroin(f0, lo, hi, f0(lo), f0(hi))


@pytest.mark.parametrize("seed", range(30))
def test_hodges_lehmann_is_the_median_of_pairwise_differences(seed: int) -> None:
    rng = random.Random(200 + seed)
    x, y = _random_pair(rng, tied=seed % 2 == 1)
    differences = sorted(a - b for a in x for b in y)
    k = len(differences)
    median = (differences[(k - 1) // 2] + differences[k // 2]) / 2
    c = counter(x, y)
    kayenta_interval(c, 0.98)  # as in the judge: the root finder's shifts guide selection
    assert hodges_lehmann(c) == median
    assert hodges_lehmann(counter(x, y)) == median  # and from scratch


def test_selection_on_large_samples_never_materialises_everything() -> None:
    rng = random.Random(9)
    x = [rng.gauss(101, 10) for _ in range(400)]
    y = [rng.gauss(100, 10) for _ in range(300)]
    differences = sorted(a - b for a in x for b in y)
    ranks = [0, 1234, 60000, 119999]
    assert select_differences(counter(x, y), ranks) == [differences[k] for k in ranks]


def test_zeroin_finds_roots_to_tolerance() -> None:
    root = zeroin(lambda v: v * v - 2, 0.0, 2.0, -2.0, 2.0, tol=1e-12)
    assert root == pytest.approx(math.sqrt(2), abs=1e-11)
    assert zeroin(lambda v: v, 0.0, 1.0, 0.0, 1.0) == 0.0  # a root at an end


def test_all_tied_raises() -> None:
    with pytest.raises(AllTiedError, match="all observations are tied"):
        kayenta_interval(counter([3.0, 3.0], [3.0, 3.0]), 0.95)


def test_confidence_must_be_a_probability() -> None:
    with pytest.raises(ValueError, match="confidence"):
        kayenta_interval(counter([1.0, 2.0], [0.0, 1.0]), 1.0)
