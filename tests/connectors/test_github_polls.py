"""GitHub connector polls: what a first poll reads, what follows later, and how wide it fans out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager

import httpx
import pytest

from cockpit import options as opt
from cockpit.clock import FixedClock
from cockpit.model import Status
from connectors.github import GitHubConnector, mapping
from connectors.github.fetch import BACKFILL_RATE
from tests.fixtures.github.fake import NOW, OPTIONS, TOKEN, FakeGitHub, connected

# Finished runs that did not fail: only a run's detail pane shows their stages.
DEFERRED = {
    "acme/shop#10511800001": "/repos/acme/shop/actions/runs/10511800001/jobs",
    "acme/shop#10511700002": "/repos/acme/shop/actions/runs/10511700002/jobs",
    "acme/payments#10512100100": "/repos/acme/payments/actions/runs/10512100100/jobs",
}


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
        yield GitHubConnector("github", options, client=client, clock=clock)


def expected_stages(fake: FakeGitHub, run_id: str) -> list[tuple[str, Status]]:
    repo, number = run_id.split("#")
    jobs = sorted(fake.repos[repo].jobs[int(number)], key=lambda j: j["created_at"])
    return [(j["name"], mapping.status(j["status"], j["conclusion"])) for j in jobs]


async def test_the_first_poll_reads_the_current_state_and_defers_history(
    clock: FixedClock,
) -> None:
    fake = FakeGitHub()
    async with connected(fake, clock) as connector:
        obs = await connector.poll()
        assert connector.fetcher.backlog == len(DEFERRED)
    shop, payments = "/repos/acme/shop", "/repos/acme/payments"
    assert sorted(r.path for r in fake.requests) == sorted(
        [
            *(f"{repo}/{what}" for repo in (shop, payments) for what in ("actions/runs",)),
            *(f"{repo}/{what}" for repo in (shop, payments) for what in ("deployments",)),
            *(f"{repo}/environments" for repo in (shop, payments)),
            f"{shop}/actions/runs/10512344871/jobs",  # waiting for a review
            f"{shop}/actions/runs/10512344871/pending_deployments",
            f"{shop}/actions/runs/10512211032/jobs",  # running
            f"{shop}/actions/runs/10512400990/jobs",  # queued
            f"{shop}/actions/runs/10511987345/jobs",  # failed: the runs list shows where
            f"{payments}/actions/runs/10512350500/jobs",  # waiting for a review
            f"{payments}/actions/runs/10512350500/pending_deployments",
            # Only each environment's live deployment's status.
            f"{shop}/deployments/1883004121/statuses",
            f"{shop}/deployments/1883001777/statuses",
            f"{shop}/deployments/1882990010/statuses",
            f"{payments}/deployments/1882000555/statuses",
        ]
    )
    runs = {r.id: r for r in obs.runs}
    assert len(runs) == 8, "every run is shown, with its status and conclusion"
    for run_id in DEFERRED:
        assert runs[run_id].stages == ()
        assert runs[run_id].status in (Status.SUCCEEDED, Status.CANCELLED)
        assert runs[run_id].finished_at is not None and runs[run_id].current_stage is None


async def test_later_polls_fill_in_what_was_deferred_and_nothing_is_lost(
    clock: FixedClock,
) -> None:
    fake = FakeGitHub()
    async with connected(fake, clock) as connector:
        first = await connector.poll()
        sent = len(fake.requests)
        second = await connector.poll()  # at once: nothing deferred is read yet
        assert {r.status for r in fake.requests[sent:]} == {304}
        assert second.runs is first.runs and connector.fetcher.backlog == len(DEFERRED)
        clock.advance(10)  # the hub's default interval
        sent = len(fake.requests)
        later = await connector.poll()
        read = [r for r in fake.requests[sent:] if r.status == 200]
        assert sorted(r.path for r in read) == sorted(DEFERRED.values())
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
    fake = FakeGitHub()
    async with connected(fake, clock, concurrency=1) as connector:
        await connector.poll()

        async def poll_after(seconds: float) -> list[str]:
            clock.advance(seconds)
            sent = len(fake.requests)
            await connector.poll()
            return [r.path for r in fake.requests[sent:] if r.status == 200]

        # At most one round trip's worth (the concurrency) per poll, newest run first.
        assert await poll_after(10) == [DEFERRED["acme/payments#10512100100"]]
        # A poll right after (as after an action) reads none: BACKFILL_RATE a second.
        assert await poll_after(0.5 / BACKFILL_RATE) == []
        assert await poll_after(0.5 / BACKFILL_RATE) == [DEFERRED["acme/shop#10511800001"]]
        assert await poll_after(10) == [DEFERRED["acme/shop#10511700002"]]
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
        if request.url.path.endswith("/statuses"):
            statuses_asked.set()
        elif request.url.path.endswith("/jobs"):
            # Held until a deployment's status is asked for: if statuses waited for the
            # jobs, this poll would never finish.
            await statuses_asked.wait()
        return fake.handle(request)

    async with through(handle, clock) as connector:
        obs = await asyncio.wait_for(connector.poll(), timeout=10)
    assert len(obs.runs) == 8 and len(obs.deployments) == 4


async def test_one_bounded_fan_out_across_repositories(clock: FixedClock) -> None:
    fake = FakeGitHub.fleet(20)
    in_flight, most = 0, 0

    async def handle(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        for _ in range(5):
            await asyncio.sleep(0)  # let every other ready request start
        in_flight -= 1
        return fake.handle(request)

    async with through(handle, clock, repositories=list(fake.repos)) as connector:
        assert connector.options.concurrency == 50, "the default: half GitHub's cap of 100"
        await connector.poll()
        assert most == 50, "requests of all repositories share one bound, and fill it"
        assert len(fake.requests) == 20 * 11, "11 requests per copy of acme/shop"
        most, sent = 0, len(fake.requests)
        await connector.poll()
    assert len(fake.requests) - sent == 20 * 3 and most <= 50
    assert {r.status for r in fake.requests[sent:]} == {304}
