"""What a NO_COLOR terminal gets instead of colour: production in reverse, ticks as [x].

Textual reads NO_COLOR when the app starts (`App.no_color`) and renders in monochrome:
red production names look like any other, and a Checkbox's X is the same ticked or not
(the dialog's TickBox, screens/tickbox.py, reads [x] then).
"""

from __future__ import annotations

from typing import Any

from textual.app import App


def prod_style(app: App[Any]) -> str:
    """The style of a production environment's name: red, or reversed without colour."""
    return "bold reverse" if app.no_color else "bold red"
