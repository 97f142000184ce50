"""With `webhooks.github` configured, every cockpit lists the gate's requests and can answer them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cockpit import config
from cockpit.actions import targets
from cockpit.actions.policy import Operator
from cockpit.clock import FixedClock, SystemClock
from cockpit.controller.gatekeeper import GateDeps, Gatekeeper
from cockpit.controller.github_gate import GATE_SOURCE, parse_request
from cockpit.model import ActionKind
from cockpit.wiring import wire
from tests.cli import cockpit
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


async def _file_request(tmp_path: Path, me_is_sender: bool) -> Path:
    """A config whose log holds one filed request (d-1); its sender is me or carol."""
    import pwd

    me = pwd.getpwuid(os.getuid()).pw_name
    sender_is = me if me_is_sender else "carol"
    path = tmp_path / "config.yaml"
    text = CONFIG.replace("AUDIT", str(tmp_path / "audit.sqlite3"))
    path.write_text(text.replace("carol: {github: octocat}", f"{sender_is}: {{github: octocat}}"))
    settings = config.load(str(path), env=ENV)
    assert settings.webhooks.github is not None
    clock = SystemClock()  # the command below reads the log with the real clock
    hub, executor, journal = wire(settings, actor=actor("ctl"), clock=clock, live=False)
    try:
        keeper = Gatekeeper(
            GateDeps(journal, hub, executor.policy, settings.webhooks, clock, actor("ctl"))
        )
        payload = fixture("github_deployment_protection_rule.json")
        assert await keeper.file(parse_request(payload, "d-1", settings.webhooks.github))
    finally:
        await hub.stop()
        journal.close()
    return path


@pytest.mark.parametrize(("me_is_sender", "code"), [(False, 0), (True, 3)])
async def test_cockpit_approve_answers_a_gate_request_or_exits_3_when_refused(
    tmp_path: Path, me_is_sender: bool, code: int
) -> None:
    path = await _file_request(tmp_path, me_is_sender)
    out = cockpit(
        "approve", f"{GATE_SOURCE}:d-1", "-c", str(path), "--reason", "release notes read",
        "--yes", env={**os.environ, **ENV},
    )  # fmt: skip
    assert out.returncode == code, out.stdout + out.stderr
    from cockpit.audit import open_store

    store = open_store(str(tmp_path / "audit.sqlite3"), clock=SystemClock(), create=False)
    try:
        kinds = [(str(r.event_type), r.action) for r in store.records()]
    finally:
        store.close()
    if code == 3:
        assert "segregation of duties" in out.stderr + out.stdout
        assert ("action.refused", "approve") in kinds
    else:
        assert ("action.succeeded", "approve") in kinds
