"""Supply-chain evidence as connectors report it: the documents behind the gates.

A connector fetches a document about one version of a service (an attestation bundle, an
SBOM, a JUnit report, code-scanning alerts) and reports it as it came, bounded by its
response cap, with where it came from. The cockpit parses and judges it under the policy
(`cockpit.supply`); a fetch that failed is reported too, with its problem, so the gate is
unknown rather than missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cockpit.aware import check_aware


class EvidenceKind(StrEnum):
    """Which gate a document is evidence for."""

    PROVENANCE = "provenance"  # in-toto attestations: Sigstore bundles, DSSE envelopes
    SBOM = "sbom"  # CycloneDX or SPDX JSON
    TESTS = "tests"  # JUnit XML, GitLab's test report, Jenkins' testReport
    SCAN = "scan"  # GitHub code-scanning alerts, SARIF


# The media types the gates read; a connector names the one it fetched.
SIGSTORE_BUNDLE = "application/vnd.dev.sigstore.bundle+json"  # any v0.1-v0.3 bundle
DSSE_ENVELOPE = "application/vnd.dsse.envelope.v1+json"
CYCLONEDX_JSON = "application/vnd.cyclonedx+json"
SPDX_JSON = "application/spdx+json"
JUNIT_XML = "application/junit+xml"
GITLAB_TEST_REPORT = "application/vnd.gitlab.test-report+json"
JENKINS_TEST_REPORT = "application/vnd.jenkins.test-report+json"
SARIF_JSON = "application/sarif+json"
GITHUB_CODE_SCANNING = "application/vnd.github.code-scanning-alerts+json"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One document about `version` of `service`, or why it could not be fetched."""

    kind: EvidenceKind
    service: str
    version: str
    source: str
    observed_at: datetime
    media_type: str = ""
    body: bytes = b""  # as fetched, within the connector's response cap; untrusted
    subject: str = ""  # what it is about: "sha256:<hex>" image digest, or the commit sha
    ref: str = ""  # where it came from: an artifact or attestation id, a URL
    run_id: str = ""  # the pipeline run it came from, where there is one
    attempt: int = 1  # the run's attempt (a re-run of the same commit counts up)
    problem: str = ""  # fetching failed: why, in words (the body is then empty)

    def __post_init__(self) -> None:
        check_aware(self)
