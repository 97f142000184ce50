"""Supply-chain evidence as connectors report it: the documents behind the gates.

A connector fetches a document about one version of a service (an attestation bundle, an
SBOM, a JUnit report, code-scanning alerts) and reports it as it came, bounded by its
response cap, with where it came from. The cockpit parses and judges it under the policy
(`cockpit.supply`); a fetch that failed is reported too, with its problem, so the gate is
unknown rather than missing.
"""

from __future__ import annotations

import zlib
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


# Documents are kept compressed (`pack`): JUnit XML, SBOMs and alert lists shrink 10-20x,
# and a long-running cockpit holds every run's. Level 1 packs a 22 KB JUnit report in
# ~0.1 ms to 1.2 KB (level 6: 0.2 ms, 1.0 KB); reading it back takes ~0.02 ms.
PACK_LEVEL = 1
_RAW, _ZLIB = b"\x00", b"\x01"  # the packed form's first byte: how the rest is kept
PACK_FROM = 256  # shorter documents (an empty alert list, a problem's empty body) stay raw


def pack(body: bytes) -> bytes:
    """A document as Evidence keeps it: compressed past PACK_FROM bytes, behind a tag byte.

    Equal documents pack to equal bytes (zlib is deterministic), so the packed form can
    stand for the document in keys and comparisons.
    """
    if not body:
        return b""
    if len(body) < PACK_FROM:
        return _RAW + body
    return _ZLIB + zlib.compress(body, PACK_LEVEL)


def unpack(packed: bytes) -> bytes:
    """The document `pack` kept."""
    if not packed:
        return b""
    if packed[:1] == _ZLIB:
        return zlib.decompress(packed[1:])
    return packed[1:]


@dataclass(frozen=True, slots=True, init=False)
class Evidence:
    """One document about `version` of `service`, or why it could not be fetched."""

    kind: EvidenceKind
    service: str
    version: str
    source: str
    observed_at: datetime
    media_type: str = ""
    packed: bytes = b""  # the body as fetched, packed (`pack`); read it as `.body`
    subject: str = ""  # what it is about: "sha256:<hex>" image digest, or the commit sha
    ref: str = ""  # where it came from: an artifact or attestation id, a URL
    run_id: str = ""  # the pipeline run it came from, where there is one
    attempt: int = 1  # the run's attempt (a re-run of the same commit counts up)
    problem: str = ""  # fetching failed: why, in words (the body is then empty)

    def __init__(
        self,
        kind: EvidenceKind,
        service: str,
        version: str,
        source: str,
        observed_at: datetime,
        media_type: str = "",
        body: bytes = b"",  # as fetched, within the connector's response cap; untrusted
        subject: str = "",
        ref: str = "",
        run_id: str = "",
        attempt: int = 1,
        problem: str = "",
        *,
        packed: bytes | None = None,  # already packed (dataclasses.replace passes it)
    ) -> None:
        if packed is not None and body:
            raise TypeError("Evidence takes its document as body or as packed, not both")
        put = object.__setattr__
        put(self, "kind", kind)
        put(self, "service", service)
        put(self, "version", version)
        put(self, "source", source)
        put(self, "observed_at", observed_at)
        put(self, "media_type", media_type)
        put(self, "packed", pack(body) if packed is None else packed)
        put(self, "subject", subject)
        put(self, "ref", ref)
        put(self, "run_id", run_id)
        put(self, "attempt", attempt)
        put(self, "problem", problem)
        check_aware(self)

    @property
    def body(self) -> bytes:
        """The document as fetched (untrusted), unpacked on each read: keep what you need."""
        return unpack(self.packed)
