"""Cleaning a metric series before judging: NaN handling and IQR outlier removal, recorded."""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

NAN_STRATEGIES = ("remove", "replace")
OUTLIER_STRATEGIES = ("keep", "remove")


@dataclass(frozen=True, slots=True)
class Cleaning:
    """What cleaning did to one series, so the verdict can show it."""

    raw_points: int
    nan_strategy: str
    nans: int  # NaN values removed, or replaced by 0.0
    infinite: int  # +/-inf values (they make the shift undefined: the metric is an Error)
    outlier_strategy: str
    outlier_factor: float
    fence_low: float | None  # None when outliers are kept
    fence_high: float | None
    outliers: int  # points strictly outside the fences, dropped
    points: int  # what is left to judge

    def to_dict(self) -> dict[str, Any]:
        return {
            "raw_points": self.raw_points,
            "nan_strategy": self.nan_strategy,
            "nans": self.nans,
            "infinite": self.infinite,
            "outlier_strategy": self.outlier_strategy,
            "outlier_factor": self.outlier_factor,
            "fence_low": self.fence_low,
            "fence_high": self.fence_high,
            "outliers": self.outliers,
            "points": self.points,
        }


def percentile(ordered: Sequence[float], pct: float) -> float:
    """numpy.percentile's default (R type 7, linear) on an ascending, non-empty sequence."""
    q = pct / 100
    index = (len(ordered) - 1) * q
    below = math.floor(index)
    above = min(below + 1, len(ordered) - 1)
    gamma = index - below
    a, b = ordered[below], ordered[above]
    # numpy interpolates from the nearer end, which keeps monotonicity in floating point
    if gamma >= 0.5:
        return b - (b - a) * (1 - gamma)
    return a + (b - a) * gamma


def iqr_fences(ordered: Sequence[float], factor: float) -> tuple[float, float]:
    """Kayenta's IQR fences with reduced sensitivity: never inside the 1st/99th percentiles."""
    q1, q3 = percentile(ordered, 25), percentile(ordered, 75)
    iqr = q3 - q1
    low = min(percentile(ordered, 1), q1 - factor * iqr)
    high = max(percentile(ordered, 99), q3 + factor * iqr)
    return low, high


def clean(
    values: Sequence[float], nan_strategy: str, outlier_strategy: str, outlier_factor: float
) -> tuple[list[float], Cleaning]:
    """The cleaned series (ascending) and the record of what was done."""
    if nan_strategy not in NAN_STRATEGIES:
        raise ValueError(f"nan_strategy must be one of {', '.join(NAN_STRATEGIES)}")
    if outlier_strategy not in OUTLIER_STRATEGIES:
        raise ValueError(f"outliers must be one of {', '.join(OUTLIER_STRATEGIES)}")
    raw = list(map(float, values))
    kept = [v for v in raw if v == v] if any(map(math.isnan, raw)) else raw
    nans = len(raw) - len(kept)
    if nans and nan_strategy == "replace":
        kept.extend([0.0] * nans)
    kept = sorted(kept)
    infinite = bisect_right(kept, -math.inf) + len(kept) - bisect_left(kept, math.inf)
    fence_low = fence_high = None
    outliers = 0
    if outlier_strategy == "remove" and kept and not infinite:
        fence_low, fence_high = iqr_fences(kept, outlier_factor)
        inside = [v for v in kept if fence_low <= v <= fence_high]
        outliers = len(kept) - len(inside)
        kept = inside
    record = Cleaning(
        raw_points=len(raw),
        nan_strategy=nan_strategy,
        nans=nans,
        infinite=infinite,
        outlier_strategy=outlier_strategy,
        outlier_factor=outlier_factor,
        fence_low=fence_low,
        fence_high=fence_high,
        outliers=outliers,
        points=len(kept),
    )
    return kept, record
