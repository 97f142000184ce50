"""The controller's /metrics: polls and errors per connector, verdicts, actions, audit latency.

prometheus_client is imported here only, when the controller starts, with a registry of
the controller's own (not the process-wide default one): a test can build two
controllers in one process, and nothing another library registers leaks into the scrape.
Counts are taken from the hub's snapshots, so the hub itself knows nothing of Prometheus.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from cockpit.fleet.analysis import decision_of

if TYPE_CHECKING:
    from cockpit.fleet.snapshot import FleetSnapshot

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# An audit append is a durable write (the target: p95 <= 10 ms); buckets around it.
APPEND_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class ControllerMetrics:
    """Every metric the controller exports, on its own CollectorRegistry."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.leader = Gauge(
            "cockpit_controller_leader",
            "1 while this controller holds the team store's lock and runs the fleet, else 0",
            registry=r,
        )
        self.terms = Counter(
            "cockpit_controller_leadership_terms",
            "Times this controller became the leader (a takeover after a start counts)",
            registry=r,
        )
        self.polls = Counter(
            "cockpit_connector_polls",
            "Polls of each connector instance that finished, failed ones included",
            ["connector", "type"],
            registry=r,
        )
        self.errors = Counter(
            "cockpit_connector_poll_errors",
            "Polls of each connector instance that failed (error, timeout, refused)",
            ["connector", "type"],
            registry=r,
        )
        self.up = Gauge(
            "cockpit_connector_up",
            "1 when the connector's last poll succeeded and its facts are not stale, else 0",
            ["connector", "type"],
            registry=r,
        )
        self.verdicts = Counter(
            "cockpit_canary_verdicts",
            "Canary verdicts the judge reached (each new verdict once), by decision",
            ["environment", "decision"],
            registry=r,
        )
        self.actions = Counter(
            "cockpit_controller_actions",
            "Actions the controller ran (automatic rollbacks), by kind and outcome",
            ["kind", "status"],
            registry=r,
        )
        self.append_seconds = Histogram(
            "cockpit_audit_append_seconds",
            "Time to append one record to the audit log, durable write included",
            buckets=APPEND_BUCKETS,
            registry=r,
        )
        self._attempts: dict[str, datetime | None] = {}
        self._verdicts: dict[tuple[str, str, str], str] = {}  # canary -> last verdict digest

    def observe(self, snap: FleetSnapshot) -> None:
        """A hub listener: count the polls and verdicts this snapshot is new about.

        The hub publishes a snapshot after every poll, so a poll is a source whose last
        attempt moved; a verdict is a canary whose verdict digest changed.
        """
        now = snap.taken_at
        for source in snap.sources.values():
            labels = (source.name, source.type)
            attempt = source.last_attempt
            if attempt is not None and self._attempts.get(source.name) != attempt:
                self._attempts[source.name] = attempt
                self.polls.labels(*labels).inc()
                if source.ok is False:
                    self.errors.labels(*labels).inc()
            self.up.labels(*labels).set(1 if source.ok and not source.stale(now) else 0)
        for canary in snap.canaries:
            verdict = canary.verdict
            if verdict is None:
                continue
            key = (canary.service, canary.environment, canary.canary_version)
            if self._verdicts.get(key) != verdict.digest:
                self._verdicts[key] = verdict.digest
                self.verdicts.labels(canary.environment, decision_of(verdict)).inc()

    def appended(self, seconds: float) -> None:
        self.append_seconds.observe(seconds)

    def acted(self, kind: str, status: str) -> None:
        self.actions.labels(kind, status).inc()

    def render(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)
