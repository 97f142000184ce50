"""Sync and rollback as Argo CD request bodies, with the checks that come before them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cockpit.errors import Rejected
from cockpit.model import Action, ActionResult
from cockpit.sanitize import clean
from connectors.argocd import mapping

ROLLBACK_WARNING = (
    "Argo CD rolls back only an application whose auto-sync is off, and leaves it off; "
    "re-enabling auto-sync redeploys the revision you rolled back from."
)


def _namespaced(body: dict[str, Any], app: Mapping[str, Any]) -> dict[str, Any]:
    namespace = mapping.text(app, "metadata", "namespace")
    if namespace:
        body["appNamespace"] = namespace
    return body


def sync_request(app: Mapping[str, Any], action: Action) -> tuple[dict[str, Any], ActionResult]:
    """POST .../sync: the target revision (or the one asked for), no prune, hook strategy."""
    name = mapping.name_of(app)
    body: dict[str, Any] = {"name": name}
    revision = action.param("revision") or mapping.text(app, "spec", "source", "targetRevision")
    if revision:
        body["revision"] = revision
    body.update({"prune": False, "dryRun": False, "strategy": {"hook": {}}})
    infos = [
        {"name": label, "value": value}
        for label, value in (("Reason", action.reason), ("Requested by", action.actor))
        if value
    ]
    if infos:
        body["infos"] = infos
    target = f" to {revision}" if revision else ""
    return _namespaced(body, app), ActionResult(True, f"sync of {name}{target} started", name)


def _entry(app: Mapping[str, Any], action: Action) -> Mapping[str, Any]:
    """The history entry `action` names: remote_id as a history id, else its version."""
    entries = mapping.history(app)
    if action.remote_id.isdigit():
        for entry in entries:
            if str(entry.get("id")) == action.remote_id:
                if action.version and not _same(entry, action.version):
                    have = mapping.short(mapping.entry_revision(entry))
                    raise Rejected(
                        f"history id {action.remote_id} of {mapping.name_of(app)} is "
                        f"{have}, not {clean(action.version)}"
                    )
                return entry
    elif action.version:
        for entry in reversed(entries):
            if _same(entry, action.version):
                return entry
    wanted = action.remote_id if action.remote_id.isdigit() else action.version
    known = ", ".join(
        f"{e.get('id')}={mapping.short(mapping.entry_revision(e))}" for e in reversed(entries)
    )
    raise Rejected(
        f"{clean(wanted) or 'no version'} is not in the history of {mapping.name_of(app)}"
        f" (known: {known or 'none'})"
    )


def _same(entry: Mapping[str, Any], version: str) -> bool:
    revision = mapping.entry_revision(entry)
    return bool(version) and version in (revision, mapping.short(revision))


def rollback_request(
    app: Mapping[str, Any], action: Action, source: str
) -> tuple[dict[str, Any], ActionResult]:
    """POST .../rollback to a history id; refused here first when Argo CD would refuse it."""
    name = mapping.name_of(app)
    entry = _entry(app, action)
    why = rollback_refusal(app, source)
    if why:
        raise Rejected(why)
    history_id = entry.get("id")
    body = _namespaced({"name": name, "id": history_id, "prune": False}, app)
    version = mapping.short(mapping.entry_revision(entry))
    message = f"rollback of {name} to {version} (history {history_id}) started. {ROLLBACK_WARNING}"
    return body, ActionResult(True, message, str(history_id))


def rollback_refusal(app: Mapping[str, Any], source: str) -> str | None:
    """Why Argo CD would refuse to roll `app` back now (the plan shows it before the dialog)."""
    if mapping.automated(app):
        return (
            f"{source}: Argo CD refuses to roll back {mapping.name_of(app)} while its auto-sync "
            "is on; turn auto-sync off for it first (re-enabling it later redeploys the "
            "revision in Git)"
        )
    return None
