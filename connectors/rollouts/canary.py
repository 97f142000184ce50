"""Reading an Argo Rollout as a canary: steps, weights, phase, pauses, revisions, analysis."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime

from cockpit.model import CanaryPhase, Health, MetricSeries, Status
from connectors.kube.objects import Obj, condition, meta, parse_time

HASH_LABEL = "rollouts-pod-template-hash"
REVISION = "rollout.argoproj.io/revision"
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def steps_of(ro: Obj) -> list[Obj]:
    canary = ((ro.get("spec") or {}).get("strategy") or {}).get("canary") or {}
    return list(canary.get("steps") or [])


def step_index(ro: Obj) -> int:
    """status.currentStepIndex, 0 when the controller has not set it yet."""
    return int((ro.get("status") or {}).get("currentStepIndex") or 0)


def finished(ro: Obj) -> bool:
    status = ro.get("status") or {}
    return bool(status.get("stableRS")) and status.get("currentPodHash") == status.get("stableRS")


def set_weight(ro: Obj) -> int:
    """The weight the steps ask for now, as Argo Rollouts computes it."""
    status = ro.get("status") or {}
    if status.get("abort"):
        return 0
    steps = steps_of(ro)
    index = step_index(ro)
    if finished(ro) or index >= len(steps):
        return 100
    for step in reversed(steps[: index + 1]):
        if "setWeight" in step:
            return int(step["setWeight"])
    return 0


def actual_weight(ro: Obj) -> int | None:
    """The weight traffic routing reports (status.canary.weights), when there is any."""
    weights = (((ro.get("status") or {}).get("canary")) or {}).get("weights") or {}
    canary = weights.get("canary") or {}
    return int(canary["weight"]) if "weight" in canary else None


def phase_of(ro: Obj) -> CanaryPhase:
    spec, status = ro.get("spec") or {}, ro.get("status") or {}
    if status.get("abort"):
        return CanaryPhase.ABORTED
    phase = status.get("phase")
    if phase == "Degraded":
        return CanaryPhase.FAILED
    if spec.get("paused") or phase == "Paused" or status.get("pauseConditions"):
        return CanaryPhase.PAUSED
    if status.get("promoteFull") and not finished(ro):
        return CanaryPhase.PROMOTED
    if phase == "Healthy" or (phase is None and finished(ro)):
        return CanaryPhase.SUCCEEDED
    return CanaryPhase.PROGRESSING


def at_pause_step(ro: Obj) -> bool:
    """Waiting at a pause step (or inconclusive analysis) with no operator's pause on top."""
    return bool((ro.get("status") or {}).get("pauseConditions")) and not (
        (ro.get("spec") or {}).get("paused")
    )


def pause_reasons(ro: Obj) -> list[str]:
    return [str(p.get("reason", "")) for p in (ro.get("status") or {}).get("pauseConditions") or []]


def rollout_state(ro: Obj) -> tuple[Status, Health, str]:
    """What runs, as Argo CD judges a Rollout's health: aborted or degraded, paused, moving."""
    status = ro.get("status") or {}
    phase = phase_of(ro)
    if phase in (CanaryPhase.ABORTED, CanaryPhase.FAILED):
        return Status.FAILED, Health.DEGRADED, str(status.get("message") or "rollout degraded")
    if phase is CanaryPhase.PAUSED:
        return Status.WAITING, Health.SUSPENDED, pause_text(ro)
    if phase is CanaryPhase.SUCCEEDED:
        return Status.SUCCEEDED, Health.HEALTHY, "rollout healthy"
    return Status.RUNNING, Health.PROGRESSING, str(status.get("message") or "rollout progressing")


def pause_text(ro: Obj) -> str:
    reasons = pause_reasons(ro)
    if (ro.get("spec") or {}).get("paused"):
        reasons.insert(0, "paused by an operator")
    return "paused: " + ", ".join(r for r in reasons if r) if reasons else ""


def started_at(ro: Obj, canary_rs: Obj | None) -> datetime:
    created = parse_time(meta(ro).get("creationTimestamp"))
    if canary_rs is not None:
        return parse_time(meta(canary_rs).get("creationTimestamp"), created)
    progressing = condition(ro, "Progressing") or {}
    return parse_time(progressing.get("lastTransitionTime"), created)


def measurement_value(value: object) -> float:
    """A measurement's value ("[0.998]", "0.5", "[1, 2]") as its first number, else NaN."""
    match = _NUMBER.search(str(value or ""))
    return float(match.group()) if match else math.nan


def analysis_runs(ro: Obj) -> list[tuple[str, str, str]]:
    """(kind, run name, status) of the step and background analysis the rollout points at."""
    canary = (ro.get("status") or {}).get("canary") or {}
    out = []
    for kind, key in (
        ("step", "currentStepAnalysisRunStatus"),
        ("background", "currentBackgroundAnalysisRunStatus"),
    ):
        ref = canary.get(key) or {}
        if ref.get("name"):
            out.append((kind, str(ref["name"]), str(ref.get("status", ""))))
    return out


def analysis_text(ro: Obj, runs: Mapping[str, Obj]) -> str:
    """One line per analysis run: its phase, and per metric the tally and the last value."""
    parts = []
    for kind, name, phase in analysis_runs(ro):
        run = runs.get(f"{meta(ro).get('namespace', '')}/{name}")
        status = (run or {}).get("status") or {}
        text = f"{kind} analysis {status.get('phase') or phase or 'Pending'}"
        for result in status.get("metricResults") or []:
            measurements = result.get("measurements") or []
            last = measurements[-1].get("value", "") if measurements else ""
            text += (
                f"; {result.get('name', '')}: {int(result.get('successful') or 0)}/"
                f"{int(result.get('count') or 0)} ok"
            )
            if int(result.get("failed") or 0):
                text += f", {int(result['failed'])} failed"
            if last:
                text += f", last {last}"
        parts.append(text)
    return " | ".join(parts)


def _direction(condition_text: str) -> str:
    if ">" in condition_text:
        return "decrease"  # success needs it high: falling is bad
    if "<" in condition_text:
        return "increase"
    return "either"


def analysis_series(ro: Obj, runs: Mapping[str, Obj]) -> tuple[MetricSeries, ...]:
    """The measurements of the rollout's analysis runs as canary-only metric series.

    An AnalysisRun measures the canary alone, so the baseline is NaN (no data) throughout.
    """
    series = []
    for _, name, _ in analysis_runs(ro):
        run = runs.get(f"{meta(ro).get('namespace', '')}/{name}")
        if run is None:
            continue
        specs = {m.get("name"): m for m in (run.get("spec") or {}).get("metrics") or []}
        for result in (run.get("status") or {}).get("metricResults") or []:
            points = [
                (
                    parse_time(m.get("finishedAt") or m.get("startedAt")),
                    measurement_value(m.get("value")),
                )
                for m in result.get("measurements") or []
            ]
            metric = specs.get(result.get("name")) or {}
            series.append(
                MetricSeries(
                    name=str(result.get("name", "")),
                    unit="",
                    times=tuple(t for t, _ in points),
                    baseline=tuple(math.nan for _ in points),
                    canary=tuple(v for _, v in points),
                    direction=_direction(str(metric.get("successCondition", ""))),
                    group="analysis",
                )
            )
    return tuple(series)
