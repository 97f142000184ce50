"""The model's facts that plain `cockpit` never makes before its first frame: the gates,
change windows, annotations, rate budgets and environment protections a connector reports,
and a canary's judged verdict and metrics from a metrics source.

Each frozen slotted dataclass costs about a millisecond to create at import; these load
when first named (`cockpit.model` re-exports them lazily, PEP 562), so
`from cockpit.model import Gate` keeps working. Import them from `cockpit.model`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cockpit.aware import check_aware
from cockpit.canary_model import MetricSeries

if TYPE_CHECKING:
    from cockpit.model import GateStatus


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    team: str = ""


@dataclass(frozen=True, slots=True)
class Annotation:
    """A note on the fleet's timeline (a Grafana annotation): a deploy, a config change, ..."""

    id: str
    at: datetime
    text: str
    source: str
    observed_at: datetime
    tags: tuple[str, ...] = ()
    service: str = ""  # from the tags, where they name one
    environment: str = ""
    end: datetime | None = None  # a region annotation's end
    author: str = ""

    def __post_init__(self) -> None:
        check_aware(self)


@dataclass(frozen=True, slots=True)
class Gate:
    """One go/no-go check and the evidence behind its status."""

    name: str
    status: GateStatus
    evidence: str
    service: str = ""
    environment: str = ""
    source: str = ""
    version: str = ""  # the artifact version judged; a promote counts only its own version's
    # What the status rests on, as the audit record keeps it: digests, counts, ids (each a
    # (name, value) pair, values clean text), so an approval is bound to what was shown.
    facts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class EnvironmentInfo:
    """What a connector knows about an environment's protection (reviewers, timers)."""

    name: str
    source: str
    protection: tuple[str, ...] = ()  # human-readable rules, e.g. "2 required reviewers"


@dataclass(frozen=True, slots=True)
class ChangeWindow:
    """A recurring allow window or blackout: cron start, duration, time zone."""

    name: str
    schedule: str
    duration_minutes: int
    timezone: str
    kind: str = "allow"  # allow or deny
    environments: tuple[str, ...] = ()
    source: str = "config"
    exempt: tuple[str, ...] = ()  # action kinds it does not govern (a deploy freeze: rerun)


@dataclass(frozen=True, slots=True)
class RateBudget:
    """A remote API's rate limit as last reported: what is left of it, until when."""

    resource: str  # as the operator knows it: "REST", "GraphQL"
    remaining: int
    limit: int
    reset_at: datetime | None = None

    def __post_init__(self) -> None:
        check_aware(self)


@dataclass(frozen=True, slots=True)
class MetricVerdict:
    name: str
    classification: str  # Pass, High, Low, Nodata, NodataFailMetric, Error
    reason: str
    critical: bool = False


@dataclass(frozen=True, slots=True)
class Verdict:
    """The canary judge's answer: a score against thresholds and a decision."""

    score: float
    decision: str  # pass, marginal, fail, nodata
    marginal: float
    passing: float
    metrics: tuple[MetricVerdict, ...] = ()
    digest: str = ""
    reason: str = ""
    observed_at: datetime | None = None  # the newest sample it rests on: its evidence's age


@dataclass(frozen=True, slots=True)
class BurnWindow:
    """Requests and errors of the canary over one trailing window (SLO burn-rate input)."""

    seconds: float
    errors: float
    total: float


@dataclass(frozen=True, slots=True)
class CanaryMetrics:
    """Metric series for one canary from a metrics source (Prometheus), to be judged.

    The hub attaches them to the canary that a rollout source (Argo Rollouts, the demo)
    reports for the same (service, environment) when that canary carries none itself.
    """

    service: str
    environment: str
    metrics: tuple[MetricSeries, ...]
    source: str
    observed_at: datetime
    baseline_version: str = ""
    canary_version: str = ""
    error: str = ""  # why some series could not be fetched (no data is not an error)
    # The SLO's error-budget burn over trailing windows (5m, 30m, 1h, 6h, 3d, ...), when the
    # source is configured for it; the multi-window rule trips a rollback (page) or a hold.
    slo: float | None = None
    burn: tuple[BurnWindow, ...] = ()

    def __post_init__(self) -> None:
        check_aware(self)

    @property
    def key(self) -> tuple[str, str]:
        return (self.service, self.environment)
