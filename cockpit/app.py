"""The Textual application: wires the hub to the views, owns app-wide keys and the palette."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from rich.text import Text
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen

from cockpit import __version__
from cockpit.clock import Clock, SystemClock
from cockpit.config import Settings
from cockpit.executor import FAILED, PENDING, REFUSED, SUCCEEDED
from cockpit.hub import ClientFactory, Hub, default_client
from cockpit.journal import Journal
from cockpit.keys import APP_KEYS, VIEWS
from cockpit.model import Action
from cockpit.snapshot import FleetSnapshot
from cockpit.wiring import wire
from screens.approvals import ApprovalsScreen
from screens.audit import AuditScreen
from screens.base import FleetScreen
from screens.canary import CanaryScreen
from screens.dialog import ActionDialog
from screens.drift import DriftScreen
from screens.environments import EnvironmentsScreen
from screens.help import HelpScreen
from screens.overview import OverviewScreen
from screens.pipelines import PipelinesScreen
from screens.service import ServiceScreen

VIEW_SCREENS: dict[str, type[FleetScreen]] = {
    "overview": OverviewScreen,
    "pipelines": PipelinesScreen,
    "environments": EnvironmentsScreen,
    "canary": CanaryScreen,
    "drift": DriftScreen,
    "approvals": ApprovalsScreen,
    "audit": AuditScreen,
}


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
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = True
    MODES = dict(VIEW_SCREENS)  # type: ignore[arg-type]
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
        actor: object | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.clock = clock or SystemClock()
        self.poll = poll
        self.read_only = read_only
        self.theme = settings.ui.theme
        from cockpit.identity import current_actor

        self.actor = actor or current_actor(__version__)
        self.hub, self.executor, self.journal = wire(
            settings,
            actor=self.actor,
            clock=self.clock,
            read_only=read_only,
            client_factory=client_factory,
            journal=journal,
            hub=hub,
        )
        self.policy = self.executor.policy

    # Time and data -------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    @property
    def snapshot(self) -> FleetSnapshot:
        return self.hub.snapshot

    async def on_mount(self) -> None:
        await self._audit_lifecycle("app.start")
        if self.settings.keys:
            self.set_keymap(dict(self.settings.keys))
        self.hub.subscribe(lambda snap: self.post_message(FleetUpdated(snap)))
        for problem in (*self.settings.problems, *self.hub.problems):
            self.notify(problem, title="Connector skipped", severity="error", timeout=20)
        start = self.settings.ui.start_view
        await self.switch_mode(start if start in VIEW_SCREENS else "overview")
        if self.poll:
            await self.hub.start()
            self.set_interval(1.0, self._tick)
        else:
            await self.hub.refresh()
        for problem in self.hub.problems:
            self.notify(problem, title="Connector skipped", severity="error", timeout=20)

    async def on_unmount(self) -> None:
        await self.hub.stop()
        await self._audit_lifecycle("app.exit")
        self.journal.close()

    async def _audit_lifecycle(self, kind: str) -> None:
        from cockpit.audit import AuditEvent, EventType

        extra = {"config": self.settings.file or "(built-in demo)", "read_only": self.read_only}
        try:
            await self.journal.append(
                AuditEvent(EventType(kind), self.actor, None, kind, "info", extra=extra)  # type: ignore[arg-type]
            )
        except Exception as exc:  # the cockpit must say so, loudly, but still show the fleet
            self.notify(f"audit log unavailable: {exc}", title="Audit", severity="error", timeout=30)

    async def record_audit_read(self) -> None:
        from cockpit.audit import AuditEvent, EventType

        await self.journal.append(
            AuditEvent(EventType.AUDIT_READ, self.actor, None, "audit.read", "info", extra={"view": "audit"})  # type: ignore[arg-type]
        )

    # Actions -----------------------------------------------------------------------
    def why_not(self, action: Action) -> str | None:
        """Why `action` is greyed out: read-only or no connector can do it (cheap checks)."""
        why = self.policy.read_only_reason(action.environment)
        if why:
            return why
        if not self.executor.capable(action):
            return f"{action.source or 'no connector'} cannot {action.kind.value} here"
        return None

    def request_action(self, built: Action | str) -> None:
        """A key or the palette asked for an action: plan, confirm, execute, report."""
        if isinstance(built, str):
            self.notify(built, severity="warning", timeout=6)
            return
        self.run_worker(self._act(built), group="actions", exclusive=False)

    async def _act(self, action: Action) -> None:
        plan = self.executor.plan(action)
        if plan.decision.refused:
            await self.executor.record_refusal(plan)
        confirmed = await self.push_screen_wait(ActionDialog(plan))
        if confirmed is None:
            return
        outcome = await self.executor.submit(
            plan,
            reason=confirmed.reason,
            ticket=confirmed.ticket,
            break_glass=confirmed.break_glass,
            confirmation=confirmed.confirmation,
        )
        severity = {SUCCEEDED: "information", PENDING: "warning", FAILED: "error", REFUSED: "error"}.get(
            outcome.status, "information"
        )
        self.notify(outcome.message, title=plan.title, severity=severity, timeout=10)  # type: ignore[arg-type]
        await self.hub.refresh()

    def on_fleet_updated(self, message: FleetUpdated) -> None:
        self._show()

    def _tick(self) -> None:
        """Once a second: clocks, ages and staleness move even when no data does."""
        screen = self.screen
        if isinstance(screen, FleetScreen) and screen.is_mounted:
            screen.refresh_header(self.hub.snapshot)

    def _show(self) -> None:
        screen = self.screen
        # Under a modal (a dialog, help) the view waits; it catches up on resume.
        if isinstance(screen, FleetScreen):
            screen.show(self.hub.snapshot)

    def header_extra(self) -> Text | None:
        parts = Text()
        if self.read_only:
            parts.append(" READ-ONLY ", style="reverse bold")
        if self.settings.demo:
            parts.append(" demo fleet ", style="reverse")
        for env in self.snapshot.environments:
            if env.production:
                state = self.window_state(env.name)
                if state.label != "open (no change windows)":
                    parts.append(f" {env.name} ", style="bold")
                    parts.append(state.label, style="green" if state.open else "yellow bold")
        return parts or None

    def window_state(self, environment: str):  # type: ignore[no-untyped-def]
        return self.policy.window_state(environment, self.now(), self.snapshot.windows)

    def window_text(self, environment: str) -> Text:
        state = self.window_state(environment)
        text = Text("change window: ")
        text.append(state.label, style="green" if state.open else "yellow bold")
        if state.reason:
            text.append(f" ({state.reason})", style="dim")
        return text

    # Navigation ----------------------------------------------------------------
    async def action_view(self, name: str) -> None:
        if name in VIEW_SCREENS and self.current_mode != name:
            await self.switch_mode(name)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(dict(self.settings.keys)))

    def action_refresh_now(self) -> None:
        self.hub.poke()
        self.notify("Refreshing every connector now", timeout=2)

    def open_cell(self, service: str, environment: str, prefer_canary: bool = True) -> None:
        cell = self.snapshot.cell(service, environment)
        if prefer_canary and cell.canary is not None and cell.canary.phase.active:
            self.switch_mode("canary")
            screen = self.screen
            if isinstance(screen, CanaryScreen):
                screen.select(service, environment)
                screen.show(self.snapshot, force=True)
            return
        self.push_screen(ServiceScreen(service, environment))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        for name, key, title in VIEWS:
            if name in VIEW_SCREENS:
                yield SystemCommand(
                    f"View: {title}", f"Switch to the {title} view (key {key})", lambda n=name: self.run_action(f"view('{n}')")
                )
        yield SystemCommand("Refresh now", "Poll every connector now (ctrl+r)", self.action_refresh_now)
        yield SystemCommand("Help: keys", "Every key binding and its id (?)", self.action_help)
        if isinstance(screen, FleetScreen) and screen.FILTERABLE:
            yield SystemCommand("Filter this view", "Type to narrow the rows (/)", screen.action_filter)
        yield from super().get_system_commands(screen)
