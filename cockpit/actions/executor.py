"""The executor: the only path from a key, the palette or the CLI to a mutation.

plan (policy decision, gates, warnings) -> confirmation by a person (dialog or --yes)
-> audit "requested" -> connector call with a timeout -> audit "succeeded"/"failed"
-> hub refresh, and after a success the listening connectors (cockpit.actions.after_success).
Refusals, break-glass uses and two-person requests are audited too, and a repeated
submission of an action already in flight is ignored, never run twice.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from cockpit.actions.action_record import ActionRecorder, AuditUnavailable, event
from cockpit.actions.after_success import LISTENER_TIMEOUT, AfterSuccess
from cockpit.actions.outcome import DUPLICATE, FAILED, PENDING, SUCCEEDED, Outcome
from cockpit.actions.plan import Plan, blockers, moved, refused, target_of
from cockpit.actions.policy import NEEDS_APPROVAL, PAGING_ONLY, REFUSED, Decision, Operator, Policy
from cockpit.actions.policy_config import IdentityConfig
from cockpit.actions.twoperson import TWO_PERSON_SOURCE
from cockpit.actions.twoperson_flow import TwoPersonFlow
from cockpit.actions.twoperson_request import action_to_data
from cockpit.actions.who_acts import Identify, WhoActs
from cockpit.clock import Clock
from cockpit.fleet.hub import Hub
from cockpit.model import Action, ActionKind, ActionResult
from cockpit.sanitize import clean

if TYPE_CHECKING:
    from cockpit.audit import Actor


class Executor:
    def __init__(
        self,
        hub: Hub,
        policy: Policy,
        audit: Any,  # cockpit.audit.AuditStore, called through AuditWriter (off the loop)
        *,
        actor: Actor,
        operator: Operator,
        clock: Clock,
        timeout: float = 30.0,
        identity: IdentityConfig | None = None,
        listener_timeout: float = LISTENER_TIMEOUT,
        identify: Identify | None = None,
    ) -> None:
        self.hub = hub
        self.policy = policy
        self.actor = actor
        self.operator = operator
        self.clock = clock
        self.timeout = timeout
        self._in_flight: set[tuple[str, ...]] = set()
        self._recorder = ActionRecorder(audit, clock=clock, identity=identity or IdentityConfig())
        self.who = WhoActs(identify)  # team mode: the store's word on who acts
        self.stamp: Mapping[str, Any] = {}  # team mode: who acts, as each record carries it
        self.after_success = AfterSuccess(hub, self._recorder, listener_timeout)
        """Tells the listening connectors (Grafana) of each recorded success."""
        self._two_person = TwoPersonFlow(
            hub,
            self._recorder,
            replan=lambda action, approvers: self.plan(action, approved_by=approvers),
            execute=self._execute,
        )

    async def identify(self) -> str:
        """Team mode: learn who acts from the team store, once; returns why not ("")."""
        found = await self.who.ask()
        if found is not None:
            self.actor, self.operator, stamp = found
            self.stamp = self._recorder.stamp = dict(stamp)
        return self.who.unknown

    # Planning ----------------------------------------------------------------------
    def capable(self, action: Action) -> bool:
        if action.source == TWO_PERSON_SOURCE:
            return action.kind in (ActionKind.APPROVE, ActionKind.REJECT)
        connector = self.hub.connector(action.source)
        return connector is not None and action.kind in connector.ACTIONS

    def plan(
        self,
        action: Action,
        *,
        operator: Operator | None = None,
        approved_by: Sequence[str] | None = None,
    ) -> Plan:
        """The final decision on `action` now: policy, then what refuses it whatever policy says."""
        snap = self.hub.snapshot
        approval = None
        if action.approval_id:
            approval = next((a for a in snap.approvals if a.id == action.approval_id), None)
        decision = self.policy.evaluate(
            action,
            operator or self.operator,
            snap,
            self.clock.now(),
            approval=approval,
            capable=self.capable(action),
            approved_by=self._approved_by(action) if approved_by is None else approved_by,
        )
        connector = self.hub.connector(action.source)
        decision = refused(decision, blockers(action, snap, connector))
        if self.who.unknown:
            decision = refused(decision, [f"team store identity unknown: {self.who.unknown}"])
        cell = snap.cell(action.service, action.environment)
        current = cell.deployment.version if cell.deployment else ""
        from_version = action.from_version or current
        to_version = action.version
        digest = action.digest
        if (
            action.kind
            in (ActionKind.PROMOTE, ActionKind.ABORT, ActionKind.PAUSE, ActionKind.RESUME)
            and cell.canary
        ):
            from_version = from_version or cell.canary.baseline_version
            to_version = to_version or cell.canary.canary_version
            digest = digest or cell.canary.canary_digest
        if action.kind is ActionKind.ROLLBACK and cell.canary and cell.canary.phase.active:
            from_version = cell.canary.canary_version  # rolling back aborts the canary
        if approval is not None:
            to_version = to_version or approval.version
            digest = digest or approval.digest
        warnings = tuple(connector.warnings(action)) if connector is not None else ()
        env = snap.environment(action.environment)
        where = (
            action.environment.upper() + " (production)"
            if env and env.production
            else action.environment or "CI (no deploy environment reported)"
        )
        verb = action.kind.value.capitalize()
        # Only a real change of version is an arrow; an unknown side is left out, not "?".
        moves = from_version and to_version and from_version != to_version
        versions = f"{from_version} → {to_version}" if moves else (to_version or from_version)
        title = f"{verb} {action.service} {versions} in {where}".replace("  ", " ")
        if action.kind in PAGING_ONLY:  # a silence acts on an alert, not on a version
            alert = next(
                (a for a in snap.alerts if action.remote_id in (a.fingerprint, *a.silenced_by)),
                None,
            )
            named = alert.name if alert is not None else "an alert"
            title = f"{verb} {named} on {action.service} in {where}"
        return Plan(
            action,
            decision,
            title,
            from_version,
            to_version,
            digest,
            warnings,
            approval,
            seen=target_of(action, snap),
        )

    def _approved_by(self, action: Action) -> list[str]:
        """Approvals already granted for this action through the two-person rule."""
        if not action.approval_id:
            return []
        for a in self.hub.snapshot.approvals:
            if a.id == action.approval_id:
                return list(a.approvals)
        return []

    # Executing ------------------------------------------------------------------------
    async def submit(
        self,
        plan: Plan,
        *,
        reason: str,
        ticket: str = "",
        break_glass: bool = False,
        confirmation: str | None = None,
        actor: Actor | None = None,
        operator: Operator | None = None,
    ) -> Outcome:
        action = plan.action
        key = (
            action.kind.value,
            action.source,
            action.service,
            action.environment,
            action.approval_id,
            action.version,
            action.remote_id,  # two alerts of one service are two silences
        )
        if key in self._in_flight:
            return Outcome(DUPLICATE, "already running; ignored the repeated request")
        self._in_flight.add(key)
        try:
            await self.identify()  # team mode: before the plan is made again and recorded
            return await self._submit(
                plan, reason.strip(), ticket.strip(), break_glass, confirmation, actor, operator
            )
        except AuditUnavailable as exc:  # "requested" comes first: nothing was run
            message = f"nothing was run: the audit log is unavailable ({exc})"
            return Outcome(FAILED, message, audit_unavailable=True)
        finally:
            self._in_flight.discard(key)

    async def _submit(
        self,
        plan: Plan,
        reason: str,
        ticket: str,
        break_glass: bool,
        confirmation: str | None,
        actor: Actor | None,
        operator: Operator | None,
    ) -> Outcome:
        actor = actor or self.actor
        await self.policy.refresh()  # team mode: the newest stored policy decides
        # The world may have moved on: decide again, keeping the evidence that prompted it.
        fresh = replace(
            self.plan(plan.action, operator=operator), evidence_extra=plan.evidence_extra
        )
        decision = fresh.decision
        # Confirmed for what ran when the plan was made: if that changed, it is not confirmed.
        problems = [
            *moved(plan, fresh.seen),
            *fresh.refusal_for(reason, confirmation, break_glass, ticket),
        ]
        request_id = uuid.uuid4().hex

        async def refuse(why: list[str]) -> Outcome:
            await self._recorder.record(
                event("ACTION_REFUSED"),
                fresh,
                actor or self.actor,
                "refused",
                reason,
                ticket,
                request_id,
                decision,
                break_glass,
                {"refusal": why},
            )
            return Outcome(REFUSED, "refused: " + "; ".join(why), request_id, reasons=tuple(why))

        if problems:
            return await refuse(problems)
        signed_extra: dict[str, Any] = {}
        if decision.signed_approvals and fresh.action.kind in (
            ActionKind.APPROVE,
            ActionKind.REJECT,
        ):
            try:
                actor, signed_extra = await self._recorder.sign(fresh, actor)
            except Exception as exc:  # no key, agent refused, bad signature: all refuse
                env = fresh.action.environment
                return await refuse([f"{env} requires a signed approval: {clean(exc, limit=200)}"])
        # Break-glass is used when asked for, also by a two-person request: the approver
        # then approves an override that is already on the record.
        glass = decision.needs_break_glass
        if glass:
            await self._recorder.record(
                event("BREAKGLASS_USED"),
                fresh,
                actor,
                "allowed",
                reason,
                ticket,
                request_id,
                decision,
                True,
            )

        if fresh.action.source == TWO_PERSON_SOURCE:
            return await self._two_person.decide(
                fresh, actor, reason, ticket, request_id, decision, glass, signed_extra
            )
        if decision.outcome == NEEDS_APPROVAL:
            await self._recorder.record(
                event("APPROVAL_PENDING"),
                fresh,
                actor,
                "pending",
                reason,
                ticket,
                request_id,
                decision,
                glass,
                {
                    "action": action_to_data(fresh.action),
                    "required": decision.approvals_required,
                    "title": fresh.title,
                },
            )
            self.hub.poke(TWO_PERSON_SOURCE)
            return Outcome(
                PENDING,
                f"waiting for {decision.approvals_required} approval(s) from another operator",
                request_id,
            )
        return await self._execute(
            fresh, actor, reason, ticket, request_id, decision, glass, first_extra=signed_extra
        )

    async def _execute(
        self,
        plan: Plan,
        actor: Actor,
        reason: str,
        ticket: str,
        request_id: str,
        decision: Decision,
        glass: bool,
        extra: Mapping[str, Any] | None = None,
        first_extra: Mapping[str, Any] | None = None,
    ) -> Outcome:
        action = replace(plan.action, reason=reason, ticket=ticket, actor=actor.user)
        connector = self.hub.connector(action.source)
        base = dict(extra or {})
        result: ActionResult | None = None
        await self._recorder.record(
            event("ACTION_REQUESTED"),
            plan,
            actor,
            "requested",
            reason,
            ticket,
            request_id,
            decision,
            glass,
            {**base, **(first_extra or {})},  # a signed approval's nonce is stored once
        )
        try:
            if connector is None:
                raise LookupError(f"connector {action.source!r} is not running")
            result = await asyncio.wait_for(connector.execute(action), self.timeout)
        except Exception as exc:  # a connector's failure, of any kind, is a failed attempt
            if isinstance(exc, TimeoutError):
                message = (
                    f"{action.source} did not answer within {self.timeout:g}s; "
                    "the outcome is unknown, check before retrying"
                )
            else:
                message = clean(f"{type(exc).__name__}: {exc}", limit=300)
            status, remote_id, after = FAILED, "", {**base, "error": message}
        else:
            status = SUCCEEDED if result.ok else FAILED
            message, remote_id = clean(result.message, limit=300), result.remote_id
            after = {**base, "result": message, **({"remote_id": remote_id} if remote_id else {})}
        self.hub.poke(action.source)
        try:
            record = await self._recorder.record(
                event("ACTION_SUCCEEDED" if status == SUCCEEDED else "ACTION_FAILED"),
                plan,
                actor,
                status,
                reason,
                ticket,
                request_id,
                decision,
                glass,
                after,
                remote_id=remote_id,
            )
        except AuditUnavailable as exc:  # it ran: say so, and that the log lacks its outcome
            message += f" (but its outcome could not be recorded in the audit log: {exc})"
        else:
            # An annotation names its audit record: none is written for an unrecorded success.
            if status == SUCCEEDED and result is not None:
                await self.after_success.tell(plan, action, result, record, actor)
        return Outcome(status, message, request_id, remote_id)

    async def record_verdict(self, plan: Plan, actor: Actor, summary: str) -> None:
        """The judge's verdict that prompts an action, as its own record (R-A14)."""
        await self._recorder.record(
            event("VERDICT_RECORDED"),
            plan,
            actor,
            "fail",
            summary,
            "",
            uuid.uuid4().hex,
            plan.decision,
            False,
        )

    async def record_refusal(self, plan: Plan) -> None:
        """An attempt the policy refused before any dialog: audited like any other."""
        await self._recorder.record(
            event("ACTION_REFUSED"),
            plan,
            self.actor,
            "refused",
            "",
            "",
            uuid.uuid4().hex,
            plan.decision,
            False,
            {"refusal": list(plan.decision.reasons)},
        )
