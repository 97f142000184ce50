"""GitLab connector: pipeline test reports as tests-gate evidence (recorded payloads)."""

from __future__ import annotations

import json

import httpx
import pytest

from cockpit.clock import FixedClock
from cockpit.errors import ConfigError
from cockpit.evidence_model import GITLAB_TEST_REPORT
from cockpit.model import EvidenceKind
from tests.fixtures.gitlab import fake as gl
from tests.fixtures.gitlab.fake import TOKEN, GitLabFake

REPORT = "/api/v4/projects/acme%2Fshop/pipelines/1874377/test_report"


def report_reads(fake: GitLabFake) -> list[str]:
    return [r.url.raw_path.decode() for r in fake.requests if r.url.path.endswith("/test_report")]


async def test_no_report_is_read_unless_configured() -> None:
    fake = GitLabFake()
    async with gl.connector(fake) as c:
        obs = await c.poll()
    assert obs.evidence == () and report_reads(fake) == []


async def test_finished_pipelines_reports_are_documents_as_gitlab_sent_them() -> None:
    fake = GitLabFake()
    async with gl.connector(fake, test_reports=True) as c:
        obs = await c.poll()
    shop = {e.run_id: e for e in obs.evidence if e.service == "shop"}
    assert set(shop) == {"1874377", "1874322"}  # 1874350 and 1874300 have none (404)
    failed = shop["1874377"]
    assert json.loads(failed.body) == gl.load("acme-shop/pipelines/1874377/test_report.json")
    assert (failed.kind, failed.media_type, failed.problem) == (
        EvidenceKind.TESTS,
        GITLAB_TEST_REPORT,
        "",
    )
    assert (failed.subject, failed.version) == (
        "b71c2d3e4f5061728394a5b6c7d8e9f00112233a",
        "b71c2d3e",
    )
    assert failed.ref == "acme/shop pipeline 1874377 test_report" and failed.source == "gitlab"
    # Running, pending and manual pipelines are not read: their report is partial.
    assert not any("/1874402/" in p or "/1874410/" in p for p in report_reads(fake))


async def test_a_finished_report_is_read_once() -> None:
    fake = GitLabFake()
    async with gl.connector(fake, test_reports=True) as c:
        await c.poll()
        reads = len(report_reads(fake))
        again = await c.poll()
    assert len(report_reads(fake)) == reads
    assert {e.run_id for e in again.evidence if e.service == "shop"} == {"1874377", "1874322"}


async def test_only_the_newest_finished_pipelines_are_read() -> None:
    fake = GitLabFake()
    async with gl.connector(fake, test_reports=True, test_report_pipelines=1) as c:
        await c.poll()
    shop = [p for p in report_reads(fake) if "acme%2Fshop" in p]
    assert shop == [REPORT]


@pytest.mark.parametrize(
    ("status", "problem"),
    [(500, "server error"), (403, "forbidden"), (None, "timed out")],
)
async def test_a_failed_read_is_a_problem_and_retried_later(
    status: int | None, problem: str
) -> None:
    fake = GitLabFake()
    inner, left = fake.handle, [1]

    def handle(request: httpx.Request) -> httpx.Response:
        # Only the report: the summary beside it (.../test_report_summary) still answers.
        if request.url.path.endswith("/1874377/test_report") and left[0]:
            left[0] -= 1
            fake.requests.append(request)
            if status is None:
                raise httpx.ReadTimeout("slow", request=request)
            return httpx.Response(status, json={"message": f"{status} oops, token {TOKEN}"})
        return inner(request)

    fake.handle = handle  # type: ignore[method-assign]
    clock = FixedClock(gl.NOW)
    async with gl.connector(fake, clock, test_reports=True) as c:
        (doc,) = [e for e in (await c.poll()).evidence if e.run_id == "1874377"]
        assert problem in doc.problem and doc.body == b"" and TOKEN not in doc.problem
        reads = len(report_reads(fake))
        (kept,) = [e for e in (await c.poll()).evidence if e.run_id == "1874377"]
        assert kept.problem == doc.problem and len(report_reads(fake)) == reads  # within RETRY
        clock.advance(301)
        (doc,) = [e for e in (await c.poll()).evidence if e.run_id == "1874377"]
    assert doc.problem == "" and doc.body


def test_test_report_pipelines_is_validated() -> None:
    with pytest.raises(ConfigError) as err:
        gl.options(test_report_pipelines=0)
    assert "between 1 and 100" in str(err.value)
