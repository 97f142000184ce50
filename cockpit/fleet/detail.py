"""On-demand detail of one cell (what k9s users reach for): revisions, pods, events, log lines.

Not part of the polled snapshot: a connector builds it when a person opens the cell's pods
view (`Connector.detail`), and streams a pod's log on request (`Connector.logs`). Both are
plain data; the app fetches them in a worker and hands them to the screen.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime

from cockpit.sanitize import clean

EVENTS_SHOWN = 20
LOG_LINES_KEPT = 1000  # a follow tail never grows past this many lines
LOG_LINE_CAP = 2000  # characters; a minified JSON blob stays one readable row


@dataclass(frozen=True)
class RevisionRow:
    """One ReplicaSet (one revision of the pod template) and its readiness."""

    name: str
    revision: int
    version: str
    desired: int
    ready: int
    available: int
    current: bool


@dataclass(frozen=True)
class PodRow:
    """One pod as `kubectl get pods` shows it."""

    name: str
    ready: str  # "1/2": ready containers / containers
    status: str  # the phase, or why a container waits or terminated (CrashLoopBackOff)
    restarts: int
    created: datetime
    node: str
    revision: int  # of the ReplicaSet that owns it; 0 when unknown
    containers: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventRow:
    """One event about the workload, its ReplicaSets or its pods."""

    at: datetime
    type: str  # Normal or Warning
    reason: str
    object: str  # Kind/name
    message: str
    count: int = 1


@dataclass(frozen=True)
class LogTarget:
    """Whose log to tail: a pod (and container) as a connector named it in a detail."""

    source: str
    namespace: str
    pod: str
    container: str = ""


@dataclass(frozen=True)
class ServiceDetail:
    """Everything the pods view shows for one (service, environment) from one source."""

    source: str
    service: str
    environment: str
    kind: str  # Deployment or Rollout
    namespace: str
    name: str
    revisions: tuple[RevisionRow, ...]
    pods: tuple[PodRow, ...]
    events: tuple[EventRow, ...]  # newest last, at most EVENTS_SHOWN
    observed_at: datetime

    def target(self, pod: str) -> LogTarget:
        return LogTarget(self.source, self.namespace, pod)


class LogTail:
    """The last LOG_LINES_KEPT lines of a log, each made inert and capped as it arrives."""

    def __init__(self, keep: int = LOG_LINES_KEPT, cap: int = LOG_LINE_CAP) -> None:
        self.lines: deque[str] = deque(maxlen=keep)
        self.cap = cap
        self.seen = 0

    def add(self, line: str) -> str:
        safe = clean(line.rstrip("\r\n"), limit=self.cap)
        self.lines.append(safe)
        self.seen += 1
        return safe
