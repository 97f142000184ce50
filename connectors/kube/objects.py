"""Reading Kubernetes objects as plain JSON: times, images, owners, revisions, conditions."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from cockpit.errors import Rejected
from cockpit.model import EPOCH

Obj = dict[str, Any]


def meta(obj: Obj) -> Obj:
    return obj.get("metadata") or {}


def ident(obj: Obj) -> str:
    """namespace/name: how actions and messages name an object."""
    m = meta(obj)
    return f"{m.get('namespace', '')}/{m.get('name', '')}"


def parse_time(value: object, default: datetime = EPOCH) -> datetime:
    """An RFC 3339 timestamp (always UTC on the wire) as an aware datetime."""
    if not isinstance(value, str) or not value:
        return default
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return default
    return when if when.tzinfo is not None else default


def image_ref(image: str) -> tuple[str, str]:
    """(tag, digest) of an image reference; the tag defaults to latest without a digest.

    The registry part may carry a port (`reg:5000/web:1.2`), so the tag is only what
    follows the last colon after the last slash.
    """
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.rpartition(":")[2] if ":" in last else ""
    if not tag and not digest:
        tag = "latest"
    return tag, digest


def version_of(image: str) -> tuple[str, str]:
    """(version, digest) for display: the tag, else a short digest."""
    tag, digest = image_ref(image)
    return tag or digest[:19], digest


def container_image(template: Obj, container: str = "") -> str:
    """The image of the named container of a pod template, else of its first container."""
    containers = ((template.get("spec") or {}).get("containers")) or []
    for c in containers:
        if container and c.get("name") == container:
            return str(c.get("image", ""))
    return str(containers[0].get("image", "")) if containers and not container else ""


def controller_uid(obj: Obj) -> str:
    for ref in meta(obj).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid", ""))
    return ""


def revision(obj: Obj, annotation: str) -> int | None:
    value = (meta(obj).get("annotations") or {}).get(annotation)
    try:
        return int(value) if value is not None else 0
    except (TypeError, ValueError):
        return None


def without_label(template: Obj, label: str) -> Obj:
    """A deep copy of a pod template without one label (the pod-template-hash)."""
    out = copy.deepcopy(template)
    labels = (out.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(label, None)
    return out


def last_manager(obj: Obj) -> str:
    """Who last changed the spec: the newest field manager that was not a status write."""
    entries = [
        e
        for e in meta(obj).get("managedFields") or []
        if not e.get("subresource") and e.get("manager")
    ]
    if not entries:
        return ""
    return str(max(entries, key=lambda e: str(e.get("time", ""))).get("manager", ""))


def condition(obj: Obj, kind: str) -> Obj | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return dict(cond)
    return None


def pick_revision(
    candidates: list[Obj], annotation: str, wanted: int, current_template: Obj | None = None
) -> Obj | None:
    """The ReplicaSet of revision `wanted`, or with 0 the second-highest (the previous one).

    The same rule kubectl `rollout undo` and `kubectl argo rollouts undo` apply.
    """
    latest: tuple[int, Obj | None] = (-1, None)
    previous: tuple[int, Obj | None] = (-1, None)
    for rs in candidates:
        rev = revision(rs, annotation)
        if rev is None:
            continue
        if wanted:
            if rev == wanted:
                return rs
            continue
        if rev > latest[0]:
            previous, latest = latest, (rev, rs)
        elif rev > previous[0]:
            previous = (rev, rs)
    return None if wanted else previous[1]


def target_revision(version: str, sets: list[Obj], annotation: str, container: str = "") -> int:
    """The revision an operator names: 0 (the previous one) when empty, a number as is, or
    the newest revision whose image is that tag or digest."""
    if not version or version.isdigit():
        return int(version or 0)
    matches = [
        revision(rs, annotation) or 0
        for rs in sets
        if version
        in version_of(container_image((rs.get("spec") or {}).get("template") or {}, container))
    ]
    if not matches:
        raise Rejected(f"no revision in the history runs version {version!r}")
    return max(matches)
