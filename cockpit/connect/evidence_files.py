"""Which files in a CI artifact are evidence, and what an SBOM file is, for every connector.

Connectors fetch and label; they do not parse. Telling CycloneDX from SPDX needs only the
document's top-level marker, and the file names below are what CI tools write by default
(CycloneDX and Syft `*.cdx.json`, SPDX `*.spdx.json`, `bom.json`; JUnit `*.xml`; SARIF
`*.sarif`, CodeQL's `*.sarif.json`, and plain `*.json` from tools that name it so).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fnmatch import fnmatchcase

from cockpit.evidence_model import CYCLONEDX_JSON, JUNIT_XML, SARIF_JSON, SPDX_JSON, EvidenceKind

SBOM_FILES = ("*.cdx.json", "*.spdx.json", "*bom*.json")
JUNIT_FILES = ("*.xml",)
SARIF_FILES = ("*.sarif", "*.sarif.json", "*.json")


def matches(path: str, patterns: tuple[str, ...]) -> bool:
    """Whether the file name of `path` (any folder) matches a pattern, case-insensitively."""
    base = path.rsplit("/", 1)[-1].lower()
    return any(fnmatchcase(base, pattern) for pattern in patterns)


def sbom_media(body: bytes) -> str:
    """CycloneDX or SPDX JSON by its top-level marker; "" when it is neither (the parser says why)."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ""
    if isinstance(doc, dict) and doc.get("bomFormat") == "CycloneDX":
        return CYCLONEDX_JSON
    if isinstance(doc, dict) and isinstance(doc.get("spdxVersion"), str):
        return SPDX_JSON
    return ""


@dataclass(frozen=True)
class Wanted:
    """One configured CI artifact: its name, which files in it count, and what they are."""

    kind: EvidenceKind
    name: str  # the artifact (GitHub) or job (GitLab) name
    files: tuple[str, ...]

    def picks(self, path: str) -> bool:
        return matches(path, self.files)

    def media(self, body: bytes) -> str:
        if self.kind is EvidenceKind.TESTS:
            return JUNIT_XML
        if self.kind is EvidenceKind.SCAN:
            return SARIF_JSON
        return sbom_media(body)
