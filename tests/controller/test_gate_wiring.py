"""With `webhooks.github` configured, every cockpit lists the gate's requests and can answer them."""

from __future__ import annotations

from pathlib import Path

from cockpit import config
from cockpit.actions import targets
from cockpit.actions.policy import Operator
from cockpit.clock import FixedClock
from cockpit.controller.gatekeeper import GateDeps, Gatekeeper
from cockpit.controller.github_gate import GATE_SOURCE, parse_request
from cockpit.model import ActionKind
from cockpit.wiring import wire
from tests.controller.gate_kit import actor, fixture
from tests.fakes import T0

CONFIG = """\
environments: [staging, prod]
audit: {path: AUDIT}
identities: {carol: {github: octocat}}
policy: {environments: {prod: {gates: []}}}
webhooks:
  github:
    secret: env:HOOK_SECRET
    token: env:GATE_TOKEN
    services: {acme/cart: cart}
    environments: {production: prod}
"""
ENV = {"HOOK_SECRET": "whsec-1", "GATE_TOKEN": "ghs_x"}


async def test_a_tui_lists_the_request_and_may_approve_it(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG.replace("AUDIT", str(tmp_path / "audit.sqlite3")))
    settings = config.load(str(path), env=ENV)
    assert settings.webhooks.github is not None
    clock = FixedClock(T0)
    hub, executor, journal = wire(settings, actor=actor("alice"), clock=clock, live=False)
    executor.operator = Operator("alice")
    try:
        keeper = Gatekeeper(
            GateDeps(journal, hub, executor.policy, settings.webhooks, clock, actor("ctl"))
        )
        payload = fixture("github_deployment_protection_rule.json")
        assert await keeper.file(parse_request(payload, "d-1", settings.webhooks.github))
        await hub.settle()
        [pending] = [a for a in hub.snapshot.approvals if a.source == GATE_SOURCE]
        assert (pending.service, pending.environment, pending.requested_by) == (
            "cart",
            "prod",
            "octocat",
        )
        plan = executor.plan(targets.decide(pending, ActionKind.APPROVE))
        assert not plan.decision.refused, plan.decision.reasons
    finally:
        await hub.stop()
        journal.close()


async def test_without_webhooks_no_gate_source_is_wired(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"environments: [prod]\naudit: {{path: {tmp_path / 'a.sqlite3'}}}\n")
    settings = config.load(str(path), env={})
    hub, _, journal = wire(settings, actor=actor("alice"), clock=FixedClock(T0), live=False)
    try:
        assert hub.connector(GATE_SOURCE) is None
    finally:
        await hub.stop()
        journal.close()
