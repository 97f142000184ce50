"""GitHub connector: supply-chain evidence from recorded payloads (attestations, artifacts,
release assets, SBOM URLs, code scanning), the blob redirect, hostile zips, caching."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from cockpit.clock import FixedClock
from cockpit.connect import options as opt
from cockpit.connect.http_safety import CappedTransport
from cockpit.errors import ConfigError
from cockpit.evidence_model import (
    CYCLONEDX_JSON,
    GITHUB_CODE_SCANNING,
    JUNIT_XML,
    SARIF_JSON,
    SIGSTORE_BUNDLE,
)
from cockpit.model import Evidence, EvidenceKind, Observation
from connectors.github import GitHubConnector
from connectors.github import connector as github_connector
from tests.fixtures.github.evidence_fake import (
    BLOB,
    CYCLONEDX,
    DIGEST,
    JUNIT,
    RUN,
    SARIF,
    SHA,
    EvidenceGitHub,
    zipped,
)
from tests.fixtures.github.fake import NOW, OPTIONS, TOKEN, load

ARTIFACTS: dict[str, Any] = {
    "sbom_artifact": "sbom",
    "junit_artifact": "junit",
    "sarif_artifact": "codeql-sarif",
}


@asynccontextmanager
async def connected(
    fake: EvidenceGitHub,
    clock: FixedClock,
    *,
    live: bool = False,
    inner: httpx.AsyncBaseTransport | None = None,
    **overrides: Any,
) -> AsyncIterator[GitHubConnector]:
    options = opt.parse(GitHubConnector.Options, {**OPTIONS, **overrides})
    options.token.resolve({"GITHUB_TOKEN": TOKEN})
    transport = CappedTransport(inner or fake.transport(), 32 << 20)  # as the hub builds it
    async with httpx.AsyncClient(transport=transport) as client:
        connector = GitHubConnector("github", options, client=client, clock=clock)
        connector.live = live
        try:
            yield connector
        finally:
            await connector.aclose()


async def observe(fake: EvidenceGitHub, **overrides: Any) -> Observation:
    async with connected(fake, FixedClock(NOW), **overrides) as connector:
        return await connector.poll()


def of(obs: Observation, kind: EvidenceKind, version: str = "v2.3.1") -> list[Evidence]:
    return [e for e in obs.evidence if e.kind is kind and e.version == version]


def no_token_anywhere(docs: tuple[Evidence, ...]) -> None:
    for e in docs:
        for value in (e.problem, e.ref, e.subject, e.source, e.body.decode("latin-1")):
            assert TOKEN not in value


# Nothing unless asked -------------------------------------------------------------------------
async def test_no_evidence_is_fetched_unless_configured() -> None:
    fake = EvidenceGitHub()
    fake.deploy_digest()
    obs = await observe(fake)
    assert obs.evidence == ()
    assert fake.count(r"attestations|artifacts|releases|code-scanning|blob") == 0
    # The deployment still reports its digest: the provenance gate asks for it.
    prod = [d for d in obs.deployments if d.service == "shop" and d.environment == "prod"]
    assert prod[0].digest == DIGEST


# Artifacts -----------------------------------------------------------------------------------
async def test_artifact_files_become_sbom_tests_and_scan_documents() -> None:
    fake = EvidenceGitHub()
    obs = await observe(fake, **ARTIFACTS)
    (sbom,) = of(obs, EvidenceKind.SBOM)
    assert (sbom.media_type, sbom.body, sbom.problem) == (CYCLONEDX_JSON, CYCLONEDX, "")
    assert sbom.ref == "artifact 2211334455 (sbom)/sbom/shop.cdx.json"  # README.txt not taken
    tests = of(obs, EvidenceKind.TESTS)
    assert sorted(e.ref.rsplit("/", 1)[-1] for e in tests) == ["junit-api.xml", "junit-cart.xml"]
    assert {(e.media_type, e.subject, e.run_id, e.attempt) for e in tests} == {
        (JUNIT_XML, SHA, f"acme/shop#{RUN}", 1)  # the run's id, as in the runs list
    }
    assert JUNIT in {e.body for e in tests}
    (scan,) = of(obs, EvidenceKind.SCAN)
    assert (scan.media_type, scan.body) == (SARIF_JSON, SARIF)
    assert {e.service for e in obs.evidence} == {"shop"}
    assert all(e.source == "github" and e.observed_at == NOW for e in obs.evidence)
    no_token_anywhere(obs.evidence)


async def test_the_blob_redirect_is_followed_without_the_token() -> None:
    fake = EvidenceGitHub()
    await observe(fake, **ARTIFACTS)
    blob = [headers for host, _, headers in fake.seen if host == BLOB]
    assert len(blob) == 3
    assert all("authorization" not in h for h in blob)
    api = [h for host, path, h in fake.seen if path.endswith("/zip")]
    assert api and all(h["authorization"] == f"Bearer {TOKEN}" for h in api)


async def test_a_second_poll_downloads_nothing_again() -> None:
    fake = EvidenceGitHub()
    async with connected(fake, FixedClock(NOW), **ARTIFACTS) as connector:
        first = await connector.poll()
        downloads = fake.count(r"blob\.example\.net|/zip$|/artifacts$")
        second = await connector.poll()
    assert fake.count(r"blob\.example\.net|/zip$|/artifacts$") == downloads
    assert second.evidence == first.evidence
    assert second.evidence is first.evidence  # unchanged facts: the hub sees no change


async def test_a_slow_download_goes_on_behind_a_live_poll_and_the_next_one_has_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(github_connector, "EVIDENCE_WAIT", 0.0)
    fake = EvidenceGitHub()
    gate = asyncio.Event()

    async def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "blob.example.net":
            await gate.wait()  # blob storage holds the download until the test lets it go
        return fake.handle(request)

    inner = httpx.MockTransport(handle)
    async with connected(fake, FixedClock(NOW), live=True, inner=inner, sbom_artifact="sbom") as c:
        ready = asyncio.Event()
        c._on_change = ready.set  # as the hub wires it
        await c.poll()  # the early first frame; its second round follows
        await asyncio.wait_for(ready.wait(), 10)
        ready.clear()
        # Starts the reads and returns without waiting for the blob.
        waiting = await asyncio.wait_for(c.poll(), 10)
        assert of(waiting, EvidenceKind.SBOM) == []
        gate.set()
        await asyncio.wait_for(ready.wait(), 10)  # the last late read asks for a poll
        done = await c.poll()
    (doc,) = of(done, EvidenceKind.SBOM)
    assert doc.body == CYCLONEDX and fake.count(BLOB) == 1


async def test_closing_the_connector_stops_reads_still_running(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(github_connector, "EVIDENCE_WAIT", 0.0)
    fake = EvidenceGitHub()
    started = asyncio.Event()

    async def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "blob.example.net":
            started.set()
            await asyncio.Event().wait()  # never answers
        return fake.handle(request)

    inner = httpx.MockTransport(handle)
    async with connected(fake, FixedClock(NOW), live=True, inner=inner, sbom_artifact="sbom") as c:
        ready = asyncio.Event()
        c._on_change = ready.set
        await c.poll()
        await asyncio.wait_for(ready.wait(), 10)
        await asyncio.wait_for(c.poll(), 10)  # leaves the download running
        await asyncio.wait_for(started.wait(), 10)
        running = [t for t in asyncio.all_tasks() if "KeptReads._read" in repr(t)]
        assert running and not any(t.done() for t in running)
    assert all(t.cancelled() for t in running)


async def test_a_failed_read_is_retried_after_a_while_not_every_poll() -> None:
    fake = EvidenceGitHub()
    fake.faults[r"/actions/runs/\d+/artifacts$"] = lambda r: httpx.Response(
        500, json=load("errors/500.json")
    )
    clock = FixedClock(NOW)
    async with connected(fake, clock, junit_artifact="junit") as connector:
        (problem,) = of(await connector.poll(), EvidenceKind.TESTS)
        assert "server error" in problem.problem and problem.body == b""
        listed = fake.count(r"/actions/runs/\d+/artifacts$")
        await connector.poll()
        assert fake.count(r"/actions/runs/\d+/artifacts$") == listed
        del fake.faults[r"/actions/runs/\d+/artifacts$"]
        clock.advance(301)
        obs = await connector.poll()
    assert [e.problem for e in of(obs, EvidenceKind.TESTS)] == ["", ""]


@pytest.mark.parametrize(
    ("files", "links", "problem"),
    [
        ({"../../home/runner/.ssh/id.xml": JUNIT}, (), "climbs out"),
        ({"/etc/junit.xml": JUNIT}, (), "absolute path"),
        ({"reports\\junit.xml": JUNIT}, (), "backslash"),
        ({"junit.xml": b"/etc/passwd"}, ("junit.xml",), "symbolic link"),
        ({f"r/{i}.xml": JUNIT for i in range(1001)}, (), "1001 entries"),
        ({"junit.xml": b"\0" * (3 << 20)}, (), "more than 1 MiB inflated"),  # a zip bomb
        ({"README.md": b"no reports"}, (), "no file matching *.xml"),
    ],
)
async def test_hostile_or_useless_zips_are_refused_as_problems(
    files: dict[str, bytes], links: tuple[str, ...], problem: str
) -> None:
    fake = EvidenceGitHub()
    fake.zips[2211334456] = zipped(files, links=links)
    obs = await observe(fake, junit_artifact="junit", max_evidence_bytes=1 << 20)
    (doc,) = of(obs, EvidenceKind.TESTS)
    assert problem in doc.problem
    assert doc.body == b"" and doc.ref == "artifact 2211334456 (junit)"


async def test_an_artifact_larger_than_the_limit_is_not_downloaded() -> None:
    fake = EvidenceGitHub()
    fake.artifacts["artifacts"][0]["size_in_bytes"] = 5 << 20
    obs = await observe(fake, sbom_artifact="sbom", max_evidence_bytes=1 << 20)
    (doc,) = of(obs, EvidenceKind.SBOM)
    assert "5242880 bytes, more than max_evidence_bytes" in doc.problem
    assert fake.count(BLOB) == 0


async def test_a_blob_past_the_limit_is_cut_off_while_read() -> None:
    fake = EvidenceGitHub()  # the listing under-states the size; the body is counted
    fake.zips[2211334455] = b"PK" + b"\0" * (2 << 20)
    obs = await observe(fake, sbom_artifact="sbom", max_evidence_bytes=1 << 20)
    (doc,) = of(obs, EvidenceKind.SBOM)
    assert "larger than 1 MiB" in doc.problem


async def test_an_expired_artifact_is_a_problem() -> None:
    fake = EvidenceGitHub()
    fake.artifacts["artifacts"][2]["expired"] = True
    (doc,) = of(await observe(fake, sarif_artifact="codeql-sarif"), EvidenceKind.SCAN)
    assert "expired" in doc.problem and fake.count(BLOB) == 0


async def test_a_run_without_the_artifact_gives_no_document() -> None:
    fake = EvidenceGitHub()
    obs = await observe(fake, junit_artifact="no-such-artifact")
    assert of(obs, EvidenceKind.TESTS) == []


async def test_a_redirect_down_to_plain_http_is_refused() -> None:
    fake = EvidenceGitHub()
    fake.faults[r"/actions/artifacts/\d+/zip$"] = lambda r: httpx.Response(
        302, headers={"location": "http://blob.example.net/artifacts/1.zip"}
    )
    (doc,) = of(await observe(fake, sbom_artifact="sbom"), EvidenceKind.SBOM)
    assert "redirect to http" in doc.problem
    assert fake.count("http://blob") == 0


# Attestations --------------------------------------------------------------------------------
async def test_attestations_of_the_deployed_digest_are_bundles() -> None:
    fake = EvidenceGitHub()
    fake.deploy_digest()
    obs = await observe(fake, attestations=True)
    (doc,) = of(obs, EvidenceKind.PROVENANCE)
    recorded = load("evidence/attestations.json")["attestations"][0]
    assert json.loads(doc.body) == recorded["bundle"]
    assert (doc.media_type, doc.subject, doc.ref) == (
        SIGSTORE_BUNDLE,
        DIGEST,
        recorded["bundle_url"],
    )
    asked = [p for _, p, _ in fake.seen if "/attestations/" in p]
    assert asked == [f"/repos/acme/shop/attestations/{DIGEST}"]  # once for both environments


async def test_a_digest_without_attestations_gives_no_document_not_a_problem() -> None:
    fake = EvidenceGitHub()
    fake.deploy_digest("sha256:" + "ab" * 32)
    obs = await observe(fake, attestations=True)
    assert of(obs, EvidenceKind.PROVENANCE) == []


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (lambda r: httpx.Response(403, json=load("errors/403-forbidden.json")), "forbidden"),
        (lambda r: httpx.Response(500, json=load("errors/500.json")), "server error"),
        (lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=r)), "timed out"),
    ],
)
async def test_a_failed_attestation_read_is_a_problem(answer: Any, problem: str) -> None:
    fake = EvidenceGitHub()
    fake.deploy_digest()
    fake.faults["/attestations/"] = answer
    (doc,) = of(await observe(fake, attestations=True), EvidenceKind.PROVENANCE)
    assert problem in doc.problem and doc.body == b"" and doc.subject == DIGEST


async def test_an_error_body_echoing_the_token_never_reaches_a_problem() -> None:
    fake = EvidenceGitHub()
    fake.deploy_digest()
    fake.faults["/attestations/"] = lambda r: httpx.Response(
        500, json={"message": f"upstream said: Bearer {TOKEN}"}
    )
    obs = await observe(fake, attestations=True)
    (doc,) = of(obs, EvidenceKind.PROVENANCE)
    assert "***" in doc.problem
    no_token_anywhere(obs.evidence)


# Releases and URLs ---------------------------------------------------------------------------
async def test_the_release_asset_sbom_comes_through_the_blob_redirect() -> None:
    fake = EvidenceGitHub()
    obs = await observe(fake, sbom_asset="sbom.cdx.json")
    (doc,) = of(obs, EvidenceKind.SBOM)
    assert (doc.media_type, doc.body) == (CYCLONEDX_JSON, CYCLONEDX)
    assert doc.ref == "release v2.3.1 asset 303030302 (sbom.cdx.json)"
    (blob,) = [h for host, _, h in fake.seen if host == BLOB]
    assert "authorization" not in blob
    assert blob["accept"] == "application/octet-stream"


async def test_a_release_without_the_asset_is_a_problem_and_no_release_is_none() -> None:
    fake = EvidenceGitHub()
    obs = await observe(fake, sbom_asset="bom.spdx.json")
    (doc,) = of(obs, EvidenceKind.SBOM)
    assert "release v2.3.1 has no asset bom.spdx.json" in doc.problem
    assert of(obs, EvidenceKind.SBOM, "7c1f0e9") == []  # no release for a branch build


async def test_the_sbom_url_template_is_fetched_without_the_token() -> None:
    fake = EvidenceGitHub()
    obs = await observe(fake, sbom_url="https://sbom.example/{service}/{version}.cdx.json")
    (doc,) = of(obs, EvidenceKind.SBOM)
    assert (doc.body, doc.ref) == (CYCLONEDX, "https://sbom.example/shop/v2.3.1.cdx.json")
    hosts = [h for host, _, h in fake.seen if host == "https://sbom.example"]
    assert hosts and all("authorization" not in h for h in hosts)


# Code scanning -------------------------------------------------------------------------------
async def test_open_alerts_of_the_version_ref_are_one_document() -> None:
    fake = EvidenceGitHub()
    obs = await observe(fake, code_scanning=True)
    (doc,) = of(obs, EvidenceKind.SCAN)
    assert doc.media_type == GITHUB_CODE_SCANNING and doc.subject == SHA
    assert json.loads(doc.body) == load("evidence/code-scanning-alerts.json")
    asked = [q for path, q in fake.queries if path == "/repos/acme/shop/code-scanning/alerts"]
    assert {"state": "open", "ref": "refs/tags/v2.3.1", "per_page": "100"} in asked
    assert {"state": "open", "ref": "refs/heads/main", "per_page": "100"} in asked


async def test_code_scanning_not_enabled_is_a_problem() -> None:
    fake = EvidenceGitHub()
    fake.faults["/code-scanning/alerts"] = lambda r: httpx.Response(
        403,
        json={
            "message": "Code scanning is not enabled for this repository. Please enable code scanning in the repository settings.",
            "documentation_url": "https://docs.github.com/rest/code-scanning/code-scanning#list-code-scanning-alerts-for-a-repository",
            "status": "403",
        },
    )
    obs = await observe(fake, code_scanning=True)
    docs = of(obs, EvidenceKind.SCAN)
    assert docs and all("Code scanning is not enabled" in d.problem for d in docs)


# Bounds and options --------------------------------------------------------------------------
async def test_evidence_is_read_for_deployed_and_newest_versions_only() -> None:
    fake = EvidenceGitHub()
    obs = await observe(fake, code_scanning=True, evidence_runs=1)
    versions = {(e.service, e.version) for e in obs.evidence}
    # shop: the newest run's version and the three deployed ones (v2.3.1 twice, dev, staging);
    # payments likewise; never the superseded feature-branch failure a91b2c3.
    assert ("shop", "a91b2c3") not in versions
    assert ("shop", "v2.3.1") in versions and ("shop", "7c1f0e9") in versions


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"evidence_runs": 0}, "evidence_runs must be between 1 and 20"),
        ({"max_evidence_bytes": 10}, "max_evidence_bytes must be between"),
        ({"tag_template": "v{version.major}"}, "tag_template"),
        ({"sbom_url": "https://sbom.example/{team}.json"}, "sbom_url"),
        ({"sbom_url": "file:///etc/{service}.json"}, "http(s) URL"),
        ({"code_scaning": True}, "did you mean 'code_scanning'"),
    ],
)
def test_evidence_options_are_validated(data: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        opt.parse(GitHubConnector.Options, {**OPTIONS, **data})
    assert problem in str(err.value)


def test_every_evidence_option_has_help() -> None:
    from cockpit.connect.option_help import option_docs

    docs = {d.key: d.help for d in option_docs(GitHubConnector.Options)}
    for name in (
        "attestations",
        "sbom_artifact",
        "junit_artifact",
        "sarif_artifact",
        "sbom_asset",
        "tag_template",
        "sbom_url",
        "code_scanning",
        "evidence_runs",
        "max_evidence_bytes",
    ):
        assert docs[name], name


async def test_a_deployment_of_a_bare_commit_asks_for_no_alerts() -> None:
    """Alerts are per branch or tag; a commit sha is neither, so GitHub would not know it."""
    fake = EvidenceGitHub()
    for dep in fake.fake.repos["acme/shop"].deployments:
        if dep["id"] == 1883001777:  # development, built by a run still in progress
            dep["ref"] = dep["sha"]
    await observe(fake, code_scanning=True)
    refs = [q["ref"] for path, q in fake.queries if path.endswith("/code-scanning/alerts")]
    assert refs and not any(
        r.removeprefix("refs/heads/") == "3e4d5c6b7a8f9e0d1c2b3a4f5e6d7c8b9a0f1e2d" for r in refs
    )
    assert "refs/heads/main" in refs
