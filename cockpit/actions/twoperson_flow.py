"""Answering a two-person request: record the approval or rejection, then run the original once enough agree."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cockpit.actions.action_record import ActionRecorder, event
from cockpit.actions.outcome import APPROVED, FAILED, SUCCEEDED, Outcome
from cockpit.actions.plan import Plan, refused
from cockpit.actions.policy import NEEDS_APPROVAL, REFUSED, Decision
from cockpit.actions.twoperson import TWO_PERSON_SOURCE
from cockpit.actions.twoperson_request import TwoPersonRequest
from cockpit.fleet.hub import Hub
from cockpit.model import Action, ActionKind, PendingApproval

if TYPE_CHECKING:
    from cockpit.audit import Actor

# The executor's own steps, passed in so this flow decides and runs exactly as it does.
Replan = Callable[[Action, Sequence[str]], Plan]
Execute = Callable[..., Awaitable[Outcome]]


class TwoPersonFlow:
    def __init__(
        self, hub: Hub, recorder: ActionRecorder, *, replan: Replan, execute: Execute
    ) -> None:
        self.hub = hub
        self.recorder = recorder
        self.replan = replan
        self.execute = execute

    async def decide(
        self,
        plan: Plan,
        actor: Actor,
        reason: str,
        ticket: str,
        request_id: str,
        decision: Decision,
        glass: bool,
        signed_extra: Mapping[str, Any] | None = None,
    ) -> Outcome:
        approval = plan.approval
        if approval is None:
            return Outcome(FAILED, "that request is no longer pending", request_id)
        original = self.pending(approval).action
        pending_id = approval.remote_id
        record = self.recorder.record
        if plan.action.kind is ActionKind.REJECT:
            await record(
                event("APPROVAL_REJECTED"),
                plan,
                actor,
                "rejected",
                reason,
                ticket,
                pending_id,
                decision,
                glass,
                signed_extra,
            )
            self.hub.poke(TWO_PERSON_SOURCE)
            return Outcome(SUCCEEDED, f"rejected: {approval.title}", pending_id)
        same_role = self.same_role(approval)
        if same_role:
            await record(
                event("ACTION_REFUSED"),
                plan,
                actor,
                "refused",
                reason,
                ticket,
                pending_id,
                refused(decision, [same_role]),
                glass,
                {"refusal": [same_role]},
            )
            return Outcome(REFUSED, same_role, pending_id)
        await record(
            event("APPROVAL_GRANTED"),
            plan,
            actor,
            "granted",
            reason,
            ticket,
            pending_id,
            decision,
            glass,
            signed_extra,
        )
        approvers = [*approval.approvals, actor.user]
        if len(approvers) < approval.required:
            self.hub.poke(TWO_PERSON_SOURCE)
            return Outcome(
                APPROVED,
                f"approved ({len(approvers)}/{approval.required}); waiting for more",
                pending_id,
            )
        # Enough people agreed: decide the original action again, now and as approved. What
        # changed since the request (a window closed, a gate failed) refuses it here.
        target = self.replan(original, approvers)
        inner = target.decision
        if inner.outcome == NEEDS_APPROVAL:  # the policy now asks for more approvers
            self.hub.poke(TWO_PERSON_SOURCE)
            return Outcome(APPROVED, f"approved; {inner.reasons[0]}", pending_id)
        why = list(inner.reasons) if inner.refused else []
        if inner.needs_break_glass and not self.pending(approval).break_glass:
            why = [
                f"{r} (break-glass needed: request it again with break-glass)"
                for r in inner.glass_reasons
            ]
        if why:
            inner = refused(inner, why)
            await record(
                event("ACTION_REFUSED"),
                target,
                actor,
                "refused",
                reason,
                ticket,
                pending_id,
                inner,
                glass,
                {"refusal": list(inner.reasons)},
            )
            return Outcome(
                REFUSED, "approved, but now refused: " + "; ".join(inner.reasons), pending_id
            )
        self.hub.poke(TWO_PERSON_SOURCE)
        return await self.execute(
            target,
            actor,
            approval_reason(approval, reason),
            ticket,
            pending_id,
            inner,
            inner.needs_break_glass,
            {"initiator": approval.requested_by, "approvers": approvers},
        )

    def same_role(self, approval: PendingApproval) -> str:
        """Team mode: why the approver's database role may not approve this request, or "".

        Segregation of duties compares names, and names come from each host's own
        `identities:`; the role the team store authenticated cannot be renamed locally."""
        mine = str(self.recorder.stamp.get("db_role") or "")
        if not mine:
            return ""
        request = self.pending(approval)
        if mine == request.requested_role:
            return (
                f"the database role {mine} requested this change and cannot approve it "
                "(segregation of duties: someone else must)"
            )
        if mine in request.approved_roles:
            return f"the database role {mine} has already approved this; another person must"
        return ""

    def pending(self, approval: PendingApproval) -> TwoPersonRequest:
        connector = self.hub.connector(TWO_PERSON_SOURCE)
        found = connector.request_for(approval.remote_id) if connector is not None else None  # type: ignore[attr-defined]
        if found is None:
            raise LookupError("the two-person request's action is not known")
        return found


def approval_reason(approval: PendingApproval, reason: str) -> str:
    return f"{reason} (approving request by {approval.requested_by})"
