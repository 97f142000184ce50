"""Widgets every view shares: the live table, the top bar, text helpers and the chart.

All text from connectors goes through `txt` (sanitised, wrapped in `Text`, never parsed
as markup). Glyphs carry meaning on their own, so NO_COLOR terminals lose nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from cockpit.fleet.snapshot import FleetSnapshot, SourceState
from cockpit.keys import BY_ID, display
from cockpit.model import CanaryPhase, GateStatus, Health, Status
from cockpit.sanitize import clean
from screens.source_style import SOURCE_STYLE
from screens.table import LiveTable, SortText

if TYPE_CHECKING:
    from cockpit.actions.autopilot import Proposal
    from cockpit.actions.windows import WindowState
    from screens.host import CockpitHost

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


@dataclass(frozen=True)
class Badges:
    """The top bar's right side, by what may go when the bar is narrow."""

    keep: Text  # READ-ONLY and the production change windows: never dropped
    short: Text = field(default_factory=Text)  # the same, each window as open or closed
    hint: Text = field(default_factory=Text)  # where to read why a source fails
    note: Text = field(default_factory=Text)  # the demo fleet marker


class _Form(NamedTuple):
    """How much one rendering of the top bar spells out."""

    title: bool = True
    ok_named: bool = True  # each healthy source by name, else a count
    bad: str = "reason"  # a failing source: "reason", "name" or a count
    hint: bool = True
    note: bool = True
    short: bool = False  # windows as open/closed, without until when


# Widest first; the first that fits is drawn. READ-ONLY, the windows and a failing source
# stay in every form, so a narrow terminal loses words, never those.
FORMS = (
    _Form(),
    _Form(ok_named=False),
    _Form(title=False, ok_named=False),
    _Form(title=False, ok_named=False, note=False),
    _Form(title=False, ok_named=False, note=False, bad="name"),
    _Form(title=False, ok_named=False, note=False, bad="name", hint=False),
    _Form(title=False, ok_named=False, note=False, bad="count"),
    _Form(title=False, ok_named=False, note=False, bad="count", hint=False),
    _Form(title=False, ok_named=False, note=False, bad="count", hint=False, short=True),
)
CLOCK_WIDTH = 13
HELP = BY_ID["help"].description  # the key the footer keeps at any width  # " 03:00:00 UTC"


def source_label(state: SourceState, now: datetime) -> str:
    label = state.label(now)
    if label == "stale" and state.last_success is None:
        return "error"  # failing from the start: no data at all, not old data
    return label


class TopBar(Static):
    """The view, each connector's health, READ-ONLY and change windows, and the clock.

    The clock is its own one-line widget so the tick each second repaints 13 cells, not
    the bar; the bar itself is redrawn only when its text changes.
    """

    DEFAULT_CSS = """
    TopBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    TopBar > #clock { dock: right; width: 13; height: 1; color: $text-muted; }
    """

    _last: tuple[FleetSnapshot, str, datetime, Badges | None] | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="clock")

    def show(
        self, snapshot: FleetSnapshot, view: str, now: datetime, extra: Badges | None = None
    ) -> None:
        self._last = (snapshot, view, now, extra)
        room = (self.size.width or self.app.size.width - 2) - CLOCK_WIDTH
        for form in FORMS:
            line = self._line(form, snapshot, view, now, extra)
            if line.cell_len <= room:
                break
        line.no_wrap, line.overflow = True, "ellipsis"
        if line != self.content:
            self.update(line, layout=False)  # one line, always: no need to lay out again
        clock = Text(now.strftime(" %H:%M:%S %Z"), style="dim")
        for widget in self.query("#clock").results(Static):
            if widget.content != clock:
                widget.update(clock, layout=False)

    def on_resize(self) -> None:
        if self._last is not None:
            self.show(*self._last)

    @staticmethod
    def _line(
        form: _Form, snapshot: FleetSnapshot, view: str, now: datetime, extra: Badges | None
    ) -> Text:
        line = Text()
        if form.title:
            line.append("Release Cockpit · ", style="bold")
        line.append(view, style="bold")
        line.append("  ")
        counts: dict[str, int] = {}
        named = Text()
        for state in snapshot.sources.values():
            label = source_label(state, now)
            glyph, style = SOURCE_STYLE[label]
            if (label == "ok" and not form.ok_named) or (label != "ok" and form.bad == "count"):
                counts[label] = counts.get(label, 0) + 1
                continue
            named.append(f"{glyph} ", style=style)
            named.append(clean(state.name, limit=20))
            if label != "ok" and form.bad == "reason":
                from screens.sources import short_error  # the sources panel's, once one fails

                named.append(f": {short_error(state, now)}", style=style)
            named.append("  ")
        for label, (glyph, style) in SOURCE_STYLE.items():  # counts first: ✓5 ✗1
            if label in counts:
                line.append(f"{glyph}{counts[label]} ", style=style)
        if counts:
            line.append(" ")
        line.append_text(named)
        if extra is not None:
            for part, shown in (
                (extra.hint, form.hint),
                (extra.short if form.short else extra.keep, True),
                (extra.note, form.note),
            ):
                if shown and part:
                    line.append_text(part)
                    line.append("  ")
        line.rstrip()
        return line


class KeyBar(Static):
    """The keys of this view, one line; greyed keys are disabled here (press them to hear why).

    Textual's Footer builds a widget per key; a single line of text starts much faster.
    """

    DEFAULT_CSS = """
    KeyBar { dock: bottom; height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    _last: list[tuple[str, str, bool]] = []

    def show_keys(self, keys: list[tuple[str, str, bool]]) -> None:
        """Keys in order while they fit, then help (`?`) always, then the palette if room."""
        self._last = keys
        room = self.size.width or self.app.size.width - 2
        tail = Text()
        for key, description, enabled in keys:
            if description == HELP:
                tail.append_text(self._entry(key, description, enabled))
        line = Text(no_wrap=True, overflow="ellipsis")
        for key, description, enabled in keys:
            if description == HELP:
                continue
            entry = self._entry(key, description, enabled)
            if line.cell_len + entry.cell_len + tail.cell_len > room:
                break
            line.append_text(entry)
        line.append_text(tail)
        if line.cell_len + len(" ctrl+p  palette") <= room:  # the palette, where room is left
            line.append(" ctrl+p ", style="bold reverse")
            line.append(" palette")
        if line != self.content:
            self.update(line, layout=False)

    @staticmethod
    def _entry(key: str, description: str, enabled: bool) -> Text:
        entry = Text()
        entry.append(f" {key} ", style="bold reverse" if enabled else "dim strike")
        entry.append(f" {description}  ", style="" if enabled else "dim")
        return entry

    def on_resize(self) -> None:
        self.show_keys(self._last)


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


def header_badges(host: CockpitHost) -> Badges:
    """The top bar's right side: where to read a failing source's error, READ-ONLY, the
    demo fleet, and each production environment's change window when one applies."""
    snapshot, now, settings = host.snapshot, host.now(), host.settings
    failing = any(s.ok is False or s.stale(now) for s in snapshot.sources.values())
    sources_key = display(settings.keys.get("sources", BY_ID["sources"].key)) if failing else None
    windows: list[tuple[str, WindowState]] = []
    # Policy (and its import) only then; in team mode the stored policy may have windows.
    if settings.change_windows or snapshot.windows or settings.store is not None:
        windows = [
            (env.name, host.window_state(env.name))
            for env in snapshot.environments
            if env.production
        ]
    keep, short = Text(), Text()
    if host.read_only:
        keep.append(" READ-ONLY ", style="reverse bold")
        short.append(" READ-ONLY ", style="reverse bold")
    held = host.held_policy() if settings.store is not None else None
    if held is not None:  # team mode: which stored policy is in force, whether this host's differs
        bad = held.state != "in_force"
        style = "yellow bold" if bad else "dim"
        keep.append(f" {held.badge()}", style=style)
        words = {"in_force": f"policy v{held.version}", "differs": "policy differs"}
        short.append(f" {words.get(held.state, 'no policy')}", style=style)
    if settings.store is not None:  # team mode: who runs the automatic actions, if anyone
        from cockpit.controller.seen import words as controller_words

        wide, brief, warn = controller_words(
            host.controller_lease(), now, settings.controller.stale_after
        )
        style = "yellow bold" if warn else "dim"
        keep.append(f" {wide}", style=style)
        short.append(f" {brief}", style=style)
    for name, state in windows:
        if state.windows or not state.open:
            style = "green" if state.open else "yellow bold"
            keep.append(f" {name} ", style="bold")
            keep.append(state.label, style=style)
            short.append(f" {name} ", style="bold")
            short.append("open" if state.open else "closed", style=style)
    return Badges(
        keep=keep,
        short=short,
        hint=Text(f"{sources_key}: why", style="dim") if sources_key else Text(),
        note=Text(" demo fleet ", style="reverse") if settings.demo else Text(),
    )


def window_label(state: WindowState) -> Text:
    text = Text("change window: ")
    text.append(state.label, style="green" if state.open else "yellow bold")
    if state.reason:
        text.append(f" ({state.reason})", style="dim")
    return text
