"""GitHub jobs through GraphQL: the same stages and reviews as REST, REST where GraphQL
cannot tell the whole story, and a sensible point cost."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from cockpit.clock import FixedClock
from cockpit.errors import RateLimited, Rejected, Unreachable
from cockpit.model import Observation, Status
from connectors.github import checks, graphql, mapping
from tests.fixtures.github.fake import NOW, TOKEN, FakeGitHub, connected, load
from tests.fixtures.github.fake_graphql import answer

REPOS = ("acme/shop", "acme/payments")


def every_run(fake: FakeGitHub) -> list[tuple[str, dict[str, Any]]]:
    return [(repo, run) for repo in REPOS for run in fake.repos[repo].runs]


def rest_paths(fake: FakeGitHub) -> set[str]:
    return {r.path for r in fake.requests if r.method == "GET"}


async def poll(fake: FakeGitHub) -> Observation:
    async with connected(fake, FixedClock(NOW)) as connector:
        return await connector.poll()


def test_the_fake_answers_the_jobs_query_as_recorded() -> None:
    """The recorded answer (GitHub's schema: WorkflowRun.checkSuite.checkRuns with the
    upper-case CheckStatusState and CheckConclusionState, CheckRun.steps, DeploymentRequest
    with a DeploymentReviewer union) is what the fake serves for every recorded run."""
    fake = FakeGitHub()
    query, variables = checks.jobs_query([run for _, run in every_run(fake)])
    reset = datetime.fromtimestamp(fake.reset_at, UTC)
    served = answer(fake.repos, {"query": query, "variables": variables}, 4998, reset)
    assert served == load("graphql/jobs.json")


def test_recorded_graphql_jobs_map_to_what_the_rest_jobs_map_to() -> None:
    """Every recorded run, read both ways: the same jobs (ids, names, states, times, URLs,
    the steps a stage names), the same stages, the same pending reviews and approvals."""
    fake = FakeGitHub()
    recorded = load("graphql/jobs.json")["data"]
    runs = every_run(fake)
    assert len(runs) == 8
    for i, (repo, run) in enumerate(runs):
        read = checks.read(recorded[f"w{i}"])
        assert read is not None, run["id"]
        data = fake.repos[repo]
        rest_jobs = sorted(data.jobs[run["id"]], key=lambda j: (j["created_at"], j["id"]))
        assert [j["id"] for j in read.jobs] == [j["id"] for j in rest_jobs]
        for got, want in zip(read.jobs, rest_jobs, strict=True):
            for key in ("name", "status", "conclusion", "started_at", "completed_at", "html_url"):
                assert got[key] == want[key], (run["id"], key)
            if mapping.stage(want).name != want["name"]:  # a stage that names a step
                keys = ("number", "name", "status", "conclusion", "started_at", "completed_at")
                assert got["steps"] == [{k: s[k] for k in keys} for s in want["steps"]]
        rest_pending = data.pending.get(run["id"], []) if run["status"] == "waiting" else []
        via_graph = [mapping.stage(j) for j in read.jobs]
        via_rest = [mapping.stage(j) for j in rest_jobs]
        assert via_graph == via_rest, run["id"]
        assert len(read.pending) == len(rest_pending)
        for got_p, want_p in zip(read.pending, rest_pending, strict=True):
            assert got_p["environment"]["id"] == want_p["environment"]["id"]
            assert got_p["environment"]["name"] == want_p["environment"]["name"]
            for key in ("wait_timer", "wait_timer_started_at", "current_user_can_approve"):
                assert got_p[key] == want_p[key]
            assert [mapping.reviewer(r) for r in got_p["reviewers"]] == [
                mapping.reviewer(r) for r in want_p["reviewers"]
            ]
    # A running job names its current step, a failed one its failing step: both came.
    reads = [checks.read(recorded[f"w{i}"]) for i in range(8)]
    names = [mapping.stage(j).name for r in reads if r is not None for j in r.jobs]
    assert any("[step " in n for n in names) and any("[failed: " in n for n in names)


async def test_a_poll_through_graphql_equals_a_poll_through_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    graph = FakeGitHub()
    through_graphql = await poll(graph)
    monkeypatch.setattr(checks, "suited", lambda raw: False)  # every run through REST
    rest = FakeGitHub()
    through_rest = await poll(rest)
    assert through_graphql.runs == through_rest.runs
    assert through_graphql.approvals == through_rest.approvals
    assert through_graphql.deployments == through_rest.deployments
    assert through_graphql.environments == through_rest.environments
    assert len(rest_paths(rest)) - len(rest_paths(graph)) == 9, "7 jobs lists, 2 reviews"
    assert any(s.waiting_for_approval for r in through_graphql.runs for s in r.stages)
    assert {a.environment for a in through_graphql.approvals} == {"prod", "staging"}


async def test_a_run_with_more_jobs_than_asked_for_is_read_through_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    whole = await poll(FakeGitHub())
    monkeypatch.setattr(checks, "JOBS", 2)  # acme/shop's deploys have 3 jobs
    fake = FakeGitHub()
    obs = await poll(fake)
    assert obs.runs == whole.runs and obs.approvals == whole.approvals
    assert "/repos/acme/shop/actions/runs/10511800001/jobs" in rest_paths(fake)
    assert "/repos/acme/shop/actions/runs/10512344871/pending_deployments" in rest_paths(fake)
    assert "/repos/acme/shop/actions/runs/10511987345/jobs" not in rest_paths(fake), "2 jobs"


@pytest.mark.parametrize(
    ("limit", "read_through_rest"),
    [
        ("STEPS", "/repos/acme/shop/actions/runs/10511987345/jobs"),  # the failed test: 4 steps
        ("TELLING", "/repos/acme/shop/actions/runs/10511987345/jobs"),  # 2 failed jobs
        ("REVIEWERS", "/repos/acme/shop/actions/runs/10512344871/pending_deployments"),
    ],
)
async def test_steps_failed_jobs_or_reviewers_beyond_those_asked_for_fall_back_to_rest(
    monkeypatch: pytest.MonkeyPatch, limit: str, read_through_rest: str
) -> None:
    def recorded() -> FakeGitHub:
        fake = FakeGitHub()
        lint = fake.repos["acme/shop"].jobs[10511987345][0]
        lint.update(conclusion="failure")  # a second failed job
        lint["steps"][1].update(conclusion="failure")
        return fake

    whole = await poll(recorded())
    monkeypatch.setattr(checks, limit, 1)
    fake = recorded()
    obs = await poll(fake)
    assert obs.runs == whole.runs and obs.approvals == whole.approvals
    assert read_through_rest in rest_paths(fake)


async def test_a_failed_job_of_a_run_that_succeeded_is_read_through_rest() -> None:
    """A job with continue-on-error fails while its run succeeds: the query asked no steps
    for a succeeded run, and the stage must still name the failing step."""
    fake = FakeGitHub()
    job = fake.repos["acme/shop"].jobs[10511800001][0]
    job.update(conclusion="failure")
    job["steps"][1].update(conclusion="failure")
    obs = await poll(fake)
    assert "/repos/acme/shop/actions/runs/10511800001/jobs" in rest_paths(fake)
    run = next(r for r in obs.runs if r.id == "acme/shop#10511800001")
    assert run.stages[0].name == "build [failed: Run make test]"
    assert run.stages[0].status is Status.FAILED


async def test_a_rerun_attempt_is_read_through_rest() -> None:
    """A re-run's check suite may also hold the earlier attempts' check runs; REST's jobs
    list is the latest attempt's."""
    fake = FakeGitHub()
    run = next(r for r in fake.repos["acme/shop"].runs if r["id"] == 10511987345)
    run["run_attempt"] = 2
    await poll(fake)
    assert "/repos/acme/shop/actions/runs/10511987345/jobs" in rest_paths(fake)
    asked = [r.json["variables"] for r in fake.requests if "node(id:" in str(r.json)]
    assert "WFR_kwLO10511987345" not in asked[0].values()


async def test_a_run_graphql_cannot_resolve_fails_the_poll_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Deleted between the runs list and the jobs query: fail closed, as REST's 404 would."""
    from tests.fixtures.github import fake_graphql

    runs = fake_graphql._runs

    def without(repos: Any) -> Any:
        found = runs(repos)
        del found["WFR_kwLO10512100100"]
        return found

    monkeypatch.setattr(fake_graphql, "_runs", without)
    with pytest.raises(Rejected, match=r"acme/payments: run 10512100100: Could not resolve"):
        await poll(FakeGitHub())


async def test_the_first_poll_of_fifty_repositories_costs_a_few_points() -> None:
    """GitHub's documented cost: connections counted with their parents' `first`, summed,
    divided by 100. Steps are asked only where a stage names one, so 250 runs' jobs cost
    30 points, the deployments 1; a refresh with nothing new 1 (the deployments)."""
    fake = FakeGitHub.fleet(50)
    names = list(fake.repos)
    async with connected(fake, FixedClock(NOW), repositories=names) as connector:
        obs = await connector.poll()
        first = list(fake.graphql_points)
        await connector.poll()
        again = fake.graphql_points[len(first) :]
    # The deployments; the jobs of 250 runs in one query (132,500 of 150,000 nodes).
    assert first[0] == 1 and len(first) == 2
    assert sum(first) == 31 and again == [1]
    budget = {b.resource: b for b in obs.rate}["GraphQL"]
    assert budget.remaining == 5000 - sum(first), "the budget shown is the latest report"


def test_the_newest_budget_report_wins() -> None:
    at = datetime(2026, 8, 24, 10, 30, tzinfo=UTC)
    later = datetime(2026, 8, 24, 11, 30, tzinfo=UTC)
    a, b = graphql.Budget(4990, 5000, 1, at), graphql.Budget(4970, 5000, 20, at)
    assert graphql.newest(a, b) is b and graphql.newest(b, a) is b, "fewer points left"
    fresh = graphql.Budget(4999, 5000, 1, later)
    assert graphql.newest(b, fresh) is fresh, "a new window"
    assert graphql.newest(None, a) is a and graphql.newest(a, None) is a


def test_queries_hold_runs_up_to_the_node_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeGitHub.fleet(50)
    runs = [(repo, run) for repo, data in fake.repos.items() for run in data.runs]
    runs = [(repo, run) for repo, run in runs if run["status"] != "in_progress"]  # via REST
    assert [len(b) for b in checks.batches(runs)] == [250]
    monkeypatch.setattr(checks, "NODES", 10_000)
    split = checks.batches(runs)
    assert [r for b in split for r in b] == runs
    assert all(sum(checks.nodes(raw) for _, raw in b) <= 10_000 for b in split)
    for batch, after in itertools.pairwise(split):  # each as full as it goes
        assert sum(checks.nodes(raw) for _, raw in batch) + checks.nodes(after[0][1]) > 10_000


@pytest.mark.parametrize(
    ("status", "body", "kind", "words"),
    [
        (502, b"<html>bad gateway</html>", Unreachable, "-> 502"),
        (200, b"WRONG SHAPE", Unreachable, "acme/shop: run 10512400990: unexpected GraphQL"),
        (
            200,
            b'{"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]}',
            RateLimited,
            "GraphQL rate limit",
        ),
    ],
)
async def test_a_failed_jobs_query_fails_the_poll_clearly_and_the_next_recovers(
    status: int, body: bytes, kind: type[Exception], words: str
) -> None:
    fake = FakeGitHub()
    failed: list[httpx.Request] = []

    async def handle(request: httpx.Request) -> httpx.Response:
        if b"node(id:" in request.content and not failed:
            failed.append(request)
            answer = body
            if body == b"WRONG SHAPE":  # every run answered, each with nodes a number
                aliases = json.loads(request.content)["variables"]
                jobs = {"pageInfo": {"hasNextPage": False}, "nodes": 7}
                wrong = {a: {"checkSuite": {"checkRuns": jobs}} for a in aliases}
                answer = json.dumps({"data": wrong}).encode()
            headers = {"content-type": "application/json"}
            return httpx.Response(status, content=answer, headers=headers)
        return fake.handle(request)

    fake.transport = lambda: httpx.MockTransport(handle)  # type: ignore[method-assign]
    clock = FixedClock(NOW)
    async with connected(fake, clock) as connector:
        with pytest.raises(kind) as err:
            await connector.poll()
        assert words in str(err.value) and TOKEN not in str(err.value)
        clock.advance(61)  # past a rate limit's minute
        obs = await connector.poll()
    assert len(obs.runs) == 8 and any(r.stages for r in obs.runs) and len(obs.approvals) == 2
