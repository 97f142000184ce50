"""Building a CockpitApp on connector fakes and reading back what an action left behind."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from textual.pilot import Pilot

from cockpit import config
from cockpit.app import CockpitApp
from cockpit.audit import AuditRecord, EventType
from cockpit.clock import FixedClock
from cockpit.config import PolicyConfig
from cockpit.connect import options
from screens.dialog import ActionDialog
from screens.widgets import LiveTable
from tests.app.helpers import actor, fill_and_confirm, records

__all__ = [
    "SIZE",
    "action_records",
    "connector_app",
    "fill_and_confirm",
    "open_dialog",
    "select",
    "select_cell",
    "target_of",
    "versions_of",
]

SIZE = (120, 36)
# Gates a fake cannot speak for (tests, security scan...) must not block a production test,
# nor authors no `identities:` map names (tests/unit/test_identities.py covers that rule).
POLICY: dict[str, Any] = {
    "environments": {"prod": {"unknown_gates": "warn", "unmapped_identity": "warn"}}
}


def connector_app(
    tmp_path: Path,
    connectors: list[dict[str, Any]],
    transports: Mapping[str, Callable[[], httpx.AsyncBaseTransport]],
    *,
    now: datetime,
    env: Mapping[str, str],
    user: str = "alice",
) -> CockpitApp:
    """The app configured as an operator would (a YAML file), each connector on its fake."""
    path = tmp_path / "cockpit.yaml"
    path.write_text(
        yaml.safe_dump({"environments": ["dev", "staging", "prod"], "connectors": connectors})
    )
    settings = config.load(str(path), env=dict(env))
    settings = replace(
        settings,
        policy=options.parse(PolicyConfig, POLICY),
        audit=config.AuditConfig(str(tmp_path / "audit.sqlite3")),
    )

    def client(spec: config.ConnectorSpec) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=transports[spec.name]())

    app = CockpitApp(
        settings, clock=FixedClock(now), poll=False, actor=actor(user), client_factory=client
    )
    app.animation_level = "none"
    return app


async def select(pilot: Pilot[Any], table: LiveTable, key: str) -> None:
    """Move the table's cursor to the row `key` with the arrow keys, as an operator would."""
    table.focus()
    await pilot.press("home")
    await pilot.press(*["down"] * table.keys.index(key))
    await pilot.pause()
    assert table.current_key() == key


async def select_cell(pilot: Pilot[Any], app: CockpitApp, service: str, environment: str) -> None:
    """In the Overview matrix, move to the cell (service, environment) with the arrow keys."""
    await pilot.press("1")
    matrix = app.screen.query_one("#matrix", LiveTable)
    await select(pilot, matrix, service)
    await pilot.press(*["left"] * len(matrix.column_keys))
    await pilot.press(*["right"] * (matrix.column_keys.index(environment) - 1))
    await pilot.pause()
    assert (matrix.current_key(), matrix.current_column()) == (service, environment)


async def open_dialog(pilot: Pilot[Any], app: CockpitApp, key: str) -> ActionDialog:
    """Press an action key and return the confirmation dialog it opened."""
    await pilot.press(key)
    await pilot.pause()  # the action worker plans, then pushes the dialog and waits on it
    dialog = app.screen
    assert isinstance(dialog, ActionDialog), f"{key!r} opened no dialog (screen {dialog!r})"
    first = "cancel" if dialog.plan.decision.refused else "reason"  # Close, when refused
    assert app.focused is not None and app.focused.id == first, f"focus starts on {first}"
    return dialog


def target_of(record: AuditRecord) -> tuple[str, str, str, str]:
    """(service, environment, source, remote id) of what an audit record is about."""
    t = record.target
    assert t is not None, f"{record.event_type.value} has no target"
    return (t.service, t.environment, t.source, t.remote_id)


def versions_of(record: AuditRecord) -> tuple[str, str]:
    t = record.target
    assert t is not None, f"{record.event_type.value} has no target"
    return (t.from_version, t.to_version)


def action_records(app: CockpitApp, action: str) -> dict[EventType, AuditRecord]:
    """The action.* records of the one attempt at `action`, by event type."""
    found = [
        r for r in records(app) if r.action == action and r.event_type.value.startswith("action.")
    ]
    out = {r.event_type: r for r in found}
    assert len(out) == len(found), f"more than one attempt at {action}: {found}"
    assert len({r.request_id for r in found}) == 1, "requested and outcome share a request id"
    return out
