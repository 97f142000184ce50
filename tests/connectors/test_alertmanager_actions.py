"""Silencing through the cockpit: the targets builders, the policy defaults for silences,
and the alerts gate over a live, a failing and a silenced Alertmanager."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from cockpit.actions import targets
from cockpit.actions.gates import alerts_gate
from cockpit.actions.policy import ALLOWED, REFUSED, Operator, Policy
from cockpit.actions.policy_config import PolicyConfig, WindowConfig
from cockpit.config import ConnectorSpec
from cockpit.connect import options as opt
from cockpit.connect.options import Duration
from cockpit.fleet.hub import Hub
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import Action, ActionKind, Environment, GateStatus
from connectors.alertmanager import AlertmanagerConnector
from tests.fixtures.alertmanager import fake as am
from tests.fixtures.alertmanager.fake import NOW, SILENCED, FakeAlertmanager

ENVS = (Environment("staging", 0), Environment("prod", 1, True))
WEB_ERRORS = "a91a93edded764e1"
BACKLOG = "5c0e7d1f2a3b4c6d"  # QueueBacklog, payments, staging: silenced by SILENCED
SAM = Operator("sam", frozenset({"sre"}))
# A blackout all day, every day: nothing that a change window governs may run.
FREEZE = WindowConfig("freeze", "0 0 * * *", Duration(86400), kind="deny")


async def snapshot(fake: FakeAlertmanager | None = None) -> FleetSnapshot:
    fake = fake or FakeAlertmanager()
    spec = ConnectorSpec("alertmanager", "alertmanager", AlertmanagerConnector, am.options(),
                         30.0, 5.0, 90.0)  # fmt: skip
    hub = Hub(
        [spec],
        ENVS,
        clock=am.FixedClock(NOW),
        client_factory=lambda s: httpx.AsyncClient(transport=fake.transport()),
    )
    try:
        return await hub.refresh()
    finally:
        await hub.stop()


def built(value: targets.Built) -> Action:
    assert isinstance(value, Action), value
    return value


# Builders ---------------------------------------------------------------------------------
async def test_silence_builds_from_a_fingerprint_or_the_alert_itself() -> None:
    snap = await snapshot()
    by_id = built(targets.silence(snap, WEB_ERRORS, "2h"))
    alert = next(a for a in snap.alerts if a.fingerprint == WEB_ERRORS)
    assert built(targets.silence(snap, alert, "2h")) == by_id
    assert (by_id.kind, by_id.service, by_id.environment) == (ActionKind.SILENCE, "web", "prod")
    assert (by_id.source, by_id.remote_id, by_id.param("duration")) == (
        "alertmanager",
        WEB_ERRORS,
        "2h",
    )


async def test_silence_refuses_an_unknown_a_silenced_or_a_fingerprintless_alert() -> None:
    snap = await snapshot()
    assert targets.silence(snap, "0000", "2h") == "alert 0000 is no longer reported"
    assert targets.silence(snap, BACKLOG, "2h") == f"QueueBacklog is already silenced by {SILENCED}"
    alert = replace(next(a for a in snap.alerts if a.fingerprint == WEB_ERRORS), fingerprint="")
    assert "only Alertmanager alerts can be silenced" in str(targets.silence(snap, alert, "2h"))


async def test_unsilence_expires_the_alerts_only_silence_or_the_one_named() -> None:
    snap = await snapshot()
    action = built(targets.unsilence(snap, BACKLOG))
    assert (action.kind, action.remote_id, action.service, action.environment) == (
        ActionKind.UNSILENCE,
        SILENCED,
        "payments",
        "staging",
    )
    assert built(targets.unsilence(snap, BACKLOG, SILENCED)) == action
    assert targets.unsilence(snap, WEB_ERRORS) == "HighErrorRate is not silenced"
    assert "does not silence QueueBacklog" in str(targets.unsilence(snap, BACKLOG, "other-id"))


async def test_unsilence_asks_which_when_several_silences_hold_an_alert() -> None:
    fake = FakeAlertmanager()
    fake.alerts[2]["status"]["silencedBy"] = [SILENCED, "b2"]
    why = targets.unsilence(await snapshot(fake), BACKLOG)
    assert why == f"QueueBacklog is silenced by 2 silences ({SILENCED}, b2): name one"


# Policy -----------------------------------------------------------------------------------
def policy(**extra: object) -> Policy:
    return Policy(opt.parse(PolicyConfig, {**extra}), production={"prod"})


async def test_silences_are_not_governed_by_change_windows() -> None:
    snap = await snapshot()
    closed = Policy(PolicyConfig(windows=[FREEZE]), production={"prod"})
    silence = built(targets.silence(snap, WEB_ERRORS, "2h"))
    unsilence = replace(silence, kind=ActionKind.UNSILENCE, remote_id=SILENCED)
    rollback = Action(ActionKind.ROLLBACK, "web", "prod", "alertmanager")
    assert closed.evaluate(rollback, SAM, snap, NOW, capable=True).outcome != ALLOWED  # closed
    for action in (silence, unsilence):
        decision = closed.evaluate(action, SAM, snap, NOW, capable=True)
        assert decision.outcome == ALLOWED, decision.reasons
        assert not decision.glass_reasons


async def test_a_silence_in_production_needs_a_reason_but_no_typed_confirmation() -> None:
    snap = await snapshot()
    decision = policy().evaluate(built(targets.silence(snap, WEB_ERRORS, "2h")), SAM, snap, NOW)
    assert decision.production and not decision.typed_confirmation
    assert decision.reason_min_length == 10
    typed = policy(environments={"prod": {"typed_confirmation": True}})
    assert typed.evaluate(
        built(targets.silence(snap, WEB_ERRORS, "2h")), SAM, snap, NOW
    ).typed_confirmation


async def test_who_may_silence_is_a_permission_of_its_own() -> None:
    snap = await snapshot()
    strict = policy(roles={"oncall": ["olga"]}, permissions={"silence": ["oncall"]})
    action = built(targets.silence(snap, WEB_ERRORS, "2h"))
    decision = strict.evaluate(action, SAM, snap, NOW)
    assert decision.outcome == REFUSED
    assert "sam may not silence in prod: needs one of the roles oncall" in decision.reasons
    olga = strict.evaluate(action, Operator("olga"), snap, NOW)
    assert olga.outcome == ALLOWED


# The alerts gate --------------------------------------------------------------------------
async def test_the_alerts_gate_is_unknown_while_alertmanager_is_down() -> None:
    fake = FakeAlertmanager()
    fake.faults[("GET", "/api/v2/alerts")] = (503, b"upstream down", "text/plain")
    gate = alerts_gate(await snapshot(fake), "web", "prod")
    assert gate.status is GateStatus.UNKNOWN and "cannot tell" in gate.evidence


async def test_the_alerts_gate_fails_on_a_firing_critical_alert() -> None:
    gate = alerts_gate(await snapshot(), "web", "prod")
    assert (gate.status, gate.evidence) == (
        GateStatus.FAIL,
        "critical alert firing: HighErrorRate",
    )


async def test_a_silenced_critical_alert_still_fails_the_gate_and_says_silenced() -> None:
    gate = alerts_gate(await snapshot(), "payments", "staging")
    assert (gate.status, gate.evidence) == (
        GateStatus.FAIL,
        "critical alert firing: QueueBacklog (silenced)",
    )


async def test_the_alerts_gate_passes_when_alertmanager_answers_without_critical_alerts() -> None:
    fake = FakeAlertmanager()
    fake.alerts = [a for a in fake.alerts if a["fingerprint"] == "39148defff60329e"]  # a warning
    gate = alerts_gate(await snapshot(fake), "web", "prod")
    assert gate.status is GateStatus.PASS


@pytest.mark.parametrize("kind", [ActionKind.SILENCE, ActionKind.UNSILENCE])
def test_config_names_silence_and_unsilence_in_permissions(kind: ActionKind) -> None:
    parsed = opt.parse(
        PolicyConfig, {"roles": {"sre": ["sam"]}, "permissions": {kind.value: ["sre"]}}
    )
    assert parsed.permissions == {kind.value: ["sre"]}


async def test_the_cli_finds_an_alert_by_name_or_fingerprint_in_its_cell() -> None:
    fake = FakeAlertmanager()
    twin = dict(fake.alerts[1], fingerprint="b0b0b0b0b0b0b0b0")
    twin["labels"] = {**fake.alerts[1]["labels"], "instance": "web-2"}
    snap = await snapshot()
    alert = targets.alert_named(snap, "web", "prod", "HighErrorRate")
    assert not isinstance(alert, str) and alert.fingerprint == WEB_ERRORS
    assert targets.alert_named(snap, "web", "prod", WEB_ERRORS) == alert
    assert targets.alert_named(snap, "web", "staging", "HighErrorRate") == (
        "no alert HighErrorRate for web in staging (firing: none)"
    )
    assert targets.alert_named(snap, "", "", "Nope") == (
        "no alert Nope for (no service) in (no environment) (firing: DiskFull)"
    )
    fake.alerts.append(twin)
    both = targets.alert_named(await snapshot(fake), "web", "prod", "HighErrorRate")
    assert both == (
        "2 alerts are named HighErrorRate there: give one fingerprint "
        f"({WEB_ERRORS}, b0b0b0b0b0b0b0b0)"
    )


async def test_an_alert_naming_no_service_adds_no_blank_service_row() -> None:
    snap = await snapshot()
    assert snap.services == ("payments", "web")  # the overview's rows
    assert any(a.name == "DiskFull" and a.service == "" for a in snap.alerts)  # still reported
