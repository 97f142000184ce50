"""Scoring: validated group weights, group scores, the summary score and the decision."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from cockpit.judge import deviations as dev
from cockpit.judge.canonical import member
from cockpit.judge.result import GroupResult, MetricResult

COUNTED = ("Pass", "High", "Low", "NodataFailMetric")  # the group score's denominator
HUNDRED = Fraction(100)


def resolve_weights(configured: Mapping[str, float], groups: Sequence[str]) -> dict[str, Fraction]:
    """A weight for every group (rule weights-validated), exact as written in decimal.

    Named weights must belong to existing groups and be >= 0. Groups without a weight
    share what is left of 100, which must not be negative; with every group named, the
    weights must sum to exactly 100.
    """
    present = dict.fromkeys(groups)
    weights: dict[str, Fraction] = {}
    for name, value in configured.items():
        if name not in present:
            known = ", ".join(repr(g) for g in present) or "none"
            raise ValueError(f"groups{member(name)}: no metric is in this group (groups: {known})")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"groups{member(name)}: weight must be a number")
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"groups{member(name)}: weight must be a finite number >= 0")
        weights[name] = Fraction(Decimal(repr(float(value))))
    total = sum(weights.values(), Fraction(0))
    unweighted = [g for g in present if g not in weights]
    if unweighted:
        if total > HUNDRED:
            raise ValueError(
                f"groups: weights sum to {float(total):g}, over 100, which leaves a negative "
                f"weight for {', '.join(repr(g) for g in unweighted)}"
            )
        share = (HUNDRED - total) / len(unweighted)
        weights.update((g, share) for g in unweighted)
    elif total != HUNDRED:
        raise ValueError(f"groups: weights sum to {float(total):g}, not 100")
    return {g: weights[g] for g in present}


# Kayenta adds the weighted group scores in doubles, in a hash map's order, and rounds the
# sum half up: an exact half such as 94.995 comes out a few ulps either side there (94.99
# or 95.00, by the order). The exact sum is rounded here, halves toward failing; the slack
# (far above any double rounding error) keeps every score at or below Kayenta's.
HALF_SLACK = Fraction(1, 10**9)


def round_score(value: Fraction, places: int = 2) -> float:
    """`value` (>= 0) to `places` decimals: half up, except on a half (within HALF_SLACK)."""
    scale = 10**places
    return float(Fraction(math.floor((value - HALF_SLACK) * scale + Fraction(1, 2)), scale))


@dataclass(frozen=True, slots=True)
class Score:
    score: float
    decision: str
    reason: str
    groups: dict[str, GroupResult]
    deviations: tuple[str, ...]


def group_scores(
    results: Sequence[MetricResult], weights: Mapping[str, Fraction]
) -> tuple[list[GroupResult], Fraction]:
    """Each group's score and the exact weighted summary (no_data groups count as 0)."""
    groups = []
    summary = Fraction(0)
    for name, weight in weights.items():
        counts = Counter(r.classification for r in results if r.group == name and not r.muted)
        denominator = sum(counts[label] for label in COUNTED)
        score = Fraction(100 * counts["Pass"], denominator) if denominator else Fraction(0)
        summary += score * weight / HUNDRED
        groups.append(
            GroupResult(
                name, float(score), float(weight), not denominator, tuple(sorted(counts.items()))
            )
        )
    return groups, summary


def decide(
    results: Sequence[MetricResult],
    weights: Mapping[str, Fraction],
    marginal: float,
    passing: float,
) -> Score:
    """Score 0-100 and pass / marginal / fail, with the overrides and fail-closed rules."""
    groups, summary = group_scores(results, weights)
    scored = [r for r in results if not r.muted]
    used: list[str] = [d for r in scored for d in r.deviations]
    if any(g.no_data and g.weight > 0 and g.counts for g in groups):
        used.append(dev.EMPTY_GROUP_SCORES_ZERO)

    def done(score: float, decision: str, reason: str) -> Score:
        by_name = {g.name: g for g in groups}
        return Score(score, decision, reason, by_name, tuple(dict.fromkeys(used)))

    if not scored:
        return done(0.0, "fail", "canary failed: every metric is muted")
    critical = next((r for r in scored if r.critical and r.classification != "Pass"), None)
    if critical is not None:
        return done(
            0.0, "fail", f"canary failed: critical metric {critical.name!r}: {critical.reason}"
        )
    missing = sum(1 for r in scored if r.classification == "Nodata")
    if 2 * missing >= len(scored):
        return done(0.0, "fail", f"canary failed: {missing} of {len(scored)} metrics have no data")
    score = round_score(summary)
    bad = [f"{r.name} ({r.classification})" for r in scored if r.classification != "Pass"]
    listing = f"; not passing: {', '.join(bad[:4])}{', ...' if len(bad) > 4 else ''}" if bad else ""
    errors = [r for r in scored if r.classification == "Error"]
    if score >= passing and errors:
        used.append(dev.ERROR_CAPS_AT_MARGINAL)
        first = errors[0]
        return done(
            score,
            "marginal",
            f"score {score:g} reaches pass {passing:g}, but {first.name!r} could not be judged "
            f"({first.reason}): at most marginal{listing}",
        )
    if score >= passing:
        return done(score, "pass", f"score {score:g} is at least pass {passing:g}{listing}")
    if score >= marginal:
        return done(
            score,
            "marginal",
            f"score {score:g} is below pass {passing:g} but at least marginal {marginal:g}: "
            f"a human must decide{listing}",
        )
    return done(score, "fail", f"score {score:g} is below marginal {marginal:g}{listing}")
