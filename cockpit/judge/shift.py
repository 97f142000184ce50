"""Counting canary-minus-baseline pairs around a shift, without ranking at every step.

Kayenta's interval ranks (x - mu) with y at every root-finder step. Those ranks only
matter through the number of pairs with x - mu above y (ties count 1/2) and the tie
groups, so a binary search per canary point (or one merge of both series in C,
`.merge_count`, or one sort of them, `.sorted_below`) gives the same numbers. Once two
evaluated shifts bracket the next one, only the pairs whose order can still change between
them are compared again, and they are kept (few by then) for the shifts evaluated after it.
Kept with their differences x - y sorted, the next shifts inside count them with two
binary searches, as long as no difference lies within a few ulps of the shift.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence

import numpy as np

from cockpit.judge.mannwhitney import sorted_tie_term
from cockpit.judge.merge_count import MergeCount
from cockpit.judge.shift_point import Counts, Floats, Gap, ShiftPoint, SortedGap, ties_rows
from cockpit.judge.sorted_below import SortedBelow

_add_reduce = np.add.reduce  # the ufunc itself: ndarray.sum goes through a Python wrapper
_minimum = np.minimum.reduce
_count_nonzero = np.count_nonzero
_NAN = np.array([math.nan])

# Below this many undecided pairs, comparing them one by one (and keeping the ones still
# undecided) beats a binary search per canary point; 2,048 measured best on bench.judge,
# 8,192 about 10% slower.
PAIR_LIMIT = 2048
# A shift close to an evaluated one moves each canary point past few baseline values:
# stepping them there (a few vector compares) beats a binary search per point when, on
# average, under this many pairs per canary point change order in between...
WALK_EXPECTED = 0.5
# ... and gives up for the binary search after this many steps.
WALK_STEPS = 3


class ShiftCounter:
    """Evaluates pair counts of canary xs against baseline ys at any shift."""

    def __init__(
        self,
        xs: Sequence[float] | Floats,
        ys: Sequence[float] | Floats,
        *,
        ascending: bool = False,
    ) -> None:
        """ascending: xs and ys are float64 arrays in the order sorted() gives (the judge's
        cleaned series), kept as they are; else they are sorted here."""
        if not len(xs) or not len(ys):
            raise ValueError("both samples need at least one value")
        if ascending:
            self.xs: Floats = np.asarray(xs, dtype=np.float64)
            self.ys: Floats = np.asarray(ys, dtype=np.float64)
        else:  # stable, as Python's sorted: equal values (0.0 and -0.0) keep their order
            self.xs = np.sort(np.asarray(xs, dtype=np.float64), kind="stable")
            self.ys = np.sort(np.asarray(ys, dtype=np.float64), kind="stable")
        self.n, self.m = len(self.xs), len(self.ys)
        self._ys_then_nan = np.concatenate((self.ys, _NAN))  # index m (nothing below): unequal
        self._nan_then_ys: Floats | None = None  # [k] is ys[k - 1]: made for a walk down
        # Tie groups inside the baseline survive any shift, and so do equal canary values.
        # But x - mu is rounded, as in Kayenta's ranking: distinct canary values closer than
        # an ulp of x - mu tie there (0.0333... one ulp apart, shifted by 5). That can only
        # happen once the closest two are within 2^-51 (x + |mu|); below, no tie term moves.
        self._baseline_ties = _tie_term(self.ys)
        gaps = self.xs[1:] - self.xs[:-1]
        if math.isinf(self.xs[0]) or math.isinf(self.xs[-1]):  # inf - inf is NaN, not 0
            repeats = _count_nonzero(self.xs[1:] == self.xs[:-1])
        else:  # x' - x is 0 exactly when x' == x (subnormals: no difference rounds to 0)
            repeats = self.n - 1 - _count_nonzero(gaps)
        self.base_ties = (
            sorted_tie_term(self.xs.tolist()) if repeats else 0.0
        ) + self._baseline_ties
        if repeats or math.isnan(self.xs[-1]):  # else every gap is already positive
            gaps = gaps[gaps > 0]
        self._closest = float(_minimum(gaps)) if len(gaps) else math.inf
        self._reach = float(max(abs(self.xs[0]), abs(self.xs[-1])))
        self._y_first, self._y_last = float(self.ys[0]), float(self.ys[-1])
        # x - mu has at least 3/4 of its points inside the baseline's range when these two
        # (the points an eighth from each end, shifted) are
        eighth = self.n // 8
        self._x_inner = float(self.xs[eighth]), float(self.xs[self.n - 1 - eighth])
        # x - y and x - mu are each within 2^-53 of exact: a difference farther than
        # 2^-50 (2|x| + |y| + |mu|) from mu decides y < x - mu (8 times the error bound)
        self._slack = 2.0**-50 * (2 * self._reach + max(-self._y_first, self._y_last))
        if math.isnan(self.xs[-1]) or math.isnan(self.ys[-1]):  # NaN sorts last
            self._slack = math.inf  # a NaN difference compares with nothing: pair by pair
        self._ends: tuple[Counts, Counts] | None = None  # counts 0 and m, made when needed
        self._merge = MergeCount.pays(self.xs, self._ys_then_nan)  # built with a compiler
        self._sorted = None if self._merge else SortedBelow.pays(self.ys, self.n)
        self._shifts: list[float] = []
        self._points: dict[float, ShiftPoint] = {}
        self._gaps: dict[float, Gap | SortedGap] = {}  # by the lower shift of the gap

    @property
    def lowest(self) -> float:
        return float(self.xs[0] - self.ys[-1])

    @property
    def highest(self) -> float:
        return float(self.xs[-1] - self.ys[0])

    def at(self, mu: float) -> ShiftPoint:
        """Counts at shift mu (cached; neighbours already evaluated narrow the work)."""
        points = self._points
        point = points.get(mu)
        if point is not None:
            return point
        shifts = self._shifts
        i = bisect_left(shifts, mu)
        if 0 < i < len(shifts):
            below, above = shifts[i - 1], shifts[i]
            floor, ceiling = points[above], points[below]
            undecided = ceiling.sum_high - floor.sum_low
            if not undecided:  # no pair can change order (or tie) in between
                ties = self.ties_without_pairs(mu)
                point = ShiftPoint(floor.sum_low, floor.sum_low, ties)
            else:
                gap = self._gaps.pop(below, None)
                if gap is None and undecided <= PAIR_LIMIT:
                    gap = self._new_gap(self._rows(above)[0], self._rows(below)[1])
                if gap is not None:
                    point = self._count_pairs(mu, gap, floor.sum_low, below)
                else:
                    near = below if mu - below < above - mu else above
                    moved = undecided * abs(mu - near) / (above - below) / self.n  # if uniform
                    if moved < WALK_EXPECTED and points[near].low is not None:
                        point = self._count_points(mu, near)
                    else:
                        point = self._count_points(mu)
        else:
            point = self._count_points(mu)
        points[mu] = point
        shifts.insert(i, mu)  # nothing above added a shift
        return point

    def shifts(self) -> list[float]:
        """Every shift evaluated so far, ascending (a copy)."""
        return self._shifts[:]

    def evaluated(self) -> list[tuple[float, ShiftPoint]]:
        """Every shift evaluated so far, ascending."""
        return [(mu, self._points[mu]) for mu in self._shifts]

    def undecided(self, below: float, above: float) -> tuple[Floats, Floats]:
        """The pairs (x, y) whose order can change between two neighbouring evaluated shifts.

        Every other pair is decided: y < x - above already at `above`, or y > x - below
        still at `below`.
        """
        floor, ceiling = self._points[above], self._points[below]
        if ceiling.sum_high == floor.sum_low:
            return self.xs[:0], self.ys[:0]
        gap = self._gaps.get(below)
        if gap is not None:
            return gap.pairs()
        return self.pairs_between(self._rows(above)[0], self._rows(below)[1])

    def _rows(self, mu: float) -> tuple[Counts, Counts]:
        """The per-point counts (low, high) at an evaluated shift, counted again if the shift
        was counted without them (an outer one, or one inside a gap)."""
        point = self._points[mu]
        if point.low is None or point.high is None:
            keys = self.xs - mu
            again = self._with_ties(mu, keys, self._search(keys))
            point.low, point.high = again.low, again.high
        assert point.low is not None and point.high is not None
        return point.low, point.high

    def sorted_differences(self, below: float, above: float) -> Floats | None:
        """differences(below, above, keep_tied=True) when the counter keeps them ascending
        (a gap of sorted differences), else None."""
        gap = self._gaps.get(below)
        return gap.diffs if isinstance(gap, SortedGap) else None

    def differences(self, below: float, above: float, keep_tied: bool) -> Floats:
        """x - y of the pairs undecided between two neighbouring evaluated shifts; those tied
        at `above` (undecided on both sides of it) only with keep_tied."""
        gap = self._gaps.get(below)
        if isinstance(gap, SortedGap) and (keep_tied or gap.before == above):
            return gap.diffs  # split at `above` with no difference near it: none tied there
        xs, ys = self.undecided(below, above)
        if not keep_tied and len(xs):
            tied = ys == xs - above
            if np.count_nonzero(tied):
                xs, ys = xs[~tied], ys[~tied]
        return xs - ys

    def pairs_between(self, start: Counts, stop: Counts) -> tuple[Floats, Floats]:
        """Every pair (x_i, y_j) with start[i] <= j < stop[i], canary point by canary point."""
        width = stop - start
        ends = width.cumsum()
        index = np.arange(int(ends[-1])) + (stop - ends).repeat(width)  # start - row's first
        return self.xs.repeat(width), self.ys.take(index)

    def _new_gap(self, start: Counts, stop: Counts) -> Gap | SortedGap:
        xs, ys = self.pairs_between(start, stop)
        if not math.isfinite(self._slack):
            return Gap(xs, ys)
        diffs = xs - ys
        ordered = diffs.copy()
        ordered.sort()  # as np.sort does, without its wrapper
        return SortedGap(ordered, xs, ys, diffs, -math.inf, math.inf)

    def ties_without_pairs(self, mu: float, keys: Floats | None = None) -> float:
        """Sum of t^3 - t at shift mu over the tie groups inside each sample (keys: xs - mu)."""
        if self._closest > 2.0**-51 * (self._reach + abs(mu)):
            return self.base_ties
        return self._baseline_ties + _tie_term(self.xs - mu if keys is None else keys)

    def _count_points(self, mu: float, near: float | None = None) -> ShiftPoint:
        """Per canary point, the baseline values below x - mu: stepped from the counts at an
        evaluated shift `near`, or by binary search. Exact because x - mu is rounded as
        Kayenta does. Where x - mu barely meets the baseline, the per-point counts are not
        kept (made again if ever needed)."""
        first, last = self._x_inner
        inner = first - mu > self._y_first and last - mu <= self._y_last
        if inner and near is None and self._merge is not None:
            merged = self._merge.at(mu)  # at least 3/4 of x - mu inside: merge them all
            if merged is not None:
                return self._with_ties(mu, None, *merged)
        keys = self.xs - mu
        low = None if near is None else self._walk(keys, near, mu > near)
        if low is None:
            if inner:
                low = self._below(keys)  # at least 3/4 of them inside: all
            else:
                outer = self._count_outer(mu, keys)
                if outer is not None:
                    return outer
                low = self._search(keys)
        return self._with_ties(mu, keys, low)

    def _with_ties(
        self, mu: float, keys: Floats | None, low: Counts, merged: tuple[int, int] | None = None
    ) -> ShiftPoint:
        """The counts at mu from the baseline values below each x - mu (keys, made here when
        None), with the ties; merged: their sum and how many points meet a baseline value."""
        if self._closest > 2.0**-51 * (self._reach + abs(mu)):  # ties_without_pairs, inline
            inside = self.base_ties
        else:
            keys = self.xs - mu if keys is None else keys
            inside = self.ties_without_pairs(mu, keys)
        if merged is not None and not merged[1]:
            return ShiftPoint(merged[0], merged[0], inside, low, low)
        keys = self.xs - mu if keys is None else keys
        tied = self._ys_then_nan.take(low) == keys  # x - mu meets a baseline value
        if not _count_nonzero(tied):
            total = int(_add_reduce(low))
            return ShiftPoint(total, total, inside, low, low)
        # only the tied points need the search for values at or below them
        at = tied.nonzero()[0]
        tied_keys = keys[at]
        equal = self.ys.searchsorted(tied_keys, "right") - low[at]
        high = low.copy()
        high[at] += equal  # distinct indices: each point once
        ties = inside + ties_rows(tied_keys.tolist(), equal.tolist())
        sum_low = int(_add_reduce(low))
        return ShiftPoint(sum_low, sum_low + int(_add_reduce(equal)), ties, low, high)

    def _count_outer(self, mu: float, keys: Floats) -> ShiftPoint | None:
        """The counts at a shift where at most an eighth of x - mu lies inside the baseline's
        range (the interval's outer shifts): points at or below the first baseline value
        have none below them, points beyond the last have all m; only the rest are searched.
        None when more lie inside."""
        n, eighth = self.n, self.n // 8
        first = self._y_first
        start = int(keys.searchsorted(first, "right"))
        stop = int(keys.searchsorted(self._y_last, "right"))
        if stop - start > eighth:
            return None
        sum_low = self.m * (n - stop)
        if self._closest > 2.0**-51 * (self._reach + abs(mu)):
            ties = self.base_ties
        else:
            ties = self.ties_without_pairs(mu, keys)
        # x - mu meets a baseline value: equal to the first one (the last points at or below
        # it), or inside; a point is never tied beyond the last value
        at_first = start - int(keys.searchsorted(first, "left")) if start else 0
        tied_keys: list[float] = [first] * at_first
        equal = [int(self.ys.searchsorted(first, "right"))] * at_first if at_first else []
        if stop == start:  # none inside
            tied = None
        else:
            middle = keys[start:stop]
            low = self.ys.searchsorted(middle)
            sum_low += int(_add_reduce(low))
            tied = self._ys_then_nan.take(low) == middle
        if tied is not None and _count_nonzero(tied):
            at = tied.nonzero()[0]
            tied_keys += middle[at].tolist()
            equal += (self.ys.searchsorted(middle[at], "right") - low[at]).tolist()
        if not tied_keys:
            return ShiftPoint(sum_low, sum_low, ties)
        return ShiftPoint(sum_low, sum_low + sum(equal), ties + ties_rows(tied_keys, equal))

    def _search(self, keys: Floats) -> Counts:
        """ys.searchsorted(keys, "left"), searching only the keys inside the baseline's range.

        Far from the middle (the interval's outer shifts, the first steps of the root
        finder) most of x - mu lies beyond every baseline value or at or below the first.
        """
        ys, n = self.ys, self.n
        if keys[n // 8] > self._y_first and keys[n - 1 - n // 8] <= self._y_last:
            return self._below(keys)  # at least 3/4 of them inside: search them all
        start = int(keys.searchsorted(self._y_first, "right"))  # none below these keys
        stop = int(keys.searchsorted(self._y_last, "right"))  # all m below the rest
        if self._ends is None:
            self._ends = np.zeros(n, dtype=np.intp), np.full(n, self.m, dtype=np.intp)
        none, every = self._ends
        middle = keys[start:stop]
        low = None if self._merge is None else self._merge.below(middle)
        if low is None:
            low = ys.searchsorted(middle)
        return np.concatenate((none[:start], low, every[stop:]))

    def _below(self, keys: Floats) -> Counts:
        """ys.searchsorted(keys, "left") for all n keys (x - mu)."""
        if self._merge is not None:
            low = self._merge.below(keys)
            if low is not None:
                return low
        if self._sorted is not None:
            low = self._sorted.below(keys)
            if low is not None:
                return low
        return self.ys.searchsorted(keys)

    def _walk(self, keys: Floats, near: float, down: bool) -> Counts | None:
        """searchsorted(ys, keys) from its answer at `near`, or None after WALK_STEPS steps."""
        low = self._points[near].low
        assert low is not None
        for _ in range(WALK_STEPS):
            # smaller keys step back past baseline values at or above them, larger ones on
            # past values below them
            if down:
                if self._nan_then_ys is None:
                    self._nan_then_ys = np.concatenate((_NAN, self.ys))
                move = self._nan_then_ys.take(low) >= keys
            else:
                move = self._ys_then_nan.take(low) < keys
            if not np.count_nonzero(move):
                return low
            low = low - move if down else low + move
        return None

    def _count_pairs(self, mu: float, gap: Gap | SortedGap, floor: int, below: float) -> ShiftPoint:
        """Counts at mu from the undecided pairs of its gap; every other pair is decided."""
        if isinstance(gap, SortedGap):
            slack = self._slack + 2.0**-50 * abs(mu) + 2.0**-1060
            diffs = gap.diffs
            start = int(diffs.searchsorted(mu - slack, "left"))
            stop = int(diffs.searchsorted(mu + slack, "right"))
            if start == stop and math.isfinite(slack):  # no difference near mu: no tie
                self._gaps[below] = SortedGap(
                    diffs[:start], gap.xs, gap.ys, gap.all_diffs, gap.after, mu
                )
                self._gaps[mu] = SortedGap(
                    diffs[stop:], gap.xs, gap.ys, gap.all_diffs, mu, gap.before
                )
                below_x = floor + len(diffs) - stop
                return ShiftPoint(below_x, below_x, self.ties_without_pairs(mu))
            gap = Gap(*gap.pairs())  # compared pair by pair from here on
        xs, ys = gap.pairs()
        keys = xs - mu
        lower = ys < keys
        at_or_lower = ys <= keys
        n_low, n_high = int(np.count_nonzero(lower)), int(np.count_nonzero(at_or_lower))
        # The gap splits at mu: pairs not below x - mu stay undecided on the left, the rest
        # on the right (per canary point these are the floor..ceiling ranges again).
        self._gaps[below] = Gap(xs, ys, lower, drop=True)
        self._gaps[mu] = Gap(xs, ys, at_or_lower)
        ties = self.ties_without_pairs(mu)
        if n_high != n_low:
            ties += self._ties_pairs(keys[at_or_lower & ~lower].tolist())
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
        return float(extra)


def _tie_term(ordered: Floats) -> float:
    """sorted_tie_term, skipping the conversion when no neighbours are equal."""
    return sorted_tie_term(ordered.tolist()) if _count_nonzero(ordered[1:] == ordered[:-1]) else 0.0
