"""Canary: step, weight and phase, the judge's verdict, and baseline vs canary per metric."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from cockpit.actions import targets
from cockpit.clock import ago
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.fleet.verdict_history import Judged
from cockpit.model import ActionKind, Canary, MetricSeries, Verdict
from cockpit.sanitize import clean
from screens.base import FleetScreen
from screens.nocolor import prod_style
from screens.widgets import PHASE_STYLE, LiveTable, SortText, sparkline, txt

DECISION_STYLE = {
    "pass": "green bold",
    "marginal": "yellow bold",
    "fail": "red bold",
    "nodata": "yellow",
    "unknown": "yellow bold",
}
CLASS_STYLE = {"Pass": "green", "High": "red bold", "Low": "red bold", "Nodata": "yellow"}


def canary_row(c: Canary) -> list[Text]:
    verdict = c.verdict
    return [
        SortText(clean(c.service, limit=16)),
        txt(c.environment, limit=8),
        txt(f"{c.baseline_version} → {c.canary_version}", limit=20),
        Text(f"{c.step}/{c.steps}"),
        Text(f"{c.weight}%"),
        Text(c.phase.value, style=PHASE_STYLE[c.phase]),
        Text(
            f"{verdict.decision} {verdict.score:.0f}" if verdict else "-",
            style=DECISION_STYLE.get(verdict.decision, "") if verdict else "dim",
        ),
    ]


def ended_row(service: str, environment: str, last: Judged) -> list[Text]:
    """A canary no source reports any more, with the last verdict it had."""
    return [
        SortText(clean(service, limit=16)),
        txt(environment, limit=8),
        txt(f"→ {last.version}", "dim", limit=20),
        Text("-", style="dim"),
        Text("-", style="dim"),
        Text("ended", style="dim"),
        Text(f"{last.decision} {last.score:.0f}", style=DECISION_STYLE.get(last.decision, "")),
    ]


def history_text(history: tuple[Judged, ...], now: datetime) -> Text:
    """`last verdicts: fail 12 (30s ago, 2.4.8) · marginal 61 (1m ago) …`, newest first."""
    out = Text()
    if not history:
        return out
    out.append("\nlast verdicts: ", style="dim")
    for i, judged in enumerate(reversed(history)):
        if i:
            out.append(" · ", style="dim")
        out.append(
            f"{judged.decision} {judged.score:.0f}", style=DECISION_STYLE.get(judged.decision, "")
        )
        out.append(f" ({ago(judged.at, now)} ago, ", style="dim")
        out.append_text(txt(judged.version, "dim", limit=20))
        out.append(")", style="dim")
    return out


def verdict_text(verdict: Verdict | None, now: datetime) -> Text:
    out = Text()
    if verdict is None:
        out.append("verdict: not judged yet", style="dim")
        return out
    out.append("verdict ")
    out.append(verdict.decision.upper(), style=DECISION_STYLE.get(verdict.decision, "bold"))
    out.append(
        f"  score {verdict.score:.1f}  (marginal {verdict.marginal:g}, pass {verdict.passing:g})"
    )
    # A bar from 0 to 100 with the two thresholds marked.
    width = 40
    bar = ["─"] * (width + 1)
    bar[round(verdict.marginal / 100 * width)] = "┊"
    bar[round(verdict.passing / 100 * width)] = "┊"
    bar[round(max(0.0, min(verdict.score, 100.0)) / 100 * width)] = "●"
    out.append("  0")
    out.append("".join(bar), style=DECISION_STYLE.get(verdict.decision, ""))
    out.append("100")
    if verdict.observed_at is not None:
        # How old the evidence is: a verdict is only as current as its newest sample.
        out.append(f"  on data from {ago(verdict.observed_at, now)} ago", style="dim")
    if verdict.reason:
        out.append("\n")
        out.append_text(txt(verdict.reason, "dim", limit=200))
    return out


def metric_block(series: MetricSeries, verdict: Verdict | None, width: int, rows: int) -> Text:
    out = Text()
    out.append_text(txt(series.name, "bold", limit=30))
    out.append(f" ({clean(series.unit)})" if series.unit else "")
    if series.critical:
        out.append(" critical", style="magenta")
    mv = next((m for m in verdict.metrics if m.name == series.name), None) if verdict else None
    if mv is not None:
        out.append("  ")
        out.append(mv.classification, style=CLASS_STYLE.get(mv.classification, "yellow"))
        out.append(": ")
        out.append_text(txt(mv.reason, limit=max(width - 30, 20)))
    values = [v for v in (*series.baseline, *series.canary) if v == v]
    if not values:
        out.append("\n  no data", style="yellow")
        return out
    lo, hi = min(values), max(values)
    out.append(f"  scale {lo:.3g}–{hi:.3g}", style="dim")
    chart_w = max(width - 8 - 26, 10)
    for label, data, style in (
        ("base", series.baseline, "blue"),
        ("canary", series.canary, "magenta"),
    ):
        clean_data = [v for v in data if v == v]
        mean = sum(clean_data) / len(clean_data) if clean_data else float("nan")
        last = data[-1] if data else float("nan")
        for i, line in enumerate(sparkline(data, lo, hi, chart_w, rows)):
            out.append("\n")
            out.append(f"{label if i == 0 else '':>7} ", style=style)
            out.append(line, style=style)
            if i == 0:
                out.append(f" now {last:<7.3g} avg {mean:<7.3g}", style=style)
    return out


class CanaryScreen(FleetScreen):
    VIEW = "canary"
    TITLE_TEXT = "Canary"
    ACTIONS_HERE = frozenset(
        {
            ActionKind.PROMOTE,
            ActionKind.ROLLBACK,
            ActionKind.PAUSE,
            ActionKind.RESUME,
            ActionKind.ABORT,
            ActionKind.RETRY,
        }
    )

    def __init__(self) -> None:
        super().__init__()
        self.selected: tuple[str, str] | None = None

    def compose_body(self) -> ComposeResult:
        yield LiveTable(
            [
                ("service", "Service", 16),
                ("env", "Env", 8),
                ("versions", "Baseline → canary", 20),
                ("step", "Step", 5),
                ("weight", "Weight", 6),
                ("phase", "Phase", 11),
                ("verdict", "Verdict", None),
            ],
            id="canaries",
            # The verdict word and score stay; step and weight are in the detail below.
            optional=("step", "weight", "phase", "versions"),
        )
        yield Static(id="canary-detail")

    def select(self, service: str, environment: str) -> None:
        self.selected = (service, environment)

    def current(self, snapshot: FleetSnapshot) -> Canary | None:
        table = self.query_one("#canaries", LiveTable)
        key = table.current_key()
        for c in snapshot.canaries:
            if f"{c.service}/{c.environment}" == key:
                return c
        if key is not None:  # an ended canary: no action may fall through to another one
            return None
        # Filtered down to nothing, nothing is selected: not a canary the filter left out.
        return snapshot.canaries[0] if snapshot.canaries and not self.filter_text else None

    def render_fleet(self, snapshot: FleetSnapshot, full: bool) -> None:
        table = self.query_one("#canaries", LiveTable)
        canaries = [
            c
            for c in snapshot.canaries
            if self.matches(c.service, c.environment, c.canary_version, c.phase.value)
        ]
        canaries.sort(key=lambda c: (not c.phase.active, c.service, c.environment))
        table_rows = [(f"{c.service}/{c.environment}", canary_row(c)) for c in canaries]
        # Canaries no source reports any more (ended, rolled back) keep their last verdicts.
        live = {c.key for c in snapshot.canaries}
        for gone in self.cockpit.verdicts.judged():
            last = self.cockpit.verdicts.last(*gone)
            if gone not in live and self.matches(*gone, last[-1].version, "ended"):
                table_rows.append(("/".join(gone), ended_row(*gone, last[-1])))
        table.reconcile(table_rows)
        # Header, rows, and a line for the horizontal scrollbar on narrow terminals.
        table.styles.height = min(len(table_rows), 4) + 2
        if self.selected is not None:
            key = f"{self.selected[0]}/{self.selected[1]}"
            if key in table.keys:
                table.move_cursor(row=table.keys.index(key), animate=False)
            self.selected = None
        canary = self.current(snapshot)
        detail = self.query_one("#canary-detail", Static)
        now = self.cockpit.now()
        chosen = table.current_key()
        if chosen is not None and (
            canary is None or f"{canary.service}/{canary.environment}" != chosen
        ):
            service, _, where = chosen.partition("/")
            ended = Text()
            ended.append_text(txt(service, "bold"))
            ended.append(" in ")
            ended.append_text(txt(where, "bold"))
            ended.append("  no longer reported by any source (ended or rolled back)", style="dim")
            ended.append_text(history_text(self.cockpit.verdicts.last(service, where), now))
            detail.update(ended)
            return
        if canary is None:
            detail.update(self.empty_text("No canary is reported by any connector."))
            return
        width = max((detail.size.width or self.size.width) - 2, 40)
        out = Text()
        out.append_text(txt(canary.service, "bold"))
        out.append(" in ")
        env = snapshot.environment(canary.environment)
        prod = env is not None and env.production
        out.append_text(txt(canary.environment, prod_style(self.app) if prod else "bold"))
        out.append("  ")
        out.append_text(txt(canary.baseline_version))
        out.append(" → ")
        out.append_text(txt(canary.canary_version, "bold"))
        out.append(f"\nstep {canary.step}/{canary.steps}  weight {canary.weight}%  ")
        out.append(canary.phase.value, style=PHASE_STYLE[canary.phase])
        out.append(f"  started {ago(canary.started_at, now)} ago")
        if canary.message:
            out.append("  ")
            out.append_text(txt(canary.message, "yellow", limit=80))
        out.append("\n")
        out.append_text(verdict_text(canary.verdict, now))
        out.append_text(history_text(self.cockpit.verdicts.last(*canary.key), now))
        rows = 1
        for series in canary.metrics:
            out.append("\n")
            out.append_text(metric_block(series, canary.verdict, width, rows))
        detail.update(out)

    def on_live_table_highlighted(self) -> None:
        self.show(self.cockpit.snapshot, force=True)

    def build(self, kind: ActionKind) -> targets.Built:
        from screens.overview import cell_action

        canary = self.current(self.cockpit.snapshot)
        if canary is None:
            return "no canary selected"
        return cell_action(self.cockpit.snapshot, kind, canary.service, canary.environment)

    def action_promote_full(self) -> None:
        canary = self.current(self.cockpit.snapshot)
        if canary is not None:
            snap = self.cockpit.snapshot
            self.cockpit.request_action(
                targets.promote(snap, canary.service, canary.environment, full=True)
            )
