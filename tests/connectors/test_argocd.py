"""The Argo CD connector against recorded payloads: contract, mapping, drift, windows, actions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from cockpit.clock import FixedClock
from cockpit.connect.options import parse, secrets_of
from cockpit.errors import ConfigError, Rejected, Unreachable
from cockpit.model import (
    EPOCH,
    Action,
    ActionKind,
    ChangeWindow,
    Deployment,
    DriftItem,
    Health,
    Status,
)
from cockpit.testing import ConnectorContract
from connectors.argocd import ArgoCDConnector, ArgoCDOptions, diff, windows
from tests.fixtures.argocd.fake import NOW, TOKEN, FakeArgoCD

OPTIONS: dict[str, Any] = {
    "url": "https://argocd.example.com",
    "token": "env:ARGOCD_TOKEN",
    "projects": ["shop", "payments", "data"],
    "environments": {"production": "prod", "search-prd": "prod"},
}
ENV = {"ARGOCD_TOKEN": TOKEN}
SHA_0A1B = "sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"

Make = Callable[..., ArgoCDConnector]


class TestArgoCDContract(ConnectorContract):
    connector_class = ArgoCDConnector
    options = OPTIONS
    env = ENV

    def transport(self) -> httpx.MockTransport:
        return FakeArgoCD().transport()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def fake() -> FakeArgoCD:
    return FakeArgoCD()


@pytest.fixture
async def make(fake: FakeArgoCD) -> AsyncIterator[Make]:
    made: list[tuple[ArgoCDConnector, httpx.AsyncClient]] = []

    def build(**over: Any) -> ArgoCDConnector:
        options = parse(ArgoCDOptions, {**OPTIONS, "stream": False, **over}, env=ENV)
        for secret in secrets_of(options):
            secret.resolve(ENV)
        client = httpx.AsyncClient(transport=fake.transport())
        connector = ArgoCDConnector("argocd", options, client=client, clock=FixedClock(NOW))
        made.append((connector, client))
        return connector

    yield build
    for connector, client in made:
        await connector.aclose()
        await client.aclose()


# Deployments ------------------------------------------------------------------------------
EXPECTED = {
    # app: (service, environment, version, digest, status, health, deployed_at, by, history)
    "shop-prod": ("shop", "prod", "2.3.9", "", Status.SUCCEEDED, Health.HEALTHY,
                  "2026-08-20T16:04:55Z", "release-lead",
                  [("41", "1a2b3c4", "2026-08-12T10:00:40Z", "release-lead"),
                   ("40", "0c1d2e3", "2026-08-05T09:12:03Z", "dana")]),
    "shop-staging": ("shop", "staging", "2.4.0-rc.1", "", Status.RUNNING, Health.PROGRESSING,
                     "2026-08-24T09:28:30Z", "auto-sync",
                     [("17", "5b6a7c8", "2026-08-19T11:20:10Z", "auto-sync")]),
    "payments-live": ("payments", "prod", "4.2.1", SHA_0A1B, Status.FAILED, Health.DEGRADED,
                      "2026-08-24T08:44:31Z", "sre-oncall",
                      [("9", "4.2.0", "2026-08-14T15:40:19Z", "sre-oncall"),
                       ("8", "4.1.7", "2026-07-30T13:02:44Z", "sre-oncall")]),
    "search-prod": ("search", "prod", "", "", Status.UNKNOWN, Health.UNKNOWN, None, "", []),
    "batch-dev": ("batch", "dev", "e5f6a7b", "", Status.QUEUED, Health.MISSING, None, "", []),
    "ledger-prod": ("ledger", "prod", "1.9.2", "", Status.SUCCEEDED, Health.SUSPENDED,
                    None, "", []),
    "reports-staging": ("reports", "staging", "a0b1c2d", "", Status.WAITING, Health.HEALTHY,
                        None, "", []),
}  # fmt: skip


async def test_applications_become_deployments_with_history(make: Make) -> None:
    deployments = {d.remote_id: d for d in await make().deployments()}
    assert set(deployments) == set(EXPECTED)  # the platform project is not asked for
    for name, (svc, env, version, digest, status, health, when, by, history) in EXPECTED.items():
        d = deployments[name]
        assert (d.service, d.environment, d.version, d.digest) == (svc, env, version, digest), name
        assert (d.status, d.health) == (status, health), name
        assert d.deployed_at == (at(when) if when else EPOCH), name
        assert d.deployed_by == by, name
        assert [(r.id, r.version, r.deployed_at, r.deployed_by) for r in d.history] == [
            (i, v, at(w), u) for i, v, w, u in history
        ], name
        assert d.source == "argocd" and d.observed_at == NOW


async def test_every_health_and_sync_status_is_mapped(make: Make) -> None:
    deployments = await make().deployments()
    assert {d.health for d in deployments} == set(Health)
    assert {d.status for d in deployments} == {
        Status.SUCCEEDED, Status.RUNNING, Status.FAILED,
        Status.UNKNOWN, Status.QUEUED, Status.WAITING,
    }  # fmt: skip
    search = next(d for d in deployments if d.remote_id == "search-prod")
    assert search.message.startswith("sync Unknown; ComparisonError: Failed to load target state")


async def test_names_follow_the_documented_precedence(make: Make) -> None:
    connector = make(
        services={"reports-staging": "reporting"},
        environments={"batch-dev": "sandbox", "production": "prod", "search-prd": "prod"},
        service_label="team.example.com/service",
    )
    names = {d.remote_id: d.key for d in await connector.deployments()}
    assert names["reports-staging"] == ("reporting", "staging")  # services mapping first
    # The app name beats the label; "-dev" is not the environment any more, so it stays.
    assert names["batch-dev"] == ("batch-dev", "sandbox")
    assert names["payments-live"] == ("payments-live", "prod")  # label absent: app name kept


async def test_application_globs_filter_client_side(make: Make, fake: FakeArgoCD) -> None:
    connector = make(projects=[], applications=["shop-*", "argocd-*"])
    names = sorted(d.remote_id for d in await connector.deployments())
    assert names == ["argocd-notifications", "shop-prod", "shop-staging"]
    assert fake.seen("GET", "/api/v1/applications")[0].params == {}


async def test_the_list_asks_for_the_configured_projects(make: Make, fake: FakeArgoCD) -> None:
    await make().deployments()
    (listing,) = fake.seen("GET", "/api/v1/applications")
    assert listing.params == {"projects": ["shop", "payments", "data"]}
    assert listing.headers["authorization"] == f"Bearer {TOKEN}"


# Drift -----------------------------------------------------------------------------------
async def test_managed_resources_become_exact_drift_items(make: Make, fake: FakeArgoCD) -> None:
    reports = {r.key: r for r in await make().drift()}
    assert set(reports) == {("shop", "prod"), ("batch", "dev"), ("reports", "staging")}
    shop = reports["shop", "prod"]
    assert shop.revision == "9f1c2ab"  # Git's revision, which live is measured against
    containers = "spec.template.spec.containers[web]"
    assert shop.items == (
        DriftItem("Deployment/shop/web", "spec.replicas", "4", "6"),
        DriftItem(
            "Deployment/shop/web",
            f"{containers}.image",
            "registry.example.com/acme/web:2.3.9",
            "registry.example.com/acme/web:2.3.9-hotfix1",
        ),
        DriftItem("Deployment/shop/web", f"{containers}.env[LOG_LEVEL].value", "info", "debug"),
        DriftItem(
            "Deployment/shop/web",
            f"{containers}.env[DEBUG_PPROF]",
            "(absent)",
            '{"name":"DEBUG_PPROF","value":"1"}',
        ),
        DriftItem("ConfigMap/shop/web-flags", "(resource)", "(present)", "(absent)"),
        DriftItem(
            "ConfigMap/shop/legacy-banner",
            "(resource)",
            "(absent)",
            "(present: not in Git, pruning deletes it)",
        ),
    )
    assert reports["batch", "dev"].items == (
        DriftItem("CronJob/batch/nightly-export", "(resource)", "(present)", "(absent)"),
    )
    assert reports["reports", "staging"].items == (
        DriftItem("ConfigMap/reports/reports-config", "data.retention_days", "30", "90"),
    )
    # Only OutOfSync applications are asked, each with its namespace.
    asked = sorted(
        r.path.split("/")[4] for r in fake.seen("GET") if r.path.endswith("/managed-resources")
    )
    assert asked == ["batch-dev", "reports-staging", "shop-prod"]
    assert all(
        r.params == {"appNamespace": ["argocd"]} for r in fake.seen("GET") if "managed" in r.path
    )


async def test_drift_is_refetched_only_when_the_application_changed(
    make: Make, fake: FakeArgoCD
) -> None:
    connector = make()
    first = await connector.poll()
    second = await connector.poll()
    assert second.drift == first.drift
    assert len([r for r in fake.requests if "managed" in r.path]) == 3
    fake.apps["shop-prod"]["metadata"]["resourceVersion"] = "8812999"
    await connector.poll()
    assert len([r for r in fake.requests if "managed" in r.path]) == 4


async def test_drift_items_are_capped_per_resource(make: Make) -> None:
    reports = {r.key: r for r in await make(max_drift_items=2).drift()}
    web = [i for i in reports["shop", "prod"].items if i.resource == "Deployment/shop/web"]
    assert [i.path for i in web] == [
        "spec.replicas",
        "spec.template.spec.containers[web].image",
        "(+2 more paths)",
    ]


async def test_a_deleted_application_has_no_drift_instead_of_an_error(
    make: Make, fake: FakeArgoCD
) -> None:
    fake.fail("/api/v1/applications/batch-dev/managed-resources", 404)
    reports = {r.key for r in await make().drift()}
    assert reports == {("shop", "prod"), ("reports", "staging")}


# Sync windows ------------------------------------------------------------------------------
async def test_project_sync_windows_become_change_windows(make: Make, fake: FakeArgoCD) -> None:
    windows = await make().windows()
    assert sorted(windows, key=lambda w: w.name) == [
        ChangeWindow("Argo CD payments: weekend freeze", "0 18 * * 5", 62 * 60,
                     "America/New_York", "deny", ("prod",), "argocd"),
        ChangeWindow("Argo CD shop: allow 0 9 * * 1-5", "0 9 * * 1-5", 8 * 60, "UTC", "allow",
                     ("prod", "staging"), "argocd"),
        ChangeWindow("Argo CD shop: year-end freeze", "0 0 20 12 *", 336 * 60, "Europe/Berlin",
                     "deny", ("prod",), "argocd"),
    ]  # fmt: skip
    asked = sorted(r.path for r in fake.seen("GET") if r.path.startswith("/api/v1/projects/"))
    assert asked == ["/api/v1/projects/data", "/api/v1/projects/payments", "/api/v1/projects/shop"]


async def test_projects_are_reread_only_after_their_ttl(make: Make, fake: FakeArgoCD) -> None:
    connector = make()
    await connector.poll()
    await connector.poll()
    assert len([r for r in fake.requests if r.path.startswith("/api/v1/projects/")]) == 3
    assert isinstance(connector.clock, FixedClock)
    connector.clock.advance(301)
    await connector.poll()
    assert len([r for r in fake.requests if r.path.startswith("/api/v1/projects/")]) == 6


# Actions -----------------------------------------------------------------------------------
async def test_sync_sends_exactly_the_documented_body(make: Make, fake: FakeArgoCD) -> None:
    connector = make()
    await connector.poll()
    action = Action(ActionKind.SYNC, "shop", "prod", source="argocd", reason="drift", actor="dana")
    result = await connector.execute(action)
    assert result.ok and result.message == "sync of shop-prod to main started"
    (post,) = fake.seen("POST")
    assert post.path == "/api/v1/applications/shop-prod/sync"
    assert post.body == {
        "name": "shop-prod",
        "revision": "main",
        "prune": False,
        "dryRun": False,
        "strategy": {"hook": {}},
        "infos": [{"name": "Reason", "value": "drift"}, {"name": "Requested by", "value": "dana"}],
        "appNamespace": "argocd",
    }
    assert post.headers["authorization"] == f"Bearer {TOKEN}"


async def test_rollback_sends_the_history_id_and_warns(make: Make, fake: FakeArgoCD) -> None:
    connector = make()
    await connector.poll()
    action = Action(ActionKind.ROLLBACK, "shop", "prod", source="argocd", version="1a2b3c4")
    assert connector.warnings(action) == (ArgoCDConnector.ROLLBACK_WARNING,)
    result = await connector.execute(action)
    (post,) = fake.seen("POST")
    assert post.path == "/api/v1/applications/shop-prod/rollback"
    assert post.body == {"name": "shop-prod", "id": 41, "prune": False, "appNamespace": "argocd"}
    assert result.ok and result.remote_id == "41"
    assert result.message.endswith(ArgoCDConnector.ROLLBACK_WARNING)
    assert "auto-sync" in ArgoCDConnector.ROLLBACK_WARNING
    assert "redeploys" in ArgoCDConnector.ROLLBACK_WARNING


async def test_rollback_by_history_id_and_to_the_last_good_after_a_failed_sync(
    make: Make, fake: FakeArgoCD
) -> None:
    connector = make()
    await connector.execute(Action(ActionKind.ROLLBACK, "shop", "prod", remote_id="40"))
    await connector.execute(Action(ActionKind.ROLLBACK, "payments", "prod", version="4.2.0"))
    bodies = [r.body for r in fake.seen("POST")]
    assert bodies == [
        {"name": "shop-prod", "id": 40, "prune": False, "appNamespace": "argocd"},
        {"name": "payments-live", "id": 9, "prune": False, "appNamespace": "argocd"},
    ]


@pytest.mark.parametrize(
    ("action", "words"),
    [
        (Action(ActionKind.ROLLBACK, "shop", "prod", version="deadbee"), "not in the history"),
        (Action(ActionKind.ROLLBACK, "shop", "prod", remote_id="7"), "not in the history"),
        (
            Action(ActionKind.ROLLBACK, "shop", "prod", remote_id="41", version="0c1d2e3"),
            "is 1a2b3c4",
        ),
        (Action(ActionKind.ROLLBACK, "shop", "staging", version="5b6a7c8"), "auto-sync is on"),
        (Action(ActionKind.SYNC, "nothing", "prod"), "no Argo CD application"),
        (Action(ActionKind.PROMOTE, "shop", "prod"), "cannot promote"),
    ],
)
async def test_refused_actions_send_nothing(
    make: Make, fake: FakeArgoCD, action: Action, words: str
) -> None:
    with pytest.raises(Rejected, match=words):
        await make().execute(action)
    assert fake.seen("POST") == []


async def test_a_sync_window_refusal_is_rejected_not_unauthorized(
    make: Make, fake: FakeArgoCD
) -> None:
    fake.fail("/api/v1/applications/shop-prod/sync", (403, "cannot sync: blocked by sync window"))
    with pytest.raises(Rejected, match="blocked by sync window"):
        await make().execute(Action(ActionKind.SYNC, "shop", "prod"))


async def test_server_refusals_map_to_rejected(make: Make, fake: FakeArgoCD) -> None:
    busy = "another operation is already in progress"
    fake.fail("/api/v1/applications/shop-prod/sync", (400, busy))
    with pytest.raises(Rejected, match=busy):
        await make().execute(Action(ActionKind.SYNC, "shop", "prod"))


# Failures ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("outcome", "words"),
    [("malformed", "malformed JSON"), (503, "server error"), ("timeout", "timed out")],
)
async def test_broken_answers_are_connector_errors(
    make: Make, fake: FakeArgoCD, outcome: int | str, words: str
) -> None:
    fake.fail("/api/v1/applications", outcome)
    with pytest.raises(Unreachable, match=words):
        await make().poll()


async def test_an_empty_list_without_items_is_no_applications(make: Make, fake: FakeArgoCD) -> None:
    fake.fail("/api/v1/applications", {"metadata": {"resourceVersion": "8812107"}})
    obs = await make().poll()
    assert (obs.deployments, obs.drift, obs.windows) == ((), (), ())


async def test_an_unexpected_list_shape_is_a_connector_error(make: Make, fake: FakeArgoCD) -> None:
    fake.fail("/api/v1/applications", {"items": {"shop-prod": {}}})
    with pytest.raises(Unreachable, match="not a list"):
        await make().poll()


async def test_a_failing_project_fails_the_poll(make: Make, fake: FakeArgoCD) -> None:
    fake.fail("/api/v1/projects/shop", 500)
    with pytest.raises(Unreachable, match="projects/shop -> 500"):
        await make().poll()


@pytest.mark.parametrize(
    ("over", "words"),
    [
        ({"url": "argocd.example.com"}, "must start with https://"),
        ({"url": "https://argocd.example.com/api/v1"}, "without /api/v1"),
        ({"username": "cockpit"}, "not both"),
        ({"token": None, "username": "cockpit"}, "needs both"),
        ({"token": None}, "give token"),
    ],
)
def test_options_explain_what_is_wrong(over: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        parse(ArgoCDOptions, {**OPTIONS, **over}, env=ENV)


def test_deployments_are_domain_objects() -> None:
    assert issubclass(ArgoCDConnector.Options, ArgoCDOptions)
    assert Deployment.__module__ == "cockpit.model"


# Pieces -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("duration", "minutes"),
    [("8h", 480), ("1h30m", 90), ("90m", 90), ("45s", 1), ("1.5h", 90), ("1d", None), ("", None)],
)
def test_go_durations_in_minutes(duration: str, minutes: int | None) -> None:
    assert windows.minutes(duration) == minutes


@pytest.mark.parametrize(
    ("desired", "live", "found"),
    [
        ({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}}, []),  # live-only fields are not drift
        ({"a": None}, {}, []),  # null in Git is "unset"
        ({"a": 1}, {}, [("a", "1", "(absent)")]),
        ({"args": ["--x"]}, {"args": ["--y", "--x"]}, [("args", '["--x"]', '["--y","--x"]')]),
        (
            {"metadata": {"annotations": {"example.com/owner": "a"}}},
            {"metadata": {"annotations": {"example.com/owner": "b"}}},
            [('metadata.annotations["example.com/owner"]', "a", "b")],
        ),
        (
            {"rules": [{"host": "a"}]},
            {"rules": [{"host": "b"}, {"host": "c"}]},
            [("rules[0].host", "a", "b"), ("rules[1]", "(absent)", '{"host":"c"}')],
        ),
        (
            {"ports": [{"name": "http", "port": 80}]},
            {"ports": []},
            [("ports[http]", '{"name":"http","port":80}', "(absent)")],
        ),
    ],
)
def test_differences_leaf_by_leaf(
    desired: Any, live: Any, found: list[tuple[str, str, str]]
) -> None:
    assert [
        (p, diff.render(d), diff.render(v)) for p, d, v in diff.differences(desired, live)
    ] == found
