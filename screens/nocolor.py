"""What a NO_COLOR terminal gets instead of colour: production in reverse, ticks as [x].

Textual reads NO_COLOR when the app starts (`App.no_color`) and renders in monochrome:
red production names look like any other, and a Checkbox's X is the same ticked or not.
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.content import Content
from textual.widgets import Checkbox


def prod_style(app: App[Any]) -> str:
    """The style of a production environment's name: red, or reversed without colour."""
    return "bold reverse" if app.no_color else "bold red"


class TickBox(Checkbox):
    """A Checkbox that reads `[x]`/`[ ]` when colour cannot tell ticked from not."""

    @property
    def _button(self) -> Content:
        if not self.app.no_color:
            return super()._button
        return Content("[x]" if self.value else "[ ]")
