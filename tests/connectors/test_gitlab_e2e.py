"""GitLab connector end to end: through the hub, and `cockpit status --json` over loopback."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import httpx
from textual.widgets import Static

from cockpit import config
from cockpit.actions import gates
from cockpit.actions.policy import ALLOWED, Operator, Policy
from cockpit.app import CockpitApp
from cockpit.clock import FixedClock
from cockpit.config import PolicyConfig
from cockpit.connect import options
from cockpit.fleet.hub import Hub
from cockpit.model import Action, ActionKind, GateStatus, Status
from screens.overview import cell_text
from screens.widgets import LiveTable
from tests.cli import status_json
from tests.fixtures.gitlab.fake import NOW, TOKEN, GitLabFake, loopback

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """\
environments: [dev, staging, prod]
connectors:
  - name: gitlab
    type: gitlab
    interval: 30s
    timeout: 10s
    options:
      base_url: {url}
      token: env:GITLAB_TOKEN
      projects:
        - acme/shop
        - project: acme/payments-api
          service: payments
"""


def settings(tmp_path: Path, url: str = "https://gitlab.example.com") -> config.Settings:
    path = tmp_path / "cockpit.yaml"
    path.write_text(CONFIG.format(url=url))
    return config.load(str(path), env={"GITLAB_TOKEN": TOKEN})


def hub_on(fake: GitLabFake, conf: config.Settings, clock: FixedClock) -> Hub:
    return Hub(
        conf.connectors,
        conf.environments,
        clock=clock,
        client_factory=lambda spec: httpx.AsyncClient(transport=fake.transport()),
    )


async def test_the_hub_shows_runs_deployments_approvals_windows_and_protection(
    tmp_path: Path,
) -> None:
    hub = hub_on(GitLabFake(), settings(tmp_path), FixedClock(NOW))
    try:
        snap = await hub.refresh()
    finally:
        await hub.stop()
    assert snap.sources["gitlab"].ok is True
    assert snap.services == ("payments", "shop")
    assert len(snap.runs) == 11
    assert snap.runs["acme/shop#1874410"].status is Status.WAITING
    assert snap.cell("shop", "prod").deployment.version == "416d8ea1"  # type: ignore[union-attr]
    assert snap.cell("shop", "staging").deployment.version == "a91957a8"  # type: ignore[union-attr]
    assert snap.cell("payments", "prod").deployment.version == "7f6e5d4c"  # type: ignore[union-attr]
    (approval,) = snap.approvals
    assert (approval.remote_id, approval.required, approval.approvals) == (
        "deployment:4201",
        2,
        ("ops-kim",),
    )
    assert [w.name for w in snap.windows] == [
        "GitLab deploy freeze acme/shop #1",
        "GitLab deploy freeze acme/shop #2",
    ]
    prod = next(i for i in snap.environment_info if i.name == "prod")
    assert "acme/shop: 2 approvals required from group:release-managers" in prod.protection


async def test_a_failing_gitlab_is_a_clear_source_state_and_recovers(tmp_path: Path) -> None:
    fake = GitLabFake()
    fake.fail("/environments", 503, {"message": "503 Service Unavailable"}, times=2)
    hub = hub_on(fake, settings(tmp_path), FixedClock(NOW))
    try:
        failed = await hub.refresh()
        recovered = await hub.refresh()
    finally:
        await hub.stop()
    state = failed.sources["gitlab"]
    assert state.ok is False and state.failures == 1
    assert state.error.startswith("Unreachable: gitlab: GET /api/v4/projects/acme/")
    assert "-> 503: server error: 503 Service Unavailable" in state.error
    assert recovered.sources["gitlab"].ok is True
    assert recovered.approvals[0].remote_id == "deployment:4201"


def test_cockpit_status_json_against_a_loopback_fake(tmp_path: Path) -> None:
    fake = GitLabFake()
    with loopback(fake.handle) as url:
        path = tmp_path / "cockpit.yaml"
        path.write_text(CONFIG.format(url=url))
        out = status_json(path, env={**os.environ, "GITLAB_TOKEN": TOKEN}, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert TOKEN not in out.stdout + out.stderr
    data = json.loads(out.stdout)
    assert [(c["name"], c["type"], c["ok"]) for c in data["connectors"]] == [
        ("gitlab", "gitlab", True)
    ]
    assert data["pipelines"]["total"] == 11
    waiting = next(r for r in data["pipelines"]["recent"] if r["id"] == "acme/shop#1874410")
    assert (waiting["status"], waiting["stage"], waiting["author"]) == (
        "waiting",
        "deploy",
        "dev-ana",
    )
    shop = next(s for s in data["services"] if s["name"] == "shop")
    prod = shop["environments"]["prod"]["deployment"]
    assert (prod["version"], prod["status"], prod["deployed_by"]) == (
        "416d8ea1",
        "waiting",
        "dev-ana",
    )
    assert prod["history"][0] == {
        "version": "9f8e7d6c",
        "digest": "",
        "deployed_at": "2026-08-14T10:24:12Z",
        "deployed_by": "ops-kim",
        "id": "4001",
    }
    (approval,) = data["approvals"]
    assert approval["remote_id"] == "deployment:4201"
    assert (approval["required"], approval["approvals"]) == (2, ["ops-kim"])
    # Every request went through the fake, token in the PRIVATE-TOKEN header, paths encoded.
    assert all(r.headers["private-token"] == TOKEN for r in fake.requests)
    assert any(b"/projects/acme%2Fpayments-api/" in r.url.raw_path for r in fake.requests)


async def test_the_tui_shows_runs_deployments_protection_and_approvals(tmp_path: Path) -> None:
    fake = GitLabFake()
    app = CockpitApp(
        settings(tmp_path),
        clock=FixedClock(NOW),
        poll=False,
        client_factory=lambda spec: httpx.AsyncClient(transport=fake.transport()),
    )
    app.animation_level = "none"
    async with app.run_test(size=(120, 36)) as pilot:
        assert app.screen.query_one("#matrix", LiveTable).keys == ["payments", "shop"]
        await pilot.press("2")
        runs = app.screen.query_one("#runs", LiveTable)
        assert "acme/shop#1874410" in runs.keys and len(runs.keys) == 11
        await pilot.press("3", "right_square_bracket", "right_square_bracket")
        protection = str(app.screen.query_one("#protection", Static).render())
        assert "2 approvals required from group:release-managers" in protection
        deployments = app.screen.query_one("#deployments", LiveTable)
        assert deployments.keys == ["payments", "shop"]
        assert deployments.cell_texts("shop")[:2] == ["shop", "416d8ea1"]
        await pilot.press("6")
        approvals = app.screen.query_one("#approvals", LiveTable)
        assert approvals.keys == ["gitlab:deployment:4201"]
        detail = str(app.screen.query_one("#approval-detail", Static).render())
        assert "Deploy shop a91957a8 to production" in detail
        assert "deployment:4201" in detail and "approved by: ops-kim" in detail


def test_the_documented_example_config_is_valid(tmp_path: Path) -> None:
    doc = (ROOT / "docs/connectors/gitlab.md").read_text()
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "example.yaml"
    path.write_text(example)
    conf = config.load(str(path), env={}, resolve_secrets=False)
    assert conf.connectors and {s.type for s in conf.connectors} == {"gitlab"}


async def test_the_tests_gate_reads_each_pipelines_test_report_summary(tmp_path: Path) -> None:
    """GET /projects/:id/pipelines/:id/test_report_summary: its totals are the tests gate."""
    fake = GitLabFake()
    fake.fail("/pipelines/1874300/test_report_summary", 404, {"message": "404 Not found"})
    hub = hub_on(fake, settings(tmp_path), FixedClock(NOW))
    try:
        snap = await hub.refresh()
    finally:
        await hub.stop()
    release = snap.runs["acme/shop#1874410"].tests
    assert release is not None and (release.passed, release.failed, release.skipped) == (410, 0, 2)
    failed = snap.runs["acme/shop#1874377"].tests  # 2 failures and 1 error
    assert failed is not None and (failed.passed, failed.failed) == (395, 3)
    assert snap.runs["acme/shop#1874322"].tests is None  # no test report: proves nothing
    assert snap.runs["acme/shop#1874300"].tests is None  # an older GitLab: no such endpoint
    gate = gates.tests_gate(snap, "shop", "a91957a8")
    assert (gate.status, gate.evidence) == (
        GateStatus.PASS,
        "410 passed, 2 skipped in acme/shop#1874410",
    )
    assert gates.tests_gate(snap, "shop", "b71c2d3e").status is GateStatus.FAIL


async def test_a_deploy_freeze_blocks_deployments_but_not_ci_reruns(tmp_path: Path) -> None:
    """GitLab freezes deployments (CI_DEPLOY_FREEZE for deploy jobs), not pipelines."""
    hub = hub_on(GitLabFake(), settings(tmp_path), FixedClock(NOW))
    try:
        snap = await hub.refresh()
    finally:
        await hub.stop()
    saturday = datetime(2026, 8, 29, 10, 0, tzinfo=UTC)  # inside Friday 23:00 to Monday 08:00
    policy = Policy(options.parse(PolicyConfig, {}), production={"prod"})
    alice = Operator("alice")
    rerun = Action(ActionKind.RERUN, "shop", "prod", source="gitlab", remote_id="acme/shop#1874377")
    decision = policy.evaluate(rerun, alice, snap, saturday)
    assert decision.outcome == ALLOWED, decision.reasons
    rollback = Action(ActionKind.ROLLBACK, "shop", "prod", source="gitlab", version="9f8e7d6c")
    refused = policy.evaluate(rollback, alice, snap, saturday)
    assert refused.outcome != ALLOWED
    assert "blackout GitLab deploy freeze acme/shop #1" in refused.reasons[0]


async def test_a_deployment_blocked_on_approval_shows_waiting_in_the_overview(
    tmp_path: Path,
) -> None:
    hub = hub_on(GitLabFake(), settings(tmp_path), FixedClock(NOW))
    try:
        snap = await hub.refresh()
    finally:
        await hub.stop()
    assert cell_text(snap.cell("shop", "prod"), snap, NOW).plain == "416d8ea1 ‖"
    assert cell_text(snap.cell("shop", "staging"), snap, NOW).plain == "a91957a8 ✓"
