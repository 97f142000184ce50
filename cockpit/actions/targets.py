"""From "what the operator is looking at" to an Action: one place for every view and the CLI.

Each builder returns an Action, or a sentence saying why that action does not apply here
("no earlier version of checkout in prod to roll back to").
"""

from __future__ import annotations

from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import (
    Action,
    ActionKind,
    Alert,
    Canary,
    CanaryPhase,
    PendingApproval,
    PipelineRun,
    Revision,
    Status,
)

Built = Action | str


def _on_canary(kind: ActionKind, canary: Canary, **extra: object) -> Action:
    """An action on a running canary: from its baseline to its candidate, by its source."""
    return Action(
        kind,
        canary.service,
        canary.environment,
        source=canary.source,
        version=canary.canary_version,
        from_version=canary.baseline_version,
        digest=canary.canary_digest,
        remote_id=canary.remote_id,
        **extra,  # type: ignore[arg-type]
    )


def _previous_env(snapshot: FleetSnapshot, environment: str) -> str | None:
    names = [e.name for e in snapshot.environments]
    if environment in names:
        i = names.index(environment)
        return names[i - 1] if i > 0 else None
    return None


def promote(
    snapshot: FleetSnapshot, service: str, environment: str, *, full: bool = False
) -> Built:
    cell = snapshot.cell(service, environment)
    canary = cell.canary
    if canary is not None and canary.phase.active:
        return _on_canary(ActionKind.PROMOTE, canary, params=(("full", "true"),) if full else ())
    previous = _previous_env(snapshot, environment)
    if previous is None:
        return f"{environment} is the first environment: nothing to promote from"
    source_dep = snapshot.cell(service, previous).deployment
    if source_dep is None:
        return f"{service} is not deployed in {previous}: nothing to promote"
    here = cell.deployment
    if here is not None and here.version == source_dep.version:
        return f"{service} {here.version} already runs in {environment}"
    return Action(
        ActionKind.PROMOTE,
        service,
        environment,
        source=(here.source if here else source_dep.source),
        version=source_dep.version,
        from_version=here.version if here else "",
        digest=source_dep.digest,
        from_environment=previous,
    )


def rollback(
    snapshot: FleetSnapshot, service: str, environment: str, revision: Revision | str | None = None
) -> Built:
    cell = snapshot.cell(service, environment)
    canary = cell.canary
    wanted = revision.version if isinstance(revision, Revision) else revision
    # During a canary, rolling back to its stable version is aborting it; any other version
    # is refused by the plan ("abort the canary first").
    if canary is not None and canary.phase.active and wanted in (None, canary.baseline_version):
        return Action(
            ActionKind.ROLLBACK,
            service,
            environment,
            source=canary.source,
            version=canary.baseline_version,
            from_version=canary.canary_version,
            digest=canary.canary_digest,
            remote_id=canary.remote_id,
        )
    dep = cell.deployment
    if dep is None:
        return f"{service} is not deployed in {environment}"
    if isinstance(revision, str):
        found = next((r for r in dep.history if r.version == revision or r.id == revision), None)
        if found is None:
            return f"{revision} is not in {service}'s history in {environment}"
        revision = found
    if revision is None:
        revision = next((r for r in dep.history if r.version != dep.version), None)
    if revision is None:
        return f"no earlier version of {service} in {environment} to roll back to"
    return Action(
        ActionKind.ROLLBACK,
        service,
        environment,
        source=dep.source,
        version=revision.version,
        from_version=dep.version,
        digest=revision.digest,
        remote_id=revision.id,
    )


def canary_action(
    snapshot: FleetSnapshot, kind: ActionKind, service: str, environment: str
) -> Built:
    canary = snapshot.cell(service, environment).canary
    if canary is None or not canary.phase.active:
        return f"no active canary for {service} in {environment}"
    if kind is ActionKind.PAUSE and canary.phase.value == "paused" and not canary.at_pause_step:
        return f"the canary of {service} is already paused"
    if kind is ActionKind.RESUME and canary.phase.value != "paused":
        return f"the canary of {service} is not paused"
    return _on_canary(kind, canary)


def sync(snapshot: FleetSnapshot, service: str, environment: str) -> Built:
    cell = snapshot.cell(service, environment)
    source = (
        cell.drift.source if cell.drift else (cell.deployment.source if cell.deployment else "")
    )
    if not source:
        return f"nothing reports {service} in {environment}"
    version = cell.drift.revision if cell.drift else ""
    return Action(ActionKind.SYNC, service, environment, source=source, version=version)


def decide(approval: PendingApproval, kind: ActionKind) -> Action:
    return Action(
        kind,
        approval.service,
        approval.environment,
        source=approval.source,
        version=approval.version,
        digest=approval.digest,
        approval_id=approval.id,
        remote_id=approval.remote_id,
    )


def approval_for(
    snapshot: FleetSnapshot, service: str, environment: str, run_id: str = ""
) -> PendingApproval | str:
    for a in snapshot.approvals:
        if run_id and a.run_id == run_id:
            return a
        if not run_id and a.service == service and a.environment == environment:
            return a
    what = f"run {run_id}" if run_id else f"{service} in {environment}"
    return f"nothing waits for approval for {what}"


def restart(snapshot: FleetSnapshot, service: str, environment: str) -> Built:
    """Restart what runs in a cell (a Kubernetes rollout restart), by its reporting source."""
    dep = snapshot.cell(service, environment).deployment
    if dep is None:
        return f"{service} is not deployed in {environment}"
    return Action(
        ActionKind.RESTART,
        service,
        environment,
        source=dep.source,
        version=dep.version,
        from_version=dep.version,
        digest=dep.digest,
        remote_id=dep.remote_id,
    )


def retry(snapshot: FleetSnapshot, service: str, environment: str) -> Built:
    """Retry an aborted canary rollout: the candidate gets traffic again, step by step."""
    canary = snapshot.cell(service, environment).canary
    if canary is None or canary.phase not in (CanaryPhase.ABORTED, CanaryPhase.FAILED):
        return f"no aborted canary of {service} in {environment} to retry"
    return _on_canary(ActionKind.RETRY, canary)


def _deploys_to(snapshot: FleetSnapshot, run: PipelineRun) -> str:
    """Where re-running `run` deploys: the furthest environment of a stage yet to succeed.

    Furthest, because a re-run goes on through every later stage: prod's roles and windows
    must apply when prod is among them.
    """
    ahead = {
        s.environment for s in run.stages if s.environment and s.status is not Status.SUCCEEDED
    }
    known = [e.name for e in snapshot.environments if e.name in ahead]
    return known[-1] if known else min(ahead, default="")


def rerun(snapshot: FleetSnapshot, run_id: str) -> Built:
    run = snapshot.runs.get(run_id)
    if run is None:
        return f"run {run_id} is no longer reported"
    if run.status.value not in ("failed", "cancelled"):
        return f"{run_id} has not failed: nothing to re-run"
    return Action(
        ActionKind.RERUN,
        run.service,
        _deploys_to(snapshot, run),
        source=run.source,
        version=run.version,
        digest=run.digest,
        remote_id=run.id,
    )


def _reported(snapshot: FleetSnapshot, alert: Alert | str) -> Alert | str:
    """The alert as the snapshot reports it now (by fingerprint), or why it cannot be acted on."""
    fingerprint = alert.fingerprint if isinstance(alert, Alert) else alert
    if not fingerprint:
        name = alert.name if isinstance(alert, Alert) else "this alert"
        return f"{name} has no fingerprint: only Alertmanager alerts can be silenced"
    source = alert.source if isinstance(alert, Alert) else None
    for a in snapshot.alerts:
        if a.fingerprint == fingerprint and source in (None, a.source):
            return a
    return f"alert {fingerprint} is no longer reported"


def alert_named(snapshot: FleetSnapshot, service: str, environment: str, name: str) -> Alert | str:
    """The one alert of a cell with this alertname (or fingerprint), or why there is none."""
    cell = [a for a in snapshot.alerts if (a.service, a.environment) == (service, environment)]
    found = [a for a in cell if name in (a.name, a.fingerprint)]
    if len(found) == 1:
        return found[0]
    if not found:
        known = ", ".join(sorted({a.name for a in cell})) or "none"
        where = f"{service or '(no service)'} in {environment or '(no environment)'}"
        return f"no alert {name} for {where} (firing: {known})"
    prints = ", ".join(a.fingerprint for a in found)
    return f"{len(found)} alerts are named {name} there: give one fingerprint ({prints})"


def silence(snapshot: FleetSnapshot, alert: Alert | str, duration: str) -> Built:
    """Silence one alert (an Alert or its fingerprint) for `duration` ("2h"). The connector
    turns its labels into the silence's matchers and checks the duration against its limit."""
    found = _reported(snapshot, alert)
    if isinstance(found, str):
        return found
    if found.silenced:
        return f"{found.name} is already silenced by {', '.join(found.silenced_by)}"
    return Action(
        ActionKind.SILENCE,
        found.service,
        found.environment,
        source=found.source,
        remote_id=found.fingerprint,
        params=(("duration", duration),),
    )


def unsilence(snapshot: FleetSnapshot, alert: Alert | str, silence_id: str = "") -> Built:
    """Expire the silence that holds an alert back: `silence_id`, or its only one."""
    found = _reported(snapshot, alert)
    if isinstance(found, str):
        return found
    if not found.silenced:
        return f"{found.name} is not silenced"
    if silence_id and silence_id not in found.silenced_by:
        return f"{silence_id} does not silence {found.name}"
    if not silence_id and len(found.silenced_by) > 1:
        ids = ", ".join(found.silenced_by)
        return f"{found.name} is silenced by {len(found.silenced_by)} silences ({ids}): name one"
    return Action(
        ActionKind.UNSILENCE,
        found.service,
        found.environment,
        source=found.source,
        remote_id=silence_id or found.silenced_by[0],
    )
