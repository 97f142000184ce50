"""The demo fleet's alerts and silences: alerts that follow a bad change and end after it goes.

Each incident alert has a cause, a version running somewhere: it fires while that version
runs (a deploy) or takes traffic (a canary) and resolves a minute after a rollback, as a
real error-rate alert does once the ratio is back under its threshold. A silence marks an
alert `silenced_by` until it expires (demo time) or is expired by the Unsilence action.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import NamedTuple

from cockpit.model import Alert, Deployment, Severity
from connectors.demo.digest import sha1_hex
from connectors.demo.sim_canary import ERRORS_AFTER, CanaryState

FIRE_AFTER = timedelta(seconds=20)  # errors climbing this long page someone
RESOLVE_AFTER = timedelta(seconds=60)  # the ratio back under threshold this long resolves


class Cause(NamedTuple):
    """What keeps an alert firing: `version` of its service running in its environment."""

    kind: str  # "deploy" or "canary"
    version: str


@dataclass(eq=False)  # compared by identity
class Firing:
    """A simulated alert that is firing, and the change that caused it, if any."""

    alert: Alert
    cause: Cause | None  # None: an alert unrelated to any change; it stays
    resolves_at: datetime | None = None


class Silence(NamedTuple):
    """A silence an operator set on a simulated alert, until `ends_at`."""

    id: str
    fingerprint: str
    ends_at: datetime
    created_by: str


def fingerprint(service: str, environment: str, name: str) -> str:
    return sha1_hex(f"{service}:{environment}:{name}")[:16]


class AlertBook:
    """The alerts firing in the demo fleet and the silences on them."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.firing: dict[str, Firing] = {}
        self.silences: dict[str, Silence] = {}
        self._frozen: tuple[Alert, ...] | None = None
        self._silence_no = 0

    def fire(
        self,
        name: str,
        service: str,
        environment: str,
        severity: Severity,
        summary: str,
        started_at: datetime,
        cause: Cause | None = None,
    ) -> None:
        fp = fingerprint(service, environment, name)
        labels = (
            ("alertname", name),
            ("env", environment),
            ("service", service),
            ("severity", severity.value),
        )
        alert = Alert(
            name=name,
            service=service,
            environment=environment,
            severity=severity,
            state="firing",
            summary=summary,
            started_at=started_at,
            source=self.source,
            observed_at=started_at,
            fingerprint=fp,
            labels=labels,
            url=f"https://prometheus.example/alerts?search={name}",
        )
        self.firing[fp] = Firing(alert, cause)
        self._frozen = None

    def tick(
        self,
        now: datetime,
        deployments: dict[tuple[str, str], Deployment],
        canaries: dict[tuple[str, str], CanaryState],
    ) -> None:
        """Fire what a degrading canary causes; resolve what lost its cause; end silences."""
        for state in canaries.values():
            errors_from = state.started_at + timedelta(seconds=ERRORS_AFTER)
            fp = fingerprint(state.service, state.environment, "HighErrorRate")
            if state.erroring(now - FIRE_AFTER) and fp not in self.firing:
                self.fire(
                    "HighErrorRate",
                    state.service,
                    state.environment,
                    Severity.CRITICAL,
                    f"5xx ratio above 2% for 30s on {state.service} {state.candidate}",
                    errors_from + FIRE_AFTER,
                    Cause("canary", state.candidate),
                )
        for fp, item in list(self.firing.items()):
            if item.cause is None:
                continue
            if item.resolves_at is None and not _holds(item, deployments, canaries):
                item.resolves_at = now + RESOLVE_AFTER
            if item.resolves_at is not None and now >= item.resolves_at:
                del self.firing[fp]
                self._frozen = None
        for sid, silence in list(self.silences.items()):
            if now >= silence.ends_at:
                del self.silences[sid]
                self._frozen = None

    def silence(self, fp: str, until: datetime, by: str) -> str | None:
        """Silence the alert `fp` until `until`: the new silence's id, None if it is gone."""
        if fp not in self.firing:
            return None
        self._silence_no += 1
        sid = f"demo-silence-{self._silence_no}"
        self.silences[sid] = Silence(sid, fp, until, by)
        self._frozen = None
        return sid

    def expire(self, sid: str) -> bool:
        if self.silences.pop(sid, None) is None:
            return False
        self._frozen = None
        return True

    def alerts(self, now: datetime) -> tuple[Alert, ...]:
        if self._frozen is None:
            by_alert: dict[str, list[str]] = {}
            for silence in self.silences.values():
                by_alert.setdefault(silence.fingerprint, []).append(silence.id)
            self._frozen = tuple(
                replace(
                    f.alert,
                    observed_at=now,
                    silenced_by=tuple(by_alert.get(fp, ())),
                )
                for fp, f in self.firing.items()
            )
        return self._frozen


def _holds(
    item: Firing,
    deployments: dict[tuple[str, str], Deployment],
    canaries: dict[tuple[str, str], CanaryState],
) -> bool:
    """Whether the alert's cause still runs."""
    cause = item.cause
    key = (item.alert.service, item.alert.environment)
    if cause is None:
        return True
    if cause.kind == "canary":
        state = canaries.get(key)
        return state is not None and state.phase.active and state.candidate == cause.version
    deployed = deployments.get(key)
    return deployed is not None and deployed.version == cause.version
