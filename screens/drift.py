"""Drift: which deployments differ from what Git says, item by item, desired beside live."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from cockpit.actions import targets
from cockpit.clock import ago
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import ActionKind, DriftReport
from cockpit.sanitize import clean
from screens.base import FleetScreen
from screens.widgets import LiveTable, SortText, txt


class DriftScreen(FleetScreen):
    VIEW = "drift"
    TITLE_TEXT = "Drift"
    ACTIONS_HERE = frozenset({ActionKind.SYNC})

    def build(self, kind: ActionKind) -> targets.Built:
        key = self.query_one("#reports", LiveTable).current_key()
        if not key:
            return "no drift report selected"
        service, _, env = key.partition("/")
        return targets.sync(self.cockpit.snapshot, service, env)

    def compose_body(self) -> ComposeResult:
        yield LiveTable(
            [
                ("service", "Service", 20),
                ("env", "Env", 10),
                ("revision", "Revision", 14),
                ("items", "Items", 6),
                ("seen", "Seen", None),
            ],
            id="reports",
            optional=("seen", "revision"),
        )
        yield Static(id="drift-title")
        yield LiveTable(
            [
                ("resource", "Resource", 30),
                ("path", "Path", 26),
                ("desired", "Desired (Git)", 22),
                ("live", "Live", None),
            ],
            id="items",
        )

    def _reports(self, snapshot: FleetSnapshot) -> list[DriftReport]:
        reports = [
            r
            for r in snapshot.drift
            if r.items
            and self.matches(r.service, r.environment, *(f"{i.resource} {i.path}" for i in r.items))
        ]
        reports.sort(key=lambda r: (r.environment, r.service))
        return reports

    def render_fleet(self, snapshot: FleetSnapshot, full: bool) -> None:
        now = self.cockpit.now()
        reports = self._reports(snapshot)
        table = self.query_one("#reports", LiveTable)
        table.reconcile(
            (
                f"{r.service}/{r.environment}",
                [
                    SortText(clean(r.service, limit=20)),
                    txt(r.environment),
                    txt(r.revision, limit=14),
                    Text(str(len(r.items)), style="yellow bold"),
                    Text(f"{ago(r.observed_at, now)} ago via {clean(r.source)}", style="dim"),
                ],
            )
            for r in reports
        )
        table.styles.height = min(max(len(reports), 1), 8) + 2  # + a scrollbar line
        key = table.current_key()
        report = next((r for r in reports if f"{r.service}/{r.environment}" == key), None)
        title = self.query_one("#drift-title", Static)
        items = self.query_one("#items", LiveTable)
        if report is None:
            title.update(
                self.empty_text("")
                if self.filter_text
                else Text(
                    "No drift: every reported deployment matches its desired state.", style="green"
                )
            )
            items.reconcile([])
            return
        head = Text("\n")
        head.append_text(txt(report.service, "bold"))
        head.append(" in ")
        head.append_text(txt(report.environment, "bold"))
        head.append(f": {len(report.items)} difference(s) between desired and live")
        title.update(head)
        rows = []
        for i, item in enumerate(report.items):
            resource = SortText(clean(item.resource, limit=60))
            rows.append(
                (
                    f"{i}",
                    [
                        resource,
                        txt(item.path, limit=60),
                        txt(item.desired, "green", limit=80),
                        txt(item.live, "red", limit=80),
                    ],
                )
            )
        items.reconcile(rows)

    def on_live_table_highlighted(self) -> None:
        self.show(self.cockpit.snapshot, force=True)

    def action_open(self) -> None:
        key = self.query_one("#reports", LiveTable).current_key()
        if key:
            service, _, env = key.partition("/")
            self.cockpit.open_cell(service, env, prefer_canary=False)
