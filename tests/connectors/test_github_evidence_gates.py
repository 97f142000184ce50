"""GitHub evidence end to end: recorded payloads -> connector -> hub snapshot -> the gates.

The promote of shop v2.3.1 (deployed to staging and production in the recordings) is
judged on what the GitHub connector fetched: its run's SBOM artifact (licences), JUnit
artifact (tests, one failing case named), the open code-scanning alert on its tag, and the
attestation of the image digest its deployments name (provenance).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import httpx

from cockpit import config
from cockpit.action_model import Action, ActionKind
from cockpit.actions import supply_gates
from cockpit.actions.supply_config import (
    LicencesConfig,
    ProvenanceConfig,
    ScansConfig,
    SigstoreIdentityConfig,
)
from cockpit.clock import FixedClock
from cockpit.fleet.hub import Hub
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import EvidenceKind, GateStatus
from tests.fixtures.github.evidence_fake import DIGEST, JUNIT, RUN, SHA, EvidenceGitHub, zipped
from tests.fixtures.github.fake import NOW, TOKEN
from tests.supply.provenance_kit import GITHUB_HOSTED, payload, slsa_v1
from tests.supply.sigstore_kit import GITHUB_ISSUER, PrivateSigstore

CONFIG = """\
environments: [dev, staging, prod]
connectors:
  - name: github
    type: github
    options:
      token: env:GITHUB_TOKEN
      repositories: [acme/shop, {repo: acme/payments, service: payments-api}]
      sbom_artifact: sbom
      junit_artifact: junit
      code_scanning: true
"""
PROMOTE = Action(ActionKind.PROMOTE, "shop", "prod", "github", "v2.3.1", from_environment="staging")


@asynccontextmanager
async def settled(tmp_path: Path, fake: EvidenceGitHub, *more: str) -> AsyncIterator[FleetSnapshot]:
    path = tmp_path / "cockpit.yaml"
    path.write_text(CONFIG + "".join(f"      {line}\n" for line in more))
    conf = config.load(str(path), env={"GITHUB_TOKEN": TOKEN})
    hub = Hub(
        conf.connectors,
        conf.environments,
        clock=FixedClock(NOW),
        client_factory=lambda spec: httpx.AsyncClient(transport=fake.transport()),
    )
    try:
        await hub.refresh()
        yield await hub.settle()
    finally:
        await hub.stop()


async def test_the_fetched_documents_reach_the_snapshot_and_decide_the_gates(
    tmp_path: Path,
) -> None:
    async with settled(tmp_path, EvidenceGitHub()) as snap:
        assert snap.evidence_for("shop", "v2.3.1", EvidenceKind.SBOM)
        tests = supply_gates.tests_gate(snap, PROMOTE, None)
        licences = supply_gates.licences_gate(snap, PROMOTE, LicencesConfig(allow=["Apache-2.0"]))
        denied = supply_gates.licences_gate(snap, PROMOTE, LicencesConfig(deny=["Apache-2.0"]))
        scans = supply_gates.scans_gate(snap, PROMOTE, ScansConfig(fail_at="high"))
        lenient = supply_gates.scans_gate(snap, PROMOTE, ScansConfig(fail_at="critical"))
    assert licences.status is GateStatus.PASS, licences.evidence
    assert denied.status is GateStatus.FAIL and "requests" in denied.evidence
    assert tests is not None and tests.status is GateStatus.FAIL
    assert "test_rounding" in tests.evidence
    assert scans.status is GateStatus.FAIL and "py/sql-injection" in scans.evidence
    assert lenient.status is GateStatus.PASS, lenient.evidence


async def test_a_failed_fetch_leaves_the_gate_unknown_never_passing(tmp_path: Path) -> None:
    fake = EvidenceGitHub()
    fake.faults["/code-scanning/alerts"] = lambda r: httpx.Response(
        403, json={"message": "Code scanning is not enabled for this repository."}
    )
    fake.faults[r"blob\.example\.net"] = lambda r: httpx.Response(503)
    async with settled(tmp_path, fake) as snap:
        licences = supply_gates.licences_gate(snap, PROMOTE, LicencesConfig(allow=["Apache-2.0"]))
        scans = supply_gates.scans_gate(snap, PROMOTE, ScansConfig())
    assert licences.status is GateStatus.UNKNOWN, licences.evidence
    assert scans.status is GateStatus.UNKNOWN, scans.evidence
    assert "403" in scans.evidence and "Code scanning is not" in scans.evidence


async def test_an_attestation_fetched_by_the_deployed_digest_verifies_end_to_end(
    tmp_path: Path,
) -> None:
    """A Sigstore bundle from a Sigstore made in the test, served by the attestations API
    for the digest the deployments name, verifies through the connector, the snapshot
    and the provenance gate (the connector's re-encoding of the bundle keeps it valid)."""
    sigstore = PrivateSigstore()
    root = str(sigstore.write_trusted_root(tmp_path / "trusted_root.json"))
    statement = slsa_v1(
        digest_hex=DIGEST.removeprefix("sha256:"),
        repository="https://github.com/acme/shop",
        ref="refs/tags/v2.3.1",
    )
    fake = EvidenceGitHub()
    bundle = json.loads(sigstore.bundle(payload(statement)))
    fake.attestations[DIGEST] = {
        "attestations": [{"bundle": bundle, "repository_id": 700100200, "bundle_url": None}]
    }
    fake.deploy_digest()
    policy = ProvenanceConfig(
        builders=[GITHUB_HOSTED],
        repository="acme/{service}",
        refs=["refs/tags/v*"],
        trusted_root=root,
        identities=[SigstoreIdentityConfig(GITHUB_ISSUER, "https://github.com/acme/*")],
    )
    async with settled(tmp_path, fake, "attestations: true") as snap:
        gate = supply_gates.provenance_gate(snap, PROMOTE, policy)
        other = supply_gates.provenance_gate(
            snap, PROMOTE, replace(policy, repository="acme/someone-else")
        )
    assert gate.status is GateStatus.PASS, gate.evidence
    assert dict(gate.facts)["verification"] == "sigstore"
    assert other.status is GateStatus.FAIL, other.evidence


async def test_a_test_that_failed_in_one_run_and_passed_in_another_of_its_commit_is_flaky(
    tmp_path: Path,
) -> None:
    """An earlier run of the same commit (a re-dispatch) passed both test_rounding cases,
    which the newest run failed: with test_history_runs the connector reads both runs' reports, and
    the tests gate marks them flaky instead of failing on them (flaky_blocks is off)."""
    fake = EvidenceGitHub()
    earlier = next(r for r in fake.fake.repos["acme/shop"].runs if r["id"] == 10511700002)
    earlier.update(
        head_sha=SHA, head_branch="v2.3.1", conclusion="success", run_attempt=1
    )  # a re-dispatch of the v2.3.1 build, before the one the version is judged by
    junit = {**fake.artifacts["artifacts"][1], "id": 2211330001}
    junit["workflow_run"] = {**junit["workflow_run"], "id": 10511700002}
    fake.other_runs[10511700002] = {"total_count": 1, "artifacts": [junit]}
    passing = JUNIT.replace(b'failures="1"', b'failures="0"').replace(
        b'<failure message="assert 10.01 == 10.0">AssertionError</failure>', b""
    )
    api = passing.replace(b"test_cart", b"test_api")
    fake.zips[2211330001] = zipped(
        {"reports/junit-cart.xml": passing, "reports/junit-api.xml": api}
    )
    async with settled(tmp_path, fake) as snap:
        history = snap.evidence_history("shop", EvidenceKind.TESTS)
        gate = supply_gates.tests_gate(snap, PROMOTE, None)
    assert {e.run_id for e in history} >= {"acme/shop#10511700002", f"acme/shop#{RUN}"}
    assert gate is not None and gate.status is not GateStatus.FAIL, gate
    assert "flaky" in gate.evidence
    assert dict(gate.facts)["flaky_count"] == "2"  # test_cart's and test_api's test_rounding
