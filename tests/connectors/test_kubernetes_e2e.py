"""End to end: the hub, `cockpit status --json` and the TUI showing Deployments and
Argo Rollouts canaries from the fake API server; watch events reaching the snapshot."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import httpx
import yaml

from cockpit import config
from cockpit.app import CockpitApp
from cockpit.clock import FixedClock
from cockpit.config import ConnectorSpec
from cockpit.fleet.hub import Hub
from cockpit.model import Action, ActionKind, CanaryPhase, Environment, Health
from connectors.flagger import FlaggerConnector
from connectors.kubernetes import KubernetesConnector
from connectors.rollouts import ArgoRolloutsConnector
from screens.overview import cell_text
from screens.widgets import LiveTable
from tests.cli import cockpit, status_json
from tests.fixtures.kubernetes.fakeapi import FakeKubeAPI
from tests.fixtures.kubernetes.kit import (
    DEPLOYMENTS,
    ENV,
    NOW,
    OPTIONS,
    REPLICASETS,
    TOKEN,
    cluster,
    eventually,
)
from tests.fixtures.kubernetes.loopback import LoopbackServer

ENVS = (Environment("staging", 0), Environment("prod", 1, True))
ROOT = Path(__file__).resolve().parents[2]


def specs() -> list[ConnectorSpec]:
    from cockpit.connect import options as opt

    out = []
    for name, kind, cls in (
        ("k8s", "kubernetes", KubernetesConnector),
        ("rollouts", "argo-rollouts", ArgoRolloutsConnector),
        ("flagger", "flagger", FlaggerConnector),
    ):
        options: Any = opt.parse(cls.Options, OPTIONS, env=ENV)
        for secret in opt.secrets_of(options):
            secret.resolve(ENV)
        out.append(ConnectorSpec(name, kind, cls, options, 3600.0, 10.0, 7200.0))
    return out


def hub_for(fake: FakeKubeAPI) -> Hub:
    return Hub(
        specs(),
        ENVS,
        clock=FixedClock(NOW),
        client_factory=lambda spec: httpx.AsyncClient(transport=fake.transport()),
    )


async def test_the_hub_merges_deployments_and_canaries_from_the_fake() -> None:
    hub = hub_for(cluster())
    try:
        snap = await hub.refresh()
    finally:
        await hub.stop()
    assert all(s.ok for s in snap.sources.values()), [s.error for s in snap.sources.values()]
    web = snap.cell("web", "prod")
    assert web.deployment is not None and web.deployment.version == "2.4.7"
    assert web.deployment.health is Health.HEALTHY and web.sources == ("k8s",)
    payments = snap.cell("payments", "prod").canary
    assert payments is not None and (payments.step, payments.weight) == (2, 20)
    assert {c.source for c in snap.canaries} == {"rollouts", "flagger"}
    assert {"web", "checkout", "payments", "api-gateway", "podinfo"} <= set(snap.services)


async def test_watch_events_and_actions_reach_the_snapshot_without_waiting_for_the_interval() -> (
    None
):
    fake = cluster()
    hub = hub_for(fake)
    await hub.start()  # polls every hour: only watch events can explain a fresh snapshot
    try:
        await eventually(lambda: all(s.ok for s in hub.snapshot.sources.values()))
        await eventually(lambda: len(fake.watches) >= 6)
        web = copy.deepcopy(fake.get(DEPLOYMENTS, "shop", "web"))
        web["spec"]["template"]["spec"]["containers"][0]["image"] = (
            "registry.example.com/shop/web:2.5.0"
        )
        fake.put(DEPLOYMENTS, web)

        def version() -> str:
            dep = hub.snapshot.cell("web", "prod").deployment
            return dep.version if dep else ""

        await eventually(lambda: version() == "2.5.0")

        rollouts = hub.connector("rollouts")
        assert rollouts is not None
        result = await rollouts.execute(
            Action(ActionKind.ABORT, "payments", "prod", source="rollouts", reason="errors up")
        )
        assert result.ok
        await eventually(
            lambda: (
                getattr(hub.snapshot.cell("payments", "prod").canary, "phase", None)
                is CanaryPhase.ABORTED
            )
        )
    finally:
        await hub.stop()


def write_config(tmp_path: Path, server: str) -> Path:
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": server}}],
        "users": [{"name": "ci", "user": {"token": TOKEN}}],
        "contexts": [
            {"name": "fake", "context": {"cluster": "fake", "user": "ci", "namespace": "shop"}}
        ],
    }
    (tmp_path / "kubeconfig").write_text(yaml.safe_dump(kubeconfig))
    options: dict[str, Any] = {
        "kubeconfig": str(tmp_path / "kubeconfig"),
        "environment": {"shop": "prod"},
    }
    cfg = {
        "environments": ["staging", "prod"],
        "connectors": [
            {"name": "k8s", "type": "kubernetes", "options": options},
            {"name": "rollouts", "type": "argo-rollouts", "options": options},
        ],
    }
    path = tmp_path / "cockpit.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_cockpit_status_json_shows_deployments_and_canaries(tmp_path: Path) -> None:
    with LoopbackServer(cluster()) as server:
        path = write_config(tmp_path, server.url)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        }
        env.pop("KUBECONFIG", None)
        out = status_json(path, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert [(c["name"], c["ok"]) for c in report["connectors"]] == [
        ("k8s", True),
        ("rollouts", True),
    ]
    services = {s["name"]: s["environments"] for s in report["services"]}
    web = services["web"]["prod"]["deployment"]
    assert (web["version"], web["health"], web["source"]) == ("2.4.7", "healthy", "k8s")
    assert services["search"]["prod"]["deployment"]["health"] == "degraded"
    assert services["payments"]["prod"]["canary"] == {"step": 2, "weight": 20, "phase": "paused"}
    canaries = {c["service"]: c for c in report["canaries"]}
    assert canaries["api-gateway"]["weight"] == 45
    assert (canaries["payments"]["baseline_version"], canaries["payments"]["canary_version"]) == (
        "3.2.0",
        "3.3.0",
    )


async def test_the_tui_shows_deployments_and_rollouts_canaries(tmp_path: Path) -> None:
    fake = cluster()
    settings = config.load(str(write_config(tmp_path, "https://kube.invalid")), env={})
    app = CockpitApp(
        settings,
        clock=FixedClock(NOW),
        poll=False,
        client_factory=lambda spec: httpx.AsyncClient(transport=fake.transport()),
    )
    app.animation_level = "none"
    async with app.run_test(size=(120, 36)) as pilot:
        matrix = app.screen.query_one("#matrix", LiveTable)
        assert {"web", "checkout", "payments", "api-gateway"} <= set(matrix.keys)
        snap = app.snapshot
        assert "2.4.7 ✓" in cell_text(snap.cell("web", "prod"), snap, NOW).plain
        assert "⇢20%‖" in cell_text(snap.cell("payments", "prod"), snap, NOW).plain
        assert "2.4.7" in app.export_screenshot()  # on screen, not only in the model
        await pilot.press("4")
        canaries = app.screen.query_one("#canaries", LiveTable)
        assert {"payments/prod", "api-gateway/prod", "ledger/prod"} <= set(canaries.keys)
        assert "3.2.0 → 3.3.0" in app.export_screenshot().replace("&#160;", " ")


def test_the_documented_example_configs_are_valid(tmp_path: Path) -> None:
    import re

    blocks = []
    for doc in ("kubernetes.md", "argo-rollouts.md", "flagger.md"):
        text = (ROOT / "docs" / "connectors" / doc).read_text()
        blocks += [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "connectors:" in b]
    assert len(blocks) == 4
    for n, block in enumerate(blocks):
        path = tmp_path / f"example{n}.yaml"
        path.write_text(block)
        settings = config.load(str(path), env={"KUBE_TOKEN": "x"}, resolve_secrets=False)
        assert {s.type for s in settings.connectors} <= {"kubernetes", "argo-rollouts", "flagger"}


def test_cockpit_rollback_undoes_a_deployment_to_the_named_revision(tmp_path: Path) -> None:
    """`cockpit rollback web prod --to 2.4.5`: the plan names revision 7 of three."""
    fake = cluster()
    rs = copy.deepcopy(fake.get(REPLICASETS, "shop", "web-5c4d8f7b6"))
    template = rs["spec"]["template"]
    del template["metadata"]["labels"]["pod-template-hash"]
    with LoopbackServer(fake) as server:
        path = write_config(tmp_path, server.url)
        cfg = yaml.safe_load(path.read_text())
        cfg["audit"] = {"path": str(tmp_path / "audit.sqlite3")}
        cfg["policy"] = {"environments": {"prod": {"unknown_gates": "warn"}}}
        path.write_text(yaml.safe_dump(cfg))
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        }
        env.pop("KUBECONFIG", None)
        out = cockpit(
            *("rollback", "web", "prod", "--to", "2.4.5", "--reason", "2.4.6 leaks memory"),
            *("--confirm", "web", "--yes", "-c", str(path)),
            env=env,
            cwd=tmp_path,
        )
    assert out.returncode == 0, out.stderr
    assert "rolled back to revision 7 (2.4.5)" in out.stdout
    (sent,) = [s for s in fake.seen if s.method == "PATCH"]
    assert (sent.path, sent.content_type) == (
        "/apis/apps/v1/namespaces/shop/deployments/web",
        "application/json-patch+json",
    )
    assert sent.json[0] == {"op": "replace", "path": "/spec/template", "value": template}
    assert sent.json[1]["value"]["kubernetes.io/change-cause"] == "release 2.4.5"
