"""GitLab connector: the contract kit, and recorded payloads mapped onto cockpit facts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cockpit.errors import ConfigError
from cockpit.model import Health, Status
from cockpit.testing import ConnectorContract
from connectors.gitlab import GitLabConnector
from connectors.gitlab.mapping import DEPLOYMENT_STATUS, STATUS
from tests.fixtures.gitlab import fake as gl
from tests.fixtures.gitlab.fake import GitLabFake

# Every value of the documented enums (reference §2.3, §2.4, §2.6).
PIPELINE_STATUSES = [
    "created", "waiting_for_resource", "preparing", "waiting_for_callback", "pending", "running",
    "success", "failed", "canceling", "canceled", "skipped", "manual", "scheduled",
]  # fmt: skip
DEPLOYMENT_STATUSES = ["created", "running", "success", "failed", "canceled", "blocked"]


class TestGitLabContract(ConnectorContract):
    connector_class = GitLabConnector
    options = gl.OPTIONS
    env = gl.ENV
    now = gl.NOW

    def transport(self) -> Any:
        return GitLabFake().transport()


@pytest.mark.parametrize("value", PIPELINE_STATUSES)
def test_every_pipeline_and_job_status_has_a_meaning(value: str) -> None:
    assert STATUS[value] is not Status.UNKNOWN


@pytest.mark.parametrize("value", DEPLOYMENT_STATUSES)
def test_every_deployment_status_has_a_meaning(value: str) -> None:
    assert DEPLOYMENT_STATUS[value] is not Status.UNKNOWN


def test_queued_waiting_and_running_states_map_as_the_brief_says() -> None:
    queued = {"created", "waiting_for_resource", "preparing", "pending"}
    assert {s for s in queued if STATUS[s] is Status.QUEUED} == queued
    assert STATUS["manual"] is Status.WAITING
    assert STATUS["running"] is Status.RUNNING
    assert DEPLOYMENT_STATUS["blocked"] is Status.WAITING


async def test_pipelines_become_runs_with_stages_from_jobs() -> None:
    async with gl.connector(GitLabFake()) as c:
        runs = {r.id: r for r in await c.pipelines()}
    assert len(runs) == 11
    release = runs["acme/shop#1874410"]
    assert (release.number, release.service, release.pipeline) == (512, "shop", "Release pipeline")
    assert release.status is Status.WAITING
    assert (release.author, release.branch) == ("dev-ana", "main")
    assert release.commit == "a91957a858320c0e17f3a0eca7cfacbff50ea29a"
    assert release.version == "a91957a8"
    assert release.message == "Release 2.4.0: new checkout flow"
    assert release.url == "https://gitlab.example.com/acme/shop/-/pipelines/1874410"
    assert release.queued_at == datetime(2026, 8, 24, 9, 0, 11, 204000, tzinfo=UTC)
    assert release.started_at == datetime(2026, 8, 24, 9, 0, 14, 512000, tzinfo=UTC)
    assert release.finished_at is None
    stages = [(s.name, s.status, s.waiting_for_approval, s.environment) for s in release.stages]
    assert stages == [
        ("build", Status.SUCCEEDED, False, ""),
        # test:lint failed but may fail (allow_failure), so the stage passed
        ("test", Status.SUCCEEDED, False, ""),
        # deploy_production is a manual job linked to the blocked production deployment
        ("deploy", Status.WAITING, True, "prod"),
    ]
    assert release.current_stage is not None and release.current_stage.name == "deploy"

    failed = runs["acme/shop#1874377"]
    assert failed.status is Status.FAILED
    assert [s.status for s in failed.stages] == [Status.SUCCEEDED, Status.FAILED, Status.SKIPPED]
    assert failed.finished_at == datetime(2026, 8, 23, 16, 20, 40, tzinfo=UTC)
    assert runs["acme/shop#1874402"].stages[1].status is Status.RUNNING
    assert runs["acme/shop#1874402"].stages[2].environment == ""  # review apps are ignored
    assert runs["acme/shop#1874398"].status is Status.QUEUED
    assert runs["acme/shop#1874415"].status is Status.QUEUED  # waiting_for_resource
    assert runs["acme/shop#1874350"].status is Status.CANCELLED
    assert runs["acme/shop#1874300"].status is Status.SKIPPED
    assert runs["acme/shop#1874322"].status is Status.SUCCEEDED
    assert runs["acme/payments-api#1874412"].service == "payments"
    assert runs["acme/payments-api#1874412"].stages[1].environment == "staging"  # "deploy-staging"
    assert all(r.source == "gitlab" for r in runs.values())


async def test_deployments_per_environment_with_history_and_the_blocked_one_noted() -> None:
    async with gl.connector(GitLabFake()) as c:
        deployments = {d.key: d for d in await c.deployments()}
    assert set(deployments) == {
        ("shop", "prod"),
        ("shop", "staging"),
        ("payments", "prod"),
        ("payments", "staging"),
    }
    prod = deployments[("shop", "prod")]
    assert prod.version == "416d8ea1"  # the newest success still runs
    assert prod.status is Status.WAITING and prod.health is Health.SUSPENDED  # blocked
    assert prod.message == "deployment 4201 of a91957a8: blocked"
    assert prod.deployed_by == "dev-ana"
    assert prod.remote_id == "deployment:4113"
    assert [(r.version, r.id) for r in prod.history] == [
        ("9f8e7d6c", "4001")
    ]  # failed 4060 left out
    staging = deployments[("payments", "staging")]
    assert staging.status is Status.RUNNING and staging.health is Health.PROGRESSING
    assert staging.version == "7f6e5d4c"


async def test_blocked_deployment_is_a_pending_approval_with_rules_and_approvers() -> None:
    async with gl.connector(GitLabFake()) as c:
        (approval,) = await c.approvals()
    assert approval.id == "gitlab:deployment:4201"
    assert approval.remote_id == "deployment:4201"
    assert (approval.service, approval.environment, approval.kind) == ("shop", "prod", "deployment")
    assert approval.title == "Deploy shop a91957a8 to production"
    assert approval.requested_by == "dev-ana"
    assert approval.run_id == "acme/shop#1874410"
    assert approval.required == 2
    assert approval.approvals == ("ops-kim",)


async def test_protection_rules_in_words_and_why_they_are_unknown() -> None:
    async with gl.connector(GitLabFake()) as c:
        infos = {e.name: e.protection for e in await c.environments()}
    assert infos["prod"] == (
        "acme/shop: 2 approvals required from group:release-managers",
        "acme/shop: deploy allowed for Maintainers",
        "acme/payments-api: protection rules unknown: no protected environments API (GitLab Free?)",
    )
    fake = GitLabFake()
    fake.fail("protected_environments", 403, {"message": "403 Forbidden"}, times=5)
    async with gl.connector(fake, projects=["acme/shop"]) as c:
        (info,) = [e for e in await c.environments() if e.name == "prod"]
    assert info.protection == ("protection rules unknown: reading them needs the Maintainer role",)


async def test_environment_mapping_is_configurable() -> None:
    overrides = {"environments": {"production": "live", "review/*": "review"}}
    async with gl.connector(GitLabFake(), projects=["acme/shop"], **overrides) as c:
        keys = {d.key for d in await c.deployments()}
    assert keys == {("shop", "live"), ("shop", "staging"), ("shop", "review")}
    opts = gl.options(environments={"eu-prod": "prod"})
    assert opts.environment_of("production") == "prod"
    assert opts.environment_of("prod-eu-2", "production") == "prod"  # by tier
    assert opts.environment_of("qa") == "qa"  # others keep their name
    assert opts.environment_of("review/fix-1", "development") is None


def test_services_default_to_the_project_name_and_can_be_mapped() -> None:
    opts = gl.options(services={"acme/shop": "storefront"})
    assert [opts.service_of(p) for p in opts.projects] == ["storefront", "payments"]
    assert gl.options().service_of(gl.options().projects[0]) == "shop"
    assert gl.options(base_url="https://git.corp.example/api/v4/").api_root == (
        "https://git.corp.example/api/v4"
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"token": "glpat-literal"}, "never as the value itself"),
        ({"projects": []}, "at least one project"),
        ({"projects": ["shop"]}, "not 'group/project'"),
        ({"projects": ["acme/shop", "acme/shop"]}, "listed twice"),
        ({"base_url": "gitlab.example.com"}, "https://"),
        ({"pipelines_per_project": 0}, "pipelines_per_project"),
        ({"auth": "basic"}, "one of"),
        ({"projekts": ["acme/shop"]}, "did you mean 'projects'"),
    ],
)
def test_bad_options_are_refused_with_a_reason(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        gl.options(**overrides)


async def test_bearer_auth_is_accepted_too() -> None:
    fake = GitLabFake()
    async with gl.connector(fake, auth="bearer", projects=["acme/shop"]) as c:
        assert await c.pipelines()
    assert fake.requests[0].headers["authorization"] == f"Bearer {gl.TOKEN}"
    assert "private-token" not in fake.requests[0].headers
