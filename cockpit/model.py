"""The domain vocabulary: frozen, typed facts that connectors report and screens render.

Every fact a connector returns names its `source` (the connector instance) and when it was
`observed_at`; datetimes are always timezone-aware (`__post_init__` refuses naive ones).
The canary's facts live in `cockpit.canary_model` and the actions in `cockpit.action_model`;
both are named here too, so this stays the one import a connector needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from cockpit.action_model import Action as Action
from cockpit.action_model import ActionKind as ActionKind
from cockpit.action_model import ActionResult as ActionResult
from cockpit.aware import check_aware
from cockpit.canary_model import Canary
from cockpit.canary_model import CanaryPhase as CanaryPhase
from cockpit.canary_model import MetricSeries as MetricSeries

if TYPE_CHECKING:
    from cockpit.evidence_model import Evidence as Evidence
    from cockpit.evidence_model import EvidenceKind as EvidenceKind
    from cockpit.model_later import Annotation as Annotation
    from cockpit.model_later import BurnWindow as BurnWindow
    from cockpit.model_later import CanaryMetrics as CanaryMetrics
    from cockpit.model_later import ChangeWindow as ChangeWindow
    from cockpit.model_later import EnvironmentInfo as EnvironmentInfo
    from cockpit.model_later import Gate as Gate
    from cockpit.model_later import MetricVerdict as MetricVerdict
    from cockpit.model_later import RateBudget as RateBudget
    from cockpit.model_later import Service as Service
    from cockpit.model_later import Verdict as Verdict

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# Named here too, but loaded on first use: plain `cockpit` makes none before its first frame.
_LATER = frozenset(
    {
        "Annotation",
        "BurnWindow",
        "CanaryMetrics",
        "ChangeWindow",
        "EnvironmentInfo",
        "Gate",
        "MetricVerdict",
        "RateBudget",
        "Service",
        "Verdict",
    }
)


def __getattr__(name: str) -> object:
    """Supply-chain evidence (cockpit.evidence_model) and the facts of cockpit.model_later
    are named here too, but loaded on first use (start-up needs none of them)."""
    if name in ("Evidence", "EvidenceKind"):
        from cockpit import evidence_model

        return getattr(evidence_model, name)
    if name in _LATER:
        from cockpit import model_later

        value = getattr(model_later, name)
        globals()[name] = value  # looked up once; the type hints of this module see it too
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Status(StrEnum):
    """Where a pipeline run, stage or deployment is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"  # for a human: an approval, a manual job, an input step
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"
    UNKNOWN = "unknown"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = {Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.SKIPPED}


class Health(StrEnum):
    """How a running deployment is doing (Argo CD's vocabulary, which most tools map onto)."""

    HEALTHY = "healthy"
    PROGRESSING = "progressing"
    DEGRADED = "degraded"
    SUSPENDED = "suspended"
    MISSING = "missing"
    UNKNOWN = "unknown"


class GateStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Environment:
    """An environment a service deploys to, in promotion order (dev before staging before prod)."""

    name: str
    order: int
    production: bool = False


@dataclass(frozen=True, slots=True)
class Revision:
    """One deployed version in an environment's history."""

    version: str
    digest: str
    deployed_at: datetime
    deployed_by: str
    id: str = ""  # the remote system's id (Argo CD history id, GitHub deployment id, ...)
    rollback: bool = False

    def __post_init__(self) -> None:
        check_aware(self)


@dataclass(frozen=True, slots=True)
class Deployment:
    """What runs in one environment for one service, and what ran there before."""

    service: str
    environment: str
    version: str
    digest: str
    deployed_at: datetime
    deployed_by: str
    status: Status
    health: Health
    source: str
    observed_at: datetime
    history: tuple[Revision, ...] = ()  # earlier revisions, newest first
    remote_id: str = ""
    message: str = ""

    def __post_init__(self) -> None:
        check_aware(self)

    @property
    def key(self) -> tuple[str, str]:
        return (self.service, self.environment)


@dataclass(frozen=True, slots=True)
class TestSummary:
    """A run's test counts, as its CI reported them."""

    __test__ = False  # not a pytest test class, despite the name

    passed: int
    failed: int
    skipped: int = 0

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.skipped


@dataclass(frozen=True, slots=True)
class Stage:
    """One stage of a pipeline run (build, test, a deploy to an environment), with its status."""

    name: str
    status: Status
    started_at: datetime | None = None
    finished_at: datetime | None = None
    waiting_for_approval: bool = False
    environment: str = ""  # the environment a deploy stage targets, if any

    def __post_init__(self) -> None:
        check_aware(self)


@dataclass(frozen=True, slots=True)
class PipelineRun:
    """One CI/CD pipeline run of a service: the commit it built and the stages it went through."""

    id: str
    service: str
    pipeline: str
    number: int
    status: Status
    stages: tuple[Stage, ...]
    author: str
    commit: str
    message: str
    branch: str
    queued_at: datetime
    source: str
    observed_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    tests: TestSummary | None = None
    version: str = ""  # the artifact version this run builds
    digest: str = ""
    url: str = ""

    def __post_init__(self) -> None:
        check_aware(self)

    def duration(self, now: datetime) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or now
        return (end - self.started_at).total_seconds()

    @property
    def current_stage(self) -> Stage | None:
        for stage in self.stages:
            if not stage.status.terminal:
                return stage
        return None


@dataclass(frozen=True, slots=True)
class DriftItem:
    """One difference between what a resource should be (desired) and what it is (live)."""

    resource: str  # Kind/namespace/name
    path: str  # where in the resource they differ, e.g. spec.replicas
    desired: str
    live: str


@dataclass(frozen=True, slots=True)
class DriftReport:
    """Where a deployed service differs from its desired state, as its GitOps source reports it."""

    service: str
    environment: str
    revision: str
    items: tuple[DriftItem, ...]
    source: str
    observed_at: datetime

    def __post_init__(self) -> None:
        check_aware(self)

    @property
    def key(self) -> tuple[str, str]:
        return (self.service, self.environment)


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert about a service in an environment, as the alerting source reports it."""

    name: str
    service: str
    environment: str
    severity: Severity
    state: str  # firing, pending, resolved
    summary: str
    started_at: datetime
    source: str
    observed_at: datetime
    fingerprint: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    # A silenced or inhibited alert still fires (the gate still sees it); these name the
    # silences and the inhibiting alerts that keep it from paging anyone.
    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()
    ends_at: datetime | None = None
    url: str = ""  # where the alert came from (Alertmanager's generatorURL)

    def __post_init__(self) -> None:
        check_aware(self)

    @property
    def firing(self) -> bool:
        return self.state == "firing"

    @property
    def silenced(self) -> bool:
        return bool(self.silenced_by)


@dataclass(frozen=True, slots=True)
class PendingApproval:
    """A gate waiting for a human, from any connector or the cockpit's own policy."""

    id: str
    service: str
    environment: str
    kind: str  # deployment, stage, input, two-person
    title: str
    requested_by: str
    requested_at: datetime
    source: str
    observed_at: datetime
    version: str = ""
    digest: str = ""
    run_id: str = ""
    remote_id: str = ""
    required: int = 1
    approvals: tuple[str, ...] = ()
    gates: tuple[Gate, ...] = ()

    def __post_init__(self) -> None:
        check_aware(self)


@dataclass(frozen=True, slots=True, eq=False)
class Changed:
    """A connector's hint beside an observation: what one tuple field gained and lost since
    its previous observation, by identity, so the hub cleans and indexes only that. `before`
    is the very tuple the field held then; it now holds `before` without `removed`, plus
    `added` (as multisets, order free). The hub uses it only when `before` is the tuple it
    was handed last and the lengths add up; else it compares every object itself."""

    field: str  # an Observation tuple field: "runs", "deployments", "evidence", ...
    before: tuple[Any, ...]
    added: tuple[Any, ...] = ()
    removed: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Observation:
    """Everything one connector reported in one poll."""

    source: str
    observed_at: datetime
    deployments: tuple[Deployment, ...] = ()
    runs: tuple[PipelineRun, ...] = ()
    canaries: tuple[Canary, ...] = ()
    metrics: tuple[CanaryMetrics, ...] = ()
    drift: tuple[DriftReport, ...] = ()
    alerts: tuple[Alert, ...] = ()
    approvals: tuple[PendingApproval, ...] = ()
    gates: tuple[Gate, ...] = ()
    environments: tuple[EnvironmentInfo, ...] = ()
    annotations: tuple[Annotation, ...] = ()
    windows: tuple[ChangeWindow, ...] = ()
    evidence: tuple[Evidence, ...] = ()  # supply-chain documents (cockpit.evidence_model)
    # Optional hint from connectors that track changes themselves (the demo, watches): the
    # run ids changed or removed since the observation made at `base` (its observed_at).
    # The hub uses it only when its previous observation is that one; else it compares all.
    runs_delta: tuple[datetime, frozenset[str], frozenset[str]] | None = None
    # A connector that publishes before it has read everything (GitHub's first poll)
    # names what is still missing; evidence from it is then not to be trusted yet.
    incomplete: str = ""
    rate: tuple[RateBudget, ...] = ()  # the remote's rate limits, for the sources panel
    # Optional (see Changed), one per field at most; not a fact: equality ignores it.
    changed: tuple[Changed, ...] = field(
        default=(), compare=False, repr=False, metadata={"hint": True}
    )

    def __post_init__(self) -> None:
        check_aware(self)
