"""The Textual application: wires the hub to the views, owns app-wide keys and the palette."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.worker import Worker, WorkerState

from cockpit import gcpause, heap
from cockpit.app_views import VIEW_SCREENS, ViewsMixin
from cockpit.app_watch import Watchers
from cockpit.clock import Clock, SystemClock
from cockpit.config import Settings
from cockpit.connect.client import ClientFactory, default_client
from cockpit.fleet.hub import Hub
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.journal import Journal
from cockpit.keys import APP_KEYS
from cockpit.sanitize import clean
from cockpit.wiring import open_journal, wire_hub
from screens.messages import FleetUpdated
from screens.stylesheet import KeptStylesheet

if TYPE_CHECKING:
    from cockpit.actions.windows import WindowState
    from cockpit.audit import Actor
    from cockpit.fleet.verdict_history import VerdictHistory
    from cockpit.incident.recorder import ChangeRecorder

__all__ = ["VIEW_SCREENS", "CockpitApp", "FleetUpdated"]

FIRST_FRAME_WAIT = 0.15  # seconds
POLICY_EVERY = 15.0  # seconds between reads of the team's stored policy (team mode)
# Seconds between reads of the controller's lease (team mode): well inside its stale_after.
CONTROLLER_EVERY = 5.0

log = logging.getLogger(__name__)


class CockpitApp(ViewsMixin):
    """Release Cockpit's terminal UI."""

    TITLE = "Release Cockpit"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute, so subclasses elsewhere find it
    ENABLE_COMMAND_PALETTE = True
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
        self.banner = None
        self.theme = settings.ui.theme
        self.stylesheet = KeptStylesheet.like(self.stylesheet)  # no re-parse of the same CSS
        self._actor = actor
        if hub is not None:
            self.hub, self.journal = hub, journal or open_journal(settings, self.clock)
        else:
            self.hub, self.journal = wire_hub(
                settings, clock=self.clock, client_factory=client_factory, journal=journal
            )
        # Every snapshot from the first, for watchers built after the first frame (app_watch)
        self.watchers = Watchers()
        self.hub.subscribe(self.watchers.observe)

    @property
    def recorder(self) -> ChangeRecorder:
        """What moved without a timestamp: the Incident view's "what changed"."""
        return self.watchers.recorder

    @property
    def verdicts(self) -> VerdictHistory:
        """The canary view's last verdicts, kept past the canary's end."""
        return self.watchers.verdicts

    # Time and data -------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    async def on_load(self) -> None:
        """Before the first view is composed: the fleet's first facts, so it is drawn once,
        with data, and in the mode it starts in (a first `switch_mode` re-parses every
        stylesheet twice)."""
        self._gc_before = gcpause.for_session()  # big snapshots: fewer young collections
        self.hub.subscribe(self.hand_over)  # delivered once the app is mounted
        if self.poll:
            self.hub.judging = False  # verdicts (and numpy) wait for the first frame
            await self.hub.start()
            # Give fast sources (the demo, a warm cache) a moment so the first frame has data;
            # slow ones fill in when they answer.
            await self.hub.first_data(FIRST_FRAME_WAIT)
        else:  # tests and snapshots: the log open (the start recorded), one deterministic refresh
            await self._audit_lifecycle("app.start")
            await self.hub.settle()

    async def on_mount(self) -> None:
        if self.settings.keys:
            self.set_keymap(dict(self.settings.keys))
        # The hub opened its connectors on load: whichever failed to start is named here.
        for problem in (*self.settings.problems, *self.hub.problems):
            self.notify(problem, title="Connector skipped", severity="error", timeout=20)
        if self.poll:
            self.set_interval(1.0, self._tick)
        await self.switch_mode(self.settings.ui.start_view)  # a known view: checked at load
        self.call_after_refresh(self.watchers.build)  # what waited for the first frame
        self.call_after_refresh(heap.return_large_blocks)  # a long session's memory stays level
        if self.poll:
            # The log opens (and records the start) once the first frame is up; its writes
            # run on the audit thread and keep their order.
            self.call_after_refresh(self._after_first_frame)

    def _after_first_frame(self) -> None:
        # The cyclic collector, held off through start-up by `cockpit`, goes again once the
        # first overview has settled: its one full pass then runs behind a painted screen.
        self.set_timer(1.0, gcpause.started)
        self.run_worker(
            self._audit_lifecycle("app.start"), group="audit-lifecycle", exit_on_error=False
        )
        self.hub.judging = True
        self.run_worker(self.hub.judge_now(), group="judge", exit_on_error=False)
        if self.settings.store is not None:  # team mode: the stored policy, for the top bar
            self._refresh_policy()  # (every action reads it again before it is planned)
            self.set_interval(POLICY_EVERY, self._refresh_policy)
            self.read_controller()  # who runs automatic actions, for the top bar
            self.set_interval(CONTROLLER_EVERY, self.read_controller)

    async def on_unmount(self) -> None:
        if (before := getattr(self, "_gc_before", None)) is not None:
            gcpause.restore(before)
        await self.hub.stop()
        await self._audit_lifecycle("app.exit")
        self.journal.close()

    async def _audit_lifecycle(self, kind: str) -> None:
        extra = {"config": self.settings.file or "(built-in demo)", "read_only": self.read_only}
        try:
            await self._note(kind, extra)
        except Exception as exc:  # the cockpit must say so, loudly, but still show the fleet
            self.notify(
                f"audit log unavailable: {exc}", title="Audit", severity="error", timeout=30
            )

    async def record_audit_read(self, view: str = "audit") -> None:
        await self._note("audit.read", {"view": view})

    async def _note(self, kind: str, extra: dict[str, Any]) -> None:
        actor, stamp = await self.actions.who_acts()  # team mode: the store's word on who
        await self.journal.note(kind, actor, {**stamp, **extra})

    def window_state(self, environment: str) -> WindowState:
        # Team mode: the stored policy's windows (this host's file may have none).
        team = self.settings.store is not None
        if not team and not self.settings.change_windows and not self.snapshot.windows:
            from cockpit.actions.windows import NO_WINDOWS  # no policy (or its import) to say so

            return NO_WINDOWS
        return self.policy.window_state(environment, self.now(), self.snapshot.windows)

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

    # Pushing the fleet down ------------------------------------------------------------
    _update_waiting: FleetUpdated | None = None  # posted by `hand_over`, not handled yet

    def hand_over(self, snapshot: FleetSnapshot) -> None:
        """The hub's listener. One FleetUpdated waits at most, carrying the newest snapshot:
        a settled start publishes ~50 before the app is mounted (~230 MB at 50,000 services)."""
        if self._update_waiting is not None:
            self._update_waiting.snapshot = snapshot
        elif self.post_message(update := FleetUpdated(snapshot)):  # not taken: none waits
            self._update_waiting = update

    def on_fleet_updated(self, message: FleetUpdated) -> None:
        self._update_waiting = None  # the newest snapshot is shown: the next one posts anew
        self._show()
        # Coalesced messages skip snapshots, so look at the canaries of the newest one
        # whatever its own changes were (reviewing is a walk over a few canaries).
        snap = self.hub.snapshot
        if getattr(self, "_gc_before", None) is not None:  # young collections by fleet size
            gcpause.fit_session(len(snap.runs))
        if self.review_canaries(snap) and (screen := self._fleet_screen()) is not None:
            screen.refresh_header(snap)

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
