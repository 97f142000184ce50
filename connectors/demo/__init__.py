"""The demo connector: a simulated live fleet, the cockpit's default with no config.

It is also the reference implementation of the connector contract: it declares every
capability and action and passes `cockpit.testing`'s contract kit.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cockpit.clock import Clock
from cockpit.connect.options import Duration
from cockpit.connector import Capability, Connector
from cockpit.errors import Rejected
from cockpit.gcpause import paused_gc
from cockpit.model import (
    Action,
    ActionKind,
    ActionResult,
    CanaryPhase,
    Changed,
    Deployment,
    Observation,
    PipelineRun,
    Status,
)
from connectors.demo.sim import Fleet
from connectors.demo.sim_canary import CANARY_WEIGHTS
from connectors.demo.sim_runs import APPROVAL_STAGE, RunState, thaw

if TYPE_CHECKING:
    from cockpit.evidence_model import Evidence


@dataclass
class DemoOptions:
    """The demo connector's options."""

    seed: int = field(
        default=7, metadata={"help": "The random seed: one seed, one fleet, step for step."}
    )
    services: int = field(
        default=12, metadata={"help": "How many services the simulated fleet has (1 to 100000)."}
    )
    environments: list[str] = field(
        default_factory=lambda: ["dev", "staging", "prod"],
        metadata={"help": "The environments each service deploys through, in order."},
    )
    runs_per_service: int = field(default=10, metadata={"help": "Pipeline runs kept per service."})
    latency: Duration = field(
        default=Duration(0),
        metadata={"help": "Simulated answer time of each poll, for benchmarks."},
    )

    def validate(self) -> None:
        if not 1 <= self.services <= 100_000:
            raise ValueError("services must be between 1 and 100000")
        if not self.environments or len(set(self.environments)) != len(self.environments):
            raise ValueError("environments must be a non-empty list of distinct names")
        if self.runs_per_service < 1:
            raise ValueError("runs_per_service must be at least 1")


# A history of up to this many runs is read at the first poll; a larger one from the second
# on, HISTORY_CHUNK runs a poll (newest first), so neither the first frame nor the screen
# after it waits for it: ~150 ms a chunk at 10,000 services, where reading 90,000 at once
# held the event loop for 1.5-2.4 s. Each observation until then says what is unread.
HISTORY_AT_ONCE = 20_000
HISTORY_CHUNK = 10_000
# Documents owed from the first pass, made this many runs a poll (~0.7 ms a run): the first
# 100 services' runs at once held the event loop ~0.64 s. A run that moves gets its own then.
DOCS_AT_ONCE = 150


class DemoConnector(Connector):
    """A deterministic simulated fleet: pipelines, deployments, canaries, drift, alerts."""

    CAPABILITIES = frozenset(Capability) - {
        Capability.WINDOWS,
        Capability.METRICS,
        Capability.ANNOTATIONS,
    }
    ACTIONS = frozenset(ActionKind)
    Options = DemoOptions
    USES_HTTP = False
    DESCRIPTION = "Simulated fleet for trying the cockpit (deterministic for a seed)"

    def __init__(self, name: str, options: DemoOptions, *, client: object, clock: Clock) -> None:
        super().__init__(name, options, client=None, clock=clock)
        with paused_gc():  # ~200,000 objects at 10,000 services, none in a cycle
            self.fleet = Fleet(
                seed=options.seed,
                services=options.services,
                environments=tuple(options.environments),
                start=clock.now(),
                source=name,
                runs_per_service=options.runs_per_service,
            )
        self._last: Observation | None = None
        self._runs: tuple[PipelineRun, ...] | None = None  # remade only when runs changed
        self._deployments: tuple[Deployment, ...] | None = None
        self._base: datetime | None = None  # observed_at of the last observation made
        # Supply-chain documents per run as of its progress (sim_evidence). A live cockpit
        # gets them from the poll after the one that read the history (its second poll, or
        # its third for a large history): the first frame never waits for them (nor for
        # cryptography); a one-shot look (`cockpit promote`, `status`) gets them at once.
        self._observed = 0
        self._read_at: int | None = None  # the observation that read the history
        self._docs: dict[str, tuple[int, tuple[Evidence, ...]]] | None = None
        self._docs_owed: list[str] = []  # runs of the first pass whose documents are not made
        self._evidence: tuple[Evidence, ...] = ()
        self._evidence_moved: tuple[tuple[Evidence, ...], tuple[Evidence, ...]] | None = None
        self._last_made: Observation | None = None  # the last observation made, for hints
        self._lock = asyncio.Lock()

    async def poll(self) -> Observation:
        if self.options.latency:
            await asyncio.sleep(self.options.latency)
        async with self._lock:
            moved = self.fleet.advance_to(self.clock.now())
            settled = self._docs is not None and not self._unread()
            if self._last is not None and not moved and settled:
                return self._last
            self._last = self._observe()
            return self._last

    def _observe(self) -> Observation:
        """The fleet as it stands, remaking only what changed since the last observation,
        and naming what changed (`Observation.changed`, `runs_delta`) for the hub."""
        fleet = self.fleet
        last = self._last_made
        history = fleet.history
        fresh: list[PipelineRun] = []
        if history.unread and (
            self._observed or not self.live or len(history.unread) <= HISTORY_AT_ONCE
        ):
            with paused_gc():
                if not self.live or not self._observed:  # a one-shot look, a small history
                    fresh = history.read_all()
                else:
                    fresh = history.read_some(HISTORY_CHUNK)
        if self._read_at is None and not history.unread:
            self._read_at = self._observed
        delta = None
        if self._runs is not None and self._base is not None:
            touched = frozenset(fleet.dirty).union(r.id for r in fresh)
            delta = (self._base, touched, frozenset(fleet.removed_runs))
        if not self.live or (self._read_at is not None and self._observed > self._read_at):
            self._update_evidence(fresh)
        changed: list[Changed] = []
        added, removed = fleet.settle()
        added = fresh + added
        if self._runs is None or added or removed:
            before = self._runs
            if history.unread:  # only the runs read so far
                self._runs = tuple(r for r in fleet.runs.values() if type(r) is PipelineRun)
            else:  # all frozen now
                self._runs = tuple(fleet.runs.values())  # type: ignore[arg-type]
            if before is not None:
                changed.append(Changed("runs", before, tuple(added), tuple(removed)))
        runs = self._runs
        new, old = fleet.deployments_moved()
        if fleet.deployments_changed or self._deployments is None:
            deps = self._deployments
            self._deployments = tuple(fleet.deployments.values())
            fleet.deployments_changed = False
            if deps is not None:
                changed.append(Changed("deployments", deps, tuple(new), tuple(old)))
        moved = self._evidence_moved
        if last is not None and moved is not None and self._evidence is not last.evidence:
            changed.append(Changed("evidence", last.evidence, *moved))
        self._evidence_moved = None
        obs = Observation(
            source=self.name,
            observed_at=fleet.now,
            deployments=self._deployments,
            runs=runs,
            canaries=tuple(fleet.canary(c) for c in fleet.canaries.values()),
            drift=tuple(fleet.drift.values()),
            alerts=tuple(fleet.alerts),
            approvals=fleet.approvals(),
            evidence=self._evidence,
            runs_delta=delta,
            changed=tuple(changed),
            incomplete=self._unread(),
        )
        self._base = obs.observed_at
        self._observed += 1
        self._last_made = obs
        return obs

    def _unread(self) -> str:
        """What this observation does not hold yet: its gates stay unknown until it does."""
        if self.fleet.history.unread:
            return f"its run history ({len(self.fleet.history.unread):,} runs)"
        if self._docs_owed:
            return f"its documents ({len(self._docs_owed):,} runs)"
        return ""

    def _update_evidence(self, fresh: list[PipelineRun]) -> None:
        """Remake the documents of the runs that moved or were read (`fresh`) since the last
        observation, and of DOCS_AT_ONCE runs owed from the first pass (all, for a one-shot
        look); the tuple stays as it was when none changed. What was made and dropped is
        kept for `Observation.changed`."""
        from connectors.demo import sim_evidence

        fleet = self.fleet
        first = self._docs is None
        docs = self._docs if self._docs is not None else {}
        traits = sim_evidence.Traits.of(fleet.services)
        covered = set(fleet.services[: sim_evidence.EVIDENCE_SERVICES])
        made: list[Evidence] = []
        dropped: list[Evidence] = []
        for run_id in fleet.removed_runs:
            gone = docs.pop(run_id, None)
            if gone is not None:
                dropped.extend(gone[1])
        if first:  # every covered run is owed (ids are svc#n), popped in the fleet's order
            self._docs_owed = [r for r in fleet.runs if r.rpartition("#")[0] in covered][::-1]
        owed = self._docs_owed
        due = [owed.pop() for _ in range(min(DOCS_AT_ONCE if self.live else len(owed), len(owed)))]
        for run_id in due if first else [*fleet.dirty, *(r.id for r in fresh), *due]:
            kept = fleet.runs.get(run_id)
            if kept is None or type(kept) is tuple:
                continue  # trimmed, or not read yet
            run = fleet.state(run_id)
            if run is None or run.service not in covered:
                continue
            state = run if isinstance(run, RunState) else thaw(run)
            done = sim_evidence.progress(state)
            if done and docs.get(run_id, (-1, ()))[0] != done:
                dropped.extend(docs.get(run_id, (0, ()))[1])
                docs[run_id] = (done, sim_evidence.run_evidence(state, traits, self.name))
                made.extend(docs[run_id][1])
        self._docs = docs
        if first or made or dropped:
            self._evidence = tuple(e for _, kept in docs.values() for e in kept)
            self._evidence_moved = (tuple(made), tuple(dropped))

    async def evidence(self):  # type: ignore[no-untyped-def]
        return (await self.poll()).evidence

    # The per-capability methods serve the same simulated state as poll().
    async def pipelines(self):  # type: ignore[no-untyped-def]
        return (await self.poll()).runs

    async def deployments(self):  # type: ignore[no-untyped-def]
        return (await self.poll()).deployments

    async def canaries(self):  # type: ignore[no-untyped-def]
        return (await self.poll()).canaries

    async def drift(self):  # type: ignore[no-untyped-def]
        return (await self.poll()).drift

    async def alerts(self):  # type: ignore[no-untyped-def]
        return (await self.poll()).alerts

    async def approvals(self):  # type: ignore[no-untyped-def]
        return (await self.poll()).approvals

    async def gates(self):  # type: ignore[no-untyped-def]
        # Its scans and licences are documents now (evidence), judged by the cockpit.
        return (await self.poll()).gates

    async def execute(self, action: Action) -> ActionResult:
        if self.options.latency:
            await asyncio.sleep(self.options.latency)
        async with self._lock:
            self.fleet.advance_to(self.clock.now())
            result = self._apply(action)
            self._last = None  # the next poll shows the effect
            return result

    def _apply(self, action: Action) -> ActionResult:
        fleet = self.fleet
        now = fleet.now
        key = (action.service, action.environment)
        kind = action.kind
        if kind in (ActionKind.APPROVE, ActionKind.REJECT):
            run_id = action.remote_id or action.approval_id.split(":", 1)[-1]
            run = fleet.active.get(run_id)
            if run is None or run.stage_status[APPROVAL_STAGE] is not Status.WAITING:
                raise Rejected(f"nothing waits for approval as {run_id!r}")
            if kind is ActionKind.APPROVE:
                run.stage_status[APPROVAL_STAGE] = Status.SUCCEEDED
                run.stage_finished[APPROVAL_STAGE] = now
                fleet.stop_waiting(run)
                fleet.enter_stage(run, APPROVAL_STAGE + 1, now)
                return ActionResult(True, f"approved {run.id}: deploying {run.version}", run.id)
            run.stage_status[APPROVAL_STAGE] = Status.FAILED
            run.stage_finished[APPROVAL_STAGE] = now
            fleet.finish(run, Status.CANCELLED, now)
            return ActionResult(True, f"rejected {run.id}", run.id)

        canary = fleet.canaries.get(key)
        if kind in (ActionKind.PAUSE, ActionKind.RESUME, ActionKind.ABORT):
            if canary is None or not canary.phase.active:
                raise Rejected(f"no active canary for {action.service} in {action.environment}")
            if kind is ActionKind.PAUSE:
                canary.phase, canary.message = CanaryPhase.PAUSED, "paused by operator"
            elif kind is ActionKind.RESUME:
                canary.phase, canary.message = CanaryPhase.PROGRESSING, ""
            else:
                canary.phase, canary.message = (
                    CanaryPhase.ABORTED,
                    "aborted: traffic back on stable",
                )
            canary.frozen = None
            return ActionResult(True, f"{kind.value}d canary of {action.service}", canary.service)

        if kind is ActionKind.PROMOTE:
            if canary is not None and canary.phase.active:
                full = action.param("full") == "true"
                if full or canary.step >= len(CANARY_WEIGHTS) - 1:
                    fleet.deploy(
                        canary.service, canary.environment, canary.candidate, "cockpit", now
                    )
                    canary.step = len(CANARY_WEIGHTS) - 1
                    canary.phase, canary.message = CanaryPhase.PROMOTED, "fully promoted"
                    canary.frozen = None
                    return ActionResult(True, f"promoted {canary.candidate} to 100%")
                canary.step += 1
                canary.ticks_in_step = 0
                canary.phase, canary.message = CanaryPhase.PROGRESSING, ""
                canary.frozen = None
                return ActionResult(
                    True, f"canary to step {canary.step + 1}, weight {CANARY_WEIGHTS[canary.step]}%"
                )
            source = fleet.deployments.get((action.service, action.from_environment))
            if source is None or key not in fleet.deployments:
                raise Rejected(
                    f"cannot promote {action.service} from {action.from_environment or '?'} "
                    f"to {action.environment}"
                )
            version = action.version or source.version
            fleet.deploy(action.service, action.environment, version, "cockpit", now)
            return ActionResult(True, f"{action.service} {version} now in {action.environment}")

        if kind is ActionKind.ROLLBACK:
            if canary is not None and canary.phase.active:
                canary.phase, canary.message = CanaryPhase.ABORTED, "rolled back to stable"
                canary.frozen = None
                return ActionResult(True, f"canary aborted; {canary.baseline} serves all traffic")
            dep = fleet.deployments.get(key)
            if dep is None:
                raise Rejected(f"{action.service} is not deployed in {action.environment}")
            known = {r.version for r in dep.history}
            if action.version not in known:
                raise Rejected(f"{action.version!r} is not in {action.service}'s history")
            fleet.deploy(
                action.service, action.environment, action.version, "cockpit", now, rollback=True
            )
            return ActionResult(True, f"{action.service} rolled back to {action.version}")

        if kind is ActionKind.RESTART:
            dep = fleet.deployments.get(key)
            if dep is None:
                raise Rejected(f"{action.service} is not deployed in {action.environment}")
            return ActionResult(True, f"restarted {action.service} in {action.environment}")

        if kind is ActionKind.RERUN:
            run_id = action.remote_id
            old = fleet.state(run_id)
            if old is None or old.status not in (Status.FAILED, Status.CANCELLED):
                raise Rejected(f"{run_id!r} has not failed: nothing to re-run")
            again = fleet.rerun(old, now)
            return ActionResult(True, f"re-running {old.id} as {again.id}", again.id)

        if kind is ActionKind.SYNC:
            if key not in fleet.drift:
                return ActionResult(
                    True, f"{action.service} in {action.environment} already in sync"
                )
            del fleet.drift[key]
            return ActionResult(True, f"synced {action.service} in {action.environment}")

        if kind is ActionKind.SILENCE:
            try:
                span = Duration.parse(action.param("duration", "2h"))
            except ValueError as exc:
                raise Rejected(str(exc)) from None
            sid = fleet.alert_book.silence(
                action.remote_id, now + timedelta(seconds=span), action.actor
            )
            if sid is None:
                raise Rejected(f"alert {action.remote_id} no longer fires: nothing to silence")
            return ActionResult(
                True, f"silence {sid} on {action.service} for {action.param('duration', '2h')}", sid
            )

        if kind is ActionKind.UNSILENCE:
            if not fleet.alert_book.expire(action.remote_id):
                raise Rejected(f"silence {action.remote_id} not found")
            return ActionResult(True, f"silence {action.remote_id} expired", action.remote_id)
        raise Rejected(f"demo cannot {kind.value}")
