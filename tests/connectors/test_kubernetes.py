"""Kubernetes connector: the contract kit, Deployment mapping, kubectl's rollout status,
and the exact requests of `rollout undo` and `rollout restart`."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from cockpit.clock import FixedClock
from cockpit.connect import options as opt
from cockpit.errors import ConfigError, ConnectorError, Rejected, Unreachable
from cockpit.model import Action, ActionKind, Health, Status
from cockpit.testing import ConnectorContract
from connectors.kubernetes import KubernetesConnector, KubernetesOptions, rollout_status
from tests.fixtures.kubernetes.fakeapi import FakeKubeAPI
from tests.fixtures.kubernetes.kit import DEPLOYMENTS, ENV, NOW, OPTIONS, cluster, connected

DIGEST = "sha256:3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a"


class TestKubernetesContract(ConnectorContract):
    connector_class = KubernetesConnector
    options = OPTIONS
    env = ENV

    def transport(self) -> httpx.MockTransport:
        return cluster().transport()


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"server": "kube.test:6443", "token": "env:T"}, "http(s)://"),
        ({"server": "https://kube.test", "token": "env:T", "context": "prod"}, "not both"),
        ({"server": "https://kube.test"}, "exactly one of token"),
        ({"server": "https://kube.test", "token": "env:T", "token_file": "/t"}, "exactly one"),
        ({"token": "env:T"}, "go with server"),
        ({"namespace": ["shop"]}, "did you mean 'namespaces'"),
    ],
)
def test_options_are_checked(data: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        opt.parse(KubernetesOptions, data, env={"T": "x"})


async def test_deployments_map_versions_status_history_and_names() -> None:
    async with connected(KubernetesConnector, cluster()) as k:
        obs = await k.poll()
    deps = {d.service: d for d in obs.deployments}
    assert set(deps) == {"web", "checkout", "search", "legacy-cron", "cart"}
    web = deps["web"]
    assert (web.environment, web.version, web.digest) == ("prod", "2.4.7", DIGEST)
    assert (web.status, web.health, web.message) == (
        Status.SUCCEEDED,
        Health.HEALTHY,
        "successfully rolled out",
    )
    assert web.deployed_at == datetime(2026, 8, 24, 10, 1, 41, tzinfo=UTC)  # its ReplicaSet's birth
    assert web.deployed_by == "kubectl-client-side-apply"  # not the status writer
    assert [(r.id, r.version) for r in web.history] == [("8", "2.4.6"), ("7", "2.4.5")]
    assert web.remote_id == "shop/web" and web.source == "k8s" and web.observed_at == NOW
    assert (deps["search"].status, deps["search"].health) == (Status.FAILED, Health.DEGRADED)
    assert deps["legacy-cron"].health is Health.SUSPENDED  # no app label: the name
    assert deps["checkout"].message.endswith("2 out of 4 new replicas have been updated")


async def test_services_and_environments_can_be_mapped() -> None:
    fake = cluster()
    async with connected(
        KubernetesConnector,
        fake,
        services={"shop/legacy-cron": "cron"},
        environment="staging",
        history=False,
    ) as k:
        deps = {d.service: d for d in await k.deployments()}
    assert "cron" in deps and {d.environment for d in deps.values()} == {"staging"}
    assert deps["web"].history == (), "without ReplicaSets there is no history"


async def test_unchanged_deployments_keep_their_identity_between_polls() -> None:
    async with connected(KubernetesConnector, cluster()) as k:
        first = await k.poll()
        k.clock.advance(30)  # type: ignore[attr-defined]
        second = await k.poll()
    assert first.deployments is second.deployments


def dep(
    gen: int = 3, observed: int = 3, want: int = 4, paused: bool = False, **status: Any
) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "generation": gen},
        "spec": {"replicas": want, "paused": paused},
        "status": {"observedGeneration": observed, **status},
    }


DEADLINE = [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]
P, R = Status.RUNNING, Health.PROGRESSING


@pytest.mark.parametrize(
    ("obj", "status", "health", "says"),
    [
        (dep(4, 3), P, R, "waiting for spec update to be observed"),
        (
            dep(conditions=DEADLINE, updatedReplicas=1),
            Status.FAILED,
            Health.DEGRADED,
            "progress deadline",
        ),
        (dep(replicas=5, updatedReplicas=2), P, R, "2 out of 4 new replicas have been updated"),
        (
            dep(replicas=5, updatedReplicas=4, availableReplicas=4),
            P,
            R,
            "1 old replicas are pending termination",
        ),
        (
            dep(replicas=4, updatedReplicas=4, availableReplicas=3),
            P,
            R,
            "3 of 4 updated replicas are available",
        ),
        (
            dep(replicas=4, updatedReplicas=4, availableReplicas=4),
            Status.SUCCEEDED,
            Health.HEALTHY,
            "successfully rolled out",
        ),
        (dep(paused=True, updatedReplicas=1), Status.WAITING, Health.SUSPENDED, "rollout paused"),
        (dep(0, 0, want=0), Status.SUCCEEDED, Health.HEALTHY, "successfully rolled out"),
    ],
)
def test_rollout_status_follows_kubectl(
    obj: dict[str, Any], status: Status, health: Health, says: str
) -> None:
    got = rollout_status(obj)
    assert got[:2] == (status, health)
    assert says in got[2]


def rollback(version: str = "", remote_id: str = "shop/web") -> Action:
    return Action(
        ActionKind.ROLLBACK,
        "web",
        "prod",
        source="k8s",
        version=version,
        remote_id=remote_id,
        reason="bad deploy",
    )


def patches(fake: FakeKubeAPI) -> list[Any]:
    return [s for s in fake.seen if s.method == "PATCH"]


@pytest.mark.parametrize("version", ["", "8", "2.4.6"])
async def test_rollback_sends_kubectls_undo_patch(version: str) -> None:
    fake = cluster()
    async with connected(KubernetesConnector, fake) as k:
        result = await k.execute(rollback(version))
    assert result.ok and "revision 8 (2.4.6)" in result.message
    rs_list = [
        s
        for s in fake.seen
        if s.path == "/apis/apps/v1/namespaces/shop/replicasets" and "watch" not in s.query
    ]
    assert rs_list[-1].query == {"labelSelector": "app.kubernetes.io/name=web"}
    (sent,) = patches(fake)
    assert sent.path == "/apis/apps/v1/namespaces/shop/deployments/web"
    assert sent.content_type == "application/json-patch+json"
    rs8 = json.loads(json.dumps(fake.get(("apis/apps/v1", "replicasets"), "shop", "web-6d8f9c7a5")))
    template = rs8["spec"]["template"]
    del template["metadata"]["labels"]["pod-template-hash"]
    dep_annotations = fake.get(DEPLOYMENTS, "shop", "web")["metadata"]["annotations"]
    assert sent.json == [
        {"op": "replace", "path": "/spec/template", "value": template},
        {
            "op": "replace",
            "path": "/metadata/annotations",
            "value": {
                # kept from the Deployment
                "deployment.kubernetes.io/revision": "9",
                "kubectl.kubernetes.io/last-applied-configuration": dep_annotations[
                    "kubectl.kubernetes.io/last-applied-configuration"
                ],
                # copied from the ReplicaSet (revision-history, desired/max-replicas are not)
                "kubernetes.io/change-cause": "release 2.4.6",
            },
        },
    ]


async def test_rollback_to_the_current_template_is_skipped_and_sends_nothing() -> None:
    fake = cluster()
    async with connected(KubernetesConnector, fake) as k:
        result = await k.execute(rollback("9"))
    assert (
        result.ok
        and result.message == "skipped rollback (current template already matches revision 9)"
    )
    assert patches(fake) == []


@pytest.mark.parametrize(
    ("version", "problem"),
    [("3", "unable to find specified revision 3"), ("7.7.7", "no revision in the history runs")],
)
async def test_rollback_refuses_unknown_revisions(version: str, problem: str) -> None:
    fake = cluster()
    async with connected(KubernetesConnector, fake) as k:
        with pytest.raises(Rejected, match=problem):
            await k.execute(rollback(version))
    assert patches(fake) == []


async def test_paused_deployments_are_neither_rolled_back_nor_restarted() -> None:
    fake = cluster()
    async with connected(KubernetesConnector, fake) as k:
        with pytest.raises(Rejected, match="cannot rollback a paused deployment"):
            await k.execute(rollback(remote_id="shop/legacy-cron"))
        with pytest.raises(Rejected, match="can't restart paused deployment"):
            await k.execute(
                Action(ActionKind.RESTART, "legacy-cron", "prod", remote_id="shop/legacy-cron")
            )
    assert patches(fake) == []


async def test_restart_sends_kubectls_strategic_merge_patch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "Europe/Zurich")
    import time

    time.tzset()
    fake = cluster()
    clock = FixedClock(datetime(2026, 8, 24, 10, 15, 2, 250000, tzinfo=UTC))
    try:
        async with connected(KubernetesConnector, fake, clock) as k:
            result = await k.execute(Action(ActionKind.RESTART, "web", "prod", source="k8s"))
            assert result.ok and result.remote_id == "shop/web"
            with pytest.raises(Rejected, match="within this second"):
                await k.execute(Action(ActionKind.RESTART, "web", "prod", source="k8s"))
    finally:
        monkeypatch.undo()
        time.tzset()
    (sent,) = patches(fake)
    assert sent.path == "/apis/apps/v1/namespaces/shop/deployments/web"
    assert sent.content_type == "application/strategic-merge-patch+json"
    # kubectl stamps local time in RFC 3339
    assert sent.json == {
        "spec": {
            "template": {
                "metadata": {
                    "annotations": {
                        "kubectl.kubernetes.io/restartedAt": "2026-08-24T12:15:02+02:00"
                    }
                }
            }
        }
    }


async def test_an_ambiguous_cell_asks_for_a_namespace_and_name() -> None:
    fake = cluster()
    twin = copy.deepcopy(fake.get(DEPLOYMENTS, "shop", "web"))
    twin["metadata"].update(name="web-blue", uid="uid-web-blue")
    fake.put(DEPLOYMENTS, twin, quiet=True)
    async with connected(KubernetesConnector, fake) as k:
        with pytest.raises(Rejected, match="2 deployments match web in prod"):
            await k.execute(Action(ActionKind.RESTART, "web", "prod"))


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (lambda r: httpx.Response(200, content=b"{not json"), Unreachable),
        (
            lambda r: httpx.Response(
                503, json={"kind": "Status", "message": "etcdserver: leader changed", "code": 503}
            ),
            Unreachable,
        ),
        (lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("timed out", request=r)), Unreachable),
    ],
)
async def test_malformed_json_server_errors_and_timeouts_are_connector_errors(
    reply: Any, error: type
) -> None:
    connector = KubernetesConnector(
        "k8s",
        opt.parse(KubernetesOptions, OPTIONS, env=ENV),
        client=httpx.AsyncClient(transport=httpx.MockTransport(reply)),
        clock=FixedClock(NOW),
    )
    for secret in opt.secrets_of(connector.options):
        secret.resolve(ENV)
    try:
        with pytest.raises(error) as caught:
            await connector.poll()
        assert isinstance(caught.value, ConnectorError)
        assert "t0ken" not in str(caught.value)
    finally:
        await connector.aclose()
        assert connector.client is not None
        await connector.client.aclose()
