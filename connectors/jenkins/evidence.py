"""Jenkins' JUnit test results as evidence for the tests gate (`test_reports: true`).

For each finished build among the `runs_per_job` read: `GET /job/{name}/{n}/testReport/api/json`
(the JUnit plugin's TestResult: suites with every case, its className, name and status)
and, to know the commit it tested, `GET /job/{name}/{n}/api/json?tree=actions[lastBuiltRevision[SHA1]]`
(the Git plugin's BuildData, read only when there is a report). A 404 on the report
means the build published none: no document. A finished build's report is read once and kept while the build is listed;
another failure gives a document with its problem, read again after RETRY seconds.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import quote

from cockpit.clock import Clock
from cockpit.connect.http import Api
from cockpit.errors import ConnectorError
from cockpit.evidence_model import JENKINS_TEST_REPORT
from cockpit.model import Evidence, EvidenceKind, PipelineRun
from cockpit.sanitize import clean
from connectors.jenkins.options import job_path

RETRY = 300.0
MAX_REPORT = 32 << 20  # a report with stdout of thousands of cases stays below
_REVISION = "actions[lastBuiltRevision[SHA1]]"


@dataclass(frozen=True)
class _Kept:
    docs: tuple[Evidence, ...]
    at: datetime
    final: bool


class TestReports:
    """Reads and keeps the test reports of one connector's jobs."""

    __test__ = False  # not a pytest class, whatever its name says

    def __init__(self, api: Api, source: str, clock: Clock) -> None:
        self.api = api
        self.source = source
        self.clock = clock
        self._kept: dict[str, _Kept] = {}  # run id ("team/job#12") -> its documents

    async def read(self, runs: Sequence[PipelineRun]) -> tuple[Evidence, ...]:
        """The reports of the finished builds among `runs`."""
        now = self.clock.now()
        done = [r for r in runs if r.status.terminal]
        due = [
            r
            for r in done
            if (kept := self._kept.get(r.id)) is None
            or (not kept.final and (now - kept.at).total_seconds() >= RETRY)
        ]
        await asyncio.gather(*(self._read(r, now) for r in due))
        listed = {r.id for r in done}
        for key in [k for k in self._kept if k not in listed]:
            del self._kept[key]
        out: list[Evidence] = []
        for run in done:
            kept = self._kept.get(run.id)
            if kept is not None:
                out += [replace(e, observed_at=now) if kept.final else e for e in kept.docs]
        return tuple(out)

    async def _read(self, run: PipelineRun, now: datetime) -> None:
        job, _, number = run.id.rpartition("#")
        build = f"{job_path(job)}/{quote(number, safe='')}"

        def doc(body: bytes = b"", sha: str = "", problem: str = "") -> Evidence:
            return Evidence(
                EvidenceKind.TESTS,
                run.service,
                sha[:7],
                self.source,
                now,
                JENKINS_TEST_REPORT if body else "",
                body,
                subject=sha,
                ref=f"{job} #{number} testReport",
                run_id=number,
                problem=problem,
            )

        try:
            path = f"{build}/testReport/api/json"
            report = await self.api.download(path, limit=MAX_REPORT, accept=(404,))
            if report.status == 404:  # the build published no test results
                self._kept[run.id] = _Kept((), now, True)
                return
            sha = await self._revision(build)
        except ConnectorError as exc:
            why = clean(self.api.redact(str(exc)), limit=300)
            self._kept[run.id] = _Kept((doc(problem=why),), now, False)
            return
        self._kept[run.id] = _Kept((doc(report.content, sha),), now, True)

    async def _revision(self, build: str) -> str:
        """The commit the build checked out (Git plugin), "" when it does not say."""
        # Not decoded by Api: Jenkins' 404 is an HTML page.
        resp = await self.api.request(
            "GET", f"{build}/api/json", params={"tree": _REVISION}, accept=(404,), expect_json=False
        )
        try:
            body = json.loads(resp.body) if resp.status != 404 else None
        except ValueError:
            body = None
        actions = body.get("actions") if isinstance(body, Mapping) else None
        for action in actions if isinstance(actions, list) else []:
            revision = action.get("lastBuiltRevision") if isinstance(action, Mapping) else None
            sha = revision.get("SHA1") if isinstance(revision, Mapping) else None
            if isinstance(sha, str) and sha:
                return clean(sha, limit=64)
        return ""
