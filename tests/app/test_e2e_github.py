"""End to end from the keyboard: GitHub Actions deployment reviews against the fake GitHub.

Each test configures the connector as an operator would, against its fake, drives the TUI
with key presses, confirms the action dialog with a reason, then checks the exact request
the fake received, the audit records the executor wrote, and the next snapshot where the
fake reflects the change.
"""

from __future__ import annotations

from pathlib import Path

from cockpit.audit import EventType
from cockpit.model import Status
from screens.widgets import LiveTable
from tests.app.e2e_kit import (
    SIZE,
    action_records,
    connector_app,
    fill_and_confirm,
    open_dialog,
    select,
    target_of,
    versions_of,
)
from tests.app.helpers import Toasts
from tests.fixtures.github.fake import NOW, TOKEN, FakeGitHub

GITHUB = {
    "name": "github",
    "type": "github",
    "interval": "30s",
    "timeout": "10s",
    "options": {
        "base_url": "https://api.github.com",
        "token": "env:GITHUB_TOKEN",
        "repositories": ["acme/shop", {"repo": "acme/payments", "service": "payments-api"}],
    },
}
SHOP_RUN = "acme/shop#10512344871"
SHOP_REMOTE = "run:10512344871/env:161171787"
SHOP_APPROVAL = "acme/shop/" + SHOP_REMOTE
SHOP_REVIEW = "/repos/acme/shop/actions/runs/10512344871/pending_deployments"


def github_app(tmp_path: Path, fake: FakeGitHub):  # type: ignore[no-untyped-def]
    return connector_app(
        tmp_path, [GITHUB], {"github": fake.transport}, now=NOW, env={"GITHUB_TOKEN": TOKEN}
    )


def github_writes(fake: FakeGitHub) -> list[tuple[str, str, object]]:
    """Every request that could change something: GraphQL queries are POSTed but only read."""
    return [(r.method, r.path, r.json) for r in fake.requests if r.method != "GET" and not _read(r)]


def _read(request: object) -> bool:
    body = getattr(request, "json", None)
    query = body.get("query", "") if isinstance(body, dict) else ""
    return str(getattr(request, "path", "")).endswith("/graphql") and not query.lstrip().startswith(
        "mutation"
    )


async def test_github_approve_a_pending_deployment_from_the_approvals_view(tmp_path: Path) -> None:
    fake = FakeGitHub()
    app = github_app(tmp_path, fake)
    reason = "smoke tests green on staging"
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("2")
        runs = app.screen.query_one("#runs", LiveTable)
        assert runs.keys[:4] == [
            "acme/shop#10512400990",
            "acme/shop#10512211032",
            SHOP_RUN,
            "acme/payments#10512350500",
        ]
        status, stage = runs.cell_texts(SHOP_RUN)[1:3]
        assert (status.split()[-1], stage) == ("waiting", "deploy-production")  # after a glyph
        await pilot.press("6")
        await select(pilot, app.screen.query_one("#approvals", LiveTable), SHOP_APPROVAL)
        dialog = await open_dialog(pilot, app, "a")
        assert dialog.plan.title == "Approve shop v2.3.1 → 7c1f0e9 in PROD (production)"
        await fill_and_confirm(pilot, app, reason, "shop")
        snap = app.hub.snapshot
        assert SHOP_APPROVAL not in {a.id for a in snap.approvals}
        assert snap.runs[SHOP_RUN].status is Status.RUNNING
        deployment = snap.cell("shop", "prod").deployment
        assert deployment is not None and (deployment.version, deployment.status) == (
            "7c1f0e9",
            Status.QUEUED,
        )
        assert SHOP_APPROVAL not in app.screen.query_one("#approvals", LiveTable).keys
    assert github_writes(fake) == [
        (
            "POST",
            SHOP_REVIEW,
            {"environment_ids": [161171787], "state": "approved", "comment": reason},
        )
    ]
    got = action_records(app, "approve")
    assert set(got) == {EventType.ACTION_REQUESTED, EventType.ACTION_SUCCEEDED}
    for record in got.values():
        assert record.reason == reason and record.actor.user == "alice"
        assert target_of(record) == ("shop", "prod", "github", SHOP_REMOTE)
        assert versions_of(record) == ("v2.3.1", "7c1f0e9")
    done = got[EventType.ACTION_SUCCEEDED]
    assert done.extra["remote_id"] == SHOP_REMOTE
    assert (
        done.extra["result"]
        == "approved acme/shop run 10512344871 for environment 161171787; deployment 1890000005"
    )


async def test_github_approve_the_run_waiting_in_the_pipelines_view(tmp_path: Path) -> None:
    fake = FakeGitHub()
    app = github_app(tmp_path, fake)
    reason = "release 412 signed off by QA"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        runs = app.screen.query_one("#runs", LiveTable)
        await select(pilot, runs, SHOP_RUN)
        dialog = await open_dialog(pilot, app, "a")
        assert dialog.plan.action.approval_id == SHOP_APPROVAL
        await fill_and_confirm(pilot, app, reason, "shop")
        assert runs.cell_texts(SHOP_RUN)[1].endswith(" running")
    assert github_writes(fake) == [
        (
            "POST",
            SHOP_REVIEW,
            {"environment_ids": [161171787], "state": "approved", "comment": reason},
        )
    ]
    done = action_records(app, "approve")[EventType.ACTION_SUCCEEDED]
    assert done.reason == reason
    assert target_of(done) == ("shop", "prod", "github", SHOP_REMOTE)


async def test_github_reject_a_pending_deployment(tmp_path: Path) -> None:
    fake = FakeGitHub()
    app = github_app(tmp_path, fake)
    reason = "wrong build: staging soak not finished"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")
        await select(pilot, app.screen.query_one("#approvals", LiveTable), SHOP_APPROVAL)
        dialog = await open_dialog(pilot, app, "x")
        assert dialog.plan.action.kind.value == "reject"
        await fill_and_confirm(pilot, app, reason, "shop")
        snap = app.hub.snapshot
        assert SHOP_APPROVAL not in {a.id for a in snap.approvals}
        assert snap.runs[SHOP_RUN].status is Status.FAILED
    assert github_writes(fake) == [
        (
            "POST",
            SHOP_REVIEW,
            {"environment_ids": [161171787], "state": "rejected", "comment": reason},
        )
    ]
    got = action_records(app, "reject")
    assert set(got) == {EventType.ACTION_REQUESTED, EventType.ACTION_SUCCEEDED}
    done = got[EventType.ACTION_SUCCEEDED]
    assert done.reason == reason and done.extra["remote_id"] == SHOP_REMOTE
    assert target_of(done) == ("shop", "prod", "github", SHOP_REMOTE)
    assert done.extra["result"].startswith("rejected acme/shop run 10512344871")


async def test_github_refusing_a_review_is_a_failed_action_with_githubs_words(
    tmp_path: Path,
) -> None:
    """The token's user is not a reviewer of payments' staging: GitHub answers 422."""
    fake = FakeGitHub()
    app = github_app(tmp_path, fake)
    key = "acme/payments/run:10512350500/env:170100202"
    toasts = Toasts()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        await pilot.press("6")
        await select(pilot, app.screen.query_one("#approvals", LiveTable), key)
        await open_dialog(pilot, app, "a")
        await fill_and_confirm(pilot, app, "payments release 77 looks fine", None)
        assert key in {a.id for a in app.hub.snapshot.approvals}
        messages = [n.message for n in toasts]
    assert [
        (r.method, r.path, r.status) for r in fake.requests if r.method == "POST" and not _read(r)
    ] == [("POST", "/repos/acme/payments/actions/runs/10512350500/pending_deployments", 422)]
    got = action_records(app, "approve")
    assert set(got) == {EventType.ACTION_REQUESTED, EventType.ACTION_FAILED}
    error = got[EventType.ACTION_FAILED].extra["error"]
    assert error.startswith("Rejected: ") and "not allowed to review these environments" in error
    assert any("not allowed to review these environments" in m for m in messages)
