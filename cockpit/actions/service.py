"""The headless action service: the executor, the autopilot's reviews and automatic rollbacks.

The TUI and the controller share it, so both act on a failing canary the same way and
word the result the same way; neither a screen nor a toast is needed here. The TUI puts
a dialog around `action_flow.prepare` / `submit` and turns `Notice`s into toasts; the
controller runs the automatic rollbacks and counts the outcomes.

In team mode the TUIs are built with `automatic=False`: the controller, one per team
store, runs automatic rollbacks, so two cockpits never roll the same canary back twice.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cockpit.actions.action_flow import Notice
    from cockpit.actions.autopilot import AutoPilot, Proposal
    from cockpit.actions.executor import Executor
    from cockpit.audit import Actor
    from cockpit.clock import Clock
    from cockpit.config import Settings
    from cockpit.fleet.hub import Hub
    from cockpit.fleet.snapshot import FleetSnapshot
    from cockpit.journal import Journal
    from cockpit.model import Action
    from cockpit.team.held_policy import Held


class Review:
    """What one look at the fleet's canaries asks for; each canary version appears once.

    (A plain class: the TUI imports this module before its first frame, where a dataclass
    costs about a millisecond; the action flow itself loads with the first action.)
    """

    __slots__ = ("announce", "controller", "run")

    def __init__(self) -> None:
        self.run: list[Proposal] = []  # roll back now, automatically
        self.announce: list[Proposal] = []  # a person decides: say so
        self.controller: list[Proposal] = []  # automatic, but the controller's to run


def left_to_controller_notice(proposal: Proposal) -> Notice:
    """A failing canary policy rolls back on its own, in team mode: the controller does it."""
    from cockpit.actions.action_flow import Notice

    return Notice(
        f"{proposal.summary}. The team's controller rolls it back (policy auto_rollback).",
        f"Canary {proposal.service} in {proposal.environment} fails",
        "warning",
        30.0,
    )


class ActionService:
    """Policy, executor and autopilot over one hub and journal, for one actor."""

    def __init__(
        self,
        settings: Settings,
        hub: Hub,
        journal: Journal,
        *,
        actor: Callable[[], Actor],
        clock: Clock,
        read_only: bool = False,
        automatic: bool = True,
    ) -> None:
        self.settings, self.hub, self.journal, self.clock = settings, hub, journal, clock
        self.read_only = read_only
        # False: automatic rollbacks are someone else's (the controller's, in team mode).
        self.automatic = automatic
        self._actor = actor  # looked up when first needed (the TUI: after its first frame)

    @cached_property
    def autopilot(self) -> AutoPilot:
        """Built by the first review (the TUI: after its first frame, whose key bar asks only
        `why_not`): it reads the policy, which a built-in config builds only then."""
        from cockpit.actions.autopilot import AutoPilot

        return AutoPilot(self.settings.policy)

    @cached_property
    def actor(self) -> Actor:
        return self._actor()

    @cached_property
    def executor(self) -> Executor:
        """Policy and executor, built on first use (start-up does not need them)."""
        from cockpit.wiring import make_executor

        return make_executor(
            self.settings,
            self.hub,
            self.journal,
            actor=self.actor,
            clock=self.clock,
            read_only=self.read_only,
        )

    async def who_acts(self) -> tuple[Actor, dict[str, Any]]:
        """The actor and stamp of records written outside the executor (the app's start and
        exit, reads of the log): in team mode the store's word once it is known (`db_role`,
        `os_user`, `identity_mismatch` beside it), else the OS user as always."""
        if self.settings.store is None:
            return self.actor, {}
        await self.executor.identify()  # once; "who you are is not known yet" leaves the OS user
        return self.executor.actor, dict(self.executor.stamp)

    def held_policy(self) -> Held | None:
        """Team mode: the team's stored policy as last read (None without `store:`)."""
        if self.settings.store is None:
            return None
        return getattr(self.executor.policy, "held", None)

    async def refresh_policy(self) -> None:
        """Team mode: read the team's stored policy again (every action does too); the
        autopilot's auto_rollback rules then follow the stored policy, not this host's."""
        if self.settings.store is None:
            return
        policy = self.executor.policy
        await policy.refresh()
        # A store that cannot be read for a moment leaves what is automatic as last read:
        # every action is refused meanwhile anyway (cockpit.team.held_policy).
        if getattr(getattr(policy, "held", None), "state", "") != "unreadable":
            self.autopilot.policy = policy.config

    def why_not(self, action: Action) -> str | None:
        """Why `action` cannot run here: read-only or no connector can do it (cheap checks)."""
        if self.read_only:
            return "read-only mode (started with --read-only)"
        if action.environment in self.settings.read_only_envs:
            return f"{action.environment} is read-only in the config"
        if action.source == "cockpit":
            return None
        connector = self.hub.connector(action.source)
        if connector is None or action.kind not in connector.ACTIONS:
            return f"{action.source or 'no connector'} cannot {action.kind.value} here"
        return None

    def review(self, snap: FleetSnapshot) -> Review:
        """Canaries that started failing since the last review, sorted by who acts."""
        if not snap.canaries:
            return Review()
        review = Review()
        for proposal in self.autopilot.review(snap):
            if not proposal.automatic:
                review.announce.append(proposal)
            elif self.automatic:
                review.run.append(proposal)
            else:
                review.controller.append(proposal)
        return review

    def waiting(self, snap: FleetSnapshot) -> list[Proposal]:
        """Failing canaries that wait for a person to roll them back (the TUI's banner)."""
        return [p for p in self.autopilot.failing(snap) if not p.automatic]

    async def auto_rollback(self, proposal: Proposal) -> Notice:
        """Roll `proposal`'s canary back as policy says, refresh the fleet, word the result."""
        return (await self.roll_back(proposal))[1]

    async def roll_back(self, proposal: Proposal) -> tuple[str, Notice]:
        """The same, with the outcome's status ("impossible" when no rollback applied)."""
        from cockpit.actions.action_flow import rollback_notice
        from cockpit.actions.autopilot import roll_back

        outcome = await roll_back(self.executor, proposal, self.actor)
        await self.hub.refresh()
        status = "impossible" if isinstance(outcome, str) else outcome.status
        return status, rollback_notice(proposal, outcome)
