"""GitLab connector: pipeline test reports as tests-gate evidence (recorded payloads)."""

from __future__ import annotations

import io
import json
import zipfile

import httpx
import pytest

from cockpit.clock import FixedClock
from cockpit.errors import ConfigError
from cockpit.evidence_model import CYCLONEDX_JSON, GITLAB_TEST_REPORT, SARIF_JSON
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
    shop = {e.run_id.rsplit("#")[1]: e for e in obs.evidence if e.service == "shop"}
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
    assert {e.run_id.rsplit("#")[1] for e in again.evidence if e.service == "shop"} == {
        "1874377",
        "1874322",
    }


async def test_only_the_newest_finished_pipelines_are_read() -> None:
    fake = GitLabFake()
    async with gl.connector(fake, test_reports=True, evidence_pipelines=1) as c:
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
        (doc,) = [e for e in (await c.poll()).evidence if e.run_id == "acme/shop#1874377"]
        assert problem in doc.problem and doc.body == b"" and TOKEN not in doc.problem
        reads = len(report_reads(fake))
        (kept,) = [e for e in (await c.poll()).evidence if e.run_id == "acme/shop#1874377"]
        assert kept.problem == doc.problem and len(report_reads(fake)) == reads  # within RETRY
        clock.advance(301)
        (doc,) = [e for e in (await c.poll()).evidence if e.run_id == "acme/shop#1874377"]
    assert doc.problem == "" and doc.body


def test_evidence_pipelines_is_validated() -> None:
    with pytest.raises(ConfigError) as err:
        gl.options(evidence_pipelines=0)
    assert "between 1 and 100" in str(err.value)


# SBOM and SARIF from job artifacts ----------------------------------------------------------
OBJECTS = "objects.example.net"  # where GitLab redirects an artifacts download (object storage)
CYCLONEDX = json.dumps(
    {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": []}
).encode()
SARIF = json.dumps({"version": "2.1.0", "runs": []}).encode()


def zipped(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def with_artifacts(
    fake: GitLabFake, archive: bytes, *, size: int | None = None
) -> list[httpx.Request]:
    """The build job of pipeline 1874322 keeps `archive` (as GitLab lists a job's artifacts)."""
    inner, blob = fake.handle, []

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.url.host == OBJECTS:
            blob.append(request)
            return httpx.Response(200, content=archive)
        if path.endswith("/pipelines/1874322/jobs"):
            jobs = gl.load("acme-shop/pipelines/1874322/jobs.json")
            for job in jobs:
                if job["id"] == 97990:
                    job["artifacts_file"] = {"filename": "artifacts.zip", "size": len(archive)}
                    job["artifacts"] = [
                        {
                            "file_type": "archive",
                            "size": size or len(archive),
                            "filename": "artifacts.zip",
                            "file_format": "zip",
                        },
                        {
                            "file_type": "metadata",
                            "size": 186,
                            "filename": "metadata.gz",
                            "file_format": "gzip",
                        },
                        {
                            "file_type": "trace",
                            "size": 4096,
                            "filename": "job.log",
                            "file_format": "raw",
                        },
                    ]
                    job["artifacts_expire_at"] = "2026-09-19T15:43:00.000Z"
            fake.requests.append(request)
            return httpx.Response(200, json=jobs)
        if path.endswith("/jobs/97990/artifacts"):
            fake.requests.append(request)
            where = f"https://{OBJECTS}/gitlab-artifacts/97990/artifacts.zip?X-Amz-Signature=abc"
            return httpx.Response(302, headers={"location": where})
        return inner(request)

    fake.handle = handle  # type: ignore[method-assign]
    return blob


async def test_the_sbom_and_sarif_jobs_artifacts_become_documents_fetched_token_less() -> None:
    fake = GitLabFake()
    blob = with_artifacts(
        fake, zipped({"reports/gl-sbom.cdx.json": CYCLONEDX, "gl-sast.sarif": SARIF})
    )
    async with gl.connector(fake, sbom_job="build", sarif_job="build") as c:
        obs = await c.poll()
    by_kind = {e.kind: e for e in obs.evidence if e.run_id == "acme/shop#1874322"}
    sbom, scan = by_kind[EvidenceKind.SBOM], by_kind[EvidenceKind.SCAN]
    assert (sbom.body, sbom.media_type, sbom.problem) == (CYCLONEDX, CYCLONEDX_JSON, "")
    assert sbom.ref == "acme/shop job 97990 (build)/reports/gl-sbom.cdx.json"
    assert (scan.body, scan.media_type) == (SARIF, SARIF_JSON)
    assert sbom.subject == "416d8ea11849050d3d1f5104cf8cf51053e790ab"
    assert blob and all("private-token" not in r.headers for r in blob)
    # A build that ran and kept no archive is a problem; one skipped or canceled gives nothing.
    others = {e.run_id.rsplit("#")[1]: e.problem for e in obs.evidence if e.service == "shop"}
    assert set(others) == {"1874322", "1874377"}
    assert "job 99101 (build) kept no artifacts archive" in others["1874377"]


async def test_an_oversized_or_hostile_archive_is_a_problem() -> None:
    fake = GitLabFake()
    with_artifacts(fake, zipped({"sbom.cdx.json": CYCLONEDX}), size=5 << 20)
    async with gl.connector(fake, sbom_job="build", max_evidence_bytes=1 << 20) as c:
        (doc,) = [e for e in (await c.poll()).evidence if e.run_id == "acme/shop#1874322"]
    assert "5242880 bytes, more than max_evidence_bytes" in doc.problem

    fake = GitLabFake()
    with_artifacts(fake, zipped({"../../sbom.cdx.json": CYCLONEDX}))
    async with gl.connector(fake, sbom_job="build") as c:
        (doc,) = [e for e in (await c.poll()).evidence if e.run_id == "acme/shop#1874322"]
    assert "climbs out" in doc.problem and doc.body == b""
