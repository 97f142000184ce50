"""GitLab's pipeline test reports as evidence for the tests gate (`test_reports: true`).

`GET /projects/:id/pipelines/:pipeline_id/test_report` has every test case with its
status: the gate names failing tests and finds flaky ones across pipelines of one
commit. Only finished pipelines are read (a running one's report is partial), the newest
`test_report_pipelines` of each project; a finished pipeline's report is read once and
kept while the pipeline is listed (a retried job makes it run again, and it is read anew
when it finishes). A 404 (no report, or a GitLab without the endpoint) gives no document;
another failure gives a document with its problem, read again after RETRY seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from cockpit.clock import Clock
from cockpit.connect.http import Api
from cockpit.errors import ConnectorError
from cockpit.evidence_model import GITLAB_TEST_REPORT
from cockpit.model import Evidence, EvidenceKind, PipelineRun
from cockpit.sanitize import clean
from connectors.gitlab.fetch import project_path

RETRY = 300.0  # seconds before a failed read is tried again
MAX_REPORT = 32 << 20  # a test report of many thousand cases with their output stays below


@dataclass(frozen=True)
class _Kept:
    docs: tuple[Evidence, ...]
    at: datetime
    final: bool


class TestReports:
    """Reads and keeps the test reports of one connector's projects."""

    __test__ = False  # not a pytest class, whatever its name says

    def __init__(self, api: Api, source: str, clock: Clock, per_project: int) -> None:
        self.api = api
        self.source = source
        self.clock = clock
        self.per_project = per_project
        self._kept: dict[tuple[str, int], _Kept] = {}

    async def read(self, runs: Sequence[tuple[str, Sequence[PipelineRun]]]) -> tuple[Evidence, ...]:
        """The reports of each project's newest finished pipelines (project, its runs)."""
        now = self.clock.now()
        wanted: list[tuple[str, int, PipelineRun]] = []
        for project, project_runs in runs:
            done = [r for r in project_runs if r.status.terminal]
            done.sort(key=lambda r: _pipeline_id(r), reverse=True)
            wanted += [(project, _pipeline_id(r), r) for r in done[: self.per_project]]
        due = [
            (project, pid, run)
            for project, pid, run in wanted
            if (kept := self._kept.get((project, pid))) is None
            or (not kept.final and (now - kept.at).total_seconds() >= RETRY)
        ]
        await asyncio.gather(*(self._read(project, pid, run, now) for project, pid, run in due))
        keys = {(project, pid) for project, pid, _ in wanted}
        for key in [k for k in self._kept if k not in keys]:
            del self._kept[key]  # pipelines no longer listed, or running again
        out: list[Evidence] = []
        for project, pid, _ in wanted:
            kept = self._kept.get((project, pid))
            if kept is not None:
                # A finished pipeline's report does not change: this poll confirms it.
                out += [replace(e, observed_at=now) if kept.final else e for e in kept.docs]
        return tuple(out)

    async def _read(self, project: str, pid: int, run: PipelineRun, now: datetime) -> None:
        path = f"{project_path(project)}/pipelines/{pid}/test_report"
        ref = f"{project} pipeline {pid} test_report"

        def doc(body: bytes = b"", problem: str = "") -> Evidence:
            return Evidence(
                EvidenceKind.TESTS,
                run.service,
                run.version,
                self.source,
                now,
                GITLAB_TEST_REPORT if body else "",
                body,
                subject=run.commit,
                ref=ref,
                run_id=str(pid),
                problem=problem,
            )

        try:
            got = await self.api.download(path, limit=MAX_REPORT, accept=(404,))
        except ConnectorError as exc:
            why = clean(self.api.redact(str(exc)), limit=300)
            self._kept[(project, pid)] = _Kept((doc(problem=why),), now, False)
            return
        if got.status == 404:
            self._kept[(project, pid)] = _Kept((), now, True)
            return
        self._kept[(project, pid)] = _Kept((doc(got.content),), now, True)


def _pipeline_id(run: PipelineRun) -> int:
    """ "group/project#1874377" -> 1874377."""
    return int(run.id.rsplit("#", 1)[1])
