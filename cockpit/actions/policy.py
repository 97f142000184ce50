"""Policy: whether an operator may take an action here and now, and why (or why not).

Evaluated per action and environment from the config file's `policy:` section: read-only
mode, roles, segregation of duties, change windows and blackouts, go/no-go gates,
break-glass, the two-person rule and the hotfix lane. Every refusal is explained in
words; those words go to the screen and into the audit record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cockpit.actions import gates as gates_mod
from cockpit.actions import lanes
from cockpit.actions import windows as windows_mod
from cockpit.actions.identity import unresolved_user
from cockpit.actions.people import People, PersonConfig
from cockpit.actions.policy_config import EnvironmentPolicy, PolicyConfig
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import Action, ActionKind, ChangeWindow, Gate, GateStatus, PendingApproval

# Restart and retry were once part of `rerun`: a config written then that names `rerun`
# but not them still governs them, so upgrading never loosens a rule.
_LEGACY = {ActionKind.RESTART: "rerun", ActionKind.RETRY: "rerun"}


def _names(kind: ActionKind) -> tuple[str, ...]:
    """The config names that govern `kind`, most specific first."""
    legacy = _LEGACY.get(kind)
    return (kind.value, legacy) if legacy else (kind.value,)


def _listed(kind: ActionKind, names: Iterable[str]) -> bool:
    """Is `kind` in a list of action names (two_person, break_glass)?"""
    return not set(names).isdisjoint(_names(kind))


ALLOWED, REFUSED, BREAK_GLASS, NEEDS_APPROVAL = (
    "allowed",
    "refused",
    "break_glass",
    "needs_approval",
)
DEFAULT_TWO_PERSON: tuple[str, ...] = ()
TYPED_BY_DEFAULT = ("promote", "sync")  # forward changes, in production
# Actions on alert silences: they change who is paged, never what runs.
PAGING_ONLY = (ActionKind.SILENCE, ActionKind.UNSILENCE)


@dataclass(frozen=True)
class Operator:
    """Who is acting, as policy sees them: a user name, their OS groups and, in team mode,
    the database roles their login role is a member of (for `db:<role>` role members)."""

    name: str
    groups: frozenset[str] = frozenset()
    db_roles: frozenset[str] = frozenset()


def operator_for(user: str) -> Operator:
    """The OS user and their OS groups (for `@group` role members)."""
    import grp
    import os
    import pwd

    try:
        gid = pwd.getpwnam(user).pw_gid
        groups = frozenset(grp.getgrgid(g).gr_name for g in os.getgrouplist(user, gid))
    except (KeyError, OSError):
        groups = frozenset()
    return Operator(user, groups)


@dataclass(frozen=True)
class Decision:
    outcome: str  # allowed, refused, break_glass (allowed only with break-glass), needs_approval
    reasons: tuple[str, ...]  # why, in words (empty when simply allowed)
    gates: tuple[Gate, ...] = ()
    window: windows_mod.WindowState | None = None
    production: bool = False
    typed_confirmation: bool = False
    reason_min_length: int = 10
    approvals_required: int = 1
    signed_approvals: bool = False
    notes: tuple[str, ...] = field(default=())  # warnings that do not block (unknown gates)
    # What only break-glass overrides: kept when approval is needed first, so the request
    # itself must tick break-glass (the approver's click must not quietly skip it).
    glass_reasons: tuple[str, ...] = ()
    lane: lanes.LaneTerms | None = None  # a hotfix promote: the lane's rules, as decided
    policy_version: str = ""  # team mode: the stored version that decided ("team v3 sha256:...")

    @property
    def needs_break_glass(self) -> bool:
        return self.outcome in (BREAK_GLASS, NEEDS_APPROVAL) and bool(self.glass_reasons)

    @property
    def allowed(self) -> bool:
        return self.outcome == ALLOWED

    @property
    def refused(self) -> bool:
        return self.outcome == REFUSED

    def summary(self) -> str:
        words = {
            ALLOWED: "allowed",
            REFUSED: "refused",
            BREAK_GLASS: "allowed only as break-glass",
            NEEDS_APPROVAL: "needs another operator's approval first",
        }[self.outcome]
        return words + (": " + "; ".join(self.reasons) if self.reasons else "")

    def as_record(self, break_glass: bool = False) -> dict[str, object]:
        return {
            "decision": self.outcome,
            "reasons": list(self.reasons),
            "notes": list(self.notes),
            "break_glass": break_glass,
            "window": self.window.label if self.window else None,
            **(self.lane.as_record() if self.lane else {}),
            **({"policy_version": self.policy_version} if self.policy_version else {}),
        }


class Policy:
    """The evaluated rules of one configuration."""

    def __init__(
        self,
        config: PolicyConfig,
        *,
        production: Iterable[str] = (),
        read_only: bool = False,
        read_only_envs: Iterable[str] = (),
        people: Mapping[str, PersonConfig] | None = None,
        systems: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.people = People(people or {}, systems or {})
        self.production = frozenset(production)
        self.read_only = read_only
        self.read_only_envs = frozenset(read_only_envs)
        self.windows = tuple(w.window() for w in config.windows)

    async def refresh(self) -> None:
        """Read the rules again before an action: the config's never change while running;
        team mode's (cockpit.team.held_policy) are re-read from the store."""

    # Rules per environment ------------------------------------------------------------
    def env(self, environment: str) -> EnvironmentPolicy:
        return self.config.environments.get(environment) or EnvironmentPolicy()

    def roles_of(self, operator: Operator) -> set[str]:
        out = set()
        for role, members in self.config.roles.items():
            for m in members:
                if m.startswith("db:"):  # a database role: only the team store's word counts
                    member = m[3:] in operator.db_roles
                else:
                    member = (
                        m == "*"
                        or m == operator.name
                        or (m.startswith("@") and m[1:] in operator.groups)
                    )
                if member:
                    out.add(role)
        return out

    def allowed_roles(self, kind: ActionKind, environment: str) -> list[str] | None:
        """Roles that may take `kind` here; None means everyone."""
        for perms in (self.env(environment).permissions, self.config.permissions):
            for name in (*_names(kind), "*"):
                if name in perms:
                    return list(perms[name])
        return None

    def break_glass_actions(self, environment: str) -> set[str]:
        listed = self.env(environment).break_glass
        return set(listed if listed is not None else self.config.break_glass)

    def may_break_glass(self, kind: ActionKind, environment: str) -> bool:
        return _listed(kind, self.break_glass_actions(environment))

    def typed_confirmation(self, kind: ActionKind, environment: str) -> bool:
        """Must the operator type the service name to confirm `kind` here?"""
        asked = self.env(environment).typed_confirmation
        if asked is None:
            # Typing guards a change going out; taking one back (rollback, abort, pause) or
            # silencing a page must stay fast during an incident: the reason is enough.
            return environment in self.production and _listed(kind, TYPED_BY_DEFAULT)
        return asked if isinstance(asked, bool) else _listed(kind, asked) or "*" in asked

    def window_state(
        self, environment: str, now: datetime, extra: Sequence[ChangeWindow] = ()
    ) -> windows_mod.WindowState:
        return windows_mod.state((*self.windows, *extra), environment, now)

    def read_only_reason(self, environment: str) -> str:
        if self.read_only:
            return "read-only mode (started with --read-only)"
        if environment in self.read_only_envs:
            return f"{environment} is read-only in the config"
        return ""

    # The decision -------------------------------------------------------------------
    def evaluate(
        self,
        action: Action,
        operator: Operator,
        snapshot: FleetSnapshot,
        now: datetime,
        *,
        approval: PendingApproval | None = None,
        capable: bool = True,
        approved_by: Sequence[str] = (),
    ) -> Decision:
        env_name = action.environment
        env = self.env(env_name)
        production = env_name in self.production
        refused: list[str] = []
        glass: list[str] = []
        notes: list[str] = []
        if unresolved_user(operator.name):
            # Lands in every record's policy notes: the auditor sees who could not be named.
            notes.append(
                f"actor {operator.name} has no passwd entry: $USER and $LOGNAME not trusted"
            )
        typed = self.typed_confirmation(action.kind, env_name)

        governing = [w for w in snapshot.windows if action.kind.value not in w.exempt]
        window = self.window_state(env_name, now, governing)
        lane = lanes.terms(self.config, action, now)
        # The lane's approvals replace the environment's two-person rule for this promote.
        approvals = (
            lane.approvals
            if lane
            else (env.approvals if _listed(action.kind, env.two_person) else 0)
        )

        def decision(outcome: str, reasons: list[str], gates: tuple[Gate, ...]) -> Decision:
            return Decision(
                outcome,
                tuple(reasons),
                gates,
                window,
                production=production,
                typed_confirmation=typed,
                reason_min_length=self.config.reason_min_length,
                approvals_required=approvals or env.approvals,
                signed_approvals=env.signed_approvals,
                notes=tuple(notes),
                glass_reasons=tuple(glass),
                lane=lane,
            )

        why = self.read_only_reason(env_name)
        if why:
            refused.append(why)
        if why := lanes.refusal(self.config, action):
            refused.append(why)
        if not capable:
            refused.append(
                f"no connector here can {action.kind.value} {action.service} in {env_name}"
            )

        roles = self.allowed_roles(action.kind, env_name)
        if roles is not None and "*" not in roles and not (self.roles_of(operator) & set(roles)):
            refused.append(
                f"{operator.name} may not {action.kind.value} in {env_name}: "
                f"needs one of the roles {', '.join(sorted(roles))}"
            )

        if action.kind in (ActionKind.APPROVE, ActionKind.REJECT) and approval is not None:
            refused.extend(self._segregation(operator, approval, approved_by))
            unmapped = self._unmapped(approval)
            if unmapped:
                warn_only = (
                    env.unmapped_identity
                    or self.config.unmapped_identity
                    or ("refuse" if production else "warn")
                ) == "warn"
                (notes if warn_only else refused).append(unmapped)

        # Silences change who is paged, not what runs: change windows do not govern them.
        exempt = (ActionKind.APPROVE, ActionKind.REJECT, *PAGING_ONLY)
        if not window.open and action.kind not in exempt:
            text = f"{env_name} is closed for changes: {window.reason}; {window.label}"
            (glass if self.may_break_glass(action.kind, env_name) else refused).append(text)

        checklist: tuple[Gate, ...] = ()
        if action.kind is ActionKind.PROMOTE:
            required = list(lane.gates) if lane and lane.gates is not None else env.gates
            checklist = gates_mod.checklist(snapshot, action, required, self.config.supply_chain)
            block_unknown = (env.unknown_gates or ("block" if production else "warn")) == "block"
            for gate in checklist:
                if gate.status is GateStatus.FAIL or (
                    gate.status is GateStatus.UNKNOWN and block_unknown
                ):
                    text = f"gate {gate.name} is {gate.status.value}: {gate.evidence}"
                    (glass if "promote" in self.break_glass_actions(env_name) else refused).append(
                        text
                    )
                elif gate.status is GateStatus.UNKNOWN:
                    notes.append(f"gate {gate.name} is unknown: {gate.evidence}")
        elif action.kind is ActionKind.APPROVE and action.version:
            # An approver sees the same evidence; it informs the decision but does not block.
            checklist = gates_mod.checklist(snapshot, action, env.gates, self.config.supply_chain)
            for gate in checklist:
                if gate.status is not GateStatus.PASS:
                    notes.append(f"gate {gate.name} is {gate.status.value}: {gate.evidence}")

        if refused:
            return decision(REFUSED, refused + glass, checklist)
        if len(approved_by) < approvals:
            needed = (
                f"{env_name} needs {approvals} approval(s) from another operator "
                f"before {action.kind.value}" + (" (hotfix lane)" if lane else "")
            )
            return decision(NEEDS_APPROVAL, [needed, *glass], checklist)
        if glass:
            return decision(BREAK_GLASS, glass, checklist)
        return decision(ALLOWED, [], checklist)

    def _segregation(
        self, operator: Operator, approval: PendingApproval, approved_by: Sequence[str]
    ) -> list[str]:
        """The same person, under any of their mapped names, may not approve their own change
        nor approve twice."""
        out = []
        me = self.people.operator(operator.name)
        author = self.people.author(approval.requested_by, approval.source)
        if approval.requested_by and me in (author, approval.requested_by):
            out.append(
                f"{operator.name} requested this change and cannot approve it "
                "(segregation of duties: someone else must)"
            )
        already = {self.people.author(a, approval.source) for a in approval.approvals}
        already |= {self.people.operator(a) for a in approved_by}
        if me in already or operator.name in approval.approvals:
            out.append(f"{operator.name} has already approved this; another person must")
        return out

    def _unmapped(self, approval: PendingApproval) -> str:
        """Why the change's author cannot be compared with the approver, or ""."""
        system = self.people.system(approval.source)
        if not approval.requested_by or not system:
            return ""
        if self.people.author(approval.requested_by, approval.source) is not None:
            return ""
        return (
            f"{approval.requested_by} on {system} maps to no operator in identities:, so "
            "segregation of duties cannot be checked"
        )
