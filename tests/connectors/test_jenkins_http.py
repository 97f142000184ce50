"""Jenkins connector over a misbehaving wire: errors, bad bodies, rate limits, ETags.

wfapi does not paginate (reference §6.1: at most 10 runs per job, no paging), so there is
no page-following to test; `runs_per_job` trims what it sends.
"""

from __future__ import annotations

import httpx
import pytest

from cockpit.errors import RateLimited, Rejected, Unauthorized, Unreachable
from tests.fixtures.jenkins import fake as jk
from tests.fixtures.jenkins.fake import TOKEN, JenkinsFake

RUNS = "/jenkins/job/shop-release/wfapi/runs"


@pytest.mark.parametrize(
    ("status", "text", "error", "words"),
    [
        (
            401,
            "Invalid password/token for user: release-cockpit",
            Unauthorized,
            "credentials refused",
        ),
        (403, "release-cockpit is missing the Job/Read permission", Unauthorized, "Job/Read"),
        (404, "Not Found", Rejected, "-> 404"),
        (422, "Unprocessable", Rejected, "-> 422"),
        (500, "java.lang.NullPointerException", Unreachable, "server error"),
        (502, "Bad Gateway", Unreachable, "server error"),
        (503, "Jenkins is getting ready to work", Unreachable, "server error"),
    ],
)
async def test_http_errors_become_clear_connector_errors(
    status: int, text: str, error: type[Exception], words: str
) -> None:
    fake = JenkinsFake()
    fake.fail("/wfapi/runs", status, text)
    async with jk.connector(fake) as c:
        with pytest.raises(error) as caught:
            await c.poll()
    message = str(caught.value)
    assert words in message
    assert message.startswith(f"jenkins: GET {RUNS} -> {status}")
    assert TOKEN not in message


async def test_a_wrong_token_is_unauthorized_and_never_echoed() -> None:
    async with jk.connector(JenkinsFake(), username="someone-else") as c:
        with pytest.raises(Unauthorized, match="credentials refused"):
            await c.poll()
    fake = JenkinsFake()
    fake.fail("/wfapi/runs", 401, f"Invalid token {TOKEN}")
    async with jk.connector(fake) as c:
        with pytest.raises(Unauthorized) as caught:
            await c.pipelines()
    assert TOKEN not in str(caught.value) and "***" in str(caught.value)


async def test_timeouts_are_unreachable() -> None:
    fake = JenkinsFake()
    fake.raise_on("/pendingInputActions", httpx.ConnectTimeout("connect timed out"))
    async with jk.connector(fake) as c:
        with pytest.raises(Unreachable, match="timed out"):
            await c.approvals()


async def test_a_gateway_rate_limit_says_when_to_retry_and_the_next_poll_recovers() -> None:
    fake = JenkinsFake()
    fake.fail("/wfapi/runs", 429, "Too Many Requests", headers={"Retry-After": "20"})
    async with jk.connector(fake) as c:
        with pytest.raises(RateLimited) as caught:
            await c.poll()
        assert caught.value.retry_after == 20
        obs = await c.poll()
    assert len(obs.runs) == 8 and len(obs.approvals) == 2


async def test_etags_from_a_caching_proxy_are_honoured() -> None:
    fake = JenkinsFake(etags=True)
    async with jk.connector(fake) as c:
        first = await c.poll()
        sent = len(fake.requests)
        second = await c.poll()
        assert c.api.stats.not_modified == len(fake.requests) - sent == 4
    assert all("if-none-match" in r.headers for r in fake.requests[sent:])
    assert second.runs == first.runs and second.approvals == first.approvals


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"<html><body>Please wait while Jenkins is restarting</body></html>", "malformed JSON"),
        (
            b'[{"_links": {"self": {"href": "/jenkins/job/shop-release/16/wfapi/des',
            "malformed JSON",
        ),
        (b'{"_links": {}, "name": "shop-release", "runCount": 16}', "did not return a list"),
    ],
    ids=["html", "truncated", "wrong-type"],
)
async def test_malformed_and_truncated_bodies_are_clear_errors(raw: bytes, words: str) -> None:
    fake = JenkinsFake()
    fake.fail("/wfapi/runs", 200, raw=raw)
    async with jk.connector(fake) as c:
        with pytest.raises(Unreachable, match=words):
            await c.poll()


async def test_a_run_missing_documented_fields_is_named_not_a_crash() -> None:
    fake = JenkinsFake()
    fake.fail("/wfapi/runs", 200, raw=b'[{"id": "16", "name": "#16", "status": "SUCCESS"}]')
    async with jk.connector(fake) as c:
        with pytest.raises(Unreachable) as caught:
            await c.pipelines()
    assert str(caught.value) == (
        "jenkins: shop-release: cannot use Jenkins' answer: missing field 'startTimeMillis'"
    )
