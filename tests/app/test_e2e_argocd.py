"""End to end from the keyboard: Argo CD drift item by item, sync and rollback, audited.

Each test configures the connector as an operator would, against its fake, drives the TUI
with key presses, confirms the action dialog with a reason, then checks the exact request
the fake received, the audit records the executor wrote, and the next snapshot where the
fake reflects the change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cockpit.app import CockpitApp
from cockpit.audit import EventType
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
from tests.fixtures.argocd.fake import TOKEN, FakeArgoCD

# A Tuesday morning: inside shop's allow window (weekdays from 09:00 UTC) and past the
# payments project's weekend freeze, which closes the whole prod environment until Monday 12:00 UTC.
ARGO_NOW = datetime(2026, 8, 25, 9, 31, tzinfo=UTC)
ARGOCD = {
    "name": "argocd",
    "type": "argocd",
    "options": {
        "url": "https://argocd.example.com",
        "token": "env:ARGOCD_TOKEN",
        "projects": ["shop", "payments", "data"],
        "environments": {"production": "prod", "search-prd": "prod"},
    },
}
SHOP_DRIFT = [
    ["Deployment/shop/web", "spec.replicas", "4", "6"],
    [
        "Deployment/shop/web",
        "spec.template.spec.containers[web].image",
        "registry.example.com/acme/web:2.3.9",
        "registry.example.com/acme/web:2.3.9-hotfix1",
    ],
    [
        "Deployment/shop/web",
        "spec.template.spec.containers[web].env[LOG_LEVEL].value",
        "info",
        "debug",
    ],
    [
        "Deployment/shop/web",
        "spec.template.spec.containers[web].env[DEBUG_PPROF]",
        "(absent)",
        '{"name":"DEBUG_PPROF","value":"1"}',
    ],
    ["ConfigMap/shop/web-flags", "(resource)", "(present)", "(absent)"],
    [
        "ConfigMap/shop/legacy-banner",
        "(resource)",
        "(absent)",
        "(present: not in Git, pruning deletes it)",
    ],
]
APP_PATH = "/api/v1/applications/shop-prod"


def argocd_app(tmp_path: Path, fake: FakeArgoCD) -> CockpitApp:
    return connector_app(
        tmp_path,
        [ARGOCD],
        {"argocd": fake.transport},
        now=ARGO_NOW,
        env={"ARGOCD_TOKEN": TOKEN},
    )


def argo_writes(fake: FakeArgoCD) -> list[tuple[str, str, Any]]:
    return [(r.method, r.path, r.body) for r in fake.requests if r.method == "POST"]


async def test_argocd_drift_item_by_item_then_sync(tmp_path: Path) -> None:
    fake = FakeArgoCD()
    app = argocd_app(tmp_path, fake)
    reason = "hotfix image drifted, restore Git state"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        reports = app.screen.query_one("#reports", LiveTable)
        assert reports.keys == ["batch/dev", "shop/prod", "reports/staging"]
        await select(pilot, reports, "shop/prod")
        items = app.screen.query_one("#items", LiveTable)
        assert [items.cell_texts(key) for key in items.keys] == SHOP_DRIFT
        dialog = await open_dialog(pilot, app, "s")
        assert dialog.plan.action.kind.value == "sync" and dialog.plan.decision.production
        await fill_and_confirm(pilot, app, reason, "shop")
    assert argo_writes(fake) == [
        (
            "POST",
            APP_PATH + "/sync",
            {
                "name": "shop-prod",
                "revision": "main",
                "prune": False,
                "dryRun": False,
                "strategy": {"hook": {}},
                "infos": [
                    {"name": "Reason", "value": reason},
                    {"name": "Requested by", "value": "alice"},
                ],
                "appNamespace": "argocd",
            },
        )
    ]
    got = action_records(app, "sync")
    assert set(got) == {EventType.ACTION_REQUESTED, EventType.ACTION_SUCCEEDED}
    for record in got.values():
        assert record.reason == reason
        assert target_of(record)[:3] == ("shop", "prod", "argocd")
    done = got[EventType.ACTION_SUCCEEDED]
    assert target_of(done) == ("shop", "prod", "argocd", "shop-prod")
    # The record names the Git revision the drift was measured against; Argo CD syncs the
    # branch the application tracks ("main" above), as its own Sync button does.
    assert versions_of(done) == ("2.3.9", "9f1c2ab")
    assert done.extra["remote_id"] == "shop-prod"
    assert done.extra["result"] == "sync of shop-prod to main started"


async def test_argocd_rollback_to_the_previous_history_entry(tmp_path: Path) -> None:
    fake = FakeArgoCD()  # shop-prod: auto-sync off, history 40, 41 and 42 (running)
    app = argocd_app(tmp_path, fake)
    reason = "2.3.9 leaks memory, back to 41"
    async with app.run_test(size=SIZE) as pilot:
        await select_cell(pilot, app, "shop", "prod")
        dialog = await open_dialog(pilot, app, "b")
        assert dialog.plan.title == "Rollback shop 2.3.9 → 1a2b3c4 in PROD (production)"
        assert any("auto-sync" in w for w in dialog.plan.warnings)
        await fill_and_confirm(pilot, app, reason, "shop")
    assert argo_writes(fake) == [
        (
            "POST",
            APP_PATH + "/rollback",
            {"name": "shop-prod", "id": 41, "prune": False, "appNamespace": "argocd"},
        )
    ]
    got = action_records(app, "rollback")
    assert set(got) == {EventType.ACTION_REQUESTED, EventType.ACTION_SUCCEEDED}
    done = got[EventType.ACTION_SUCCEEDED]
    assert done.reason == reason and done.extra["remote_id"] == "41"
    assert target_of(done) == ("shop", "prod", "argocd", "41")
    assert versions_of(done) == ("2.3.9", "1a2b3c4")
    assert done.extra["result"].startswith("rollback of shop-prod to 1a2b3c4 (history 41) started.")


async def test_argocd_rollback_with_auto_sync_on_is_refused_in_the_plan(tmp_path: Path) -> None:
    """The dialog shows Argo CD's refusal before anyone fills it in, and cannot confirm."""
    fake = FakeArgoCD()
    fake.apps["shop-prod"]["spec"]["syncPolicy"] = {"automated": {"prune": True, "selfHeal": True}}
    app = argocd_app(tmp_path, fake)
    async with app.run_test(size=SIZE) as pilot:
        await select_cell(pilot, app, "shop", "prod")
        dialog = await open_dialog(pilot, app, "b")
        assert dialog.plan.decision.refused
        assert dialog.plan.decision.reasons == (
            "argocd: Argo CD refuses to roll back shop-prod while its auto-sync is on; turn "
            "auto-sync off for it first (re-enabling it later redeploys the revision in Git)",
        )
        assert not dialog.query("#confirm-button"), "nothing to confirm"
        await pilot.press("escape")
        await app.workers.wait_for_complete()
    assert argo_writes(fake) == [], "refused before anything is sent"
    got = action_records(app, "rollback")
    assert set(got) == {EventType.ACTION_REFUSED}
    assert "auto-sync is on" in got[EventType.ACTION_REFUSED].extra["refusal"][0]


async def test_argocd_refusing_a_rollback_is_a_failed_action_with_argocds_words(
    tmp_path: Path,
) -> None:
    """Auto-sync switched on between the cockpit's check and the POST: Argo CD says no."""
    fake = FakeArgoCD()
    fake.fail(
        APP_PATH + "/rollback", (400, "rollback cannot be initiated when auto-sync is enabled")
    )
    app = argocd_app(tmp_path, fake)
    async with app.run_test(size=SIZE) as pilot:
        await select_cell(pilot, app, "shop", "prod")
        await open_dialog(pilot, app, "b")
        await fill_and_confirm(pilot, app, "2.3.9 leaks memory, back to 41", "shop")
    assert [(m, p) for m, p, _ in argo_writes(fake)] == [("POST", APP_PATH + "/rollback")]
    got = action_records(app, "rollback")
    assert set(got) == {EventType.ACTION_REQUESTED, EventType.ACTION_FAILED}
    assert (
        "rollback cannot be initiated when auto-sync is enabled"
        in got[EventType.ACTION_FAILED].extra["error"]
    )
