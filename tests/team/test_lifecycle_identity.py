"""In team mode the TUI's own records (its start and exit, each read of the log) name the
operator the team store authenticated, with the role and OS user beside it, as the
executor's records do: not the OS user's word alone."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cockpit.actions.identity import os_user
from cockpit.app import CockpitApp
from cockpit.audit import EventType, open_store
from cockpit.clock import SystemClock
from tests.pgserver import PostgresServer
from tests.team.kit import store_for, until
from tests.team.team_kit import Team, make_team


@pytest.fixture
def team(pg_server: PostgresServer, pg_url: str) -> Iterator[Team]:
    folder = Path(tempfile.mkdtemp(prefix="cockpit-team-"))
    try:
        yield make_team(pg_server, pg_url, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def log(team: Team, kind: EventType) -> list[Any]:
    store = open_store(store=store_for(team.url), clock=SystemClock(), create=False)
    try:
        return [r for r in store.records() if r.event_type == kind]
    finally:
        store.close()


async def test_the_tuis_start_read_and_exit_records_name_the_authenticated_operator(
    team: Team,
) -> None:
    app = CockpitApp(team.settings("bob"))  # production start: polling on
    app.animation_level = "none"
    async with app.run_test(size=(120, 36)) as pilot:
        await until(lambda: bool(log(team, EventType.APP_START)), 15, "the app.start record")
        await app.record_audit_read("audit")
        await pilot.press("q")
    role = team.people["bob"].role
    for kind in (EventType.APP_START, EventType.AUDIT_READ, EventType.APP_EXIT):
        (record,) = log(team, kind)
        assert record.actor.user == "bob", kind  # the role's operator, not the OS login
        assert record.extra["db_role"] == role, kind
        assert record.extra["os_user"] == os_user(), kind
        assert record.extra["identity_mismatch"] is True, kind  # the OS login is not bob
