"""Drift from Argo CD's managed resources: desired (Git) against live, leaf by leaf.

The `*State` fields are JSON documents inside strings ("null" when one side is missing).
Desired is walked and compared with live; fields only live has (defaults, server-set
metadata, status) are not drift. Lists of named objects (containers, env, ports) are
matched by name, so an inserted container does not shift every later one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from cockpit.model import DriftItem

ABSENT = "(absent)"
WHOLE = "(resource)"
VALUE_LIMIT = 300
_MISSING = object()
# Written by the API server, never by Git: different on every cluster, so never drift.
_SERVER_FIELDS = {
    ("metadata", "resourceVersion"),
    ("metadata", "uid"),
    ("metadata", "generation"),
    ("metadata", "creationTimestamp"),
    ("metadata", "managedFields"),
    ("metadata", "selfLink"),
}


def load_state(value: object) -> Any:
    """A `*State` string parsed; None for a missing object, unreadable text or no field."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def resource_name(item: Mapping[str, Any]) -> str:
    kind, namespace, name = (str(item.get(k) or "") for k in ("kind", "namespace", "name"))
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


def render(value: Any) -> str:
    if value is _MISSING:
        return ABSENT
    out = (
        value
        if isinstance(value, str)
        else json.dumps(value, sort_keys=True, separators=(",", ":"))
    )
    return out if len(out) <= VALUE_LIMIT else out[: VALUE_LIMIT - 1] + "…"


def _key(path: str, key: str) -> str:
    if key.replace("_", "").replace("-", "").isalnum():
        return f"{path}.{key}" if path else key
    return f'{path}["{key}"]'


def _named(items: Sequence[Any]) -> bool:
    return bool(items) and all(
        isinstance(i, Mapping) and isinstance(i.get("name"), str) for i in items
    )


def differences(desired: Any, live: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(path, desired, live) for every leaf where live does not hold what desired says."""
    if isinstance(desired, Mapping) and isinstance(live, Mapping):
        for key, value in desired.items():
            yield from differences(value, live.get(key, _MISSING), _key(path, str(key)))
        return
    if isinstance(desired, list) and isinstance(live, list):
        if _named(desired) and (not live or _named(live)):
            by_name = {i["name"]: i for i in live}
            for item in desired:
                yield from differences(
                    item, by_name.pop(item["name"], _MISSING), f"{path}[{item['name']}]"
                )
            for name, item in by_name.items():
                yield f"{path}[{name}]", _MISSING, item
            return
        if any(isinstance(i, Mapping | list) for i in (*desired, *live)):
            for i, item in enumerate(desired):
                yield from differences(item, live[i] if i < len(live) else _MISSING, f"{path}[{i}]")
            for i in range(len(desired), len(live)):
                yield f"{path}[{i}]", _MISSING, live[i]
            return
    if desired != live and not (desired is None and live is _MISSING):
        yield path, desired, live


def _relevant(path: str) -> bool:
    parts = path.replace("[", ".").split(".")
    return parts[0] != "status" and tuple(parts[:2]) not in _SERVER_FIELDS


def resource_items(item: Mapping[str, Any], limit: int) -> list[DriftItem]:
    """The drift of one managed resource, at most `limit` paths plus a count of the rest."""
    resource = resource_name(item)
    target = load_state(item.get("targetState"))
    live = load_state(item.get("normalizedLiveState"))
    if target is None and live is None:
        return []
    if target is None:
        return [DriftItem(resource, WHOLE, ABSENT, "(present: not in Git, pruning deletes it)")]
    if live is None:
        return [DriftItem(resource, WHOLE, "(present)", ABSENT)]
    found = [d for d in differences(target, live) if _relevant(d[0])]
    if not found:
        # The controller saw drift our walk cannot place (e.g. a field removed from Git):
        # its own prediction of the applied object has the defaults the diff needs.
        predicted = load_state(item.get("predictedLiveState"))
        if isinstance(predicted, Mapping):
            found = [d for d in differences(predicted, live) if _relevant(d[0])]
    if not found:
        return [DriftItem(resource, WHOLE, "(as in Git)", "(modified; see the Argo CD diff)")]
    items = [
        DriftItem(resource, path, render(want), render(have)) for path, want, have in found[:limit]
    ]
    if len(found) > limit:
        items.append(DriftItem(resource, f"(+{len(found) - limit} more paths)", "", ""))
    return items


def drift_items(resources: Sequence[Any], limit: int) -> list[DriftItem]:
    """Every drifted, non-hook managed resource's items, in the server's order."""
    out: list[DriftItem] = []
    for item in resources:
        if isinstance(item, Mapping) and item.get("modified") is True and not item.get("hook"):
            out.extend(resource_items(item, limit))
    return out
