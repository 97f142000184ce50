"""Counting canary-minus-baseline pairs around a shift, without ranking at every step.

Kayenta's interval ranks (x - mu) with y at every root-finder step. Those ranks only
matter through the number of pairs with x - mu above y (ties count 1/2) and the tie
groups, so a binary search per canary point gives the same numbers. Once two evaluated
shifts bracket the next one, only the pairs whose order can still change between them
are compared again, and they are kept (few by then) for the shifts evaluated after it.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cockpit.judge.mannwhitney import sorted_tie_term

Floats = npt.NDArray[np.float64]
Counts = npt.NDArray[np.intp]
Mask = npt.NDArray[np.bool_]

# Below this many undecided pairs, comparing them one by one beats a binary search per
# canary point (about 13 ns a point against 1-2 ns a pair, plus numpy's call overhead).
PAIR_LIMIT = 8192


@dataclass(slots=True)
class ShiftPoint:
    """Counts at one shift mu."""

    sum_low: int  # pairs with a baseline value below x - mu
    sum_high: int  # ... at or below x - mu
    ties: float  # sum of t^3 - t over tie groups of (x - mu) joined with y
    low: Counts | None = None  # per canary point, when counted point by point
    high: Counts | None = None

    @property
    def u(self) -> float:
        """Pairs with x - mu above y, ties counting one half."""
        return (self.sum_low + self.sum_high) / 2


@dataclass(slots=True)
class _Gap:
    """The pairs (x, y) whose order is undecided between two neighbouring evaluated shifts."""

    xs: Floats
    ys: Floats
    keep: Mask | None = None  # applied on first use: most gaps are never entered

    def pairs(self) -> tuple[Floats, Floats]:
        if self.keep is not None:
            self.xs, self.ys, self.keep = self.xs[self.keep], self.ys[self.keep], None
        return self.xs, self.ys


class ShiftCounter:
    """Evaluates pair counts of canary xs against baseline ys at any shift."""

    def __init__(self, xs: Sequence[float] | Floats, ys: Sequence[float] | Floats) -> None:
        if not len(xs) or not len(ys):
            raise ValueError("both samples need at least one value")
        # stable, as Python's sorted: equal values (0.0 and -0.0) keep their order
        self.xs: Floats = np.sort(np.asarray(xs, dtype=np.float64), kind="stable")
        self.ys: Floats = np.sort(np.asarray(ys, dtype=np.float64), kind="stable")
        self.n, self.m = len(self.xs), len(self.ys)
        self._ys_then_nan = np.append(self.ys, math.nan)  # index m (nothing below): unequal
        # Tie groups inside each sample survive any shift; only canary-baseline ties vary.
        # (Subtraction could round two distinct canary values together, but only for
        # shifts some 1e16 times their spacing.)
        self.base_ties = _tie_term(self.xs) + _tie_term(self.ys)
        self._shifts: list[float] = []
        self._points: dict[float, ShiftPoint] = {}
        self._gaps: dict[float, _Gap] = {}  # by the lower shift of the gap

    @property
    def lowest(self) -> float:
        return float(self.xs[0] - self.ys[-1])

    @property
    def highest(self) -> float:
        return float(self.xs[-1] - self.ys[0])

    def at(self, mu: float) -> ShiftPoint:
        """Counts at shift mu (cached; neighbours already evaluated narrow the work)."""
        point = self._points.get(mu)
        if point is not None:
            return point
        i = bisect_left(self._shifts, mu)
        point = None
        if 0 < i < len(self._shifts):
            below, above = self._shifts[i - 1], self._shifts[i]
            gap = self._gaps.pop(below, None)
            floor, ceiling = self._points[above], self._points[below]
            if gap is None and ceiling.sum_high - floor.sum_low <= PAIR_LIMIT:
                assert floor.low is not None and ceiling.high is not None
                gap = _Gap(*self.pairs_between(floor.low, ceiling.high))
            if gap is not None:
                point = self._count_pairs(mu, gap, floor.sum_low, below)
        if point is None:
            point = self._count_points(mu)
        self._points[mu] = point
        insort(self._shifts, mu)
        return point

    def evaluated(self) -> list[tuple[float, ShiftPoint]]:
        """Every shift evaluated so far, ascending."""
        return [(mu, self._points[mu]) for mu in self._shifts]

    def pairs_between(self, start: Counts, stop: Counts) -> tuple[Floats, Floats]:
        """Every pair (x_i, y_j) with start[i] <= j < stop[i], canary point by canary point."""
        width = np.maximum(stop - start, 0)
        offsets = np.cumsum(width) - width
        index = np.arange(int(offsets[-1] + width[-1])) + np.repeat(start - offsets, width)
        return np.repeat(self.xs, width), self.ys[index]

    def _count_points(self, mu: float) -> ShiftPoint:
        """A binary search per canary point; exact because x - mu is rounded as Kayenta does."""
        keys = self.xs - mu
        low = self.ys.searchsorted(keys, "left")
        if not (self._ys_then_nan.take(low) == keys).any():
            total = int(low.sum())
            return ShiftPoint(total, total, self.base_ties, low, low)
        high = self.ys.searchsorted(keys, "right")
        tied = high != low
        ties = self._ties_rows(keys[tied].tolist(), (high - low)[tied].tolist())
        return ShiftPoint(int(low.sum()), int(high.sum()), ties, low, high)

    def _count_pairs(self, mu: float, gap: _Gap, floor: int, below: float) -> ShiftPoint:
        """Counts at mu from the undecided pairs of its gap; every other pair is decided."""
        xs, ys = gap.pairs()
        keys = xs - mu
        lower = ys < keys
        at_or_lower = ys <= keys
        n_low, n_high = int(np.count_nonzero(lower)), int(np.count_nonzero(at_or_lower))
        # The gap splits at mu: pairs not below x - mu stay undecided on the left, the rest
        # on the right (per canary point these are the floor..ceiling ranges again).
        self._gaps[below] = _Gap(xs, ys, ~lower)
        self._gaps[mu] = _Gap(xs, ys, at_or_lower)
        ties = self.base_ties
        if n_high != n_low:
            ties = self._ties_pairs(keys[at_or_lower & ~lower].tolist())
        return ShiftPoint(floor + n_low, floor + n_high, ties)

    def _ties_pairs(self, tied: list[float]) -> float:
        # Every tied pair is undecided, so a values of x - mu meeting b equal baseline
        # values appear as a * b pairs; b comes from the baseline alone.
        pairs = Counter(tied)
        values = np.fromiter(pairs, dtype=np.float64, count=len(pairs))
        equal = np.searchsorted(self.ys, values, "right") - np.searchsorted(self.ys, values)
        extra = 0
        for a_times_b, b in zip(pairs.values(), equal.tolist(), strict=True):
            a = a_times_b // b
            extra += 3 * a * b * (a + b)
        return self.base_ties + extra

    def _ties_rows(self, keys: list[float], equal: list[int]) -> float:
        # A canary group of a equal values meeting b equal baseline values forms one group
        # of a + b: (a+b)^3 - (a+b) = (a^3 - a) + (b^3 - b) + 3ab(a+b).
        groups = Counter(keys)
        matched = dict(zip(keys, equal, strict=True))
        extra = sum(3 * a * matched[v] * (a + matched[v]) for v, a in groups.items())
        return self.base_ties + extra


def _tie_term(ordered: Floats) -> float:
    """sorted_tie_term, skipping the conversion when no neighbours are equal."""
    return sorted_tie_term(ordered.tolist()) if (ordered[1:] == ordered[:-1]).any() else 0.0


def select_differences(counter: ShiftCounter, ranks: Sequence[int]) -> list[float]:
    """The k-th smallest pairwise differences x - y (0-based ranks), never all of them.

    Shifts the counter already evaluated bracket the ranks; more shifts are evaluated
    (interpolating on the counts) until few differences lie in between. Only those are
    computed, with a rounding margin, and counted exactly against the ones outside.
    """
    n_pairs = counter.n * counter.m
    kmin, kmax = min(ranks), max(ranks)
    if kmin < 0 or kmax >= n_pairs:
        raise ValueError("rank out of range")
    lo_v, hi_v = counter.lowest, counter.highest
    limit = max(4 * counter.n, 4096)
    for _ in range(64):
        lo_v, hi_v, lo_count, hi_count = _bracket(counter, kmin, kmax, lo_v, hi_v)
        if hi_count - lo_count <= limit or not lo_v < hi_v:
            break
        target = (kmin + kmax) / 2
        guess = lo_v + (hi_v - lo_v) * (target - lo_count) / max(hi_count - lo_count, 1)
        mid = (lo_v + hi_v) / 2
        # interpolation when it lands well inside, bisection when it hugs an end
        inside = lo_v + (hi_v - lo_v) / 16 < guess < hi_v - (hi_v - lo_v) / 16
        counter.at(guess if inside else mid)
    found = _window(counter, ranks, lo_v, hi_v)
    if found is None:  # rounding fooled the approximate counts: fall back to every pair
        found = _window(counter, ranks, counter.lowest, counter.highest)
    assert found is not None
    return found


def _bracket(
    counter: ShiftCounter, kmin: int, kmax: int, lo_v: float, hi_v: float
) -> tuple[float, float, int, int]:
    """Tightest evaluated shifts with (approximately) kmin..kmax between them."""
    n_pairs = counter.n * counter.m
    lo_count, hi_count = 0, n_pairs
    for mu, point in counter.evaluated():
        below = n_pairs - point.sum_high  # differences below mu
        at_or_below = n_pairs - point.sum_low
        if below <= kmin and mu >= lo_v:
            lo_v, lo_count = mu, below
        if at_or_below > kmax and mu <= hi_v:
            hi_v, hi_count = mu, at_or_below
            break
    return lo_v, hi_v, lo_count, hi_count


def _window(
    counter: ShiftCounter, ranks: Sequence[int], lo_v: float, hi_v: float
) -> list[float] | None:
    """The ranked differences if they all lie in [lo_v, hi_v]; None when they do not."""
    xs, ys = counter.xs, counter.ys
    scale = max(abs(xs[0]), abs(xs[-1])) + max(abs(ys[0]), abs(ys[-1]))
    # Several ulps of the largest magnitude involved: more than two roundings can move a key.
    margin = 8 * math.ulp(max(float(scale), abs(lo_v), abs(hi_v)))
    # j < start: x - y > hi_v for sure; j >= end: x - y < lo_v for sure
    starts = np.searchsorted(ys, xs - hi_v - margin, "left")
    ends = np.searchsorted(ys, xs - lo_v + margin, "right")
    left, right = counter.pairs_between(starts, ends)
    window = left - right
    # stable, as Python's sorted: 0.0 and -0.0 keep their order
    kept = np.sort(window[(lo_v <= window) & (window <= hi_v)], kind="stable")
    below = counter.n * counter.m - int(ends.sum()) + int(np.count_nonzero(window < lo_v))
    if not all(below <= k < below + len(kept) for k in ranks):
        return None
    return [float(kept[k - below]) for k in ranks]


def hodges_lehmann(counter: ShiftCounter) -> float:
    """Median of all pairwise differences canary - baseline (the two-sample HL estimator)."""
    n_pairs = counter.n * counter.m
    middle = select_differences(counter, [(n_pairs - 1) // 2, n_pairs // 2])
    return (middle[0] + middle[1]) / 2
