"""The image digests the fleet knows of, for connectors that fetch evidence by digest.

A registry connector (OCI referrers) sees no deployments of its own: the hub hands it
(service, version, digest) for every deployed version and canary that names a digest, and
for the newest few versions each service's runs built, before each poll.
"""

from __future__ import annotations

import re

from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import PipelineRun

PER_SERVICE = 3  # newest built versions per service, besides the deployed ones
Artifact = tuple[str, str, str]  # (service, version, "sha256:<hex>")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def known_artifacts(snapshot: FleetSnapshot, newest: int = PER_SERVICE) -> tuple[Artifact, ...]:
    """Deployed and canary versions first (promotes and rollbacks judge them), then the
    newest `newest` versions per service that a run built with a digest; no duplicates."""
    out: dict[Artifact, None] = {}

    def add(service: str, version: str, digest: str) -> None:
        if service and version and _DIGEST.fullmatch(digest):
            out[(service, version, digest)] = None

    for key in sorted(snapshot.cells):
        cell = snapshot.cells[key]
        if cell.deployment is not None:
            add(cell.service, cell.deployment.version, cell.deployment.digest)
        if cell.canary is not None:
            add(cell.service, cell.canary.canary_version, cell.canary.canary_digest)
    built: dict[str, list[PipelineRun]] = {}
    for run in snapshot.runs.values():
        if run.digest and run.version:
            built.setdefault(run.service, []).append(run)
    for service in sorted(built):
        versions: set[str] = set()
        for run in sorted(built[service], key=lambda r: (r.queued_at, r.id), reverse=True):
            if len(versions) >= newest:
                break
            if run.version not in versions:
                versions.add(run.version)
                add(service, run.version, run.digest)
    return tuple(out)
