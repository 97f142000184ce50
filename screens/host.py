"""What a screen may ask of the app: the CockpitHost protocol, and `host_of` to get it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from rich.text import Text
    from textual.app import App
    from textual.worker import Worker

    from cockpit.actions.targets import Built
    from cockpit.actions.windows import WindowState
    from cockpit.audit import Actor
    from cockpit.config import Settings
    from cockpit.controller.seen import Seen
    from cockpit.fleet.snapshot import FleetSnapshot
    from cockpit.fleet.verdict_history import VerdictHistory
    from cockpit.incident.recorder import ChangeRecorder
    from cockpit.journal import Journal
    from cockpit.model import Action
    from cockpit.team.held_policy import Held


class CockpitHost(Protocol):
    """The app as screens see it: data and time down, requests up; nothing else.

    Screens never import the app class: this is the whole surface they use.
    """

    settings: Settings
    read_only: bool
    banner: Text | None  # a failing canary waiting for a person, shown over every view
    verdicts: VerdictHistory  # the canary view's last verdicts, kept past a canary's end
    recorder: ChangeRecorder  # what moved without a timestamp: the Incident view's changes
    journal: Journal  # the audit log, read and written off the UI thread

    @property
    def snapshot(self) -> FleetSnapshot: ...

    @property
    def actor(self) -> Actor: ...

    def now(self) -> datetime: ...

    def window_state(self, environment: str) -> WindowState: ...

    def held_policy(self) -> Held | None:
        """Team mode: the stored policy in force as last read (None without `store:`)."""
        ...

    def controller_lease(self) -> Seen | None:
        """Team mode: the controller's lease as last read (None until the first read)."""
        ...

    def why_not(self, action: Action) -> str | None: ...

    def request_action(self, built: Built, evidence: Mapping[str, Any] | None = None) -> None: ...

    def open_cell(self, service: str, environment: str, prefer_canary: bool = True) -> None: ...

    async def release_keys(self) -> None: ...

    async def record_audit_read(self, view: str = "audit") -> None: ...

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None: ...


def host_of(app: App[Any]) -> CockpitHost:
    """The running app as a CockpitHost (every screen runs inside the cockpit's app)."""
    return cast("CockpitHost", app)
