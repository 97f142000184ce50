"""GitHub protection-rule requests in the Approvals view: a built-in approvals source.

Like the two-person queue, it reads the requests back from the audit log on every poll,
so every cockpit on the store lists them. Approving or rejecting one goes through the
executor like any approval (roles, segregation of duties against the GitHub sender, the
audit records); this source only accepts the decision. The controller's Gatekeeper
answers GitHub once enough approvers agreed and the promote gates pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cockpit.connector import Capability, Connector
from cockpit.controller.github_gate import GATE_EVENTS, KIND, GateState, states
from cockpit.errors import Rejected
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import Action, ActionKind, ActionResult, PendingApproval
from cockpit.sanitize import clean

OPEN_FOR = timedelta(days=30)  # GitHub gives up on a protection rule after 30 days


@dataclass
class GateSourceOptions:
    journal: Any = None  # a cockpit.journal.Journal; set by the wiring, not from config
    policy: Any = None  # the PolicyConfig: how many approvers each environment needs


def required(policy: Any, environment: str) -> int:
    """Distinct approvers a request in `environment` needs (its policy's `approvals`)."""
    env = policy.environments.get(environment) if policy is not None else None
    return max(1, int(env.approvals)) if env is not None else 1


async def read_states(journal: Any, now: Any) -> dict[str, GateState]:
    from cockpit.audit import EventType

    since = now - OPEN_FOR
    kinds = [EventType(k) for k in GATE_EVENTS]
    records = await journal.call(lambda store: list(store.records(since=since, event_types=kinds)))
    return states(records)


class GateSource(Connector):
    """Reports the open GitHub protection-rule requests as pending approvals."""

    CAPABILITIES = frozenset({Capability.APPROVALS})
    ACTIONS = frozenset({ActionKind.APPROVE, ActionKind.REJECT})
    Options = GateSourceOptions
    USES_HTTP = False
    DESCRIPTION = "GitHub deployment protection rules the cockpit gates (built in)"

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self._states: dict[str, GateState] = {}

    async def approvals(self) -> Sequence[PendingApproval]:
        journal = self.options.journal
        if journal is None or not journal.opened:
            return ()  # the app opens the log right after its first frame; next poll reads it
        self._states = await read_states(journal, self.clock.now())
        return self.pending(self._states)

    def pending(self, found: dict[str, GateState]) -> list[PendingApproval]:
        now = self.clock.now()
        out = []
        for rid, state in found.items():
            if not state.open:
                continue
            req = state.request
            out.append(
                PendingApproval(
                    id=f"{self.name}:{rid}",
                    service=clean(req.service, limit=80),
                    environment=clean(req.environment, limit=40),
                    kind=KIND,
                    title=req.title() + _status(state),
                    requested_by=clean(req.sender, limit=60),
                    requested_at=state.requested_at,
                    source=self.name,
                    observed_at=now,
                    version=clean(req.version, limit=80),
                    run_id=clean(req.run_id, limit=30),
                    remote_id=rid,
                    required=required(self.options.policy, req.environment),
                    approvals=tuple(clean(a, limit=60) for a in state.approvals),
                )
            )
        return out

    def precheck(self, action: Action, snapshot: FleetSnapshot) -> str | None:
        state = self._states.get(action.remote_id)
        if state is None:
            return None  # the plan's approval lookup already says when it is not pending
        if state.decided:
            return f"already {state.decided}; the controller is telling GitHub"
        return None

    async def execute(self, action: Action) -> ActionResult:
        if action.kind not in self.ACTIONS:
            raise Rejected(f"{self.name} only takes approvals and rejections")
        if action.kind is ActionKind.REJECT:
            return ActionResult(True, "rejected; the controller tells GitHub", action.remote_id)
        return ActionResult(
            True,
            "approval recorded; the controller answers GitHub once policy, gates and "
            "approvers agree",
            action.remote_id,
        )


def _status(state: GateState) -> str:
    """What is left to happen, for the title: the answer owed, and why it is not delivered."""
    if state.decided and state.failures:
        why = clean(state.last_error, limit=80)
        return f" [{state.decided}; telling GitHub failed {state.failures}x: {why}]"
    if state.decided:
        return f" [{state.decided}; telling GitHub]"
    if state.rejected_by:
        return " [rejected; telling GitHub]"
    if state.waiting:
        return f" [approved; waiting: {clean(state.waiting[0], limit=100)}]"
    return ""
