"""The Textual application: wires the hub to the views, owns app-wide keys and the palette."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events
from textual.app import App, ScreenStackError, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from cockpit import __version__, lanes
from cockpit.autopilot import AutoPilot, Proposal, roll_back
from cockpit.clock import Clock, SystemClock
from cockpit.config import Settings
from cockpit.hub import ClientFactory, Hub, default_client
from cockpit.incident.recorder import ChangeRecorder
from cockpit.journal import Journal
from cockpit.keys import ALL_KEYS, APP_KEYS, BY_ID, VIEWS, display
from cockpit.model import Action
from cockpit.outcome import Outcome
from cockpit.sanitize import clean
from cockpit.snapshot import FleetSnapshot
from cockpit.verdict_history import VerdictHistory
from cockpit.wiring import make_executor, open_journal, wire_hub
from screens.base import FleetScreen
from screens.widgets import Badges, failing_banner, header_badges, window_label

# Views other than the first are imported when first shown: start-up pays only for one.
VIEW_SCREENS: dict[str, str] = {
    "overview": "screens.overview:OverviewScreen",
    "pipelines": "screens.pipelines:PipelinesScreen",
    "environments": "screens.environments:EnvironmentsScreen",
    "canary": "screens.canary:CanaryScreen",
    "drift": "screens.drift:DriftScreen",
    "approvals": "screens.approvals:ApprovalsScreen",
    "audit": "screens.audit:AuditScreen",
    "incident": "screens.incident:IncidentScreen",
}


# Actions that open the action dialog (a view's `p`, `b`..., the app's `B`).
DIALOG_ACTIONS = frozenset(k.action.removeprefix("app.") for k in ALL_KEYS if k.mutating)


def _lazy_screen(target: str) -> Callable[[], Screen[object]]:
    def make() -> Screen[object]:
        import importlib

        module, _, name = target.partition(":")
        screen: Screen[object] = getattr(importlib.import_module(module), name)()
        return screen

    return make


if TYPE_CHECKING:
    from cockpit.audit import Actor
    from cockpit.executor import Executor
    from cockpit.policy import Policy

FIRST_FRAME_WAIT = 0.15  # seconds

log = logging.getLogger(__name__)


class FleetUpdated(Message):
    """The hub published a new snapshot. Only the newest one waiting in the queue matters."""

    def __init__(self, snapshot: FleetSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FleetUpdated)


class CockpitApp(App[int]):
    """Release Cockpit's terminal UI."""

    TITLE = "Release Cockpit"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute, so subclasses elsewhere find it
    ENABLE_COMMAND_PALETTE = True
    MODES = {name: _lazy_screen(target) for name, target in VIEW_SCREENS.items()}
    BINDINGS = [
        Binding(k.key, k.action.removeprefix("app."), k.description, show=k.show, id=k.id)
        for k in APP_KEYS
        if not k.id.startswith("view.") or k.id.removeprefix("view.") in VIEW_SCREENS
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        hub: Hub | None = None,
        poll: bool = True,
        read_only: bool = False,
        client_factory: ClientFactory = default_client,
        journal: Journal | None = None,
        actor: Actor | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.clock = clock or SystemClock()
        self.poll = poll
        self.read_only = read_only
        self.autopilot = AutoPilot(settings.policy)
        self.verdicts = VerdictHistory()  # the canary view's last verdicts, kept past the end
        self.banner: Text | None = None  # a failing canary waiting for a human
        self.theme = settings.ui.theme
        self._actor = actor
        self._held: list[events.Key] | None = None  # keys waiting for a dialog's first field
        if hub is not None:
            self.hub, self.journal = hub, journal or open_journal(settings, self.clock)
        else:
            self.hub, self.journal = wire_hub(
                settings, clock=self.clock, client_factory=client_factory, journal=journal
            )
        # Notes what facts carry no time for (drift appearing, a canary's step) as it moves:
        # the Incident view's "what changed".
        self.recorder = ChangeRecorder()
        self.hub.subscribe(self.recorder.observe)

    # Time and data -------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    @property
    def snapshot(self) -> FleetSnapshot:
        return self.hub.snapshot

    async def on_mount(self) -> None:
        if self.settings.keys:
            self.set_keymap(dict(self.settings.keys))

        def forward(snapshot: FleetSnapshot) -> None:
            self.post_message(FleetUpdated(snapshot))

        self.hub.subscribe(forward)
        self.hub.subscribe(self.verdicts.observe)  # every snapshot, even ones coalesced away
        for problem in (*self.settings.problems, *self.hub.problems):
            self.notify(problem, title="Connector skipped", severity="error", timeout=20)
        if self.poll:
            self.hub.judging = False  # verdicts (and numpy) wait for the first frame
            await self.hub.start()
            self.set_interval(1.0, self._tick)
            # Give fast sources (the demo, a warm cache) a moment so the first frame has data;
            # slow ones fill in when they answer.
            await self.hub.first_data(FIRST_FRAME_WAIT)
        else:  # tests and snapshots: one deterministic refresh, the log already open
            await self._audit_lifecycle("app.start")
            await self.hub.settle()
        start = self.settings.ui.start_view
        await self.switch_mode(start if start in VIEW_SCREENS else "overview")
        if self.poll:
            # The log opens (and records the start) once the first frame is up; its writes
            # run on the audit thread and keep their order.
            self.call_after_refresh(self._after_first_frame)
        for problem in self.hub.problems:
            self.notify(problem, title="Connector skipped", severity="error", timeout=20)

    def _after_first_frame(self) -> None:
        self.run_worker(
            self._audit_lifecycle("app.start"), group="audit-lifecycle", exit_on_error=False
        )
        self.hub.judging = True
        self.run_worker(self.hub.judge_now(), group="judge", exit_on_error=False)

    async def on_unmount(self) -> None:
        await self.hub.stop()
        await self._audit_lifecycle("app.exit")
        self.journal.close()

    async def _audit_lifecycle(self, kind: str) -> None:
        extra = {"config": self.settings.file or "(built-in demo)", "read_only": self.read_only}
        try:
            await self.journal.note(kind, self.actor, extra)
        except Exception as exc:  # the cockpit must say so, loudly, but still show the fleet
            self.notify(
                f"audit log unavailable: {exc}", title="Audit", severity="error", timeout=30
            )

    async def record_audit_read(self) -> None:
        await self.journal.note("audit.read", self.actor, {"view": "audit"})

    # Actions -----------------------------------------------------------------------
    @cached_property
    def actor(self) -> Actor:
        """Who is at the keyboard; looked up when first recorded, after the first frame."""
        if self._actor is not None:
            return self._actor
        from cockpit.identity import current_actor

        return current_actor(__version__)

    @cached_property
    def executor(self) -> Executor:
        """Policy and executor, built on first use (start-up does not need them)."""
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

    def request_action(
        self, built: Action | str, evidence: Mapping[str, Any] | None = None
    ) -> None:
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
        try:
            plan = self.executor.plan(built)
            if evidence:
                plan = replace(plan, evidence_extra={**plan.evidence_extra, **evidence})
            # A promote the hotfix lane covers: the dialog's toggle switches to this plan.
            hotfix = None
            if lanes.offered(self.policy.config, built):
                marked = self.executor.plan(lanes.marked_hotfix(built))
                hotfix = replace(marked, evidence_extra=plan.evidence_extra)
            if plan.decision.refused and (hotfix is None or hotfix.decision.refused):
                await self.executor.record_refusal(plan)
        except BaseException:
            await self.release_keys()  # no dialog will take them
            raise
        from screens.dialog import ActionDialog, Confirmed, with_duration

        def submit(confirmed: Confirmed) -> Awaitable[Outcome]:
            return self.executor.submit(
                with_duration(hotfix if confirmed.hotfix and hotfix else plan, confirmed.duration),
                reason=confirmed.reason,
                ticket=confirmed.ticket,
                break_glass=confirmed.break_glass,
                confirmation=confirmed.confirmation,
            )

        # The dialog runs it: an audit log that refuses the first record is shown there.
        outcome = await self.push_screen_wait(ActionDialog(plan, submit, hotfix))
        if not isinstance(outcome, Outcome):
            return
        severity = {
            "succeeded": "information",
            "pending": "warning",
            "failed": "error",
            "refused": "error",
        }.get(outcome.status, "information")
        self.notify(outcome.message, title=plan.title, severity=severity, timeout=10)  # type: ignore[arg-type]
        await self.hub.refresh()

    # Keys typed faster than the screen follows ------------------------------------------
    def hold_keys(self) -> None:
        """Keys from now on wait for the dialog being opened: it releases them to its field."""
        if self._held is None:
            self._held = []

    async def release_keys(self) -> None:
        """Deliver the held keys, in order, to what has focus now; later keys go there directly."""
        while self._held:  # keys arriving meanwhile join the queue, so the order holds
            await super().on_event(self._held.pop(0))
        self._held = None

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            if self._held is not None:
                self._held.append(event)
                return
            if await self._open_dialog_now(event):
                return
        await super().on_event(event)

    async def _open_dialog_now(self, event: events.Key) -> bool:
        """A key that opens the action dialog acts as it arrives, not after it bubbled up.

        Textual hands a key to the focused table first and runs the view's binding only
        when it comes back up; by then the reason typed right behind `B` has gone to the
        view, where `a`, `p` or `s` are actions of their own.
        """
        try:
            screen = self.screen
        except ScreenStackError:
            return False
        if not isinstance(screen, FleetScreen) or isinstance(screen.focused, Input):
            return False  # typing into the filter line is text
        active = screen.active_bindings.get(event.key)
        if active is None or not active.enabled or active.binding.action not in DIALOG_ACTIONS:
            return False  # a greyed-out key still says why, the usual way
        return await self.run_action(active.binding.action, active.node)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every toast, ours or a screen's, shows its text literally.

        Messages carry connector and server text (a 422's body, a service name): parsed as
        markup, a `[/]` would raise and exit the app, and `[@click=...]` would be live.
        """
        super().notify(
            clean(message, multiline=True),
            title=clean(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed worker is reported and the cockpit keeps running (workers never exit it)."""
        worker = event.worker
        if event.state != WorkerState.ERROR or worker.error is None:
            return
        error = worker.error
        log.error("worker %s failed: %s: %s", worker.group, type(error).__name__, clean(error))
        self.notify(
            f"{type(error).__name__}: {error}",
            title=f"Internal error in {worker.group}; the cockpit keeps running",
            severity="error",
            timeout=30,
        )

    def on_fleet_updated(self, message: FleetUpdated) -> None:
        self._show()
        # Coalesced messages skip snapshots, so look at the canaries of the newest one
        # whatever its own changes were (reviewing is a walk over a few canaries).
        snap = self.hub.snapshot
        if snap.canaries:
            for proposal in self.autopilot.review(snap):
                if proposal.automatic:
                    self.run_worker(
                        self._auto_rollback(proposal), group="auto-rollback", exit_on_error=False
                    )
                else:
                    self.notify(
                        f"{proposal.summary}. Press B to roll back.",
                        title=f"Canary {proposal.service} in {proposal.environment} fails",
                        severity="error",
                        timeout=30,
                    )
        banner = failing_banner([p for p in self.autopilot.failing(snap) if not p.automatic])
        if banner != self.banner:
            self.banner = banner
            if (screen := self._fleet_screen()) is not None:
                screen.refresh_header(snap)

    async def _auto_rollback(self, proposal: Proposal) -> None:
        outcome = await roll_back(self.executor, proposal, self.actor)
        if isinstance(outcome, str):
            self.notify(f"automatic rollback impossible: {outcome}", severity="error", timeout=30)
            return
        self.notify(
            f"{proposal.summary} → {outcome.status}: {outcome.message}",
            title=f"Automatic rollback of {proposal.service} in {proposal.environment}",
            severity="information" if outcome.status == "succeeded" else "error",
            timeout=30,
        )
        await self.hub.refresh()

    def action_rollback_failing(self) -> None:
        from cockpit import targets

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

    def _tick(self) -> None:
        """Once a second: clocks, ages and staleness move even when no data does."""
        if (screen := self._fleet_screen()) is not None:
            screen.refresh_header(self.hub.snapshot)

    def _show(self) -> None:
        snapshot = self.hub.snapshot
        if (screen := self._fleet_screen()) is not None:
            screen.show(snapshot)
        for modal in self.screen_stack:  # an open dialog watches its target
            follow = getattr(modal, "follow", None)
            if follow is not None and modal.is_mounted:
                follow(snapshot)

    def _fleet_screen(self) -> FleetScreen | None:
        """The view on screen, mounted, also under an action dialog, or None.

        The view behind a dialog keeps updating: what the operator decides on stays live.
        Under help or a panel it catches up on resume. The stack is empty while Textual
        shuts down (the hub and the tick still run) and a view switched to is on it a
        moment before it is mounted.
        """
        for screen in reversed(self.screen_stack):
            if isinstance(screen, FleetScreen):
                return screen if screen.is_mounted else None
            if not getattr(screen, "VIEW_LIVE_BEHIND", False):
                return None
        return None

    def header_extra(self) -> Badges:
        now = self.now()
        failing = any(s.ok is False or s.stale(now) for s in self.snapshot.sources.values())
        windows = []
        if self.settings.policy.windows or self.snapshot.windows:
            windows = [
                (env.name, self.window_state(env.name))
                for env in self.snapshot.environments
                if env.production
            ]
        return header_badges(
            sources_key=display(self.settings.keys.get("sources", BY_ID["sources"].key))
            if failing
            else None,
            read_only=self.read_only,
            demo=self.settings.demo,
            windows=windows,
        )

    def window_state(self, environment: str):  # type: ignore[no-untyped-def]
        if not self.settings.policy.windows and not self.snapshot.windows:
            from cockpit.windows import NO_WINDOWS

            return NO_WINDOWS
        return self.policy.window_state(environment, self.now(), self.snapshot.windows)

    def window_text(self, environment: str) -> Text:
        return window_label(self.window_state(environment))

    # Navigation ----------------------------------------------------------------
    async def action_view(self, name: str) -> None:
        if name in VIEW_SCREENS and self.current_mode != name:
            await self.switch_mode(name)

    def action_help(self) -> None:
        from cockpit.keys import ACTION_KEYS
        from screens.base import ACTION_OF
        from screens.help import HelpScreen

        disabled = {}
        if (screen := self._fleet_screen()) is not None:
            for spec in ACTION_KEYS:
                kind = ACTION_OF[spec.action]
                if kind in screen.ACTIONS_HERE:
                    why = screen.why_disabled(kind)
                    if why:
                        disabled[spec.id] = why
        self.push_screen(HelpScreen(dict(self.settings.keys), disabled))

    def action_sources(self) -> None:
        from screens.sources import SourcesScreen

        self.push_screen(SourcesScreen())

    def action_refresh_now(self) -> None:
        self.hub.poke()
        self.notify("Refreshing every connector now", timeout=2)

    def open_cell(self, service: str, environment: str, prefer_canary: bool = True) -> None:
        cell = self.snapshot.cell(service, environment)
        if prefer_canary and cell.canary is not None and cell.canary.phase.active:
            self.switch_mode("canary")
            screen = self.screen
            from screens.canary import CanaryScreen

            if isinstance(screen, CanaryScreen):
                screen.select(service, environment)
                screen.show(self.snapshot, force=True)
            return
        from screens.service import ServiceScreen

        self.push_screen(ServiceScreen(service, environment))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        for name, key, title in VIEWS:
            if name in VIEW_SCREENS:
                yield SystemCommand(
                    f"View: {title}",
                    f"Switch to the {title} view (key {key})",
                    lambda n=name: self.run_action(f"view('{n}')"),
                )
        yield SystemCommand(
            "Refresh now", "Poll every connector now (ctrl+r)", self.action_refresh_now
        )
        yield SystemCommand("Help: keys", "Every key binding and its id (?)", self.action_help)
        yield SystemCommand(
            "Sources: health and errors",
            "Each connector's state, last success and last error (ctrl+s)",
            self.action_sources,
        )
        if isinstance(screen, FleetScreen) and screen.FILTERABLE:
            yield SystemCommand(
                "Filter this view", "Type to narrow the rows (/)", screen.action_filter
            )
        if isinstance(screen, FleetScreen):
            from screens.palette import action_commands

            yield from action_commands(screen, self.settings.keys)
        yield from super().get_system_commands(screen)
