"""The fleet polled once, as a table or JSON: what `cockpit status` and the timeline print."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from cockpit.clock import Clock, ago
from cockpit.fleet.snapshot import FleetSnapshot, SourceState
from cockpit.model import Canary, Deployment
from cockpit.sanitize import clean, inert_json

if TYPE_CHECKING:
    from cockpit.config import Settings


def iso(when: datetime | None) -> str | None:
    return when.isoformat().replace("+00:00", "Z") if when else None


def _deployment(d: Deployment) -> dict[str, Any]:
    return {
        "version": d.version,
        "digest": d.digest,
        "status": d.status.value,
        "health": d.health.value,
        "deployed_at": iso(d.deployed_at),
        "deployed_by": d.deployed_by,
        "source": d.source,
        "observed_at": iso(d.observed_at),
        "history": [
            {
                "version": r.version,
                "digest": r.digest,
                "deployed_at": iso(r.deployed_at),
                "deployed_by": r.deployed_by,
                "id": r.id,
            }
            for r in d.history
        ],
    }


def _canary(c: Canary) -> dict[str, Any]:
    out: dict[str, Any] = {
        "service": c.service,
        "environment": c.environment,
        "baseline_version": c.baseline_version,
        "canary_version": c.canary_version,
        "step": c.step,
        "steps": c.steps,
        "weight": c.weight,
        "phase": c.phase.value,
        "started_at": iso(c.started_at),
        "source": c.source,
        "observed_at": iso(c.observed_at),
        "metrics": [m.name for m in c.metrics],
    }
    if c.verdict is not None:
        out["verdict"] = {
            "decision": c.verdict.decision,
            "score": c.verdict.score,
            "digest": c.verdict.digest,
        }
    return out


def write_json(data: object, out: TextIO) -> None:
    """Indented JSON; names stay readable, control and bidi characters are escaped."""
    out.write(inert_json(json.dumps(data, indent=2, ensure_ascii=False)) + "\n")


def source_state(s: SourceState, now: datetime) -> str:
    """ok, reading (not all read yet), stale, error, connecting, or unreachable: failing
    and never answered, so it has no facts that could have gone stale."""
    if s.ok is False and s.last_success is None:
        return "unreachable"
    return s.label(now)


def snapshot_json(snap: FleetSnapshot, now: datetime, config: str | None) -> dict[str, Any]:
    services = []
    for name in snap.services:
        envs: dict[str, Any] = {}
        for env in snap.environments:
            cell = snap.cell(name, env.name)
            entry: dict[str, Any] = {"sources": list(cell.sources)}
            if cell.deployment is not None:
                entry["deployment"] = _deployment(cell.deployment)
            if cell.canary is not None:
                entry["canary"] = {
                    "step": cell.canary.step,
                    "weight": cell.canary.weight,
                    "phase": cell.canary.phase.value,
                }
            if cell.drift is not None:
                entry["drift_items"] = len(cell.drift.items)
            if cell.alerts:
                entry["alerts"] = [a.name for a in cell.alerts if a.firing]
            envs[env.name] = entry
        services.append({"name": name, "environments": envs})
    runs = snap.runs_newest_first()
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.status.value] = counts.get(run.status.value, 0) + 1
    return {
        "generated_at": iso(now),
        "config": config or "(built-in demo)",
        "ok": all(s.ok for s in snap.sources.values()),
        "connectors": [
            {
                "name": s.name,
                "type": s.type,
                "ok": bool(s.ok),
                "error": s.error or None,
                "state": source_state(s, now),
                "last_success": iso(s.last_success),
                "stale": s.last_success is not None and s.stale(now),
                "latency_ms": round(s.latency * 1000, 1) if s.latency is not None else None,
            }
            for s in snap.sources.values()
        ],
        "environments": [{"name": e.name, "production": e.production} for e in snap.environments],
        "services": services,
        "pipelines": {
            "total": len(runs),
            "by_status": dict(sorted(counts.items())),
            "recent": [
                {
                    "id": r.id,
                    "service": r.service,
                    "status": r.status.value,
                    "stage": r.current_stage.name if r.current_stage else None,
                    "version": r.version,
                    "author": r.author,
                    "commit": r.commit,
                    "queued_at": iso(r.queued_at),
                    "source": r.source,
                }
                for r in runs[:50]
            ],
        },
        "canaries": [_canary(c) for c in snap.canaries],
        "drift": [
            {
                "service": d.service,
                "environment": d.environment,
                "revision": d.revision,
                "items": [
                    {"resource": i.resource, "path": i.path, "desired": i.desired, "live": i.live}
                    for i in d.items
                ],
                "source": d.source,
            }
            for d in snap.drift
        ],
        "alerts": [
            {
                "name": a.name,
                "service": a.service,
                "environment": a.environment,
                "severity": a.severity.value,
                "state": a.state,
                "summary": a.summary,
                "started_at": iso(a.started_at),
                "source": a.source,
            }
            for a in snap.alerts
        ],
        "annotations": [
            {
                "id": a.id,
                "at": iso(a.at),
                "end": iso(a.end),
                "text": a.text,
                "tags": list(a.tags),
                "service": a.service,
                "environment": a.environment,
                "author": a.author,
                "source": a.source,
            }
            for a in snap.annotations
        ],
        "environment_protection": [
            {"environment": i.name, "source": i.source, "rules": list(i.protection)}
            for i in snap.environment_info
        ],
        "change_windows": [
            {
                "name": w.name,
                "kind": w.kind,
                "schedule": w.schedule,
                "duration_minutes": w.duration_minutes,
                "timezone": w.timezone,
                "environments": list(w.environments),
                "source": w.source,
            }
            for w in snap.windows
        ],
        "approvals": [
            {
                "id": a.id,
                "title": a.title,
                "service": a.service,
                "environment": a.environment,
                "kind": a.kind,
                "requested_by": a.requested_by,
                "requested_at": iso(a.requested_at),
                "version": a.version,
                "remote_id": a.remote_id,
                "approvals": list(a.approvals),
                "required": a.required,
                "source": a.source,
            }
            for a in snap.approvals
        ],
    }


SERVICE_WIDTH, CELL_WIDTH = 24, 22


def snapshot_table(snap: FleetSnapshot, now: datetime) -> str:
    lines = []
    for s in snap.sources.values():
        state = source_state(s, now)
        detail = f": {s.error}" if s.error else ""
        lines.append(f"connector {clean(s.name)} ({clean(s.type)}): {state}{clean(detail)}")
    envs = [e.name for e in snap.environments]
    # Capped: one long service name or commit-sha version must not push every column away.
    width = min(max([len(s) for s in snap.services] + [7]), SERVICE_WIDTH)
    header = f"{'SERVICE':<{width}}  " + "  ".join(
        f"{clean(e.upper(), limit=CELL_WIDTH):<{CELL_WIDTH}}" for e in envs
    )
    lines += ["", header]
    for name in snap.services:
        cols = []
        for env in envs:
            cell = snap.cell(name, env)
            text = "-"
            if cell.deployment:
                text = f"{cell.deployment.version} {cell.deployment.health.value}"
            if cell.canary and cell.canary.phase.active:
                text += f" canary {cell.canary.weight}%"
            if cell.drift and cell.drift.items:
                text += f" drift:{len(cell.drift.items)}"
            if cell.firing:
                text += f" alerts:{len(cell.firing)}"
            cols.append(f"{clean(text, limit=CELL_WIDTH):<{CELL_WIDTH}}")
        lines.append(f"{clean(name, limit=width):<{width}}  " + "  ".join(cols))
    runs = snap.runs_newest_first()
    active = [r for r in runs if not r.status.terminal]
    lines += ["", f"pipelines: {len(runs)} runs, {len(active)} active"]
    for a in snap.approvals:
        lines.append(
            f"waiting for approval: {clean(a.title)} (by {clean(a.requested_by)}, {ago(a.requested_at, now)})"
        )
    for alert in snap.alerts:
        if alert.firing:
            lines.append(
                f"alert firing: {clean(alert.name)} {clean(alert.service)}/"
                f"{clean(alert.environment)} [{alert.severity.value}] {clean(alert.summary)}"
            )
    return "\n".join(lines)


async def fleet_snapshot(settings: Settings, clock: Clock) -> FleetSnapshot:
    """One look at the fleet, judged as the TUI judges it (same hub, same canary config)."""
    from cockpit.wiring import make_hub

    hub = make_hub(settings, clock=clock, live=False)
    try:
        return await hub.settle()
    finally:
        await hub.stop()
