"""The audited action flow from the keyboard: key, dialog, reason, confirm, effect, audit."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Button

from cockpit.audit import EventType
from cockpit.clock import FixedClock
from screens.dialog import ActionDialog
from screens.widgets import LiveTable
from tests.app.helpers import T0, Toasts, app_with, fill_and_confirm, records


async def test_promote_the_demo_canary_from_the_keyboard(tmp_path: Path) -> None:
    app = app_with(tmp_path)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await pilot.press("4")
        canary = app.hub.snapshot.cell("checkout", "prod").canary
        assert canary is not None and (canary.step, canary.weight) == (3, 25)
        await pilot.press("p")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        assert app.focused is not None and app.focused.id == "reason", "focus starts on the reason"
        assert dialog.query("#confirm"), "a promote in production asks for the typed name"
        assert dialog.has_class("production")
        assert dialog.query_one("#confirm-button", Button).disabled
        plan = dialog.plan
        assert plan.title == "Promote checkout 1.5.11 → 1.5.14 in PROD (production)"
        assert [g.name for g in plan.decision.gates][:4] == [
            "pipeline",
            "tests",
            "canary",
            "alerts",
        ]
        await fill_and_confirm(pilot, app, "metrics look clean after 30m", "checkout")
        canary = app.hub.snapshot.cell("checkout", "prod").canary
        assert canary is not None and (canary.step, canary.weight) == (4, 50)
    kinds = [(r.event_type, r.action, r.outcome) for r in records(app)]
    assert kinds[0][0] == EventType.AUDIT_INITIALIZED
    assert kinds[1] == (EventType.APP_START, "app.start", "info")
    assert (EventType.ACTION_REQUESTED, "promote", "requested") in kinds
    assert (EventType.ACTION_SUCCEEDED, "promote", "succeeded") in kinds
    assert kinds[-1][0] == EventType.APP_EXIT
    done = next(r for r in records(app) if r.event_type == EventType.ACTION_SUCCEEDED)
    requested = next(r for r in records(app) if r.event_type == EventType.ACTION_REQUESTED)
    assert done.request_id == requested.request_id
    assert done.reason == "metrics look clean after 30m"
    assert done.actor.user == "alice" and done.actor.host == "testhost"
    assert done.target is not None
    assert (
        done.target.service,
        done.target.environment,
        done.target.from_version,
        done.target.to_version,
    ) == (
        "checkout",
        "prod",
        "1.5.11",
        "1.5.14",
    )
    assert done.target.digest.startswith("sha256:")
    assert {g["name"] for g in done.evidence["gates"]} >= {"pipeline", "tests", "canary", "alerts"}
    assert done.policy["decision"] == "allowed"
    from cockpit.audit import open_store

    store = open_store(app.settings.audit.path, clock=FixedClock(T0), create=False)
    assert store.verify().ok
    store.close()


async def test_roll_back_a_service_to_its_previous_version(tmp_path: Path) -> None:
    app = app_with(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        matrix = app.screen.query_one("#matrix", LiveTable)
        matrix.move_cursor(row=matrix.keys.index("cart"), column=3)
        before = app.hub.snapshot.cell("cart", "prod").deployment
        assert before is not None
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, ActionDialog)
        assert app.screen.plan.to_version == before.history[0].version
        await fill_and_confirm(pilot, app, "error budget burning since deploy", "cart")
        after = app.hub.snapshot.cell("cart", "prod").deployment
        assert after is not None and after.version == before.history[0].version
    done = [r for r in records(app) if r.event_type == EventType.ACTION_SUCCEEDED]
    assert (
        len(done) == 1
        and done[0].action == "rollback"
        and done[0].target.from_version == before.version
    )


async def test_cancel_runs_nothing(tmp_path: Path) -> None:
    app = app_with(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("4", "p")
        await pilot.pause()
        await pilot.press("enter")  # focus is on the empty reason: nothing runs
        await pilot.pause()
        assert isinstance(app.screen, ActionDialog)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ActionDialog)
        canary = app.hub.snapshot.cell("checkout", "prod").canary
        assert canary is not None and canary.weight == 25
    assert not [r for r in records(app) if r.event_type.value.startswith("action.")]


async def test_a_refused_action_says_why_and_is_audited(tmp_path: Path) -> None:
    policy = {"roles": {"captain": ["carol"]}, "permissions": {"promote": ["captain"]}}
    app = app_with(tmp_path, policy, user="mallory")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("4", "p")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        assert dialog.plan.decision.refused
        assert not dialog.query("#confirm-button")
        assert (
            "mallory may not promote in prod: needs one of the roles captain"
            in dialog.plan.decision.reasons
        )
        await pilot.press("escape")
    refused = [r for r in records(app) if r.event_type == EventType.ACTION_REFUSED]
    assert len(refused) == 1
    assert refused[0].policy["decision"] == "refused"
    assert refused[0].actor.user == "mallory"


async def test_read_only_greys_out_and_explains(tmp_path: Path) -> None:
    app = app_with(tmp_path, read_only=True)
    toasts = Toasts()
    async with app.run_test(size=(120, 36), message_hook=toasts.hook) as pilot:
        await pilot.press("4", "p")
        await pilot.pause()
        assert not isinstance(app.screen, ActionDialog)
        messages = [n.message for n in toasts]
        assert any("read-only mode (started with --read-only)" in m for m in messages)
        bindings = {b.binding.action: b.enabled for b in app.screen.active_bindings.values()}
        assert bindings["promote"] is False


async def test_repeated_key_press_runs_the_action_once(tmp_path: Path) -> None:
    app = app_with(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("4", "p", "p", "p")
        await pilot.pause()
        assert len([s for s in app.screen_stack if isinstance(s, ActionDialog)]) == 1
        executor = app.executor
        plan = executor.plan(app.screen.plan.action)  # type: ignore[attr-defined]
        outcomes = await __import__("asyncio").gather(
            executor.submit(plan, reason="twice in a row test", confirmation="checkout"),
            executor.submit(plan, reason="twice in a row test", confirmation="checkout"),
        )
        assert sorted(o.status for o in outcomes) == ["duplicate", "succeeded"]
    assert len([r for r in records(app) if r.event_type == EventType.ACTION_SUCCEEDED]) == 1


async def test_two_person_rule_with_two_cockpits_on_one_store(tmp_path: Path) -> None:
    policy = {"environments": {"prod": {"two_person": ["promote"], "unknown_gates": "warn"}}}
    first = app_with(tmp_path, policy, user="alice")
    async with first.run_test(size=(120, 36)) as pilot:
        await pilot.press("4", "p")
        await pilot.pause()
        dialog = first.screen
        assert isinstance(dialog, ActionDialog)
        assert dialog.plan.decision.outcome == "needs_approval"
        assert str(dialog.query_one("#confirm-button", Button).label) == "Request approval"
        await fill_and_confirm(pilot, first, "ready to widen the canary", "checkout")
        assert first.hub.snapshot.cell("checkout", "prod").canary.weight == 25  # type: ignore[union-attr]

    second = app_with(tmp_path, policy, user="bob")
    async with second.run_test(size=(120, 36), notifications=True) as pilot:
        await pilot.press("6")
        table = second.screen.query_one("#approvals", LiveTable)
        mine = [k for k in table.keys if k.startswith("cockpit:")]
        assert len(mine) == 1
        table.move_cursor(row=table.keys.index(mine[0]))
        pending = second.screen.selected()  # type: ignore[attr-defined]
        assert pending.requested_by == "alice" and pending.kind == "two-person"
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(second.screen, ActionDialog)
        await fill_and_confirm(pilot, second, "reviewed the canary metrics", "checkout")
        assert second.hub.snapshot.cell("checkout", "prod").canary.weight == 50  # type: ignore[union-attr]
        await second.hub.refresh()
        assert not [a for a in second.hub.snapshot.approvals if a.source == "cockpit"]

    log = records(second)
    pending_rec = [r for r in log if r.event_type == EventType.APPROVAL_PENDING]
    granted = [r for r in log if r.event_type == EventType.APPROVAL_GRANTED]
    done = [r for r in log if r.event_type == EventType.ACTION_SUCCEEDED]
    assert pending_rec[0].actor.user == "alice"
    assert granted[0].actor.user == "bob" and granted[0].request_id == pending_rec[0].request_id
    assert done[0].actor.user == "bob" and done[0].extra["initiator"] == "alice"
    assert done[0].extra["approvers"] == ["bob"]


async def test_self_approval_of_a_two_person_request_is_refused(tmp_path: Path) -> None:
    policy = {"environments": {"prod": {"two_person": ["promote"], "unknown_gates": "warn"}}}
    app = app_with(tmp_path, policy, user="alice")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("4", "p")
        await pilot.pause()
        await fill_and_confirm(pilot, app, "ready to widen the canary", "checkout")
        await app.hub.refresh()
        await pilot.press("6")
        table = app.screen.query_one("#approvals", LiveTable)
        mine = [k for k in table.keys if k.startswith("cockpit:")]
        table.move_cursor(row=table.keys.index(mine[0]))
        await pilot.press("a")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ActionDialog) and dialog.plan.decision.refused
        assert dialog.plan.decision.reasons[0].startswith(
            "alice requested this change and cannot approve it"
        )
    assert [r.event_type for r in records(app)].count(EventType.ACTION_REFUSED) == 1


async def test_audit_view_shows_the_records_and_the_verify_status(tmp_path: Path) -> None:
    app = app_with(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        matrix = app.screen.query_one("#matrix", LiveTable)
        matrix.move_cursor(row=matrix.keys.index("cart"), column=3)
        await pilot.press("b")
        await pilot.pause()
        await fill_and_confirm(pilot, app, "error budget burning since deploy", "cart")
        await pilot.press("7")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert screen.verify_text.plain.startswith("✓ audit log intact")  # type: ignore[attr-defined]
        table = screen.query_one("#audit-records", LiveTable)
        events = [screen.records[i].event_type.value for i in range(len(table.keys))]  # type: ignore[attr-defined]
        assert events[0] == "audit.read" and "action.succeeded" in events
        await pilot.press("slash", *"rollback")
        shown = [r for r in screen.records if str(r.seq) in table.keys]  # type: ignore[attr-defined]
        assert shown and all(r.action == "rollback" for r in shown)


async def test_rerun_a_failed_run_from_the_pipelines_view(tmp_path: Path) -> None:
    app = app_with(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2")
        runs = app.screen.query_one("#runs", LiveTable)
        failed = next(k for k in runs.keys if app.hub.snapshot.runs[k].status.value == "failed")
        runs.move_cursor(row=runs.keys.index(failed))
        await pilot.press("R")
        await pilot.pause()
        assert isinstance(app.screen, ActionDialog)
        # The run goes on to deploy to prod, so prod's typed confirmation applies.
        assert app.screen.plan.action.environment == "prod"
        service = app.hub.snapshot.runs[failed].service
        await fill_and_confirm(pilot, app, "flaky integration test, retry", service)
        again = [
            r
            for r in app.hub.snapshot.runs.values()
            if r.commit == app.hub.snapshot.runs[failed].commit
        ]
        assert len(again) == 2, "a new run of the same commit"
    requested = next(r for r in records(app) if r.event_type == EventType.ACTION_REQUESTED)
    done = next(r for r in records(app) if r.event_type == EventType.ACTION_SUCCEEDED)
    assert requested.action == "rerun" and requested.target.remote_id == failed
    assert done.target.remote_id != failed and done.target.remote_id.startswith(
        failed.split("#")[0]
    )
