"""Facts, snapshots and audit records for the incident tests, built field by field once."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from cockpit.audit import Actor, AuditEvent, AuditStore, EventType, Target, open_store
from cockpit.clock import FixedClock
from cockpit.fleet.snapshot import FleetSnapshot, SourceState
from cockpit.incident.changes import Change
from cockpit.model import (
    Alert,
    Canary,
    CanaryPhase,
    Deployment,
    DriftItem,
    DriftReport,
    Environment,
    Health,
    Observation,
    Revision,
    Severity,
    Status,
)
from tests.fakes import T0

ENVS = (Environment("staging", 1), Environment("prod", 2, production=True))
ALICE = Actor("alice", "bastion-1", "", 4242, "test")
BOB = Actor("bob", "bastion-2", "", 4343, "test")


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def alert(service: str = "payments", environment: str = "prod", at: datetime = T0) -> Alert:
    return Alert(
        name="HighErrorRate",
        service=service,
        environment=environment,
        severity=Severity.CRITICAL,
        state="firing",
        summary="5xx above 2%",
        started_at=at,
        source="am",
        observed_at=at,
        fingerprint=f"{service}-{environment}",
    )


def change(
    at: datetime,
    kind: str = "deploy",
    service: str = "payments",
    environment: str = "prod",
    summary: str = "",
    **kw: object,
) -> Change:
    return Change(at, kind, service, environment, summary or f"{kind} {service}", "ci", **kw)  # type: ignore[arg-type]


def deployment(
    service: str = "payments",
    environment: str = "prod",
    *,
    version: str = "2.7.12",
    at: datetime = T0,
    health: Health = Health.HEALTHY,
    history: tuple[Revision, ...] = (),
) -> Deployment:
    return Deployment(
        service=service,
        environment=environment,
        version=version,
        digest="sha256:" + "a" * 64,
        deployed_at=at,
        deployed_by="ci-bot",
        status=Status.SUCCEEDED,
        health=health,
        source="argocd",
        observed_at=at,
        history=history,
    )


def canary(step: int = 2, weight: int = 10, phase: CanaryPhase = CanaryPhase.PROGRESSING) -> Canary:
    return Canary(
        service="payments",
        environment="prod",
        baseline_version="2.7.11",
        canary_version="2.7.12",
        step=step,
        steps=6,
        weight=weight,
        phase=phase,
        started_at=T0 - minutes(30),
        source="rollouts",
        observed_at=T0,
    )


def drift(n: int = 1) -> DriftReport:
    items = tuple(
        DriftItem("Deployment/prod/payments", "spec.replicas", "3", "5") for _ in range(n)
    )
    return DriftReport("payments", "prod", "abc", items, "argocd", T0)


def snapshot(
    at: datetime = T0, base: FleetSnapshot | None = None, **facts: object
) -> FleetSnapshot:
    """`base` (or an empty fleet) with one source `src` now reporting `facts`."""
    obs = Observation(source="src", observed_at=at, **facts)  # type: ignore[arg-type]
    state = SourceState("src", "test", True, at, at, "", 0, 60.0)
    return (base or FleetSnapshot.empty(ENVS, at)).with_observation(obs, state, at)


def store(folder: Path, clock: FixedClock) -> AuditStore:
    return open_store(str(folder / "audit.sqlite3"), clock=clock)


def action_record(
    log: AuditStore,
    action: str,
    *,
    event: EventType = EventType.ACTION_SUCCEEDED,
    service: str = "payments",
    environment: str = "prod",
    frm: str = "2.7.12",
    to: str = "2.7.11",
    reason: str = "5xx since 2.7.12",
    actor: Actor = ALICE,
    extra: dict[str, object] | None = None,
) -> None:
    outcome = str(event).split(".")[1]
    log.append(
        AuditEvent(
            event,
            actor,
            Target(service, environment, frm, to, source="argocd"),
            action,
            outcome,
            reason=reason,
            extra=extra or {},
        )
    )


def start_record(log: AuditStore, config: str) -> None:
    log.append(
        AuditEvent(EventType.APP_START, ALICE, None, "app.start", "info", extra={"config": config})
    )
