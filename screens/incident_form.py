"""The small form that opens (title, optional ticket) or closes (optional reason) an incident.

Enter submits once the required fields are filled, Esc cancels; nothing is recorded here:
the Incident view records the answer in the audit log, off the UI thread.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from screens.widgets import txt

# (field id, placeholder, required)
Field = tuple[str, str, bool]


class IncidentForm(ModalScreen[dict[str, str] | None]):
    """Asks for an incident's fields; dismissed with {field id: value} or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="incident_form.cancel")]
    DEFAULT_CSS = """
    IncidentForm { align: center middle; }
    IncidentForm #incident-form { width: 72; max-width: 100%; height: auto; border: thick $warning; padding: 0 1; background: $surface; }
    IncidentForm #incident-form-why { height: 1; }
    """

    def __init__(self, heading: Text, fields: tuple[Field, ...], values: dict[str, str]) -> None:
        super().__init__()
        self.heading = heading
        self.fields = fields
        self.values = values

    @classmethod
    def opening(cls, title: str) -> IncidentForm:
        heading = Text("Open an incident", style="bold")
        heading.append("\nRecorded in the audit log with you as the opener.", style="dim")
        fields = (("title", "title (required)", True), ("ticket", "ticket (optional)", False))
        return cls(heading, fields, {"title": title})

    @classmethod
    def closing(cls, incident_id: str, title: str) -> IncidentForm:
        heading = Text("Close ", style="bold")
        heading.append(incident_id, style="bold")
        heading.append(": ")
        heading.append_text(txt(title, limit=60))
        return cls(heading, (("reason", "how it ended (optional)", False),), {})

    def compose(self) -> ComposeResult:
        with Vertical(id="incident-form"):
            yield Label(self.heading)
            for field_id, placeholder, _ in self.fields:
                yield Input(
                    value=self.values.get(field_id, ""), placeholder=placeholder, id=field_id
                )
            yield Static(id="incident-form-why")

    def on_mount(self) -> None:
        self.query_one(f"#{self.fields[0][0]}", Input).focus()

    def answer(self) -> dict[str, str]:
        return {
            f: " ".join(self.query_one(f"#{f}", Input).value.split()) for f, _, _ in self.fields
        }

    def missing(self) -> list[str]:
        given = self.answer()
        return [f for f, _, required in self.fields if required and not given[f]]

    @on(Input.Submitted)
    def _submitted(self) -> None:
        missing = self.missing()
        if missing:
            why = self.query_one("#incident-form-why", Static)
            why.update(Text(f"{', '.join(missing)} is required", style="yellow"))
            return
        self.dismiss(self.answer())

    def action_cancel(self) -> None:
        self.dismiss(None)
