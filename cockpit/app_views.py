"""The app's views: which screen each mode shows, the view on screen, and moving between them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.screen import Screen

from cockpit.app_actions import ActionsMixin
from cockpit.keys import VIEWS
from screens.base import FleetScreen

if TYPE_CHECKING:
    from cockpit.fleet.snapshot import FleetSnapshot
    from screens.pods import OpenPods

# Views other than the first are imported when first shown: start-up pays only for one.
VIEW_SCREENS: dict[str, str] = {
    "overview": "screens.overview:OverviewScreen",
    "pipelines": "screens.pipelines:PipelinesScreen",
    "environments": "screens.environments:EnvironmentsScreen",
    "canary": "screens.canary:CanaryScreen",
    "drift": "screens.drift:DriftScreen",
    "approvals": "screens.approvals:ApprovalsScreen",
    "audit": "screens.audit:AuditScreen",
    "incident": "screens.incident:IncidentScreen",
}


def _lazy_screen(target: str) -> Callable[[], Screen[object]]:
    def make() -> Screen[object]:
        import importlib

        module, _, name = target.partition(":")
        screen: Screen[object] = getattr(importlib.import_module(module), name)()
        return screen

    return make


class ViewsMixin(ActionsMixin):
    """Modes for the views, the palette's app-wide entries, help, sources, drilling down."""

    MODES = {name: _lazy_screen(target) for name, target in VIEW_SCREENS.items()}
    # The app starts in the overview, composed once the hub has its first facts (`on_load`);
    # a configured `start_view` is switched to on mount.
    DEFAULT_MODE = "overview"

    @property
    def snapshot(self) -> FleetSnapshot:
        return self.hub.snapshot

    def _fleet_screen(self) -> FleetScreen | None:
        """The view on screen, mounted, also under an action dialog, or None.

        The view behind a dialog keeps updating: what the operator decides on stays live.
        Under help or a panel it catches up on resume. None once Textual has begun to shut
        down: it takes a view's widgets down one by one while the hub and the tick still run
        (the tick once found the top bar without the banner), and the stack is empty after.
        A view switched to is on the stack a moment before it is mounted.
        """
        if not self.is_running:
            return None
        for screen in reversed(self.screen_stack):
            if isinstance(screen, FleetScreen):
                return screen if screen.is_mounted else None
            if not getattr(screen, "VIEW_LIVE_BEHIND", False):
                return None
        return None

    # Navigation ----------------------------------------------------------------
    async def action_view(self, name: str) -> None:
        if name in VIEW_SCREENS and self.current_mode != name:
            await self.switch_mode(name)

    def action_help(self) -> None:
        from screens.help import HelpScreen

        screen = self._fleet_screen()
        disabled = screen.disabled_reasons() if screen is not None else {}
        self.push_screen(HelpScreen(dict(self.settings.keys), disabled))

    def action_sources(self) -> None:
        from screens.sources import SourcesScreen

        self.push_screen(SourcesScreen())

    def action_refresh_now(self) -> None:
        self.hub.poke()
        self.notify("Refreshing every connector now", timeout=2)

    def open_cell(self, service: str, environment: str, prefer_canary: bool = True) -> None:
        cell = self.snapshot.cell(service, environment)
        if prefer_canary and cell.canary is not None and cell.canary.phase.active:
            self.switch_mode("canary")
            screen = self.screen
            from screens.canary import CanaryScreen

            if isinstance(screen, CanaryScreen):
                screen.select(service, environment)
                screen.show(self.snapshot, force=True)
            return
        from screens.service import ServiceScreen

        self.push_screen(ServiceScreen(service, environment))

    def on_open_pods(self, message: OpenPods) -> None:
        """The pods view, handed the hub's on-demand request path (screens/pods.py)."""
        from screens.pods import PodsScreen

        now = self.hub.clock.now
        self.push_screen(PodsScreen(message.service, message.environment, self.hub, now))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """App-wide entries; a view adds its own (screens/palette.py, ViewCommands)."""
        for name, key, title in VIEWS:
            if name in VIEW_SCREENS:
                yield SystemCommand(
                    f"View: {title}",
                    f"Switch to the {title} view (key {key})",
                    lambda n=name: self.run_action(f"view('{n}')"),
                )
        yield SystemCommand(
            "Refresh now", "Poll every connector now (ctrl+r)", self.action_refresh_now
        )
        yield SystemCommand("Help: keys", "Every key binding and its id (?)", self.action_help)
        yield SystemCommand(
            "Sources: health and errors",
            "Each connector's state, last success and last error (ctrl+s)",
            self.action_sources,
        )
        yield from super().get_system_commands(screen)
