"""The value-by-value counter for tied series: exact against brute force, chosen when it pays."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from cockpit.judge import grouped as grouped_module
from cockpit.judge.classify import classify
from cockpit.judge.cleaning import ascending
from cockpit.judge.grouped import GroupedCounter, pair_counter
from cockpit.judge.inputs import DIRECTIONS, JudgeConfig, MetricInput
from cockpit.judge.selection import hodges_lehmann, select_differences
from cockpit.judge.shift import ShiftCounter

from .test_counting import _ulp_apart, bits, brute


def grouped(x: list[float], y: list[float]) -> GroupedCounter:
    """The grouped counter, whether or not pair_counter would choose it for these sizes."""
    x_values, x_counts = np.unique(np.array(x), return_counts=True)
    y_values, y_counts = np.unique(np.array(y), return_counts=True)
    return GroupedCounter((x_values, x_counts), (y_values, y_counts))


def tied(rng: random.Random, size: int) -> list[float]:
    """Counts with up to 20 distinct values, some negative, some in tenths."""
    distinct = rng.randint(2, 20)
    step = rng.choice((1.0, 0.1, 1e6 + 0.5))
    offset = rng.choice((0, -5))
    return [step * (offset + rng.randint(0, distinct - 1)) for _ in range(size)]


@pytest.mark.parametrize("seed", range(16))
def test_grouped_counts_match_brute_force_at_any_shift(seed: int) -> None:
    rng = random.Random(seed)
    x, y = tied(rng, rng.randint(60, 400)), tied(rng, rng.randint(60, 400))
    counter = grouped(x, y)
    xs, ys = np.array(sorted(x)), np.array(sorted(y))
    shifts = [0.0, counter.lowest, counter.highest]
    shifts += [rng.uniform(counter.lowest, counter.highest) for _ in range(20)]
    exact = [rng.choice(x) - rng.choice(y) for _ in range(15)]  # where pairs tie
    shifts += exact + [math.nextafter(d, rng.choice((-math.inf, math.inf))) for d in exact]
    for mu in shifts:
        point = counter.at(mu)
        assert (point.sum_low, point.sum_high, point.ties) == brute(xs, ys, mu), mu


@pytest.mark.parametrize("seed", range(4))
def test_grouped_canary_values_one_ulp_apart_merge_after_the_shift(seed: int) -> None:
    """x - mu is rounded: distinct canary values an ulp apart become one group at mu = 5."""
    rng = random.Random(seed)
    x = [v for v in _ulp_apart(rng, 8) for _ in range(20)]
    y = [v for v in _ulp_apart(rng, 6) for _ in range(25)]
    counter = grouped(x, y)
    xs, ys = np.array(sorted(x)), np.array(sorted(y))
    for mu in (5.0, -5.0, 0.5, -1 / 30, 0.0, counter.lowest, counter.highest):
        point = counter.at(mu)
        assert (point.sum_low, point.sum_high, point.ties) == brute(xs, ys, mu), mu
    assert counter.at(5.0).ties != counter.at(0.0).ties


@pytest.mark.parametrize("seed", range(12))
def test_grouped_selection_matches_sorting_every_difference(seed: int) -> None:
    rng = random.Random(100 + seed)
    x, y = tied(rng, rng.randint(1, 120)), tied(rng, rng.randint(1, 120))
    everything = sorted(a - b for a in sorted(x) for b in sorted(y))
    ranks = list(range(len(everything)))
    assert bits(select_differences(grouped(x, y), ranks)) == bits(everything)
    middle = (everything[(len(everything) - 1) // 2] + everything[len(everything) // 2]) / 2
    assert bits([hodges_lehmann(grouped(x, y))]) == bits([middle])


def test_tied_series_are_counted_by_value_and_continuous_ones_pair_by_pair() -> None:
    rng = random.Random(7)
    counts = ascending(np.array([float(rng.randint(0, 19)) for _ in range(1000)]))
    latencies = ascending(np.array([rng.lognormvariate(5, 0.25) for _ in range(1000)]))
    assert isinstance(pair_counter(counts, counts), GroupedCounter)
    assert isinstance(pair_counter(latencies, latencies), ShiftCounter)
    hundreds = ascending(np.array([float(rng.randint(0, 399)) for _ in range(1000)]))
    assert isinstance(pair_counter(hundreds, hundreds), ShiftCounter)  # 160,000 value pairs
    assert isinstance(pair_counter(counts, latencies), GroupedCounter)  # 20,000


def test_a_negative_zero_keeps_the_pair_by_pair_counter() -> None:
    """Grouping would read -0.0 as 0.0; only pair by pair keeps the sign of a zero median."""
    x = ascending(np.array([-0.0, -0.0, 0.0] * 40))
    y = ascending(np.array([0.0] * 60))
    assert isinstance(pair_counter(x, y), ShiftCounter)
    assert isinstance(pair_counter(np.abs(x), y), GroupedCounter)


@pytest.mark.parametrize("seed", range(10))
def test_judging_tied_metrics_by_value_or_pair_by_pair_gives_identical_results(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every number and word of the verdict: U, p, interval, estimate, Hodges-Lehmann."""
    rng = random.Random(900 + seed)
    config = JudgeConfig(run_id=f"tied-{seed}", min_points=5)
    metrics = []
    for i in range(4):
        x = tied(rng, rng.randint(30, 600))
        lift = rng.choice((0.0, 1.0, -1.0, 3.0)) * max(abs(v) for v in x) / 10
        y = [v + lift for v in tied(rng, rng.randint(30, 600))]
        metrics.append(MetricInput(f"m{i}", y, x, direction=rng.choice(DIRECTIONS)))
    monkeypatch.setattr(grouped_module, "PAIRS_PER_POINT", 10**9)
    by_value = [classify(m, config) for m in metrics]
    monkeypatch.setattr(grouped_module, "PAIRS_PER_POINT", 0)
    pair_by_pair = [classify(m, config) for m in metrics]
    assert [r.to_dict() for r in by_value] == [r.to_dict() for r in pair_by_pair]
