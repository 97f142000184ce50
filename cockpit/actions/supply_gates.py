"""The supply-chain gates of a promote: provenance, licences, scans, and the tests evidence.

Each gate reads the version's documents from the fleet snapshot and judges them with the
evaluators in `cockpit.supply` under `policy.supply_chain`. The evaluators (and the
libraries they load) are imported on the first promote, never at start-up. Judging is
cached by what it rests on (the documents' bodies, the digest or commit, the policy), so a
refresh that changed nothing parses nothing again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import Action, Evidence, EvidenceKind, Gate, GateStatus, PipelineRun
from cockpit.sanitize import clean

if TYPE_CHECKING:
    from cockpit.actions.supply_config import (
        LicencesConfig,
        ProvenanceConfig,
        ScansConfig,
        SupplyChainConfig,
        TestsConfig,
    )

SUPPLY = ("provenance", "licences", "scans")  # in checklist order, after the builtin gates
CACHE_SIZE = 512  # judged gates kept: a few per service and version in view
_cache: OrderedDict[Hashable, Gate] = OrderedDict()


def _doc_key(e: Evidence) -> Hashable:
    # The packed document stands for it (equal documents pack alike); its hash is computed
    # once per bytes object and kept by Python.
    return (e.source, e.ref, e.media_type, e.subject, e.run_id, e.attempt, e.problem, e.packed)


def _judged(key: Hashable, judge: Callable[[], Gate]) -> Gate:
    gate = _cache.get(key)
    if gate is None:
        try:
            gate = judge()
        except Exception as exc:  # an evaluator that cannot answer fails closed
            gate = Gate("", GateStatus.UNKNOWN, f"could not judge: {type(exc).__name__}: {exc}")
        _cache[key] = gate
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    else:
        _cache.move_to_end(key)
    return gate


def cached() -> int:
    """How many judged gates are kept (a refresh that changed nothing adds none)."""
    return len(_cache)


def _sources_problem(snapshot: FleetSnapshot, docs: Sequence[Evidence]) -> str:
    return snapshot.source_problem(*(d.source for d in docs)) if docs else ""


def _finish(
    name: str, gate: Gate, snapshot: FleetSnapshot, docs: Sequence[Evidence], where: Action
) -> Gate:
    """The evaluator's gate stamped with where it applies, unknown while a source it rests on
    is failing or stale (what it said then is kept in the evidence line)."""
    sources = ", ".join(dict.fromkeys(d.source for d in docs))
    gate = replace(
        gate,
        name=name,
        evidence=clean(gate.evidence, limit=400),
        service=where.service,
        environment=where.environment,
        source=sources,
        version=where.version,
        facts=tuple((clean(k, limit=80), clean(v, limit=200)) for k, v in gate.facts),
    )
    if problem := _sources_problem(snapshot, docs):
        evidence = f"{problem}; last said {gate.status.value}: {gate.evidence}"
        return replace(gate, status=GateStatus.UNKNOWN, evidence=clean(evidence, limit=400))
    return gate


def _unknown(name: str, why: str, where: Action) -> Gate:
    return Gate(
        name, GateStatus.UNKNOWN, why, where.service, where.environment, version=where.version
    )


def run_for(snapshot: FleetSnapshot, service: str, version: str) -> PipelineRun | None:
    """The newest run that built `version` of `service`."""
    if not version:
        return None
    return next((r for r in snapshot.runs_for(service) if r.version == version), None)


def artifact_digest(snapshot: FleetSnapshot, action: Action) -> str:
    """The image digest being promoted: the build's, else what runs it where it comes from."""
    run = run_for(snapshot, action.service, action.version)
    if run is not None and run.digest:
        return run.digest
    for env in (action.from_environment, action.environment):
        cell = snapshot.cell(action.service, env) if env else None
        if cell is None:
            continue
        dep = cell.deployment
        if dep is not None and dep.version == action.version and dep.digest:
            return dep.digest
        canary = cell.canary
        if canary is not None and canary.canary_version == action.version and canary.canary_digest:
            return canary.canary_digest
    return ""


def _config_key(config: object) -> Hashable:
    """A hashable picture of a (mutable) config section, for the cache key."""
    return repr(config)


def provenance_gate(snapshot: FleetSnapshot, action: Action, config: ProvenanceConfig) -> Gate:
    docs = snapshot.evidence_for(action.service, action.version, EvidenceKind.PROVENANCE)
    digest = artifact_digest(snapshot, action)
    if not digest:
        what = f"{clean(action.service)} {clean(action.version) or '?'}"
        return _unknown("provenance", f"no artifact digest known for {what}", action)

    def judge() -> Gate:
        from cockpit.supply import provenance

        policy = provenance.ProvenancePolicy(
            builders=tuple(config.builders),
            repository=config.repository,
            refs=tuple(config.refs),
            public_keys=tuple(config.public_keys),
            trusted_root=config.trusted_root,
            identities=tuple(
                provenance.SigstoreIdentity(i.issuer, i.san) for i in config.identities
            ),
        )
        return provenance.provenance_gate(
            docs, policy, service=action.service, version=action.version, digest=digest
        )

    key = ("provenance", _config_key(config), action.service, action.version, digest)
    gate = _judged((*key, *map(_doc_key, docs)), judge)
    return _finish("provenance", gate, snapshot, docs, action)


def licences_gate(snapshot: FleetSnapshot, action: Action, config: LicencesConfig) -> Gate:
    docs = snapshot.evidence_for(action.service, action.version, EvidenceKind.SBOM)

    def judge() -> Gate:
        from cockpit.supply import licences

        policy = licences.LicencePolicy(allow=tuple(config.allow), deny=tuple(config.deny))
        return licences.licence_gate(docs, policy, service=action.service, version=action.version)

    key = ("licences", _config_key(config), action.service, action.version)
    gate = _judged((*key, *map(_doc_key, docs)), judge)
    return _finish("licences", gate, snapshot, docs, action)


def scans_gate(snapshot: FleetSnapshot, action: Action, config: ScansConfig) -> Gate:
    docs = snapshot.evidence_for(action.service, action.version, EvidenceKind.SCAN)
    run = run_for(snapshot, action.service, action.version)
    commit = run.commit if run is not None else ""
    if not commit:
        what = f"{clean(action.service)} {clean(action.version) or '?'}"
        return _unknown("scans", f"no commit known for {what}", action)

    def judge() -> Gate:
        from cockpit.supply import scans

        policy = scans.ScanPolicy(fail_at=config.fail_at)
        return scans.scan_gate(
            docs, policy, service=action.service, version=action.version, commit=commit
        )

    key = ("scans", _config_key(config), action.service, action.version, commit)
    gate = _judged((*key, *map(_doc_key, docs)), judge)
    return _finish("scans", gate, snapshot, docs, action)


def tests_gate(snapshot: FleetSnapshot, action: Action, config: TestsConfig | None) -> Gate | None:
    """The tests gate from the version's JUnit/GitLab/Jenkins reports; None when it has none
    (the run's test summary then decides, as before)."""
    docs = snapshot.evidence_for(action.service, action.version, EvidenceKind.TESTS)
    if not docs:
        return None
    window = config.flaky_window if config is not None else 10
    history = snapshot.evidence_history(action.service, EvidenceKind.TESTS)

    def judge() -> Gate:
        from cockpit.supply import flaky

        policy = (
            flaky.TestsPolicy(flaky_window=config.flaky_window, flaky_blocks=config.flaky_blocks)
            if config is not None
            else flaky.TestsPolicy()
        )
        return flaky.tests_evidence_gate(
            docs, history, policy, service=action.service, version=action.version
        )

    # Runs past the window do not change the verdict; several reports a run at most.
    recent = history[: 4 * window]
    key = ("tests", _config_key(config), action.service, action.version)
    gate = _judged((*key, *map(_doc_key, docs), "history", *map(_doc_key, recent)), judge)
    return _finish("tests", gate, snapshot, docs, action)


def supply_checklist(
    snapshot: FleetSnapshot,
    action: Action,
    supply: SupplyChainConfig | None,
    wanted: set[str] | None,
) -> list[Gate]:
    """The provenance, licences and scans gates `action` needs: each configured one (that
    the environment's `gates:` list names, where it has one), and each named one that has
    no policy (unknown: nothing says what would pass)."""
    out = []
    for name in SUPPLY:
        section = getattr(supply, name, None) if supply is not None else None
        if wanted is not None and name not in wanted:
            continue
        if section is None:
            if wanted is not None:
                out.append(_unknown(name, f"no supply_chain.{name} policy configured", action))
            continue
        if name == "provenance":
            out.append(provenance_gate(snapshot, action, section))
        elif name == "licences":
            out.append(licences_gate(snapshot, action, section))
        else:
            out.append(scans_gate(snapshot, action, section))
    return out
