"""Overview: services x environments, each cell a version with health and badges."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from cockpit.actions import targets
from cockpit.canary_model import Canary, CanaryPhase
from cockpit.fleet.snapshot import Cell, FleetSnapshot
from cockpit.model import ActionKind, Health, Severity
from cockpit.sanitize import clean
from screens.base import FleetScreen
from screens.nocolor import prod_style
from screens.widgets import HEALTH_STYLE, LiveTable, SortText, txt

LEGEND = (
    "✓ healthy  ↻ progressing  ✗ degraded or canary failing  ! canary degrading  "
    "⇢ canary weight  ≠ drift  !N alerts  ? stale   Enter: details"
)
# A deployment's own health that is already worse than a degrading canary.
WORSE_THAN_MARGINAL = frozenset({Health.DEGRADED, Health.MISSING})


def canary_mark(canary: Canary | None) -> tuple[str, str] | None:
    """The mark of a canary that is not passing: `✗` failing, `!` degrading (marginal).

    A cell whose canary fails must never read `✓` because the stable version is healthy."""
    if canary is None:
        return None
    decision = canary.verdict.decision if canary.verdict is not None else ""
    if canary.phase is CanaryPhase.FAILED or (canary.phase.active and decision == "fail"):
        return "✗", "red bold"
    if canary.phase.active and decision == "marginal":
        return "!", "yellow bold"
    return None


def cell_text(cell: Cell, snapshot: FleetSnapshot, now: datetime) -> Text:
    """One environment cell: `2.4.7 ✓ ⇢25% ≠2 !1`."""
    out = Text(no_wrap=True, overflow="ellipsis")
    dep = cell.deployment
    mark = canary_mark(cell.canary)
    if dep is None and cell.canary is None:
        out.append("·", style="dim")
    elif dep is not None:
        glyph, style = HEALTH_STYLE[dep.health]
        if mark is not None and not (mark[0] == "!" and dep.health in WORSE_THAN_MARGINAL):
            glyph, style = mark
        out.append_text(txt(dep.version, limit=14))
        out.append(f" {glyph}", style=style)
    elif mark is not None:
        out.append(mark[0], style=mark[1])
    if cell.canary is not None and cell.canary.phase.active:
        paused = "‖" if cell.canary.phase.value == "paused" else ""
        style = mark[1] if mark is not None else "cyan bold"
        out.append(f" ⇢{cell.canary.weight}%{paused}", style=style)
    if cell.drift is not None and cell.drift.items:
        out.append(f" ≠{len(cell.drift.items)}", style="yellow bold")
    firing = cell.firing
    if firing:
        critical = any(a.severity is Severity.CRITICAL for a in firing)
        out.append(
            f" {'!!' if critical else '!'}{len(firing)}", style="red bold" if critical else "yellow"
        )
    if any((s := snapshot.sources.get(name)) is not None and s.stale(now) for name in cell.sources):
        out.append(" ?stale", style="yellow")
    return out


def cell_look(cell: Cell, stale: frozenset[str]) -> tuple[object, ...]:
    """Everything `cell_text` draws a cell from (at the moment `stale` names the stale
    sources): cells with the same look get the same text."""
    dep, canary, drift = cell.deployment, cell.canary, cell.drift
    firing = cell.firing if cell.alerts else ()  # most cells have no alert: no tuple made
    return (
        (dep.version, dep.health) if dep is not None else None,
        (
            canary.phase,
            canary.verdict.decision if canary.verdict is not None else None,
            canary.weight,
        )
        if canary is not None
        else None,
        len(drift.items) if drift is not None else 0,
        len(firing),
        any(a.severity is Severity.CRITICAL for a in firing),
        bool(stale) and not stale.isdisjoint(cell.sources),
    )


class OverviewScreen(FleetScreen):
    VIEW = "overview"
    TITLE_TEXT = "Overview"
    ACTIONS_HERE = frozenset(ActionKind)

    _stale: frozenset[str] = frozenset()
    # Each cell's text as last drawn, with the Cell it was drawn from (None: no facts). A
    # cell's text depends on its facts and on which sources are stale, nothing else, so a
    # cell whose facts are the same object keeps its text until the stale sources change:
    # a poll at 10,000 services moves ~500 cells, in rows holding ~1,500.
    _drawn: dict[tuple[str, str], tuple[Cell | None, Text]]
    # A cell's text by what it is drawn from (`cell_look`): many cells read alike (a
    # version, a health, no badge), and a Text is never changed once drawn (the table
    # copies a cell before cutting it), so cells that look alike share one.
    _looks: dict[tuple[object, ...], Text]
    _labels: dict[str, Text]  # each service's name cell, as drawn

    def compose_body(self) -> ComposeResult:
        yield LiveTable([], id="matrix")
        yield Static(Text(LEGEND, style="dim"), id="legend")

    @property
    def table(self) -> LiveTable:
        return self.query_one("#matrix", LiveTable)

    def _ensure_columns(self, snapshot: FleetSnapshot) -> None:
        table = self.table
        wanted = [("service", Text("Service", style="bold"), None)] + [
            (
                e.name,
                Text(e.name.upper(), style=prod_style(self.app))
                if e.production
                else Text(e.name, style="bold"),
                None,
            )
            for e in snapshot.environments
        ]
        if table.column_keys != [c[0] for c in wanted]:
            table.set_columns(wanted, cursor_type="cell")  # type: ignore[arg-type]

    def row(self, service: str, snapshot: FleetSnapshot, now: datetime) -> list[Text]:
        label = self._labels.get(service)
        if label is None:
            label = self._labels[service] = SortText(clean(service, limit=24))
        cells: list[Text] = [label]
        facts, drawn, looks = snapshot.cells, self._drawn, self._looks
        for env in snapshot.environments:
            key = (service, env.name)
            cell = facts.get(key)
            seen = drawn.get(key)
            if seen is not None and seen[0] is cell:
                cells.append(seen[1])
                continue
            fact = cell if cell is not None else Cell(*key)
            look = cell_look(fact, self._stale)
            text = looks.get(look)
            if text is None:
                text = cell_text(fact, snapshot, now)
                if len(looks) >= 20_000:  # versions come and go: keep the memo bounded
                    looks.clear()
                looks[look] = text
            drawn[key] = (cell, text)
            cells.append(text)
        return cells

    def render_fleet(self, snapshot: FleetSnapshot, full: bool) -> None:
        self._ensure_columns(snapshot)
        now = self.cockpit.now()
        table = self.table
        changes = snapshot.changes
        # Judged at the same moment as the cells' `?stale` marks: a mark drawn after the
        # snapshot aged must be remembered, or the next fresh poll would leave it standing.
        stale = frozenset(s.name for s in snapshot.sources.values() if s.stale(now))
        stale_changed, self._stale = stale != self._stale, stale
        if stale_changed or not hasattr(self, "_drawn"):
            self._drawn = {}  # every text drawn may carry (or lack) a ?stale mark
            self._looks = {}
        if not hasattr(self, "_labels"):
            self._labels = {}
        if not full and not changes.services_added and not stale_changed:
            services = sorted({k[0] for k in changes.cells})
            rows = [(s, self.row(s, snapshot, now)) for s in services if self.matches(s)]
            if table.update_rows(rows):
                return
        rows = [
            (s, self.row(s, snapshot, now))
            for s in snapshot.services
            if self.matches(s, *self._cell_words(s, snapshot))
        ]
        table.reconcile(rows)
        if len(self._drawn) > len(rows) * len(snapshot.environments):  # services gone
            shown = {s for s, _ in rows}
            self._drawn = {k: v for k, v in self._drawn.items() if k[0] in shown}
            self._labels = {k: v for k, v in self._labels.items() if k in shown}

    def _cell_words(self, service: str, snapshot: FleetSnapshot) -> list[str]:
        if not self.filter_text:
            return []
        words = []
        for env in snapshot.environments:
            cell = snapshot.cell(service, env.name)
            if cell.deployment:
                words.append(cell.deployment.version)
            if cell.firing:
                words.append("alert")
            if cell.drift:
                words.append("drift")
            if cell.canary:
                words.append("canary")
        return words

    def selection(self) -> tuple[str, str] | None:
        table = self.table
        service = table.current_key()
        env = table.current_column()
        if service is None:
            return None
        if env in (None, "service"):
            env = self.cockpit.snapshot.environments[-1].name
        return service, env

    def action_open(self) -> None:
        chosen = self.selection()
        if chosen is not None:
            self.cockpit.open_cell(*chosen)

    def build(self, kind: ActionKind) -> targets.Built:
        chosen = self.selection()
        if chosen is None:
            return "select a service first"
        return cell_action(self.cockpit.snapshot, kind, *chosen)

    def action_promote_full(self) -> None:
        chosen = self.selection()
        if chosen is not None:
            self.cockpit.request_action(targets.promote(self.cockpit.snapshot, *chosen, full=True))


def cell_action(snapshot: FleetSnapshot, kind: ActionKind, service: str, env: str) -> targets.Built:
    """The action `kind` on one (service, environment), for every view that shows cells."""
    if kind is ActionKind.PROMOTE:
        return targets.promote(snapshot, service, env)
    if kind is ActionKind.ROLLBACK:
        return targets.rollback(snapshot, service, env)
    if kind in (ActionKind.PAUSE, ActionKind.RESUME, ActionKind.ABORT):
        return targets.canary_action(snapshot, kind, service, env)
    if kind is ActionKind.SYNC:
        return targets.sync(snapshot, service, env)
    if kind in (ActionKind.APPROVE, ActionKind.REJECT):
        approval = targets.approval_for(snapshot, service, env)
        return approval if isinstance(approval, str) else targets.decide(approval, kind)
    if kind is ActionKind.RESTART:
        return targets.restart(snapshot, service, env)
    if kind is ActionKind.RETRY:
        return targets.retry(snapshot, service, env)
    return f"{kind.value} does not apply to a service cell"
