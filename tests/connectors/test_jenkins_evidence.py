"""Jenkins connector: JUnit test reports (testReport/api/json) as tests-gate evidence."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from cockpit.clock import FixedClock
from cockpit.evidence_model import JENKINS_TEST_REPORT
from cockpit.model import Evidence, EvidenceKind
from connectors.jenkins import JenkinsConnector
from tests.fixtures.jenkins import fake as jk
from tests.fixtures.jenkins.fake import HERE, TOKEN, JenkinsFake
from tests.fixtures.jenkins.reports import ReportingJenkins

REPORT = "/jenkins/job/shop-release/14/testReport/api/json"


@asynccontextmanager
async def connected(
    fake: JenkinsFake, clock: FixedClock, **overrides: Any
) -> AsyncIterator[JenkinsConnector]:
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        yield JenkinsConnector("jenkins", jk.options(**overrides), client=client, clock=clock)


def shop(docs: tuple[Evidence, ...]) -> dict[str, Evidence]:
    return {e.run_id.removeprefix("shop-release#"): e for e in docs if e.service == "shop"}


async def test_no_report_is_read_unless_configured() -> None:
    fake = ReportingJenkins()
    async with connected(fake, FixedClock(jk.NOW)) as c:
        obs = await c.poll()
    assert obs.evidence == () and fake.reads("/testReport/api/json") == []


async def test_finished_builds_reports_are_documents_with_their_commit() -> None:
    fake = ReportingJenkins()
    async with connected(fake, FixedClock(jk.NOW), test_reports=True) as c:
        obs = await c.poll()
    docs = shop(obs.evidence)
    assert set(docs) == {"14", "15"}  # 13 and 12 published none (404); 16, 17 not finished
    failed = docs["14"]
    recorded = (HERE / "shop-release" / "14" / "testReport.json").read_bytes()
    assert json.loads(failed.body) == json.loads(recorded)
    assert (failed.kind, failed.media_type, failed.problem) == (
        EvidenceKind.TESTS,
        JENKINS_TEST_REPORT,
        "",
    )
    assert (failed.subject, failed.version) == (
        "8e1f2a3b4c5d6e7f80910a1b2c3d4e5f60718293",
        "8e1f2a3",
    )
    assert failed.ref == "shop-release #14 testReport" and failed.source == "jenkins"
    asked = fake.reads("/testReport/api/json")
    assert not any("/16/" in p or "/17/" in p for p in asked)
    trees = [r.url.params.get("tree") for r in fake.requests if r.url.path.endswith("/14/api/json")]
    assert trees == ["actions[lastBuiltRevision[SHA1]]"]


async def test_a_finished_report_is_read_once() -> None:
    fake = ReportingJenkins()
    async with connected(fake, FixedClock(jk.NOW), test_reports=True) as c:
        await c.poll()
        reads = len(fake.reads("/testReport/api/json"))
        again = await c.poll()
    assert len(fake.reads("/testReport/api/json")) == reads
    assert set(shop(again.evidence)) == {"14", "15"}


@pytest.mark.parametrize(("status", "problem"), [(500, "server error"), (403, "forbidden")])
async def test_a_failed_read_is_a_problem_retried_later(status: int, problem: str) -> None:
    fake = ReportingJenkins()
    fake.answers[REPORT] = lambda r: httpx.Response(
        status, text=f"<html><body><h2>Oops {TOKEN}</h2></body></html>"
    )
    clock = FixedClock(jk.NOW)
    async with connected(fake, clock, test_reports=True) as c:
        doc = shop((await c.poll()).evidence)["14"]
        assert problem in doc.problem and doc.body == b"" and TOKEN not in doc.problem
        reads = len(fake.reads("/testReport/api/json"))
        assert shop((await c.poll()).evidence)["14"].problem == doc.problem
        assert len(fake.reads("/testReport/api/json")) == reads  # not before RETRY
        clock.advance(301)
        doc = shop((await c.poll()).evidence)["14"]
    assert doc.problem == "" and doc.body


def test_the_contract_kit_catches_evidence_stamped_with_another_source() -> None:
    from dataclasses import replace

    from cockpit.testing import ConnectorContract

    class Misnamed(JenkinsConnector):
        async def _evidence(self, runs: Any) -> tuple[Evidence, ...]:
            return tuple(replace(e, source="elsewhere") for e in await super()._evidence(runs))

    class Kit(ConnectorContract):
        connector_class = Misnamed
        options = {**jk.OPTIONS, "test_reports": True}
        env = jk.ENV
        now = jk.NOW

        def transport(self) -> httpx.MockTransport:
            return ReportingJenkins().transport()

    with pytest.raises(AssertionError, match="evidence: source 'elsewhere'"):
        Kit().test_poll_returns_an_observation_of_domain_objects()
