"""A live first poll's early frame: each repository's newest runs, scanned off the front of
the runs lists; the second round parses them whole and fills in the rest, the same runs a
complete poll reads."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
from datetime import timedelta
from typing import Any

import pytest

from cockpit.clock import FixedClock
from cockpit.connect.http import Api
from cockpit.connect.http_json import LazyJson
from cockpit.errors import Unreachable
from cockpit.model import Observation
from connectors.github.connector import EARLY_RUNS
from connectors.github.runs_list import KEY, SMALL, RunPages
from tests.fixtures.github.fake import NOW, FakeGitHub, connected


def with_history(fake: FakeGitHub, count: int) -> FakeGitHub:
    """`count` earlier finished runs in each repository (20 runs for acme/shop at 14)."""
    for data in fake.repos.values():
        newest = max(data.runs, key=lambda r: r["created_at"])
        for i in range(count):
            run = copy.deepcopy(newest)
            stamp = (NOW - timedelta(days=9, hours=i)).isoformat().replace("+00:00", "Z")
            run.update(id=10500000000 + 1000 * len(data.runs) + i, created_at=stamp)
            run.update(status="completed", conclusion="success", run_number=i + 1)
            data.runs.append(run)
            data.jobs[run["id"]] = copy.deepcopy(data.jobs.get(newest["id"], []))
            for job in data.jobs[run["id"]]:
                job.update(run_id=run["id"], status="completed", conclusion="success")
    return fake


def newest_ids(fake: FakeGitHub, repo: str, count: int) -> set[str]:
    runs = sorted(fake.repos[repo].runs, key=lambda r: (r["created_at"], r["id"]), reverse=True)
    return {f"{repo}#{r['id']}" for r in runs[:count]}


def same(a: Observation, b: Observation) -> None:
    """Equal but for when each was observed."""
    assert {r.id: dataclasses.replace(r, observed_at=NOW) for r in a.runs} == {
        r.id: dataclasses.replace(r, observed_at=NOW) for r in b.runs
    }
    assert a.deployments == b.deployments or [
        dataclasses.replace(d, observed_at=NOW) for d in a.deployments
    ] == [dataclasses.replace(d, observed_at=NOW) for d in b.deployments]
    assert a.approvals == b.approvals and a.environments == b.environments


async def early_and_complete(fake: FakeGitHub) -> tuple[Observation, Observation]:
    async with connected(fake, FixedClock(NOW), live=True) as connector:
        done = asyncio.Event()
        connector._on_change = done.set
        early = await connector.poll()
        await done.wait()
        return early, await connector.poll()


async def test_the_early_frame_has_each_repository_s_newest_runs_and_the_rest_follow() -> None:
    fake = with_history(FakeGitHub(), 14)
    early, complete = await early_and_complete(fake)
    for repo in ("acme/shop", "acme/payments"):
        shown = {r.id for r in early.runs if r.id.startswith(repo + "#")}
        assert shown == newest_ids(fake, repo, EARLY_RUNS)
    assert early.incomplete and all(r.stages == () for r in early.runs)
    # The complete state: every run of the lists (20 a repository, as runs_per_repo reads),
    # the very runs a poll that is not live reads at once.
    async with connected(with_history(FakeGitHub(), 14), FixedClock(NOW)) as whole:
        reference = await whole.poll()
    assert len(complete.runs) == 20 + 16 and complete.incomplete == ""  # shop 6+14, payments 2+14
    same(complete, reference)
    early_runs = {r.id: r for r in early.runs}
    for run in complete.runs:
        if run.id in early_runs:  # the same facts, now with their stages
            assert dataclasses.replace(early_runs[run.id], stages=run.stages) == run


async def test_a_runs_list_broken_past_the_newest_runs_fails_the_second_round() -> None:
    """The early frame parses only the front of a body; the rest is checked when it is
    parsed whole, and a body that is not JSON fails the poll then, as it would have."""
    fake = with_history(FakeGitHub(), 14)
    raw = _runs_body(fake, "acme/shop")
    fake.fail(r"GET /repos/acme/shop/actions/runs$", 200, raw[: len(raw) - 40])
    async with connected(fake, FixedClock(NOW), live=True) as connector:
        done = asyncio.Event()
        connector._on_change = done.set
        early = await connector.poll()
        assert {r.id for r in early.runs if r.id.startswith("acme/shop#")} == newest_ids(
            fake, "acme/shop", EARLY_RUNS
        )
        await done.wait()
        with pytest.raises(Unreachable, match="runs returned malformed JSON"):
            await connector.poll()


@pytest.mark.parametrize("cut", [60, 3000])
async def test_a_runs_list_broken_among_the_newest_runs_fails_the_first_round(cut: int) -> None:
    fake = with_history(FakeGitHub(), 14)
    fake.fail(r"GET /repos/acme/shop/actions/runs$", 200, _runs_body(fake, "acme/shop")[:cut])
    async with connected(fake, FixedClock(NOW), live=True) as connector:
        with pytest.raises(Unreachable, match="runs returned malformed JSON"):
            await connector.poll()


def _runs_body(fake: FakeGitHub, repo: str) -> bytes:
    runs: list[Any] = sorted(
        fake.repos[repo].runs, key=lambda r: (r["created_at"], r["id"]), reverse=True
    )
    return json.dumps({"total_count": len(runs), "workflow_runs": runs[:20]}).encode()


def test_short_lists_are_parsed_whole_long_ones_only_at_the_front() -> None:
    """orjson parses a short list faster than the scanner reads its newest runs; a long
    one is scanned, and parsed whole only when the second round asks."""
    fake = with_history(FakeGitHub(), 14)
    parsed: list[int] = []

    def parse(raw: bytes) -> Any:
        parsed.append(len(raw))
        return json.loads(raw)

    api = Api(None, "https://api.github.com")  # type: ignore[arg-type]  # never sends
    long = _runs_body(fake, "acme/shop")
    short = json.dumps({"total_count": 6, "workflow_runs": json.loads(long)[KEY][:6]}).encode()
    assert len(short) <= SMALL < len(long)
    path = "/repos/acme/shop/actions/runs"
    early = RunPages(api, 20, [(path, LazyJson(long, parse))])
    newest = early.newest(EARLY_RUNS)
    assert parsed == [] and newest == json.loads(long)[KEY][:EARLY_RUNS]
    assert early.whole() == json.loads(long)[KEY] and parsed == [len(long)]
    small = RunPages(api, 20, [(path, LazyJson(short, parse))])
    assert small.newest(EARLY_RUNS) == json.loads(short)[KEY][:EARLY_RUNS]
    assert parsed == [len(long), len(short)]
