"""Cleaning a metric series before judging: NaN handling and IQR outlier removal, recorded."""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import TypeAlias

    import numpy as np
    import numpy.typing as npt

    # A series as given (any sequence of numbers) or as the judge converted it.
    Series: TypeAlias = Sequence[float] | npt.NDArray[np.float64]

OUT_OF_RANGE = "number out of range (binary64 holds at most about 1.8e308)"
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


def percentile(ordered: Sequence[float] | npt.NDArray[Any], pct: float) -> float:
    """numpy.percentile's default (R type 7, linear) on an ascending, non-empty sequence."""
    q = pct / 100
    index = (len(ordered) - 1) * q
    below = math.floor(index)
    above = min(below + 1, len(ordered) - 1)
    gamma = index - below
    a, b = float(ordered[below]), float(ordered[above])
    # numpy interpolates from the nearer end, which keeps monotonicity in floating point
    if gamma >= 0.5:
        return b - (b - a) * (1 - gamma)
    return a + (b - a) * gamma


def iqr_fences(ordered: Sequence[float] | npt.NDArray[Any], factor: float) -> tuple[float, float]:
    """Kayenta's IQR fences with reduced sensitivity: never inside the 1st/99th percentiles."""
    q1, q3 = percentile(ordered, 25), percentile(ordered, 75)
    iqr = q3 - q1
    low = min(percentile(ordered, 1), q1 - factor * iqr)
    high = max(percentile(ordered, 99), q3 + factor * iqr)
    return low, high


def floats(values: Series, path: str = "values") -> npt.NDArray[np.float64]:
    """The values as a new float64 array (None, like null in a document, reads as NaN).

    An integer too large for binary64 raises ValueError naming `path` and its index.
    """
    import numpy as np  # loaded on first use: `import cockpit.judge` stays light

    if type(values) is list and values:
        # a list of numbers packs 3x faster than numpy converts it (each by its __float__,
        # as numpy does); None, text, nesting or overflow are numpy's to handle below
        converted = np.empty(len(values), dtype=np.float64)
        try:
            struct.pack_into(f"{len(values)}d", converted.data, 0, *values)
        except (struct.error, TypeError, OverflowError):
            pass
        else:
            return converted
    try:
        return np.array(values, dtype=np.float64)
    except OverflowError:
        for i, value in enumerate(values):
            if isinstance(value, int) and abs(value) >= 2**1024:
                raise ValueError(f"{path}[{i}]: {OUT_OF_RANGE}") from None
        raise


def ascending(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Sorted exactly as Python's sorted() would sort the floats (a new array).

    Equal floats are indistinguishable except -0.0 and 0.0, and numpy's fast default sort
    may even turn -0.0 into 0.0; the stable sort keeps both, in Python's order.
    """
    import numpy as np

    ordered = np.sort(values)
    if len(ordered) and (ordered[0] > 0.0 or ordered[-1] < 0.0):  # no zero (NaN sorts last)
        return ordered
    zeros = values == 0
    if np.count_nonzero(zeros) and np.signbit(values[zeros]).any():
        return np.sort(values, kind="stable")
    return ordered


def clean(
    values: Series, nan_strategy: str, outlier_strategy: str, outlier_factor: float
) -> tuple[npt.NDArray[np.float64], Cleaning]:
    """The cleaned series (ascending, float64) and the record of what was done."""
    import numpy as np

    if nan_strategy not in NAN_STRATEGIES:
        raise ValueError(f"nan_strategy must be one of {', '.join(NAN_STRATEGIES)}")
    if outlier_strategy not in OUTLIER_STRATEGIES:
        raise ValueError(f"outliers must be one of {', '.join(OUTLIER_STRATEGIES)}")
    if isinstance(values, np.ndarray) and values.dtype == np.float64:
        raw: npt.NDArray[np.float64] = values  # judge()'s own arrays: only read, not copied
    else:
        raw = floats(values)
    if raw.ndim == 1 and np.count_nonzero(np.isfinite(raw)) == len(raw):  # nothing to drop
        nans = infinite = 0
        kept = ascending(raw)
    else:
        missing = np.isnan(raw)
        nans = int(np.count_nonzero(missing))
        kept = raw[~missing] if nans else raw
        if nans and nan_strategy == "replace":
            kept = np.concatenate((kept, np.zeros(nans)))
        kept = ascending(kept)
        infinite = int(np.count_nonzero(np.isinf(kept)))
    fence_low = fence_high = None
    outliers = 0
    if outlier_strategy == "remove" and len(kept) and not infinite:
        fence_low, fence_high = iqr_fences(kept, outlier_factor)
        inside = kept[(fence_low <= kept) & (kept <= fence_high)]
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
