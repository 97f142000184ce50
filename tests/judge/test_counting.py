"""The counting behind the interval and Hodges-Lehmann, exact against brute force."""

from __future__ import annotations

import math
import random
import struct
from collections import Counter

import numpy as np
import pytest

from cockpit.judge import selection, shift
from cockpit.judge.cleaning import ascending, clean
from cockpit.judge.selection import hodges_lehmann, select_differences
from cockpit.judge.shift import ShiftCounter


def bits(values: list[float]) -> list[bytes]:
    """Exact identity of floats, sign of zero included."""
    return [struct.pack(">d", v) for v in values]


def sample(rng: random.Random, kind: int, size: int) -> list[float]:
    if kind == 0:
        return [rng.gauss(100, 15) for _ in range(size)]
    if kind == 1:
        return [float(rng.randint(0, 12)) for _ in range(size)]
    return [round(rng.lognormvariate(0, 1), 2) for _ in range(size)]


def brute(xs: np.ndarray, ys: np.ndarray, mu: float) -> tuple[int, int, float]:
    """(pairs with y < x - mu, pairs with y <= x - mu, tie term of x - mu joined with y)."""
    keys = xs - mu
    low = int((ys[None, :] < keys[:, None]).sum())
    high = int((ys[None, :] <= keys[:, None]).sum())
    groups = Counter([*keys.tolist(), *ys.tolist()]).values()
    return low, high, float(sum(t**3 - t for t in groups))


@pytest.mark.parametrize("seed", range(12))
def test_counts_match_brute_force_in_any_order(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Shifts far apart (a search per canary point), close together (the undecided pairs)
    and between equal counts (nothing to compare) all give the exact counts."""
    used: Counter[str] = Counter()
    for name in ("_count_points", "_count_pairs"):
        method = getattr(ShiftCounter, name)
        monkeypatch.setattr(
            ShiftCounter,
            name,
            lambda self, *a, _m=method, _n=name: used.update([_n]) or _m(self, *a),
        )
    rng = random.Random(seed)
    kind = seed % 3
    x, y = sample(rng, kind, rng.randint(60, 250)), sample(rng, kind, rng.randint(60, 250))
    counter = ShiftCounter(sorted(x), sorted(y))
    xs, ys = counter.xs, counter.ys
    centre = float(np.median(xs)) - float(np.median(ys))
    shifts = [counter.lowest, counter.highest, 0.0]
    shifts += [rng.uniform(counter.lowest, counter.highest) for _ in range(20)]
    shifts += [centre + rng.gauss(0, 0.05) for _ in range(20)]
    exact = [rng.choice(x) - rng.choice(y) for _ in range(15)]  # where ties happen
    shifts += exact + [math.nextafter(d, rng.choice((-math.inf, math.inf))) for d in exact]
    rng.shuffle(shifts)
    for mu in shifts:
        point = counter.at(mu)
        assert (point.sum_low, point.sum_high, point.ties) == brute(xs, ys, mu), mu
    assert used["_count_points"] and used["_count_pairs"]


@pytest.mark.parametrize("seed", range(12))
def test_selected_differences_match_sorting_them_all(seed: int) -> None:
    rng = random.Random(50 + seed)
    kind = seed % 3
    x, y = sample(rng, kind, rng.randint(1, 90)), sample(rng, kind, rng.randint(1, 90))
    everything = sorted(a - b for a in sorted(x) for b in sorted(y))
    last = len(everything) - 1
    ranks = sorted({0, 1 % (last + 1), last // 3, last // 2, (last + 1) // 2, last - 1, last})
    ranks = [k for k in ranks if 0 <= k <= last]
    expected = bits([everything[k] for k in ranks])
    assert bits(select_differences(ShiftCounter(x, y), ranks)) == expected
    warm = ShiftCounter(x, y)
    for mu in (0.0, everything[last // 2], rng.uniform(everything[0], everything[-1])):
        warm.at(mu)  # shifts already evaluated, even exactly at a difference
    assert bits(select_differences(warm, ranks)) == expected


def test_signed_zeros_keep_the_order_of_sorting_every_difference() -> None:
    """-0.0 - 0.0 is the only pair giving -0.0; which ranks carry the sign follows a stable
    sort of all differences, canary point by canary point."""
    x = [-0.0, 0.0, -0.0, 1.0, -1.0]
    y = [0.0, -0.0, 0.0, 2.0]
    everything = sorted(a - b for a in sorted(x) for b in sorted(y))
    assert {struct.pack(">d", v) for v in everything if v == 0} == set(bits([0.0, -0.0]))
    ranks = list(range(len(everything)))
    assert bits(select_differences(ShiftCounter(x, y), ranks)) == bits(everything)
    # the middle difference of three zeros: its sign follows the canary's input order
    assert bits([hodges_lehmann(ShiftCounter([-0.0, -0.0, 0.0], [0.0]))]) == bits([-0.0])
    assert bits([hodges_lehmann(ShiftCounter([-0.0, 0.0, -0.0], [0.0]))]) == bits([0.0])


@pytest.mark.parametrize("seed", range(8))
def test_signed_zeros_among_many_ties(seed: int) -> None:
    """Large enough for numpy's vectorised sort, which on its own would turn -0.0 into 0.0."""
    rng = random.Random(300 + seed)
    pool = (0.0, -0.0, 1.0, -1.0, 0.5)
    x = [rng.choice(pool) for _ in range(rng.randint(10, 40))]
    y = [rng.choice(pool) for _ in range(rng.randint(10, 40))]
    everything = sorted(a - b for a in sorted(x) for b in sorted(y))
    ranks = list(range(len(everything)))
    assert bits(select_differences(ShiftCounter(x, y), ranks)) == bits(everything)
    middle = (everything[(len(everything) - 1) // 2] + everything[len(everything) // 2]) / 2
    assert bits([hodges_lehmann(ShiftCounter(x, y))]) == bits([middle])


def test_ascending_sorts_like_python_even_with_signed_zeros() -> None:
    rng = random.Random(3)
    for size in (0, 1, 5, 40, 300):
        for _ in range(20):
            values = [rng.choice((0.0, -0.0, 1.5, -2.0, rng.random())) for _ in range(size)]
            assert bits(ascending(np.array(values)).tolist()) == bits(sorted(values))
    for values in ([-0.0, 0.0] * 50 + [1.0, -1.0] * 10, [-0.0] * 100 + [1.0] * 20):
        assert bits(ascending(np.array(values)).tolist()) == bits(sorted(values))
    kept, _ = clean([0.0, -0.0, math.nan, 0.0], "replace", "keep", 3.0)
    assert bits(kept.tolist()) == bits(sorted([0.0, -0.0, 0.0, 0.0]))


def _ulp_apart(rng: random.Random, size: int) -> list[float]:
    """Values a few ulps apart around 1/30, as in Kayenta's 'Wilcoxon Diff Function' case."""
    value = 1 / 30
    out = []
    for _ in range(size):
        value = math.nextafter(value, math.inf) if rng.random() < 0.6 else value
        out.append(value)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_canary_values_one_ulp_apart_tie_after_the_shift(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """x - mu is rounded as Kayenta's ranking rounds it, so canary values an ulp apart tie
    once shifted (by 5, say): the tie term must count them as one group, in both paths."""
    used: Counter[str] = Counter()
    for name in ("_count_points", "_count_pairs"):
        method = getattr(ShiftCounter, name)
        monkeypatch.setattr(
            ShiftCounter,
            name,
            lambda self, *a, _m=method, _n=name: used.update([_n]) or _m(self, *a),
        )
    rng = random.Random(seed)
    x, y = _ulp_apart(rng, 120), _ulp_apart(rng, 100)
    counter = ShiftCounter(sorted(x), sorted(y))
    shifts = [5.0, -5.0, 0.5, -1 / 30, counter.lowest, counter.highest, 0.0]
    shifts += [rng.uniform(counter.lowest, counter.highest) for _ in range(30)]
    for mu in shifts:
        point = counter.at(mu)
        assert (point.sum_low, point.sum_high, point.ties) == brute(counter.xs, counter.ys, mu), mu
    assert used["_count_points"] and used["_count_pairs"]
    assert counter.at(5.0).ties != counter.at(0.0).ties  # the shift itself made ties


@pytest.mark.parametrize("seed", range(6))
def test_counts_stepped_from_a_close_shift_match_brute_force(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shift just beside an evaluated one (as zeroin's steps near a root are) is counted
    by stepping each canary point from the neighbour's counts, in either direction."""
    stepped: list[bool] = []
    walk = ShiftCounter._walk
    monkeypatch.setattr(shift, "PAIR_LIMIT", 0)  # never the undecided pairs instead

    def spy(self: ShiftCounter, *args: object) -> object:
        result = walk(self, *args)  # type: ignore[arg-type]
        stepped.append(result is not None)
        return result

    monkeypatch.setattr(ShiftCounter, "_walk", spy)
    rng = random.Random(700 + seed)
    kind = (0, 2)[seed % 2]
    x, y = sample(rng, kind, 1000), sample(rng, kind, 1000)
    counter = ShiftCounter(sorted(x), sorted(y))
    centre = float(np.median(counter.xs)) - float(np.median(counter.ys))
    shifts = [counter.lowest, counter.highest, centre - 20, centre + 20, centre]
    shifts += [centre + rng.choice((-1, 1)) * 10.0**-k for k in range(2, 7)]
    shifts += [centre + rng.gauss(0, 1e-3) for _ in range(10)]
    # differences of actual pairs next to the centre: x - mu meets a baseline value there
    near = [xv - float(counter.ys[min(int(counter.ys.searchsorted(xv - centre)), 999)]) for xv in x]
    for i, d in enumerate(sorted(near, key=lambda d: abs(d - centre))[:12]):
        side = math.inf if i % 2 else -math.inf  # step onto d from above, then from below
        shifts += [math.nextafter(d, side), d, math.nextafter(d, -side)]
    for mu in shifts:
        point = counter.at(mu)
        assert (point.sum_low, point.sum_high, point.ties) == brute(counter.xs, counter.ys, mu), mu
    assert True in stepped


def _spy_sorted_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the selections read off one sorted gap (selection._between_sorted)."""
    read: list[int] = []
    original = selection._between_sorted

    def spy(*args: object) -> object:
        read.append(1)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(selection, "_between_sorted", spy)
    return read


@pytest.mark.parametrize("seed", range(6))
def test_ranks_read_off_a_sorted_gap_match_sorting_them_all(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When one gap of sorted differences holds the ranks (evaluated shifts a little either
    side of them), they are read off it: the same bits as sorting all n x m differences."""
    read = _spy_sorted_reads(monkeypatch)
    rng = random.Random(900 + seed)
    kind = (0, 2)[seed % 2]
    x, y = sample(rng, kind, rng.randint(200, 400)), sample(rng, kind, rng.randint(200, 400))
    everything = sorted(a - b for a in x for b in y)
    middle = len(everything) // 2
    ranks = [middle - 1, middle, middle + 1]
    counter = ShiftCounter(sorted(x), sorted(y))
    centre = everything[middle]
    step = (everything[middle + 600] - everything[middle - 600]) / 2
    for mu in (centre - step, centre + step, centre + step / 3):  # the last one inside a gap
        counter.at(mu)
    assert bits(select_differences(counter, ranks)) == bits([everything[k] for k in ranks])
    assert read


def test_signed_zeros_read_off_a_sorted_gap_keep_the_order_of_sorting_them_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Zero differences inside a sorted gap: -0.0 - 0.0 pairs keep their place as a stable
    sort of every difference gives it (canary point by canary point)."""
    read = _spy_sorted_reads(monkeypatch)
    rng = random.Random(77)
    pool = (0.0, -0.0, 0.25, -0.25, 0.5, -0.5, 1.0, -1.0)
    x = [rng.choice(pool) + (0.0 if rng.random() < 0.7 else rng.uniform(-1, 1)) for _ in range(60)]
    x = [-0.0 if v == 0 and rng.random() < 0.5 else v for v in x]
    y = [rng.choice(pool) for _ in range(50)]
    everything = sorted(a - b for a in sorted(x) for b in sorted(y))
    counter = ShiftCounter(x, y)
    for mu in (-0.1, 0.15, 0.05):  # the gap (-0.1, 0.05) holds every zero difference
        counter.at(mu)
    ranks = [k for k, d in enumerate(everything) if d == 0]  # 330 zeros, 20 of them -0.0
    assert bits(select_differences(counter, ranks)) == bits([everything[k] for k in ranks])
    assert read
