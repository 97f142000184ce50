"""The action flow without a screen: plan, submit what the operator confirmed, word the result.

The app's glue (cockpit/app_actions.py) puts the dialog between `prepare` and `submit` and
shows the `Notice`s; everything here is plain data and the executor, testable headless.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from cockpit.actions import lanes

if TYPE_CHECKING:
    from cockpit.actions.autopilot import Proposal
    from cockpit.actions.executor import Executor, Plan
    from cockpit.actions.outcome import Outcome
    from cockpit.audit import Actor
    from cockpit.model import Action

Severity = Literal["information", "warning", "error"]


@dataclass(frozen=True)
class Notice:
    """What to tell the operator in a toast."""

    message: str
    title: str = ""
    severity: Severity = "information"
    timeout: float = 10.0


@dataclass(frozen=True)
class Confirmed:
    """What the operator filled in and confirmed in the action dialog."""

    reason: str
    ticket: str
    break_glass: bool
    confirmation: str | None
    hotfix: bool = False  # the operator ticked the hotfix lane: run the dialog's hotfix plan
    duration: str = ""  # a silence's duration, as typed ("2h")


def with_duration(plan: Plan, duration: str) -> Plan:
    """The plan with the duration chosen in the dialog: the silence's param and its evidence."""
    if not duration:
        return plan
    params = (*((k, v) for k, v in plan.action.params if k != "duration"), ("duration", duration))
    return replace(
        plan,
        action=replace(plan.action, params=params),
        evidence_extra={**plan.evidence_extra, "silence": {"duration": duration}},
    )


@dataclass(frozen=True)
class Prepared:
    """An action planned for the dialog, and the same promote through the hotfix lane."""

    plan: Plan
    hotfix: Plan | None = None  # offered when the policy's hotfix lane covers the promote

    def chosen(self, confirmed: Confirmed) -> Plan:
        plan = self.hotfix if confirmed.hotfix and self.hotfix else self.plan
        return with_duration(plan, confirmed.duration)


async def prepare(executor: Executor, built: Action, evidence: Mapping[str, Any]) -> Prepared:
    """Plan `built`; `evidence` (a verdict, an alert) joins the gates in the audit record.

    An action refused on every lane is recorded as refused now: the dialog only shows why.
    """
    await executor.identify()  # team mode: judged as the store's role, not the OS user
    await executor.policy.refresh()  # team mode: decide with the newest stored policy
    plan = executor.plan(built)
    if evidence:
        plan = replace(plan, evidence_extra={**plan.evidence_extra, **evidence})
    hotfix = None
    if lanes.offered(executor.policy.config, built):
        marked = executor.plan(lanes.marked_hotfix(built))
        hotfix = replace(marked, evidence_extra=plan.evidence_extra)
    if plan.decision.refused and (hotfix is None or hotfix.decision.refused):
        await executor.record_refusal(plan)
    return Prepared(plan, hotfix)


async def submit(executor: Executor, prepared: Prepared, confirmed: Confirmed) -> Outcome:
    return await executor.submit(
        prepared.chosen(confirmed),
        reason=confirmed.reason,
        ticket=confirmed.ticket,
        break_glass=confirmed.break_glass,
        confirmation=confirmed.confirmation,
    )


OUTCOME_SEVERITY: dict[str, Severity] = {
    "succeeded": "information",
    "pending": "warning",
    "failed": "error",
    "refused": "error",
}


def outcome_notice(plan: Plan, outcome: Outcome) -> Notice:
    severity = OUTCOME_SEVERITY.get(outcome.status, "information")
    return Notice(outcome.message, plan.title, severity)


def proposal_notice(proposal: Proposal) -> Notice:
    """A failing canary the policy leaves to a person: say so, with the key."""
    return Notice(
        f"{proposal.summary}. Press B to roll back.",
        f"Canary {proposal.service} in {proposal.environment} fails",
        "error",
        30.0,
    )


async def auto_rollback(executor: Executor, proposal: Proposal, actor: Actor) -> Notice:
    """Roll a failing canary back as the policy says, and word what happened."""
    from cockpit.actions.autopilot import roll_back

    return rollback_notice(proposal, await roll_back(executor, proposal, actor))


def rollback_notice(proposal: Proposal, outcome: Outcome | str) -> Notice:
    """An automatic rollback's result in words; `outcome` a string when none applied."""
    if isinstance(outcome, str):
        return Notice(f"automatic rollback impossible: {outcome}", severity="error", timeout=30.0)
    return Notice(
        f"{proposal.summary} → {outcome.status}: {outcome.message}",
        f"Automatic rollback of {proposal.service} in {proposal.environment}",
        "information" if outcome.status == "succeeded" else "error",
        30.0,
    )
