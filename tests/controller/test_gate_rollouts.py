"""Argo Rollouts' web metric and Flagger's confirm hooks, answered by a real Server.

The answer rests on the judge's verdict and the approvals policy asks for: passing and
fresh approves, failing rejects, anything missing or stale waits (never approves). Each
answer is audited once per change, however often the rollout asks.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cockpit.audit import AuditEvent, EventType, Target
from tests.controller.gate_kit import Rig, actor, canary_cell, fixture, source_ok

HOOKS: dict[str, Any] = {
    "max_verdict_age": "5m",
    "argo_rollouts": {},
    "flagger": {"canaries": {"shop/cart": "cart/prod"}},
}
ARGO = "/gate/argo-rollouts/cart/prod"


def _fleet(rig: Rig, decision: str | None, *, stale: bool = False, sampled_ago: float = 0) -> None:
    now = rig.clock.now()
    cells = {}
    if decision is not None:
        cells["cart"] = canary_cell(now, decision, sampled=now - timedelta(seconds=sampled_ago))
    rig.hub.show(**cells)
    rig.hub.snapshot = replace(
        rig.hub.snapshot,
        sources=MappingProxyType({"rollouts": source_ok("rollouts", now, stale=stale)}),
    )


async def _argo(rig: Rig, method: str = "GET") -> dict[str, Any]:
    answer = await rig.http.request(method, rig.url(ARGO))
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    return data


async def test_argo_answers_approve_reject_and_wait_from_the_verdict(tmp_path: Path) -> None:
    async with Rig(tmp_path, HOOKS) as rig:
        _fleet(rig, "pass")
        passing = await _argo(rig)
        assert passing["decision"] == "approve"
        assert passing["verdict"]["decision"] == "pass" and passing["canary_version"] == "2.8.0"
        assert passing["approvals"] == {"required": 0, "granted": []}

        _fleet(rig, "fail")
        failing = await _argo(rig, "POST")
        assert failing["decision"] == "reject" and "fails" in failing["reasons"][0]

        _fleet(rig, "marginal")
        assert (await _argo(rig))["decision"] == "wait"  # a human's call, never approve


async def test_argo_waits_when_evidence_is_missing_or_stale(tmp_path: Path) -> None:
    async with Rig(tmp_path, HOOKS) as rig:
        _fleet(rig, None)
        missing = await _argo(rig)
        assert missing["decision"] == "wait" and "no active canary" in missing["reasons"][0]

        _fleet(rig, "pass", stale=True)  # the rollout's source stopped answering
        stale = await _argo(rig)
        assert stale["decision"] == "wait" and "stale" in stale["reasons"][0]

        _fleet(rig, "pass", sampled_ago=600)  # a passing verdict on 10-minute-old samples
        old = await _argo(rig)
        assert old["decision"] == "wait" and "600s old" in old["reasons"][0]


async def test_argo_waits_for_the_approvals_policy_asks_for(tmp_path: Path) -> None:
    policy = {"environments": {"prod": {"two_person": ["promote"], "approvals": 1}}}
    async with Rig(tmp_path, HOOKS, policy) as rig:
        _fleet(rig, "pass")
        waiting = await _argo(rig)
        assert waiting["decision"] == "wait"
        assert waiting["approvals"] == {"required": 1, "granted": []}
        # A two-person promote of this canary, requested by carol and approved by dave.
        target = Target("cart", "prod", "2.7.11", "2.8.0", source="rollouts")
        for kind, who in (
            (EventType.APPROVAL_PENDING, "carol"),
            (EventType.APPROVAL_GRANTED, "dave"),
        ):
            extra = {"action": {"kind": "promote"}} if who == "carol" else {}
            await rig.journal.append(
                AuditEvent(kind, actor(who), target, "promote", "ok", request_id="r1", extra=extra)
            )
        approved = await _argo(rig)
        assert approved["decision"] == "approve" and approved["approvals"]["granted"] == ["dave"]


async def test_argo_refuses_unknown_environments_and_malformed_paths(tmp_path: Path) -> None:
    async with Rig(tmp_path, HOOKS) as rig:
        assert (await rig.http.get(rig.url("/gate/argo-rollouts/cart/qa"))).status_code == 404
        assert (await rig.http.get(rig.url("/gate/argo-rollouts/cart"))).status_code == 404


async def test_flagger_gets_200_only_when_the_cockpit_approves(tmp_path: Path) -> None:
    async with Rig(tmp_path, HOOKS) as rig:
        url = rig.url("/gate/flagger/confirm-promotion")
        body = fixture("flagger_confirm_promotion.json")
        _fleet(rig, "pass")
        assert (await rig.http.post(url, json=body)).status_code == 200
        _fleet(rig, "fail")
        halted = await rig.http.post(url, json=body)
        assert halted.status_code == 403 and halted.json()["decision"] == "reject"
        _fleet(rig, "pass", stale=True)
        assert (await rig.http.post(url, json=body)).status_code == 403
        other = {**body, "name": "checkout"}
        unmapped = await rig.http.post(url, json=other)
        assert unmapped.status_code == 403 and "not in webhooks.flagger" in unmapped.text


async def test_flagger_confirm_rollout_needs_no_verdict_but_the_window(tmp_path: Path) -> None:
    closed = {"windows": [{"name": "never", "schedule": "0 0 1 1 *", "duration": "1m",
                           "environments": ["prod"]}]}  # fmt: skip
    body = fixture("flagger_confirm_rollout.json")
    async with Rig(tmp_path, HOOKS) as rig:
        _fleet(rig, None)  # nothing runs yet: confirm-rollout comes before the canary
        assert (
            await rig.http.post(rig.url("/gate/flagger/confirm-rollout"), json=body)
        ).status_code == 200
    async with Rig(tmp_path / "closed", HOOKS, closed) as rig:
        _fleet(rig, None)
        answer = await rig.http.post(rig.url("/gate/flagger/confirm-rollout"), json=body)
        assert answer.status_code == 403 and "closed for changes" in answer.json()["reasons"][0]


async def test_polling_is_audited_once_per_change_of_answer(tmp_path: Path) -> None:
    async with Rig(tmp_path, HOOKS) as rig:
        url = rig.url("/gate/flagger/confirm-promotion")
        body = fixture("flagger_confirm_promotion.json")
        _fleet(rig, "marginal")
        for _ in range(5):  # Flagger asks again every analysis interval
            await rig.http.post(url, json=body)
        _fleet(rig, "pass")
        for _ in range(5):
            await rig.http.post(url, json=body)
        changes = [r for r in rig.records() if r.event_type == "gate.changed"]
        assert [r.outcome for r in changes] == ["wait", "approve"]
        assert changes[0].extra["gate"] == "flagger-confirm-promotion"

    # A restarted controller reads the last answer back instead of repeating it.
    (tmp_path / "again").mkdir()
    async with Rig(tmp_path / "again", HOOKS) as rig:
        rig.path = tmp_path / "audit.sqlite3"
        from cockpit.audit import open_store
        from cockpit.journal import Journal

        rig.journal = Journal(lambda: open_store(str(rig.path), clock=rig.clock))
        rig.keeper.deps.journal = rig.journal
        _fleet(rig, "pass")
        await rig.http.post(rig.url("/gate/flagger/confirm-promotion"), json=body)
        assert [r.outcome for r in rig.records() if r.event_type == "gate.changed"] == [
            "wait", "approve"
        ]  # fmt: skip
