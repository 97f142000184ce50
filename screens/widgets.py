"""Widgets every view shares: the live table, the top bar, text helpers and the chart.

All text from connectors goes through `txt` (sanitised, wrapped in `Text`, never parsed
as markup). Glyphs carry meaning on their own, so NO_COLOR terminals lose nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from cockpit.autopilot import Proposal
from cockpit.clock import ago
from cockpit.model import CanaryPhase, GateStatus, Health, Status
from cockpit.sanitize import clean
from cockpit.snapshot import FleetSnapshot
from screens.table import LiveTable, SortText

if TYPE_CHECKING:
    from cockpit.windows import WindowState

__all__ = ["LiveTable", "SortText", "TopBar", "health_text", "sparkline", "status_text", "txt"]

STATUS_STYLE: dict[Status, tuple[str, str]] = {
    Status.QUEUED: ("…", "dim"),
    Status.RUNNING: ("↻", "cyan"),
    Status.WAITING: ("‖", "yellow bold"),
    Status.SUCCEEDED: ("✓", "green"),
    Status.FAILED: ("✗", "red bold"),
    Status.CANCELLED: ("⊘", "dim"),
    Status.SKIPPED: ("-", "dim"),
    Status.UNKNOWN: ("?", "dim"),
}
HEALTH_STYLE: dict[Health, tuple[str, str]] = {
    Health.HEALTHY: ("✓", "green"),
    Health.PROGRESSING: ("↻", "cyan"),
    Health.DEGRADED: ("✗", "red bold"),
    Health.SUSPENDED: ("‖", "yellow"),
    Health.MISSING: ("∅", "red"),
    Health.UNKNOWN: ("?", "dim"),
}
PHASE_STYLE: dict[CanaryPhase, str] = {
    CanaryPhase.PROGRESSING: "cyan",
    CanaryPhase.PAUSED: "yellow bold",
    CanaryPhase.PROMOTED: "green",
    CanaryPhase.SUCCEEDED: "green",
    CanaryPhase.ABORTED: "red",
    CanaryPhase.FAILED: "red bold",
}
GATE_STYLE: dict[GateStatus, tuple[str, str]] = {
    GateStatus.PASS: ("✓ pass", "green"),
    GateStatus.FAIL: ("✗ FAIL", "red bold"),
    GateStatus.UNKNOWN: ("? unknown", "yellow"),
}


def txt(value: object, style: str = "", *, limit: int | None = None) -> Text:
    """Untrusted text, made inert and wrapped for display."""
    return Text(clean(value, limit=limit), style=style, no_wrap=True, overflow="ellipsis")


def status_text(status: Status) -> Text:
    glyph, style = STATUS_STYLE[status]
    return Text(f"{glyph} {status.value}", style=style)


def health_text(health: Health) -> Text:
    glyph, style = HEALTH_STYLE[health]
    return Text(f"{glyph} {health.value}", style=style)


class TopBar(Static):
    """Title, the current view, each connector's health and the injected clock's time."""

    DEFAULT_CSS = """
    TopBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    def show(
        self, snapshot: FleetSnapshot, view: str, now: datetime, extra: Text | None = None
    ) -> None:
        line = Text()
        line.append("Release Cockpit", style="bold")
        line.append(f" · {view}", style="bold")
        line.append("  ")
        for state in snapshot.sources.values():
            label = state.label(now)
            if label == "stale" and state.last_success is None:
                label = "error"  # failing from the start: no data at all, not old data
            glyph, style = {
                "ok": ("✓", "green"),
                "error": ("✗", "red bold"),
                "stale": ("⚠", "yellow bold"),
                "connecting": ("…", "dim"),
            }[label]
            line.append(f"{glyph} ", style=style)
            line.append(clean(state.name, limit=20))
            if label == "stale":
                line.append(f" stale {ago(state.last_success, now)}", style=style)
            elif label == "error":
                line.append(" error", style=style)
            line.append("  ")
        if extra is not None:
            line.append_text(extra)
            line.append("  ")
        line.append(now.strftime("%H:%M:%S %Z"), style="dim")
        # No width needed here: the line is cut with an ellipsis wherever it is drawn.
        line.no_wrap, line.overflow = True, "ellipsis"
        self.update(line, layout=False)  # one line, always: no need to lay out the screen again


class KeyBar(Static):
    """The keys of this view, one line; greyed keys are disabled here (press them to hear why).

    Textual's Footer builds a widget per key; a single line of text starts much faster.
    """

    DEFAULT_CSS = """
    KeyBar { dock: bottom; height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    def show_keys(self, keys: list[tuple[str, str, bool]]) -> None:
        line = Text(no_wrap=True, overflow="ellipsis")
        for key, description, enabled in keys:
            line.append(f" {key} ", style="bold reverse" if enabled else "dim strike")
            line.append(f" {description}  ", style="" if enabled else "dim")
        line.append(" ctrl+p ", style="bold reverse")
        line.append(" palette", style="")
        self.update(line, layout=False)


SPARK = " ▁▂▃▄▅▆▇█"


def sparkline(
    values: Sequence[float], lo: float, hi: float, width: int, rows: int = 1
) -> list[str]:
    """Values as `rows` lines of block characters on a shared [lo, hi] scale, newest right."""
    if width <= 0:
        return [""] * rows
    values = list(values)[-width:]
    span = (hi - lo) or 1.0
    levels = rows * 8
    lines = ["" for _ in range(rows)]
    for v in values:
        level = 0 if v != v else round((min(max(v, lo), hi) - lo) / span * levels)  # NaN -> 0
        for r in range(rows):
            fill = level - (rows - 1 - r) * 8
            lines[r] += SPARK[max(0, min(8, fill))]
    return [line.rjust(width) for line in lines]


def failing_banner(failing: Sequence[Proposal]) -> Text | None:
    """The line over every view while a canary fails and waits for a person to roll it back."""
    if not failing:
        return None
    first = failing[0]
    text = Text(" ⚠ CANARY FAILING ", style="bold reverse red")
    text.append(f" {first.service} {first.canary_version} in {first.environment}", style="bold")
    text.append(" · press B to roll back · ", style="bold")
    if len(failing) > 1:
        text.append(f"(+{len(failing) - 1} more) ")
    text.append(first.summary)
    text.truncate(200, overflow="ellipsis")
    return text


def header_badges(
    *,
    sources_key: str | None,
    read_only: bool,
    demo: bool,
    windows: Sequence[tuple[str, WindowState]],
) -> Text | None:
    """The top bar's right side: where to read a failing source's error, READ-ONLY, the
    demo fleet, and each production environment's change window when one applies."""
    parts = Text()
    if sources_key:
        parts.append(f"{sources_key}: why ", style="dim")  # the bar has room for a glyph only
    if read_only:
        parts.append(" READ-ONLY ", style="reverse bold")
    if demo:
        parts.append(" demo fleet ", style="reverse")
    for name, state in windows:
        if state.windows or not state.open:
            parts.append(f" {name} ", style="bold")
            parts.append(state.label, style="green" if state.open else "yellow bold")
    return parts or None


def window_label(state: WindowState) -> Text:
    text = Text("change window: ")
    text.append(state.label, style="green" if state.open else "yellow bold")
    if state.reason:
        text.append(f" ({state.reason})", style="dim")
    return text
