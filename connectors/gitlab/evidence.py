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
after RETRY seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any

from cockpit.clock import Clock
from cockpit.connect import evidence_files as files
from cockpit.connect.http import Api
from cockpit.errors import ConnectorError
from cockpit.evidence_model import GITLAB_TEST_REPORT
from cockpit.model import Evidence, EvidenceKind, PipelineRun
from cockpit.sanitize import clean
from connectors.gitlab.fetch import project_path
from connectors.gitlab.options import GitLabOptions

RETRY = 300.0  # seconds before a failed read is tried again
MAX_REPORT = 32 << 20  # a test report of many thousand cases with their output stays below
Key = tuple[str, int, str]  # project, pipeline id, what
Make = Callable[..., Evidence]
Read = Callable[[Make], Awaitable[tuple[list[Evidence], bool]]]
Jobs = Callable[[str, int], "Sequence[Mapping[str, Any]] | None"]


@dataclass(frozen=True)
class _Kept:
    docs: tuple[Evidence, ...]
    at: datetime
    final: bool


class PipelineEvidence:
    """Reads and keeps the evidence of one connector's projects (see the module docstring)."""

    def __init__(
        self, api: Api, options: GitLabOptions, jobs: Jobs, source: str, clock: Clock
    ) -> None:
        self.api = api
        self.options = options
        self.jobs = jobs  # (project, pipeline id) -> its jobs, once the pipeline finished
        self.source = source
        self.clock = clock
        self.wanted = [
            files.Wanted(kind, name, patterns)
            for kind, name, patterns in (
                (EvidenceKind.SBOM, options.sbom_job, files.SBOM_FILES),
                (EvidenceKind.SCAN, options.sarif_job, files.SARIF_FILES),
            )
            if name
        ]
        self._kept: dict[Key, _Kept] = {}

    @property
    def wanted_any(self) -> bool:
        return self.options.test_reports or bool(self.wanted)

    async def read(self, runs: Sequence[tuple[str, Sequence[PipelineRun]]]) -> tuple[Evidence, ...]:
        """The documents of each project's newest finished pipelines (project, its runs)."""
        now = self.clock.now()
        plan: list[tuple[Key, PipelineRun, Read]] = []
        for project, project_runs in runs:
            done = sorted((r for r in project_runs if r.status.terminal), key=_pid, reverse=True)
            for run in done[: self.options.evidence_pipelines]:
                plan += [
                    ((project, _pid(run), what), run, read)
                    for what, read in self._reads(project, run)
                ]
        due = [
            (key, run, read)
            for key, run, read in plan
            if (kept := self._kept.get(key)) is None
            or (not kept.final and (now - kept.at).total_seconds() >= RETRY)
        ]
        await asyncio.gather(*(self._read(key, run, read, now) for key, run, read in due))
        keys = {key for key, _, _ in plan}
        for key in [k for k in self._kept if k not in keys]:
            del self._kept[key]  # pipelines no longer listed, or running again
        out: list[Evidence] = []
        for key, _, _ in plan:
            kept = self._kept.get(key)
            if kept is not None:
                # A finished pipeline's documents do not change: this poll confirms them.
                out += [replace(e, observed_at=now) if kept.final else e for e in kept.docs]
        return tuple(out)

    def _reads(self, project: str, run: PipelineRun) -> list[tuple[str, Read]]:
        reads: list[tuple[str, Read]] = []
        if self.options.test_reports:
            reads.append(("tests", partial(self._test_report, project, _pid(run))))
        for want in self.wanted:
            reads.append((want.kind.value, partial(self._job_files, project, _pid(run), want)))
        return reads

    async def _read(self, key: Key, run: PipelineRun, read: Read, now: datetime) -> None:
        project, pid, what = key

        def make(kind: EvidenceKind, media: str, body: bytes, **labels: Any) -> Evidence:
            base = {"subject": run.commit, "run_id": str(pid)}
            return Evidence(
                kind, run.service, run.version, self.source, now, media, body, **{**base, **labels}
            )

        try:
            docs, final = await read(make)
        except Exception as exc:  # any failure, however odd the answer: a problem, not a pass
            text = str(exc) if isinstance(exc, ConnectorError | ValueError) else ""
            why = (
                clean(self.api.redact(text), limit=300) or f"unusable answer ({type(exc).__name__})"
            )
            ref = f"{project} pipeline {pid} {what}"
            docs, final = [make(EvidenceKind(what), "", b"", ref=ref, problem=why)], False
        self._kept[key] = _Kept(tuple(docs), now, final)

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

        ran = ("success", "failed")  # a skipped, canceled or manual job produced nothing
        jobs = [
            j
            for j in self.jobs(project, pid) or []
            if j.get("name") == want.name and j.get("status") in ran
        ]
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
