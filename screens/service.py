"""One service in one environment: deployment and history, canary, drift, alerts, gates, runs."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from cockpit.actions import targets
from cockpit.clock import ago
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.keys import DETAIL_KEYS
from cockpit.model import ActionKind
from cockpit.sanitize import clean, first_line
from screens.base import FleetScreen, bindings
from screens.environments import short_digest
from screens.widgets import (
    GATE_STYLE,
    LiveTable,
    SortText,
    health_text,
    status_text,
    txt,
    window_label,
)


class ServiceScreen(FleetScreen):
    """Everything the cockpit knows about one (service, environment)."""

    TITLE_TEXT = "Service"
    FILTERABLE = False
    ACTIONS_HERE = frozenset(ActionKind)
    BINDINGS = [*FleetScreen.BINDINGS, *bindings(DETAIL_KEYS, "service")]

    def action_pods(self) -> None:
        """Open the pods view (revisions, pods, events, logs); the app fetches it."""
        from screens.pods import OpenPods

        self.post_message(OpenPods(self.service, self.environment))

    def build(self, kind: ActionKind) -> targets.Built:
        from screens.overview import cell_action

        snap = self.cockpit.snapshot
        if kind is ActionKind.ROLLBACK:
            chosen = self.selected_revision()
            canary = snap.cell(self.service, self.environment).canary
            if chosen is not None and not (canary and canary.phase.active):
                return targets.rollback(snap, self.service, self.environment, chosen)
        return cell_action(snap, kind, self.service, self.environment)

    def __init__(self, service: str, environment: str) -> None:
        super().__init__()
        self.service = service
        self.environment = environment

    def compose_body(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(id="svc-head")
            yield Static(
                Text("History (select a row, b rolls back to it)", style="dim"), id="hist-label"
            )
            yield LiveTable(
                [
                    ("version", "Version", 14),
                    ("when", "Deployed", 9),
                    ("by", "By", 12),
                    ("digest", "Digest", 16),
                    ("note", "", None),
                ],
                id="history",
            )
            yield Static(id="svc-detail")

    def selected_revision(self) -> str | None:
        return self.query_one("#history", LiveTable).current_key()

    def render_fleet(self, snapshot: FleetSnapshot, full: bool) -> None:
        now = self.cockpit.now()
        cell = snapshot.cell(self.service, self.environment)
        env = snapshot.environment(self.environment)
        head = Text()
        head.append_text(txt(self.service, "bold"))
        head.append(" in ")
        if env is not None and env.production:
            head.append(f"{self.environment.upper()} (production)", style="bold red")
        else:
            head.append_text(txt(self.environment, "bold"))
        dep = cell.deployment
        if dep is None:
            head.append("\nnot deployed here (no connector reports it)", style="dim")
        else:
            head.append("\nversion ")
            head.append_text(txt(dep.version, "bold"))
            head.append("  ")
            head.append_text(health_text(dep.health))
            head.append("  ")
            head.append_text(status_text(dep.status))
            head.append(f"\ndeployed {ago(dep.deployed_at, now)} ago by ")
            head.append_text(txt(dep.deployed_by))
            head.append("  digest ")
            head.append_text(txt(dep.digest, "dim"))
            head.append("\nsource ")
            head.append_text(txt(dep.source))
            head.append(f", observed {ago(dep.observed_at, now)} ago")
        head.append("\n")
        head.append_text(window_label(self.cockpit.window_state(self.environment)))
        self.query_one("#svc-head", Static).update(head)

        rows = []
        if dep is not None:
            for rev in dep.history:
                version = SortText(clean(rev.version, limit=14))
                rows.append(
                    (
                        rev.version,
                        [
                            version,
                            Text(ago(rev.deployed_at, now)),
                            txt(rev.deployed_by, limit=12),
                            txt(short_digest(rev.digest), "dim"),
                            Text("rollback" if rev.rollback else "", style="yellow"),
                        ],
                    )
                )
        self.query_one("#history", LiveTable).reconcile(rows)

        detail = Text()
        canary = cell.canary
        if canary is not None:
            detail.append("\nCanary ", style="bold")
            detail.append_text(txt(f"{canary.baseline_version} → {canary.canary_version}"))
            detail.append(
                f"  step {canary.step}/{canary.steps}  weight {canary.weight}%  {canary.phase.value}"
            )
            if canary.verdict is not None:
                detail.append(f"  verdict {canary.verdict.decision} ({canary.verdict.score:.0f})")
        if cell.drift is not None and cell.drift.items:
            detail.append(f"\nDrift: {len(cell.drift.items)} item(s)", style="yellow bold")
            for item in cell.drift.items:
                detail.append("\n  ")
                detail.append_text(
                    txt(
                        f"{item.resource} {item.path}: desired {item.desired!s} live {item.live!s}",
                        limit=200,
                    )
                )
        for alert in cell.alerts:
            detail.append("\nAlert ", style="red bold" if alert.firing else "dim")
            detail.append_text(
                txt(
                    f"{alert.name} [{alert.severity.value}, {alert.state}] {alert.summary}",
                    limit=200,
                )
            )
        gates = snapshot.gates_for(self.service, self.environment)
        if gates:
            detail.append("\nGates", style="bold")
            for gate in gates:
                label, style = GATE_STYLE[gate.status]
                detail.append(f"\n  {label:<10}", style=style)
                detail.append_text(txt(gate.name))
                detail.append("  ")
                detail.append_text(txt(gate.evidence, "dim", limit=120))
        runs = snapshot.runs_for(self.service)[:5]
        if runs:
            detail.append("\nRecent runs", style="bold")
            for run in runs:
                detail.append("\n  ")
                detail.append_text(status_text(run.status))
                detail.append(" ")
                detail.append_text(txt(run.id))
                detail.append(" ")
                detail.append_text(txt(run.version))
                detail.append(" ")
                detail.append(first_line(run.message, limit=60), style="dim")
        self.query_one("#svc-detail", Static).update(detail)
