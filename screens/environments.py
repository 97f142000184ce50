"""Environments: per environment, what runs there, who put it there, and its history."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from cockpit.actions import targets
from cockpit.clock import ago
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import ActionKind, Deployment
from cockpit.sanitize import clean
from screens.base import FleetScreen
from screens.widgets import LiveTable, SortText, health_text, status_text, txt, window_label

COLUMNS = [
    ("service", "Service", 20),
    ("version", "Version", 12),
    ("health", "Health", 14),
    ("status", "Status", 12),
    ("when", "Deployed", 9),
    ("by", "By", 10),
    ("digest", "Digest", 14),
    ("history", "Earlier", None),
]
# Dropped in this order on a narrow terminal: service, version, health and age stay.
OPTIONAL = ("history", "digest", "by", "status")


def deployment_row(dep: Deployment, now: datetime) -> list[Text]:
    earlier = ", ".join(clean(r.version, limit=12) for r in dep.history[:3])
    return [
        SortText(clean(dep.service, limit=20)),
        txt(dep.version, "bold", limit=12),
        health_text(dep.health),
        status_text(dep.status),
        Text(ago(dep.deployed_at, now)),
        txt(dep.deployed_by, limit=10),
        txt(short_digest(dep.digest), "dim"),
        Text(earlier or "-", style="dim"),
    ]


def short_digest(digest: str) -> str:
    algo, _, hexpart = digest.partition(":")
    return f"{algo}:{hexpart[:7]}" if hexpart else digest[:14]


class EnvironmentsScreen(FleetScreen):
    # Parsed when the view is first shown.
    CSS = """
    #env-tabs {
        height: 1;
        padding: 0 1;
    }
    """
    VIEW = "environments"
    TITLE_TEXT = "Environments"
    ACTIONS_HERE = frozenset(
        {ActionKind.PROMOTE, ActionKind.ROLLBACK, ActionKind.SYNC, ActionKind.RESTART}
    )

    def build(self, kind: ActionKind) -> targets.Built:
        from screens.overview import cell_action

        service = self.query_one("#deployments", LiveTable).current_key()
        if service is None:
            return "select a deployment first"
        return cell_action(self.cockpit.snapshot, kind, service, self.environment)

    BINDINGS = [
        Binding("left_square_bracket", "tab(-1)", "Prev env", show=False, id="env.prev"),
        Binding("right_square_bracket", "tab(1)", "Next env", show=False, id="env.next"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.environment = ""

    def compose_body(self) -> ComposeResult:
        yield Static(id="env-tabs")
        yield Static(id="protection")
        yield LiveTable(COLUMNS, id="deployments", optional=OPTIONAL)

    def _draw_tabs(self, snapshot: FleetSnapshot) -> None:
        names = [e.name for e in snapshot.environments]
        if self.environment not in names and names:
            self.environment = names[0]
        line = Text()
        for env in snapshot.environments:
            label = env.name.upper() if env.production else env.name
            active = env.name == self.environment
            style = ("bold reverse " if active else "") + ("red" if env.production else "")
            line.append(f" {label} ", style=style.strip() or None)
            line.append(" ")
        line.append("  [ ] switch", style="dim")
        self.query_one("#env-tabs", Static).update(line)

    def action_tab(self, step: int) -> None:
        names = [e.name for e in self.cockpit.snapshot.environments]
        if not names:
            return
        index = names.index(self.environment) if self.environment in names else 0
        self.environment = names[(index + step) % len(names)]
        self.show(self.cockpit.snapshot, force=True)

    def render_fleet(self, snapshot: FleetSnapshot, full: bool) -> None:
        self._draw_tabs(snapshot)
        now = self.cockpit.now()
        env = self.environment
        info = [i for i in snapshot.environment_info if i.name == env]
        text = Text()
        environment = snapshot.environment(env)
        if environment is not None and environment.production:
            text.append("PRODUCTION ", style="bold red")
        text.append_text(window_label(self.cockpit.window_state(env)))
        for item in info:
            for rule in item.protection:
                text.append("  · ")
                text.append_text(txt(rule))
        self.query_one("#protection", Static).update(text)
        table = self.query_one("#deployments", LiveTable)
        if not full:
            keys = [k for k in snapshot.changes.cells if k[1] == env]
            rows = []
            for service, _ in keys:
                dep = snapshot.cell(service, env).deployment
                if dep is None:
                    break
                rows.append((service, deployment_row(dep, now)))
            else:
                if table.update_rows(rows):
                    return
        rows = []
        for service in snapshot.services:
            dep = snapshot.cell(service, env).deployment
            if dep is not None and self.matches(
                service, dep.version, dep.deployed_by, dep.health.value
            ):
                rows.append((service, deployment_row(dep, now)))
        table.reconcile(rows)

    def action_open(self) -> None:
        service = self.query_one("#deployments", LiveTable).current_key()
        if service is not None:
            self.cockpit.open_cell(service, self.environment, prefer_canary=False)
