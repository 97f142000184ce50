"""GitHub useful before complete: an early first frame, fail-closed while partial, budgets."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from cockpit import config
from cockpit.actions.gates import pipeline_gate
from cockpit.clock import FixedClock
from cockpit.errors import Unreachable
from cockpit.fleet.hub import Hub
from cockpit.fleet.snapshot import FleetSnapshot, SourceState
from cockpit.model import GateStatus
from connectors.github import graphql
from screens.sources import sources_text
from tests.fixtures.github.fake import NOW, TOKEN, FakeGitHub, connected, load
from tests.fixtures.github.fake_graphql import answer

CONFIG = """\
environments: [dev, staging, prod]
connectors:
  - name: github
    type: github
    options:
      token: env:GITHUB_TOKEN
      repositories: [acme/shop, {repo: acme/payments, service: payments-api}]
"""


def test_the_fake_answers_the_deployments_query_as_recorded() -> None:
    """The recorded answer (GitHub's schema: databaseId, commitOid, latestStatus, rateLimit)
    is what the fake serves, so the connector's tests run on that shape."""
    fake = FakeGitHub()
    query, variables = graphql.listing_query(["acme/shop", "acme/payments"])
    reset = datetime.fromtimestamp(fake.reset_at, UTC)
    served = answer(fake.repos, {"query": query, "variables": variables}, 4999, reset)
    assert served == load("graphql/deployments.json")


async def test_a_live_first_poll_publishes_runs_and_deployments_after_one_round() -> None:
    fake = FakeGitHub()
    async with connected(fake, FixedClock(NOW), live=True) as connector:
        done = asyncio.Event()
        connector._on_change = done.set  # how the hub hears that the rest is ready
        early = await connector.poll()
        first_round = sorted(r.path for r in fake.requests)
        await done.wait()
        complete = await connector.poll()
    # One round: both runs lists and one GraphQL query. The environments (due a full
    # check) wait for round two: sending them would cost the early frame time.
    assert first_round == [
        "/graphql",
        "/repos/acme/payments/actions/runs",
        "/repos/acme/shop/actions/runs",
    ]
    assert early.incomplete and len(early.deployments) == 4
    # Each repository's 5 newest runs: acme/shop's sixth (finished) follows with the rest.
    assert len(complete.runs) == 8
    assert {r.id for r in early.runs} == {r.id for r in complete.runs} - {"acme/shop#10511700002"}
    assert early.deployments == complete.deployments, "deployments are whole at once"
    assert all(r.stages == () for r in early.runs) and early.approvals == ()
    assert complete.incomplete == "" and len(complete.approvals) == 2
    assert any(r.stages for r in complete.runs)


async def test_environments_go_out_in_round_one_behind_the_runs_lists_unwaited_for() -> None:
    """Protection rules need nothing from round one: asked beside it, after the runs lists
    (which take the free slots first), they fill slots round one leaves idle; round one
    does not wait for them, and round two uses them instead of asking again. (Not for a
    live first poll's early frame: see the test above.)"""
    fake = FakeGitHub()
    held = asyncio.Event()
    sent: list[str] = []

    async def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        if request.url.path.endswith("/environments"):
            await held.wait()
        return fake.handle(request)

    fake.transport = lambda: httpx.MockTransport(handle)  # type: ignore[method-assign]
    async with connected(fake, FixedClock(NOW), concurrency=4) as connector:
        names = ["acme/shop", "acme/payments"]
        lists = await asyncio.wait_for(connector.fetcher.lists(names), 5)
        rest = [p for p in sent if p != "/graphql"]
        assert rest == [
            "/repos/acme/shop/actions/runs",
            "/repos/acme/payments/actions/runs",
            "/repos/acme/shop/environments",
            "/repos/acme/payments/environments",
        ]
        assert not any(t.done() for t in lists.environments.values()), "not waited for"
        held.set()
        facts = await asyncio.wait_for(connector.fetcher.details(names, lists), 5)
        again = len(sent)
        await connector.poll()  # not a full check: no environments asked
    assert all(f.environments for f in facts)
    assert sum(p.endswith("/environments") for p in sent) == 2
    assert not any(p.endswith("/environments") for p in sent[again:])


@pytest.mark.parametrize("failing", ["acme/shop/environments", "acme/shop/actions/runs"])
async def test_a_failed_read_in_round_one_fails_the_poll_and_leaves_no_read_behind(
    failing: str,
) -> None:
    fake = FakeGitHub()
    fake.fail(f"GET /repos/{failing}$", 500)
    never = asyncio.Event()

    async def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/repos/acme/payments/environments":
            await never.wait()  # still in flight when the poll fails
        return fake.handle(request)

    fake.transport = lambda: httpx.MockTransport(handle)  # type: ignore[method-assign]
    async with connected(fake, FixedClock(NOW)) as connector:
        with pytest.raises(Unreachable):
            await asyncio.wait_for(connector.poll(), 5)
        for _ in range(5):
            await asyncio.sleep(0)  # let cancelled reads finish cancelling
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert others == [], "a round-one read outlived its failed poll"


async def test_a_partial_frame_makes_no_gate_pass_until_the_rest_arrives(tmp_path: Path) -> None:
    fake = FakeGitHub()
    path = tmp_path / "cockpit.yaml"
    path.write_text(CONFIG)
    conf = config.load(str(path), env={"GITHUB_TOKEN": TOKEN})
    hub = Hub(
        conf.connectors,
        conf.environments,
        clock=FixedClock(NOW),
        client_factory=lambda spec: httpx.AsyncClient(transport=fake.transport()),
    )
    try:
        early = await hub.refresh()  # a live hub: the first poll publishes early
        complete = await hub.settle()
    finally:
        await hub.stop()
    state = early.sources["github"]
    assert state.ok is True and state.incomplete
    gate = pipeline_gate(early, "shop", "v2.3.1")
    assert gate.status is GateStatus.UNKNOWN and "still reading" in gate.evidence
    assert pipeline_gate(complete, "shop", "v2.3.1").status is GateStatus.PASS


async def test_both_rate_budgets_reach_the_sources_panel() -> None:
    fake = FakeGitHub()
    async with connected(fake, FixedClock(NOW)) as connector:
        obs = await connector.poll()
    budgets = {b.resource: b for b in obs.rate}
    assert budgets["REST"].limit == 5000 and budgets["REST"].remaining == fake.remaining
    # Two queries: the deployments (1 point) and the runs' jobs and reviews (1 point).
    assert fake.graphql_points == [1, 1]
    assert budgets["GraphQL"].remaining == fake.graphql_remaining == 4998
    assert budgets["GraphQL"].reset_at == datetime.fromtimestamp(fake.reset_at, UTC)
    state = SourceState("github", "github", True, NOW, NOW, "", 0, 60.0, rate=obs.rate)
    snap = replace(FleetSnapshot.empty((), NOW), sources={"github": state})
    text = sources_text(snap, NOW).plain
    assert f"REST budget {fake.remaining}/5000" in text and "GraphQL budget 4998/5000" in text
