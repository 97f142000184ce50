"""Counting pairs and selecting differences value by value, for series with few distinct values.

Error counts, queue depths and retry counts take a handful of values, so a thousand points
tie in a few groups. ShiftCounter then keeps every pair tied at a shift as undecided, and
selecting the median difference sorts a large share of all n * m pairs. Here each series
is a list of distinct values with their counts: the differences take at most dx * dy
values, each standing for (canary count) * (baseline count) pairs, and the counts at a
shift come from the cumulative baseline counts. Every comparison is the same rounded
float operation as pair by pair (x - mu against y, x - y), so the numbers are identical.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from cockpit.judge.shift import ShiftCounter
from cockpit.judge.shift_point import Counts, Floats, Mask, ShiftPoint

# Value pairs (distinct canary x distinct baseline values) the grouped path accepts, per
# point of the larger series: it sorts that many differences once, where ShiftCounter
# costs a binary search per point per shift. On 1,000 + 1,000 points the two cost the
# same near 300 distinct values each (90 pairs per point); below 64, grouped wins 2-10x.
PAIRS_PER_POINT = 64
# ... and never more than this many (25 MB of differences, counts and order to select from)
MAX_VALUE_PAIRS = 2**20


class GroupedCounter:
    """Counts of canary xs against baseline ys at any shift, from their distinct values."""

    def __init__(self, xs: tuple[Floats, Counts], ys: tuple[Floats, Counts]) -> None:
        (self.x_values, self.x_counts), (self.y_values, self.y_counts) = xs, ys
        self.n, self.m = int(self.x_counts.sum()), int(self.y_counts.sum())
        # baseline points below the value at each index (index dy: all of them)
        self._below: Counts = np.concatenate(([0], np.cumsum(self.y_counts)))
        self._x_ties = _tie_term(self.x_counts)
        self._y_ties = _tie_term(self.y_counts)
        self.base_ties = float(self._x_ties) + float(self._y_ties)
        self._y_then_nan = np.append(self.y_values, np.nan)  # index dy (nothing above): unequal
        gaps = np.diff(self.x_values)
        self._closest = float(gaps.min()) if len(gaps) else math.inf
        self._reach = float(max(abs(self.x_values[0]), abs(self.x_values[-1])))
        self._points: dict[float, ShiftPoint] = {}
        self._sorted: tuple[Floats, Counts] | None = None

    @property
    def lowest(self) -> float:
        return float(self.x_values[0] - self.y_values[-1])

    @property
    def highest(self) -> float:
        return float(self.x_values[-1] - self.y_values[0])

    def at(self, mu: float) -> ShiftPoint:
        """Counts at shift mu (cached)."""
        point = self._points.get(mu)
        if point is None:
            point = self._points[mu] = self._count(mu)
        return point

    def _count(self, mu: float) -> ShiftPoint:
        keys = self.x_values - mu
        low = self.y_values.searchsorted(keys)
        sum_low = int(self.x_counts @ self._below[low])
        counts, ties = self.x_counts, self.base_ties
        # Distinct canary values closer than an ulp of x - mu become one value once shifted
        # (see ShiftCounter): only possible once the closest two are within 2^-51 (x + |mu|).
        if self._closest <= 2.0**-51 * (self._reach + abs(mu)) and (keys[1:] == keys[:-1]).any():
            starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
            counts, keys, low = np.add.reduceat(counts, starts), keys[starts], low[starts]
            ties = float(self._y_ties) + float(_tie_term(counts))
        # baseline values are distinct: a key meets at most one of them
        tied = self._y_then_nan[low] == keys
        if not tied.any():
            return ShiftPoint(sum_low, sum_low, ties)
        a_s, b_s = counts[tied].tolist(), self.y_counts[low[tied]].tolist()
        # a canary group of a values meeting b equal baseline values forms one group of
        # a + b: (a+b)^3 - (a+b) = (a^3 - a) + (b^3 - b) + 3ab(a+b)
        ties += float(sum(3 * a * b * (a + b) for a, b in zip(a_s, b_s, strict=True)))
        sum_high = sum_low + sum(a * b for a, b in zip(a_s, b_s, strict=True))
        return ShiftPoint(sum_low, sum_high, ties)

    def select(self, ranks: Sequence[int]) -> list[float]:
        """The k-th smallest differences x - y (0-based ranks) among all n * m pairs."""
        if self._sorted is None:
            differences = np.subtract.outer(self.x_values, self.y_values).ravel()
            pairs = np.multiply.outer(self.x_counts, self.y_counts).ravel()
            order = differences.argsort(kind="stable")
            self._sorted = differences[order], np.cumsum(pairs[order])
        differences, through = self._sorted
        return [float(differences[i]) for i in through.searchsorted(ranks, "right").tolist()]


PairCounter = ShiftCounter | GroupedCounter


def pair_counter(xs: Floats, ys: Floats) -> PairCounter:
    """The counter for ascending canary xs and baseline ys: grouped when values repeat a lot.

    Ascending as sorted() orders them (cleaning.ascending): the arrays are kept as given.

    A -0.0 among the values keeps the pair by pair counter: grouping treats it as 0.0, and
    only pair by pair does the sign of a zero difference come out as a full sort gives it.
    """
    if not len(xs) or not len(ys):
        raise ValueError("both samples need at least one value")
    x_new, y_new = xs[1:] != xs[:-1], ys[1:] != ys[:-1]  # where a new value starts
    value_pairs = (np.count_nonzero(x_new) + 1) * (np.count_nonzero(y_new) + 1)
    if (
        value_pairs > min(PAIRS_PER_POINT * max(len(xs), len(ys)), MAX_VALUE_PAIRS)
        or _negative_zero(xs)
        or _negative_zero(ys)
    ):
        return ShiftCounter(xs, ys, ascending=True)
    return GroupedCounter(_grouped(xs, x_new), _grouped(ys, y_new))


def _negative_zero(values: Floats) -> bool:
    if values[0] > 0 or values[-1] < 0:  # ascending: no zero at all
        return False
    zeros = values == 0
    return bool(np.count_nonzero(zeros)) and bool(np.signbit(values[zeros]).any())


def _grouped(ordered: Floats, new: Mask) -> tuple[Floats, Counts]:
    """Distinct values of an ascending array and how often each occurs."""
    starts = np.flatnonzero(np.concatenate(([True], new)))
    return ordered[starts], np.diff(np.append(starts, len(ordered)))


def _tie_term(counts: Counts) -> int:
    """Sum of t^3 - t over groups of t equal values, in exact integers."""
    return sum(t * t * t - t for t in counts.tolist() if t > 1)
