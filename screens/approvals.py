"""Approvals: every pending gate from every connector and the cockpit's own policy."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from cockpit.actions import targets
from cockpit.clock import ago
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import ActionKind, PendingApproval
from cockpit.sanitize import clean
from screens.base import FleetScreen
from screens.nocolor import prod_style
from screens.widgets import GATE_STYLE, LiveTable, SortText, txt


class ApprovalsScreen(FleetScreen):
    VIEW = "approvals"
    TITLE_TEXT = "Approvals"
    ACTIONS_HERE = frozenset({ActionKind.APPROVE, ActionKind.REJECT})

    def build(self, kind: ActionKind) -> targets.Built:
        chosen = self.selected()
        return "select a pending approval first" if chosen is None else targets.decide(chosen, kind)

    def compose_body(self) -> ComposeResult:
        yield LiveTable(
            [
                ("title", "Waiting for approval", 34),
                ("env", "Env", 9),
                ("by", "Requested by", 12),
                ("age", "Waiting", 8),
                ("count", "Approvals", 9),
                ("source", "Source", None),
            ],
            id="approvals",
            optional=("source", "by"),  # who asked is in the detail below
        )
        yield Static(id="approval-detail")

    def approvals(self, snapshot: FleetSnapshot) -> list[PendingApproval]:
        items = [
            a
            for a in snapshot.approvals
            if self.matches(a.title, a.service, a.environment, a.requested_by, a.kind, a.source)
        ]
        items.sort(key=lambda a: (a.requested_at, a.id))
        return items

    def selected(self) -> PendingApproval | None:
        key = self.query_one("#approvals", LiveTable).current_key()
        return next((a for a in self.cockpit.snapshot.approvals if a.id == key), None)

    def render_fleet(self, snapshot: FleetSnapshot, full: bool) -> None:
        now = self.cockpit.now()
        items = self.approvals(snapshot)
        table = self.query_one("#approvals", LiveTable)
        table.reconcile(
            (
                a.id,
                [
                    SortText(clean(a.title, limit=60)),
                    txt(
                        a.environment,
                        prod_style(self.app) if self._prod(snapshot, a.environment) else "",
                    ),
                    txt(a.requested_by, limit=12),
                    Text(ago(a.requested_at, now)),
                    Text(f"{len(a.approvals)}/{a.required}"),
                    txt(a.source, "dim"),
                ],
            )
            for a in items
        )
        detail = self.query_one("#approval-detail", Static)
        chosen = self.selected()
        if chosen is None:
            detail.update(self.empty_text("Nothing is waiting for approval.") if not items else "")
            return
        out = Text("\n")
        out.append_text(txt(chosen.title, "bold"))
        out.append(f"\n{chosen.kind} · requested by ")
        out.append_text(txt(chosen.requested_by))
        out.append(f" {ago(chosen.requested_at, now)} ago · id ")
        out.append_text(txt(chosen.remote_id or chosen.id, "dim"))
        if chosen.version:
            out.append("\nversion ")
            out.append_text(txt(chosen.version, "bold"))
            out.append("  digest ")
            out.append_text(txt(chosen.digest, "dim"))
        if chosen.approvals:
            out.append("\napproved by: ")
            out.append_text(txt(", ".join(chosen.approvals)))
        gates = chosen.gates or snapshot.gates_for(chosen.service, chosen.environment)
        for gate in gates:
            label, style = GATE_STYLE[gate.status]
            out.append(f"\n  {label:<10}", style=style)
            out.append_text(txt(gate.name))
            out.append("  ")
            out.append_text(txt(gate.evidence, "dim", limit=100))
        detail.update(out)

    @staticmethod
    def _prod(snapshot: FleetSnapshot, env: str) -> bool:
        e = snapshot.environment(env)
        return bool(e and e.production)

    def on_live_table_highlighted(self) -> None:
        self.show(self.cockpit.snapshot, force=True)
