"""Promotion lanes: the terms a promote marked hotfix runs under, or why it cannot."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from cockpit.actions.policy_config import PolicyConfig
from cockpit.model import Action, ActionKind

# The lane travels as an Action param, so keys, palette, CLI and two-person requests
# all reach the one policy check with it.
LANE = "lane"
HOTFIX = "hotfix"


@dataclass(frozen=True)
class LaneTerms:
    """What the hotfix lane asks of one promote, decided at one moment."""

    name: str
    gates: tuple[str, ...] | None  # None: the environment's gates
    approvals: int
    ticket_required: bool
    follow_up_hours: float
    follow_up_due: datetime  # UTC: the follow-up ticket is due by then

    def rules(self) -> str:
        """The lane and its rules in one line, for the plan."""
        gates = ", ".join(self.gates) if self.gates is not None else "the environment's"
        approvals = f"{self.approvals} approval(s)" if self.approvals else "no approval"
        ticket = "ticket required" if self.ticket_required else "ticket optional"
        due = self.follow_up_due.strftime("%Y-%m-%d %H:%M UTC")
        return (
            f"{self.name}: gates {gates}; {approvals}; {ticket}; "
            f"follow-up ticket due within {self.follow_up_hours:g}h (by {due})"
        )

    def as_record(self) -> dict[str, Any]:
        from cockpit.audit.canonical import utc_text

        return {
            "lane": self.name,
            "follow_up_hours": self.follow_up_hours,
            "follow_up_due": utc_text(self.follow_up_due),
        }


def lane_of(action: Action) -> str:
    return action.param(LANE)


def marked_hotfix(action: Action) -> Action:
    """`action` asking for the hotfix lane."""
    params = tuple(p for p in action.params if p[0] != LANE)
    return replace(action, params=(*params, (LANE, HOTFIX)))


def refusal(config: PolicyConfig, action: Action) -> str:
    """Why `action` cannot take the lane it asks for; "" when it can (or asks for none)."""
    lane = lane_of(action)
    if not lane:
        return ""
    if lane != HOTFIX:
        return f"unknown lane {lane!r}: the only lane is {HOTFIX!r}"
    if action.kind is not ActionKind.PROMOTE:
        return f"only a promote can take the hotfix lane, not {action.kind.value}"
    hotfix = config.lanes.hotfix
    if hotfix is None:
        return "no hotfix lane in this policy (add policy.lanes.hotfix to the config)"
    if hotfix.environments is not None and action.environment not in hotfix.environments:
        return (
            f"the hotfix lane does not cover {action.environment} "
            f"(only {', '.join(hotfix.environments) or 'no environment'})"
        )
    return ""


def offered(config: PolicyConfig, action: Action) -> bool:
    """Whether a hotfix toggle makes sense for `action`: a promote where the lane applies."""
    return action.kind is ActionKind.PROMOTE and not refusal(config, marked_hotfix(action))


def terms(config: PolicyConfig, action: Action, now: datetime) -> LaneTerms | None:
    """The lane's terms for `action` at `now`; None when it asks for no lane or cannot take it."""
    hotfix = config.lanes.hotfix
    if not lane_of(action) or refusal(config, action) or hotfix is None:
        return None
    return LaneTerms(
        name=HOTFIX,
        gates=tuple(hotfix.gates) if hotfix.gates is not None else None,
        approvals=hotfix.approvals,
        ticket_required=hotfix.ticket_required,
        follow_up_hours=float(hotfix.follow_up_hours),
        follow_up_due=(now + timedelta(hours=hotfix.follow_up_hours)).astimezone(UTC),
    )
