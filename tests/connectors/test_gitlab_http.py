"""GitLab connector over a misbehaving wire: pages, ETags, rate limits, errors, bad bodies."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cockpit.clock import FixedClock
from cockpit.errors import ConnectorError, RateLimited, Rejected, Unauthorized, Unreachable
from tests.fixtures.gitlab import fake as gl
from tests.fixtures.gitlab.fake import GitLabFake

SHOP = {"projects": ["acme/shop"]}


def gets(fake: GitLabFake, fragment: str) -> list[httpx.URL]:
    return [
        r.url for r in fake.requests if r.method == "GET" and fragment in r.url.raw_path.decode()
    ]


@pytest.mark.parametrize("link_header", [True, False], ids=["link", "x-next-page"])
async def test_lists_are_read_across_pages(link_header: bool) -> None:
    fake = GitLabFake(max_per_page=2, link_header=link_header)
    async with gl.connector(fake, **SHOP) as c:
        obs = await c.poll()
    release = next(r for r in obs.runs if r.id == "acme/shop#1874410")
    assert [j for s in release.stages for j in [s.name]] == ["build", "test", "deploy"]
    assert len(obs.runs) == 9  # five pages of two pipelines
    pages = [u.params.get("page", "1") for u in gets(fake, "/pipelines/1874410/jobs")]
    assert pages == ["1", "2", "3"]  # five jobs, two per page
    assert [u.params.get("page", "1") for u in gets(fake, "/environments")] == ["1", "2"]
    assert {w.name for w in obs.windows} == {
        "GitLab deploy freeze acme/shop #1",
        "GitLab deploy freeze acme/shop #2",
    }


async def test_project_paths_are_url_encoded() -> None:
    fake = GitLabFake()
    async with gl.connector(fake, **SHOP) as c:
        await c.pipelines()
    assert fake.requests[0].url.raw_path.startswith(b"/api/v4/projects/acme%2Fshop/pipelines")
    assert fake.requests[0].headers["private-token"] == gl.TOKEN


async def test_unchanged_answers_come_back_as_304_and_are_served_from_the_cache() -> None:
    fake = GitLabFake()
    async with gl.connector(fake, **SHOP) as c:
        first = await c.poll()
        sent = len(fake.requests)
        second = await c.poll()
        stats = c.api.stats
    again = fake.requests[sent:]
    assert again and all(r.headers.get("if-none-match", "").startswith('W/"') for r in again)
    assert stats.not_modified == len(again)
    # Finished pipelines' jobs are not asked for again at all.
    assert not [r for r in again if b"/pipelines/1874322/jobs" in r.url.raw_path]
    assert second.runs == first.runs
    assert second.deployments == first.deployments
    assert second.approvals == first.approvals


async def test_rate_limit_exhaustion_says_when_to_retry_and_the_next_poll_recovers() -> None:
    clock = FixedClock(gl.NOW)
    reset = int(gl.NOW.timestamp()) + 30
    fake = GitLabFake()
    fake.fail(
        "/pipelines",
        429,
        {"message": {"error": "This endpoint has been requested too many times. Try again later."}},
        headers={
            "RateLimit-Limit": "2000",
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(reset),
            "Retry-After": "30",
        },
    )
    async with gl.connector(fake, clock, **SHOP) as c:
        with pytest.raises(RateLimited) as caught:
            await c.poll()
        assert caught.value.retry_after == 30
        assert "rate limited; retry in 30s" in str(caught.value)
        clock.advance(30)  # the budget resets; the next poll neither waits nor fails
        obs = await c.poll()
    assert len(obs.runs) == 9


async def test_a_429_without_headers_is_still_a_rate_limit() -> None:
    fake = GitLabFake()
    fake.fail("/deployments", 429, raw=b"Retry later")
    async with gl.connector(fake, **SHOP) as c:
        with pytest.raises(RateLimited) as caught:
            await c.deployments()
    assert caught.value.retry_after is None  # the hub backs off exponentially instead


@pytest.mark.parametrize(
    ("status", "body", "error", "words"),
    [
        (401, {"message": "401 Unauthorized"}, Unauthorized, "credentials refused"),
        (403, {"message": "403 Forbidden"}, Unauthorized, "forbidden"),
        (404, {"message": "404 Project Not Found"}, Rejected, "404 Project Not Found"),
        (422, {"message": {"base": ["is invalid"]}}, Rejected, "is invalid"),
        (500, {"message": "500 Internal Server Error"}, Unreachable, "server error"),
        (502, None, Unreachable, "server error"),
        (503, {"message": "503 Service Unavailable"}, Unreachable, "server error"),
    ],
)
async def test_http_errors_become_clear_connector_errors(
    status: int, body: Any, error: type[Exception], words: str
) -> None:
    fake = GitLabFake()
    fake.fail("/pipelines", status, body, times=10)
    async with gl.connector(fake, **SHOP) as c:
        with pytest.raises(error) as caught:
            await c.poll()
    message = str(caught.value)
    assert words in message
    assert f"-> {status}" in message and "/api/v4/projects/acme/shop/pipelines" in message


async def test_a_token_echoed_by_the_server_never_reaches_the_message() -> None:
    fake = GitLabFake()
    fake.fail("/pipelines", 401, {"message": f"401 Unauthorized: bad token {gl.TOKEN}"})
    async with gl.connector(fake, **SHOP) as c:
        with pytest.raises(Unauthorized) as caught:
            await c.pipelines()
    assert gl.TOKEN not in str(caught.value) and "***" in str(caught.value)


async def test_timeouts_are_unreachable() -> None:
    fake = GitLabFake()
    fake.raise_on("/environments", httpx.ReadTimeout("read timed out"))
    async with gl.connector(fake, **SHOP) as c:
        with pytest.raises(Unreachable, match="timed out"):
            await c.deployments()


@pytest.mark.parametrize(
    ("fragment", "raw", "words"),
    [
        ("/pipelines", b"<html><body>502 Bad Gateway</body></html>", "malformed JSON"),
        ("/deployments", b'[{"id": 4205, "iid": 391, "ref": "feat', "malformed JSON"),
        ("/freeze_periods", b'{"message": "not a list"}', "did not return a list"),
    ],
    ids=["html", "truncated", "wrong-type"],
)
async def test_malformed_and_truncated_bodies_are_clear_errors(
    fragment: str, raw: bytes, words: str
) -> None:
    fake = GitLabFake()
    fake.fail(fragment, 200, raw=raw, headers={"content-type": "application/json"})
    async with gl.connector(fake, **SHOP) as c:
        with pytest.raises(Unreachable, match=words):
            await c.poll()


async def test_a_payload_missing_documented_fields_is_named_not_a_crash() -> None:
    pipeline = {
        "id": 1,
        "iid": 1,
        "status": "running",
        "ref": "main",
        "created_at": "2026-08-24T09:00:00Z",
    }
    fake = GitLabFake()
    fake.fail("/pipelines", 200, [pipeline])
    fake.fail("/pipelines/1/jobs", 200, [])
    async with gl.connector(fake, **SHOP) as c:
        with pytest.raises(ConnectorError) as caught:
            await c.pipelines()
    assert str(caught.value) == "gitlab: acme/shop: cannot use GitLab's answer: missing field 'sha'"


async def test_bad_freeze_periods_are_refused_rather_than_ignored() -> None:
    period = {
        "id": 7,
        "freeze_start": "0 23 * * 5",
        "freeze_end": "0 8 * * 1",
        "cron_timezone": "Mars/Olympus",
    }
    fake = GitLabFake()
    fake.fail("/freeze_periods", 200, [period])
    async with gl.connector(fake, **SHOP) as c:
        with pytest.raises(Unreachable, match="unknown time zone 'Mars/Olympus'"):
            await c.windows()
