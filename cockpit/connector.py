"""The connector plugin contract: what a connector declares, receives and returns.

A connector is registered under the entry-point group `cockpit.connectors`. It declares
`API_VERSION`, its `CAPABILITIES` (which facts it reports) and `ACTIONS` (which mutations
it executes), and an `Options` dataclass that config is validated against. It receives its
options, an injected `httpx.AsyncClient` and a clock; it returns domain objects from
`cockpit.model` and raises the errors of `cockpit.errors`. It never imports textual.
A connector may also listen for successful actions (`action_done`, e.g. to annotate them).
Before each poll the hub tells it what other sources know: `known_canaries`, and for an
`evidence` connector `known_artifacts` (the image digests to fetch attestations for).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from cockpit.clock import Clock
from cockpit.errors import Rejected
from cockpit.model import (
    Action,
    ActionKind,
    ActionResult,
    Alert,
    Canary,
    Deployment,
    DriftReport,
    Observation,
    PendingApproval,
    PipelineRun,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx

    from cockpit.evidence_model import Evidence
    from cockpit.fleet.detail import LogTarget, ServiceDetail
    from cockpit.fleet.snapshot import FleetSnapshot
    from cockpit.model import Annotation, CanaryMetrics, ChangeWindow, EnvironmentInfo, Gate

DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
"""A connector's cap on one response body unless its config's `max_response_bytes` says."""

API_VERSION = 1
"""The contract version this cockpit speaks. A connector declaring another is refused."""


class Capability(StrEnum):
    """Which kind of facts a connector reports, each through one method."""

    PIPELINES = "pipelines"
    ENVIRONMENTS = "environments"
    CANARY = "canary"
    METRICS = "metrics"
    DRIFT = "drift"
    ALERTS = "alerts"
    ANNOTATIONS = "annotations"
    APPROVALS = "approvals"
    GATES = "gates"
    WINDOWS = "windows"
    EVIDENCE = "evidence"  # supply-chain documents: attestations, SBOMs, test reports, scans


# The method that serves each capability, and the Observation field it fills.
CAPABILITY_METHODS: dict[Capability, tuple[str, str]] = {
    Capability.PIPELINES: ("pipelines", "runs"),
    Capability.ENVIRONMENTS: ("deployments", "deployments"),
    Capability.CANARY: ("canaries", "canaries"),
    Capability.METRICS: ("metrics", "metrics"),
    Capability.DRIFT: ("drift", "drift"),
    Capability.ALERTS: ("alerts", "alerts"),
    Capability.ANNOTATIONS: ("annotations", "annotations"),
    Capability.APPROVALS: ("approvals", "approvals"),
    Capability.GATES: ("gates", "gates"),
    Capability.WINDOWS: ("windows", "windows"),
    Capability.EVIDENCE: ("evidence", "evidence"),
}


@dataclass(frozen=True, slots=True)
class ActionDone:
    """A successful action, as `Connector.action_done` hears of it."""

    action: Action  # as executed (reason, ticket, actor set), with the plan's from/to versions
    result: ActionResult
    record_seq: int  # the audit record of its success: "audit #123"
    at: datetime  # when it succeeded (that record's time)


@dataclass
class NoOptions:
    """For connectors that take no options."""


class Connector:
    """Base class of every connector. Override the methods of the declared capabilities."""

    API_VERSION: ClassVar[int] = API_VERSION
    CAPABILITIES: ClassVar[frozenset[Capability]] = frozenset()
    ACTIONS: ClassVar[frozenset[ActionKind]] = frozenset()
    Options: ClassVar[type] = NoOptions
    USES_HTTP: ClassVar[bool] = True
    """False for connectors that need no HTTP client (the demo); the hub then passes None."""
    DESCRIPTION: ClassVar[str] = ""

    def __init__(
        self,
        name: str,
        options: Any,
        *,
        client: httpx.AsyncClient | None,
        clock: Clock,
    ) -> None:
        self.name = name
        self.options = options
        self.client = client
        self.clock = clock
        self.known_canaries: tuple[Canary, ...] = ()
        """The canaries other sources report, set by the hub before each poll (metrics
        connectors use it for a canary's versions and lifetime)."""
        self._known_artifacts: tuple[tuple[str, str, str], ...] | Callable[[], Any] = ()
        self._on_change: Callable[[], None] = lambda: None
        self.max_response_bytes = DEFAULT_MAX_RESPONSE_BYTES
        """The config's `max_response_bytes`, set by the hub before the first poll. The hub's
        client enforces it already; a connector with a session of its own (Prometheus's
        requests) or a client of its own (a kubeconfig context's TLS) applies it there."""
        self.live = True
        """False for a one-shot refresh (`cockpit status`, the action commands): answer with
        a plain poll and open no watch or stream, which would outlive the command's need."""

    @property
    def known_artifacts(self) -> tuple[tuple[str, str, str], ...]:
        """(service, version, "sha256:<hex>") of every deployed or canary version that names
        a digest, and of the newest 3 versions per service that runs built with one, set by
        the hub before each poll of a connector declaring `evidence` (a registry connector
        fetches attestations by digest: cockpit.fleet.artifacts). The hub hands a function
        of the snapshot it polled from, worked out on first reading: a pass over every cell
        and run costs ~350 ms at 10,000 services, wasted on connectors that never read it."""
        found = self._known_artifacts
        if callable(found):
            found = self._known_artifacts = found()
        return found

    @known_artifacts.setter
    def known_artifacts(self, value: tuple[tuple[str, str, str], ...] | Callable[[], Any]) -> None:
        self._known_artifacts = value

    def changed(self) -> None:
        """Tell the hub that new facts are ready now (watch and stream connectors call it)."""
        self._on_change()

    def retry_now(self) -> None:
        """The operator asked for fresh facts (ctrl+r): a connector that reconnects in the
        background (watches, streams) ends its backoff and tries again at once."""

    # Facts. Each returns every current fact of its kind, stamped with source=self.name.
    async def pipelines(self) -> Sequence[PipelineRun]:
        raise NotImplementedError

    async def deployments(self) -> Sequence[Deployment]:
        raise NotImplementedError

    async def canaries(self) -> Sequence[Canary]:
        raise NotImplementedError

    async def metrics(self) -> Sequence[CanaryMetrics]:
        raise NotImplementedError

    async def drift(self) -> Sequence[DriftReport]:
        raise NotImplementedError

    async def alerts(self) -> Sequence[Alert]:
        raise NotImplementedError

    async def annotations(self) -> Sequence[Annotation]:
        raise NotImplementedError

    async def approvals(self) -> Sequence[PendingApproval]:
        raise NotImplementedError

    async def gates(self) -> Sequence[Gate]:
        raise NotImplementedError

    async def windows(self) -> Sequence[ChangeWindow]:
        raise NotImplementedError

    async def evidence(self) -> Sequence[Evidence]:
        """Supply-chain documents about the versions this connector sees (see
        `cockpit.evidence_model`); a failed fetch is reported with its problem."""
        raise NotImplementedError

    async def environments(self) -> Sequence[EnvironmentInfo]:
        """Protection rules per environment; optional for every connector."""
        return ()

    async def detail(self, service: str, environment: str) -> ServiceDetail | None:
        """On demand, not polled: the cell's revisions, pods and events when a person opens
        its pods view (optional; None means this connector has none for the cell)."""
        return None

    def logs(self, target: LogTarget, tail: int) -> AsyncIterator[str]:
        """Follow one pod's log from its last `tail` lines, read-only (optional). Lines are
        untrusted text; the caller cleans and bounds them (cockpit.fleet.detail.LogTail)."""
        raise Rejected(f"{self.name} cannot show logs")

    def warnings(self, action: Action) -> Sequence[str]:
        """Plain-words consequences the confirmation dialog shows before `action` runs."""
        return ()

    def precheck(self, action: Action, snapshot: FleetSnapshot) -> str | None:
        """Why the remote system would refuse `action` now, in words; None when it would not.

        The plan calls it, so a refusal shows before anyone fills in the dialog. It reads
        what the connector already knows (no I/O: planning never waits); `execute` still
        checks again, because the world may move in between.
        """
        return None

    async def execute(self, action: Action) -> ActionResult:
        """Carry out a mutation. Only the cockpit's executor calls this."""
        raise Rejected(f"{self.name} cannot {action.kind}")

    async def action_done(self, done: ActionDone) -> None:
        """Hear of an action that succeeded, through any connector (optional; a no-op here).

        The executor calls it on every connector that overrides it, once the success is in
        the audit log, all at once and each under a short timeout (a few seconds). A raise or
        a timeout is logged and audited as `annotation.failed`; it never changes the action's
        outcome. Refused, failed and pending actions are not told.
        """

    async def poll(self) -> Observation:
        """One full observation: every declared capability, fetched concurrently.

        Connectors whose capabilities share one fetch (the demo) may override this.
        """
        caps = [c for c in CAPABILITY_METHODS if c in self.CAPABILITIES]
        results = await asyncio.gather(
            *(getattr(self, CAPABILITY_METHODS[c][0])() for c in caps), self.environments()
        )
        fields: dict[str, Any] = {
            CAPABILITY_METHODS[c][1]: tuple(r) for c, r in zip(caps, results, strict=False)
        }
        return Observation(
            source=self.name,
            observed_at=self.clock.now(),
            environments=tuple(results[-1]),
            **fields,
        )

    async def aclose(self) -> None:
        """Release what the connector holds (streams, sessions). The hub closes the client."""


def implemented(cls: type[Connector], method: str) -> bool:
    """Whether `cls` overrides `method` of the base class."""
    return getattr(cls, method) is not getattr(Connector, method)


def contract_problems(cls: object) -> list[str]:
    """Why `cls` is not a usable connector class (empty when it is)."""
    if not isinstance(cls, type) or not issubclass(cls, Connector):
        return [f"{cls!r} is not a subclass of cockpit.connector.Connector"]
    problems = []
    if cls.API_VERSION != API_VERSION:
        problems.append(
            f"declares API_VERSION {cls.API_VERSION}, this cockpit speaks {API_VERSION}"
        )
    for cap in cls.CAPABILITIES:
        if not isinstance(cap, Capability):
            problems.append(f"unknown capability {cap!r}")
            continue
        method = CAPABILITY_METHODS[cap][0]
        if not implemented(cls, method) and not implemented(cls, "poll"):
            problems.append(f"declares {cap.value} but does not implement {method}()")
    for kind in cls.ACTIONS:
        if not isinstance(kind, ActionKind):
            problems.append(f"unknown action {kind!r}")
    if cls.ACTIONS and not implemented(cls, "execute"):
        problems.append("declares actions but does not implement execute()")
    if not dataclasses.is_dataclass(cls.Options):
        problems.append("Options must be a dataclass")
    return problems
