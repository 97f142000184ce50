"""The simulated fleet behind the demo connector: deterministic for a seed, alive in time.

The world advances in one-second ticks of the injected clock. Each tick, pipeline runs move
through their stages (some fail, some stop for a prod approval), versions flow from dev to
staging, the prod canary gathers metric samples and moves step by step. Frozen domain
objects are rebuilt only for what changed, so a poll of a large fleet stays cheap.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cockpit.model import (
    Alert,
    Canary,
    CanaryPhase,
    Deployment,
    DriftItem,
    DriftReport,
    Gate,
    GateStatus,
    Health,
    MetricSeries,
    PendingApproval,
    PipelineRun,
    Revision,
    Severity,
    Stage,
    Status,
    TestSummary,
)

SERVICE_NAMES = (
    "checkout",
    "payments",
    "catalog",
    "search",
    "auth",
    "cart",
    "inventory",
    "shipping",
    "notifications",
    "recommendations",
    "gateway",
    "ledger",
)
AUTHORS = ("alice", "bob", "chen", "dana", "emeka", "farah", "goran", "hana", "ivan", "jun")
MESSAGES = (
    "Fix retry storm on upstream timeout",
    "Bump base image to patch OpenSSL",
    "Add idempotency key to create endpoint",
    "Reduce p99 by caching price lookups",
    "Refactor session handling",
    "Upgrade HTTP client library",
    "Feature flag for new ranking model",
    "Tighten input validation on webhooks",
    "Log correlation ids on every request",
    "Remove deprecated v1 endpoint",
    "Tune connection pool sizes",
    "Handle partial refunds",
)
# (stage name, min ticks, max ticks, failure probability, environment it deploys to)
STAGES = (
    ("build", 6, 14, 0.02, ""),
    ("test", 8, 20, 0.10, ""),
    ("security-scan", 4, 8, 0.03, ""),
    ("deploy-dev", 3, 6, 0.0, "dev"),
    ("deploy-staging", 3, 6, 0.0, "staging"),
    ("approve-prod", 0, 0, 0.0, "prod"),
    ("deploy-prod", 3, 6, 0.0, "prod"),
)
APPROVAL_STAGE = 5
CANARY_WEIGHTS = (5, 10, 25, 50, 75, 100)
CANARY_STEP_TICKS = 60
METRIC_POINTS = 90
METRIC_EVERY = 2  # ticks between metric samples
DEGRADE_AFTER = 240  # seconds of canary age before a degrading canary's errors climb
ALLOWED_INCREASE = 1.10  # a shift under 10% of the baseline mean is noise, not a failure
HISTORY = 20000  # finished runs kept per fleet at most (scaled below)


def digest_of(service: str, version: str) -> str:
    return "sha256:" + hashlib.sha256(f"{service}@{version}".encode()).hexdigest()


def service_names(n: int) -> list[str]:
    if n <= len(SERVICE_NAMES):
        return list(SERVICE_NAMES[:n])
    width = len(str(n))
    return [f"svc-{i:0{width}d}" for i in range(1, n + 1)]


@dataclass
class RunState:
    id: str
    service: str
    number: int
    author: str
    commit: str
    message: str
    version: str
    queued_at: datetime
    stage_index: int = -1  # -1 queued
    stage_status: list[Status] = field(default_factory=list)
    stage_started: list[datetime | None] = field(default_factory=list)
    stage_finished: list[datetime | None] = field(default_factory=list)
    ticks_left: int = 0
    status: Status = Status.QUEUED
    started_at: datetime | None = None
    finished_at: datetime | None = None
    tests: TestSummary | None = None
    fail_at: int = -1  # stage index that will fail, or -1
    frozen: PipelineRun | None = None
    approval: PendingApproval | None = None


@dataclass
class CanaryState:
    service: str
    environment: str
    baseline: str
    candidate: str
    step: int
    phase: CanaryPhase
    started_at: datetime
    ticks_in_step: int = 0
    degrade: bool = False
    message: str = ""
    times: list[datetime] = field(default_factory=list)
    series: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    frozen: Canary | None = None


class Fleet:
    """The simulated world. Every method is deterministic given the seed and the clock."""

    def __init__(
        self,
        *,
        seed: int,
        services: int,
        environments: tuple[str, ...],
        start: datetime,
        source: str,
        runs_per_service: int = 10,
    ) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.source = source
        self.envs = environments
        self.prod = environments[-1]
        self.services = service_names(services)
        self.now = start
        self.tick_no = 0
        self.runs: dict[str, RunState] = {}
        self.active: list[str] = []  # ids of unfinished runs, in start order
        self.next_commit: list[tuple[int, int, str]] = []  # heap of (tick, seq, service)
        self.run_numbers: dict[str, int] = {}
        self.latest_version: dict[str, tuple[int, int, int]] = {}
        self.deployments: dict[tuple[str, str], Deployment] = {}
        self.drift: dict[tuple[str, str], DriftReport] = {}
        self.alerts: list[Alert] = []
        self.canaries: dict[tuple[str, str], CanaryState] = {}
        self.approvals_cache: tuple[PendingApproval, ...] | None = None
        self.scanned: dict[str, RunState] = {}  # newest run per service past its scan
        self.dirty_runs: set[str] = set()  # changed since the last observation
        self.deployments_changed = True
        self.removed_runs: set[str] = set()
        self.gates_cache: tuple[Gate, ...] | None = None
        self.gates_by_service: dict[str, tuple[Gate, ...]] = {}
        self.decided: dict[str, str] = {}  # run id -> approver or rejecter
        self._seq = 0
        self._build(runs_per_service)

    # Building the initial world -----------------------------------------------------
    def _build(self, runs_per_service: int) -> None:
        rng = self.rng
        start = self.now
        for i, svc in enumerate(self.services):
            major, minor = 1 + i % 3, rng.randrange(0, 12)
            patch = rng.randrange(3, 9)
            self.latest_version[svc] = (major, minor, patch)
            self.run_numbers[svc] = 100 + rng.randrange(0, 800)
            # History of finished runs, oldest first, spaced over the last hours.
            for k in range(runs_per_service - 1, 0, -1):
                queued = start - timedelta(minutes=15 * k + rng.randrange(0, 10))
                self._finished_run(svc, queued)
            # Versions per environment come from the successful runs: dev has the newest,
            # staging the one before, prod the one before that.
            built = [
                r.version
                for r in self.runs.values()
                if r.service == svc and r.status is Status.SUCCEEDED
            ]
            built.reverse()
            while len(built) < len(self.envs) + 4:
                built.append(self._version(svc, patch - len(built)))
            for e_i, env in enumerate(self.envs):
                lag = e_i
                version = built[lag]
                revs = tuple(
                    Revision(
                        version=v,
                        digest=digest_of(svc, v),
                        deployed_at=start - timedelta(hours=6 * (j + 1) + lag, minutes=i % 60),
                        deployed_by=AUTHORS[(i + j) % len(AUTHORS)],
                        id=str(j + 1),
                    )
                    for j, v in enumerate(built[lag + 1 : lag + 5])
                )
                self.deployments[(svc, env)] = Deployment(
                    service=svc,
                    environment=env,
                    version=version,
                    digest=digest_of(svc, version),
                    deployed_at=start - timedelta(hours=lag * 3 + 1, minutes=7 * i % 60),
                    deployed_by=AUTHORS[(i + e_i) % len(AUTHORS)],
                    status=Status.SUCCEEDED,
                    health=Health.HEALTHY,
                    source=self.source,
                    observed_at=start,
                    history=revs,
                    remote_id=str(len(revs) + 1),
                )
            # The next commit arrives at a staggered tick.
            self._schedule(svc, rng.randrange(5, 240))
        # A few runs already in flight, two of them waiting for a prod approval.
        for n, svc in enumerate(self.services[: max(3, len(self.services) // 2)]):
            run = self._new_run(svc, start - timedelta(seconds=30 + 20 * n))
            target = APPROVAL_STAGE if n < 2 else min(n % APPROVAL_STAGE, 4)
            self._fast_forward(run, target)
        self._initial_canary(start)
        self._initial_drift_and_alerts(start)

    def _version(self, svc: str, patch: int) -> str:
        major, minor, _ = self.latest_version[svc]
        return f"{major}.{minor}.{max(patch, 0)}"

    def _bump(self, svc: str) -> str:
        major, minor, patch = self.latest_version[svc]
        self.latest_version[svc] = (major, minor, patch + 1)
        return f"{major}.{minor}.{patch + 1}"

    def _commit(self, svc: str) -> tuple[str, str, str]:
        rng = self.rng
        sha = hashlib.sha1(f"{self.seed}:{svc}:{self._seq}".encode()).hexdigest()
        self._seq += 1
        return sha, rng.choice(AUTHORS), rng.choice(MESSAGES)

    def _new_run(self, svc: str, queued: datetime) -> RunState:
        self.run_numbers[svc] += 1
        number = self.run_numbers[svc]
        sha, author, message = self._commit(svc)
        run = RunState(
            id=f"{svc}#{number}",
            service=svc,
            number=number,
            author=author,
            commit=sha,
            message=message,
            version=self._bump(svc),
            queued_at=queued,
            stage_status=[Status.QUEUED] * len(STAGES),
            stage_started=[None] * len(STAGES),
            stage_finished=[None] * len(STAGES),
        )
        roll = self.rng.random()
        for idx, (_, _, _, p_fail, _) in enumerate(STAGES):
            if roll < p_fail:
                run.fail_at = idx
                break
            roll -= p_fail
        self.runs[run.id] = run
        self.active.append(run.id)
        self.dirty_runs.add(run.id)
        return run

    def rerun(self, failed: RunState, now: datetime) -> RunState:
        """A new attempt at the same commit (as CI systems re-run failed jobs)."""
        run = self._new_run(failed.service, now)
        run.commit, run.author, run.message = failed.commit, failed.author, failed.message
        run.fail_at = -1  # the flaky step passes this time
        return run

    def _finished_run(self, svc: str, queued: datetime) -> None:
        run = self._new_run(svc, queued)
        t = queued + timedelta(seconds=5)
        run.started_at = t
        last = len(STAGES) - 1 if run.fail_at < 0 else run.fail_at
        for idx in range(last + 1):
            dur = timedelta(seconds=max(STAGES[idx][1], 1) + self.rng.randrange(0, 8))
            run.stage_started[idx] = t
            t += dur
            run.stage_finished[idx] = t
            run.stage_status[idx] = Status.SUCCEEDED
        if run.fail_at >= 0:
            run.stage_status[run.fail_at] = Status.FAILED
            for idx in range(run.fail_at + 1, len(STAGES)):
                run.stage_status[idx] = Status.SKIPPED
        run.status = Status.FAILED if run.fail_at >= 0 else Status.SUCCEEDED
        run.stage_index = last
        if last >= 2:
            self._scanned(run)
        run.finished_at = t
        run.tests = self._tests(run)
        self.active.remove(run.id)

    def _tests(self, run: RunState) -> TestSummary:
        total = 180 + (run.number % 7) * 23
        failed = 0 if run.fail_at != 1 else 1 + run.number % 4
        return TestSummary(passed=total - failed, failed=failed, skipped=run.number % 5)

    def _fast_forward(self, run: RunState, target_stage: int) -> None:
        """Put a fresh run into `target_stage` as if it had been running for a while."""
        run.fail_at = -1 if run.fail_at <= target_stage else run.fail_at
        t = run.queued_at + timedelta(seconds=3)
        run.started_at = t
        for idx in range(target_stage):
            run.stage_started[idx] = t
            t += timedelta(seconds=STAGES[idx][1])
            run.stage_finished[idx] = t
            run.stage_status[idx] = Status.SUCCEEDED
            if idx == 1:
                run.tests = self._tests(run)
            env = STAGES[idx][4]
            if env and idx != APPROVAL_STAGE and (run.service, env) in self.deployments:
                self._deploy(run.service, env, run.version, run.author, t)
        run.stage_index = target_stage
        if target_stage > 2:
            self._scanned(run)
        self._enter_stage(run, target_stage, t)

    def _initial_canary(self, start: datetime) -> None:
        """Two canaries in prod: a healthy one mid-way, and one that starts to degrade a
        minute after start-up (the judge fails it; the policy rolls it back or proposes to)."""
        staging = self.envs[-2] if len(self.envs) > 1 else self.prod
        picks = [(self.services[0], False, 2, METRIC_POINTS * METRIC_EVERY)]
        if len(self.services) > 1:
            picks.append((self.services[1], True, 1, DEGRADE_AFTER - 60))
        for svc, degrade, step, age in picks:
            dep = self.deployments[(svc, self.prod)]
            state = CanaryState(
                service=svc,
                environment=self.prod,
                baseline=dep.version,
                candidate=self.deployments[(svc, staging)].version,
                step=step,
                phase=CanaryPhase.PROGRESSING,
                started_at=start - timedelta(seconds=age),
                degrade=degrade,
            )
            for name in ("error_rate", "latency_p99", "cpu"):
                state.series[name] = ([], [])
            for k in range(METRIC_POINTS, 0, -1):
                self._sample(state, start - timedelta(seconds=k * METRIC_EVERY))
            self.canaries[(svc, self.prod)] = state

    def _initial_drift_and_alerts(self, start: datetime) -> None:
        staging = self.envs[-2] if len(self.envs) > 1 else self.envs[0]
        picks = [s for s in ("search", "inventory") if s in self.services] or self.services[-2:]
        for n, svc in enumerate(picks):
            dep = self.deployments[(svc, staging)]
            items = [
                DriftItem(f"Deployment/{staging}/{svc}", "spec.replicas", "3", "5"),
                DriftItem(
                    f"ConfigMap/{staging}/{svc}-config",
                    "data.CACHE_TTL_SECONDS",
                    "300",
                    "30",
                ),
            ]
            if n == 0:
                items.append(
                    DriftItem(
                        f"Deployment/{staging}/{svc}",
                        "spec.template.spec.containers[0].image",
                        f"registry.example/{svc}:{dep.version}",
                        f"registry.example/{svc}:{dep.version}-hotfix",
                    )
                )
            self.drift[(svc, staging)] = DriftReport(
                service=svc,
                environment=staging,
                revision=dep.version,
                items=tuple(items),
                source=self.source,
                observed_at=start,
            )
        alerted = (
            "search" if "search" in self.services else self.services[min(3, len(self.services) - 1)]
        )
        self.alerts.append(
            Alert(
                name="HighErrorRate",
                service=alerted,
                environment=self.prod,
                severity=Severity.CRITICAL,
                state="firing",
                summary=f"5xx ratio above 2% for 10m on {alerted}",
                started_at=start - timedelta(minutes=12),
                source=self.source,
                observed_at=start,
                fingerprint=hashlib.sha1(f"{alerted}:HighErrorRate".encode()).hexdigest()[:16],
                labels=(("alertname", "HighErrorRate"), ("severity", "critical")),
            )
        )

    # Time ---------------------------------------------------------------------------
    def _schedule(self, svc: str, in_ticks: int) -> None:
        heapq.heappush(self.next_commit, (self.tick_no + in_ticks, self._seq, svc))
        self._seq += 1

    def advance_to(self, now: datetime) -> bool:
        """Run the ticks between the last call and `now`. Returns whether anything ran."""
        moved = False
        while self.now + timedelta(seconds=1) <= now:
            self.now += timedelta(seconds=1)
            self.tick()
            moved = True
        return moved

    def tick(self) -> None:
        self.tick_no += 1
        now = self.now
        while self.next_commit and self.next_commit[0][0] <= self.tick_no:
            _, _, svc = heapq.heappop(self.next_commit)
            self._new_run(svc, now)
            self._schedule(svc, self.rng.randrange(180, 600))
        for run_id in list(self.active):
            self._step_run(self.runs[run_id], now)
        for state in self.canaries.values():
            self._step_canary(state, now)
        self._trim()

    def _enter_stage(self, run: RunState, idx: int, now: datetime) -> None:
        _, lo, hi, _, _ = STAGES[idx]
        run.stage_index = idx
        run.stage_started[idx] = now
        if idx == APPROVAL_STAGE:
            run.stage_status[idx] = Status.WAITING
            run.status = Status.WAITING
            self.approvals_cache = None
        else:
            run.stage_status[idx] = Status.RUNNING
            run.status = Status.RUNNING
            run.ticks_left = self.rng.randint(lo, hi)
        self._touch(run)

    def _step_run(self, run: RunState, now: datetime) -> None:
        if run.stage_index < 0:
            run.started_at = now
            self._enter_stage(run, 0, now)
            return
        idx = run.stage_index
        if run.stage_status[idx] is Status.WAITING:
            return
        run.ticks_left -= 1
        if run.ticks_left > 0:
            return
        run.stage_finished[idx] = now
        self._touch(run)
        if idx == 1:
            run.tests = self._tests(run)
        if idx == 2:
            self._scanned(run)
        if idx == run.fail_at:
            run.stage_status[idx] = Status.FAILED
            self._finish(run, Status.FAILED, now)
            return
        run.stage_status[idx] = Status.SUCCEEDED
        env = STAGES[idx][4]
        if env and idx != APPROVAL_STAGE:
            canary = self.canaries.get((run.service, env))
            if canary is not None and not canary.phase.active:
                self._start_canary(canary, run.version, now)
            else:
                self._deploy(run.service, env, run.version, run.author, now)
        if idx + 1 < len(STAGES):
            self._enter_stage(run, idx + 1, now)
        else:
            self._finish(run, Status.SUCCEEDED, now)

    def _touch(self, run: RunState) -> None:
        """The run changed: its frozen view must be rebuilt at the next observation."""
        run.frozen = None
        self.dirty_runs.add(run.id)

    def _scanned(self, run: RunState) -> None:
        self.scanned[run.service] = run
        self.gates_by_service.pop(run.service, None)
        self.gates_cache = None

    def _finish(self, run: RunState, status: Status, now: datetime) -> None:
        run.status = status
        run.finished_at = now
        for k in range(run.stage_index + 1, len(STAGES)):
            run.stage_status[k] = Status.SKIPPED
        self._touch(run)
        if run.id in self.active:
            self.active.remove(run.id)
        self.approvals_cache = None

    def _deploy(
        self, svc: str, env: str, version: str, who: str, now: datetime, rollback: bool = False
    ) -> None:
        old = self.deployments[(svc, env)]
        if old.version == version:
            return
        self.deployments_changed = True
        previous = Revision(
            version=old.version,
            digest=old.digest,
            deployed_at=old.deployed_at,
            deployed_by=old.deployed_by,
            id=old.remote_id,
        )
        self.deployments[(svc, env)] = Deployment(
            service=svc,
            environment=env,
            version=version,
            digest=digest_of(svc, version),
            deployed_at=now,
            deployed_by=who,
            status=Status.SUCCEEDED,
            health=Health.HEALTHY,
            source=self.source,
            observed_at=now,
            history=(previous, *old.history)[:6],
            remote_id=str(int(old.remote_id or "0") + 1),
            message="rollback" if rollback else "",
        )
        drift = self.drift.get((svc, env))
        if drift is not None:
            # Hand-made live changes survive a deploy until someone syncs (the Sync action).
            self.drift[(svc, env)] = DriftReport(
                svc, env, version, drift.items, source=self.source, observed_at=now
            )

    def _trim(self) -> None:
        limit = max(HISTORY, 12 * len(self.services))
        if len(self.runs) > limit:
            for run_id in list(self.runs)[: len(self.runs) - limit]:
                if run_id not in self.active:
                    del self.runs[run_id]
                    self.removed_runs.add(run_id)

    # Canary -------------------------------------------------------------------------
    def _sample(self, state: CanaryState, when: datetime) -> None:
        rng = self.rng
        age = (when - state.started_at).total_seconds()
        worse = max(0.0, age - DEGRADE_AFTER) / 60 if state.degrade else 0.0
        # Baseline and canary come from the same distributions unless the canary degrades.
        values = {
            "error_rate": (rng.gauss(0.40, 0.06), rng.gauss(0.40 + 0.30 * worse, 0.06)),
            "latency_p99": (rng.gauss(182, 9), rng.gauss(182 + 15 * worse, 9)),
            "cpu": (rng.gauss(41, 3), rng.gauss(41, 3)),
        }
        state.times.append(when)
        for name, (base, can) in values.items():
            b, c = state.series[name]
            b.append(round(max(base, 0.0), 4))
            c.append(round(max(can, 0.0), 4))
            if len(b) > METRIC_POINTS:
                del b[0], c[0]
        if len(state.times) > METRIC_POINTS:
            del state.times[0]
        state.frozen = None

    def _start_canary(self, state: CanaryState, version: str, now: datetime) -> None:
        """A new release of a canaried service starts a fresh canary at step 1."""
        state.baseline = self.deployments[(state.service, state.environment)].version
        state.candidate = version
        state.step = 0
        state.ticks_in_step = 0
        state.phase = CanaryPhase.PROGRESSING
        state.message = ""
        state.started_at = now
        state.times.clear()
        for b, c in state.series.values():
            b.clear()
            c.clear()
        state.frozen = None

    def _step_canary(self, state: CanaryState, now: datetime) -> None:
        if not state.phase.active:
            return
        if self.tick_no % METRIC_EVERY == 0:
            self._sample(state, now)
        if state.phase is CanaryPhase.PAUSED:
            return
        state.ticks_in_step += 1
        if state.ticks_in_step >= CANARY_STEP_TICKS and state.step < len(CANARY_WEIGHTS) - 1:
            state.step += 1
            state.ticks_in_step = 0
            state.frozen = None
            if state.step == len(CANARY_WEIGHTS) - 1:
                # The last step waits for a human, as an Argo Rollouts `pause: {}` does.
                state.phase = CanaryPhase.PAUSED
                state.message = "waiting for promotion to 100%"

    # Views as frozen domain objects ---------------------------------------------------
    def run(self, run: RunState) -> PipelineRun:
        if run.frozen is None:
            run.frozen = PipelineRun(
                id=run.id,
                service=run.service,
                pipeline="release",
                number=run.number,
                status=run.status,
                stages=tuple(
                    Stage(
                        name=STAGES[i][0],
                        status=run.stage_status[i],
                        started_at=run.stage_started[i],
                        finished_at=run.stage_finished[i],
                        waiting_for_approval=run.stage_status[i] is Status.WAITING,
                        environment=STAGES[i][4],
                    )
                    for i in range(len(STAGES))
                ),
                author=run.author,
                commit=run.commit,
                message=run.message,
                branch="main",
                queued_at=run.queued_at,
                source=self.source,
                observed_at=self.now,
                started_at=run.started_at,
                finished_at=run.finished_at,
                tests=run.tests,
                version=run.version,
                digest=digest_of(run.service, run.version),
                url=f"https://ci.example/{run.service}/runs/{run.number}",
            )
        return run.frozen

    def canary(self, state: CanaryState) -> Canary:
        if state.frozen is None:
            state.frozen = Canary(
                service=state.service,
                environment=state.environment,
                baseline_version=state.baseline,
                canary_version=state.candidate,
                step=state.step + 1,
                steps=len(CANARY_WEIGHTS),
                weight=CANARY_WEIGHTS[state.step] if state.phase.active else 0,
                phase=state.phase,
                started_at=state.started_at,
                source=self.source,
                observed_at=self.now,
                metrics=tuple(
                    MetricSeries(
                        name=name,
                        unit={"error_rate": "%", "latency_p99": "ms", "cpu": "%"}[name],
                        times=tuple(state.times),
                        baseline=tuple(b),
                        canary=tuple(c),
                        direction="increase",
                        critical=name == "error_rate",
                        group={"cpu": "saturation"}.get(name, "golden"),
                        allowed_increase=ALLOWED_INCREASE,
                    )
                    for name, (b, c) in state.series.items()
                ),
                canary_digest=digest_of(state.service, state.candidate),
                message=state.message,
                remote_id=f"rollout/{state.service}",
            )
        return state.frozen

    def approvals(self) -> tuple[PendingApproval, ...]:
        if self.approvals_cache is None:
            out = []
            for run_id in self.active:
                run = self.runs[run_id]
                if (
                    run.stage_index == APPROVAL_STAGE
                    and run.stage_status[APPROVAL_STAGE] is Status.WAITING
                ):
                    if run.approval is None:
                        run.approval = self._approval(run)
                    out.append(run.approval)
            self.approvals_cache = tuple(out)
        return self.approvals_cache

    def _approval(self, run: RunState) -> PendingApproval:
        return PendingApproval(
            id=f"{self.source}:{run.id}",
            service=run.service,
            environment=self.prod,
            kind="deployment",
            title=f"Deploy {run.service} {run.version} to {self.prod}",
            requested_by=run.author,
            requested_at=run.stage_started[APPROVAL_STAGE] or run.queued_at,
            source=self.source,
            observed_at=self.now,
            version=run.version,
            digest=digest_of(run.service, run.version),
            run_id=run.id,
            remote_id=run.id,
        )

    def gates(self) -> tuple[Gate, ...]:
        """Named gates the CI reports for the newest scanned run of each service."""
        if self.gates_cache is None:
            for svc, run in self.scanned.items():
                if svc not in self.gates_by_service:
                    self.gates_by_service[svc] = self._gates_of(svc, run)
            self.gates_cache = tuple(g for gates in self.gates_by_service.values() for g in gates)
        return self.gates_cache

    def _gates_of(self, svc: str, run: RunState) -> tuple[Gate, ...]:
        scan = run.stage_status[2]
        status = {Status.SUCCEEDED: GateStatus.PASS, Status.FAILED: GateStatus.FAIL}.get(
            scan, GateStatus.UNKNOWN
        )
        # One service (the last) carries a dependency with a disallowed licence.
        licence_ok = svc != self.services[-1]
        return (
            Gate(
                "security scan",
                status,
                f"{run.id} security-scan {scan.value} for {run.version}",
                service=svc,
                source=self.source,
                version=run.version,
            ),
            Gate(
                "licence check",
                GateStatus.PASS if licence_ok else GateStatus.FAIL,
                f"{run.id}: {'no' if licence_ok else '1'} disallowed licence(s)",
                service=svc,
                source=self.source,
                version=run.version,
            ),
        )
