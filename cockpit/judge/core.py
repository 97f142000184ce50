"""judge(): classify every metric, score the groups, decide, and digest the evidence."""

from __future__ import annotations

from collections.abc import Sequence

from cockpit.judge.canonical import canonical_json, digest_text, input_digests
from cockpit.judge.cleaning import floats
from cockpit.judge.inputs import JudgeConfig, MetricInput
from cockpit.judge.result import JudgeResult
from cockpit.judge.scoring import decide, resolve_weights

# Bump when any rule, default or statistic changes what a verdict says for the same input.
JUDGE_VERSION = "1.2.0"


def validate(metrics: Sequence[MetricInput], config: JudgeConfig) -> None:
    """Raise ValueError with the path of the first problem (e.g. 'metrics[2].direction: ...')."""
    config.validate()
    if not metrics:
        raise ValueError("metrics: at least one metric is needed")
    seen: set[str] = set()
    for i, metric in enumerate(metrics):
        try:
            metric.validate()
        except ValueError as exc:
            raise ValueError(f"metrics[{i}].{exc}") from None
        if metric.name in seen:
            raise ValueError(f"metrics[{i}].name: {metric.name!r} appears twice")
        seen.add(metric.name)
    resolve_weights(config.groups, [m.group for m in metrics])


def judge(metrics: Sequence[MetricInput], config: JudgeConfig | None = None) -> JudgeResult:
    """Judge the canary against the baseline, metric by metric, as NetflixACAJudge does.

    Deterministic: the same metrics and config give a byte-identical to_json().
    """
    # numpy comes with the statistics: loading a document or a config never pays for it
    from cockpit.judge.classify import classify

    config = config or JudgeConfig()
    validate(metrics, config)
    weights = resolve_weights(config.groups, [m.group for m in metrics])
    # each series is converted once, for cleaning and for the digest
    series = [
        (
            m.name,
            floats(m.baseline, f"metrics[{i}].baseline"),
            floats(m.canary, f"metrics[{i}].canary"),
        )
        for i, m in enumerate(metrics)
    ]
    results = tuple(
        classify(m, config, (baseline, canary))
        for m, (_, baseline, canary) in zip(metrics, series, strict=True)
    )
    outcome = decide(results, weights, config.marginal, config.passing)
    settings_json = canonical_json(
        {"config": config.settings(), "metrics": [m.settings() for m in metrics]}
    )
    series_digest, inputs_digest = input_digests(series, settings_json)
    return JudgeResult(
        score=outcome.score,
        decision=outcome.decision,
        reason=outcome.reason,
        metrics=results,
        groups=outcome.groups,
        marginal=float(config.marginal),
        passing=float(config.passing),
        digest=inputs_digest,
        series_digest=series_digest,
        config_digest=digest_text(settings_json),
        judge_version=JUDGE_VERSION,
        confidence=float(config.confidence),
        tolerance=float(config.tolerance),
        min_points=config.min_points,
        run_id=config.run_id,
        deviations=outcome.deviations,
    )
