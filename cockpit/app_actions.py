"""The app's action glue: a key's request through the dialog, and the autopilot's reactions.

What needs no screen (planning, submitting, wording) is in cockpit/actions/action_flow.py; this
mixin runs it in workers, puts the dialog in between and shows the notices.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from rich.text import Text

from cockpit import __version__
from cockpit.actions.autopilot import AutoPilot, Proposal
from cockpit.app_keys import HeldKeysMixin
from cockpit.model import Action
from screens.widgets import failing_banner

if TYPE_CHECKING:
    from cockpit.actions import action_flow
    from cockpit.actions.executor import Executor
    from cockpit.actions.policy import Policy
    from cockpit.actions.targets import Built
    from cockpit.audit import Actor
    from cockpit.clock import Clock
    from cockpit.config import Settings
    from cockpit.fleet.hub import Hub
    from cockpit.fleet.snapshot import FleetSnapshot
    from cockpit.journal import Journal


class ActionsMixin(HeldKeysMixin):
    """Requests from keys and the palette, automatic rollbacks, the failing-canary banner."""

    settings: Settings
    clock: Clock
    hub: Hub
    journal: Journal
    read_only: bool
    autopilot: AutoPilot
    banner: Text | None  # a failing canary waiting for a human
    _actor: Actor | None

    @cached_property
    def actor(self) -> Actor:
        """Who is at the keyboard; looked up when first recorded, after the first frame."""
        if self._actor is not None:
            return self._actor
        from cockpit.actions.identity import current_actor

        return current_actor(__version__)

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

    @property
    def policy(self) -> Policy:
        return self.executor.policy

    def why_not(self, action: Action) -> str | None:
        """Why `action` is greyed out: read-only or no connector can do it (cheap checks)."""
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
        if snap.canaries:
            for proposal in self.autopilot.review(snap):
                if proposal.automatic:
                    self.run_worker(
                        self._auto_rollback(proposal), group="auto-rollback", exit_on_error=False
                    )
                else:
                    from cockpit.actions import action_flow

                    self.show_notice(action_flow.proposal_notice(proposal))
        banner = failing_banner([p for p in self.autopilot.failing(snap) if not p.automatic])
        changed, self.banner = banner != self.banner, banner
        return changed

    async def _auto_rollback(self, proposal: Proposal) -> None:
        from cockpit.actions import action_flow

        self.show_notice(await action_flow.auto_rollback(self.executor, proposal, self.actor))
        await self.hub.refresh()

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
