"""The app's action glue: a key's request through the dialog, and the autopilot's notices.

What needs no screen (the executor, the autopilot's reviews, automatic rollbacks) is the
headless action service (cockpit/actions/service.py), which the controller runs too; the
flow's steps are in cockpit/actions/action_flow.py. This mixin runs them in workers, puts
the dialog in between and shows the notices and the banner.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from rich.text import Text

from cockpit import __version__
from cockpit.app_keys import HeldKeysMixin
from cockpit.model import Action
from screens.widgets import failing_banner

if TYPE_CHECKING:
    from cockpit.actions import action_flow
    from cockpit.actions.autopilot import AutoPilot, Proposal
    from cockpit.actions.executor import Executor
    from cockpit.actions.policy import Policy
    from cockpit.actions.service import ActionService
    from cockpit.actions.targets import Built
    from cockpit.audit import Actor
    from cockpit.clock import Clock
    from cockpit.config import Settings
    from cockpit.controller.seen import Seen
    from cockpit.fleet.hub import Hub
    from cockpit.fleet.snapshot import FleetSnapshot
    from cockpit.journal import Journal
    from cockpit.team.held_policy import Held


class ActionsMixin(HeldKeysMixin):
    """Requests from keys and the palette, automatic rollbacks, the failing-canary banner."""

    settings: Settings
    clock: Clock
    hub: Hub
    journal: Journal
    read_only: bool
    banner: Text | None  # a failing canary waiting for a person
    _actor: Actor | None
    _controller_seen: Seen | None = None  # team mode: the controller's lease, as last read

    @cached_property
    def actions(self) -> ActionService:
        """The headless action service. In team mode (`store:`) automatic rollbacks are the
        controller's: this cockpit announces them and leaves them to it. Built when first
        used, after the first frame (the first snapshot reviewed): it loads the policy."""
        from cockpit.actions.service import ActionService

        return ActionService(
            self.settings,
            self.hub,
            self.journal,
            actor=self._lookup_actor,
            clock=self.clock,
            read_only=self.read_only,
            automatic=self.settings.store is None,
        )

    def _lookup_actor(self) -> Actor:
        """Who is at the keyboard; looked up when first recorded, after the first frame."""
        if self._actor is not None:
            return self._actor
        from cockpit.actions.identity import current_actor

        return current_actor(__version__)

    # Cached, not plain properties: what the app acts through can be swapped on the instance
    # (tests put an executor that fails there).
    @cached_property
    def actor(self) -> Actor:
        return self.actions.actor

    @cached_property
    def executor(self) -> Executor:
        return self.actions.executor

    @property
    def autopilot(self) -> AutoPilot:
        return self.actions.autopilot

    @property
    def policy(self) -> Policy:
        return self.executor.policy

    def held_policy(self) -> Held | None:
        return self.actions.held_policy()

    def _refresh_policy(self) -> None:
        """Team mode: the stored policy read again in a worker; the top bar shows it."""
        self.run_worker(self.actions.refresh_policy(), group="team-policy", exit_on_error=False)

    def controller_lease(self) -> Seen | None:
        """Team mode: the controller's lease as last read (None until the first read)."""
        return self._controller_seen

    def read_controller(self) -> None:
        """Team mode: read the controller's lease in a worker thread; the top bar shows it."""
        self.run_worker(self._read_controller(), group="controller-lease", exit_on_error=False)

    async def _read_controller(self) -> None:
        import asyncio

        from cockpit.controller.seen import read

        store = self.settings.store
        if store is not None:
            self._controller_seen = await asyncio.to_thread(read, store, self.clock.now())

    def why_not(self, action: Action) -> str | None:
        """Why `action` is greyed out: read-only or no connector can do it (cheap checks)."""
        return self.actions.why_not(action)

    def request_action(self, built: Built, evidence: Mapping[str, Any] | None = None) -> None:
        """A key or the palette asked for an action: plan, confirm, execute, report.

        `evidence` is what prompted it (a canary verdict, a firing alert): it goes into the
        audit record beside the gates, as the automatic rollback's verdict does.
        """
        if isinstance(built, str):
            self.notify(built, severity="warning", timeout=6)
            return
        # What is typed from now on is for the dialog this opens: held until its field has
        # focus, it never reaches the view behind (where `a` and `p` are actions).
        self.hold_keys()
        self.run_worker(
            self._act(built, evidence or {}), group="actions", exclusive=False, exit_on_error=False
        )

    async def _act(self, built: Action, evidence: Mapping[str, Any]) -> None:
        # The action flow (with its lanes) and the outcome are loaded by the first action,
        # not at start-up (~4 ms).
        from cockpit.actions import action_flow
        from cockpit.actions.outcome import Outcome

        try:
            prepared = await action_flow.prepare(self.executor, built, evidence)
        except BaseException:
            await self.release_keys()  # no dialog will take them
            raise
        from screens.dialog import ActionDialog

        def submit(confirmed: action_flow.Confirmed) -> Any:
            return action_flow.submit(self.executor, prepared, confirmed)

        # The dialog runs it: an audit log that refuses the first record is shown there.
        outcome = await self.push_screen_wait(ActionDialog(prepared.plan, submit, prepared.hotfix))
        if isinstance(outcome, Outcome):
            self.show_notice(action_flow.outcome_notice(prepared.plan, outcome))
            await self.hub.refresh()

    def show_notice(self, notice: action_flow.Notice) -> None:
        self.notify(
            notice.message, title=notice.title, severity=notice.severity, timeout=notice.timeout
        )

    # The autopilot ----------------------------------------------------------------------
    def review_canaries(self, snap: FleetSnapshot) -> bool:
        """Act on canaries that started failing; True when the banner changed."""
        review = self.actions.review(snap)
        for proposal in review.run:
            self.run_worker(
                self._auto_rollback(proposal), group="auto-rollback", exit_on_error=False
            )
        if review.announce:
            from cockpit.actions import action_flow

            for proposal in review.announce:
                self.show_notice(action_flow.proposal_notice(proposal))
        if review.controller:
            from cockpit.actions.service import left_to_controller_notice

            for proposal in review.controller:
                self.show_notice(left_to_controller_notice(proposal))
        banner = failing_banner(self.actions.waiting(snap))
        changed, self.banner = banner != self.banner, banner
        return changed

    async def _auto_rollback(self, proposal: Proposal) -> None:
        self.show_notice(await self.actions.auto_rollback(proposal))

    def action_rollback_failing(self) -> None:
        from cockpit.actions import targets

        failing = self.autopilot.failing(self.hub.snapshot)
        if not failing:
            self.notify("No canary is failing.", timeout=4)
            return
        first = failing[0]
        # The verdict that prompted it goes on the record, as with the automatic rollback.
        self.request_action(
            targets.rollback(self.hub.snapshot, first.service, first.environment),
            evidence=first.evidence(),
        )
