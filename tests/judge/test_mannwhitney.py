"""Mann-Whitney U and p-values against scipy.stats.mannwhitneyu (R-A1, R-A2)."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest
from scipy import stats  # the reference; a test-only dependency

from cockpit.judge.mannwhitney import (
    _null_counts,
    average_ranks,
    exact_sf,
    mannwhitneyu,
)

ALTERNATIVES = ("two-sided", "greater", "less")


def _random_cases(count: int, seed: int, small: int = 60) -> list[tuple[list[float], list[float]]]:
    """Seeded cases, half with heavy ties; one sample has at most `small` points."""
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        n1, n2 = rng.randint(1, small), rng.randint(1, 60)
        if i % 3 == 0:
            n1, n2 = n2, n1
        if i % 2:  # heavy ties: small integers
            x = [float(rng.randint(0, 8)) for _ in range(n1)]
            y = [float(rng.randint(0, 8)) for _ in range(n2)]
        else:
            x = [rng.gauss(0.4, 1.0) for _ in range(n1)]
            y = [rng.gauss(0.0, 1.0) for _ in range(n2)]
        cases.append((x, y))
    return cases


CASES = _random_cases(240, seed=20261126)
# scipy's exact p is itself exact while its Loeffler counts stay exact in uint64/float;
# past min(n1, n2) of about 15 it drifts by up to ~2.5e-14 (measured, scipy 1.17.1), so
# there the correctly rounded fraction is the reference instead.
EXACT_CASES = _random_cases(210, seed=7, small=15)


@pytest.mark.parametrize("case", range(len(CASES)))
def test_asymptotic_matches_scipy(case: int) -> None:
    x, y = CASES[case]
    for alternative in ALTERNATIVES:
        for continuity in (True, False):
            ours = mannwhitneyu(
                x, y, method="asymptotic", use_continuity=continuity, alternative=alternative
            )
            ref = stats.mannwhitneyu(
                x, y, method="asymptotic", use_continuity=continuity, alternative=alternative
            )
            assert ours.u == float(ref.statistic)  # U1 exactly
            assert ours.method == "asymptotic"
            if math.isnan(ref.pvalue):
                assert math.isnan(ours.p_value)
            elif ref.pvalue == 0.0:
                assert ours.p_value == 0.0
            else:
                assert abs(ours.p_value - ref.pvalue) / ref.pvalue <= 1e-12


@pytest.mark.parametrize("case", range(len(EXACT_CASES)))
def test_exact_matches_scipy(case: int) -> None:
    x, y = EXACT_CASES[case]
    for alternative in ALTERNATIVES:
        ours = mannwhitneyu(x, y, method="exact", alternative=alternative)
        ref = stats.mannwhitneyu(x, y, method="exact", alternative=alternative)
        assert ours.u == float(ref.statistic)
        assert abs(ours.p_value - ref.pvalue) <= 1e-15


def _textbook_counts(n1: int, n2: int) -> list[int]:
    """Null counts by the textbook recurrence c(a,b,k) = c(a-1,b,k-b) + c(a,b-1,k)."""
    previous = [[1] for _ in range(n2 + 1)]  # a = 0: only U = 0
    for _a in range(1, n1 + 1):
        current = [[1]]  # b = 0: only U = 0
        for b in range(1, n2 + 1):
            shifted = [0] * b + previous[b]
            left = current[b - 1]
            size = max(len(shifted), len(left))
            shifted += [0] * (size - len(shifted))
            current.append([s + (left[k] if k < len(left) else 0) for k, s in enumerate(shifted)])
        previous = current
    return previous[n2]


def _exact_fraction(u: float, n1: int, n2: int, alternative: str) -> Fraction:
    u1, u2 = u, n1 * n2 - u
    stat, factor = {"greater": (u1, 1), "less": (u2, 1)}.get(alternative, (max(u1, u2), 2))
    tail = sum(_textbook_counts(n1, n2)[int(stat) :])
    return min(Fraction(factor * tail, math.comb(n1 + n2, n1)), Fraction(1))


@pytest.mark.parametrize("sizes", [(16, 40), (22, 60), (31, 33), (60, 60)])
def test_exact_is_the_correctly_rounded_fraction(sizes: tuple[int, int]) -> None:
    rng = random.Random(sum(sizes))
    x = [rng.gauss(0.3, 1) for _ in range(sizes[0])]
    y = [rng.gauss(0.0, 1) for _ in range(sizes[1])]
    for alternative in ALTERNATIVES:
        ours = mannwhitneyu(x, y, method="exact", alternative=alternative)
        reference = _exact_fraction(ours.u, *sizes, alternative)
        assert ours.p_value == float(reference)  # correctly rounded: error <= half an ulp
        scipy_p = stats.mannwhitneyu(x, y, method="exact", alternative=alternative).pvalue
        assert abs(ours.p_value - scipy_p) <= 5e-14  # scipy's float drift, documented above


def test_null_counts_are_the_textbook_recurrence() -> None:
    for n1, n2 in [(1, 1), (3, 5), (7, 4), (9, 9), (17, 23)]:
        counts = list(_null_counts(min(n1, n2), max(n1, n2)))
        assert counts == _textbook_counts(n1, n2)
        assert sum(counts) == math.comb(n1 + n2, n1)
    assert exact_sf(0, 4, 4) == 1.0


A5_ROWS = [
    # x, y, method, continuity, alternative, U1, p
    ([19, 22, 16, 29, 24], [20, 11, 17, 12], "exact", True, "two-sided", 17, 0.1111111111111111),
    ([19, 22, 16, 29, 24], [20, 11, 17, 12], "asymptotic", True, "two-sided", 17,
     0.11134688653314041),
    ([19, 22, 16, 29, 24], [20, 11, 17, 12], "asymptotic", False, "two-sided", 17,
     0.0864107329737),
    ([20, 11, 17, 12], [19, 22, 16, 29, 24], "exact", True, "less", 3, 0.05555555555555555),
    ([10, 20, 30, 40], [1, 2, 3, 4], "exact", True, "two-sided", 16, 0.02857142857142857),
    ([10, 20, 30, 40], [1, 2, 3, 4], "asymptotic", True, "two-sided", 16, 0.03038282197657749),
    ([1, 1, 1], [1, 1, 1], "auto", True, "two-sided", 4.5, 1.0),
    ([5] * 10, [7] * 10, "auto", True, "two-sided", 0, 1.5937911688066244e-05),
]  # fmt: skip


@pytest.mark.parametrize("row", A5_ROWS, ids=lambda r: f"{r[2]}-{r[4]}-{len(r[0])}x{len(r[1])}")
def test_reference_table_a5(row: tuple) -> None:
    x, y, method, continuity, alternative, u1, p = row
    result = mannwhitneyu(x, y, method=method, use_continuity=continuity, alternative=alternative)
    assert result.u == u1
    assert result.p_value == pytest.approx(p, rel=1e-12, abs=1e-15)


def test_reference_table_a5_kayenta_tie_out(tie_out: dict) -> None:
    result = mannwhitneyu(tie_out["experiment"], tie_out["control"])  # auto: ties -> asymptotic
    assert result.method == "asymptotic"
    assert result.u == tie_out["scipy_auto"]["u"] == 3344
    assert result.p_value == pytest.approx(tie_out["scipy_auto"]["p"], rel=1e-12)


def test_reference_table_a5_nan_row() -> None:
    """[1, 2, nan] vs [3, 4, 5]: NaN by default, U 0 and p 0.2 with NaN omitted."""
    propagated = mannwhitneyu([1, 2, math.nan], [3, 4, 5])
    assert math.isnan(propagated.u) and math.isnan(propagated.p_value)
    omitted = mannwhitneyu([1, 2, math.nan], [3, 4, 5], nan_policy="omit")
    assert (omitted.u, omitted.p_value) == (0, pytest.approx(0.2, rel=1e-12))
    ref = stats.mannwhitneyu([1, 2, math.nan], [3, 4, 5], nan_policy="omit")
    assert omitted.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    with pytest.raises(ValueError, match="NaN"):
        mannwhitneyu([1, 2, math.nan], [3, 4, 5], nan_policy="raise")


def test_canary_first_orientation() -> None:
    """R-A2: the canary is the first sample, so a higher canary has a large U1."""
    assert mannwhitneyu([10, 20, 30, 40], [1, 2, 3, 4]).u == 16
    assert mannwhitneyu([1, 2, 3, 4], [10, 20, 30, 40]).u == 0


def test_auto_method_follows_scipy() -> None:
    assert mannwhitneyu([1.0, 2, 3], [4.0, 5, 6]).method == "exact"
    assert mannwhitneyu([1.0, 2, 3], [3.0, 5, 6]).method == "asymptotic"  # a tie
    assert mannwhitneyu(list(range(9)), [v + 0.5 for v in range(9)]).method == "asymptotic"
    assert mannwhitneyu(list(range(9)), [v + 0.5 for v in range(8)]).method == "exact"


def test_average_ranks_match_scipy_rankdata() -> None:
    rng = random.Random(5)
    for _ in range(50):
        values = [float(rng.randint(0, 6)) for _ in range(rng.randint(1, 40))]
        assert average_ranks(values) == list(stats.rankdata(values))


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="method"):
        mannwhitneyu([1], [2], method="permutation")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="alternative"):
        mannwhitneyu([1], [2], alternative="bigger")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one"):
        mannwhitneyu([], [2])
    with pytest.raises(ValueError, match="nan_policy"):
        mannwhitneyu([1], [2], nan_policy="drop")  # type: ignore[arg-type]


def test_mannwhitneyu_is_importable_from_the_package() -> None:
    """docs/judge.md names `cockpit.judge.mannwhitneyu`; it must be there, lazily loaded."""
    import cockpit.judge

    assert "mannwhitneyu" in cockpit.judge.__all__
    result = cockpit.judge.mannwhitneyu([19, 22, 16, 29, 24], [20, 11, 17, 12], method="exact")
    assert (result.u, result.p_value) == (17, 0.1111111111111111)
