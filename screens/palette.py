"""The command palette's entries for a view: every action it offers, or why not here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.app import SystemCommand

from cockpit.keys import ACTION_KEYS, display
from cockpit.sanitize import literal_markup
from screens.base import ACTION_OF, FleetScreen


def action_commands(screen: FleetScreen, keys: Mapping[str, str]) -> Iterable[SystemCommand]:
    """Every action this view offers on its selection, or why it does nothing here.

    Titles and help are Textual markup: text from connectors goes through `literal_markup`
    (a service named `svc[/]` would otherwise take the palette down)."""
    for spec in ACTION_KEYS:
        kind = ACTION_OF[spec.action]
        if kind not in screen.ACTIONS_HERE:
            continue
        key = display(keys.get(spec.id, spec.key))
        built = screen.build(kind)
        why = screen.why_disabled(kind)
        if why or isinstance(built, str):
            title = f"Action: {spec.description} (not here)"
            text = literal_markup(f"{why or built} (key {key})")
        else:
            target = (
                f"{built.service} in {built.environment}" if built.environment else built.service
            )
            title = literal_markup(f"Action: {spec.description} {target}")
            text = f"Audited; opens the confirmation dialog (key {key})"
        run = getattr(screen, f"action_{spec.action}", None)
        if run is not None:  # e.g. "promote 100%" exists only where canaries are shown
            yield SystemCommand(title, text, run)
