"""Benchmark: the GitHub connector polling 50 repositories that answer in 100 ms each.

    .venv/bin/python -m bench.github [--repos 50] [--latency 0.1]

Each repository is a copy of the recorded acme/shop (6 runs, one waiting for review, 5
deployments over 3 environments), served by the fake GitHub with `latency` per request.
Measured in one run: one request's latency, a first full refresh, and a second refresh with
nothing changed (how many requests, how many answered 304, rate-limit budget spent).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass

from cockpit.clock import FixedClock
from tests.fixtures.github.fake import NOW, FakeGitHub, connected


@dataclass
class Figures:
    concurrency: int
    single: float
    full: float
    full_requests: int
    second: float
    second_requests: int
    second_304: int
    second_charged: int
    budget_before: int | None
    budget_after: int | None


async def measure(repos: int, latency: float, concurrency: int) -> Figures:
    fake = FakeGitHub.fleet(repos)
    fake.latency = latency
    names = list(fake.repos)
    async with connected(
        fake, FixedClock(NOW), repositories=names, concurrency=concurrency
    ) as connector:
        singles = []
        for _ in range(5):
            started = time.perf_counter()
            await connector.api.get(f"/repos/{names[0]}/environments", conditional=False)
            singles.append(time.perf_counter() - started)
        before = len(fake.requests)
        started = time.perf_counter()
        await connector.poll()
        full = time.perf_counter() - started
        first_done = len(fake.requests)
        charged, budget_before = fake.charged, connector.api.rate.remaining
        started = time.perf_counter()
        await connector.poll()
        second = time.perf_counter() - started
        again = fake.requests[first_done:]
        return Figures(
            concurrency=concurrency,
            single=statistics.median(singles),
            full=full,
            full_requests=first_done - before,
            second=second,
            second_requests=len(again),
            second_304=sum(1 for r in again if r.status == 304),
            second_charged=fake.charged - charged,
            budget_before=budget_before,
            budget_after=connector.api.rate.remaining,
        )


def report(f: Figures, repos: int, latency: float) -> list[str]:
    bound = -(-f.full_requests // f.concurrency) * latency
    ok = "met" if f.full <= 3 * f.single else "NOT met"
    ok2 = "met" if f.second <= 3 * f.single else "NOT met"
    second = f"{f.second * 1000:7.1f} ms = {f.second / f.single:4.1f}x one request"
    conditional = "yes" if f.second_304 == f.second_requests else "NO"
    return [
        f"concurrency {f.concurrency}, {repos} repositories, {latency * 1000:.0f} ms per request",
        f"  one request            {f.single * 1000:7.1f} ms (median of 5)",
        f"  first full refresh     {f.full * 1000:7.1f} ms = {f.full / f.single:4.1f}x one request"
        f"  ({f.full_requests} requests; floor {bound * 1000:.0f} ms at this concurrency);"
        f" target <= 3x: {ok}",
        f"  second refresh         {second}  ({f.second_requests} requests); target <= 3x: {ok2}",
        f"  second refresh 304s    {f.second_304}/{f.second_requests} conditional: {conditional}",
        f"  rate limit spent       {f.second_charged} (remaining {f.budget_before} -> "
        f"{f.budget_after}); target 0: {'met' if f.second_charged == 0 else 'NOT met'}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per request")
    args = parser.parse_args()
    for concurrency in (10, 100):  # the default, and GitHub's cap on concurrent requests
        figures = asyncio.run(measure(args.repos, args.latency, concurrency))
        print("\n".join(report(figures, args.repos, args.latency)))


if __name__ == "__main__":
    main()
