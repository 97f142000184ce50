"""The canary's part of the domain vocabulary: its phase, metric series and the judge's verdict."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cockpit.aware import check_aware


class CanaryPhase(StrEnum):
    PROGRESSING = "progressing"
    PAUSED = "paused"
    PROMOTED = "promoted"
    ABORTED = "aborted"
    FAILED = "failed"
    SUCCEEDED = "succeeded"

    @property
    def active(self) -> bool:
        return self in (CanaryPhase.PROGRESSING, CanaryPhase.PAUSED)


@dataclass(frozen=True, slots=True)
class MetricSeries:
    """One canary metric: baseline and canary samples taken at the same instants."""

    name: str
    unit: str
    times: tuple[datetime, ...]
    baseline: tuple[float, ...]
    canary: tuple[float, ...]
    direction: str = "increase"  # which way is bad: increase, decrease, either
    critical: bool = False
    group: str = ""
    # How a metrics source asks the judge to weigh this series (None: the judge's default).
    weight: float | None = None  # the weight of this metric's group in the score
    tolerance: float | None = None
    min: float | None = None  # absolute thresholds the canary's values must stay within
    max: float | None = None
    # Effect-size gates (mean ratio canary/baseline): a significant shift smaller than this
    # is not a failure. None: any significant shift in the bad direction counts.
    allowed_increase: float | None = None
    allowed_decrease: float | None = None


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
class Canary:
    service: str
    environment: str
    baseline_version: str
    canary_version: str
    step: int  # 1-based index of the current step
    steps: int
    weight: int  # percent of traffic on the canary
    phase: CanaryPhase
    started_at: datetime
    source: str
    observed_at: datetime
    metrics: tuple[MetricSeries, ...] = ()
    verdict: Verdict | None = None
    canary_digest: str = ""
    message: str = ""  # pause reason, abort message
    remote_id: str = ""
    # Paused only by a pause step of its own, which ends by itself: an operator may hold it.
    at_pause_step: bool = False

    def __post_init__(self) -> None:
        check_aware(self)

    @property
    def key(self) -> tuple[str, str]:
        return (self.service, self.environment)


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
