"""Jenkins' JUnit test results as evidence for the tests gate (`test_reports: true`).

For each finished build among the `runs_per_job` read: `GET /job/{name}/{n}/testReport/api/json`
(the JUnit plugin's TestResult: suites with every case, its className, name and status)
and, to know the commit it tested, `GET /job/{name}/{n}/api/json?tree=actions[lastBuiltRevision[SHA1]]`
(the Git plugin's BuildData, read only when there is a report). A 404 on the report
means the build published none: no document. A finished build's report is read once and
kept while the build is listed; another failure gives a document with its problem, read
again after 5 minutes (`cockpit.connect.evidence_reads` keeps them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial
from urllib.parse import quote

from cockpit.clock import Clock
from cockpit.connect.evidence_reads import KeptReads, Make, Planned
from cockpit.connect.http import Api
from cockpit.evidence_model import JENKINS_TEST_REPORT
from cockpit.model import Evidence, EvidenceKind, PipelineRun
from cockpit.sanitize import clean
from connectors.jenkins.options import job_path

MAX_REPORT = 32 << 20  # a report with stdout of thousands of cases stays below
_REVISION = "actions[lastBuiltRevision[SHA1]]"


class TestReports:
    """Plans the test report reads of one connector's jobs (see the module docstring)."""

    __test__ = False  # not a pytest class, whatever its name says

    def __init__(self, api: Api, source: str, clock: Clock) -> None:
        self.api = api
        self.kept = KeptReads(source, clock, api.redact)

    async def read(self, runs: Sequence[PipelineRun]) -> tuple[Evidence, ...]:
        """The reports of the finished builds among `runs`."""
        plan = []
        for run in runs:
            if not run.status.terminal:
                continue  # a running build's report is partial
            job, _, number = run.id.rpartition("#")
            read = partial(self._report, job, number)
            where = f"{job} #{number} testReport"
            kinds = (EvidenceKind.TESTS,)
            plan.append(Planned(run.id, read, run.service, "", kinds, where, {"run_id": run.id}))
        return await self.kept.read(plan)

    async def aclose(self) -> None:
        await self.kept.aclose()

    async def _report(self, job: str, number: str, make: Make) -> tuple[list[Evidence], bool]:
        build = f"{job_path(job)}/{quote(number, safe='')}"
        report = await self.api.download(
            f"{build}/testReport/api/json", limit=MAX_REPORT, accept=(404,)
        )
        if report.status == 404:  # the build published no test results
            return [], True
        sha = await self._revision(build)
        ref = f"{job} #{number} testReport"
        doc = make(EvidenceKind.TESTS, JENKINS_TEST_REPORT, report.content, ref=ref, subject=sha)
        return [replace(doc, version=sha[:7])], True

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
