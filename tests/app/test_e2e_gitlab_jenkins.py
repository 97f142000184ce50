"""End to end from the keyboard: GitLab deployment approvals and manual jobs, Jenkins inputs.

Each test configures the connector as an operator would, against its fake, drives the TUI
with key presses, confirms the action dialog with a reason, then checks the exact request
the fake received, the audit records the executor wrote, and the next snapshot where the
fake reflects the change.
"""

from __future__ import annotations

import json
from pathlib import Path

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
from tests.fixtures.gitlab.fake import NOW as GL_NOW
from tests.fixtures.gitlab.fake import TOKEN as GL_TOKEN
from tests.fixtures.gitlab.fake import GitLabFake
from tests.fixtures.jenkins.fake import BASE as JENKINS_URL
from tests.fixtures.jenkins.fake import NOW as JK_NOW
from tests.fixtures.jenkins.fake import TOKEN as JK_TOKEN
from tests.fixtures.jenkins.fake import JenkinsFake

GITLAB = {
    "name": "gitlab",
    "type": "gitlab",
    "options": {
        "base_url": "https://gitlab.example.com",
        "token": "env:GITLAB_TOKEN",
        "projects": ["acme/shop", {"project": "acme/payments-api", "service": "payments"}],
    },
}
JENKINS = {
    "name": "jenkins",
    "type": "jenkins",
    "options": {
        "url": JENKINS_URL,
        "username": "release-cockpit",
        "api_token": "env:JENKINS_TOKEN",
        "jobs": ["shop-release", "payments/api-deploy"],
        "services": {"shop-release": "shop", "payments/api-deploy": "payments"},
    },
}

# GitLab ------------------------------------------------------------------------------------


def gitlab_app(tmp_path: Path, fake: GitLabFake):  # type: ignore[no-untyped-def]
    return connector_app(
        tmp_path, [GITLAB], {"gitlab": fake.transport}, now=GL_NOW, env={"GITLAB_TOKEN": GL_TOKEN}
    )


async def test_gitlab_approve_a_deployment_approval(tmp_path: Path) -> None:
    fake = GitLabFake()
    app = gitlab_app(tmp_path, fake)
    reason = "second approval after CAB review"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        runs = app.screen.query_one("#runs", LiveTable)
        assert runs.cell_texts("acme/shop#1874410")[1].endswith(" waiting")
        await pilot.press("6")
        table = app.screen.query_one("#approvals", LiveTable)
        assert table.keys == ["gitlab:deployment:4201"]
        assert table.cell_texts("gitlab:deployment:4201")[4] == "1/2"
        await select(pilot, table, "gitlab:deployment:4201")
        dialog = await open_dialog(pilot, app, "a")
        assert dialog.plan.title == "Approve shop 416d8ea1 → a91957a8 in PROD (production)"
        await fill_and_confirm(pilot, app, reason, "shop")
    assert fake.writes() == [
        (
            "POST",
            "/api/v4/projects/acme%2Fshop/deployments/4201/approval",
            {"status": "approved", "comment": reason},
        )
    ]
    got = action_records(app, "approve")
    assert set(got) == {EventType.ACTION_REQUESTED, EventType.ACTION_SUCCEEDED}
    for record in got.values():
        assert record.reason == reason
        assert target_of(record) == ("shop", "prod", "gitlab", "deployment:4201")
        assert versions_of(record) == ("416d8ea1", "a91957a8")
    assert (
        got[EventType.ACTION_SUCCEEDED].extra["result"] == "approved deployment 4201 of acme/shop"
    )


async def test_gitlab_promote_plays_the_manual_deploy_job(tmp_path: Path) -> None:
    """Promote shop from staging to prod: the waiting manual job deploy_production is played."""
    fake = GitLabFake()
    app = gitlab_app(tmp_path, fake)
    reason = "promote the staging build to prod"
    async with app.run_test(size=SIZE) as pilot:
        await select_cell(pilot, app, "shop", "prod")
        dialog = await open_dialog(pilot, app, "p")
        assert dialog.plan.title == "Promote shop 416d8ea1 → a91957a8 in PROD (production)"
        await fill_and_confirm(pilot, app, reason, "shop")
    # GitLab's play endpoint takes no comment: the reason lives in the cockpit's audit log.
    assert fake.writes() == [("POST", "/api/v4/projects/acme%2Fshop/jobs/99172/play", None)]
    got = action_records(app, "promote")
    assert set(got) == {EventType.ACTION_REQUESTED, EventType.ACTION_SUCCEEDED}
    done = got[EventType.ACTION_SUCCEEDED]
    assert done.reason == reason
    assert target_of(done) == ("shop", "prod", "gitlab", "job:99172")
    assert versions_of(done) == ("416d8ea1", "a91957a8")
    assert done.extra["remote_id"] == "job:99172"
    assert done.extra["result"] == "played deploy_production (job 99172) of acme/shop: pending"


# Jenkins -----------------------------------------------------------------------------------

DEPLOY_INPUT = "jenkins:input:shop-release/16/Deploy-prod"
PROMOTE_INPUT = "jenkins:input:payments/api-deploy/8/Promote"


def jenkins_app(tmp_path: Path, fake: JenkinsFake):  # type: ignore[no-untyped-def]
    return connector_app(
        tmp_path,
        [JENKINS],
        {"jenkins": fake.transport},
        now=JK_NOW,
        env={"JENKINS_TOKEN": JK_TOKEN},
    )


async def test_jenkins_approve_proceeds_the_input_with_the_reason(tmp_path: Path) -> None:
    fake = JenkinsFake()
    app = jenkins_app(tmp_path, fake)
    reason = "CAB-2291 approved, deploy now"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")
        assert app.screen.query_one("#approvals", LiveTable).keys == [DEPLOY_INPUT, PROMOTE_INPUT]
        await pilot.press("2")  # the run waiting at its input, approved from the Pipelines view
        runs = app.screen.query_one("#runs", LiveTable)
        status, stage = runs.cell_texts("shop-release#16")[1:3]
        assert (status.split()[-1], stage) == ("waiting", "Approve prod")
        await select(pilot, runs, "shop-release#16")
        dialog = await open_dialog(pilot, app, "a")
        assert dialog.plan.action.approval_id == DEPLOY_INPUT
        await fill_and_confirm(pilot, app, reason, "shop")
        assert [a.id for a in app.hub.snapshot.approvals] == [PROMOTE_INPUT]
        await pilot.press("6")
        assert app.screen.query_one("#approvals", LiveTable).keys == [PROMOTE_INPUT]
    ((path, form),) = fake.posts()
    assert path == "/jenkins/job/shop-release/16/input/Deploy-prod/proceed"
    assert json.loads(form["json"][0]) == {"parameter": [{"name": "REASON", "value": reason}]}
    got = action_records(app, "approve")
    assert set(got) == {EventType.ACTION_REQUESTED, EventType.ACTION_SUCCEEDED}
    for record in got.values():
        assert record.reason == reason
        assert target_of(record) == ("shop", "prod", "jenkins", "input:shop-release/16/Deploy-prod")
    assert (
        got[EventType.ACTION_SUCCEEDED].extra["result"]
        == "proceeded input Deploy-prod of shop-release #16"
    )


async def test_jenkins_reject_aborts_the_input(tmp_path: Path) -> None:
    fake = JenkinsFake()
    app = jenkins_app(tmp_path, fake)
    reason = "api 1.9.0 fails the load test"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")
        await select(pilot, app.screen.query_one("#approvals", LiveTable), PROMOTE_INPUT)
        await open_dialog(pilot, app, "x")
        await fill_and_confirm(pilot, app, reason, "payments")
        assert [a.id for a in app.hub.snapshot.approvals] == [DEPLOY_INPUT]
    # Jenkins' abort takes no comment: the reason lives in the cockpit's audit log.
    assert fake.posts() == [("/jenkins/job/payments/job/api-deploy/8/input/Promote/abort", {})]
    got = action_records(app, "reject")
    assert set(got) == {EventType.ACTION_REQUESTED, EventType.ACTION_SUCCEEDED}
    done = got[EventType.ACTION_SUCCEEDED]
    remote = "input:payments/api-deploy/8/Promote"
    assert done.reason == reason and done.extra["remote_id"] == remote
    assert target_of(done) == ("payments", "prod", "jenkins", remote)
