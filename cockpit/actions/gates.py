"""The go/no-go checklist: each gate's status and the evidence it rests on.

The cockpit computes four gates itself from the fleet snapshot (pipeline green, tests
passed, canary verdict, no firing critical alert), the supply-chain gates its policy asks
for from the documents connectors fetched (provenance, licences, scans:
`cockpit.actions.supply_gates`), and adds the named gates connectors report. Every gate
says pass, fail or unknown, and why.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from cockpit.fleet.analysis import UNKNOWN, evidence_sources
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import Action, Gate, GateStatus, PipelineRun, Severity, Status
from cockpit.sanitize import clean

if TYPE_CHECKING:
    from collections.abc import Iterator

    from cockpit.actions.policy_config import PolicyConfig
    from cockpit.actions.supply_config import SupplyChainConfig

BUILTIN = ("pipeline", "tests", "canary", "alerts")
SUPPLY = ("provenance", "licences", "scans")  # cockpit.actions.supply_gates.SUPPLY


def connector_named(policy: PolicyConfig) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Each name a `gates:` list (an environment's, the hotfix lane's) gives that only a
    connector can report, with where in the config: a typo of a builtin or supply-chain
    gate reads the same, and is unknown at every promote."""
    named = [(("environments", n), e.gates) for n, e in policy.environments.items()]
    hotfix = policy.lanes.hotfix
    named.append((("lanes", "hotfix"), hotfix.gates if hotfix else None))
    for place, names in named:
        for i, name in enumerate(names or ()):
            if name != "*" and name not in BUILTIN and name not in SUPPLY:
                yield ("policy", *place, "gates", i), name


def _run_for(snapshot: FleetSnapshot, service: str, version: str) -> PipelineRun | None:
    runs = snapshot.runs_for(service)
    if version:
        exact = [r for r in runs if r.version == version]
        if exact:
            return exact[0]
    return None


def pipeline_gate(snapshot: FleetSnapshot, service: str, version: str) -> Gate:
    run = _run_for(snapshot, service, version)
    if run is None:
        return Gate(
            "pipeline",
            GateStatus.UNKNOWN,
            f"no pipeline run reported for {service} {version or '?'}",
        )
    if problem := snapshot.source_problem(run.source):
        return Gate("pipeline", GateStatus.UNKNOWN, f"{run.id}: {problem}")
    built = [s for s in run.stages if not s.environment]  # build/test/scan, not the deploy stages
    failed = [s.name for s in built if s.status is Status.FAILED]
    if failed:
        return Gate("pipeline", GateStatus.FAIL, f"{run.id} failed at {', '.join(failed)}")
    # A run with no build stages reported yet (queued, or cancelled before any job ran)
    # proves nothing: only its own success, or every reported stage succeeding, is a pass.
    if (
        built and all(s.status is Status.SUCCEEDED for s in built)
    ) or run.status is Status.SUCCEEDED:
        return Gate("pipeline", GateStatus.PASS, f"{run.id} built {run.version} ({run.commit[:7]})")
    return Gate("pipeline", GateStatus.UNKNOWN, f"{run.id} still {run.status.value}")


def tests_gate(
    snapshot: FleetSnapshot,
    service: str,
    version: str,
    supply: SupplyChainConfig | None = None,
    action: Action | None = None,
) -> Gate:
    """From the version's test reports where it has some (totals, failing names, the flaky
    rule), else from its run's test summary."""
    if action is not None and snapshot.evidence:
        from cockpit.actions import supply_gates

        where = replace(action, version=version)
        judged = supply_gates.tests_gate(snapshot, where, supply.tests if supply else None)
        if judged is not None:
            return judged
    run = _run_for(snapshot, service, version)
    if run is None or run.tests is None:
        return Gate("tests", GateStatus.UNKNOWN, "no test summary reported")
    if problem := snapshot.source_problem(run.source):
        return Gate("tests", GateStatus.UNKNOWN, f"{run.id}: {problem}")
    t = run.tests
    if t.failed:
        return Gate("tests", GateStatus.FAIL, f"{t.failed} of {t.total} failed in {run.id}")
    return Gate("tests", GateStatus.PASS, f"{t.passed} passed, {t.skipped} skipped in {run.id}")


def canary_gate(snapshot: FleetSnapshot, service: str, environment: str) -> Gate:
    canary = snapshot.cell(service, environment).canary
    if canary is None or not canary.phase.active:
        return Gate("canary", GateStatus.UNKNOWN, "no active canary to judge")
    verdict = canary.verdict
    if verdict is None:
        return Gate("canary", GateStatus.UNKNOWN, "canary not judged yet")
    # Checked here too: the source may have gone stale since the verdict was last shown.
    if problem := snapshot.source_problem(*evidence_sources(snapshot, canary)):
        return Gate("canary", GateStatus.UNKNOWN, f"evidence not current: {problem}")
    if verdict.decision == UNKNOWN:
        return Gate("canary", GateStatus.UNKNOWN, verdict.reason)
    evidence = f"{verdict.decision} (score {verdict.score:.1f}; pass >= {verdict.passing:g})"
    if verdict.digest:
        evidence += f" verdict {verdict.digest[:19]}"
    if verdict.decision == "pass":
        return Gate("canary", GateStatus.PASS, evidence)
    if verdict.decision == "marginal":
        # Marginal never promotes on its own; it is a human's call, shown as unknown.
        return Gate("canary", GateStatus.UNKNOWN, "marginal: a human decides; " + evidence)
    return Gate("canary", GateStatus.FAIL, evidence)


def alerts_gate(snapshot: FleetSnapshot, service: str, environment: str) -> Gate:
    firing = [
        a for a in snapshot.cell(service, environment).firing if a.severity is Severity.CRITICAL
    ]
    if firing:
        # A silence stops the paging, not the problem: a silenced critical alert still
        # fails the gate, and the evidence says it is silenced so nobody is surprised.
        names = ", ".join(sorted({a.name + (" (silenced)" if a.silenced else "") for a in firing}))
        return Gate("alerts", GateStatus.FAIL, f"critical alert firing: {names}")
    # Silence proves nothing unless every alert source is answering.
    watchers = [s.name for s in snapshot.sources.values() if "alerts" in s.capabilities]
    if not watchers:
        return Gate("alerts", GateStatus.UNKNOWN, "no alert source configured")
    if problem := snapshot.source_problem(*watchers):
        return Gate("alerts", GateStatus.UNKNOWN, f"cannot tell: {problem}")
    return Gate("alerts", GateStatus.PASS, "no critical alert firing")


def stale_evidence(snapshot: FleetSnapshot, action: Action) -> list[str]:
    """Why what an action's dialog shows may be out of date: each failing or stale source
    that reports on its service and environment, its canary, runs, documents or execution."""
    cell = snapshot.cell(action.service, action.environment)
    names = [*cell.sources, action.source, *(r.source for r in snapshot.runs_for(action.service))]
    names += [
        e.source
        for (svc, _), docs in snapshot.evidence.items()
        if svc == action.service
        for e in docs
    ]
    if cell.canary is not None:
        names += evidence_sources(snapshot, cell.canary)
    known = [snapshot.sources[n] for n in dict.fromkeys(names) if n in snapshot.sources]
    return [p for s in known if (p := s.problem(snapshot.taken_at))]


def checklist(
    snapshot: FleetSnapshot,
    action: Action,
    required: list[str] | None,
    supply: SupplyChainConfig | None = None,
) -> tuple[Gate, ...]:
    """The gates that apply to `action`, in a stable order. `required` None means all (and
    every supply-chain gate `supply` configures); each name in `required` is in the result,
    unknown when nothing reports it."""
    service, env = action.service, action.environment
    version = action.version
    if not version:
        cell = snapshot.cell(service, env)
        version = cell.canary.canary_version if cell.canary else ""
    wanted = set(required) if required is not None else None
    gates = [
        pipeline_gate(snapshot, service, version),
        tests_gate(snapshot, service, version, supply, action),
        canary_gate(snapshot, service, env),
        alerts_gate(snapshot, service, env),
    ]
    configured = [n for n in SUPPLY if supply is not None and getattr(supply, n) is not None]
    if configured or (wanted is not None and wanted & set(SUPPLY)):
        from cockpit.actions import supply_gates

        where = replace(action, version=version)
        gates += supply_gates.supply_checklist(snapshot, where, supply, wanted)
    # A supply-chain gate the cockpit judges itself is not also taken from a connector.
    judged = {g.name for g in gates}
    reported = _judging(snapshot, service, env, version)
    named = [_current(snapshot, g) for g in reported if g.name not in judged]
    out = []
    for gate in gates + named:
        builtin = gate.name in judged
        if wanted is None or gate.name in wanted or (not builtin and "*" in wanted):
            out.append(gate)
    # A required gate nothing reports (a typo, a connector gate absent for this service)
    # is unknown, not silently left out: it blocks where unknown gates block.
    shown = {g.name for g in out}
    for name in dict.fromkeys(required or ()):
        if name != "*" and name not in shown:
            shown_as = clean(name, limit=80)
            why = f"no source reports the gate '{shown_as}'"
            out.append(Gate(shown_as, GateStatus.UNKNOWN, why, service, env, version=version))
    return tuple(out)


def _judging(snapshot: FleetSnapshot, service: str, env: str, version: str) -> list[Gate]:
    """The connectors' named gates as evidence about `version` itself.

    A scan or licence check of another version (or of no named version) says nothing about
    this one: such a gate stands in the checklist as unknown, with what was reported.
    """
    reported = [g for g in snapshot.gates_for(service, env) if g.name not in BUILTIN]
    out = []
    for name in dict.fromkeys(g.name for g in reported):
        same = [g for g in reported if g.name == name]
        exact = [g for g in same if version and g.version == version]
        if exact:
            out.extend(exact)
            continue
        seen = sorted({f"{g.status.value} for {g.version}" for g in same if g.version})
        evidence = f"no evidence for {service} {version or '(no version)'} " + (
            f"(reported: {', '.join(seen)})" if seen else "(the report names no version)"
        )
        out.append(Gate(name, GateStatus.UNKNOWN, evidence, service, env, same[0].source, version))
    return out


def _current(snapshot: FleetSnapshot, gate: Gate) -> Gate:
    """A connector's gate, or unknown while the connector that reported it fails or is stale."""
    problem = snapshot.source_problem(gate.source) if gate.source else ""
    if not problem:
        return gate
    evidence = f"{problem}; last said {gate.status.value}: {gate.evidence}"
    return replace(gate, status=GateStatus.UNKNOWN, evidence=evidence)
