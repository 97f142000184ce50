"""The post-mortem timeline of a scripted incident on the demo fleet, compared with a golden file.

Fixed clock, seed 7: the same markdown every run. After a deliberate change to the demo or
to the timeline, regenerate with `UPDATE_GOLDEN=1 pytest tests/unit/test_incident_timeline_demo.py`
and review the diff of tests/unit/golden/incident_timeline_demo.md like a snapshot.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

from cockpit import config
from cockpit.actions import targets
from cockpit.actions.autopilot import AutoPilot, roll_back
from cockpit.actions.policy import Operator
from cockpit.audit import Actor
from cockpit.clock import FixedClock
from cockpit.config import PolicyConfig
from cockpit.connect import options
from cockpit.incident import render
from cockpit.incident.incidents import close_incident, incidents, open_incident
from cockpit.incident.recorder import ChangeRecorder
from cockpit.incident.timeline import build
from cockpit.model import Action
from cockpit.wiring import wire
from tests.unit.incident_kit import T0, minutes

GOLDEN = Path(__file__).parent / "golden" / "incident_timeline_demo.md"
ALICE = Actor(user="alice", host="testhost", ssh_client="", pid=4242, version="test")


async def scripted_incident(folder: Path) -> tuple[str, str]:
    """The demo's payments canary turns bad at 03:02:30 and its 5xx alert starts at 03:03:20.
    Alice tries a promote (refused), opens an incident; the failing verdict rolls the canary
    back automatically (verdict and rollback records); she closes the incident."""
    clock = FixedClock(T0)
    settings = config.load(None, seed=7, scale=12, env={})
    policy = {"environments": {"prod": {"unknown_gates": "warn", "auto_rollback": True}}}
    settings = replace(
        settings,
        policy=options.parse(PolicyConfig, policy),
        audit=config.AuditConfig(str(folder / "audit.sqlite3")),
    )
    hub, executor, journal = wire(settings, actor=ALICE, clock=clock, live=False)
    executor.operator = Operator("alice")
    recorder = ChangeRecorder()
    hub.subscribe(recorder.observe)

    async def until(hh: int, mm: int, ss: int) -> None:
        while clock.now() < T0.replace(hour=hh, minute=mm, second=ss):
            await hub.refresh()
            clock.advance(15)
        await hub.refresh()

    try:
        await journal.call(lambda store: store.head())
        await until(3, 3, 45)
        promote = targets.promote(hub.snapshot, "payments", "prod")
        assert isinstance(promote, Action), promote
        refused = await executor.submit(executor.plan(promote), reason="push on", confirmation=None)
        assert refused.status == "refused"
        await until(3, 4, 0)
        inc = await journal.call(
            lambda s: open_incident(
                s, ALICE, "payments | 5xx <b>during</b>\ncanary", ticket="INC-7781",
                service="payments", environment="prod",
            )
        )  # fmt: skip
        await until(3, 4, 15)
        autopilot = AutoPilot(settings.policy)
        [proposal] = [p for p in autopilot.review(hub.snapshot) if p.service == "payments"]
        done = await roll_back(executor, proposal, ALICE)
        assert not isinstance(done, str) and done.status == "succeeded", done
        await until(3, 6, 0)
        clock.advance(240)
        await journal.call(lambda s: close_incident(s, ALICE, reason="rolled back to 2.7.12"))
        records = await journal.call(lambda s: list(s.records()))
        [incident] = [i for i in incidents(records) if i.id == inc.id]
        assert incident.closed_at is not None
        timeline = build(
            hub.snapshot,
            records,
            since=incident.opened_at - minutes(120),
            until=incident.closed_at,
            incident=incident,
            service=incident.service,
            observed=recorder.changes(),
            seen=recorder.alerts(),
        )
        return render.markdown(timeline), render.as_json(timeline)
    finally:
        await hub.stop()
        journal.close()


async def test_the_demo_incident_timeline_matches_the_golden_markdown(tmp_path: Path) -> None:
    text, _ = await scripted_incident(tmp_path)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


async def test_the_same_incident_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert await scripted_incident(tmp_path / "a") == await scripted_incident(tmp_path / "b")


async def test_the_json_holds_the_markdowns_entries_and_figures(tmp_path: Path) -> None:
    text, raw = await scripted_incident(tmp_path)
    data = json.loads(raw)
    rows = [line for line in text.splitlines() if line.startswith("| 20")]
    assert len(rows) == len(data["entries"]) > 5
    assert data["incident"]["ticket"] == "INC-7781"
    kinds = [e["kind"] for e in data["entries"]]
    assert "action" in kinds and "incident" in kinds
    assert all(f["seconds"] is None or f["seconds"] >= 0 for f in data["figures"].values())
    assert raw.isascii()
