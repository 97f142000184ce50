"""Sources: each connector's state, last success and last error, readable in full.

The top bar has room for a glyph per source; this panel says why one is ✗ or ⚠. Error
texts come from servers and connectors: cleaned where they enter the snapshot and shown
here as plain text, never markup.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static

from cockpit.clock import ago
from cockpit.fleet.snapshot import FleetSnapshot, SourceState
from cockpit.sanitize import clean
from screens.host import host_of
from screens.scroll import ScrollBox
from screens.source_style import STATE_STYLE


def state_word(state: SourceState, now: datetime) -> str:
    """ok, failing, unreachable (no answer at all: timeout or connection), stale, connecting."""
    if state.ok is False:
        # The hub words a connection failure "Unreachable: ..." and a timeout "timed out ...".
        silent = state.error.startswith(("Unreachable", "timed out"))
        return "unreachable" if silent else "failing"
    label = state.label(now)
    return "failing" if label == "error" else label


def short_error(state: SourceState, now: datetime) -> str:
    """A source's trouble in a few words, for the top bar: 401, rate-limited until 14:05."""
    if state.ok is None:
        return "connecting"
    if state.ok:
        if state.stale(now):
            return f"stale {ago(state.last_success, now)}"
        return "still reading" if state.incomplete else "ok"
    # The hub words each failure "<Kind>: <message>" (or "timed out after ...").
    error = state.error
    kind = error.partition(":")[0]
    if kind == "Unauthorized":
        return "403" if "forbidden" in error else "401" if "refused" in error else "unauthorized"
    if kind == "RateLimited":
        if state.retry_in is None or state.last_attempt is None:
            return "rate-limited"
        until = (state.last_attempt + timedelta(seconds=state.retry_in)).astimezone(now.tzinfo)
        return f"rate-limited until {until:%H:%M}"
    if error.startswith("timed out"):
        return "timeout"
    if kind == "Unreachable":
        return "server error" if "server error" in error else "unreachable"
    if kind == "Rejected":
        return "rejected"
    return clean(kind, limit=20) or "error"


def sources_text(snapshot: FleetSnapshot, now: datetime) -> Text:
    """One block per source: state, last success, failures and retry, the last error."""
    out = Text()
    if not snapshot.sources:
        out.append("No source is configured.", style="dim")
    for state in snapshot.sources.values():
        word = state_word(state, now)
        glyph, style = STATE_STYLE[word]
        out.append(f"{glyph} ", style=style)
        out.append(clean(state.name, limit=24), style="bold")
        out.append(f" ({clean(state.type, limit=20)})", style="dim")
        out.append(f"  {word}", style=style)
        out.append("\n    last success ")
        out.append(f"{ago(state.last_success, now)} ago" if state.last_success else "never")
        if state.failures:
            out.append(f" · {state.failures} failed poll(s) in a row", style=style)
        if state.retry_in is not None and state.ok is False:
            out.append(f" · retry in {state.retry_in:.0f}s")
        if state.incomplete:
            out.append(f"\n    still reading {clean(state.incomplete, limit=80)}", style="yellow")
        for rate in state.rate:
            reset = (
                f", resets {rate.reset_at.astimezone(now.tzinfo):%H:%M}" if rate.reset_at else ""
            )
            out.append(
                f"\n    {clean(rate.resource, limit=20)} budget {rate.remaining}/{rate.limit}"
            )
            out.append(reset)
        if state.error:
            out.append("\n    last error: ", style=style)
            out.append(clean(state.error, limit=300))
        out.append("\n")
    return out


class SourcesScreen(ModalScreen[None]):
    """Every source's health in words; ages move once a second while it is open."""

    # Parsed when the panel is first opened, not before the first frame.
    CSS = """
    SourcesScreen {
        align: center middle;
    }

    #sources-box {
        width: 100;
        max-width: 100%;
        height: auto;
        max-height: 90%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    """

    BINDINGS = [Binding("escape,q", "dismiss", "Close", id="sources.close")]

    def compose(self) -> ComposeResult:
        with ScrollBox(id="sources-box"):
            yield Static(id="sources-list")

    def on_mount(self) -> None:
        self._draw()
        self.set_interval(1.0, self._draw)

    def _draw(self) -> None:
        host = host_of(self.app)
        now = host.now()
        out = Text()
        out.append("Sources", style="bold")
        out.append("   (ctrl+r polls every source now; Esc closes)\n\n", style="dim")
        out.append_text(sources_text(host.snapshot, now))
        self.query_one("#sources-list", Static).update(out)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
