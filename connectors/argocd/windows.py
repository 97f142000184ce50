"""AppProject sync windows -> the policy's change windows, scoped to cockpit environments."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any

from cockpit.model import ChangeWindow
from connectors.argocd.mapping import App, name_of, text

_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def minutes(duration: str) -> int | None:
    """A Go duration ("8h", "1h30m", "45m") in whole minutes, rounded up; None if unreadable."""
    if not duration or _GO_DURATION.sub("", duration):
        return None
    seconds = sum(float(n) * _UNIT[u] for n, u in _GO_DURATION.findall(duration))
    return max(1, math.ceil(seconds / 60))


def _any(patterns: Iterable[str], *values: str) -> bool:
    return any(fnmatchcase(v, p) for p in patterns for v in values if v)


def matches(window: Mapping[str, Any], app: App) -> bool:
    """Argo CD's rule: any listed criterion matches (all of them with andOperator)."""
    checks = []
    apps = window.get("applications") or []
    namespaces = window.get("namespaces") or []
    clusters = window.get("clusters") or []
    if apps:
        checks.append(_any(apps, name_of(app)))
    if namespaces:
        checks.append(_any(namespaces, text(app, "spec", "destination", "namespace")))
    if clusters:
        dest = ("server", "name")
        checks.append(_any(clusters, *(text(app, "spec", "destination", k) for k in dest)))
    if not checks:
        return False
    return all(checks) if window.get("andOperator") else any(checks)


def project_windows(
    project: Mapping[str, Any],
    apps: Iterable[App],
    environment_of: Callable[[App], str],
    source: str,
) -> list[ChangeWindow]:
    """The project's windows that govern cockpit actions, each scoped to the environments
    of the applications it matches. A window matching none of them governs nothing here.
    """
    name = text(project, "metadata", "name")
    members = [a for a in apps if text(a, "spec", "project") == name]
    out = []
    windows = (project.get("spec") or {}).get("syncWindows") or []
    for window in windows:
        if not isinstance(window, Mapping):
            continue
        kind = window.get("kind")
        # A deny window with manualSync still lets people sync: it only holds auto-sync.
        if kind not in ("allow", "deny") or (kind == "deny" and window.get("manualSync")):
            continue
        length = minutes(str(window.get("duration") or ""))
        schedule = window.get("schedule")
        if length is None or not isinstance(schedule, str) or not schedule:
            continue
        envs = sorted({environment_of(a) for a in members if matches(window, a)})
        if not envs:
            continue
        label = window.get("description") or f"{kind} {schedule}"
        out.append(
            ChangeWindow(
                name=f"Argo CD {name}: {label}",
                schedule=schedule,
                duration_minutes=length,
                timezone=window.get("timeZone") or "UTC",
                kind=str(kind),
                environments=tuple(envs),
                source=source,
            )
        )
    return out
