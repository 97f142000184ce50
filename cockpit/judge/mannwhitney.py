"""Mann-Whitney U for canary (first) vs baseline, with p-values that match scipy."""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from operator import eq
from typing import Literal

Method = Literal["auto", "exact", "asymptotic"]
Alternative = Literal["two-sided", "greater", "less"]
NanPolicy = Literal["propagate", "omit", "raise"]
METHODS = ("auto", "exact", "asymptotic")
ALTERNATIVES = ("two-sided", "greater", "less")
NAN_POLICIES = ("propagate", "omit", "raise")

# The exact null distribution costs about min(n1, n2) * n1 * n2 integer additions; past
# this the asymptotic method is the only sensible choice (scipy would grind for minutes).
EXACT_WORK_LIMIT = 20_000_000


@dataclass(frozen=True, slots=True)
class UTest:
    """U1 of the first sample and its p-value under the chosen method and alternative."""

    u: float  # U1 = R1 - n1(n1+1)/2: pairs where the first sample is higher, ties count 1/2
    p_value: float
    method: str  # "exact" or "asymptotic" (what "auto" chose)
    alternative: str
    tie_term: float  # sum of t^3 - t over tie groups of the pooled sample


def average_ranks(values: Sequence[float]) -> list[float]:
    """Ranks 1..n in input order, tied values sharing the average of their positions."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        stop = start + 1
        while stop < len(order) and values[order[stop]] == values[order[start]]:
            stop += 1
        shared = (start + stop + 1) / 2  # mean of positions start+1 .. stop
        for k in range(start, stop):
            ranks[order[k]] = shared
        start = stop
    return ranks


def tie_term(values: Sequence[float]) -> float:
    """Sum of t^3 - t over groups of equal values (0 when all values are distinct)."""
    return float(sum(t * t * t - t for t in Counter(values).values() if t > 1))


def sorted_tie_term(ordered: Sequence[float]) -> float:
    """tie_term for an ascending sequence, skipping the counting when no neighbours are equal."""
    return tie_term(ordered) if any(map(eq, ordered, ordered[1:])) else 0.0


def u_statistic(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """(U1, pooled tie term) for sorted samples, by counting instead of ranking.

    R1 - n1(n1+1)/2 equals the number of pairs with x > y plus half the pairs with x == y,
    which two binary searches per x give without building the pooled ranking.
    """
    below = sum(map(bisect_left, repeat(ys), xs))
    at_or_below = sum(map(bisect_right, repeat(ys), xs))
    u1 = (below + at_or_below) / 2
    tied = at_or_below != below or any(map(eq, xs, xs[1:])) or any(map(eq, ys, ys[1:]))
    return u1, tie_term([*xs, *ys]) if tied else 0.0


@lru_cache(maxsize=32)
def _null_counts(n1: int, n2: int) -> tuple[int, ...]:
    """How many of the C(n1+n2, n1) rank assignments give each U = 0 .. n1*n2.

    These are the coefficients of the Gaussian binomial [n1+n2 choose n1]_q, built as
    prod_{i=1..n1} (1 - q^(n2+i)) / (1 - q^i) with exact integers, so no rounding ever.
    """
    size = n1 * n2 + 1
    c = [0] * size
    c[0] = 1
    top = 0
    for i in range(1, n1 + 1):
        k = n2 + i
        new_top = top + n2
        for j in range(min(new_top, top + k), k - 1, -1):
            c[j] -= c[j - k]
        for j in range(i, new_top + 1):
            c[j] += c[j - i]
        top = new_top
    return tuple(c)


def exact_sf(u: int, n1: int, n2: int) -> float:
    """P(U >= u) under the null hypothesis, correctly rounded."""
    if min(n1, n2) * n1 * n2 > EXACT_WORK_LIMIT:
        raise ValueError(f"exact p-value for {n1} x {n2} points is too costly; use asymptotic")
    counts = _null_counts(min(n1, n2), max(n1, n2))
    u = max(0, u)
    return sum(counts[u:]) / math.comb(n1 + n2, n1)


def normal_sf(z: float) -> float:
    """Upper tail of the standard normal; erfc keeps the relative error tiny far out."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def asymptotic_z(u: float, n1: int, n2: int, ties: float, continuity: bool) -> float:
    """Standardised U with tie correction, and 1/2 towards the mean when asked."""
    n = n1 + n2
    s = math.sqrt(n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1))))
    numerator = u - n1 * n2 / 2
    if continuity:
        numerator -= 0.5
    if s == 0.0:
        return math.copysign(math.inf, numerator) if numerator else math.nan
    return numerator / s


def choose_method(n1: int, n2: int, ties: float) -> str:
    """scipy's 'auto': asymptotic when both samples exceed 8 points or any value ties."""
    if (n1 > 8 and n2 > 8) or ties > 0:
        return "asymptotic"
    return "exact"


def mannwhitneyu(
    x: Sequence[float],
    y: Sequence[float],
    *,
    method: Method = "auto",
    use_continuity: bool = True,
    alternative: Alternative = "two-sided",
    nan_policy: NanPolicy = "propagate",
) -> UTest:
    """The Mann-Whitney U test of x (canary) against y (baseline), as scipy computes it.

    "greater" means x tends to be higher. Exact p-values use the exact null distribution
    without tie correction; asymptotic ones correct for ties. NaN in a sample gives a NaN
    U and p ("propagate", scipy's default), is dropped ("omit"), or refused ("raise").
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {', '.join(ALTERNATIVES)}")
    if nan_policy not in NAN_POLICIES:
        raise ValueError(f"nan_policy must be one of {', '.join(NAN_POLICIES)}")
    xs, ys = [float(v) for v in x], [float(v) for v in y]
    if any(map(math.isnan, xs)) or any(map(math.isnan, ys)):
        if nan_policy == "raise":
            raise ValueError("samples must not contain NaN")
        if nan_policy == "propagate":
            return UTest(math.nan, math.nan, method, alternative, math.nan)
        xs, ys = [v for v in xs if v == v], [v for v in ys if v == v]
    if not xs or not ys:
        raise ValueError("both samples need at least one value")
    xs.sort()
    ys.sort()
    u1, ties = u_statistic(xs, ys)
    return p_value(u1, len(xs), len(ys), ties, method, use_continuity, alternative)


def p_value(
    u1: float,
    n1: int,
    n2: int,
    ties: float,
    method: str = "auto",
    use_continuity: bool = True,
    alternative: str = "two-sided",
) -> UTest:
    """p-value for a known U1 (lets the judge reuse the counts it already has)."""
    u2 = n1 * n2 - u1
    if alternative == "greater":
        u, factor = u1, 1
    elif alternative == "less":
        u, factor = u2, 1  # the lower tail of U1 is the upper tail of U2
    else:
        u, factor = max(u1, u2), 2
    chosen = choose_method(n1, n2, ties) if method == "auto" else method
    if chosen == "exact":
        p = exact_sf(int(u), n1, n2)  # scipy truncates a tied (half-integer) U
    else:
        p = normal_sf(asymptotic_z(u, n1, n2, ties, use_continuity))
    p = min(max(p * factor, 0.0), 1.0) if not math.isnan(p) else p
    return UTest(u1, p, chosen, alternative, ties)
