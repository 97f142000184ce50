"""Help: every key binding with its id (for remapping) and what it does."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static

from cockpit.keys import ALL_KEYS, display
from screens.scroll import ScrollBox


class HelpScreen(ModalScreen[None]):
    # Parsed when help is first opened, not before the first frame.
    CSS = """
    HelpScreen {
        align: center middle;
    }

    #help-box {
        width: 80;
        max-width: 100%;
        height: 90%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    """
    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
    ]

    def __init__(self, keymap: dict[str, str], disabled: dict[str, str] | None = None) -> None:
        super().__init__()
        self.keymap = keymap
        self.disabled_keys = disabled or {}  # binding id -> why it does nothing here

    def compose(self) -> ComposeResult:
        text = Text()
        text.append("Keys", style="bold")
        text.append("   (remap in config: keys: {<id>: <key>})\n\n", style="dim")
        scope = ""
        width = max(len(s.description) for s in ALL_KEYS) + 2
        for spec in ALL_KEYS:
            if spec.scope != scope:
                scope = spec.scope
                title = {
                    "app": "Everywhere",
                    "list": "In a view",
                    "actions": "Actions (audited)",
                    "incident": "Incident view",
                    "service": "Service view",
                    "pods": "Pods view (read-only)",
                }[scope]
                text.append(f"{title}\n", style="bold underline")
            key = display(self.keymap.get(spec.id, spec.key))
            text.append(f"  {key:<10}", style="bold")
            text.append(f"{spec.description:<{width}}")
            text.append(f"{spec.id}", style="dim")
            if spec.id in self.disabled_keys:
                text.append(f"  (disabled here: {self.disabled_keys[spec.id]})", style="yellow")
            text.append("\n")
        text.append("\n  [ ]       previous/next environment (Environments)\n")
        text.append("  ctrl+p    command palette: every view and action\n")
        text.append("\nEsc closes this help.", style="dim")
        with ScrollBox(id="help-box"):
            yield Static(text)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
