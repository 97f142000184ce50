"""The k-th smallest differences canary - baseline, and Hodges-Lehmann, without forming them all.

A pair whose baseline value is below x - high at an evaluated shift `high` has
x - y >= high once rounded; one above x - low at an evaluated `low` has x - y <= low.
So the differences strictly between two evaluated shifts are exactly those of the pairs
still undecided between them, which the counter keeps (few, once the shifts are close):
only those are subtracted and sorted.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

import numpy as np

from cockpit.judge.grouped import GroupedCounter, PairCounter
from cockpit.judge.shift import ShiftCounter
from cockpit.judge.shift_point import Floats

# Undecided pairs worth sorting; beyond this, evaluating one more shift is cheaper.
WINDOW = 4096


def select_differences(counter: PairCounter, ranks: Sequence[int]) -> list[float]:
    """The k-th smallest pairwise differences x - y (0-based ranks), as sorting them all would.

    Shifts the counter already evaluated bracket the ranks; more shifts are evaluated
    (interpolating on the counts) until few pairs are undecided in between. If a rank's
    difference turns out to lie on or beyond a bracketing shift, the bracket widens to the
    next evaluated shift (and past the extremes, where every difference lies inside).
    """
    n_pairs = counter.n * counter.m
    kmin, kmax = min(ranks), max(ranks)
    if kmin < 0 or kmax >= n_pairs:
        raise ValueError("rank out of range")
    if isinstance(counter, GroupedCounter):
        return counter.select(ranks)
    low, high = counter.lowest, counter.highest
    counter.at(low)
    counter.at(high)
    for _ in range(64):
        low, high, low_count, high_count = _bracket(counter, kmin, kmax, low, high)
        if high_count - low_count <= WINDOW or not low < high:
            break
        target = (kmin + kmax) / 2
        guess = low + (high - low) * (target - low_count) / max(high_count - low_count, 1)
        mid = (low + high) / 2
        # interpolation when it lands well inside, bisection when it hugs an end
        inside = low + (high - low) / 16 < guess < high - (high - low) / 16
        counter.at(guess if inside else mid)
    while True:
        found = _between(counter, ranks, low, high)
        if not isinstance(found, int):
            return found
        if (found < 0 and low < counter.lowest) or (found > 0 and high > counter.highest):
            # Past the extremes every difference lies inside: counts that still disagree are
            # a bug, and a judge that fails gives an unknown verdict, never a hung worker.
            raise ArithmeticError("the pairwise difference counts disagree: no ranks selected")
        if found < 0:
            low = _next(counter, low, -math.inf)
        else:
            high = _next(counter, high, math.inf)


def hodges_lehmann(counter: PairCounter) -> float:
    """Median of all pairwise differences canary - baseline (the two-sample HL estimator)."""
    n_pairs = counter.n * counter.m
    middle = select_differences(counter, [(n_pairs - 1) // 2, n_pairs // 2])
    return (middle[0] + middle[1]) / 2


def _bracket(
    counter: ShiftCounter, kmin: int, kmax: int, low: float, high: float
) -> tuple[float, float, int, int]:
    """Tightest evaluated shifts with (approximately) ranks kmin..kmax between them.

    Walking up the evaluated shifts: the last one with at most kmin differences below it
    (and not below `low`) is the low end, the first with more than kmax at or below it
    (and not above `high`) the high end. The counts only grow with the shift, so both are
    found by bisection.
    """
    n_pairs = counter.n * counter.m
    shifts = counter.shifts()
    at = counter.at  # every shift here is evaluated: a lookup

    def below(mu: float) -> int:  # differences below mu
        return n_pairs - at(mu).sum_high

    def at_or_below(mu: float) -> int:
        return n_pairs - at(mu).sum_low

    first_above = bisect_right(shifts, kmax, key=at_or_below)
    last = len(shifts) - 1  # the last shift the walk reaches
    found_high = first_above <= last and shifts[first_above] <= high
    if found_high:
        last = first_above
    low_count, high_count = 0, n_pairs
    end = min(bisect_right(shifts, kmin, key=below) - 1, last)
    if end >= 0 and shifts[end] >= low:
        low, low_count = shifts[end], below(shifts[end])
    if found_high:
        high, high_count = shifts[first_above], at_or_below(shifts[first_above])
    return low, high, low_count, high_count


def _next(counter: ShiftCounter, shift: float, towards: float) -> float:
    """The evaluated shift after `shift` towards -inf or +inf, evaluating one past the end."""
    shifts = counter.shifts()
    i = bisect_left(shifts, shift) + (1 if towards > 0 else -1)
    if 0 <= i < len(shifts):
        return shifts[i]
    beyond = math.nextafter(shift, towards)  # every difference lies strictly inside
    counter.at(beyond)
    return beyond


def _between(
    counter: ShiftCounter, ranks: Sequence[int], low: float, high: float
) -> list[float] | int:
    """The ranked differences when they all lie strictly between the evaluated shifts low and
    high; otherwise -1 (a rank lies at or below low) or 1 (at or above high)."""
    shifts = counter.shifts()
    start, stop = bisect_left(shifts, low), bisect_left(shifts, high)
    if stop - start == 1:
        ordered = counter.sorted_differences(low, high)
        if ordered is not None:
            return _between_sorted(counter, ranks, low, high, ordered)
    # pairs tied at an inner shift are undecided on both sides of it: counted once
    parts = [
        counter.differences(below, above, keep_tied=above == high)
        for below, above in zip(shifts[start:stop], shifts[start + 1 : stop + 1], strict=True)
    ]
    differences = np.concatenate(parts) if parts else np.empty(0)  # a new array
    decided = counter.n * counter.m - counter.at(low).sum_high  # differences below low
    below_low = decided + int(np.count_nonzero(differences <= low))
    if min(ranks) < below_low:
        return -1
    if low < 0.0 < high:  # zeros inside: their signs may need the order of a full sort
        inside = differences[(low < differences) & (differences < high)]
        if max(ranks) >= below_low + len(inside):
            return 1
        zeros = inside == 0
        if np.count_nonzero(zeros) and np.signbit(inside[zeros]).any():
            kept = np.sort(inside)
            _order_zeros(counter, kept)
            return [float(kept[k - below_low]) for k in ranks]
        inside.partition(sorted({k - below_low for k in ranks}))  # a new array: in place
        return [float(inside[k - below_low]) for k in ranks]
    if max(ranks) >= decided + int(np.count_nonzero(differences < high)):
        return 1
    # Otherwise equal differences are equal bits, and those at or below low come first,
    # those at or above high last: a rank's place among all undecided differences is its
    # place among those strictly between.
    differences.partition(sorted({k - decided for k in ranks}))
    return [float(differences[k - decided]) for k in ranks]


def _between_sorted(
    counter: ShiftCounter, ranks: Sequence[int], low: float, high: float, ordered: Floats
) -> list[float] | int:
    """_between when the differences between low and high are one ascending array: counts
    by bisection and the ranked ones read off, instead of a copy partitioned. Equal
    differences are equal bits (zeros of both signs are left to _between's sort)."""
    decided = counter.n * counter.m - counter.at(low).sum_high  # differences below low
    after_low = int(ordered.searchsorted(low, "right"))
    below_low = decided + after_low
    if min(ranks) < below_low:
        return -1
    before_high = int(ordered.searchsorted(high, "left"))
    if max(ranks) >= decided + before_high:
        return 1
    if low < 0.0 < high:  # zeros inside: their signs may need the order of a full sort
        inside = ordered[after_low:before_high]
        zeros = inside[inside.searchsorted(0.0) : inside.searchsorted(0.0, "right")]
        if len(zeros) and np.signbit(zeros).any():
            kept = inside.copy()
            _order_zeros(counter, kept)
            return [float(kept[k - below_low]) for k in ranks]
    return [float(ordered[k - decided]) for k in ranks]


def _order_zeros(counter: ShiftCounter, ordered: np.ndarray) -> None:
    """Put the zero differences back as sorting every difference, row by row, lists them.

    Equal floats are indistinguishable except -0.0 and 0.0: -0.0 - 0.0 is the only pair
    giving -0.0, a stable sort of all differences (ascending canary, then baseline) keeps
    them in that order, and numpy's default sort may even turn -0.0 into 0.0.
    """
    zeros = slice(ordered.searchsorted(0.0), ordered.searchsorted(0.0, "right"))
    xs, ys = counter.xs, counter.ys
    starts, stops = ys.searchsorted(xs).tolist(), ys.searchsorted(xs, "right").tolist()
    in_order = [
        x - y
        for x, start, stop in zip(xs.tolist(), starts, stops, strict=True)
        for y in ys[start:stop].tolist()
    ]
    assert len(in_order) == zeros.stop - zeros.start
    ordered[zeros] = in_order
