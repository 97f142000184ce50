"""A planned action: what would happen, and everything that would refuse it, before anyone confirms.

The dialog and the CLI show a Plan; the executor re-plans at submission and refuses with
the same words. So the decision shown is the final one: policy, the connector's own
pre-checks (Argo CD refusing a rollback under auto-sync), the reason rule, the typed
confirmation and break-glass are all answered here, never discovered after the dialog.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from cockpit.actions.policy import REFUSED, Decision
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import Action, ActionKind, PendingApproval
from cockpit.sanitize import clean

if TYPE_CHECKING:
    from cockpit.connector import Connector


@dataclass(frozen=True)
class Plan:
    """What would happen: shown in the dialog before anyone confirms."""

    action: Action
    decision: Decision
    title: str
    from_version: str
    to_version: str
    digest: str
    warnings: tuple[str, ...] = ()
    approval: PendingApproval | None = None
    evidence_extra: Mapping[str, Any] = field(default_factory=dict)  # e.g. a canary verdict
    seen: Target | None = None  # the target as planned: a confirmation applies to that only

    @property
    def confirmation_word(self) -> str:
        """What a typed confirmation must match: the service name as the screen shows it."""
        return clean(self.action.service)

    def refusal_for(
        self, reason: str, confirmation: str | None, break_glass: bool = False, ticket: str = ""
    ) -> list[str]:
        """Why this plan, confirmed with these answers, is refused; empty when it would run."""
        d = self.decision
        if d.refused:
            return list(d.reasons)
        out = []
        if len(reason.strip()) < d.reason_min_length:
            out.append(f"a reason of at least {d.reason_min_length} characters is required")
        if d.lane and d.lane.ticket_required and not clean(ticket).strip():
            out.append(f"the {d.lane.name} lane requires a change ticket")
        if d.typed_confirmation and clean(confirmation or "").strip() != self.confirmation_word:
            out.append(f"type {self.confirmation_word} to confirm")
        if d.needs_break_glass and not break_glass:
            out.extend(r + " (break-glass needed)" for r in d.glass_reasons)
        return out

    def evidence(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            **self.evidence_extra,
            "gates": [
                {"name": g.name, "status": g.status.value, "evidence": g.evidence}
                | ({"facts": dict(g.facts)} if g.facts else {})
                for g in self.decision.gates
            ],
            "window": self.decision.window.label if self.decision.window else None,
        }
        verdict = [
            g for g in self.decision.gates if g.name == "canary" and "verdict sha256:" in g.evidence
        ]
        if verdict:
            out["verdict_digest"] = verdict[0].evidence.rsplit("verdict ", 1)[-1]
        return out


def blockers(action: Action, snapshot: FleetSnapshot, connector: Connector | None) -> list[str]:
    """What refuses `action` whatever policy says: the fleet's state and the connector's own checks."""
    out = []
    canary = snapshot.cell(action.service, action.environment).canary
    if (
        action.kind is ActionKind.ROLLBACK
        and canary is not None
        and canary.phase.active
        and action.version != canary.baseline_version
    ):
        # Rolling back during a canary aborts it (stable takes all traffic); a different
        # version would be a second change hidden inside the first.
        out.append(
            f"{clean(action.service)} has an active canary in {clean(action.environment)} "
            f"({clean(canary.baseline_version)} → {clean(canary.canary_version)}): abort the "
            f"canary first, then roll back to {clean(action.version) or 'an earlier version'}"
        )
    if connector is not None:
        try:
            why = connector.precheck(action, snapshot)
        except Exception as exc:  # a check that cannot answer fails closed
            why = f"{action.source} could not check this action: {type(exc).__name__}: {exc}"
        if why:
            out.append(clean(why, limit=300))
    return out


def refused(decision: Decision, why: list[str]) -> Decision:
    """`decision`, refused for `why` as well."""
    if not why:
        return decision
    earlier = decision.reasons if decision.refused else ()
    return replace(decision, outcome=REFUSED, reasons=(*earlier, *why))


# Kinds that act on what runs in one environment: a confirmation given for one version or
# canary must not run on another one.
ON_DEPLOYMENT = frozenset(
    {
        ActionKind.PROMOTE,
        ActionKind.ROLLBACK,
        ActionKind.PAUSE,
        ActionKind.RESUME,
        ActionKind.ABORT,
        ActionKind.SYNC,
        ActionKind.RESTART,
        ActionKind.RETRY,
    }
)


@dataclass(frozen=True)
class Target:
    """What ran in the target environment when the plan was made."""

    version: str  # deployed there ("" when nothing is)
    canary: str  # the version an active canary carries, "" when none is active
    phase: str  # that canary's phase, or the last one seen ("" when there never was one)


def target_of(action: Action, snapshot: FleetSnapshot) -> Target | None:
    """The target's state now, for the kinds where a change of it makes a plan stale."""
    if action.kind not in ON_DEPLOYMENT:
        return None
    cell = snapshot.cell(action.service, action.environment)
    canary = cell.canary
    active = canary is not None and canary.phase.active
    return Target(
        cell.deployment.version if cell.deployment else "",
        canary.canary_version if canary is not None and active else "",
        canary.phase.value if canary is not None else "",
    )


def moved(plan: Plan, now: Target | None) -> list[str]:
    """How the target changed since `plan` was made, in words; empty when it has not."""
    before = plan.seen
    if before is None or now is None or before == now:
        return []
    where = f"{clean(plan.action.service)}/{clean(plan.action.environment)}"
    out = []
    if before.version != now.version:
        out.append(
            f"{where} moved from {clean(before.version) or 'nothing'} to "
            f"{clean(now.version) or 'nothing'} since this opened"
        )
    if before.canary and not now.canary:
        out.append(
            f"the canary {clean(before.canary)} on {where} ended since this opened"
            + (f" ({clean(now.phase)})" if now.phase else "")
        )
    elif now.canary and before.canary != now.canary:
        out.append(f"a canary of {clean(now.canary)} runs on {where} since this opened")
    if not out:  # the same versions: only the canary's phase moved (paused, resumed)
        out.append(
            f"the canary on {where} went from {clean(before.phase)} to {clean(now.phase)} "
            "since this opened"
        )
    return out
