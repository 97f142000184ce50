"""What the cockpit answers a rollout that waits on it: approve, reject or wait, and why.

Argo Rollouts (a web metric) and Flagger (confirm-promotion / confirm-rollout hooks) ask
the same question: may this canary go on? The answer rests on the judge's verdict, the
change windows and the approvals policy asks for. Fail closed: no canary, no verdict, a
verdict on old samples, a failing or stale source, all answer "wait", never "approve";
only a failing verdict answers "reject" (Argo aborts, Flagger keeps halting).
GitHub's protection rules ask about the promote gates instead (`promote_blockers`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cockpit.actions import gates as gates_mod
from cockpit.actions.policy import Policy
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import Action, ActionKind, GateStatus
from cockpit.sanitize import clean

APPROVE, REJECT, WAIT = "approve", "reject", "wait"


@dataclass(frozen=True)
class Answer:
    decision: str  # approve, reject, wait
    reasons: tuple[str, ...]
    verdict: dict[str, Any] = field(default_factory=dict)
    approvals: dict[str, Any] = field(default_factory=dict)
    canary_version: str = ""

    def as_json(self, service: str, environment: str) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "service": service,
            "environment": environment,
            "canary_version": self.canary_version,
            "verdict": self.verdict,
            "approvals": self.approvals,
            "reasons": list(self.reasons),
        }


def approvals_needed(policy: Policy, environment: str) -> int:
    """Approvers policy asks for before a promote here (the two-person rule), or 0."""
    env = policy.env(environment)
    return env.approvals if "promote" in env.two_person else 0


def _window(policy: Policy, snapshot: FleetSnapshot, environment: str, now: datetime) -> str:
    governing = [w for w in snapshot.windows if "promote" not in w.exempt]
    window = policy.window_state(environment, now, governing)
    return "" if window.open else f"{environment} is closed for changes: {window.reason}"


def canary_answer(
    snapshot: FleetSnapshot,
    policy: Policy,
    service: str,
    environment: str,
    now: datetime,
    *,
    max_age: float,
    granted: Sequence[str] = (),
    verdict_needed: bool = True,
) -> Answer:
    """May the canary of `service` in `environment` be promoted now? `granted`: who approved
    a promote of it (two-person records); `verdict_needed` False for a rollout that has not
    started (Flagger's confirm-rollout: there is nothing to judge yet)."""
    cell = snapshot.cell(service, environment)
    canary = cell.canary
    version = canary.canary_version if canary is not None else ""
    verdict: dict[str, Any] = {}
    reasons: list[str] = []
    decision = APPROVE
    if verdict_needed:
        gate = gates_mod.canary_gate(snapshot, service, environment)
        v = canary.verdict if canary is not None else None
        verdict = {"gate": gate.status.value, "evidence": clean(gate.evidence, limit=300)}
        if v is not None:
            verdict |= {"decision": v.decision, "score": v.score, "digest": v.digest}
        if gate.status is GateStatus.FAIL:
            decision = REJECT
            reasons.append(f"canary verdict fails: {gate.evidence}")
        elif gate.status is GateStatus.UNKNOWN:
            decision = WAIT
            reasons.append(f"canary verdict unknown: {gate.evidence}")
        elif v is not None:
            seen = v.observed_at or (canary.observed_at if canary is not None else None)
            age = (now - seen).total_seconds() if seen is not None else None
            if age is None or age > max_age:
                decision = WAIT
                shown = f"{age:.0f}s" if age is not None else "an unknown time"
                reasons.append(f"the verdict rests on samples {shown} old (max {max_age:g}s)")
    if decision != REJECT:
        if why := _window(policy, snapshot, environment, now):
            decision, reasons = WAIT, [*reasons, why]
        needed = approvals_needed(policy, environment)
        distinct = sorted(set(granted))
        if len(distinct) < needed:
            decision = WAIT
            reasons.append(
                f"{environment} needs {needed} approval(s) of this promote, has {len(distinct)}"
            )
    approvals = {"required": approvals_needed(policy, environment), "granted": sorted(set(granted))}
    return Answer(
        decision, tuple(clean(r, limit=300) for r in reasons), verdict, approvals, version
    )


def promote_blockers(
    snapshot: FleetSnapshot,
    policy: Policy,
    service: str,
    environment: str,
    version: str,
    now: datetime,
) -> tuple[list[str], list[dict[str, str]]]:
    """Why a promote of `version` would not pass the environment's gates and window now
    (as policy judges them: a failing gate blocks, an unknown one where policy says so),
    and the gates as evidence for the record."""
    env = policy.env(environment)
    action = Action(ActionKind.PROMOTE, service, environment, version=version)
    checklist = gates_mod.checklist(snapshot, action, env.gates, policy.config.supply_chain)
    production = environment in policy.production
    block_unknown = (env.unknown_gates or ("block" if production else "warn")) == "block"
    out = [
        f"gate {g.name} is {g.status.value}: {g.evidence}"
        for g in checklist
        if g.status is GateStatus.FAIL or (g.status is GateStatus.UNKNOWN and block_unknown)
    ]
    if why := _window(policy, snapshot, environment, now):
        out.append(why)
    evidence = [
        {"name": g.name, "status": g.status.value, "evidence": clean(g.evidence, limit=300)}
        for g in checklist
    ]
    return [clean(w, limit=300) for w in out], evidence
