"""What changed in the fleet in a period: every connector's facts and the audit log, as one list.

A change is something that happened at a known time and could have caused what an alert
shows: a deploy, a promotion, a rollback, a canary step, a sync, drift appearing, an
approval, a config change. Facts that carry no time of their own (drift, a canary's step,
health) reach this list only through `ChangeRecorder`, which notes when it saw them move.

Refused, failed and merely requested actions are not changes (nothing changed); the
timeline shows them as actions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from cockpit.model import Deployment, Status
from cockpit.sanitize import clean

if TYPE_CHECKING:
    from cockpit.audit import AuditRecord
    from cockpit.fleet.snapshot import FleetSnapshot

AUDIT = "audit"  # the source of a change read from the audit log
OBSERVED = "observed"  # the source of a transition the recorder saw between two snapshots
COCKPIT_TAG = "cockpit"  # Grafana annotations the cockpit wrote itself carry this tag


class ChangeKind(StrEnum):
    DEPLOY = "deploy"
    PROMOTE = "promote"
    ROLLBACK = "rollback"
    CANARY = "canary"  # start, step or weight change, pause, resume, abort, end
    SYNC = "sync"
    RESTART = "restart"
    DRIFT = "drift"  # live state parted from (or came back to) the desired state
    CONFIG = "config"  # the cockpit started with another config file
    APPROVAL = "approval"  # requested, granted or rejected
    PIPELINE = "pipeline"  # a CI run finished (or was re-run)
    ANNOTATION = "annotation"  # a note on the Grafana timeline by someone else
    SILENCE = "silence"  # an alert silenced or a silence expired
    HEALTH = "health"  # a deployment turned degraded (or recovered)
    ACTION = "action"  # any other succeeded action


# Kinds that alter what runs: the likely causes of an alert.
ALTERS = frozenset(
    {
        ChangeKind.DEPLOY,
        ChangeKind.PROMOTE,
        ChangeKind.ROLLBACK,
        ChangeKind.CANARY,
        ChangeKind.SYNC,
        ChangeKind.RESTART,
        ChangeKind.DRIFT,
        ChangeKind.CONFIG,
    }
)

# The change kind of each audited action that succeeded.
ACTION_KINDS = {
    "promote": ChangeKind.PROMOTE,
    "rollback": ChangeKind.ROLLBACK,
    "sync": ChangeKind.SYNC,
    "restart": ChangeKind.RESTART,
    "pause": ChangeKind.CANARY,
    "resume": ChangeKind.CANARY,
    "abort": ChangeKind.CANARY,
    "retry": ChangeKind.CANARY,
    "approve": ChangeKind.APPROVAL,
    "reject": ChangeKind.APPROVAL,
    "rerun": ChangeKind.PIPELINE,
    "silence": ChangeKind.SILENCE,
    "unsilence": ChangeKind.SILENCE,
}

# An audited action and the fact it produced are one change when the fact follows the
# record within this long (a deploy seen on the next poll, an Argo CD history entry).
SAME_CHANGE = timedelta(minutes=15)
SKEW = timedelta(minutes=1)  # a remote clock a little ahead of ours
_VERSION_FAMILY = frozenset(
    {ChangeKind.DEPLOY, ChangeKind.PROMOTE, ChangeKind.ROLLBACK, ChangeKind.SYNC}
)
_CANARY_CAUSES = frozenset({ChangeKind.PROMOTE, ChangeKind.ROLLBACK, ChangeKind.CANARY})


@dataclass(frozen=True, slots=True)
class Change:
    """One change at a known time, in words, with where it was learned."""

    at: datetime
    kind: str  # a ChangeKind
    service: str  # "" for fleet-wide changes (config)
    environment: str
    summary: str
    source: str  # the connector instance, "audit" or "observed"
    version: str = ""
    from_version: str = ""
    actor: str = ""
    record: int | None = None  # the audit record's seq when it came from the log

    @property
    def alters(self) -> bool:
        """Whether it changed what runs (weighs more as a suspect than an approval)."""
        return self.kind in ALTERS

    def sort_key(self) -> tuple[datetime, str, str, str, str]:
        return (self.at, self.kind, self.service, self.environment, self.summary)


def collect(
    snapshot: FleetSnapshot,
    records: Iterable[AuditRecord],
    *,
    since: datetime,
    until: datetime,
    observed: Iterable[Change] = (),
) -> list[Change]:
    """Every change in [since, until], oldest first, each seen once.

    `records` may start before `since`: an app.start before the period is what a later
    one's config is compared with."""
    found = [*from_facts(snapshot), *from_records(records), *observed]
    within = [c for c in found if since <= c.at <= until]
    return dedupe(within)


def from_facts(snapshot: FleetSnapshot) -> list[Change]:
    """Changes the connectors' facts carry a time for."""
    out: list[Change] = []
    for cell in snapshot.cells.values():
        if cell.deployment is not None:
            out.extend(_deployment(cell.deployment))
    for canary in snapshot.canaries:
        out.append(
            Change(
                canary.started_at,
                ChangeKind.CANARY,
                canary.service,
                canary.environment,
                f"canary {canary.canary_version} started against {canary.baseline_version}",
                canary.source,
                canary.canary_version,
                canary.baseline_version,
            )
        )
    for run in snapshot.runs.values():
        if run.status.terminal and run.finished_at is not None:
            # A run belongs to the last environment it deployed to; one that never got there
            # (failed before, or waiting) changed nothing in it and is only the service's.
            env = next(
                (
                    s.environment
                    for s in reversed(run.stages)
                    if s.environment and s.status is Status.SUCCEEDED
                ),
                "",
            )
            what = f"pipeline {run.pipeline} #{run.number} {run.status.value}"
            out.append(
                Change(
                    run.finished_at,
                    ChangeKind.PIPELINE,
                    run.service,
                    env,
                    what + (f" ({run.version})" if run.version else ""),
                    run.source,
                    run.version,
                    actor=run.author,
                )
            )
    for approval in snapshot.approvals:
        out.append(
            Change(
                approval.requested_at,
                ChangeKind.APPROVAL,
                approval.service,
                approval.environment,
                f"approval requested: {approval.title}",
                approval.source,
                approval.version,
                actor=approval.requested_by,
            )
        )
    for note in snapshot.annotations:
        if COCKPIT_TAG in note.tags:  # its audit record is already in the list
            continue
        kind = next((ChangeKind(t) for t in note.tags if t in _TAGGED_KINDS), ChangeKind.ANNOTATION)
        out.append(
            Change(
                note.at,
                kind,
                note.service,
                note.environment,
                clean(note.text, limit=200),
                note.source,
                actor=note.author,
            )
        )
    return out


_TAGGED_KINDS = frozenset({"deploy", "rollback", "config", "promote", "sync"})


def _deployment(dep: Deployment) -> list[Change]:
    history = dep.history
    previous = history[0].version if history else ""
    out = [
        Change(
            dep.deployed_at,
            ChangeKind.DEPLOY,
            dep.service,
            dep.environment,
            f"deployed {dep.version}" + (f" (was {previous})" if previous else ""),
            dep.source,
            dep.version,
            previous,
            dep.deployed_by,
        )
    ]
    for i, rev in enumerate(history):
        before = history[i + 1].version if i + 1 < len(history) else ""
        verb = "rolled back to" if rev.rollback else "deployed"
        out.append(
            Change(
                rev.deployed_at,
                ChangeKind.ROLLBACK if rev.rollback else ChangeKind.DEPLOY,
                dep.service,
                dep.environment,
                f"{verb} {rev.version}" + (f" (was {before})" if before else ""),
                dep.source,
                rev.version,
                before,
                rev.deployed_by,
            )
        )
    return out


def from_records(records: Iterable[AuditRecord]) -> list[Change]:
    """Changes the audit log holds: succeeded actions, granted approvals, config changes."""
    out: list[Change] = []
    config: str | None = None
    for rec in records:
        kind = str(rec.event_type)
        if kind == "action.succeeded":
            out.append(_action(rec))
        elif kind in ("approval.granted", "approval.rejected"):
            out.append(_action(rec, ChangeKind.APPROVAL))
        elif kind == "app.start":
            now = str(rec.extra.get("config_digest") or rec.extra.get("config") or "")
            if config is not None and now != config:
                out.append(
                    Change(
                        rec.ts,
                        ChangeKind.CONFIG,
                        "",
                        "",
                        clean(f"cockpit started with config {now} (was {config})", limit=200),
                        AUDIT,
                        actor=clean(rec.actor.user),
                        record=rec.seq,
                    )
                )
            config = now
    return out


def _action(rec: AuditRecord, kind: str | None = None) -> Change:
    target = rec.target
    service, env = (target.service, target.environment) if target else ("", "")
    to, frm = (target.to_version, target.from_version) if target else ("", "")
    versions = f" {frm} → {to}" if frm and to else f" {to}" if to else ""
    if kind is None:
        what = f"{rec.action}{versions}"
    else:
        what = f"{rec.action} {str(rec.event_type).split('.')[1]}{versions}"
    if rec.reason:
        what += f": {rec.reason}"
    return Change(
        rec.ts,
        kind or ACTION_KINDS.get(rec.action, ChangeKind.ACTION),
        clean(service),
        clean(env),
        clean(what, limit=200),
        AUDIT,
        clean(to),
        clean(frm),
        clean(rec.actor.user),
        rec.seq,
    )


def dedupe(changes: Sequence[Change]) -> list[Change]:
    """Oldest first, each change once: the audit record wins over the fact it produced."""
    unique = sorted(set(changes), key=Change.sort_key)
    audited: dict[tuple[str, str], list[Change]] = {}
    for c in unique:
        if c.record is not None:
            audited.setdefault((c.service, c.environment), []).append(c)
    if not audited:
        return unique
    return [c for c in unique if c.record is not None or not _produced(c, audited)]


def _produced(fact: Change, audited: dict[tuple[str, str], list[Change]]) -> bool:
    """Whether an audited action on the same cell explains this fact."""
    for action in audited.get((fact.service, fact.environment), ()):
        if not (-SKEW <= fact.at - action.at <= SAME_CHANGE):
            continue
        if fact.kind in _VERSION_FAMILY and action.kind in _VERSION_FAMILY:
            if fact.version and fact.version == action.version:
                return True
        elif (
            fact.kind == ChangeKind.CANARY
            and fact.source == OBSERVED
            and action.kind in _CANARY_CAUSES
        ):
            return True
    return False
