"""Jenkins connector end to end: through the hub, and `cockpit status --json` over loopback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
from textual.widgets import Static

from cockpit import config
from cockpit.app import CockpitApp
from cockpit.clock import FixedClock
from cockpit.fleet.hub import Hub
from screens.widgets import LiveTable
from tests.cli import status_json
from tests.fixtures.gitlab.fake import loopback
from tests.fixtures.jenkins.fake import BASE, NOW, TOKEN, JenkinsFake

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """\
environments: [dev, staging, prod]
connectors:
  - name: jenkins
    type: jenkins
    interval: 30s
    timeout: 10s
    options:
      url: {url}
      username: release-cockpit
      api_token: env:JENKINS_TOKEN
      jobs: [shop-release, payments/api-deploy]
      services:
        shop-release: shop
        payments/api-deploy: payments
"""


def settings(tmp_path: Path, url: str = BASE) -> config.Settings:
    path = tmp_path / "cockpit.yaml"
    path.write_text(CONFIG.format(url=url))
    return config.load(str(path), env={"JENKINS_TOKEN": TOKEN})


async def test_the_hub_shows_runs_and_pending_inputs(tmp_path: Path) -> None:
    fake = JenkinsFake()
    conf = settings(tmp_path)
    hub = Hub(
        conf.connectors,
        conf.environments,
        clock=FixedClock(NOW),
        client_factory=lambda spec: httpx.AsyncClient(transport=fake.transport()),
    )
    try:
        snap = await hub.refresh()
    finally:
        await hub.stop()
    assert snap.sources["jenkins"].ok is True
    assert len(snap.runs) == 8
    assert snap.runs["shop-release#16"].current_stage.waiting_for_approval  # type: ignore[union-attr]
    assert {(a.remote_id, a.service, a.environment) for a in snap.approvals} == {
        ("input:shop-release/16/Deploy-prod", "shop", "prod"),
        ("input:payments/api-deploy/8/Promote", "payments", "prod"),
    }


def test_cockpit_status_json_against_a_loopback_fake(tmp_path: Path) -> None:
    fake = JenkinsFake()
    with loopback(fake.handle) as url:
        path = tmp_path / "cockpit.yaml"
        path.write_text(CONFIG.format(url=url + "/jenkins"))
        out = status_json(path, env={**os.environ, "JENKINS_TOKEN": TOKEN}, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert TOKEN not in out.stdout + out.stderr
    data = json.loads(out.stdout)
    assert [(c["name"], c["ok"]) for c in data["connectors"]] == [("jenkins", True)]
    assert data["pipelines"]["total"] == 8
    assert data["pipelines"]["by_status"] == {
        "cancelled": 1,
        "failed": 2,
        "running": 1,
        "succeeded": 2,
        "waiting": 2,
    }
    waiting = next(r for r in data["pipelines"]["recent"] if r["id"] == "shop-release#16")
    assert (waiting["service"], waiting["status"], waiting["stage"]) == (
        "shop",
        "waiting",
        "Approve prod",
    )
    titles = {a["remote_id"]: a["title"] for a in data["approvals"]}
    assert titles == {
        "input:shop-release/16/Deploy-prod": "Deploy v2.4.0 to production?",
        "input:payments/api-deploy/8/Promote": "Promote api 1.9.0 to production?",
    }
    assert all(r.headers["authorization"].startswith("Basic ") for r in fake.requests)


async def test_the_tui_shows_runs_and_the_inputs_waiting_for_approval(tmp_path: Path) -> None:
    fake = JenkinsFake()
    app = CockpitApp(
        settings(tmp_path),
        clock=FixedClock(NOW),
        poll=False,
        client_factory=lambda spec: httpx.AsyncClient(transport=fake.transport()),
    )
    app.animation_level = "none"
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2")
        runs = app.screen.query_one("#runs", LiveTable)
        assert runs.keys[0] == "shop-release#17" and len(runs.keys) == 8
        await pilot.press("6")
        approvals = app.screen.query_one("#approvals", LiveTable)
        assert approvals.keys == [
            "jenkins:input:shop-release/16/Deploy-prod",
            "jenkins:input:payments/api-deploy/8/Promote",
        ]
        detail = str(app.screen.query_one("#approval-detail", Static).render())
        assert "Deploy v2.4.0 to production?" in detail
        assert "input:shop-release/16/Deploy-prod" in detail


def test_the_documented_example_config_is_valid(tmp_path: Path) -> None:
    doc = (ROOT / "docs/connectors/jenkins.md").read_text()
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "example.yaml"
    path.write_text(example)
    conf = config.load(str(path), env={}, resolve_secrets=False)
    assert conf.connectors and {s.type for s in conf.connectors} == {"jenkins"}
