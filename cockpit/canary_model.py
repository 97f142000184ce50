"""The canary's part of the domain vocabulary: its phase and metric series. The judge's
verdict and a metrics source's series (Verdict, CanaryMetrics) are in cockpit.model_later,
loaded when first used; import them all from cockpit.model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from cockpit.aware import check_aware

if TYPE_CHECKING:
    from cockpit.model_later import Verdict


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
class Canary:
    """A canary rollout in progress: the versions it compares, its step and its phase."""

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
