"""What a shift counter keeps: the counts at one shift mu (`cockpit.judge.shift`, `.grouped`),
and the pairs still undecided between two evaluated shifts (`.shift`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Counts = npt.NDArray[np.intp]
Mask = npt.NDArray[np.bool_]


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
class Gap:
    """The pairs (x, y) whose order is undecided between two neighbouring evaluated shifts."""

    xs: Floats
    ys: Floats
    keep: Mask | None = None  # applied on first use: most gaps are never entered
    drop: bool = False  # keep the pairs where `keep` is False instead

    def pairs(self) -> tuple[Floats, Floats]:
        if self.keep is not None:
            keep = ~self.keep if self.drop else self.keep
            self.xs, self.ys, self.keep = self.xs[keep], self.ys[keep], None
        return self.xs, self.ys


@dataclass(slots=True)
class SortedGap:
    """Undecided pairs by their differences x - y. At a shift mu farther than the counter's
    slack from every one of them, y < x - mu exactly when x - y > mu, and nothing ties."""

    diffs: Floats  # this gap's x - y, ascending
    xs: Floats  # the pairs its first gap held (this gap's are some of them) ...
    ys: Floats
    all_diffs: Floats  # ... and their x - y, in the same order
    after: float  # this gap's pairs are those with after < x - y < before
    before: float

    def pairs(self) -> tuple[Floats, Floats]:
        d = self.all_diffs
        keep = (d > self.after) & (d < self.before)
        return self.xs[keep], self.ys[keep]


def ties_rows(keys: list[float], equal: list[int]) -> float:
    """Extra tie term of ascending keys, each meeting equal[i] baseline values.

    A canary group of a equal values meeting b equal baseline values forms one group of
    a + b: (a+b)^3 - (a+b) = (a^3 - a) + (b^3 - b) + 3ab(a+b). Equal keys are neighbours.
    """
    extra = 0
    start = 0
    for stop in range(1, len(keys) + 1):
        if stop == len(keys) or keys[stop] != keys[start]:
            a, b = stop - start, equal[start]
            extra += 3 * a * b * (a + b)
            start = stop
    return float(extra)
