"""Audit: browse and filter the log, with the chain's verify status at a glance.

Opening the view is itself recorded (PCI DSS 10.2.1.3: access to audit logs). Reads and
verification run on the audit thread, never on the event loop.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static
from textual.worker import Worker

from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.sanitize import clean
from screens.base import FleetScreen
from screens.widgets import LiveTable, SortText, txt

SHOWN = 500
OUTCOME_STYLE = {
    "succeeded": "green",
    "failed": "red bold",
    "refused": "red",
    "pending": "yellow",
    "granted": "green",
    "rejected": "red",
}


def record_row(r: Any) -> list[Text]:
    target = r.target
    where = f"{target.service}/{target.environment}" if target and target.service else "-"
    versions = ""
    if target and (target.from_version or target.to_version):
        versions = f"{target.from_version or '?'}→{target.to_version or '?'}"
    glass = " BREAK-GLASS" if r.break_glass else ""
    return [
        SortText(str(r.seq)),
        Text(r.ts.strftime("%m-%d %H:%M:%S")),
        txt(r.event_type.value),
        txt(r.actor.user, limit=14),
        txt(where, limit=20),
        txt(versions, "dim", limit=15),
        Text(r.outcome + glass, style="bold red" if glass else OUTCOME_STYLE.get(r.outcome, "")),
        txt(r.reason, limit=60),
    ]


class AuditScreen(FleetScreen):
    # Parsed when the view is first shown.
    CSS = """
    #audit-verify, #audit-detail {
        height: auto;
        padding: 0 1;
    }
    """
    VIEW = "audit"
    TITLE_TEXT = "Audit"

    def __init__(self) -> None:
        super().__init__()
        self.records: list[Any] = []
        self.verify_text = Text("verifying the chain…", style="dim")

    def compose_body(self) -> ComposeResult:
        yield Static(self.verify_text, id="audit-verify")
        yield LiveTable(
            [
                ("seq", "#", 6),
                ("ts", "UTC", 14),
                ("event", "Event", 17),
                ("actor", "Actor", 14),
                ("target", "Target", 20),
                ("versions", "Versions", 15),
                ("outcome", "Outcome", 10),
                ("reason", "Reason", None),
            ],
            id="audit-records",
            # Time, event, outcome and the start of the reason stay; Enter shows the rest.
            optional=("versions", "seq", "actor", "target"),
        )
        yield Static(id="audit-detail")

    _access_recorded = False

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        # One audit.read per visit: Textual may resume a screen more than once on the way in.
        first = not self._access_recorded
        self._access_recorded = True
        self.run_worker(self._load(record_access=first), group="audit", exit_on_error=False)

    def on_screen_suspend(self) -> None:
        self._access_recorded = False

    def refresh_header(self, snapshot: FleetSnapshot) -> None:
        super().refresh_header(snapshot)
        # New records arrive from any cockpit sharing the store; look again now and then.
        if self.is_current and snapshot.generation % 5 == 0 and not self._loading:
            self.run_worker(self._load(record_access=False), group="audit", exit_on_error=False)

    _loading = False

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Worker state messages do not bubble: hand failures to the app's one reporter.
        self.cockpit.on_worker_state_changed(event)

    async def _load(self, record_access: bool) -> None:
        self._loading = True
        try:
            await self._read(record_access)
        finally:
            self._loading = False

    async def _read(self, record_access: bool) -> None:
        journal = self.cockpit.journal
        if record_access:
            # Opening the view: show the log as it was, so the cursor settles on a record the
            # operator came to see (and stays there) before this visit's own audit.read lands
            # above it; then verify the whole chain once.
            if not self.records:
                await self._fetch()
            await self.cockpit.record_audit_read()
            result = await journal.call(lambda store: store.verify())
            style = "green bold" if result.ok else "red bold"
            self.verify_text = Text(
                ("✓ " if result.ok else "✗ ") + clean(result.describe(), limit=200), style=style
            )
            self.query_one("#audit-verify", Static).update(self.verify_text)
        await self._fetch()

    async def _fetch(self) -> None:
        self.records = await self.cockpit.journal.call(
            lambda store: list(store.records(newest_first=True, limit=SHOWN))
        )
        self.show(self.cockpit.snapshot, force=True)

    def render_fleet(self, snapshot: FleetSnapshot, full: bool) -> None:
        table = self.query_one("#audit-records", LiveTable)
        rows = []
        for r in self.records:
            target = r.target
            if self.matches(
                r.event_type.value,
                r.action,
                r.actor.user,
                r.outcome,
                r.reason,
                r.ticket,
                target.service if target else "",
                target.environment if target else "",
                "break-glass" if r.break_glass else "",
            ):
                rows.append((str(r.seq), record_row(r)))
        table.reconcile(rows)
        self._detail()

    def on_live_table_highlighted(self) -> None:
        self._detail()

    def selected(self) -> Any | None:
        key = self.query_one("#audit-records", LiveTable).current_key()
        return next((r for r in self.records if str(r.seq) == key), None)

    def action_open(self) -> None:
        """Enter: the record under the cursor in full (identity, evidence, outcome, hash)."""
        from screens.audit_record import AuditRecordScreen

        record = self.selected()
        if record is not None:
            self.app.push_screen(AuditRecordScreen(record))

    def _detail(self) -> None:
        record = self.selected()
        detail = self.query_one("#audit-detail", Static)
        if record is None:
            detail.update(
                self.empty_text("The audit log is empty.")
                if not self.records or self.filter_text
                else Text()
            )
            return
        out = Text()
        out.append(f"#{record.seq} ", style="bold")
        out.append_text(txt(record.event_type.value, "bold"))
        out.append(
            f"  request {clean(record.request_id[:12]) or '-'}  hash {record.hash[:16]}…  prev {record.prev_hash[:16]}…\n",
            style="dim",
        )
        out.append("actor ")
        out.append_text(
            txt(
                f"{record.actor.user}@{record.actor.host} pid {record.actor.pid} {record.actor.ssh_client or 'local'}"
            )
        )
        if record.ticket:
            out.append("  ticket ")
            out.append_text(txt(record.ticket, "bold"))
        decision = record.policy.get("decision") if record.policy else None
        if decision:
            out.append(f"\npolicy {decision}")
            for reason in record.policy.get("reasons", []):
                out.append("\n  • ")
                out.append_text(txt(reason, limit=160))
        for gate in record.evidence.get("gates", []) if record.evidence else []:
            out.append(f"\n  {gate.get('status', '?'):<8}", style="dim")
            out.append_text(txt(f"{gate.get('name')}: {gate.get('evidence')}", limit=150))
        detail.update(out)
