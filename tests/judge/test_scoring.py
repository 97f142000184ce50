"""Scoring (R-A9), thresholds (R-A10) and every fail-closed deviation by name (R-A8)."""

from __future__ import annotations

import itertools
import random
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest

from cockpit.judge import deviations as dev
from cockpit.judge.cleaning import clean
from cockpit.judge.core import judge
from cockpit.judge.inputs import JudgeConfig, MetricInput
from cockpit.judge.result import JudgeResult, MetricResult
from cockpit.judge.scoring import Score, decide, resolve_weights, round_score

_, CLEAN = clean([1.0], "remove", "keep", 3.0)
_NAMES = itertools.count()


def result(label: str, group: str = "g", *, critical: bool = False, muted: bool = False,
           name: str | None = None) -> MetricResult:  # fmt: skip
    return MetricResult(
        name=name or f"{label}-{next(_NAMES)}",
        classification=label,
        reason=f"because {label}",
        critical=critical,
        group=group,
        muted=muted,
        baseline_cleaning=CLEAN,
        canary_cleaning=CLEAN,
        seed="0",
    )


def score(results: list[MetricResult], weights: dict[str, float] | None = None,
          marginal: float = 75, passing: float = 95):  # type: ignore[no-untyped-def]  # fmt: skip
    groups = [r.group for r in results]
    return decide(results, resolve_weights(weights or {}, groups), marginal, passing)


def test_group_score_counts_pass_over_judged_labels() -> None:
    outcome = score([result("Pass"), result("High"), result("Low"), result("NodataFailMetric"),
                     result("Pass"), result("Nodata"), result("Error", name="e")])  # fmt: skip
    (group,) = outcome.groups.values()
    assert group.score == 40.0  # 2 / (2 + 1 + 1 + 1); Nodata and Error left out


def test_weights_and_unweighted_groups_share_the_rest() -> None:
    weights = resolve_weights({"a": 50}, ["a", "b", "c", "b"])
    assert weights == {"a": 50, "b": 25, "c": 25}
    assert sum(resolve_weights({}, ["x", "y", "z"]).values()) == 100


@pytest.mark.parametrize(
    ("weights", "message"),
    [({"a": 60, "b": 30}, "sum to 90, not 100"),
     ({"a": 60, "b": 50}, "sum to 110, not 100"),
     ({"a": 110}, "over 100, which leaves a negative weight for 'b'"),
     ({"nope": 10}, r"groups\.nope: no metric is in this group"),
     ({"a": -5}, r"groups\.a: weight must be a finite number >= 0"),
     ({"p99 latency": 10}, r'groups\["p99 latency"\]')],
)  # fmt: skip
def test_deviation_weights_validated(weights: dict, message: str) -> None:
    """Kayenta never checks weights; here they must add up and name real groups."""
    assert dev.WEIGHTS_VALIDATED in dev.BY_NAME
    with pytest.raises(ValueError, match=message):
        resolve_weights(weights, ["a", "b"])


def test_weights_are_exact_decimals() -> None:
    assert resolve_weights({"a": 33.3, "b": 33.3, "c": 33.4}, ["a", "b", "c"])["a"] == Fraction(
        333, 10
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(Fraction(200, 3), 66.67), (Fraction(1, 8), 0.12), (Fraction(94995, 1000), 94.99),
     (Fraction(94995, 1000) + Fraction(1, 10**10), 94.99),
     (Fraction(94995, 1000) + Fraction(1, 10**8), 95.0), (Fraction(7499, 100), 74.99),
     (Fraction(0), 0.0), (Fraction(100), 100.0)],
)  # fmt: skip
def test_score_rounding_takes_halves_toward_failing(value: Fraction, expected: float) -> None:
    assert round_score(value) == expected


def _kayenta_summary(groups: list[tuple[int, int, float]]) -> float:
    """WeightedSumScorer's arithmetic: (pass / total) * 100 * (weight / 100) summed in
    doubles, then commons-math Precision.round(sum, 2): half up on Double.toString."""
    total = 0.0
    for passed, counted, weight in groups:
        total += (passed / float(counted)) * 100 * (weight / 100)
    return float(Decimal(repr(total)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def _outcome(groups: list[tuple[int, int, float]]) -> Score:
    results, weights = [], {}
    for i, (passed, counted, weight) in enumerate(groups):
        results += [result("Pass", f"g{i}") for _ in range(passed)]
        results += [result("High", f"g{i}") for _ in range(counted - passed)]
        weights[f"g{i}"] = weight
    return score(results, weights)


def test_summary_rounds_like_kayenta_and_never_above_it() -> None:
    """Kayenta sums in doubles: 1 Pass at weight 28.5 and 93 of 100 at 71.5 is exactly
    94.995, which it scores 94.99 (MARGINAL). Rounding the exact sum half up gave 95 (PASS)."""
    outcome = _outcome([(1, 1, 28.5), (93, 100, 71.5)])
    assert _kayenta_summary([(1, 1, 28.5), (93, 100, 71.5)]) == 94.99
    assert (outcome.score, outcome.decision) == (94.99, "marginal")
    # a two-group grid: equal to Kayenta's score in either summation order, or (only on an
    # exact half, where the order decides there) lower, never higher
    for d1, d2 in itertools.product(range(1, 7), repeat=2):
        for p1, p2, weight in itertools.product(range(d1 + 1), range(d2 + 1), (12.5, 28.5, 35, 50)):
            groups = [(p1, d1, float(weight)), (p2, d2, 100 - weight)]
            ours = _outcome(groups).score
            kayenta = (_kayenta_summary(groups), _kayenta_summary(groups[::-1]))
            assert ours <= min(kayenta), groups
            exact = sum(Fraction(100 * p, d) * Fraction(str(w)) / 100 for p, d, w in groups)
            on_half = (exact * 200).denominator == 1 and (exact * 200) % 2 == 1
            assert ours == min(kayenta) or on_half, groups


def test_summary_is_weighted_and_rounded() -> None:
    results = [result("Pass", "a"), result("Pass", "a"), result("High", "a")]
    results += [result("Pass", "b")]
    outcome = score(results, {"a": 50, "b": 50})
    assert outcome.score == 83.33  # 50 * 2/3 + 50


def test_critical_failure_scores_zero() -> None:
    outcome = score([result("Pass")] * 9 + [result("High", critical=True, name="p99")])
    assert (outcome.score, outcome.decision) == (0.0, "fail")
    assert outcome.reason.startswith("canary failed: critical metric 'p99'")


@pytest.mark.parametrize(("nodata", "total", "zero"), [(2, 4, True), (3, 5, True), (1, 4, False)])
def test_half_or_more_nodata_scores_zero(nodata: int, total: int, zero: bool) -> None:
    results = [result("Nodata") for _ in range(nodata)]
    results += [result("Pass") for _ in range(total - nodata)]
    outcome = score(results)
    assert (outcome.score == 0.0) is zero
    if zero:
        assert f"{nodata} of {total} metrics have no data" in outcome.reason


def test_muted_metrics_are_reported_but_not_scored() -> None:
    outcome = score([result("Pass"), result("High", muted=True, critical=True)])
    assert (outcome.score, outcome.decision) == (100.0, "pass")
    assert score([result("Pass", muted=True)]).decision == "fail"  # nothing left to judge


def _at(passes: int, fails: int) -> list[MetricResult]:
    return [result("Pass") for _ in range(passes)] + [result("High") for _ in range(fails)]


def test_threshold_boundary_at_marginal() -> None:
    outcome = score(_at(3, 1))  # exactly 75
    assert (outcome.score, outcome.decision) == (75.0, "marginal")
    below = score(_at(74, 26))
    assert (below.score, below.decision) == (74.0, "fail")


def test_threshold_boundary_at_pass() -> None:
    outcome = score(_at(19, 1))  # exactly 95
    assert (outcome.score, outcome.decision) == (95.0, "pass")
    below = score(_at(94, 6))
    assert (below.score, below.decision) == (94.0, "marginal")


def _judge_result(outcome) -> JudgeResult:  # type: ignore[no-untyped-def]
    return JudgeResult(
        outcome.score, outcome.decision, outcome.reason, (), outcome.groups, 75.0, 95.0,
        "", "", "", "1", 0.98, 0.25, 50, "",
    )  # fmt: skip


def test_interval_rule_aborts_at_marginal_and_marginal_never_promotes() -> None:
    """Per interval, score <= marginal aborts (although the label says marginal)."""
    at_marginal = _judge_result(score(_at(3, 1)))
    assert at_marginal.decision == "marginal"
    assert at_marginal.action(final=False) == "abort"
    assert at_marginal.action(final=True) == "abort"
    above = _judge_result(score(_at(79, 21)))  # 79: inside the marginal band
    assert above.action(final=False) == "continue"
    assert above.action(final=True) == "needs-approval"
    at_pass = _judge_result(score(_at(19, 1)))
    assert at_pass.action(final=True) == "promote"
    assert at_pass.action(final=False) == "continue"


def test_deviation_critical_error_fails() -> None:
    """Kayenta drops the critical flag on Error; here a critical Error fails the canary."""
    metrics = [
        MetricInput("ok", [float(v) for v in range(60)], [float(v) for v in range(60)]),
        MetricInput("broken", [1.0] * 60, [1.0] * 59 + [float("inf")], critical=True),
    ]
    verdict = judge(metrics)
    broken = verdict.metrics[1]
    assert (broken.classification, broken.critical) == ("Error", True)
    assert (verdict.score, verdict.decision) == (0.0, "fail")
    assert dev.CRITICAL_ERROR_FAILS in verdict.deviations


def test_deviation_error_caps_at_marginal() -> None:
    """Kayenta ignores Error in scoring; here an Error anywhere caps the decision."""
    outcome = score([result("Pass") for _ in range(20)] + [result("Error", name="flaky")])
    assert outcome.score == 100.0
    assert outcome.decision == "marginal"
    assert "'flaky' could not be judged" in outcome.reason
    assert dev.ERROR_CAPS_AT_MARGINAL in outcome.deviations


def test_deviation_empty_group_scores_zero() -> None:
    """Kayenta counts a group of only Nodata/Error as 100; here it counts as 0."""
    results = [result("Pass", "a") for _ in range(3)] + [result("Nodata", "b")]
    outcome = score(results, {"a": 50, "b": 50})
    b = outcome.groups["b"]
    assert b.no_data and b.score == 0.0
    assert outcome.score == 50.0  # Kayenta would say 100
    assert dev.EMPTY_GROUP_SCORES_ZERO in outcome.deviations


def test_deviation_too_few_points_is_nodata() -> None:
    """Kayenta compares any non-empty series; here fewer than min_points is never Pass: it
    counts as a failure in its group (NodataFailMetric), so it can only lower the score."""
    rng = random.Random(3)
    metric = MetricInput(
        "m", [rng.random() for _ in range(10)], [rng.random() + 5 for _ in range(10)]
    )
    verdict = judge([metric])
    assert verdict.metrics[0].classification == "NodataFailMetric"
    assert verdict.decision == "fail"
    assert dev.TOO_FEW_POINTS_IS_NODATA in verdict.deviations
    assert judge([metric], JudgeConfig(min_points=10)).metrics[0].classification == "High"


def test_too_few_points_never_raise_the_score() -> None:
    """2 Pass + 1 High on 30 points: Kayenta scores 66.67 (FAIL). Dropping the short
    metric from its group would make it 100 (PASS); counting it against the group must not."""
    rng = random.Random(5)
    same = [[rng.gauss(100, 5) for _ in range(60)] for _ in range(4)]
    short_baseline = [rng.gauss(100, 5) for _ in range(30)]
    short_canary = [rng.gauss(150, 5) for _ in range(30)]
    metrics = [
        MetricInput("a", same[0], same[1]),
        MetricInput("b", same[2], same[3]),
        MetricInput("short", short_baseline, short_canary),
    ]
    kayenta_like = judge(metrics, JudgeConfig(min_points=1))
    assert [m.classification for m in kayenta_like.metrics] == ["Pass", "Pass", "High"]
    assert (kayenta_like.score, kayenta_like.decision) == (66.67, "fail")
    verdict = judge(metrics)
    assert verdict.metrics[2].classification == "NodataFailMetric"
    assert verdict.score <= kayenta_like.score
    assert verdict.decision == "fail"


def test_deviation_seeded_noise() -> None:
    """Kayenta's noise is unseeded; here the same run gives the same verdict bytes."""
    metric = MetricInput("errors", [1.0] * 60, [2.0] * 60)
    config = JudgeConfig(run_id="r1")
    assert judge([metric], config).to_json() == judge([metric], config).to_json()
    assert dev.SEEDED_NOISE in judge([metric], config).deviations


def test_deviation_strict_settings() -> None:
    """Kayenta reads an unknown direction as 'either'; here it is refused."""
    with pytest.raises(ValueError, match=r"metrics\[0\]\.direction: 'up' is not one of"):
        judge([MetricInput("m", [1.0], [1.0], direction="up")])


def test_every_deviation_has_a_named_test() -> None:
    names = {n for n in globals() if n.startswith("test_deviation_")}
    for deviation in dev.DEVIATIONS:
        assert "test_deviation_" + deviation.name.replace("-", "_") in names
