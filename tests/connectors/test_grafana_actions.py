"""After-success annotations through the executor: only successes, never blocking, never leaking."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from cockpit import config
from cockpit.actions import targets
from cockpit.actions.autopilot import AUTO_ACTOR, Proposal, roll_back
from cockpit.actions.executor import Executor
from cockpit.actions.policy import Operator
from cockpit.audit import Actor, EventType, open_store
from cockpit.clock import FixedClock
from cockpit.config import ConnectorSpec, PolicyConfig
from cockpit.connect import options
from cockpit.connector import Capability, Connector, NoOptions
from cockpit.model import Action
from cockpit.wiring import wire
from connectors.grafana import GrafanaConnector, GrafanaOptions
from connectors.grafana.mapping import epoch_ms
from tests.fixtures.grafana.fake import NOW, OPTIONS, TOKEN, GrafanaFake

REASON = "5xx since the last deploy"


class Desk:
    """The demo fleet plus a Grafana connector, with the executor and audit log of one operator."""

    def __init__(
        self,
        folder: Path,
        transport: httpx.AsyncBaseTransport,
        token: str,
        extra: tuple[ConnectorSpec, ...],
    ) -> None:
        grafana = options.parse(GrafanaOptions, dict(OPTIONS))
        options.secrets_of(grafana)[0].resolve({"GRAFANA_TOKEN": token})
        settings = config.load(None, seed=7, scale=12, env={})
        settings = replace(
            settings,
            connectors=(
                *settings.connectors,
                ConnectorSpec("grafana", "grafana", GrafanaConnector, grafana, 60.0, 10.0, 180.0),
                *extra,
            ),
            policy=options.parse(
                PolicyConfig, {"environments": {"prod": {"unknown_gates": "warn"}}}
            ),
            audit=config.AuditConfig(str(folder / "audit.sqlite3")),
        )
        who = Actor(user="alice", host="testhost", ssh_client="", pid=4242, version="test")
        self.hub, self.executor, self.journal = wire(
            settings,
            actor=who,
            clock=FixedClock(NOW),
            client_factory=lambda spec: httpx.AsyncClient(transport=transport),
        )
        self.executor.operator = Operator("alice")
        self.path = folder / "audit.sqlite3"

    @property
    def ex(self) -> Executor:
        return self.executor

    def rollback(self, service: str = "cart") -> Action:
        built = targets.rollback(self.hub.snapshot, service, "prod")
        assert isinstance(built, Action), built
        return built

    def records(self) -> list[Any]:
        store = open_store(str(self.path), clock=FixedClock(NOW), create=False)
        try:
            return list(store.records())
        finally:
            store.close()


OpenDesk = Callable[..., Any]


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[OpenDesk]:
    opened: list[Desk] = []

    async def open_desk(
        transport: httpx.AsyncBaseTransport,
        token: str = TOKEN,
        extra: tuple[ConnectorSpec, ...] = (),
    ) -> Desk:
        d = Desk(tmp_path, transport, token, extra)
        await d.journal.call(lambda store: store.head())
        await d.hub.refresh()
        opened.append(d)
        return d

    yield open_desk
    for d in opened:
        await d.hub.stop()
        d.journal.close()


def of(records: list[Any], kind: EventType) -> list[Any]:
    return [r for r in records if r.event_type == kind]


async def test_a_successful_rollback_is_annotated_with_its_audit_record(desk: OpenDesk) -> None:
    fake = GrafanaFake()
    d = await desk(fake.transport())
    plan = d.ex.plan(d.rollback())
    out = await d.ex.submit(plan, reason=REASON, ticket="CHG-7", confirmation="cart")
    assert out.status == "succeeded", out.message

    (ok,) = of(d.records(), EventType.ACTION_SUCCEEDED)
    (body,) = fake.posted
    down = f"{plan.from_version}→{plan.to_version}"
    assert body == {
        "time": epoch_ms(ok.ts),
        "tags": [
            "cockpit",
            "action:rollback",
            "service:cart",
            "env:prod",
            f"version:{plan.to_version}",
        ],
        "text": f"rollback cart {down} in prod by alice: {REASON} (CHG-7, audit #{ok.seq})",
    }
    assert not of(d.records(), EventType.ANNOTATION_FAILED)


async def test_refused_and_failed_actions_are_not_annotated(desk: OpenDesk) -> None:
    fake = GrafanaFake()
    d = await desk(fake.transport())
    refused = await d.ex.submit(d.ex.plan(d.rollback()), reason="", confirmation="cart")
    assert refused.status == "refused"
    unknown = replace(d.rollback(), version="0.0.0-never-built")
    failed = await d.ex.submit(d.ex.plan(unknown), reason=REASON, confirmation="cart")
    assert failed.status == "failed", failed.message
    assert [r.method for r in fake.requests] == ["GET"], "only the first poll's read"
    assert not of(d.records(), EventType.ANNOTATION_FAILED)


async def test_a_grafana_failure_is_audited_and_the_action_still_succeeds(
    desk: OpenDesk, caplog: pytest.LogCaptureFixture
) -> None:
    fake = GrafanaFake(post_status=403)
    d = await desk(fake.transport())
    with caplog.at_level(logging.WARNING, logger="cockpit.actions.after_success"):
        out = await d.ex.submit(d.ex.plan(d.rollback()), reason=REASON, confirmation="cart")
    assert out.status == "succeeded", out.message
    records = d.records()
    (ok,) = of(records, EventType.ACTION_SUCCEEDED)
    (note,) = of(records, EventType.ANNOTATION_FAILED)
    assert (note.outcome, note.request_id, note.action) == ("failed", ok.request_id, "rollback")
    assert note.target == ok.target
    assert note.extra["connector"] == "grafana" and note.extra["record"] == ok.seq
    assert note.extra["error"].startswith("Unauthorized: grafana: POST /api/annotations -> 403")
    assert "annotations:create" in note.extra["error"] and "\n" not in note.extra["error"]
    assert "annotations:create" in caplog.text


async def test_a_grafana_that_never_answers_delays_the_result_by_the_timeout_only(
    desk: OpenDesk,
) -> None:
    reads = GrafanaFake()

    async def hangs_on_post(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            await asyncio.Event().wait()  # a Grafana that accepted the connection, then froze
        return reads.handle(request)

    d = await desk(httpx.MockTransport(hangs_on_post))
    d.ex.after_success.timeout = 0.3
    plan = d.ex.plan(d.rollback())
    started = time.monotonic()
    out = await d.ex.submit(plan, reason=REASON, confirmation="cart")
    elapsed = time.monotonic() - started
    assert out.status == "succeeded", out.message
    assert elapsed < 0.3 + 2.0, "held back by the timeout only, not the client's 10 s"
    (note,) = of(d.records(), EventType.ANNOTATION_FAILED)
    assert note.extra["error"] == "no answer within 0.3s"


async def test_the_token_never_reaches_the_audit_log_the_note_or_the_logs(
    desk: OpenDesk, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "glsa_Revoked0b1c2d3e4f5a6b7c8d9e0f1a2b_3c4d5e6f"
    fake = GrafanaFake()  # answers 401 with the token it was sent echoed in the body
    with caplog.at_level(logging.DEBUG):
        d = await desk(fake.transport(), token=wrong)
        assert d.hub.snapshot.sources["grafana"].ok is False
        out = await d.ex.submit(d.ex.plan(d.rollback()), reason=REASON, confirmation="cart")
    assert out.status == "succeeded" and wrong not in out.message
    (note,) = of(d.records(), EventType.ANNOTATION_FAILED)
    assert "-> 401" in note.extra["error"] and "***" in note.extra["error"]
    assert wrong not in d.hub.snapshot.sources["grafana"].error
    assert all(wrong not in repr(r) for r in d.records())
    stored = [p.read_bytes() for p in d.path.parent.glob(d.path.name + "*")]  # and the WAL
    assert stored and all(wrong.encode() not in b for b in stored)
    assert wrong not in caplog.text


class Listens(Connector):
    """A third party's listener that fails in its own way, next to Grafana."""

    CAPABILITIES = frozenset({Capability.ANNOTATIONS})
    USES_HTTP = False
    heard: list[int] = []

    async def annotations(self) -> list[Any]:
        return []

    async def action_done(self, done: Any) -> None:
        self.heard.append(done.record_seq)
        raise RuntimeError("chat webhook down\n\x1b[31mred")


async def test_every_listener_is_told_and_one_failing_spoils_only_its_own(
    desk: OpenDesk,
) -> None:
    fake = GrafanaFake()
    chat = ConnectorSpec("chat", "chat", Listens, NoOptions(), 60.0, 10.0, 180.0)
    d = await desk(fake.transport(), extra=(chat,))
    out = await d.ex.submit(d.ex.plan(d.rollback()), reason=REASON, confirmation="cart")
    assert out.status == "succeeded"
    records = d.records()
    (ok,) = of(records, EventType.ACTION_SUCCEEDED)
    assert len(fake.posted) == 1 and Listens.heard == [ok.seq]
    (note,) = of(records, EventType.ANNOTATION_FAILED)
    assert note.extra["connector"] == "chat"
    assert note.extra["error"] == "RuntimeError: chat webhook down^J^[[31mred"


async def test_an_automatic_rollback_is_annotated_as_the_autopilot(desk: OpenDesk) -> None:
    fake = GrafanaFake()
    d = await desk(fake.transport())
    canary = d.hub.snapshot.cell("payments", "prod").canary
    assert canary is not None and canary.verdict is not None
    verdict = replace(canary.verdict, decision="fail")
    proposal = Proposal("payments", "prod", canary.canary_version, "verdict fail", verdict, True)
    out = await roll_back(d.ex, proposal, d.ex.actor)
    assert not isinstance(out, str) and out.status == "succeeded", out
    (ok,) = of(d.records(), EventType.ACTION_SUCCEEDED)
    (body,) = fake.posted
    assert body["tags"][:4] == ["cockpit", "action:rollback", "service:payments", "env:prod"]
    assert f" by {AUTO_ACTOR}: " in body["text"] and body["text"].endswith(f"(audit #{ok.seq})")
