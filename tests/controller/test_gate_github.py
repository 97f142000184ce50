"""GitHub custom deployment protection rules, end to end through a real Server and audit log.

Signed delivery -> pending request in Approvals -> approval through the executor ->
the controller POSTs `approved` to the callback a fake GitHub serves. A bad signature
is a 401 and a record; a redelivery files nothing; failures are retried and visible.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from cockpit.actions import targets
from cockpit.actions.outcome import SUCCEEDED
from cockpit.actions.people import PersonConfig
from cockpit.actions.policy import REFUSED
from cockpit.controller.gatekeeper import REFUSALS_PER_MINUTE, Gatekeeper
from cockpit.controller.github_gate import GATE_SOURCE
from cockpit.model import ActionKind
from tests.controller.gate_kit import SECRET, TOKEN, Rig, fixture, signed
from tests.fakes import pipeline_run

HOOKS: dict[str, Any] = {
    "github": {
        "secret": "env:HOOK_SECRET",
        "token": "env:GATE_TOKEN",
        "services": {"acme/cart": "cart"},
        "environments": {"production": "prod"},
        "retry": {"first": "1s", "max": "4s", "attempts": 4},
    }
}
NO_GATES: dict[str, Any] = {"environments": {"prod": {"gates": []}}}
DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958"


async def _approve(rig: Rig, user: str, reason: str = "release notes checked, go") -> Any:
    await rig.refresh()
    [approval] = rig.hub.snapshot.approvals
    executor = rig.executor(user)
    return await executor.submit(
        executor.plan(targets.decide(approval, ActionKind.APPROVE)), reason=reason
    )


async def test_a_signed_request_is_approved_and_github_is_told_approved(tmp_path: Path) -> None:
    await _approved_and_told(Rig(tmp_path, HOOKS, NO_GATES))


async def test_the_same_flow_on_the_team_store(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The queue lives in the audit log, so PostgreSQL (team mode) carries it the same way."""
    from cockpit.connect.option_values import Secret
    from cockpit.team import init as team_init
    from cockpit.team.store_config import StoreConfig
    from tests.pgserver import PASSWORD, SUPERUSER

    parts = urlsplit(pg_url)
    monkeypatch.setenv("COCKPIT_TEST_GATE_PW", PASSWORD)
    url = f"postgresql://{SUPERUSER}@{parts.hostname}:{parts.port}{parts.path}"
    store = StoreConfig(url=url, password=Secret("env:COCKPIT_TEST_GATE_PW"))
    team_init.init(store)
    await _approved_and_told(Rig(tmp_path, HOOKS, NO_GATES, store=store))


async def _approved_and_told(rig: Rig) -> None:
    async with rig:
        answer = await rig.deliver(
            fixture("github_deployment_protection_rule.json"), delivery=DELIVERY
        )
        assert answer.status_code == 202, answer.text
        await rig.refresh()
        [pending] = rig.hub.snapshot.approvals
        assert (pending.service, pending.environment, pending.source) == (
            "cart",
            "prod",
            GATE_SOURCE,
        )
        assert pending.title == "GitHub acme/cart main@6dcb09b to production (run 8813052791)"
        assert (pending.requested_by, pending.version, pending.run_id) == (
            "octocat",
            "6dcb09b",
            "8813052791",
        )
        await rig.keeper.settle()
        assert rig.github.calls == []  # nobody approved yet: GitHub keeps waiting

        outcome = await _approve(rig, "alice")
        assert outcome.status == SUCCEEDED, outcome.message
        await rig.keeper.settle()
        await rig.keeper.idle()

        [call] = rig.github.calls
        assert str(call.url) == (
            "https://api.github.com/repos/acme/cart/actions/runs/8813052791/deployment_protection_rule"
        )
        assert call.headers["authorization"] == f"Bearer {TOKEN}"
        body = rig.github.bodies()[0]
        assert (body["environment_name"], body["state"]) == ("production", "approved")
        assert "alice" in body["comment"]
        kinds = rig.kinds()
        assert kinds[-5:] == [
            "gate.requested", "action.requested", "action.succeeded", "gate.decided", "gate.answered"
        ]  # fmt: skip
        assert TOKEN not in str([r.extra for r in rig.records()])
        await rig.refresh()
        assert rig.hub.snapshot.approvals == ()  # answered: off the queue


async def test_a_bad_or_missing_signature_is_401_and_audited_without_the_body(
    tmp_path: Path,
) -> None:
    async with Rig(tmp_path, HOOKS, NO_GATES) as rig:
        payload = fixture("github_deployment_protection_rule.json")
        payload["hook_secret_echo"] = "password=hunter2"  # a body's words never reach the log
        bad = await rig.deliver(payload, delivery=DELIVERY, signature=signed(b"other body"))
        missing = await rig.deliver(payload, delivery="d-2", signature=None)
        wrong_key = await rig.deliver(
            payload, delivery="d-3", signature=signed(b"x", secret=SECRET + "x")
        )
        assert [bad.status_code, missing.status_code, wrong_key.status_code] == [401, 401, 401]
        refused = [r for r in rig.records() if r.event_type == "webhook.refused"]
        assert [r.extra["delivery"] for r in refused] == [DELIVERY, "d-2", "d-3"]
        assert refused[1].extra["why"] == "no X-Hub-Signature-256 header"
        assert "hunter2" not in str([(r.extra, r.reason) for r in rig.records()])
        assert "gate.requested" not in rig.kinds()


async def test_a_ping_is_answered_and_other_events_are_ignored(tmp_path: Path) -> None:
    async with Rig(tmp_path, HOOKS, NO_GATES) as rig:
        ping = await rig.deliver(fixture("github_ping.json"), delivery="p-1", event="ping")
        push = await rig.deliver({"ref": "refs/heads/main"}, delivery="p-2", event="push")
        assert (ping.status_code, push.status_code) == (200, 202)
        assert "gate.requested" not in rig.kinds()


async def test_a_redelivery_with_the_same_id_files_nothing_twice(tmp_path: Path) -> None:
    async with Rig(tmp_path, HOOKS, NO_GATES) as rig:
        payload = fixture("github_deployment_protection_rule.json")
        first = await rig.deliver(payload, delivery=DELIVERY)
        again = await rig.deliver(payload, delivery=DELIVERY)
        assert (first.status_code, again.status_code) == (202, 200)
        assert rig.kinds().count("gate.requested") == 1


async def test_an_unmapped_repository_or_foreign_callback_is_refused(tmp_path: Path) -> None:
    async with Rig(tmp_path, HOOKS, NO_GATES) as rig:
        other = fixture("github_deployment_protection_rule.json")
        other["repository"]["full_name"] = "acme/unknown"
        foreign = fixture("github_deployment_protection_rule.json")
        foreign["deployment_callback_url"] = (
            "https://evil.example/repos/acme/cart/actions/runs/1/deployment_protection_rule"
        )
        unmapped_env = fixture("github_deployment_protection_rule.json")
        unmapped_env["environment"] = "qa"  # neither mapped nor one of the cockpit's
        assert (await rig.deliver(other, delivery="u-1")).status_code == 422
        assert (await rig.deliver(foreign, delivery="u-2")).status_code == 422
        answer = await rig.deliver(unmapped_env, delivery="u-3")
        assert answer.status_code == 422 and "'qa' maps to no environment" in answer.text
        assert rig.kinds().count("webhook.refused") == 3
        assert "gate.requested" not in rig.kinds()


async def test_markup_and_control_characters_in_a_ref_are_made_inert(tmp_path: Path) -> None:
    async with Rig(tmp_path, HOOKS, NO_GATES) as rig:
        payload = fixture("github_deployment_protection_rule.json")
        payload["deployment"]["ref"] = "[bold red]main\x1b[2J\x1b]0;pwned\x07"
        assert (await rig.deliver(payload, delivery=DELIVERY)).status_code == 202
        await rig.refresh()
        [pending] = rig.hub.snapshot.approvals
        assert "\x1b" not in pending.title and "\x07" not in pending.title
        assert "^[[2J" in pending.title  # shown, not obeyed
        # The Approvals view wraps the title in a Text (never parsed as markup): the
        # brackets stay literal text.
        from rich.text import Text

        assert Text(pending.title).plain == pending.title


async def test_the_sender_cannot_approve_their_own_deployment(tmp_path: Path) -> None:
    people = {"alice": PersonConfig(github="octocat")}
    async with Rig(tmp_path, HOOKS, NO_GATES, people=people) as rig:
        await rig.deliver(fixture("github_deployment_protection_rule.json"), delivery=DELIVERY)
        outcome = await _approve(rig, "alice")
        assert outcome.status == REFUSED and "segregation of duties" in outcome.message
        assert "action.refused" in rig.kinds()
        await rig.keeper.settle()
        assert rig.github.calls == []


async def test_two_approvers_are_needed_where_policy_says_so(tmp_path: Path) -> None:
    policy = {"environments": {"prod": {"gates": [], "approvals": 2}}}
    async with Rig(tmp_path, HOOKS, policy) as rig:
        await rig.deliver(fixture("github_deployment_protection_rule.json"), delivery=DELIVERY)
        assert (await _approve(rig, "alice")).status == SUCCEEDED
        await rig.keeper.settle()
        assert rig.github.calls == []
        assert rig.keeper.waiting[DELIVERY] == ["1 of 2 approval(s)"]
        await rig.refresh()
        assert rig.hub.snapshot.approvals[0].approvals == ("alice",)
        assert (await _approve(rig, "bob")).status == SUCCEEDED
        await rig.keeper.settle()
        await rig.keeper.idle()
        assert [b["state"] for b in rig.github.bodies()] == ["approved"]


async def test_approvers_wait_for_the_promote_gates_before_github_is_told(tmp_path: Path) -> None:
    policy = {"environments": {"prod": {"gates": ["pipeline"]}}}
    async with Rig(tmp_path, HOOKS, policy) as rig:
        await rig.deliver(fixture("github_deployment_protection_rule.json"), delivery=DELIVERY)
        assert (await _approve(rig, "alice")).status == SUCCEEDED
        await rig.keeper.settle()
        assert rig.github.calls == []  # no pipeline run reported: unknown blocks in prod
        assert "gate pipeline is unknown" in rig.keeper.waiting[DELIVERY][0]
        await rig.keeper.settle()  # asked again, same reason: said once
        assert rig.kinds().count("gate.changed") == 1
        await rig.refresh()
        [pending] = rig.hub.snapshot.approvals
        assert "[approved; waiting: gate pipeline is unknown" in pending.title

        run = pipeline_run(rig.clock.now(), service="cart", version="6dcb09b", source="ci")
        from dataclasses import replace
        from types import MappingProxyType

        from tests.controller.gate_kit import source_ok

        rig.hub.snapshot = replace(
            rig.hub.snapshot,
            runs=MappingProxyType({run.id: run}),
            sources=MappingProxyType({"ci": source_ok("ci", rig.clock.now())}),
        )
        await rig.keeper.settle()
        await rig.keeper.idle()
        assert [b["state"] for b in rig.github.bodies()] == ["approved"]
        [decided] = [r for r in rig.records() if r.event_type == "gate.decided"]
        assert decided.evidence["gates"][0]["name"] == "pipeline"
        assert decided.evidence["gates"][0]["status"] == "pass"


async def test_a_rejection_tells_github_rejected_with_the_reason(tmp_path: Path) -> None:
    async with Rig(tmp_path, HOOKS, NO_GATES) as rig:
        await rig.deliver(fixture("github_deployment_protection_rule.json"), delivery=DELIVERY)
        await rig.refresh()
        [approval] = rig.hub.snapshot.approvals
        executor = rig.executor("bob")
        plan = executor.plan(targets.decide(approval, ActionKind.REJECT))
        outcome = await executor.submit(plan, reason="freeze for the audit week")
        assert outcome.status == SUCCEEDED, outcome.message
        await rig.keeper.settle()
        await rig.keeper.idle()
        [body] = rig.github.bodies()
        assert body["state"] == "rejected" and "freeze for the audit week" in body["comment"]


async def test_a_failing_callback_is_retried_with_backoff_and_stays_visible(tmp_path: Path) -> None:
    async with Rig(tmp_path, HOOKS, NO_GATES) as rig:
        rig.github.script = [502, 503, 502, 502]  # every attempt of this run fails
        await rig.deliver(fixture("github_deployment_protection_rule.json"), delivery=DELIVERY)
        await _approve(rig, "alice")
        await rig.keeper.settle()
        await rig.keeper.idle()
        assert len(rig.github.calls) == 4
        assert rig.sleeps == [1.0, 2.0, 4.0, 4.0]  # doubling, capped at retry.max
        failed = [r for r in rig.records() if r.event_type == "gate.callback_failed"]
        assert [r.extra["attempt"] for r in failed] == [1, 2, 3, 4]
        assert failed[0].extra["error"] == "HTTP 502 from GitHub"
        await rig.refresh()
        [still] = rig.hub.snapshot.approvals
        assert "approved; telling GitHub failed 4x: HTTP 502 from GitHub" in still.title

        # A restarted controller (a new Gatekeeper on the same log) owes the same answer.
        fresh = Gatekeeper(rig.deps)
        rig.deps.config.github.retry.attempts = 6  # type: ignore[union-attr]
        await fresh.settle()
        await fresh.idle()
        assert len(rig.github.calls) == 5 and rig.kinds()[-1] == "gate.answered"
        await rig.refresh()
        assert rig.hub.snapshot.approvals == ()


async def test_a_flood_of_unsigned_requests_does_not_flood_the_log(tmp_path: Path) -> None:
    async with Rig(tmp_path, HOOKS, NO_GATES) as rig:
        payload = fixture("github_ping.json")
        for i in range(REFUSALS_PER_MINUTE + 5):
            answer = await rig.deliver(payload, delivery=f"f-{i}", event="ping", signature=None)
            assert answer.status_code == 401
        assert rig.kinds().count("webhook.refused") == REFUSALS_PER_MINUTE
        rig.clock.advance(60)  # a minute later the next one is recorded, with the count
        await rig.deliver(payload, delivery="f-last", event="ping", signature=None)
        last = [r for r in rig.records() if r.event_type == "webhook.refused"][-1]
        assert (last.extra["delivery"], last.extra["unrecorded_before"]) == ("f-last", 5)
