"""GitLab's and Jenkins' test reports end to end: connector -> hub snapshot -> tests gate.

The recorded reports' failing cases must come out of the tests gate by name, so the
payload shapes the connectors pass on are the ones the parsers read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from cockpit import config
from cockpit.action_model import Action, ActionKind
from cockpit.actions import supply_gates
from cockpit.clock import FixedClock
from cockpit.fleet.hub import Hub
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import GateStatus
from tests.fixtures.gitlab import fake as gl
from tests.fixtures.jenkins import fake as jk
from tests.fixtures.jenkins.reports import ReportingJenkins

GITLAB = """\
environments: [dev, staging, prod]
connectors:
  - name: gitlab
    type: gitlab
    options:
      base_url: https://gitlab.example.com
      token: env:GITLAB_TOKEN
      projects: [acme/shop]
      test_reports: true
"""
JENKINS = f"""\
environments: [dev, staging, prod]
connectors:
  - name: jenkins
    type: jenkins
    options:
      url: {jk.BASE}
      username: {jk.USER}
      api_token: env:JENKINS_TOKEN
      jobs: [shop-release]
      services: {{shop-release: shop}}
      test_reports: true
"""


@asynccontextmanager
async def settled(
    tmp_path: Path,
    text: str,
    env: dict[str, str],
    handle: Callable[[httpx.Request], httpx.Response],
) -> AsyncIterator[FleetSnapshot]:
    path = tmp_path / "cockpit.yaml"
    path.write_text(text)
    conf = config.load(str(path), env=env)
    transport = httpx.MockTransport(handle)
    hub = Hub(
        conf.connectors,
        conf.environments,
        clock=FixedClock(gl.NOW),
        client_factory=lambda spec: httpx.AsyncClient(transport=transport),
    )
    try:
        await hub.refresh()
        yield await hub.settle()
    finally:
        await hub.stop()


def promote(version: str) -> Action:
    return Action(ActionKind.PROMOTE, "shop", "prod", version=version, from_environment="staging")


async def test_a_gitlab_pipelines_failing_cases_fail_the_tests_gate_by_name(tmp_path: Path) -> None:
    async with settled(tmp_path, GITLAB, gl.ENV, gl.GitLabFake().handle) as snap:
        failed = supply_gates.tests_gate(snap, promote("b71c2d3e"), None)
        green = supply_gates.tests_gate(snap, promote("416d8ea1"), None)
    assert failed is not None and green is not None
    assert failed.status is GateStatus.FAIL, failed.evidence
    assert "test_tax_rounding" in failed.evidence and "test_checkout_flow" in failed.evidence
    assert green.status is GateStatus.PASS, green.evidence


async def test_a_jenkins_builds_failing_case_fails_the_tests_gate_by_name(tmp_path: Path) -> None:
    async with settled(tmp_path, JENKINS, jk.ENV, ReportingJenkins().handle) as snap:
        failed = supply_gates.tests_gate(snap, promote("8e1f2a3"), None)
        fixed = supply_gates.tests_gate(snap, promote("9f0a1b2"), None)
    assert failed is not None and fixed is not None
    assert failed.status is GateStatus.FAIL, failed.evidence
    assert "roundsHalfEven" in failed.evidence
    assert fixed.status is GateStatus.PASS, fixed.evidence
