"""GitHub connector: the contract kit, options, and recorded payloads mapped to domain objects."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from cockpit import config
from cockpit.clock import FixedClock
from cockpit.connect import options as opt
from cockpit.errors import ConfigError
from cockpit.model import GateStatus, Health, Observation, Status
from cockpit.testing import ConnectorContract
from connectors.github import GitHubConnector, mapping
from tests.fixtures.github.fake import NOW, OPTIONS, TOKEN, FakeGitHub, connected, load


class TestGitHubContract(ConnectorContract):
    connector_class = GitHubConnector
    options = OPTIONS
    env = {"GITHUB_TOKEN": TOKEN}

    def transport(self) -> httpx.MockTransport:
        return FakeGitHub().transport()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


async def observe(clock: FixedClock, fake: FakeGitHub | None = None, **kw: Any) -> Observation:
    async with connected(fake or FakeGitHub(), clock, **kw) as connector:
        return await connector.poll()


def t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


# Options ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"repositories": ["acme/shop"], "token": "ghp_literal0123"}, "never as the value"),
        ({"repositories": ["acme"], "token": "env:T"}, "owner/repo"),
        ({"repositories": [], "token": "env:T"}, "at least one"),
        ({"repositories": ["acme/shop", "ACME/shop"], "token": "env:T"}, "repeat"),
        (
            {"repositories": ["acme/shop"], "token": "env:T", "runs_per_repo": 0},
            "between 1 and 100",
        ),
        (
            # 100 with the GraphQL query beside them would pass GitHub's cap.
            {"repositories": ["acme/shop"], "token": "env:T", "concurrency": 100},
            "between 1 and 99",
        ),
        (
            {"repositories": ["acme/shop"], "token": "env:T", "services": {"acme/x": "x"}},
            "not watched",
        ),
        ({"repositories": ["acme/shop"], "token": "env:T", "base_url": "ghe.example"}, "http(s)"),
        (
            {"repositories": ["acme/shop"], "token": "env:T", "brnach": "main"},
            "did you mean 'branch'",
        ),
        ({"repositories": ["acme/shop"]}, "missing required key 'token'"),
    ],
)
def test_options_are_validated(data: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        opt.parse(GitHubConnector.Options, data)
    assert problem in str(err.value)


def test_names_map_with_sensible_defaults_and_overrides() -> None:
    o = opt.parse(GitHubConnector.Options, OPTIONS)
    shop, payments = o.repositories
    assert (o.service(shop), o.service(payments)) == ("shop", "payments-api")
    assert [o.environment(n) for n in ("production", "Production", "staging", "development")] == [
        "prod",
        "prod",
        "staging",
        "dev",
    ]
    assert o.environment("qa-eu") == "qa-eu"
    o = opt.parse(
        GitHubConnector.Options,
        {
            **OPTIONS,
            "environments": {"Production": "live"},
            "services": {"acme/shop": "storefront"},
        },
    )
    assert o.environment("production") == "live"
    assert o.service(o.repositories[0]) == "storefront"


# Statuses ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("state", "conclusion", "expected"),
    [
        ("queued", None, Status.QUEUED),
        ("requested", None, Status.QUEUED),
        ("pending", None, Status.QUEUED),
        ("in_progress", None, Status.RUNNING),
        ("waiting", None, Status.WAITING),
        ("completed", "success", Status.SUCCEEDED),
        ("completed", "neutral", Status.SUCCEEDED),
        ("completed", "failure", Status.FAILED),
        ("completed", "timed_out", Status.FAILED),
        ("completed", "startup_failure", Status.FAILED),
        ("completed", "cancelled", Status.CANCELLED),
        ("completed", "stale", Status.CANCELLED),
        ("completed", "skipped", Status.SKIPPED),
        ("completed", "action_required", Status.WAITING),
        ("completed", None, Status.UNKNOWN),
        ("something_new", None, Status.UNKNOWN),
    ],
)
def test_status_and_conclusion_map_onto_one_status(
    state: str, conclusion: str | None, expected: Status
) -> None:
    assert mapping.status(state, conclusion) is expected


# Runs and stages --------------------------------------------------------------------------
async def test_workflow_runs_and_jobs_become_pipeline_runs(clock: FixedClock) -> None:
    obs = await observe(clock)
    runs = {r.id: r for r in obs.runs}
    assert len(runs) == 8
    waiting = runs["acme/shop#10512344871"]
    raw = load("acme-shop/runs.json")["workflow_runs"][0]
    assert (waiting.service, waiting.pipeline, waiting.number) == ("shop", "Deploy", 412)
    assert waiting.status is Status.WAITING
    assert (waiting.author, waiting.branch, waiting.commit) == ("dev-ana", "main", raw["head_sha"])
    assert waiting.message.startswith("Release v2.4.0")
    assert waiting.version == "7c1f0e9"
    assert waiting.queued_at == t(raw["created_at"]) and waiting.started_at == t(
        raw["run_started_at"]
    )
    assert waiting.finished_at is None
    assert waiting.url == "https://github.com/acme/shop/actions/runs/10512344871"
    assert [(s.name, s.status) for s in waiting.stages] == [
        ("build", Status.SUCCEEDED),
        ("deploy-staging", Status.SUCCEEDED),
        ("deploy-production", Status.WAITING),
    ]
    held = waiting.stages[-1]
    assert held.waiting_for_approval and held.environment == "prod"
    assert waiting.current_stage == held

    running = runs["acme/shop#10512211032"]
    assert running.status is Status.RUNNING
    assert running.stages[1].name == "test [step 3/4: Run pytest]"
    failed = runs["acme/shop#10511987345"]
    assert failed.status is Status.FAILED
    assert failed.stages[1].name == "test [failed: Run pytest]"
    assert failed.finished_at == t("2026-08-24T08:47:31Z")
    assert runs["acme/shop#10511800001"].version == "v2.3.1", "a tag names the version"
    assert runs["acme/shop#10511700002"].status is Status.CANCELLED
    assert runs["acme/shop#10511700002"].author == "dependabot[bot]"
    assert runs["acme/shop#10512400990"].status is Status.QUEUED
    payments = runs["acme/payments#10512350500"]
    assert payments.service == "payments-api"
    assert payments.stages[-1].environment == "staging", "matched by the job's name"
    for run in obs.runs:
        assert run.source == "github" and run.observed_at == NOW


# Deployments ------------------------------------------------------------------------------
async def test_deployments_and_latest_statuses_become_deployments_with_history(
    clock: FixedClock,
) -> None:
    obs = await observe(clock)
    deps = {d.key: d for d in obs.deployments}
    assert set(deps) == {
        ("shop", "prod"),
        ("shop", "staging"),
        ("shop", "dev"),
        ("payments-api", "prod"),
    }
    prod = deps["shop", "prod"]
    assert (prod.version, prod.status, prod.health) == ("v2.3.1", Status.SUCCEEDED, Health.HEALTHY)
    assert prod.remote_id == "1882990010" and prod.deployed_by == "github-actions[bot]"
    assert prod.deployed_at == t("2026-08-20T14:30:09Z") and prod.message == "Deployed v2.3.1"
    assert [(r.version, r.id, r.deployed_by) for r in prod.history] == [
        ("v2.3.0", "1882500001", "dev-ana")
    ]
    staging = deps["shop", "staging"]
    assert staging.version == "7c1f0e9" and staging.health is Health.HEALTHY
    assert [r.version for r in staging.history] == ["v2.3.1"], "the inactive one is history"
    dev = deps["shop", "dev"]
    assert (dev.status, dev.health) == (Status.FAILED, Health.DEGRADED)
    assert "Helm upgrade failed" in dev.message and dev.deployed_by == "bo-lindqvist"
    assert deps["payments-api", "prod"].version == "1.8.2", "payload.version wins over the sha"


@pytest.mark.parametrize(
    ("state", "status", "health"),
    [
        ("error", Status.FAILED, Health.DEGRADED),
        ("in_progress", Status.RUNNING, Health.PROGRESSING),
        ("queued", Status.QUEUED, Health.PROGRESSING),
        ("pending", Status.QUEUED, Health.PROGRESSING),
        (None, Status.QUEUED, Health.PROGRESSING),  # no status yet
    ],
)
async def test_deployment_states_map_onto_status_and_health(
    clock: FixedClock, state: str | None, status: Status, health: Health
) -> None:
    fake = FakeGitHub()
    statuses = fake.repos["acme/payments"].statuses[1882000555]
    if state is None:
        statuses.clear()
    else:
        statuses.insert(0, {**statuses[0], "id": statuses[0]["id"] + 1, "state": state})
    dep = next(d for d in (await observe(clock, fake)).deployments if d.service == "payments-api")
    assert (dep.status, dep.health) == (status, health)


async def test_two_repositories_of_one_service_show_the_newest_deployment(
    clock: FixedClock,
) -> None:
    obs = await observe(
        clock, repositories=["acme/shop", {"repo": "acme/payments", "service": "shop"}]
    )
    prod = [d for d in obs.deployments if d.key == ("shop", "prod")]
    assert [(d.version, d.remote_id) for d in prod] == [("1.8.2", "1882000555")]


async def test_an_inactive_newest_deployment_hands_over_to_the_one_before(
    clock: FixedClock,
) -> None:
    fake = FakeGitHub()
    shop = fake.repos["acme/shop"]
    newest = shop.statuses[1883004121]
    newest.insert(0, {**newest[0], "id": 2710332999, "state": "inactive"})
    shop.statuses[1882990002] = [s for s in shop.statuses[1882990002] if s["state"] != "inactive"]
    deps = {d.key: d for d in (await observe(clock, fake)).deployments}
    assert deps["shop", "staging"].version == "v2.3.1"
    assert deps["shop", "staging"].remote_id == "1882990002"
    shop.statuses[1882990002].insert(0, {**newest[0], "id": 2710333000})
    deps = {d.key: d for d in (await observe(clock, fake)).deployments}
    assert ("shop", "staging") not in deps, "every recent deployment taken down: nothing live"


# Environments and pending reviews ---------------------------------------------------------
async def test_protection_rules_read_as_words_per_environment(clock: FixedClock) -> None:
    info = {e.name: e.protection for e in (await observe(clock)).environments}
    assert info["prod"] == (
        "wait timer 15m (acme/shop)",
        "required reviewers (any 1 of 2): release-lead, team:sre (acme/shop)",
        "prevent self-review",
        "protected branches only (acme/shop)",
        "admins cannot bypass",
        "required reviewer: team:payments-leads (acme/payments)",
        "wait timer 1h30m (acme/payments)",
    )
    assert info["staging"] == ("required reviewer: team:payments-leads (acme/payments)",)
    assert info["dev"] == ()
    single = {
        e.name: e.protection
        for e in (await observe(clock, repositories=["acme/shop"])).environments
    }
    assert single["prod"][:2] == (
        "wait timer 15m",
        "required reviewers (any 1 of 2): release-lead, team:sre",
    )


async def test_pending_deployments_become_pending_approvals(clock: FixedClock) -> None:
    approvals = {a.id: a for a in (await observe(clock)).approvals}
    assert set(approvals) == {
        "acme/shop/run:10512344871/env:161171787",
        "acme/payments/run:10512350500/env:170100202",
    }
    shop = approvals["acme/shop/run:10512344871/env:161171787"]
    assert (shop.service, shop.environment, shop.kind) == ("shop", "prod", "deployment")
    assert shop.remote_id == "run:10512344871/env:161171787"
    assert shop.run_id == "acme/shop#10512344871" and shop.version == "7c1f0e9"
    assert shop.requested_by == "dev-ana" and shop.required == 1
    assert shop.requested_at == t("2026-08-24T09:14:40Z")
    assert shop.title == "shop: Deploy #412 to production"
    assert [(g.name, g.status) for g in shop.gates] == [
        ("GitHub reviewer", GateStatus.PASS),
        ("GitHub wait timer", GateStatus.PASS),
    ]
    payments = approvals["acme/payments/run:10512350500/env:170100202"]
    assert payments.environment == "staging"
    assert payments.gates[0].status is GateStatus.FAIL
    assert "is not a required reviewer (team:payments-leads)" in payments.gates[0].evidence
    assert payments.requested_at == t("2026-08-24T09:02:30Z"), (
        "no timer: when the job began waiting"
    )


async def test_a_wait_timer_still_running_is_not_yet_passed() -> None:
    early = FixedClock(datetime(2026, 8, 24, 9, 20, tzinfo=UTC))
    shop = next(a for a in (await observe(early)).approvals if a.service == "shop")
    assert shop.gates[1].status is GateStatus.UNKNOWN
    assert shop.gates[1].evidence == "wait timer 15m since 2026-08-24T09:14:40Z"


# Filters and GitHub Enterprise Server -----------------------------------------------------
async def test_workflow_and_branch_filters_are_sent_to_github(clock: FixedClock) -> None:
    fake = FakeGitHub()
    obs = await observe(
        clock, fake, repositories=["acme/shop"], workflows=["deploy.yml"], branch="main"
    )
    assert [r.id for r in obs.runs] == ["acme/shop#10512344871"]
    asked = [r for r in fake.requests if "/runs" in r.path and r.path.endswith("/runs")]
    assert [(r.path, r.query) for r in asked] == [
        ("/repos/acme/shop/actions/workflows/deploy.yml/runs", {"per_page": "20", "branch": "main"})
    ]


async def test_enterprise_server_base_url_and_pinned_headers(clock: FixedClock) -> None:
    fake = FakeGitHub(prefix="/api/v3")
    obs = await observe(clock, fake, base_url="https://ghe.acme.example/api/v3")
    assert len(obs.runs) == 8
    first = next(r for r in fake.requests if r.method == "GET")
    assert first.path.startswith("/api/v3/repos/")
    # GitHub Enterprise Server answers GraphQL beside the REST API, at /api/graphql.
    assert {r.path for r in fake.requests if r.method == "POST"} == {"/api/graphql"}
    assert first.headers["accept"] == "application/vnd.github+json"
    assert first.headers["x-github-api-version"] == "2022-11-28"
    assert first.headers["authorization"] == f"Bearer {TOKEN}"


# Documentation ----------------------------------------------------------------------------
def test_the_documented_example_configs_load(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs/connectors/github.md").read_text()
    examples = re.findall(r"```yaml\n(.*?)```", doc, re.S)
    assert len(examples) == 2
    for i, text in enumerate(examples):
        path = tmp_path / f"example{i}.yaml"
        path.write_text(text)
        settings = config.load(str(path), env={"GITHUB_TOKEN": TOKEN}, resolve_secrets=False)
        assert {s.type for s in settings.connectors} == {"github"}
