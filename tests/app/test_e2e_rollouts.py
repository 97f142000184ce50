"""End to end from the keyboard: an Argo Rollouts canary promoted and aborted, audited.

Each test configures the connector as an operator would, against its fake, drives the TUI
with key presses, confirms the action dialog with a reason, then checks the exact request
the fake received, the audit records the executor wrote, and the next snapshot where the
fake reflects the change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cockpit.app import CockpitApp
from cockpit.audit import EventType
from cockpit.model import CanaryPhase
from connectors.kube import client
from screens.overview import cell_text
from screens.widgets import LiveTable
from tests.app.e2e_kit import (
    SIZE,
    action_records,
    connector_app,
    fill_and_confirm,
    open_dialog,
    select,
    select_cell,
    target_of,
    versions_of,
)
from tests.fixtures.kubernetes.fakeapi import FakeKubeAPI
from tests.fixtures.kubernetes.kit import NOW, ROLLOUTS, TOKEN, cluster, eventually

ROLLOUTS_CONNECTOR = {
    "name": "rollouts",
    "type": "argo-rollouts",
    "options": {
        "server": "https://kube.test:6443",
        "token": "env:KUBE_TOKEN",
        "namespaces": ["shop"],
        "environment": {"shop": "prod"},
    },
}
MERGE = "application/merge-patch+json"
ROLLOUT_PATH = "/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts"


def rollouts_app(tmp_path: Path, fake: FakeKubeAPI) -> CockpitApp:
    return connector_app(
        tmp_path,
        [ROLLOUTS_CONNECTOR],
        {"rollouts": fake.transport},
        now=NOW,
        env={"KUBE_TOKEN": TOKEN},
    )


def patches(fake: FakeKubeAPI) -> list[tuple[str, str, Any]]:
    return [(s.path, s.content_type, s.json) for s in fake.seen if s.method == "PATCH"]


async def mirrored(app: CockpitApp, fake: FakeKubeAPI, name: str) -> None:
    """Wait until the connector's watch has brought the fake's latest `name`, then refresh."""
    connector: Any = app.hub.connector("rollouts")
    (informer,) = connector.informers[client.ROLLOUTS]
    wanted = fake.get(ROLLOUTS, "shop", name)["metadata"]["resourceVersion"]
    await eventually(
        lambda: informer.items[f"shop/{name}"]["metadata"]["resourceVersion"] == wanted
    )
    await app.hub.refresh()


async def test_rollouts_promote_a_paused_canary_step(tmp_path: Path) -> None:
    fake = cluster()
    app = rollouts_app(tmp_path, fake)
    reason = "step 2 metrics clean for 20 minutes"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        table = app.screen.query_one("#canaries", LiveTable)
        assert table.keys[:2] == ["api-gateway/prod", "payments/prod"]
        assert table.cell_texts("payments/prod")[1:6] == [
            "prod",
            "3.2.0 → 3.3.0",
            "2/7",
            "20%",
            "paused",
        ]
        await select(pilot, table, "payments/prod")
        dialog = await open_dialog(pilot, app, "p")
        assert dialog.plan.title == "Promote payments 3.2.0 → 3.3.0 in PROD (production)"
        before = app.hub.snapshot.cell("payments", "prod").canary
        assert before is not None and "paused: CanaryPauseStep" in before.message
        await fill_and_confirm(pilot, app, reason, "payments")
        await mirrored(app, fake, "payments")
        # The pause step is lifted; moving to the next step is the controller's job, not the fake's.
        after = app.hub.snapshot.cell("payments", "prod").canary
        assert after is not None and "CanaryPauseStep" not in after.message
    assert patches(fake) == [
        (f"{ROLLOUT_PATH}/payments/status", MERGE, {"status": {"pauseConditions": None}})
    ]
    got = action_records(app, "promote")
    assert set(got) == {EventType.ACTION_REQUESTED, EventType.ACTION_SUCCEEDED}
    for record in got.values():
        assert record.reason == reason
        assert target_of(record) == ("payments", "prod", "rollouts", "shop/payments")
        assert versions_of(record) == ("3.2.0", "3.3.0")
    assert got[EventType.ACTION_SUCCEEDED].extra["result"] == "rollout shop/payments promoted"


async def test_rollouts_abort_a_canary(tmp_path: Path) -> None:
    fake = cluster()
    app = rollouts_app(tmp_path, fake)
    reason = "p99 latency analysis failing"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        table = app.screen.query_one("#canaries", LiveTable)
        await select(pilot, table, "api-gateway/prod")
        dialog = await open_dialog(pilot, app, "K")
        assert dialog.plan.action.kind.value == "abort"
        await fill_and_confirm(pilot, app, reason, "api-gateway")
        await mirrored(app, fake, "api-gateway")
        await pilot.pause()  # the view takes the new snapshot
        canary = app.hub.snapshot.cell("api-gateway", "prod").canary
        assert canary is not None and canary.phase is CanaryPhase.ABORTED
        assert table.cell_texts("api-gateway/prod")[5] == "aborted"
    assert patches(fake) == [
        (f"{ROLLOUT_PATH}/api-gateway/status", MERGE, {"status": {"abort": True}})
    ]
    got = action_records(app, "abort")
    assert set(got) == {EventType.ACTION_REQUESTED, EventType.ACTION_SUCCEEDED}
    done = got[EventType.ACTION_SUCCEEDED]
    assert done.reason == reason and done.extra["remote_id"] == "shop/api-gateway"
    assert target_of(done) == ("api-gateway", "prod", "rollouts", "shop/api-gateway")
    assert done.extra["result"] == "rollout shop/api-gateway aborted"


async def test_rollouts_pause_a_canary_waiting_at_a_pause_step_holds_it(tmp_path: Path) -> None:
    """A step pause ends on its own (or on promote); pausing holds it, as the plugin does."""
    fake = cluster()
    app = rollouts_app(tmp_path, fake)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await select(pilot, app.screen.query_one("#canaries", LiveTable), "payments/prod")
        await open_dialog(pilot, app, "z")
        await fill_and_confirm(pilot, app, "hold for the payments freeze", "payments")
    assert patches(fake) == [(f"{ROLLOUT_PATH}/payments", MERGE, {"spec": {"paused": True}})]
    done = action_records(app, "pause")[EventType.ACTION_SUCCEEDED]
    assert done.extra["result"] == "rollout shop/payments paused"


async def test_rollouts_resume_lifts_the_step_pause_and_says_so(tmp_path: Path) -> None:
    fake = cluster()
    app = rollouts_app(tmp_path, fake)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await select(pilot, app.screen.query_one("#canaries", LiveTable), "payments/prod")
        await open_dialog(pilot, app, "u")
        await fill_and_confirm(pilot, app, "metrics reviewed", "payments")
        await mirrored(app, fake, "payments")
        canary = app.hub.snapshot.cell("payments", "prod").canary
        assert canary is not None and "CanaryPauseStep" not in canary.message
    assert patches(fake) == [
        (f"{ROLLOUT_PATH}/payments/status", MERGE, {"status": {"pauseConditions": None}})
    ]
    done = action_records(app, "resume")[EventType.ACTION_SUCCEEDED]
    assert done.extra["result"] == "rollout shop/payments resumed: lifted the CanaryPauseStep pause"


async def test_a_rollout_only_service_shows_its_version_in_the_overview(tmp_path: Path) -> None:
    app = rollouts_app(tmp_path, cluster())
    async with app.run_test(size=SIZE):
        snap = app.snapshot
        assert cell_text(snap.cell("catalog", "prod"), snap, NOW).plain == "1.12.3 ✓"
        assert cell_text(snap.cell("payments", "prod"), snap, NOW).plain.startswith("3.2.0 ")
        assert "1.12.3" in app.export_screenshot()


async def test_rollouts_retry_an_aborted_canary_from_the_overview(tmp_path: Path) -> None:
    fake = cluster()
    app = rollouts_app(tmp_path, fake)
    async with app.run_test(size=SIZE) as pilot:
        await select_cell(pilot, app, "ledger", "prod")
        dialog = await open_dialog(pilot, app, "Y")
        assert dialog.plan.action.remote_id == "shop/ledger"
        await fill_and_confirm(pilot, app, "flaky metric fixed", "ledger")
    assert patches(fake) == [(f"{ROLLOUT_PATH}/ledger/status", MERGE, {"status": {"abort": False}})]
    done = action_records(app, "retry")[EventType.ACTION_SUCCEEDED]
    assert done.extra["result"] == "rollout shop/ledger retried"


async def test_rollouts_retry_an_aborted_canary_from_the_canary_view(tmp_path: Path) -> None:
    fake = cluster()
    app = rollouts_app(tmp_path, fake)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        table = app.screen.query_one("#canaries", LiveTable)
        assert table.cell_texts("ledger/prod")[5] == "aborted"
        await select(pilot, table, "ledger/prod")
        assert app.screen.check_action("retry", ()) is True, "Y is offered on an aborted canary"
        dialog = await open_dialog(pilot, app, "Y")
        assert dialog.plan.action.kind.value == "retry"
        assert dialog.plan.action.remote_id == "shop/ledger"
        await fill_and_confirm(pilot, app, "flaky metric fixed", "ledger")
    assert patches(fake) == [(f"{ROLLOUT_PATH}/ledger/status", MERGE, {"status": {"abort": False}})]
    done = action_records(app, "retry")[EventType.ACTION_SUCCEEDED]
    assert done.extra["result"] == "rollout shop/ledger retried"
