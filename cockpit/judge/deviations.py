"""The judge's deliberate deviations from Kayenta, each named: all of them fail closed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Deviation:
    name: str
    kayenta: str  # what NetflixACAJudge does
    judge: str  # what this judge does instead
    why: str


CRITICAL_ERROR_FAILS = "critical-error-fails"
ERROR_CAPS_AT_MARGINAL = "error-caps-at-marginal"
EMPTY_GROUP_SCORES_ZERO = "empty-group-scores-zero"
TOO_FEW_POINTS_IS_NODATA = "too-few-points-is-nodata"
WEIGHTS_VALIDATED = "weights-validated"
SEEDED_NOISE = "seeded-noise"
STRICT_SETTINGS = "strict-settings"

DEVIATIONS = (
    Deviation(
        CRITICAL_ERROR_FAILS,
        "a metric that cannot be judged (Error) never sets the critical flag",
        "Error on a critical metric keeps the flag, so the canary fails with score 0",
        "a critical metric nobody could judge is not evidence that the canary is safe",
    ),
    Deviation(
        ERROR_CAPS_AT_MARGINAL,
        "Error is left out of the group scores and otherwise ignored",
        "any Error on an unmuted metric caps the decision at marginal",
        "an automatic promotion must not rest on a metric that failed to compute",
    ),
    Deviation(
        EMPTY_GROUP_SCORES_ZERO,
        "a group with only Nodata/Error metrics reports 0 but counts as 100 in the summary",
        "such a group counts as 0",
        "missing evidence must lower the score, not raise it",
    ),
    Deviation(
        TOO_FEW_POINTS_IS_NODATA,
        "any non-empty series is compared; an empty series with nanStrategy=replace passes",
        "fewer than min_points (default 50) after cleaning is never Pass: it counts as a "
        "failure in its group (NodataFailMetric); an empty series or a critical metric is Nodata",
        "a handful of points gives an interval too wide to mean anything",
    ),
    Deviation(
        WEIGHTS_VALIDATED,
        "group weights are not checked: over 100 gives negative weights, unknown groups are lost",
        "weights must name existing groups, be >= 0 and sum to 100 "
        "(unweighted groups share the rest)",
        "a misconfigured weight silently changes every verdict",
    ),
    Deviation(
        SEEDED_NOISE,
        "the tie-breaking noise for constant samples is unseeded",
        "the noise is seeded from sha256(run_id, metric name) and the seed is recorded",
        "re-judging stored inputs must give the identical verdict",
    ),
    Deviation(
        STRICT_SETTINGS,
        "an unknown direction is read as 'either'; unknown keys are ignored",
        "unknown values and keys are refused with the JSON path of the problem",
        "a typo in a canary config must not silently change what is judged",
    ),
)

BY_NAME = {d.name: d for d in DEVIATIONS}
