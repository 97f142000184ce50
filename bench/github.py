"""Benchmark: the GitHub connector polling 50 repositories that answer in 100 ms each.

    .venv/bin/python -m bench.github [--repos 50] [--latency 0.1] [--concurrency N ...]

Each repository is a copy of the recorded acme/shop (6 runs: one waiting for review, one
running, one queued, one failed, one succeeded, one cancelled; 5 deployments over 3
environments), served by the fake GitHub with `latency` per request (REST and GraphQL).
A second fleet adds `--history` earlier runs of the release v2.3.1 to each copy (20 runs,
as `runs_per_repo` reads by default), whose jobs a first poll leaves for later. Measured in
one run, with the default options first: one request's latency; the first frame (a live
connector's first poll, published after the first round of requests) and the complete
state (when the second round it reports through `changed()` has been collected), both as
ratios to one request; a second refresh at once with nothing changed (requests, 304s,
rate limit spent); the polls that read the jobs the first one left for later (the clock
moved by a poll interval each time); and a steady-state refresh after them. GraphQL
queries are counted with their point cost as GitHub documents it (the fake works it out
from the query). The fake runs in the same process: one warm-up poll, untimed, lets it
encode its answers once, its objects are frozen out of the garbage collector's way
(`gc.freeze`), and it answers a request when it is sent, delivering the answer `latency`
later (GitHub's work is part of its latency; done after the wait, the fake's CPU queued on
the client's path), so the timed polls measure the client. The first frame of a live
connector holds each repository's 5 newest runs; the complete state holds every run.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import dataclasses
import gc
import statistics
import time
from dataclasses import dataclass
from datetime import timedelta

from cockpit.clock import FixedClock
from connectors.github import GitHubOptions
from tests.fixtures.github.fake import NOW, FakeGitHub, connected

INTERVAL = 10.0  # the hub's default poll interval, seconds
DEFAULT_CONCURRENCY = next(
    f.default for f in dataclasses.fields(GitHubOptions) if f.name == "concurrency"
)


def add_history(fake: FakeGitHub, count: int) -> None:
    """`count` earlier runs of the release v2.3.1 per repository, newest first, all succeeded."""
    for data in fake.repos.values():
        release = next(r for r in data.runs if r["id"] == 10511800001)
        for i in range(count):
            run_id = 10511000000 + i
            created = NOW - timedelta(days=5, hours=i + 1)
            stamp = created.isoformat().replace("+00:00", "Z")
            run = copy.deepcopy(release)
            run.update(id=run_id, run_number=release["run_number"] - i - 1, created_at=stamp)
            run.update(node_id=f"WFR_kwLO{run_id}")
            run.update(run_started_at=stamp, updated_at=stamp.replace(":00Z", ":59Z"))
            data.runs.append(run)
            jobs = copy.deepcopy(data.jobs[release["id"]])
            for n, job in enumerate(jobs):
                job.update(id=run_id * 10 + n, run_id=run_id)
            data.jobs[run_id] = jobs


@dataclass
class Refresh:
    seconds: float
    requests: int
    not_modified: int
    charged: int
    others: tuple[str, ...] = ()  # requests not answered 304, as "METHOD /path"
    queries: int = 0  # GraphQL queries among the requests
    points: int = 0  # their GraphQL point cost


@dataclass
class Figures:
    concurrency: int
    runs: int  # per repository
    single: float
    frame: float  # seconds to the first frame
    framed: tuple[int, int, int]  # repositories with runs in it, with deployments; its runs
    first: Refresh  # to the complete state
    second: Refresh
    backfill_polls: int
    deferred: int  # runs whose jobs the first poll left for later
    backfill: Refresh
    steady: Refresh


async def measure(repos: int, latency: float, concurrency: int, history: int) -> Figures:
    fake = FakeGitHub.fleet(repos)
    add_history(fake, history)
    names = list(fake.repos)
    clock = FixedClock(NOW)
    # One poll first, at no latency, by another connector: the fake encodes each answer
    # once (frozen data), so the polls timed below pay for the client's work, not for the
    # fake's JSON encoding (GitHub's own work is part of its latency).
    async with connected(fake, clock, repositories=names, concurrency=concurrency) as warm:
        await warm.poll()
    fake.latency = latency
    # The fake's data and answers (tens of thousands of objects) are no part of the client:
    # out of the collector's way, so that its full collections do not walk them.
    gc.collect()
    gc.freeze()
    try:
        return await _measure(fake, clock, names, concurrency)
    finally:
        gc.unfreeze()


async def _measure(
    fake: FakeGitHub, clock: FixedClock, names: list[str], concurrency: int
) -> Figures:
    async with connected(
        fake, clock, live=True, repositories=names, concurrency=concurrency
    ) as connector:
        done = asyncio.Event()
        connector._on_change = done.set  # as the hub listens for the rest of a first poll

        def spent(sent: int, points: int) -> tuple[int, int]:
            queries = sum(1 for r in fake.requests[sent:] if r.method == "POST")
            return queries, sum(fake.graphql_points[points:])

        async def refresh() -> Refresh:
            sent, charged, points = len(fake.requests), fake.charged, len(fake.graphql_points)
            started = time.perf_counter()
            await connector.poll()
            seconds = time.perf_counter() - started
            seen = fake.requests[sent:]
            done = sum(1 for r in seen if r.status == 304)
            others = tuple(f"{r.method} {r.path}" for r in seen if r.status != 304)
            return Refresh(
                seconds, len(seen), done, fake.charged - charged, others, *spent(sent, points)
            )

        singles = []
        for _ in range(5):
            started = time.perf_counter()
            await connector.api.get(f"/repos/{names[0]}/environments", conditional=False)
            singles.append(time.perf_counter() - started)
        sent, charged, points = len(fake.requests), fake.charged, len(fake.graphql_points)
        started = time.perf_counter()
        early = await connector.poll()
        frame = time.perf_counter() - started
        services = {r.service for r in early.runs}, {d.service for d in early.deployments}
        framed = (len(services[0]), len(services[1]), len(early.runs))
        await done.wait()
        await connector.poll()
        seconds = time.perf_counter() - started
        seen = fake.requests[sent:]
        first = Refresh(seconds, len(seen), 0, fake.charged - charged, (), *spent(sent, points))
        second = await refresh()
        polls, filled, deferred = 0, Refresh(0.0, 0, 0, 0), connector.fetcher.backlog
        while connector.fetcher.backlog and polls < 100:
            clock.advance(INTERVAL)
            one = await refresh()
            polls += 1
            filled = Refresh(
                filled.seconds + one.seconds,
                filled.requests + one.requests,
                filled.not_modified + one.not_modified,
                filled.charged + one.charged,
                filled.others + one.others,
                filled.queries + one.queries,
                filled.points + one.points,
            )
        clock.advance(INTERVAL)
        steady = await refresh()
        runs = len(fake.repos[names[0]].runs)
        median = statistics.median(singles)
        return Figures(
            concurrency, runs, median, frame, framed, first, second, polls, deferred, filled, steady
        )


def report(f: Figures, repos: int, latency: float) -> list[str]:
    def times(r: Refresh) -> str:
        return f"{r.seconds * 1000:7.1f} ms = {r.seconds / f.single:4.1f}x one request"

    def free(r: Refresh) -> str:
        kinds = dict.fromkeys(r.others)
        shown = ", ".join(list(kinds)[:3]) + (", ..." if len(kinds) > 3 else "")
        others = f" (not 304: {shown})" if kinds else ""
        return (
            f"{r.not_modified}/{r.requests} answered 304{others}, rate limit spent {r.charged}: "
            + ("met" if r.not_modified == r.requests and r.charged == 0 else "NOT met")
        )

    def graph(r: Refresh) -> str:
        return f"{r.queries} GraphQL ({r.points} points)"

    rest = f.first.requests - f.first.queries
    rounds = -(-rest // f.concurrency)
    default = " (the default)" if f.concurrency == DEFAULT_CONCURRENCY else ""
    frame_ok = "met" if f.frame <= 1.5 * f.single else "NOT met"
    ok = "met" if f.first.seconds <= 6 * f.single else "NOT met"
    return [
        f"concurrency {f.concurrency}{default}, {repos} repositories of {f.runs} runs, "
        f"{latency * 1000:.0f} ms per request",
        f"  one request            {f.single * 1000:7.1f} ms (median of 5)",
        f"  first frame            {f.frame * 1000:7.1f} ms = {f.frame / f.single:4.1f}x one "
        f"request (runs of {f.framed[0]} repositories, {f.framed[2]} in all; deployments of "
        f"{f.framed[1]}); target <= 1.5x: {frame_ok}",
        f"  complete state         {times(f.first)}  ({rest} REST, {rest / repos:.1f} per "
        f"repository: at least {rounds} round trips at this concurrency; {graph(f.first)}); "
        f"target <= 6x: {ok}",
        f"  second refresh         {times(f.second)}  ({f.second.requests} requests, "
        f"{graph(f.second)})",
        f"    conditional only     {free(f.second)}",
        f"  backfill               {f.backfill_polls} polls {INTERVAL:.0f}s apart for "
        f"{f.deferred} deferred runs' jobs: {graph(f.backfill)}, the deployments' included; "
        f"{f.backfill.requests - f.backfill.queries} REST requests, {f.backfill.charged} "
        f"charged",
        f"  steady-state refresh   {times(f.steady)}  ({f.steady.requests} requests, "
        f"{graph(f.steady)})",
        f"    conditional only     {free(f.steady)}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per request")
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=[DEFAULT_CONCURRENCY, 99],  # the default, then GitHub's cap less GraphQL's one
    )
    parser.add_argument("--history", type=int, default=14, help="earlier runs per repository")
    args = parser.parse_args()
    for concurrency in args.concurrency:
        for history in dict.fromkeys((0, args.history)):
            figures = asyncio.run(measure(args.repos, args.latency, concurrency, history))
            print("\n".join(report(figures, args.repos, args.latency)), flush=True)


if __name__ == "__main__":
    main()
