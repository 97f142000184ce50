"""Jenkins connector: the contract kit, and recorded wfapi payloads mapped onto cockpit facts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cockpit.errors import ConfigError
from cockpit.model import Status
from cockpit.testing import ConnectorContract
from connectors.jenkins import JenkinsConnector
from connectors.jenkins.mapping import STATUS, millis
from connectors.jenkins.options import job_path
from tests.fixtures.jenkins import fake as jk
from tests.fixtures.jenkins.fake import JenkinsFake

# The wfapi status enum (reference §6.2) and QUEUED, which the stage-view code also knows.
WFAPI = {
    "SUCCESS": Status.SUCCEEDED,
    "FAILED": Status.FAILED,
    "UNSTABLE": Status.FAILED,
    "ABORTED": Status.CANCELLED,
    "IN_PROGRESS": Status.RUNNING,
    "PAUSED_PENDING_INPUT": Status.WAITING,
    "NOT_EXECUTED": Status.SKIPPED,
    "QUEUED": Status.QUEUED,
}


class TestJenkinsContract(ConnectorContract):
    connector_class = JenkinsConnector
    options = jk.OPTIONS
    env = jk.ENV
    now = jk.NOW

    def transport(self) -> Any:
        return JenkinsFake().transport()


@pytest.mark.parametrize(("wfapi", "status"), list(WFAPI.items()))
def test_every_wfapi_status_maps(wfapi: str, status: Status) -> None:
    assert STATUS[wfapi] is status


def test_timestamps_are_epoch_milliseconds() -> None:
    assert millis(1787562000000) == datetime(2026, 8, 24, 9, 0, tzinfo=UTC)
    assert millis(0) is None and millis(None) is None


async def test_runs_and_stages_from_wfapi() -> None:
    async with jk.connector(JenkinsFake()) as c:
        runs = {r.id: r for r in await c.pipelines()}
    assert list(runs) == [
        "shop-release#17",
        "shop-release#16",
        "shop-release#15",
        "shop-release#14",
        "shop-release#13",
        "shop-release#12",
        "payments/api-deploy#8",
        "payments/api-deploy#7",
    ]
    paused = runs["shop-release#16"]
    assert (paused.service, paused.pipeline, paused.number) == ("shop", "shop-release", 16)
    assert paused.status is Status.WAITING
    assert paused.started_at == datetime(2026, 8, 24, 9, 0, tzinfo=UTC)
    assert paused.queued_at == datetime(2026, 8, 24, 8, 59, 59, 988000, tzinfo=UTC)
    assert paused.finished_at is None
    assert paused.url == "https://ci.acme.example/jenkins/job/shop-release/16/"
    assert [(s.name, s.status, s.waiting_for_approval, s.environment) for s in paused.stages] == [
        ("Build", Status.SUCCEEDED, False, ""),
        ("Test", Status.SUCCEEDED, False, ""),
        ("Approve prod", Status.WAITING, True, "prod"),
    ]
    assert paused.current_stage is not None and paused.current_stage.name == "Approve prod"
    done = runs["shop-release#15"]
    assert done.status is Status.SUCCEEDED
    assert done.finished_at == datetime(2026, 8, 23, 13, 21, tzinfo=UTC)  # start + 1260 s
    failed = runs["shop-release#14"]
    assert [s.status for s in failed.stages] == [
        Status.SUCCEEDED,
        Status.FAILED,
        Status.SKIPPED,
        Status.SKIPPED,
    ]
    assert failed.stages[2].started_at is None  # NOT_EXECUTED never started
    assert runs["shop-release#13"].status is Status.CANCELLED
    assert runs["shop-release#12"].status is Status.FAILED  # UNSTABLE is not green
    assert runs["shop-release#17"].status is Status.RUNNING
    folder = runs["payments/api-deploy#8"]
    assert folder.service == "api-deploy"  # default: the job's own name
    assert folder.url == "https://ci.acme.example/jenkins/job/payments/job/api-deploy/8/"
    assert folder.stages[1].environment == "staging"


async def test_each_waiting_input_is_a_pending_approval() -> None:
    async with jk.connector(JenkinsFake()) as c:
        approvals = {a.remote_id: a for a in await c.approvals()}
    assert set(approvals) == {
        "input:shop-release/16/Deploy-prod",
        "input:payments/api-deploy/8/Promote",
    }
    deploy = approvals["input:shop-release/16/Deploy-prod"]
    assert deploy.id == "jenkins:input:shop-release/16/Deploy-prod"
    assert (deploy.service, deploy.environment, deploy.kind) == ("shop", "prod", "input")
    assert deploy.title == "Deploy v2.4.0 to production?"
    assert deploy.run_id == "shop-release#16"
    assert deploy.requested_at == datetime(2026, 8, 24, 9, 3, 10, tzinfo=UTC)  # the pause began
    assert deploy.required == 1 and deploy.source == "jenkins"
    promote = approvals["input:payments/api-deploy/8/Promote"]
    assert promote.environment == "prod"  # "Promote to production"


async def test_runs_per_job_keeps_the_newest() -> None:
    async with jk.connector(JenkinsFake(), runs_per_job=2) as c:
        runs = [r.id for r in await c.pipelines()]
    assert runs == [
        "shop-release#17",
        "shop-release#16",
        "payments/api-deploy#8",
        "payments/api-deploy#7",
    ]


def test_job_paths_address_folders_and_encode_names() -> None:
    assert job_path("shop-release") == "job/shop-release"
    assert job_path("payments/api-deploy") == "job/payments/job/api-deploy"
    assert job_path("team x/déploy") == "job/team%20x/job/d%C3%A9ploy"


def test_environments_come_from_words_in_stage_names_and_messages() -> None:
    opts = jk.options(environments={"live": "prod", "uat": "staging"})
    assert opts.environment_in("Approve prod") == "prod"
    assert opts.environment_in("Go live?") == "prod"
    assert opts.environment_in("Deploy to UAT") == "staging"
    assert opts.environment_in("Product review") == ""  # "prod" only as a whole word
    assert opts.environment_in("Sign-off", "Deploy v2 to staging?") == "staging"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"api_token": "11d5e3c0a6b94f27"}, "never as the value itself"),
        ({"jobs": []}, "at least one job"),
        ({"jobs": ["/shop"]}, "not a job path"),
        ({"jobs": ["shop", "shop"]}, "listed twice"),
        ({"url": "ci.acme.example"}, "https://"),
        ({"runs_per_job": 0}, "runs_per_job"),
        ({"crumbs": True}, "did you mean 'crumb'"),
    ],
)
def test_bad_options_are_refused_with_a_reason(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        jk.options(**overrides)


async def test_basic_auth_carries_the_api_token() -> None:
    fake = JenkinsFake()
    async with jk.connector(fake) as c:
        await c.pipelines()
    assert fake.requests[0].headers["authorization"].startswith("Basic ")
    assert fake.requests[0].url.raw_path == b"/jenkins/job/shop-release/wfapi/runs"
