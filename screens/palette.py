"""The command palette's entries for a view: every action it offers, or why not here.

Each view answers `palette_commands()`; `ViewCommands` (in every view's `COMMANDS`) lists
them, so the app never reaches into a screen to build the palette.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.command import DiscoveryHit, Hit, Hits, Provider

from cockpit.keys import ACTION_KEYS, display
from cockpit.model import ActionKind
from cockpit.sanitize import literal_markup

if TYPE_CHECKING:
    from screens.base import FleetScreen


class ViewCommands(Provider):
    """The palette's entries of the view it was opened over (titles are markup)."""

    def _commands(self) -> list[SystemCommand]:
        screen = self.screen
        answer = getattr(screen, "palette_commands", None)  # a modal has none of its own
        return sorted(answer(), key=lambda c: c.title) if answer is not None else []

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.title, command.callback, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            if (score := matcher.match(command.title)) > 0:
                yield Hit(
                    score, matcher.highlight(command.title), command.callback, help=command.help
                )


def action_commands(
    screen: FleetScreen, keys: Mapping[str, str], action_of: Mapping[str, ActionKind]
) -> Iterable[SystemCommand]:
    """Every action this view offers on its selection, or why it does nothing here.

    Titles and help are Textual markup: text from connectors goes through `literal_markup`
    (a service named `svc[/]` would otherwise take the palette down)."""
    for spec in ACTION_KEYS:
        kind = action_of[spec.action]
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
