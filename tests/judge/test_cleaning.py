"""Cleaning: NaN strategies, IQR fences on numpy's percentiles, and the record of it (R-A7)."""

from __future__ import annotations

import math
import random

import numpy as np  # the reference (a test dependency, via scipy)
import pytest

from cockpit.judge.cleaning import clean, iqr_fences, percentile


def test_percentile_is_numpy_default_bit_for_bit() -> None:
    rng = random.Random(11)
    for _ in range(500):
        n = rng.randint(1, 120)
        values = sorted(
            rng.choice((rng.gauss(0, 1e3), float(rng.randint(0, 4)), rng.random()))
            for _ in range(n)
        )
        for pct in (0, 1, 25, 50, 75, 99, 100, 33.3):
            assert percentile(values, pct) == float(np.percentile(values, pct))


def test_fences_use_reduced_sensitivity() -> None:
    values = sorted([1.0] * 96 + [2.0, 3.0, 50.0, 100.0])
    low, high = iqr_fences(values, 3.0)
    # IQR is 0, so the Q1/Q3 fences would sit at 1.0; P1/P99 widen them
    assert low == float(np.percentile(values, 1))
    assert high == float(np.percentile(values, 99))


def test_outliers_strictly_outside_the_fences_are_dropped_and_recorded() -> None:
    values = [float(v) for v in range(1, 101)] + [10_000.0]
    kept, record = clean(values, "remove", "remove", 3.0)
    low, high = iqr_fences(sorted(values), 3.0)
    assert record.fence_low == low and record.fence_high == high
    assert record.outliers == sum(1 for v in values if v < low or v > high) == 1
    assert 10_000.0 not in kept and len(kept) == record.points == 100


def test_keep_records_no_fences() -> None:
    kept, record = clean([1.0, 2.0, 1e9], "remove", "keep", 3.0)
    assert kept.tolist() == [1.0, 2.0, 1e9]
    assert (record.fence_low, record.fence_high, record.outliers) == (None, None, 0)


def test_nan_remove_and_replace_are_counted() -> None:
    kept, record = clean([1.0, math.nan, 3.0, math.nan], "remove", "keep", 3.0)
    assert kept.tolist() == [1.0, 3.0] and record.nans == 2 and record.raw_points == 4
    kept, record = clean([1.0, math.nan, 3.0], "replace", "keep", 3.0)
    assert kept.tolist() == [0.0, 1.0, 3.0] and record.nans == 1 and record.points == 3


def test_infinite_values_are_counted() -> None:
    _, record = clean([1.0, math.inf, -math.inf, 2.0], "remove", "remove", 3.0)
    assert record.infinite == 2
    assert record.fence_low is None  # no fences over infinities


def test_unknown_strategies_are_refused() -> None:
    with pytest.raises(ValueError, match="nan_strategy"):
        clean([1.0], "drop", "keep", 3.0)
    with pytest.raises(ValueError, match="outliers"):
        clean([1.0], "remove", "trim", 3.0)
