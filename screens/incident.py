"""Incident: the firing alerts, most severe and newest first, and what changed before each.

For the selected alert, the changes of the two hours before it started (every connector's
facts, the audit log and what the recorder saw move) ranked as suspects by
`cockpit.incident.correlate`; the best one is marked and selected. `b` rolls back the
selected change's service and environment, `S` silences the alert, both with the alert in
the audit record as evidence; `o` and `c` open and close an incident.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult, SystemCommand
from textual.widgets import Static
from textual.worker import Worker

from cockpit.actions import targets
from cockpit.clock import ago
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.incident.changes import Change, collect
from cockpit.incident.correlate import WINDOW, Suspect, suspects
from cockpit.keys import INCIDENT_KEYS, display
from cockpit.model import ActionKind, Alert
from cockpit.sanitize import clean
from screens.base import FleetScreen, bindings
from screens.incident_data import (
    LOOKBACK,
    SHOWN,
    Loaded,
    alert_evidence,
    alert_key,
    alert_row,
    change_row,
    incidents_text,
    ranked,
    read_changes,
    suspect_evidence,
    suspect_text,
)
from screens.widgets import LiveTable, txt


class IncidentScreen(FleetScreen):
    VIEW = "incident"
    TITLE_TEXT = "Incident"
    ACTIONS_HERE = frozenset({ActionKind.ROLLBACK, ActionKind.SILENCE})
    BINDINGS = bindings(INCIDENT_KEYS)
    DEFAULT_CSS = """
    IncidentScreen #incident-state, IncidentScreen #incident-for { height: 1; padding: 0 1; }
    IncidentScreen #incident-alerts { max-height: 40%; }
    IncidentScreen #incident-detail { height: auto; max-height: 2; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.loaded = Loaded()
        self._loading = False
        self._suspects: list[Suspect] = []
        self._counted = 0  # changes in the selected alert's window
        self._for: str | None = None  # the alert the changes table shows
        self._ranked_for: tuple[object, ...] = ()  # what the suspects shown were ranked from
        self._rows: dict[str, tuple[tuple[object, ...], list[Text]]] = {}  # alert rows drawn

    def compose_body(self) -> ComposeResult:
        yield Static(id="incident-state")
        yield LiveTable(
            [
                ("sev", "Sev", 4),
                ("since", "Since", 5),
                ("service", "Service", None),
                ("env", "Env", None),
                ("alert", "Alert", None),
                ("state", "", None),
            ],
            id="incident-alerts",
        )
        yield Static(id="incident-for")
        yield LiveTable(
            [
                ("mark", "", 9),
                ("before", "Before", 6),
                ("kind", "Kind", None),
                ("where", "Where", None),
                ("summary", "What changed", None),
            ],
            id="incident-changes",
            optional=("kind",),
        )
        yield Static(id="incident-detail")

    # Reading the audit log --------------------------------------------------------------
    _access_recorded = False

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        if not self._access_recorded:  # it reads the audit log: one audit.read per visit
            self._access_recorded = True
            self.run_worker(self.cockpit.record_audit_read("incident"), exit_on_error=False)
        self.reload()

    def on_screen_suspend(self) -> None:
        self._access_recorded = False

    def refresh_header(self, snapshot: FleetSnapshot) -> None:
        super().refresh_header(snapshot)
        self._show_state()
        # Actions and incidents arrive from any cockpit sharing the store: look now and then.
        if self.is_current and snapshot.generation % 5 == 0:
            self.reload()

    def reload(self) -> None:
        if not self._loading:
            self._loading = True
            self.run_worker(self._load(), group="incident", exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Worker state messages do not bubble: hand failures to the app's one reporter.
        self.cockpit.on_worker_state_changed(event)

    async def _load(self) -> None:
        since = self.cockpit.now() - LOOKBACK
        try:
            self.loaded = await self.cockpit.journal.call(lambda store: read_changes(store, since))
        finally:
            self._loading = False
        self._for = None  # the same alert may now have more changes
        self.render_fleet(self.cockpit.snapshot, True)
        self._show_state()

    # Rendering ---------------------------------------------------------------------------
    def alerts(self, snapshot: FleetSnapshot) -> list[Alert]:
        return [
            a
            for a in ranked(snapshot.alerts)
            if self.matches(a.name, a.service, a.environment, a.severity.value, a.summary)
        ]

    def selected_alert(self) -> Alert | None:
        key = self.query_one("#incident-alerts", LiveTable).current_key()
        return next((a for a in self.cockpit.snapshot.alerts if alert_key(a) == key), None)

    def selected_suspect(self) -> tuple[int, Suspect] | None:
        key = self.query_one("#incident-changes", LiveTable).current_key()
        if key is None or not key.isdigit() or int(key) >= len(self._suspects):
            return None
        return int(key), self._suspects[int(key)]

    def render_fleet(self, snapshot: FleetSnapshot, full: bool) -> None:
        now = self.cockpit.now()
        alerts = self.alerts(snapshot)
        table = self.query_one("#incident-alerts", LiveTable)
        rows, self._rows = self._rows, {}
        table.reconcile((alert_key(a), self._alert_row(a, now, rows)) for a in alerts)
        # As tall as its rows (the header and at least one), up to the CSS's max-height:
        # the rest of the screen is for what changed.
        table.styles.height = max(len(alerts), 1) + 1
        ch = snapshot.changes
        moved = full or bool(
            ch.cells or ch.runs or ch.runs_removed or ch.other or ch.services_added
        )
        self._render_changes(snapshot, facts_moved=moved)

    def _alert_row(
        self, a: Alert, now: datetime, drawn: dict[str, tuple[tuple[object, ...], list[Text]]]
    ) -> list[Text]:
        """The alert's cells; the ones drawn last time when nothing shown differs (500 alerts
        polled again are mostly the same ones)."""
        key = alert_key(a)
        since = ago(a.started_at, now)
        shown = (a.severity, since, a.service, a.environment, a.name, a.silenced, a.inhibited_by)
        old = drawn.get(key)
        if old is not None and old[0] == shown:
            self._rows[key] = old
            return old[1]
        row = alert_row(a, now)
        self._rows[key] = (shown, row)
        return row

    def _render_changes(self, snapshot: FleetSnapshot, facts_moved: bool = True) -> None:
        heading = self.query_one("#incident-for", Static)
        changes = self.query_one("#incident-changes", LiveTable)
        alert = self.selected_alert()
        if alert is None:
            self._suspects, self._for, self._ranked_for = [], None, ()
            changes.reconcile(())
            empty = "no match" if self.filter_text else "no alert firing"
            heading.update(Text(empty, style="dim"))
            self._show_detail()
            return
        found = self._rank(snapshot, alert, facts_moved)
        moved = alert_key(alert) != self._for
        self._for = alert_key(alert)
        self._suspects = found
        words = Text(f"Changed in the {int(WINDOW.total_seconds() // 3600)} h before ")
        words.append_text(txt(alert.name, "bold", limit=40))
        words.append(" on ")
        words.append_text(txt(f"{alert.service}/{alert.environment}", limit=40))
        words.append(f" ({alert.started_at:%H:%M} UTC)")
        if self._counted > len(found):
            words.append(f" · best {len(found)} of {self._counted:,}", style="dim")
        elif not found:
            words.append(": nothing", style="dim")
        heading.update(words)
        changes.reconcile((str(i), change_row(i, s, alert)) for i, s in enumerate(found))
        if moved:  # a newly selected alert starts on its top suspect
            changes.move_cursor(row=0)
        self._show_detail()

    def _rank(self, snapshot: FleetSnapshot, alert: Alert, facts_moved: bool) -> list[Suspect]:
        since, until = alert.started_at - WINDOW, alert.started_at
        recorder = getattr(self.cockpit, "recorder", None)
        observed = recorder.changes(since, until) if recorder is not None else []
        # Ranking 5,000 changes takes tens of milliseconds: only when its inputs moved.
        inputs = (alert_key(alert), since, id(self.loaded), len(observed), observed[-1:])
        if not facts_moved and inputs == self._ranked_for:
            return self._suspects
        self._ranked_for = inputs
        found: list[Change] = collect(
            snapshot, self.loaded.records, since=since, until=until, observed=observed
        )
        self._counted = len(found)
        return suspects(alert, found, window=WINDOW, limit=SHOWN)

    def _show_detail(self) -> None:
        detail = self.query_one("#incident-detail", Static)
        picked = self.selected_suspect()
        if picked is None:
            if self._for is not None and not self._suspects:
                detail.update(Text("Nothing changed in the window before it started.", "dim"))
            else:
                detail.update("")
            return
        detail.update(suspect_text(picked[1]))

    def _show_state(self) -> None:
        state = self.query_one("#incident-state", Static)
        key = display(self.cockpit.settings.keys.get("incident.open", "o"))
        state.update(incidents_text(self.loaded.incidents, self.cockpit.now(), key))

    @on(LiveTable.Highlighted)
    def _highlighted(self, event: LiveTable.Highlighted) -> None:
        # FleetScreen's own handler refreshes the keys after this one.
        if event.table.id == "incident-alerts":
            self._render_changes(self.cockpit.snapshot)
        else:
            self._show_detail()

    def action_open(self) -> None:
        picked = (
            self.selected_suspect()
            if self.focused is not None and self.focused.id == "incident-changes"
            else None
        )
        if picked is not None and picked[1].change.service:
            c = picked[1].change
            self.cockpit.open_cell(c.service, c.environment)
            return
        alert = self.selected_alert()
        if alert is not None:
            self.cockpit.open_cell(alert.service, alert.environment)

    # Actions: the alert goes into the audit record as evidence ------------------------------
    def build(self, kind: ActionKind) -> targets.Built:
        alert = self.selected_alert()
        if alert is None:
            return "no alert firing" if not self.filter_text else "no alert selected"
        snapshot = self.cockpit.snapshot
        if kind is ActionKind.SILENCE:
            return targets.silence(snapshot, alert, "2h")
        if kind is ActionKind.ROLLBACK:
            picked = self.selected_suspect()
            if picked is None:
                return "nothing changed before this alert: no suspect to roll back"
            c = picked[1].change
            if not c.service or not c.environment:
                return f"a {c.kind} change is fleet-wide: nothing to roll back here"
            return targets.rollback(snapshot, c.service, c.environment)
        return super().build(kind)

    def action_rollback(self) -> None:
        alert, picked = self.selected_alert(), self.selected_suspect()
        evidence: dict[str, Any] = {}
        if alert is not None:
            evidence["alert"] = alert_evidence(alert)
        if picked is not None:
            evidence["suspect"] = suspect_evidence(picked[1], picked[0] + 1)
        self.cockpit.request_action(self.build(ActionKind.ROLLBACK), evidence=evidence)

    def action_silence(self) -> None:
        alert = self.selected_alert()
        evidence = {"alert": alert_evidence(alert)} if alert is not None else {}
        self.cockpit.request_action(self.build(ActionKind.SILENCE), evidence=evidence)

    # Incidents: recorded in the audit log, off the UI thread -----------------------------------
    def palette_commands(self) -> Iterable[SystemCommand]:
        yield from super().palette_commands()
        keys = self.cockpit.settings.keys
        for spec in INCIDENT_KEYS:
            why = self.why_not_incident(spec.action)
            key = display(keys.get(spec.id, spec.key))
            help_text = f"{why} (key {key})" if why else f"Recorded in the audit log (key {key})"
            run = getattr(self, f"action_{spec.action}")
            yield SystemCommand(f"Incident: {spec.description}", help_text, run)

    def why_not_incident(self, action: str) -> str | None:
        if action == "close_incident" and not self.loaded.incidents:
            return "no incident is open"
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open_incident", "close_incident"):
            return None if self.why_not_incident(action) else True
        return super().check_action(action, parameters)

    def on_key(self, event: events.Key) -> None:
        for active in self.active_bindings.values():
            binding = active.binding
            if binding.action in ("open_incident", "close_incident") and event.key == binding.key:
                why = self.why_not_incident(binding.action)
                if why:
                    self.notify(f"{binding.description}: {why}", severity="warning", timeout=6)
                    event.stop()
                return
        super().on_key(event)

    def action_open_incident(self) -> None:
        from screens.incident_form import IncidentForm

        alert = self.selected_alert()
        title = f"{alert.name} on {alert.service}/{alert.environment}" if alert else ""
        where = (alert.service, alert.environment) if alert else ("", "")

        def opened(answer: dict[str, str] | None) -> None:
            if answer:
                self.run_worker(
                    self._record_open(answer, *where), group="incident", exit_on_error=False
                )

        self.app.push_screen(IncidentForm.opening(clean(title, limit=200)), opened)

    def action_close_incident(self) -> None:
        from screens.incident_form import IncidentForm

        still = sorted(self.loaded.incidents, key=lambda i: i.opened_at, reverse=True)
        if not still:
            self.notify("Close incident: no incident is open", severity="warning", timeout=6)
            return
        which = still[0]

        def closed(answer: dict[str, str] | None) -> None:
            if answer is not None:
                self.run_worker(
                    self._record_close(which.id, answer.get("reason", "")),
                    group="incident",
                    exit_on_error=False,
                )

        self.app.push_screen(IncidentForm.closing(which.id, which.title), closed)

    async def _record_open(self, answer: dict[str, str], service: str, env: str) -> None:
        from cockpit.incident.incidents import IncidentError, open_incident

        actor = self.cockpit.actor
        try:
            incident = await self.cockpit.journal.call(
                lambda store: open_incident(
                    store,
                    actor,
                    answer["title"],
                    ticket=answer.get("ticket", ""),
                    service=service,
                    environment=env,
                )
            )
        except IncidentError as exc:
            self.notify(f"Open incident: {exc}", severity="error", timeout=10)
            return
        self.notify(f"{incident.id} open: {incident.title}", title="Incident", timeout=8)
        await self._load()

    async def _record_close(self, which: str, reason: str) -> None:
        from cockpit.incident.incidents import IncidentError, close_incident

        actor = self.cockpit.actor
        try:
            incident = await self.cockpit.journal.call(
                lambda store: close_incident(store, actor, which, reason=reason)
            )
        except IncidentError as exc:
            self.notify(f"Close incident: {exc}", severity="error", timeout=10)
            return
        self.notify(f"{incident.id} closed", title="Incident", timeout=8)
        await self._load()
