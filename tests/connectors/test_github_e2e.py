"""GitHub connector end to end: through the hub, and `cockpit status --json` against a fake."""

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
from tests.fixtures.github.fake import NOW, TOKEN, FakeGitHub

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """\
environments: [dev, staging, prod]
connectors:
  - name: github
    type: github
    interval: 30s
    timeout: 10s
    options:
      base_url: {url}
      token: env:GITHUB_TOKEN
      repositories:
        - acme/shop
        - repo: acme/payments
          service: payments-api
"""


def settings(tmp_path: Path, url: str) -> config.Settings:
    path = tmp_path / "cockpit.yaml"
    path.write_text(CONFIG.format(url=url))
    return config.load(str(path), env={"GITHUB_TOKEN": TOKEN})


async def test_the_hub_shows_runs_deployments_approvals_and_protection(tmp_path: Path) -> None:
    fake = FakeGitHub()
    conf = settings(tmp_path, "https://api.github.com")
    hub = Hub(
        conf.connectors,
        conf.environments,
        clock=FixedClock(NOW),
        client_factory=lambda spec: httpx.AsyncClient(transport=fake.transport()),
    )
    try:
        snap = await hub.settle()
    finally:
        await hub.stop()
    assert snap.sources["github"].ok is True and not snap.sources["github"].incomplete
    assert "acme/shop#10512344871" in snap.runs
    assert snap.runs["acme/shop#10512344871"].current_stage.waiting_for_approval  # type: ignore[union-attr]
    assert snap.services == ("payments-api", "shop")
    assert snap.cell("shop", "prod").deployment.version == "v2.3.1"  # type: ignore[union-attr]
    assert snap.cell("payments-api", "prod").deployment.version == "1.8.2"  # type: ignore[union-attr]
    assert {a.remote_id for a in snap.approvals} == {
        "run:10512344871/env:161171787",
        "run:10512350500/env:170100202",
    }
    prod = next(i for i in snap.environment_info if i.name == "prod")
    assert "prevent self-review" in prod.protection


async def test_the_hub_says_when_github_rate_limits(tmp_path: Path) -> None:
    fake = FakeGitHub()
    fake.remaining = 0
    conf = settings(tmp_path, "https://api.github.com")
    hub = Hub(
        conf.connectors,
        conf.environments,
        clock=FixedClock(NOW),
        client_factory=lambda s: httpx.AsyncClient(transport=fake.transport()),
    )
    try:
        snap = await hub.refresh()
    finally:
        await hub.stop()
    state = snap.sources["github"]
    assert state.ok is False and state.retry_in == 3600
    assert state.error.startswith("RateLimited: github: GET /repos/")
    assert "rate limited; retry in 3600s" in state.error


def test_cockpit_status_json_against_a_loopback_fake(tmp_path: Path) -> None:
    fake = FakeGitHub()
    with fake.serve() as url:
        path = tmp_path / "cockpit.yaml"
        path.write_text(CONFIG.format(url=url))
        env = {**os.environ, "GITHUB_TOKEN": TOKEN}
        out = status_json(path, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert TOKEN not in out.stdout + out.stderr
    data = json.loads(out.stdout)
    assert data["connectors"][0]["ok"] is True
    assert {r["id"] for r in data["pipelines"]["recent"]} >= {
        "acme/shop#10512344871",
        "acme/payments#10512350500",
    }
    waiting = next(r for r in data["pipelines"]["recent"] if r["id"] == "acme/shop#10512344871")
    assert (waiting["status"], waiting["stage"]) == ("waiting", "deploy-production")
    shop = next(s for s in data["services"] if s["name"] == "shop")
    assert shop["environments"]["prod"]["deployment"]["version"] == "v2.3.1"
    assert shop["environments"]["staging"]["deployment"]["history"][0]["id"] == "1882990002"
    assert {a["remote_id"] for a in data["approvals"]} == {
        "run:10512344871/env:161171787",
        "run:10512350500/env:170100202",
    }
    assert all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in fake.requests)


async def test_the_tui_shows_runs_deployments_protection_and_approvals(tmp_path: Path) -> None:
    fake = FakeGitHub()
    app = CockpitApp(
        settings(tmp_path, "https://api.github.com"),
        clock=FixedClock(NOW),
        poll=False,
        client_factory=lambda spec: httpx.AsyncClient(transport=fake.transport()),
    )
    app.animation_level = "none"
    async with app.run_test(size=(120, 36)) as pilot:
        assert app.screen.query_one("#matrix", LiveTable).keys == ["payments-api", "shop"]
        await pilot.press("2")
        runs = app.screen.query_one("#runs", LiveTable)
        assert "acme/shop#10512344871" in runs.keys and len(runs.keys) == 8
        await pilot.press("3", "right_square_bracket", "right_square_bracket")
        protection = str(app.screen.query_one("#protection", Static).render())
        assert "prevent self-review" in protection and "wait timer 15m" in protection
        assert app.screen.query_one("#deployments", LiveTable).keys == ["payments-api", "shop"]
        await pilot.press("6")
        approvals = app.screen.query_one("#approvals", LiveTable)
        assert sorted(approvals.keys) == [
            "acme/payments/run:10512350500/env:170100202",
            "acme/shop/run:10512344871/env:161171787",
        ]
