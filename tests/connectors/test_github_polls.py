"""GitHub connector polls: what a first poll reads, what follows later, and how wide it fans out."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from cockpit import config
from cockpit.actions.gates import pipeline_gate
from cockpit.clock import FixedClock
from cockpit.connect import options as opt
from cockpit.fleet.hub import Hub
from cockpit.model import Status
from connectors.github import GitHubConnector, mapping
from connectors.github.fetch import BACKFILL_RATE
from tests.fixtures.github.fake import NOW, OPTIONS, TOKEN, FakeGitHub, connected

HUB_CONFIG = """\
environments: [dev, staging, prod]
connectors:
  - name: github
    type: github
    options:
      token: env:GITHUB_TOKEN
      repositories: [acme/shop, {repo: acme/payments, service: payments-api}]
"""
SHOP, PAYMENTS = "/repos/acme/shop", "/repos/acme/payments"
# Finished runs a newer run of the same version supersedes (see `superseded`): only a
# run's detail pane shows their stages, so a first poll leaves them for later (later polls
# read them through GraphQL; the REST paths are where a fallback would read them).
DEFERRED = {
    "acme/shop#10512300001": f"{SHOP}/actions/runs/10512300001/jobs",
    "acme/shop#10512300002": f"{SHOP}/actions/runs/10512300002/jobs",
    "acme/payments#10512100050": f"{PAYMENTS}/actions/runs/10512100050/jobs",
}
# What a first poll of the recorded repositories reads: every run there is unfinished,
# failed, or the newest of its version. A run in progress has its jobs read through REST
# (conditional: free while its steps do not move); the others' jobs and reviews come in
# one GraphQL query beside them.
FIRST_POLL = [
    "/graphql",  # every repository's deployments and their latest statuses, in one query
    "/graphql",  # the jobs (and pending reviews) of every run below, in one query
    *(f"{repo}/actions/runs" for repo in (SHOP, PAYMENTS)),
    *(f"{repo}/environments" for repo in (SHOP, PAYMENTS)),
    f"{SHOP}/actions/runs/10512211032/jobs",  # running
]
FIRST_JOBS = {
    10512344871,  # acme/shop, waiting for a review: its jobs and pending deployments
    10512400990,  # queued
    10511987345,  # failed: the runs list shows where
    10511800001,  # succeeded, the newest run of v2.3.1
    10511700002,  # cancelled, the newest run of 0f1e2d3
    10512350500,  # acme/payments, waiting for a review
    10512100100,  # succeeded, the newest run of beef567
}


def number(run_key: str) -> int:
    return int(run_key.split("#")[1])


def jobs_asked(fake: FakeGitHub, since: int = 0) -> list[int]:
    """The runs whose jobs GraphQL queries asked for (node ids are "WFR_kwLO<run id>")."""
    return [
        int(node_id.removeprefix("WFR_kwLO"))
        for r in fake.requests[since:]
        if r.path == "/graphql" and "node(id:" in r.json["query"]
        for node_id in r.json["variables"].values()
    ]


def superseded(fake: FakeGitHub) -> FakeGitHub:
    """Add finished runs that a newer run of the same commit supersedes.

    Copies of recorded runs and jobs under new ids: CI of acme/shop's 7c1f0e9 (one run
    cancelled, then one that succeeded) before Deploy #412 of that commit, and an earlier
    Release of acme/payments' beef567.
    """
    plan = [
        ("acme/shop", 10512300001, 10512344871, "2026-08-24T09:05:00Z", "success", 10511800001),
        ("acme/shop", 10512300002, 10512344871, "2026-08-24T09:00:00Z", "cancelled", 10511700002),
        ("acme/payments", 10512100050, 10512100100, "2026-08-21T12:50:00Z", "success", 10512100100),
    ]
    for repo, run_id, of, created, conclusion, jobs_like in plan:
        data = fake.repos[repo]
        commit = next(r for r in data.runs if r["id"] == of)
        ci = next((r for r in data.runs if r["name"] == "CI"), commit)
        run = copy.deepcopy(ci)
        run.update(
            {k: commit[k] for k in ("head_sha", "head_branch", "head_commit", "display_title")},
            id=run_id,
            node_id=f"WFR_kwLO{run_id}",
            run_number=run["run_number"] + run_id % 100,
            status="completed",
            conclusion=conclusion,
            created_at=created,
            run_started_at=created,
            updated_at=created.replace(":00Z", ":59Z"),
        )
        data.runs.append(run)
        jobs = copy.deepcopy(data.jobs[jobs_like])
        for n, job in enumerate(jobs):
            job.update(id=run_id * 10 + n, run_id=run_id)
        data.jobs[run_id] = jobs
    return fake


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@asynccontextmanager
async def through(
    handler: Callable[[httpx.Request], Coroutine[None, None, httpx.Response]],
    clock: FixedClock,
    **kw: object,
) -> AsyncIterator[GitHubConnector]:
    """A connector whose requests go through `handler` (which may hold or count them)."""
    options = opt.parse(GitHubConnector.Options, {**OPTIONS, **kw})
    options.token.resolve({"GITHUB_TOKEN": TOKEN})
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        connector = GitHubConnector("github", options, client=client, clock=clock)
        connector.live = False  # each poll complete: these tests count one poll's requests
        yield connector


def expected_stages(fake: FakeGitHub, run_id: str) -> list[tuple[str, Status]]:
    repo, number = run_id.split("#")
    jobs = sorted(fake.repos[repo].jobs[int(number)], key=lambda j: j["created_at"])
    return [(j["name"], mapping.status(j["status"], j["conclusion"])) for j in jobs]


async def test_the_first_poll_reads_the_current_state_and_defers_history(
    clock: FixedClock,
) -> None:
    plain = FakeGitHub()
    async with connected(plain, clock) as connector:
        await connector.poll()
        assert connector.fetcher.backlog == 0
    assert sorted(r.path for r in plain.requests) == sorted(FIRST_POLL)
    assert sorted(jobs_asked(plain)) == sorted(FIRST_JOBS)
    fake = superseded(FakeGitHub())
    async with connected(fake, clock) as connector:
        obs = await connector.poll()
        assert connector.fetcher.backlog == len(DEFERRED)
    assert sorted(r.path for r in fake.requests) == sorted(FIRST_POLL), "nothing more"
    assert sorted(jobs_asked(fake)) == sorted(FIRST_JOBS)
    runs = {r.id: r for r in obs.runs}
    assert len(runs) == 8 + len(DEFERRED), "every run is shown, with status and conclusion"
    for run_id in DEFERRED:
        assert runs[run_id].stages == () and runs[run_id].current_stage is None
        assert runs[run_id].status in (Status.SUCCEEDED, Status.CANCELLED)
        assert runs[run_id].finished_at is not None


async def test_a_failed_run_is_read_at_once_even_when_superseded(clock: FixedClock) -> None:
    fake = superseded(FakeGitHub())
    run = next(r for r in fake.repos["acme/shop"].runs if r["id"] == 10512300002)
    run["conclusion"] = "timed_out"
    async with connected(fake, clock) as connector:
        obs = await connector.poll()
    assert 10512300002 in jobs_asked(fake)
    failed = next(r for r in obs.runs if r.id == "acme/shop#10512300002")
    assert failed.status is Status.FAILED and failed.stages


async def test_later_polls_fill_in_what_was_deferred_and_nothing_is_lost(
    clock: FixedClock,
) -> None:
    fake = superseded(FakeGitHub())
    async with connected(fake, clock) as connector:
        first = await connector.poll()
        sent = len(fake.requests)
        second = await connector.poll()  # at once: nothing deferred is read yet
        assert {r.status for r in fake.requests[sent:] if r.method == "GET"} == {304}
        assert second.runs is first.runs and connector.fetcher.backlog == len(DEFERRED)
        clock.advance(10)  # the hub's default interval
        sent = len(fake.requests)
        later = await connector.poll()
        # One GraphQL query for the deferred runs' jobs; every REST read still a 304.
        assert sorted(jobs_asked(fake, sent)) == sorted(number(k) for k in DEFERRED)
        assert {r.status for r in fake.requests[sent:] if r.method == "GET"} == {304}
        assert connector.fetcher.backlog == 0
    for run in later.runs:
        assert [(s.name.split(" [")[0], s.status) for s in run.stages] == expected_stages(
            fake, run.id
        ), run.id
    assert later.deployments is first.deployments and later.approvals is first.approvals
    assert later.environments == first.environments
    unchanged = [r for r in later.runs if r.id not in DEFERRED]
    assert all(any(r is f for f in first.runs) for r in unchanged)


async def test_deferred_reads_are_spread_out_newest_first(
    clock: FixedClock,
) -> None:
    fake = superseded(FakeGitHub())
    async with connected(fake, clock, concurrency=1) as connector:
        await connector.poll()

        async def poll_after(seconds: float) -> list[int]:
            clock.advance(seconds)
            sent = len(fake.requests)
            await connector.poll()
            assert not [r for r in fake.requests[sent:] if r.status == 200 and r.method == "GET"]
            return jobs_asked(fake, sent)

        # At most one round trip's worth (the concurrency) per poll, newest run first.
        assert await poll_after(10) == [10512300001]
        # A poll right after (as after an action) reads none: BACKFILL_RATE a second.
        assert await poll_after(0.5 / BACKFILL_RATE) == []
        assert await poll_after(0.5 / BACKFILL_RATE) == [10512300002]
        assert await poll_after(10) == [10512100050]
        assert await poll_after(10) == [] and connector.fetcher.backlog == 0


async def test_a_run_seen_before_is_read_as_soon_as_it_finishes(clock: FixedClock) -> None:
    fake = FakeGitHub()
    shop = fake.repos["acme/shop"]
    async with connected(fake, clock) as connector:
        await connector.poll()
        run = next(r for r in shop.runs if r["id"] == 10512211032)
        run.update(status="completed", conclusion="success", updated_at="2026-08-24T09:29:00Z")
        for job in shop.jobs[10512211032]:
            job.update(status="completed", conclusion="success")
            for step in job["steps"]:
                step.update(status="completed", conclusion="success")
        obs = await connector.poll()  # the same instant: no deferred read is due
    done = next(r for r in obs.runs if r.id == "acme/shop#10512211032")
    assert done.status is Status.SUCCEEDED
    assert [s.status for s in done.stages] == [Status.SUCCEEDED] * len(shop.jobs[10512211032])


async def test_deployments_do_not_wait_for_the_runs_jobs(clock: FixedClock) -> None:
    fake = FakeGitHub()
    statuses_asked = asyncio.Event()

    async def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/graphql":
            statuses_asked.set()
        elif request.url.path.endswith("/jobs"):
            # Held until the deployments' query is sent: if it waited for the jobs, this
            # poll would never finish.
            await statuses_asked.wait()
        return fake.handle(request)

    async with through(handle, clock) as connector:
        obs = await asyncio.wait_for(connector.poll(), timeout=10)
    assert len(obs.runs) == 8 and len(obs.deployments) == 4


async def test_one_bounded_fan_out_across_repositories(clock: FixedClock) -> None:
    fake = FakeGitHub.fleet(30)
    in_flight, most = {"rest": 0, "graphql": 0}, {"rest": 0, "graphql": 0}

    async def handle(request: httpx.Request) -> httpx.Response:
        kind = "graphql" if request.url.path == "/graphql" else "rest"
        in_flight[kind] += 1
        most[kind] = max(most[kind], in_flight[kind])
        for _ in range(5):
            await asyncio.sleep(0)  # let every other ready request start
        in_flight[kind] -= 1
        return fake.handle(request)

    async with through(handle, clock, repositories=list(fake.repos)) as connector:
        assert connector.options.concurrency == 50, "the default: half GitHub's cap of 100"
        await connector.poll()
        # REST requests of all repositories share one bound and fill it; GraphQL queries
        # (deployments of every repository, then the jobs of many runs each) run beside
        # them, at most 4: together far below GitHub's cap of 100.
        assert most["rest"] == 50 and 1 <= most["graphql"] <= 4
        # Per copy of acme/shop: runs list, environments, the running run's jobs; the
        # other 5 runs' jobs in one GraphQL query (79,500 of its 150,000 nodes).
        assert len(fake.requests) == 30 * 3 + 2
        assert len(jobs_asked(fake)) == 30 * 5
        most, sent = {"rest": 0, "graphql": 0}, len(fake.requests)
        await connector.poll()
    assert len(fake.requests) - sent == 30 * 2 + 1 and most["rest"] <= 50
    assert {r.status for r in fake.requests[sent:] if r.method == "GET"} == {304}


async def test_the_pipeline_gate_judges_the_same_before_and_after_the_backfill(
    tmp_path: Path,
) -> None:
    fake = superseded(FakeGitHub())
    clock = FixedClock(NOW)
    path = tmp_path / "cockpit.yaml"
    path.write_text(HUB_CONFIG)
    conf = config.load(str(path), env={"GITHUB_TOKEN": TOKEN})
    hub = Hub(
        conf.connectors,
        conf.environments,
        clock=clock,
        client_factory=lambda spec: httpx.AsyncClient(transport=fake.transport()),
    )
    try:
        before = await hub.settle()  # complete: a live first frame leaves gates unknown
        clock.advance(10)
        after = await hub.refresh()
    finally:
        await hub.stop()
    assert before.runs != after.runs, "the deferred stages arrived"
    versions = {(r.service, r.version) for r in after.runs.values()}
    assert len(versions) == 7
    for service, version in sorted(versions):
        assert pipeline_gate(before, service, version) == pipeline_gate(after, service, version)


async def test_a_run_whose_payload_and_stages_did_not_change_is_not_mapped_again(
    clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 304 hands back the cached payload: the run mapped last poll is reused as is,
    which `_stable` would keep anyway (a steady refresh of 1,000 runs maps none)."""
    calls: list[str] = []
    real = mapping.run

    def counted(raw: Any, repo: str, *args: Any, **kw: Any) -> Any:
        calls.append(f"{repo}#{raw['id']}")
        return real(raw, repo, *args, **kw)

    monkeypatch.setattr(mapping, "run", counted)
    fake = FakeGitHub()
    async with connected(fake, clock) as connector:
        first = await connector.poll()
        assert len(calls) == 8
        clock.advance(10)
        second = await connector.poll()
        assert calls[8:] == [] and second.runs is first.runs
        shop = fake.repos["acme/shop"]
        test = next(j for j in shop.jobs[10512211032] if j["status"] == "in_progress")
        test["steps"][2].update(status="completed", conclusion="success")
        test["steps"][3].update(status="in_progress")  # the next step: the stage's name moves
        clock.advance(10)
        third = await connector.poll()
    assert calls[8:] == ["acme/shop#10512211032"], "only the run whose stages moved"
    assert [r for r in third.runs if r.id != "acme/shop#10512211032"] == [
        r for r in first.runs if r.id != "acme/shop#10512211032"
    ]


async def test_a_deferred_run_graphql_cannot_tell_whole_is_filled_in_through_rest(
    clock: FixedClock,
) -> None:
    fake = superseded(FakeGitHub())
    rerun = next(r for r in fake.repos["acme/shop"].runs if r["id"] == 10512300001)
    rerun["run_attempt"] = 2  # a re-run: its check suite may hold the first attempt's jobs
    async with connected(fake, clock) as connector:
        await connector.poll()
        clock.advance(10)
        sent = len(fake.requests)
        later = await connector.poll()
    read = {r.path for r in fake.requests[sent:] if r.status == 200 and r.method == "GET"}
    assert read == {DEFERRED["acme/shop#10512300001"]}
    assert sorted(jobs_asked(fake, sent)) == [10512100050, 10512300002]
    for run in later.runs:
        assert [(s.name.split(" [")[0], s.status) for s in run.stages] == expected_stages(
            fake, run.id
        ), run.id
