"""Pure evaluators of supply-chain evidence: provenance, SBOM licences, tests, scans.

Each module parses the documents a connector fetched and judges them under a policy into
a `Gate`. Nothing here is imported at start-up, and nothing heavy is imported here: the
parsers load their libraries (license_expression, junitparser, sigstore) on first use.
"""

from __future__ import annotations


class EvidenceError(ValueError):
    """A document that cannot be used as evidence: unparsable, the wrong kind, too big."""
