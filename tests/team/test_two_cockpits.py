"""Issue 11's "two cockpits": two operators, each in their own process under their own
database role, on one team store. A promote filed by one shows in the other's Approvals
within a second of its NOTIFY (no polling), is approved there and runs exactly once; the
requester approving it themself from another OS login is refused and audited; the chain
verifies after."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cockpit.actions.identity import os_user
from cockpit.app import CockpitApp
from cockpit.audit import EventType, open_store
from cockpit.clock import SystemClock
from cockpit.team.listen import LIVE_SOURCE, LiveConnector
from screens.table import LiveTable
from tests.app.helpers import fill_and_confirm
from tests.pgserver import PostgresServer
from tests.team.kit import store_for, until
from tests.team.team_kit import Team, another_os_user, make_team

REASON = "ready to widen the canary"


@pytest.fixture
def team(pg_server: PostgresServer, pg_url: str) -> Iterator[Team]:
    # Not under pytest's tmp_path: that is root's alone, and one operator runs as `nobody`.
    folder = Path(tempfile.mkdtemp(prefix="cockpit-team-"))
    try:
        yield make_team(pg_server, pg_url, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def log(team: Team) -> list[Any]:
    """The team log, read as its owner (superuser), as an auditor would."""
    store = open_store(store=store_for(team.url), clock=SystemClock(), create=False)
    try:
        return list(store.records())
    finally:
        store.close()


def ours(table: LiveTable) -> list[str]:
    return [k for k in table.keys if k.startswith("cockpit:")]


async def test_a_request_in_one_cockpit_is_approved_in_another_and_runs_once(team: Team) -> None:
    app = CockpitApp(team.settings("bob"))  # the production start: live polls, the listener
    app.animation_level = "none"
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("6")
        await until(lambda: app.hub.snapshot.sources.get(LIVE_SOURCE) is not None, 10, "source")
        live = app.hub.connector(LIVE_SOURCE)
        assert isinstance(live, LiveConnector)
        await until(
            lambda: live.listener is not None and live.listener.state.connected,
            15,
            "bob's cockpit listening",
        )
        table = app.screen.query_one("#approvals", LiveTable)
        assert ours(table) == []

        # Alice, in her own process under her own role, files the promote.
        alice = await team.start(
            "alice",
            "promote",
            "checkout",
            "prod",
            "--reason",
            REASON,
            "--confirm",
            "checkout",
            "--yes",
        )
        await until(lambda: bool(ours(table)), 30, "alice's request in bob's Approvals")
        seen_at = time.time()
        out, err = await alice.communicate()
        assert alice.returncode == 4, (out.decode(), err.decode())  # waiting for approval
        asked = next(r for r in log(team) if r.event_type == EventType.APPROVAL_PENDING)
        latency = seen_at - asked.ts.timestamp()
        # The record's time is taken before its commit: this over-states NOTIFY -> screen.
        assert latency <= 1.0, f"{latency:.3f}s from alice's append to bob's screen"
        print(f"\nNOTIFY to the other cockpit's Approvals row: {latency * 1000:.0f} ms")

        # Alice approving her own request from another OS login (`nobody`, where this runs
        # as root; else her own): refused as a self-approval, audited, exit 3.
        other = another_os_user()
        mine = (team.run_as_another_os_user if other else team.run)(
            "alice", "approve", asked.request_id, "--reason", "approving my own change", "--yes"
        )
        assert mine.returncode == 3, (mine.stdout, mine.stderr)
        assert "requested this change and cannot approve it" in mine.stderr

        # Bob approves in his Approvals view: the promote runs, here, once.
        table.move_cursor(row=table.keys.index(ours(table)[0]))
        pending = app.screen.selected()  # type: ignore[attr-defined]
        assert pending.requested_by == "alice" and pending.kind == "two-person"
        await pilot.press("a")
        await until(lambda: bool(app.screen.query("#reason")), 10, "dialog")
        await fill_and_confirm(pilot, app, "reviewed the canary metrics", "checkout")
        await until(lambda: not ours(table), 10, "the request gone from bob's Approvals")

    records = log(team)
    rid = asked.request_id
    kinds = [r.event_type for r in records if r.request_id == rid]
    assert kinds.count(EventType.APPROVAL_PENDING) == 1
    granted = [r for r in records if r.event_type == EventType.APPROVAL_GRANTED]
    assert len(granted) == 1 and granted[0].actor.user == "bob"
    assert granted[0].extra["db_role"] == team.people["bob"].role
    done = [r for r in records if r.event_type == EventType.ACTION_SUCCEEDED]
    assert len(done) == 1  # exactly once
    assert done[0].actor.user == "bob" and done[0].extra["initiator"] == "alice"
    assert done[0].extra["approvers"] == ["bob"]
    assert asked.actor.user == "alice" and asked.extra["db_role"] == team.people["alice"].role
    refused = [r for r in records if r.event_type == EventType.ACTION_REFUSED]
    assert len(refused) == 1 and refused[0].actor.user == "alice"
    assert refused[0].extra["db_role"] == team.people["alice"].role
    assert refused[0].extra["os_user"] == (other[0] if other else os_user())
    assert refused[0].extra["identity_mismatch"] is True  # nobody (or root) is not alice

    verified = team.run("bob", "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
