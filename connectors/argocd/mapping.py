"""Argo CD Application JSON -> cockpit names, Deployment and its Revision history."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cockpit.model import EPOCH, Deployment, Health, Revision, Status
from connectors.argocd.options import ArgoCDOptions

App = Mapping[str, Any]

HEALTH = {
    "Healthy": Health.HEALTHY,
    "Progressing": Health.PROGRESSING,
    "Degraded": Health.DEGRADED,
    "Suspended": Health.SUSPENDED,
    "Missing": Health.MISSING,
    "Unknown": Health.UNKNOWN,
}
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def get(obj: Any, *path: str) -> Any:
    """obj[path[0]][path[1]]..., or None where anything along the way is missing."""
    for key in path:
        if not isinstance(obj, dict):  # JSON objects; dict, not Mapping: this runs per field
            return None
        obj = obj.get(key)
    return obj


def text(obj: Any, *path: str) -> str:
    value = get(obj, *path)
    return value if isinstance(value, str) else ""


def name_of(app: App) -> str:
    return text(app, "metadata", "name")


def when(value: object) -> datetime | None:
    """An RFC 3339 timestamp as Argo CD writes it; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def short(revision: str) -> str:
    """Git SHAs shortened as git does; Helm chart versions and tags stay whole."""
    return revision[:7] if _SHA.match(revision) else revision


def environment_of(app: App, options: ArgoCDOptions) -> str:
    """Mapping by app name, then the environment label, then namespace, then cluster."""
    mapping = options.environments
    name = name_of(app)
    if name in mapping:
        return mapping[name]
    label = text(app, "metadata", "labels", options.environment_label)
    if label:
        return mapping.get(label, label)
    namespace = text(app, "spec", "destination", "namespace")
    if namespace in mapping:
        return mapping[namespace]
    cluster = text(app, "spec", "destination", "name") or text(app, "spec", "destination", "server")
    if cluster in mapping:
        return mapping[cluster]
    return namespace or cluster or "default"


def service_of(app: App, environment: str, options: ArgoCDOptions) -> str:
    """Mapping by app name, then the service label, then the app name less `-<environment>`."""
    name = name_of(app)
    if name in options.services:
        return options.services[name]
    label = text(app, "metadata", "labels", options.service_label)
    if label:
        return label
    suffix = f"-{environment}"
    if name.endswith(suffix) and len(name) > len(suffix):
        return name[: -len(suffix)]
    return name


def split_image(ref: str) -> tuple[str, str, str]:
    """registry/repo/name:tag@sha256:... -> (repository, tag, digest)."""
    repo, _, digest = ref.partition("@")
    slash = repo.rfind("/")
    colon = repo.rfind(":")
    tag = ""
    if colon > slash:
        repo, tag = repo[:colon], repo[colon + 1 :]
    return repo, tag, digest


def sync_revision(app: App) -> str:
    """The revision Git has now, which the app is compared against (and drift is measured to)."""
    revision = text(app, "status", "sync", "revision")
    if not revision:
        revisions = get(app, "status", "sync", "revisions")
        if isinstance(revisions, list) and revisions and isinstance(revisions[0], str):
            revision = revisions[0]
    return revision


def in_flight(app: App) -> bool:
    """The last operation is running or failed: what runs is (part of) its revision."""
    phase = text(app, "status", "operationState", "phase")
    return phase in ("Running", "Terminating", "Failed", "Error")


def deployed_revision(app: App) -> str:
    """The revision that runs: the operation's while one is in flight or failed, else the
    newest history entry (Argo CD records only successful syncs there)."""
    op = get(app, "status", "operationState")
    if in_flight(app):
        revision = text(op, "operation", "sync", "revision") or text(op, "syncResult", "revision")
        if revision:
            return revision
    entries = history(app)
    if entries:
        return entry_revision(entries[-1])
    return text(op, "syncResult", "revision") or sync_revision(app)


def version_of(app: App, service: str) -> tuple[str, str]:
    """(version, digest): the service's image tag when the summary names one, else the revision."""
    images = [i for i in get(app, "status", "summary", "images") or [] if isinstance(i, str)]
    image = images[0] if len(images) == 1 else None
    if image is None:
        image = next((i for i in images if split_image(i)[0].rsplit("/", 1)[-1] == service), None)
    revision = short(deployed_revision(app))
    if image is None:
        return revision, ""
    _, tag, digest = split_image(image)
    return tag or revision, digest


def initiator(entry: Any) -> str:
    by = get(entry, "initiatedBy")
    user = text(by, "username")
    if user:
        return user
    return "auto-sync" if get(by, "automated") is True else ""


def automated(app: App) -> bool:
    return isinstance(get(app, "spec", "syncPolicy", "automated"), Mapping)


def status_of(app: App) -> Status:
    """The last operation's outcome; without one, what the sync status implies."""
    phase = text(app, "status", "operationState", "phase")
    sync = text(app, "status", "sync", "status")
    if phase in ("Running", "Terminating"):
        return Status.RUNNING
    if phase in ("Failed", "Error"):
        return Status.FAILED
    if sync == "Unknown" or not sync:
        return Status.UNKNOWN
    if phase == "Succeeded" or sync == "Synced":
        return Status.SUCCEEDED
    # OutOfSync, never synced by an operation: auto-sync will act, or a human must.
    return Status.QUEUED if automated(app) else Status.WAITING


def history(app: App) -> list[Mapping[str, Any]]:
    entries = get(app, "status", "history")
    return [e for e in entries if isinstance(e, Mapping)] if isinstance(entries, list) else []


def entry_revision(entry: Mapping[str, Any]) -> str:
    revision = text(entry, "revision")
    revisions = entry.get("revisions")
    if not revision and isinstance(revisions, list) and revisions:
        revision = str(revisions[0])
    return revision


def revisions(app: App) -> tuple[Revision, ...]:
    """Earlier deployments, newest first: every history entry but the one that runs now."""
    entries = history(app)
    earlier = entries if in_flight(app) else entries[:-1]
    return tuple(
        Revision(
            version=short(entry_revision(entry)),
            digest="",
            deployed_at=when(entry.get("deployedAt")) or EPOCH,
            deployed_by=initiator(entry),
            id=str(entry.get("id", "")),
        )
        for entry in reversed(earlier)
    )


def message_of(app: App) -> str:
    parts = [f"sync {text(app, 'status', 'sync', 'status') or 'Unknown'}"]
    health = text(app, "status", "health", "message")
    if health:
        parts.append(f"health: {health}")
    op = get(app, "status", "operationState")
    if op:
        parts.append(f"last operation {text(op, 'phase')}: {text(op, 'message')}".rstrip(": "))
    for condition in get(app, "status", "conditions") or []:
        if text(condition, "type").endswith("Error"):
            parts.append(f"{text(condition, 'type')}: {text(condition, 'message')}")
    return "; ".join(parts)


def deployment(app: App, options: ArgoCDOptions, source: str, now: datetime) -> Deployment:
    environment = environment_of(app, options)
    service = service_of(app, environment, options)
    version, digest = version_of(app, service)
    entries = history(app)
    current = entries[-1] if entries and not in_flight(app) else None
    op = get(app, "status", "operationState")
    if current is not None:
        deployed_at, deployed_by = when(current.get("deployedAt")), initiator(current)
    else:
        deployed_at = when(get(op, "finishedAt")) or when(get(op, "startedAt"))
        deployed_by = initiator(get(op, "operation"))
    return Deployment(
        service=service,
        environment=environment,
        version=version,
        digest=digest,
        deployed_at=deployed_at or EPOCH,
        deployed_by=deployed_by,
        status=status_of(app),
        health=HEALTH.get(text(app, "status", "health", "status"), Health.UNKNOWN),
        source=source,
        observed_at=now,
        history=revisions(app),
        remote_id=name_of(app),
        message=message_of(app),
    )
