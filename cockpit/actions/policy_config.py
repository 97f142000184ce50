"""The policy section of the config: roles, permissions, windows, per-environment rules, signing,
supply chain."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from cockpit.actions.supply_config import SupplyChainConfig, supply_problems
from cockpit.connect import options as opt
from cockpit.connect.options import Duration, LineMap
from cockpit.errors import ConfigError
from cockpit.model import ChangeWindow


@dataclass
class WindowConfig:
    """A recurring allow window or blackout, as written in config."""

    name: str
    schedule: str  # cron, in `timezone`
    duration: Duration
    timezone: str = "UTC"
    kind: Literal["allow", "deny"] = "allow"
    environments: list[str] = field(default_factory=list)  # empty: every environment

    def validate(self) -> None:
        from cockpit.actions import windows

        windows.validate(self.window())

    def window(self) -> ChangeWindow:
        return ChangeWindow(
            name=self.name,
            schedule=self.schedule,
            duration_minutes=max(int(self.duration // 60), 1) if self.duration else 0,
            timezone=self.timezone,
            kind=self.kind,
            environments=tuple(self.environments),
        )


ACTION_NAMES = Literal[
    "approve",
    "reject",
    "promote",
    "rollback",
    "pause",
    "resume",
    "abort",
    "sync",
    "rerun",
    "restart",
    "retry",
    "silence",
    "unsilence",
    "*",
]


@dataclass
class EnvironmentPolicy:
    """Rules for one environment; unset fields fall back to the defaults described."""

    permissions: dict[ACTION_NAMES, list[str]] = field(default_factory=dict)  # action -> roles
    gates: list[str] | None = None  # required for promote; default: every gate
    unknown_gates: Literal["block", "warn"] | None = None  # default: block in production
    two_person: list[ACTION_NAMES] = field(default_factory=list)  # need another operator first
    approvals: int = 1  # distinct approvers a two-person request needs
    break_glass: list[ACTION_NAMES] | None = None  # may override a closed window / failed gate
    # Type the service name to confirm: true (every action), false, or the actions that ask;
    # default: forward changes (promote, sync) in production, nothing elsewhere.
    typed_confirmation: bool | list[ACTION_NAMES] | None = None
    signed_approvals: bool = False
    auto_rollback: bool | None = None  # failing canary verdict: roll back (True) or banner
    # A change's remote author that maps to no operator: refuse (production default) or warn.
    unmapped_identity: Literal["refuse", "warn"] | None = None

    def validate(self) -> None:
        if self.approvals < 1:
            raise ValueError("approvals must be at least 1")


@dataclass
class AutoRollbackPolicy:
    """How far an automatic rollback (a failing canary verdict) may go on its own."""

    break_glass: bool = False  # may it override a closed window, as a person can with a reason?


@dataclass
class HotfixLane:
    """The hotfix lane: a promote that skips some gates (canary soak) under its own rules."""

    gates: list[str] | None = None  # the gates a hotfix promote needs; default: the environment's
    approvals: int = 1  # distinct approvers before it runs (two-person rule); 0: none
    ticket_required: bool = True
    follow_up_hours: float = 24  # a follow-up ticket is due this long after the hotfix
    environments: list[str] | None = None  # where the lane applies; default: every environment

    def validate(self) -> None:
        if self.approvals < 0:
            raise ValueError("approvals must be 0 or more")
        if self.gates is not None and not self.gates:
            raise ValueError("gates must name at least one gate (leave it out for the usual ones)")
        if not self.follow_up_hours > 0:
            raise ValueError("follow_up_hours must be more than 0")


@dataclass
class LanesConfig:
    """Promotion lanes other than the normal one; a lane not configured here is refused."""

    hotfix: HotfixLane | None = None


@dataclass
class PolicyConfig:
    roles: dict[str, list[str]] = field(default_factory=dict)  # role -> users and @groups
    permissions: dict[ACTION_NAMES, list[str]] = field(default_factory=dict)
    environments: dict[str, EnvironmentPolicy] = field(default_factory=dict)
    windows: list[WindowConfig] = field(default_factory=list)
    reason_min_length: int = 10
    break_glass: list[ACTION_NAMES] = field(default_factory=lambda: ["rollback", "abort", "pause"])
    auto_rollback: AutoRollbackPolicy = field(default_factory=AutoRollbackPolicy)
    unmapped_identity: Literal["refuse", "warn"] | None = None  # default for every environment
    lanes: LanesConfig = field(default_factory=LanesConfig)
    supply_chain: SupplyChainConfig = field(default_factory=SupplyChainConfig)

    def validate(self) -> None:
        if self.reason_min_length < 1:
            raise ValueError("reason_min_length must be at least 1")


@dataclass
class IdentityConfig:
    """SSH-signed approvals (where policy asks for them): whose key, checked against what."""

    signing_key: str | None = None  # a public key whose private half is in ssh-agent, or a key file
    allowed_signers: str | None = None  # ssh-keygen's allowed_signers file
    principal: str | None = None  # the principal to verify as; default: the OS user
    namespace: str = "release-approval@cockpit"
    revoked: str | None = None  # a KRL or revoked-keys file


def policy_problems(
    policy: PolicyConfig, env_names: set[str] | None, lines: LineMap
) -> Iterator[ConfigError]:
    """Each environment and role the policy names that does not exist (environments are not
    checked when `env_names` is None: their list is itself in error)."""
    if env_names is not None:
        yield from _unknown_environments(policy, env_names, lines)
    yield from _unknown_roles(policy, lines)
    yield from supply_problems(policy.supply_chain, lines)


def _unknown_environments(
    policy: PolicyConfig, env_names: set[str], lines: LineMap
) -> Iterator[ConfigError]:
    for name in policy.environments:
        if name not in env_names:
            hint = opt._suggest(name, sorted(env_names))
            yield lines.error(
                ("policy", "environments", name), f"unknown environment {name!r}{hint}"
            )
    hotfix = policy.lanes.hotfix
    for name in (hotfix.environments or []) if hotfix else []:
        if name not in env_names:
            hint = opt._suggest(name, sorted(env_names))
            yield lines.error(
                ("policy", "lanes", "hotfix", "environments"), f"unknown environment {name!r}{hint}"
            )
    for i, w in enumerate(policy.windows):
        for name in w.environments:
            if name not in env_names:
                yield lines.error(
                    ("policy", "windows", i, "environments"), f"unknown environment {name!r}"
                )


def _unknown_roles(policy: PolicyConfig, lines: LineMap) -> Iterator[ConfigError]:
    roles = set(policy.roles)
    perm_sources: list[tuple[opt.Path, Mapping[Any, list[str]]]] = [
        (("policy", "permissions"), policy.permissions)
    ]
    for n, p in policy.environments.items():
        perm_sources.append((("policy", "environments", n, "permissions"), p.permissions))
    for place, perms in perm_sources:
        for action, allowed in perms.items():
            for role in allowed:
                if role not in roles and role != "*":
                    hint = opt._suggest(role, sorted(roles))
                    yield lines.error((*place, action), f"unknown role {role!r}{hint}")
