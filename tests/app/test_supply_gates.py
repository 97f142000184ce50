"""The supply-chain gates from the keyboard on the demo: the promote dialog shows provenance,
licences, scans and tests judged from the demo's documents, and the audit record of a
promote keeps what each one rested on (digests, counts, ids)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cockpit import config
from cockpit.app import CockpitApp
from cockpit.audit import EventType
from cockpit.clock import FixedClock
from cockpit.model import GateStatus
from screens.dialog import ActionDialog
from screens.widgets import LiveTable
from tests.app.helpers import T0, actor, fill_and_confirm, records, visible

SUPPLY = ("tests", "provenance", "licences", "scans")


async def with_documents(app: CockpitApp, pilot) -> None:  # type: ignore[no-untyped-def]
    """A live demo reports its documents from its second poll on (the first frame never
    waits for them): poll once more and let the screen take the snapshot in."""
    await app.hub.refresh()
    while getattr(app.screen, "generation", None) != app.hub.snapshot.generation:
        await pilot.pause()
    assert app.hub.snapshot.evidence, "the demo reported no documents"


def demo_with_log(tmp_path: Path) -> CockpitApp:
    """The built-in demo as `cockpit` runs it (its own policy, supply_chain included), with
    the audit log in `tmp_path`."""
    settings = config.load(None, seed=7, scale=12, env={})
    settings = replace(settings, audit=config.AuditConfig(str(tmp_path / "audit.sqlite3")))
    app = CockpitApp(settings, clock=FixedClock(T0), poll=False, actor=actor("alice"))
    app.animation_level = "none"
    return app


async def test_promote_shows_the_four_gates_and_the_record_keeps_their_facts(
    tmp_path: Path,
) -> None:
    app = demo_with_log(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await with_documents(app, pilot)
        await pilot.press("4", "p")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        assert dialog.plan.title == "Promote checkout 1.5.11 → 1.5.14 in PROD (production)"
        statuses = {g.name: g.status for g in dialog.plan.decision.gates}
        assert {n: statuses[n] for n in SUPPLY} == dict.fromkeys(SUPPLY, GateStatus.PASS)
        shown = visible(app)
        for name in ("provenance", "licences", "scans"):
            assert name in shown
        assert "acme-demo/checkout@refs/heads/main," in shown  # the whole line, not cut
        await fill_and_confirm(pilot, app, "canary metrics clean for 30m", "checkout")
    done = [r for r in records(app) if r.event_type == EventType.ACTION_SUCCEEDED]
    assert len(done) == 1 and done[0].action == "promote"
    gates = {g["name"]: g for g in done[0].evidence["gates"]}
    assert {n: gates[n]["status"] for n in SUPPLY} == dict.fromkeys(SUPPLY, "pass")
    assert gates["provenance"]["facts"]["digest"] == done[0].target.digest
    assert gates["provenance"]["facts"]["verification"] == "public key"
    assert gates["licences"]["facts"]["components"] == "6"
    assert gates["scans"]["facts"]["commit"] == gates["provenance"]["facts"]["commit"]
    assert gates["tests"]["facts"]["run_id"].startswith("checkout#")


async def test_a_denied_licence_refuses_the_promote_in_the_dialog_at_80x24(
    tmp_path: Path,
) -> None:
    app = demo_with_log(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await with_documents(app, pilot)
        matrix = app.screen.query_one("#matrix", LiveTable)
        matrix.move_cursor(row=matrix.keys.index("ledger"), column=3)
        await pilot.press("p")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        gates = {g.name: g for g in dialog.plan.decision.gates}
        assert gates["licences"].status is GateStatus.FAIL
        assert gates["provenance"].status is GateStatus.PASS
        assert dialog.plan.decision.refused
        assert "gate licences is fail" in " ".join(dialog.plan.decision.reasons)
        assert not dialog.query("#confirm-button"), "a refused plan offers only Close"
        assert "readline-compat@8.2.0" in visible(app)
        await pilot.press("escape")
    refused = [r for r in records(app) if r.event_type == EventType.ACTION_SUCCEEDED]
    assert refused == []


async def test_run_detail_names_failing_tests_and_the_service_s_flaky_ones(tmp_path: Path) -> None:
    from textual.widgets import Static

    app = demo_with_log(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await with_documents(app, pilot)
        await pilot.press("2")
        await pilot.pause()
        snap = app.hub.snapshot
        failed = next(r for r in snap.runs_newest_first() if r.tests and r.tests.failed)
        search = next(r for r in snap.runs_newest_first() if r.service == "search" and r.tests)
        shown = []
        for run in (failed, search):
            runs = app.screen.query_one("#runs", LiveTable)
            runs.move_cursor(row=runs.keys.index(run.id))
            await pilot.press("enter")
            await pilot.pause()
            shown.append(str(app.screen.query_one("#run-head", Static).render()))
            await pilot.press("escape")
            await pilot.pause()
    assert "failing tests (JUnit XML):" in shown[0]
    assert f"_regression_{failed.number}_1  AssertionError" in shown[0]
    assert (
        "flaky in the last 10 runs: "
        "tests.search.test_upstream::test_checkout_survives_upstream_timeout" in shown[1]
    )
