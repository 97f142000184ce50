"""GitLab's supply-chain evidence: pipeline test reports, SBOM and SARIF from job artifacts.

For the newest `evidence_pipelines` **finished** pipelines of each project (a running
one's report is partial and its artifacts not all uploaded):
- `test_reports: true`: `GET /projects/:id/pipelines/:pipeline_id/test_report`, every test
  case with its status, for the tests gate's failing and flaky tests;
- `sbom_job` / `sarif_job`: the named job's artifacts archive,
  `GET /projects/:id/jobs/:job_id/artifacts` (often a redirect to object storage, followed
  without the token), read in memory with the same limits as GitHub's artifacts. GitLab's
  API serves only the archive, so the files must be under the job's `artifacts:paths`
  (an `artifacts:reports` file alone cannot be downloaded).
A finished pipeline's documents are read once and kept while it is listed (a retried job
makes it run again, and it is read anew when it finishes). A 404 or a pipeline without the
job gives no document; another failure gives a document with its problem, read again
after 5 minutes (`cockpit.connect.evidence_reads` keeps them; a live poll waits
EVIDENCE_WAIT for its reads, slower ones finish in the background).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from cockpit.clock import Clock
from cockpit.connect import evidence_files as files
from cockpit.connect.evidence_reads import KeptReads, Make, Planned, Read
from cockpit.connect.http import Api
from cockpit.evidence_model import GITLAB_TEST_REPORT
from cockpit.model import Evidence, EvidenceKind, PipelineRun
from cockpit.sanitize import clean
from connectors.gitlab.fetch import project_path
from connectors.gitlab.options import GitLabOptions

MAX_REPORT = 32 << 20  # a test report of many thousand cases with their output stays below
Jobs = Callable[[str, int], "Sequence[Mapping[str, Any]] | None"]


class PipelineEvidence:
    """Plans one connector's evidence reads per pipeline (see the module docstring)."""

    def __init__(
        self, api: Api, options: GitLabOptions, jobs: Jobs, source: str, clock: Clock
    ) -> None:
        self.api = api
        self.options = options
        self.jobs = jobs  # (project, pipeline id) -> its jobs, once the pipeline finished
        self.wanted = [
            files.Wanted(kind, name, patterns)
            for kind, name, patterns in (
                (EvidenceKind.SBOM, options.sbom_job, files.SBOM_FILES),
                (EvidenceKind.SCAN, options.sarif_job, files.SARIF_FILES),
            )
            if name
        ]
        self.kept = KeptReads(source, clock, api.redact)

    @property
    def wanted_any(self) -> bool:
        return self.options.test_reports or bool(self.wanted)

    async def read(self, runs: Sequence[tuple[str, Sequence[PipelineRun]]]) -> tuple[Evidence, ...]:
        """The documents of each project's newest finished pipelines (project, its runs)."""
        plan: list[Planned] = []
        for project, project_runs in runs:
            done = sorted((r for r in project_runs if r.status.terminal), key=_pid, reverse=True)
            for run in done[: self.options.evidence_pipelines]:
                plan += self._plan(project, run)
        return await self.kept.read(plan)

    async def aclose(self) -> None:
        await self.kept.aclose()

    def _plan(self, project: str, run: PipelineRun) -> list[Planned]:
        pid = _pid(run)
        labels = {"subject": run.commit, "run_id": run.id}  # "group/project#1874377"

        def planned(what: str, read: Read, kind: EvidenceKind) -> Planned:
            where = f"{project} pipeline {pid} {what}"
            return Planned(
                (project, pid, what), read, run.service, run.version, (kind,), where, labels
            )

        plan = []
        if self.options.test_reports:
            read: Read = partial(self._test_report, project, pid)
            plan.append(planned("test_report", read, EvidenceKind.TESTS))
        for want in self.wanted:
            read = partial(self._job_files, project, pid, want)
            plan.append(planned(f"{want.kind.value} job", read, want.kind))
        return plan

    async def _test_report(self, project: str, pid: int, make: Make) -> tuple[list[Evidence], bool]:
        path = f"{project_path(project)}/pipelines/{pid}/test_report"
        got = await self.api.download(path, limit=MAX_REPORT, accept=(404,))
        if got.status == 404:  # no report, or a GitLab without the endpoint
            return [], True
        ref = f"{project} pipeline {pid} test_report"
        return [make(EvidenceKind.TESTS, GITLAB_TEST_REPORT, got.content, ref=ref)], True

    async def _job_files(
        self, project: str, pid: int, want: files.Wanted, make: Make
    ) -> tuple[list[Evidence], bool]:
        from cockpit.connect import archive  # zipfile and its codecs: only once evidence is read

        listed = self.jobs(project, pid)
        if listed is None:
            return [], False  # its jobs are not read yet: ask again later
        ran = ("success", "failed")  # a skipped, canceled or manual job produced nothing
        jobs = [j for j in listed if j.get("name") == want.name and j.get("status") in ran]
        if not jobs:
            return [], True  # this pipeline did not run the job
        job = max(jobs, key=lambda j: int(j["id"]))  # a retried job: the newest attempt
        ref = f"{project} job {int(job['id'])} ({clean(want.name, limit=80)})"
        kept = [a for a in job.get("artifacts") or [] if a.get("file_type") == "archive"]
        if not kept:
            raise ValueError(f"{ref} kept no artifacts archive (expired, or none declared)")
        limit = self.options.max_evidence_bytes
        size = int(kept[0].get("size") or 0)
        if size > limit:
            raise ValueError(f"{ref}: {size} bytes, more than max_evidence_bytes ({limit})")
        path = f"{project_path(project)}/jobs/{int(job['id'])}/artifacts"
        data = await self.api.download(path, limit=limit)
        found = archive.members(data.content, want.picks, max_unzipped=limit)
        if not found:
            raise ValueError(f"{ref}: no file matching {', '.join(want.files)}")
        return [
            make(
                want.kind, want.media(m.content), m.content, ref=f"{ref}/{clean(m.name, limit=160)}"
            )
            for m in found
        ], True


def _pid(run: PipelineRun) -> int:
    """ "group/project#1874377" -> 1874377."""
    return int(run.id.rsplit("#", 1)[1])
