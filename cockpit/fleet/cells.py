"""Cells: each source's facts indexed by (service, environment), merged first-configured-wins."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cockpit.model import Alert, Canary, Deployment, DriftReport, Observation, PipelineRun

Key = tuple[str, str]  # (service, environment)

# Observation fields kept as one merged list across sources (not per cell or per run).
LISTED = (
    "canaries",
    "metrics",
    "windows",
    "drift",
    "alerts",
    "approvals",
    "gates",
    "environments",
    "annotations",
)


@dataclass(frozen=True, slots=True)
class Cell:
    """Everything known about one service in one environment."""

    service: str
    environment: str
    deployment: Deployment | None = None
    canary: Canary | None = None
    drift: DriftReport | None = None
    alerts: tuple[Alert, ...] = ()
    sources: tuple[str, ...] = ()

    @property
    def firing(self) -> tuple[Alert, ...]:
        return tuple(a for a in self.alerts if a.firing)


@dataclass(frozen=True, slots=True)
class ObsIndex:
    """One observation's facts by (service, environment), built once per poll."""

    deployments: Mapping[Key, Deployment]
    canaries: Mapping[Key, Canary]
    drift: Mapping[Key, DriftReport]
    alerts: Mapping[Key, tuple[Alert, ...]]
    runs: Mapping[str, PipelineRun]

    @staticmethod
    def of(obs: Observation, previous: ObsIndex | None, old: Observation | None) -> ObsIndex:
        def reuse(name: str, build):  # type: ignore[no-untyped-def]
            if (
                previous is not None
                and old is not None
                and getattr(old, name) is getattr(obs, name)
            ):
                return getattr(previous, name)
            return build(getattr(obs, name))

        return ObsIndex(
            deployments=reuse("deployments", _by_cell),
            canaries=reuse("canaries", _by_cell),
            drift=reuse("drift", _by_cell),
            alerts=reuse("alerts", _alerts_by_key),
            runs=_runs_index(obs, previous, old),
        )


EMPTY_INDEX = ObsIndex({}, {}, {}, {}, {})


def delta_applies(obs: Observation, old: Observation | None) -> bool:
    return old is not None and obs.runs_delta is not None and obs.runs_delta[0] == old.observed_at


def _runs_index(
    obs: Observation, previous: ObsIndex | None, old: Observation | None
) -> Mapping[str, PipelineRun]:
    if previous is not None and old is not None:
        if old.runs is obs.runs:
            return previous.runs
        if delta_applies(obs, old):
            _, changed, removed = obs.runs_delta  # type: ignore[misc]
            runs = dict(previous.runs)
            for rid in removed:
                runs.pop(rid, None)
            if changed:
                fresh = {r.id: r for r in obs.runs if r.id in changed}
                runs.update(fresh)
            return runs
    return {r.id: r for r in obs.runs}


def _by_cell(items: Iterable[Deployment | Canary | DriftReport]) -> dict[Key, object]:
    return {(x.service, x.environment): x for x in items}


def _alerts_by_key(alerts: Iterable[Alert]) -> dict[Key, tuple[Alert, ...]]:
    out: dict[Key, list[Alert]] = {}
    for a in alerts:
        out.setdefault((a.service, a.environment), []).append(a)
    return {k: tuple(v) for k, v in out.items()}


def changed_keys(old: ObsIndex, new: ObsIndex) -> set[Key]:
    changed: set[Key] = set()
    for name in ("deployments", "canaries", "drift", "alerts"):
        before, after = getattr(old, name), getattr(new, name)
        if before is after:
            continue
        for key in before.keys() | after.keys():
            x, y = before.get(key), after.get(key)
            if x is not y and x != y:
                changed.add(key)
    return changed


def merge_cell(key: Key, order: list[str], indexes: Mapping[str, ObsIndex]) -> Cell | None:
    """Facts for one cell; when two sources report the same kind, the first configured wins."""
    deployment = canary = drift = None
    alerts: list[Alert] = []
    sources: list[str] = []
    for name in order:
        idx = indexes.get(name)
        if idx is None:
            continue
        found = False
        if deployment is None and key in idx.deployments:
            deployment = idx.deployments[key]
            found = True
        if canary is None and key in idx.canaries:
            canary = idx.canaries[key]
            found = True
        if drift is None and key in idx.drift:
            drift = idx.drift[key]
            found = True
        if key in idx.alerts:
            alerts.extend(idx.alerts[key])
            found = True
        if found:
            sources.append(name)
    if deployment is None and canary is None and drift is None and not alerts:
        return None
    return Cell(key[0], key[1], deployment, canary, drift, tuple(alerts), tuple(sources))


def collect(
    order: list[str], observations: Mapping[str, Observation]
) -> dict[str, tuple[Any, ...]]:
    out: dict[str, list[Any]] = {n: [] for n in LISTED}
    for name in order:
        obs = observations.get(name)
        if obs is None:
            continue
        for n, items in out.items():
            items.extend(getattr(obs, n))
    return {n: tuple(v) for n, v in out.items()}
