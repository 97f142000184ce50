"""Jenkins actions: proceed and abort send exactly the documented input-step requests."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cockpit.errors import Rejected, Unauthorized
from cockpit.model import Action, ActionKind
from tests.fixtures.jenkins import fake as jk
from tests.fixtures.jenkins.fake import CRUMB, SESSION, JenkinsFake

REASON = "CAB-2291 approved; canary clean for 30 minutes"
DEPLOY = "input:shop-release/16/Deploy-prod"
PROMOTE = "input:payments/api-deploy/8/Promote"


def act(kind: ActionKind, remote_id: str = "", **kw: Any) -> Action:
    return Action(kind, "shop", "prod", source="jenkins", remote_id=remote_id, **kw)


async def test_approve_proceeds_with_the_parameters_and_the_reason() -> None:
    fake = JenkinsFake()
    async with jk.connector(fake) as c:
        result = await c.execute(
            act(ActionKind.APPROVE, DEPLOY, reason=REASON, params=(("TICKET", "CAB-2291"),))
        )
        left = [a.remote_id for a in await c.approvals()]
    ((path, form),) = fake.posts()
    assert path == "/jenkins/job/shop-release/16/input/Deploy-prod/proceed"
    assert json.loads(form["json"][0]) == {
        "parameter": [{"name": "TICKET", "value": "CAB-2291"}, {"name": "REASON", "value": REASON}]
    }
    post = next(r for r in fake.requests if r.method == "POST")
    assert post.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "jenkins-crumb" not in post.headers  # API-token requests need no crumb
    assert result.ok and result.remote_id == DEPLOY
    assert result.message == "proceeded input Deploy-prod of shop-release #16"
    assert left == [PROMOTE]


async def test_an_input_without_parameters_is_proceeded_empty() -> None:
    fake = JenkinsFake()
    async with jk.connector(fake) as c:
        result = await c.execute(
            act(ActionKind.APPROVE, approval_id=f"jenkins:{PROMOTE}", reason=REASON)
        )
    assert fake.posts() == [
        ("/jenkins/job/payments/job/api-deploy/8/input/Promote/proceedEmpty", {})
    ]
    assert result.remote_id == PROMOTE


async def test_reject_aborts_the_input() -> None:
    fake = JenkinsFake()
    async with jk.connector(fake) as c:
        result = await c.execute(act(ActionKind.REJECT, DEPLOY, reason=REASON))
    assert fake.posts() == [("/jenkins/job/shop-release/16/input/Deploy-prod/abort", {})]
    assert result.message == "aborted input Deploy-prod of shop-release #16"
    assert result.remote_id == DEPLOY


async def test_with_crumbs_on_every_post_carries_the_crumb_and_its_session() -> None:
    fake = JenkinsFake(require_crumb=True)
    async with jk.connector(fake, crumb=True) as c:
        await c.execute(act(ActionKind.REJECT, DEPLOY, reason=REASON))
    crumb_get = [r for r in fake.requests if r.url.raw_path == b"/jenkins/crumbIssuer/api/json"]
    assert len(crumb_get) == 1
    post = next(r for r in fake.requests if r.method == "POST")
    assert post.headers["jenkins-crumb"] == CRUMB
    assert SESSION in post.headers["cookie"]


async def test_a_jenkins_that_wants_a_crumb_says_which_option_to_set_not_its_html() -> None:
    fake = JenkinsFake(require_crumb=True)
    async with jk.connector(fake) as c:
        with pytest.raises(Unauthorized) as refused:
            await c.execute(act(ActionKind.APPROVE, PROMOTE, reason=REASON))
    assert str(refused.value) == "jenkins: CSRF crumb required: set `crumb: true`"


async def test_other_refusals_of_an_input_say_forbidden_without_jenkins_html() -> None:
    fake = JenkinsFake()
    fake.fail(
        "/input/Promote/proceedEmpty", 403, "release-cockpit is missing the Job/Build permission"
    )
    async with jk.connector(fake) as c:
        with pytest.raises(Unauthorized) as refused:
            await c.execute(act(ActionKind.APPROVE, PROMOTE, reason=REASON))
    assert "<" not in str(refused.value)
    assert str(refused.value).endswith("403: release-cockpit is missing the Job/Build permission")


async def test_a_jenkins_without_csrf_protection_gets_no_crumb() -> None:
    fake = JenkinsFake()
    fake.fail("/crumbIssuer/api/json", 404, "Not Found")
    async with jk.connector(fake, crumb=True) as c:
        await c.execute(act(ActionKind.APPROVE, PROMOTE, reason=REASON))
    post = next(r for r in fake.requests if r.method == "POST")
    assert "jenkins-crumb" not in post.headers


async def test_an_input_that_no_longer_waits_is_rejected_without_posting() -> None:
    fake = JenkinsFake()
    async with jk.connector(fake) as c:
        await c.execute(act(ActionKind.APPROVE, PROMOTE, reason=REASON))
        with pytest.raises(
            Rejected, match="input Promote of payments/api-deploy #8 no longer waits"
        ):
            await c.execute(act(ActionKind.REJECT, PROMOTE, reason=REASON))
    assert len(fake.posts()) == 1


@pytest.mark.parametrize(
    "remote_id",
    ["input:other-job/3/Ok", "run:shop-release#16", "input:shop-release/16", ""],
)
async def test_only_inputs_of_configured_jobs_are_answered(remote_id: str) -> None:
    fake = JenkinsFake()
    async with jk.connector(fake) as c:
        with pytest.raises(Rejected, match="is not an input of a configured job"):
            await c.execute(act(ActionKind.APPROVE, remote_id, reason=REASON))
    assert fake.requests == []


async def test_a_failing_proceed_is_reported() -> None:
    fake = JenkinsFake()
    fake.fail(
        "/input/Deploy-prod/proceed", 500, "hudson.model.Failure: This input has been already given"
    )
    async with jk.connector(fake) as c:
        with pytest.raises(Exception, match="already given"):
            await c.execute(act(ActionKind.APPROVE, DEPLOY, reason=REASON))
