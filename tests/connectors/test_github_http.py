"""GitHub connector over HTTP: pages, ETags, rate limits and every failure a clear error."""

from __future__ import annotations

import json

import httpx
import pytest

from cockpit.clock import FixedClock
from cockpit.connect import http
from cockpit.errors import ConnectorError, RateLimited, Rejected, Unauthorized, Unreachable
from cockpit.model import Health
from connectors.github import graphql
from connectors.github.fetch import FULL_CHECK
from tests.fixtures.github.fake import LIMIT, NOW, TOKEN, FakeGitHub, connected, load


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def raw(name: str) -> bytes:
    return json.dumps(load(name)).encode()


async def test_link_pagination_is_followed_across_pages(clock: FixedClock) -> None:
    async with connected(FakeGitHub(), clock) as connector:
        whole = await connector.poll()
    paged = FakeGitHub(max_per_page=2)
    async with connected(paged, clock) as connector:
        obs = await connector.poll()
    assert obs.runs == whole.runs
    assert obs.deployments == whole.deployments
    assert obs.environments == whole.environments
    second = [r for r in paged.requests if r.query.get("page") == "2"]
    # The jobs of runs not in progress come through GraphQL (test_github_graphql_jobs.py
    # follows a run with more jobs than a query asks for back to these REST pages).
    assert {r.path for r in second} >= {"/repos/acme/shop/environments"}


async def test_an_environment_crowded_off_the_deployments_listed_is_asked_for_on_its_own(
    clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with connected(FakeGitHub(), clock) as connector:
        whole = await connector.poll()
    monkeypatch.setattr(graphql, "LISTED", 2)  # acme/shop's 5 deployments overflow it
    fake = FakeGitHub()
    async with connected(fake, clock) as connector:
        obs = await connector.poll()
    assert obs.deployments == whole.deployments
    queries = [r.json["query"] for r in fake.requests if r.path == "/graphql"]
    listings = [q for q in queries if "deployments(" in q]  # the other asks for runs' jobs
    assert len(listings) == 2 and "environments: [$e0]" in listings[1]


async def test_unchanged_data_costs_only_conditional_requests(clock: FixedClock) -> None:
    fake = FakeGitHub()
    async with connected(fake, clock) as connector:
        first = await connector.poll()
        charged, sent = fake.charged, len(fake.requests)
        gets = [r for r in fake.requests if r.method == "GET"]
        assert charged == len(gets) == connector.api.stats.requests
        second = await connector.poll()
        again = [r for r in fake.requests[sent:] if r.method == "GET"]
        assert again and all("if-none-match" in r.headers for r in again)
        assert {r.status for r in again} == {304}
        assert connector.api.stats.not_modified == len(again)
        assert fake.charged == charged, "a 304 costs no rate limit"
        # Finished runs' jobs are not asked for again at all.
        assert len(again) < len(gets)
        assert second.runs is first.runs and second.deployments is first.deployments
        assert second.approvals is first.approvals


async def test_between_full_checks_only_what_can_change_is_read(clock: FixedClock) -> None:
    fake = FakeGitHub()
    async with connected(fake, clock) as connector:
        first = await connector.poll()
        sent = len(fake.requests)
        clock.advance(30)
        await connector.poll()
        assert sorted(r.path for r in fake.requests[sent:]) == [
            "/graphql",  # deployments and their statuses: one query, every repository
            "/repos/acme/payments/actions/runs",
            "/repos/acme/shop/actions/runs",
            "/repos/acme/shop/actions/runs/10512211032/jobs",  # the one run in progress
        ]
        sent = len(fake.requests)
        clock.advance(FULL_CHECK)
        again = await connector.poll()
        paths = {r.path for r in fake.requests[sent:]}
        assert "/repos/acme/shop/environments" in paths
        # The waiting and queued runs' jobs and reviews again: one GraphQL query for all.
        jobs = [
            r.json
            for r in fake.requests[sent:]
            if r.path == "/graphql" and "node(" in r.json["query"]
        ]
        assert len(jobs) == 1 and set(jobs[0]["variables"].values()) == {
            "WFR_kwLO10512344871",  # waiting for a review
            "WFR_kwLO10512400990",  # queued
            "WFR_kwLO10512350500",  # acme/payments, waiting for a review
        }
        assert {r.status for r in fake.requests[sent:] if r.method == "GET"} == {304}
    assert again.runs is first.runs and again.environments == first.environments


async def test_a_new_status_on_a_settled_deployment_is_seen_when_it_is_touched(
    clock: FixedClock,
) -> None:
    fake = FakeGitHub()
    shop = fake.repos["acme/shop"]
    async with connected(fake, clock) as connector:
        await connector.poll()
        prod = shop.statuses[1882990010]
        prod.insert(0, {**prod[0], "id": 2700800099, "state": "failure", "description": "smoke"})
        dep = next(d for d in shop.deployments if d["id"] == 1882990010)
        dep["updated_at"] = "2026-08-24T09:29:59Z"
        clock.advance(30)
        obs = await connector.poll()
    live = next(d for d in obs.deployments if d.key == ("shop", "prod"))
    assert (live.health, live.message) == (Health.DEGRADED, "smoke")


async def test_a_304_serves_the_cached_body_and_a_change_is_seen(clock: FixedClock) -> None:
    fake = FakeGitHub()
    async with connected(fake, clock) as connector:
        await connector.poll()
        fake.repos["acme/payments"].runs[0].update(
            status="in_progress", updated_at="2026-08-24T09:29:00Z"
        )
        fake.repos["acme/payments"].pending.clear()
        obs = await connector.poll()
    run = next(r for r in obs.runs if r.id == "acme/payments#10512350500")
    assert run.status.value == "running"
    assert [a.service for a in obs.approvals] == ["shop"]


async def test_rate_limit_exhaustion_backs_off_until_the_reset_then_recovers(
    clock: FixedClock,
) -> None:
    fake = FakeGitHub()
    fake.remaining = 0
    async with connected(fake, clock) as connector:
        with pytest.raises(RateLimited) as err:
            await connector.poll()
        assert err.value.retry_after == 3600
        assert "rate limited; retry in 3600s" in str(err.value)
        sent = len(fake.requests)
        clock.advance(600)
        with pytest.raises(RateLimited) as err:
            await connector.poll()
        assert len(fake.requests) == sent, "nothing is sent before the reset"
        assert err.value.retry_after == 3000
        clock.advance(3001)
        fake.remaining = LIMIT
        obs = await connector.poll()
    assert len(obs.runs) == 8


async def test_secondary_rate_limit_429_honours_retry_after(clock: FixedClock) -> None:
    fake = FakeGitHub()
    fake.fail(
        r"POST /graphql$",
        429,
        raw("errors/429-secondary.json"),
        headers={"retry-after": "30"},
        times=1,
    )
    async with connected(fake, clock) as connector:
        with pytest.raises(RateLimited) as err:
            await connector.poll()
        assert err.value.retry_after == 30
        clock.advance(10)
        with pytest.raises(RateLimited):
            await connector.poll()
        clock.advance(21)
        assert len((await connector.poll()).deployments) == 4


async def test_a_secondary_limit_without_retry_after_waits_a_minute(clock: FixedClock) -> None:
    fake = FakeGitHub()
    fake.fail(r"GET /repos/acme/shop/actions/runs$", 403, raw("errors/429-secondary.json"), times=1)
    async with connected(fake, clock) as connector:
        with pytest.raises(RateLimited) as err:
            await connector.poll()
        assert err.value.retry_after == 60
        assert str(err.value).endswith("rate limited; waiting 60s")
        clock.advance(61)
        assert len((await connector.poll()).runs) == 8


async def test_requests_slow_down_before_the_budget_runs_out(
    clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    real_sleep = http.asyncio.sleep

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr(http.asyncio, "sleep", sleep)
    fake = FakeGitHub()
    fake.remaining = 200  # 4% of 5000 left, an hour to the reset
    async with connected(fake, clock) as connector:
        await connector.poll()
    assert waits and all(0 < w <= 5.0 for w in waits)


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind", "words"),
    [
        (401, "errors/401.json", {}, Unauthorized, "credentials refused: Bad credentials"),
        (
            403,
            "errors/403-forbidden.json",
            {},
            Unauthorized,
            "forbidden (missing scope or permission)",
        ),
        (404, "errors/404.json", {}, Rejected, "/repos/acme/shop/environments -> 404: Not Found"),
        (500, "errors/500.json", {}, Unreachable, "server error: Server Error"),
        (502, None, {"content-type": "text/html"}, Unreachable, "-> 502: server error"),
    ],
)
async def test_http_failures_become_clear_errors(
    clock: FixedClock,
    status: int,
    body: str | None,
    headers: dict[str, str],
    kind: type[ConnectorError],
    words: str,
) -> None:
    fake = FakeGitHub()
    payload = raw(body) if body else b"<html><body>Bad gateway</body></html>"
    fake.fail(r"GET /repos/acme/shop/environments$", status, payload, headers=headers)
    async with connected(fake, clock) as connector:
        with pytest.raises(ConnectorError) as err:
            await connector.poll()
    assert type(err.value) is kind
    assert words in str(err.value)
    assert TOKEN not in str(err.value)


async def test_a_timeout_is_unreachable_not_a_crash(clock: FixedClock) -> None:
    fake = FakeGitHub()
    fake.fail(r"GET /repos/acme/payments/actions/runs$", exc=httpx.ReadTimeout)
    async with connected(fake, clock) as connector:
        with pytest.raises(Unreachable, match="GET /repos/acme/payments/actions/runs timed out"):
            await connector.poll()


@pytest.mark.parametrize(
    "body",
    [
        b'{"total_count": 6, "workflow_runs": [{"id": 10512344871, "name": "Dep',  # truncated
        b"<!DOCTYPE html><html>Unicorn!</html>",  # malformed
        b"\xff\xfe\x00",
    ],
)
async def test_malformed_and_truncated_json_is_a_clear_error(
    clock: FixedClock, body: bytes
) -> None:
    fake = FakeGitHub()
    fake.fail(r"GET /repos/acme/shop/actions/runs$", 200, body)
    async with connected(fake, clock) as connector:
        with pytest.raises(Unreachable, match="returned malformed JSON"):
            await connector.poll()


@pytest.mark.parametrize(
    "body",
    [
        {"total_count": 1, "workflow_runs": "none"},
        {"total_count": 1, "workflow_runs": [{"name": "Deploy", "status": "queued"}]},
        {"total_count": 1, "workflow_runs": [{"id": 10511700002, "status": "x", "created_at": 5}]},
        {"total_count": 1, "workflow_runs": [7]},
    ],
)
async def test_valid_json_of_the_wrong_shape_is_a_clear_error(
    clock: FixedClock, body: object
) -> None:
    fake = FakeGitHub()
    fake.fail(r"GET /repos/acme/shop/actions/runs$", 200, body)
    async with connected(fake, clock) as connector:
        with pytest.raises(Unreachable) as err:
            await connector.poll()
    assert "acme/shop" in str(err.value) or "did not return a list" in str(err.value)


async def test_a_failure_in_one_repository_cancels_the_rest_of_the_poll(
    clock: FixedClock,
) -> None:
    fake = FakeGitHub()
    fake.fail(r"GET /repos/acme/payments/actions/runs$", 500, raw("errors/500.json"))
    async with connected(fake, clock) as connector:
        with pytest.raises(Unreachable, match="acme/payments"):
            await connector.poll()
        fake.faults.clear()
        assert len((await connector.poll()).runs) == 8, "the next poll recovers"
