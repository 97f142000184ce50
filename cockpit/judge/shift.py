"""Counting canary-minus-baseline pairs around a shift, without ranking at every step.

Kayenta's interval ranks (x - mu) with y at every root-finder step. Those ranks only
matter through the number of pairs with x - mu above y (ties count 1/2) and the tie
groups, so a binary search per canary point gives the same numbers; and once two
evaluated shifts bracket the next one, only the rows whose count can still change are
searched again.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from operator import eq, ne, sub

from cockpit.judge.mannwhitney import sorted_tie_term


@dataclass(slots=True)
class ShiftPoint:
    """Counts at one shift mu, per canary point and in total."""

    low: list[int]  # per canary point x: how many baseline values are below x - mu
    high: list[int]  # ... at or below x - mu (the same list when none is equal)
    sum_low: int
    sum_high: int
    ties: float  # sum of t^3 - t over tie groups of (x - mu) joined with y

    @property
    def u(self) -> float:
        """Pairs with x - mu above y, ties counting one half."""
        return (self.sum_low + self.sum_high) / 2


class ShiftCounter:
    """Evaluates pair counts of canary xs against baseline ys at any shift."""

    def __init__(self, xs: Sequence[float], ys: Sequence[float]) -> None:
        if not xs or not ys:
            raise ValueError("both samples need at least one value")
        self.xs = sorted(map(float, xs))  # cheap when already sorted, as the judge passes them
        self.ys = sorted(map(float, ys))
        self.n, self.m = len(self.xs), len(self.ys)
        self._ys_then_nan = [*self.ys, math.nan]  # index m (nothing below) compares unequal
        # Tie groups inside each sample survive any shift; only canary-baseline ties vary.
        # (Subtraction could round two distinct canary values together, but only for
        # shifts some 1e16 times their spacing.)
        self.base_ties = sorted_tie_term(self.xs) + sorted_tie_term(self.ys)
        self._shifts: list[float] = []
        self._points: dict[float, ShiftPoint] = {}

    @property
    def lowest(self) -> float:
        return self.xs[0] - self.ys[-1]

    @property
    def highest(self) -> float:
        return self.xs[-1] - self.ys[0]

    def at(self, mu: float) -> ShiftPoint:
        """Counts at shift mu (cached; neighbours already evaluated narrow the search)."""
        point = self._points.get(mu)
        if point is not None:
            return point
        i = bisect_left(self._shifts, mu)
        if 0 < i < len(self._shifts):
            left = self._points[self._shifts[i - 1]]
            right = self._points[self._shifts[i]]
            if left.sum_high - right.sum_low < self.n // 4:
                point = self._between(mu, right.low, left.high)
            else:
                point = self._scan(mu, (right.low, left.high))
        else:
            point = self._scan(mu, ())
        self._points[mu] = point
        insort(self._shifts, mu)
        return point

    def evaluated(self) -> list[tuple[float, ShiftPoint]]:
        """Every shift evaluated so far, ascending."""
        return [(mu, self._points[mu]) for mu in self._shifts]

    def _scan(self, mu: float, bounds: tuple[list[int], list[int]] | tuple[()]) -> ShiftPoint:
        """Every row searched, within (floor, ceiling) when neighbours give them."""
        keys = list(map(sub, self.xs, repeat(mu)))
        low = list(map(bisect_left, repeat(self.ys), keys, *bounds))
        if not self._any_equal(keys, low):
            total = sum(low)
            return ShiftPoint(low, low, total, total, self.base_ties)
        high = list(map(bisect_right, repeat(self.ys), keys, *bounds))
        rows = list(compress(range(self.n), map(ne, high, low)))
        return ShiftPoint(low, high, sum(low), sum(high), self._ties(keys, low, high, rows))

    def _any_equal(self, keys: list[float], low: list[int]) -> bool:
        """Does any x - mu equal a baseline value? The first value not below it would."""
        return any(map(eq, map(self._ys_then_nan.__getitem__, low), keys))

    def _between(self, mu: float, floor: list[int], ceiling: list[int]) -> ShiftPoint:
        """Counts at mu when floor (at a larger shift) and ceiling (smaller) bound them."""
        rows = list(compress(range(self.n), map(ne, ceiling, floor)))
        keys = [self.xs[i] - mu for i in rows]
        los = [floor[i] for i in rows]
        his = [ceiling[i] for i in rows]
        found = list(map(bisect_left, repeat(self.ys), keys, los, his))
        low = floor.copy()  # rows outside `rows` have floor == ceiling: already exact
        for i, v in zip(rows, found, strict=True):
            low[i] = v
        if not self._any_equal(keys, found):
            total = sum(low)
            return ShiftPoint(low, low, total, total, self.base_ties)
        found_high = list(map(bisect_right, repeat(self.ys), keys, los, his))
        high = floor.copy()
        for i, v in zip(rows, found_high, strict=True):
            high[i] = v
        all_keys = dict(zip(rows, keys, strict=True))
        tied = [i for i in rows if high[i] != low[i]]
        ties = self._ties_rows([all_keys[i] for i in tied], [high[i] - low[i] for i in tied])
        return ShiftPoint(low, high, sum(low), sum(high), ties)

    def _ties(self, keys: list[float], low: list[int], high: list[int], rows: list[int]) -> float:
        return self._ties_rows([keys[i] for i in rows], [high[i] - low[i] for i in rows])

    def _ties_rows(self, keys: list[float], equal: list[int]) -> float:
        # A canary group of a equal values meeting b equal baseline values forms one group
        # of a + b: (a+b)^3 - (a+b) = (a^3 - a) + (b^3 - b) + 3ab(a+b).
        groups = Counter(keys)
        matched = dict(zip(keys, equal, strict=True))
        extra = sum(3 * a * matched[v] * (a + matched[v]) for v, a in groups.items())
        return self.base_ties + extra


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
    margin = 8 * math.ulp(max(scale, abs(lo_v), abs(hi_v)))
    # j < start: x - y > hi_v for sure; j >= end: x - y < lo_v for sure
    starts = list(map(bisect_left, repeat(ys), [x - hi_v - margin for x in xs]))
    ends = list(map(bisect_right, repeat(ys), [x - lo_v + margin for x in xs]))
    window = [x - y for x, s, e in zip(xs, starts, ends, strict=True) if e > s for y in ys[s:e]]
    kept = sorted(d for d in window if lo_v <= d <= hi_v)
    below = counter.n * counter.m - sum(ends) + sum(1 for d in window if d < lo_v)
    if not all(below <= k < below + len(kept) for k in ranks):
        return None
    return [kept[k - below] for k in ranks]


def hodges_lehmann(counter: ShiftCounter) -> float:
    """Median of all pairwise differences canary - baseline (the two-sample HL estimator)."""
    n_pairs = counter.n * counter.m
    middle = select_differences(counter, [(n_pairs - 1) // 2, n_pairs // 2])
    return (middle[0] + middle[1]) / 2
