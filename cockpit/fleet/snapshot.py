"""The fleet snapshot: one immutable, merged view of every connector's latest observation.

Building a new snapshot from the previous one touches only what the newest observation
changed, and records those changes, so screens can update in place row by row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from cockpit.clock import ago
from cockpit.fleet.cells import (
    EMPTY_INDEX,
    LISTED,
    Cell,
    Delta,
    Key,
    ObsIndex,
    changed_keys,
    collect,
    delta_applies,
    merge_cell,
    updated,
)
from cockpit.fleet.layered import Layered
from cockpit.model import (
    Alert,
    Canary,
    DriftReport,
    Environment,
    Observation,
    PendingApproval,
    PipelineRun,
)

if TYPE_CHECKING:
    from cockpit.evidence_model import Evidence, EvidenceKind
    from cockpit.model import (
        Annotation,
        CanaryMetrics,
        ChangeWindow,
        EnvironmentInfo,
        Gate,
        RateBudget,
    )


@dataclass(frozen=True, slots=True)
class SourceState:
    """How one connector instance is doing."""

    name: str
    type: str
    ok: bool | None  # None until the first poll finishes
    last_attempt: datetime | None
    last_success: datetime | None
    error: str
    failures: int
    stale_after: float
    retry_in: float | None = None  # seconds until the next attempt after a failure
    latency: float | None = None
    capabilities: frozenset[str] = frozenset()  # which kinds of facts it reports
    incomplete: str = ""  # what its last poll had not read yet (published early)
    rate: tuple[RateBudget, ...] = ()  # its remote's rate limits, as last reported

    def stale(self, now: datetime) -> bool:
        """Past its staleness bound: the facts it reported may no longer hold."""
        if self.last_success is None:
            return self.ok is False
        return (now - self.last_success).total_seconds() > self.stale_after

    def problem(self, now: datetime) -> str:
        """Why its facts cannot be trusted now (failing, stale, never answered), or ""."""
        since = f"last success {ago(self.last_success, now)} ago" if self.last_success else ""
        if self.ok is None:
            return f"{self.name} has not answered yet"
        if not self.ok:
            return f"{self.name} failing ({since or 'never succeeded'}): {self.error}"
        if self.stale(now):
            return f"{self.name} stale ({since})"
        if self.incomplete:
            return f"{self.name} still reading {self.incomplete}"
        return ""

    def label(self, now: datetime) -> str:
        """connecting, stale, error, reading (answered, but not all of it yet: its gates
        stay unknown), or ok."""
        if self.ok is None:
            return "connecting"
        if self.stale(now):
            return "stale"
        if self.ok and self.incomplete:
            return "reading"
        return "ok" if self.ok else "error"


@dataclass(frozen=True)
class Changes:
    """What differs from the previous snapshot (generation - 1)."""

    cells: frozenset[Key] = frozenset()
    services_added: bool = False
    runs: frozenset[str] = frozenset()
    runs_removed: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    other: bool = False  # drift, alerts, approvals, canaries lists changed
    everything: bool = False


@dataclass(frozen=True, eq=False)  # one refresh: told apart by its generation, not by value
class FleetSnapshot:
    """The fleet as of one refresh: every cell, run, canary and alert, and each source's state."""

    generation: int
    taken_at: datetime
    environments: tuple[Environment, ...]
    services: tuple[str, ...]
    cells: Mapping[Key, Cell]
    runs: Mapping[str, PipelineRun]  # id -> run, every source
    canaries: tuple[Canary, ...]
    metrics: tuple[CanaryMetrics, ...]
    windows: tuple[ChangeWindow, ...]
    drift: tuple[DriftReport, ...]
    alerts: tuple[Alert, ...]
    approvals: tuple[PendingApproval, ...]
    gates: tuple[Gate, ...]
    environment_info: tuple[EnvironmentInfo, ...]
    sources: Mapping[str, SourceState]
    observations: Mapping[str, Observation]
    indexes: Mapping[str, ObsIndex] = field(default_factory=dict)
    changes: Changes = field(default_factory=Changes)
    annotations: tuple[Annotation, ...] = ()
    # Supply-chain documents of every source, by (service, kind), first-configured source
    # first; rebuilt only when a source's evidence changed (a no-change poll keeps it).
    evidence: Mapping[tuple[str, str], tuple[Evidence, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    @staticmethod
    def empty(environments: Iterable[Environment], taken_at: datetime) -> FleetSnapshot:
        return FleetSnapshot(
            generation=0,
            taken_at=taken_at,
            environments=tuple(environments),
            services=(),
            cells=MappingProxyType({}),
            runs=MappingProxyType({}),
            canaries=(),
            metrics=(),
            windows=(),
            drift=(),
            alerts=(),
            approvals=(),
            gates=(),
            environment_info=(),
            sources=MappingProxyType({}),
            observations=MappingProxyType({}),
            changes=Changes(everything=True),
        )

    def cell(self, service: str, environment: str) -> Cell:
        return self.cells.get((service, environment)) or Cell(service, environment)

    def environment(self, name: str) -> Environment | None:
        for env in self.environments:
            if env.name == name:
                return env
        return None

    def runs_newest_first(self) -> list[PipelineRun]:
        return _newest_first(self.runs.values())

    def runs_for(self, service: str) -> list[PipelineRun]:
        # Filter before sorting: a large fleet has tens of thousands of runs.
        return _newest_first(r for r in self.runs.values() if r.service == service)

    def gates_for(self, service: str, environment: str) -> tuple[Gate, ...]:
        return tuple(
            g
            for g in self.gates
            if (not g.service or g.service == service)
            and (not g.environment or g.environment == environment)
        )

    def evidence_for(self, service: str, version: str, kind: EvidenceKind) -> tuple[Evidence, ...]:
        """The documents of `kind` about `version` of `service`, every source's."""
        return tuple(
            e for e in self.evidence.get((service, kind.value), ()) if e.version == version
        )

    def evidence_history(self, service: str, kind: EvidenceKind) -> tuple[Evidence, ...]:
        """Every document of `kind` about `service`, any version or run (flaky detection
        reads the tests reports across runs), newest run first where runs are known."""
        docs = self.evidence.get((service, kind.value), ())
        runs = self.runs

        def when(e: Evidence) -> tuple[datetime, int]:
            run = runs.get(e.run_id)
            return (run.queued_at if run is not None else e.observed_at, e.attempt)

        return tuple(sorted(docs, key=when, reverse=True))

    def stale_sources(self) -> list[str]:
        return [s.name for s in self.sources.values() if s.stale(self.taken_at)]

    def source_problem(self, *names: str) -> str:
        """Why evidence from these sources is not to be trusted now, or "" if all are sound.

        A source the hub has no state for is unsound too: evidence of unknown health
        must never pass a gate."""
        for name in dict.fromkeys(names):
            state = self.sources.get(name)
            problem = state.problem(self.taken_at) if state else f"{name} is not a known source"
            if problem:
                return problem
        return ""

    def with_source(self, state: SourceState, taken_at: datetime) -> FleetSnapshot:
        """A new snapshot where only a source's health changed (a failed poll)."""
        sources = dict(self.sources)
        sources[state.name] = state
        return _replace(
            self,
            generation=self.generation + 1,
            taken_at=taken_at,
            sources=MappingProxyType(sources),
            changes=Changes(sources=frozenset({state.name})),
        )

    def with_observation(
        self,
        obs: Observation,
        state: SourceState,
        taken_at: datetime,
        delta: tuple[object, Delta] | None = None,
    ) -> FleetSnapshot:
        """A new snapshot with `obs` replacing that source's previous observation.

        `delta` is (the observation it was found against, what changed from it: see
        ObsIndex.of); used only when that observation is the one `obs` replaces."""
        old = self.observations.get(obs.source)
        if old is obs:  # the same facts again: only the source's state moved
            return self.with_source(state, taken_at)
        fields = delta[1] if delta is not None and old is not None and delta[0] is old else None
        observations = dict(self.observations)
        observations[obs.source] = obs
        sources = dict(self.sources)
        sources[state.name] = state
        order = list(self.sources) if state.name in self.sources else [*self.sources, state.name]

        old_index = self.indexes.get(obs.source, EMPTY_INDEX)
        index = ObsIndex.of(obs, self.indexes.get(obs.source), old, fields)
        indexes = dict(self.indexes)
        indexes[obs.source] = index
        changed_cells = changed_keys(old_index, index)
        services = set(self.services)
        unmade: list[tuple[Key, Cell]] = []
        made: list[tuple[Key, Cell]] = []
        for key in changed_cells:
            cell = merge_cell(key, order, indexes)
            if cell is not None:
                made.append((key, cell))
            elif (was := self.cells.get(key)) is not None:
                unmade.append((key, was))
        cells = updated(self.cells, unmade, made)  # no copy of every cell (30,000 at 10,000)
        services_added = False
        # An alert naming no service (service "") is reported, but is no row of the fleet.
        new_services = {k[0] for k in changed_cells if k in cells and k[0]}
        if not new_services <= services:
            services |= new_services
            services_added = True
        if old is not None:
            # A service vanishes when no cell mentions it any more.
            gone = {k[0] for k in changed_cells if k not in cells}
            if gone:
                still = {k[0] for k in cells}
                if gone - still:
                    services &= still
                    services_added = True

        runs = self.runs
        changed_runs: frozenset[str] = frozenset()
        removed_runs: frozenset[str] = frozenset()
        if old is None or old.runs is not obs.runs:
            before, after = old_index.runs, index.runs
            if old is not None and obs.runs_delta is not None and delta_applies(obs, old):
                _, hinted, dropped = obs.runs_delta
                changed_runs = frozenset(hinted & after.keys())
                removed_runs = frozenset(dropped & before.keys())
            else:
                # Only the runs whose objects differ from the last poll's can have changed.
                maybe = index.touched.get("runs") if old is not None else None
                candidates: Iterable[str] = after.keys() if maybe is None else maybe & after.keys()
                changed_runs = frozenset(
                    rid
                    for rid in candidates
                    if (prev := before.get(rid)) is not (run := after[rid]) and prev != run
                )
                lost: AbstractSet[str] = before.keys() if maybe is None else maybe & before.keys()
                removed_runs = frozenset(lost - after.keys())
            alone = not any(i.runs for n, i in indexes.items() if n != obs.source)
            if (changed_runs or removed_runs) and alone:
                # The one source of runs: its index is the merge (no copy of every run). A
                # Layered index is read-only already; a dict one is given behind a proxy.
                runs = after if isinstance(after, Layered) else MappingProxyType(after)
            elif changed_runs or removed_runs:
                prior = self.runs
                runs = updated(
                    prior,
                    [(rid, left) for rid in removed_runs if (left := prior.get(rid)) is not None],
                    [(rid, after[rid]) for rid in changed_runs],
                )

        other = old is None or any(getattr(old, name) != getattr(obs, name) for name in LISTED)
        lists = collect(order, observations) if other else None
        evidence = self.evidence
        if old is None or (old.evidence is not obs.evidence and old.evidence != obs.evidence):
            evidence = _evidence_index(order, observations)
            other = True
        return FleetSnapshot(
            generation=self.generation + 1,
            taken_at=taken_at,
            environments=self.environments,
            services=tuple(sorted(services)) if services_added else self.services,
            cells=cells,
            runs=runs,
            canaries=lists["canaries"] if lists else self.canaries,
            metrics=lists["metrics"] if lists else self.metrics,
            windows=lists["windows"] if lists else self.windows,
            drift=lists["drift"] if lists else self.drift,
            alerts=lists["alerts"] if lists else self.alerts,
            approvals=lists["approvals"] if lists else self.approvals,
            gates=lists["gates"] if lists else self.gates,
            environment_info=lists["environments"] if lists else self.environment_info,
            annotations=lists["annotations"] if lists else self.annotations,
            evidence=evidence,
            sources=MappingProxyType(sources),
            observations=MappingProxyType(observations),
            indexes=MappingProxyType(indexes),
            changes=Changes(
                cells=frozenset(changed_cells),
                services_added=services_added,
                runs=changed_runs,
                runs_removed=removed_runs,
                sources=frozenset({state.name}),
                other=other,
            ),
        )


def _replace(snap: FleetSnapshot, **kw: object) -> FleetSnapshot:
    from dataclasses import replace

    return replace(snap, **kw)  # type: ignore[arg-type]


def _evidence_index(
    order: list[str], observations: Mapping[str, Observation]
) -> Mapping[tuple[str, str], tuple[Evidence, ...]]:
    out: dict[tuple[str, str], list[Evidence]] = {}
    values: dict[object, str] = {}  # an enum's `.value` is a slow descriptor: once per kind
    for name in order:
        obs = observations.get(name)
        for e in obs.evidence if obs is not None else ():
            kind = values.get(e.kind)
            if kind is None:
                kind = values[e.kind] = e.kind.value
            out.setdefault((e.service, kind), []).append(e)
    return MappingProxyType({k: tuple(v) for k, v in out.items()})


def _newest_first(runs: Iterable[PipelineRun]) -> list[PipelineRun]:
    return sorted(runs, key=lambda r: (r.queued_at, r.id), reverse=True)
