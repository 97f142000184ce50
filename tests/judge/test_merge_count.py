"""The C merge (cockpit/judge/_merge.c) counts exactly what numpy's binary searches count.

The extension is optional (setup.py): a developer's machine without a C compiler installs
without it and these tests skip, saying so; under CI=true, where `.ci/run` installs a
compiler, a missing module fails them instead.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.judge import judge, merge_count
from cockpit.judge.shift import ShiftCounter
from tests.binaries import built

from .test_counting import brute
from .test_fast_paths import _positive, edge_shifts
from .test_same_results import generated


@pytest.fixture(scope="module")
def merge():  # type: ignore[no-untyped-def]
    """The built module; skip without it, fail under CI=true."""
    built("cockpit.judge._merge", merge_count.available())
    return merge_count._merge


def then_nan(ys: np.ndarray) -> np.ndarray:
    return np.concatenate((ys, [math.nan]))


def merged(merge, xs: np.ndarray, ys: np.ndarray, mu: float):  # type: ignore[no-untyped-def]
    out = np.full(len(xs), -1, dtype=np.intp)
    got = merge.below(xs, then_nan(ys), mu, out)
    return out, got


def searched(xs: np.ndarray, ys: np.ndarray, mu: float) -> tuple[np.ndarray, int, int]:
    with np.errstate(over="ignore"):  # 1e308 - -1e308 is inf, in C as in numpy
        keys = xs - mu
    low = ys.searchsorted(keys)
    tied = int(np.count_nonzero(then_nan(ys).take(low) == keys))
    return low, int(low.sum()), tied


# Values where rounding and ordering bite: signed zeros, subnormals, neighbours one ulp
# apart, huge magnitudes whose difference overflows, and plain repeats.
awkward = st.sampled_from(
    [0.0, -0.0, 5e-324, -5e-324, 1.0, math.nextafter(1.0, 2.0), 1e308, -1e308, 0.1, 0.3, 2.5]
)
finite = st.floats(allow_nan=False, allow_infinity=False)
values = st.lists(st.one_of(finite, awkward), min_size=1, max_size=60)


@settings(max_examples=400, deadline=None)
@given(xs=values, ys=values, mu=st.one_of(finite, awkward, st.just(math.inf), st.just(-math.inf)))
def test_the_merge_counts_what_the_binary_searches_count(merge, xs, ys, mu) -> None:  # type: ignore[no-untyped-def]
    xs_, ys_ = np.sort(np.array(xs)), np.sort(np.array(ys))
    out, got = merged(merge, xs_, ys_, mu)
    low, total, tied = searched(xs_, ys_, mu)
    assert got == (total, tied)
    assert out.tolist() == low.tolist()


def test_the_merge_is_exact_where_most_pairs_are_close(merge) -> None:  # type: ignore[no-untyped-def]
    """1,000 + 1,000 points at the shifts a root finder visits, ties on purpose."""
    rng = np.random.default_rng(20261206)
    for kind in range(3):
        ys = rng.lognormal(0, 0.25, 1000) * 100
        xs = rng.lognormal(0.02, 0.25, 1000) * 100
        if kind == 1:  # integer counts: nearly every point ties at integer shifts
            xs, ys = np.floor(xs / 10), np.floor(ys / 10)
        if kind == 2:  # different lengths, baseline longer
            xs = xs[:137]
        xs, ys = np.sort(xs), np.sort(ys)
        diffs = (xs[:, None] - ys[None, :]).ravel()
        for mu in [*rng.choice(diffs, 40), *rng.uniform(-60, 60, 40), 0.0, -0.0]:
            out, got = merged(merge, xs, ys, float(mu))
            low, total, tied = searched(xs, ys, float(mu))
            assert got == (total, tied), (kind, mu)
            assert np.array_equal(out, low)


def test_the_merge_gives_way_where_numpy_orders_nan(merge) -> None:  # type: ignore[no-untyped-def]
    ys = then_nan(np.array([1.0, 2.0]))
    out = np.full(2, -1, dtype=np.intp)
    assert merge.below(np.array([0.5, 1.5]), ys, math.nan, out) is None
    assert merge.below(np.array([0.5, math.inf]), ys, 0.0, out) is None
    assert merge.below(np.array([-math.inf, 1.5]), ys, 0.0, out) is None
    assert out.tolist() == [-1, -1]  # untouched


def test_the_merge_refuses_what_would_read_past_its_arrays(merge) -> None:  # type: ignore[no-untyped-def]
    xs, out = np.array([1.0, 2.0]), np.empty(2, dtype=np.intp)
    with pytest.raises(ValueError, match="end with NaN"):
        merge.below(xs, np.array([1.0, 2.0]), 0.0, out)
    with pytest.raises(ValueError, match="end with NaN"):
        merge.below(xs, np.array([]), 0.0, out)
    with pytest.raises(ValueError, match="as long as xs"):
        merge.below(xs, then_nan(xs), 0.0, np.empty(1, dtype=np.intp))
    with pytest.raises(TypeError, match="float64"):
        merge.below(xs.astype(np.float32), then_nan(xs), 0.0, out)
    with pytest.raises(TypeError, match="intp"):
        merge.below(xs, then_nan(xs), 0.0, np.empty(2))  # float64, as wide as intp
    with pytest.raises(TypeError, match="intp"):
        merge.below(xs, then_nan(xs), 0.0, np.empty(2, dtype=np.uint64))
    with pytest.raises(ValueError, match="contiguous"):  # numpy's own refusal
        merge.below(np.arange(6.0)[::2], then_nan(xs), 0.0, np.empty(3, dtype=np.intp))
    with pytest.raises(ValueError, match="contiguous"):
        merge.below(xs, then_nan(xs), 0.0, np.empty((2, 2), dtype=np.intp).T)


def test_the_counter_finds_the_same_points_with_and_without_the_merge(merge, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    for _ in range(20):
        ys = sorted(rng.gauss(100, 15) for _ in range(rng.randint(120, 900)))
        xs = sorted(rng.gauss(103, 15) for _ in range(rng.randint(120, 900)))
        shifts = [rng.uniform(-40, 40) for _ in range(60)]
        with_merge = ShiftCounter(xs, ys)
        assert with_merge._merge is not None
        monkeypatch.setattr(merge_count, "_merge", None)
        without = ShiftCounter(xs, ys)
        assert without._merge is None
        monkeypatch.undo()
        for mu in shifts:
            a, b = with_merge.at(mu), without.at(mu)
            assert (a.sum_low, a.sum_high, a.ties) == (b.sum_low, b.sum_high, b.ties), mu


def test_judge_results_are_the_same_bits_with_and_without_the_merge(merge, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every seeded case of tests/judge/test_same_results.py, serialised whole."""
    cases = generated()
    with_merge = {name: judge(metrics).to_json() for name, metrics in cases.items()}
    monkeypatch.setattr(merge_count, "_merge", None)
    without = {name: judge(metrics).to_json() for name, metrics in cases.items()}
    assert with_merge == without


def test_the_merge_is_used_only_where_it_pays(merge) -> None:  # type: ignore[no-untyped-def]
    ys = np.arange(1000.0)
    assert merge_count.MergeCount.pays(np.arange(200.0), then_nan(ys)) is not None
    assert merge_count.MergeCount.pays(np.arange(125.0), then_nan(ys)) is not None
    assert merge_count.MergeCount.pays(np.arange(124.0), then_nan(ys)) is None  # > 8x longer
    assert merge_count.MergeCount.pays(np.array([1.0, math.inf]), then_nan(ys)) is None
    assert (
        merge_count.MergeCount.pays(np.arange(200.0), then_nan(np.array([0.0, math.inf]))) is None
    )


@pytest.mark.parametrize("seed", range(10))
def test_the_counter_merges_exactly_at_the_edges_of_floating_point(merge, seed: int) -> None:  # type: ignore[no-untyped-def]
    """The inputs of the one-sort test (test_fast_paths): ties, values an ulp or a few apart,
    subnormals, the largest floats; shifts where x - mu meets a baseline value or just
    misses it."""
    rng = random.Random(1100 + seed)
    kind = seed % 5
    x, y = _positive(rng, kind, rng.randint(400, 900)), _positive(rng, kind, rng.randint(400, 800))
    counter = ShiftCounter(sorted(x), sorted(y))
    assert counter._merge is not None
    xs, ys = counter.xs, counter.ys
    for mu in edge_shifts(rng, counter):
        out, got = merged(merge, xs, ys, mu)
        low, total, tied = searched(xs, ys, mu)
        assert got == (total, tied), mu
        assert np.array_equal(out, low), mu
        point = ShiftCounter(sorted(x), sorted(y)).at(mu)  # no neighbours: this count
        assert (point.sum_low, point.sum_high, point.ties) == brute(xs, ys, mu), mu
