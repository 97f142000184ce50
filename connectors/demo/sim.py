"""The simulated fleet behind the demo connector: deterministic for a seed, alive in time.

The world advances in one-second ticks of the injected clock. Each tick, pipeline runs move
through their stages (some fail, some stop for a prod approval), versions flow from dev to
staging, the prod canaries gather metric samples and move step by step, alerts fire after
the changes that cause them. Frozen domain objects are rebuilt only for what changed, so a
poll of a large fleet stays cheap. The world at start is in sim_start, canaries in
sim_canary, alerts and silences in sim_alerts, pipeline runs in sim_runs.
"""

from __future__ import annotations

import heapq
import random
from datetime import datetime, timedelta

from cockpit.model import (
    Alert,
    Canary,
    Deployment,
    DriftReport,
    Health,
    PendingApproval,
    PipelineRun,
    Revision,
    Stage,
    Status,
)
from connectors.demo import sim_canary, sim_start
from connectors.demo.digest import sha1_hex
from connectors.demo.make import maker
from connectors.demo.sim_alerts import AlertBook
from connectors.demo.sim_canary import CanaryState as CanaryState
from connectors.demo.sim_history import History, Unread
from connectors.demo.sim_runs import (
    APPROVAL_STAGE,
    AUTHORS,
    MESSAGES,
    STAGES,
    RunState,
    StageKey,
    approval_of,
    digest_of,
    freeze_run,
    tests_of,
)

make_deployment = maker(Deployment)
make_revision = maker(Revision)


def _started(run: RunState) -> int:
    return run.seq


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
        self.services = sim_start.service_names(services)
        self.now = start
        self.tick_no = 0
        # Every run kept, in creation order: its frozen view as last observed, its state
        # until its first observation, or, for the history, what was drawn until it is
        # read (sim_history). Changed runs wait in `dirty` for the next observation.
        self.runs: dict[str, PipelineRun | RunState | Unread] = {}
        self.active: dict[str, RunState] = {}  # unfinished runs, in start order
        # What a tick moves: the runs made since the last tick, and per tick the runs whose
        # stage ends then (a run in a stage that goes on, or waiting for a human, is not
        # looked at). They move in start order, as stepping every active run would.
        self.queued: list[RunState] = []
        self.due: dict[int, list[RunState]] = {}
        # Per service, its run stopped for a prod approval: one at most (`enter_stage`).
        self.pending: dict[str, RunState] = {}
        self.next_commit: list[tuple[int, int, str]] = []  # heap of (tick, seq, service)
        self.run_numbers: dict[str, int] = {}
        self.latest_version: dict[str, tuple[int, int, int]] = {}
        self.deployments: dict[tuple[str, str], Deployment] = {}
        self.drift: dict[tuple[str, str], DriftReport] = {}
        self.alert_book = AlertBook(source)
        self.canaries: dict[tuple[str, str], CanaryState] = {}
        self.approvals_cache: tuple[PendingApproval, ...] | None = None
        self.dirty: dict[str, RunState] = {}  # changed since the last observation
        self.deployments_changed = True
        self.removed_runs: set[str] = set()
        self.gone: list[PipelineRun] = []  # observed views of the runs trimmed since
        # Deployments replaced since the last observation: the object it held, per cell.
        self.replaced: dict[tuple[str, str], Deployment] = {}
        self.decided: dict[str, str] = {}  # run id -> approver or rejecter
        self._seq = 0
        # Runs kept, as the option says: runs_per_service a service on average, the oldest
        # finished ones trimmed first (the fleet's history, and its memory, stop growing).
        self.keep = runs_per_service * services
        self.history = History(self)
        sim_start.build(self, runs_per_service)

    def version_at(self, svc: str, patch: int) -> str:
        major, minor, _ = self.latest_version[svc]
        return f"{major}.{minor}.{max(patch, 0)}"

    def _bump(self, svc: str) -> str:
        major, minor, patch = self.latest_version[svc]
        self.latest_version[svc] = (major, minor, patch + 1)
        return f"{major}.{minor}.{patch + 1}"

    def _commit(self, svc: str) -> tuple[str, str, str]:
        rng = self.rng
        sha = sha1_hex(f"{self.seed}:{svc}:{self._seq}")
        self._seq += 1
        return sha, rng.choice(AUTHORS), rng.choice(MESSAGES)

    def new_run(self, svc: str, queued: datetime) -> RunState:
        self.run_numbers[svc] += 1
        number = self.run_numbers[svc]
        sha, author, message = self._commit(svc)
        version = self._bump(svc)
        run = RunState(
            id=f"{svc}#{number}",
            service=svc,
            number=number,
            author=author,
            commit=sha,
            message=message,
            version=version,
            queued_at=queued,
            stage_status=[Status.QUEUED] * len(STAGES),
            stage_started=[None] * len(STAGES),
            stage_finished=[None] * len(STAGES),
            seq=self._seq,
            digest=digest_of(svc, version),
        )
        roll = self.rng.random()
        for idx, (_, _, _, p_fail, _) in enumerate(STAGES):
            if roll < p_fail:
                run.fail_at = idx
                break
            roll -= p_fail
        self.runs[run.id] = run
        self.active[run.id] = run
        self.dirty[run.id] = run
        self.queued.append(run)
        return run

    def rerun(self, failed: RunState | PipelineRun, now: datetime) -> RunState:
        """A new attempt at the same commit (as CI systems re-run failed jobs)."""
        run = self.new_run(failed.service, now)
        run.commit, run.author, run.message = failed.commit, failed.author, failed.message
        run.fail_at = -1  # the flaky step passes this time
        return run

    # Time ---------------------------------------------------------------------------
    def schedule(self, svc: str, in_ticks: int) -> None:
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

    def start_commits(self) -> None:
        """Count a tick and start a run for each service whose next commit is due by it."""
        self.tick_no += 1
        while self.next_commit and self.next_commit[0][0] <= self.tick_no:
            _, _, svc = heapq.heappop(self.next_commit)
            self.new_run(svc, self.now)
            self.schedule(svc, self.rng.randrange(180, 600))

    def tick(self) -> None:
        self.start_commits()
        now = self.now
        moving = {run.seq: run for run in self.queued}
        moving.update((run.seq, run) for run in self.due.pop(self.tick_no, ()))
        self.queued = []
        for _, run in sorted(moving.items()):
            self._step_run(run, now)
        for state in self.canaries.values():
            sim_canary.step(state, self.rng, self.tick_no, now)
        self.alert_book.tick(now, self.deployments, self.canaries)
        self._trim()

    def enter_stage(self, run: RunState, idx: int, now: datetime) -> None:
        _, lo, hi, _, _ = STAGES[idx]
        run.stage_index = idx
        run.stage_started[idx] = now
        if idx == APPROVAL_STAGE:
            # As in a GitHub Actions concurrency group, the newly pending run cancels the one
            # pending before it (unapproved runs piled up in a long-running demo, ~1.5 KB each)
            older = self.pending.get(run.service)
            if older is not None and older is not run:
                older.stage_status[idx] = Status.CANCELLED
                older.stage_finished[idx] = now
                self.finish(older, Status.CANCELLED, now)
            run.stage_status[idx] = Status.WAITING
            run.status = Status.WAITING
            self.pending[run.service] = run
            self.approvals_cache = None
        else:
            run.stage_status[idx] = Status.RUNNING
            run.status = Status.RUNNING
            run.due = self.tick_no + self.rng.randint(lo, hi)
            self.due.setdefault(run.due, []).append(run)
        self._touch(run)

    def _step_run(self, run: RunState, now: datetime) -> None:
        if run.stage_index < 0:
            run.started_at = now
            self.enter_stage(run, 0, now)
            return
        idx = run.stage_index
        if run.stage_status[idx] is not Status.RUNNING or run.due != self.tick_no:
            return  # queued, then put in a stage at once (the fleet's start), or not due
        run.stage_finished[idx] = now
        self._touch(run)
        if idx == 1:
            run.tests = tests_of(run)
        if idx == run.fail_at:
            run.stage_status[idx] = Status.FAILED
            self.finish(run, Status.FAILED, now)
            return
        run.stage_status[idx] = Status.SUCCEEDED
        env = STAGES[idx][4]
        if env and idx != APPROVAL_STAGE:
            canary = self.canaries.get((run.service, env))
            if canary is not None and not canary.phase.active:
                baseline = self.deployments[(run.service, env)].version
                sim_canary.restart(canary, baseline, run.version, now)
            else:
                self.deploy(run.service, env, run.version, run.author, now, digest=run.digest)
        if idx + 1 < len(STAGES):
            self.enter_stage(run, idx + 1, now)
        else:
            self.finish(run, Status.SUCCEEDED, now)

    def _touch(self, run: RunState) -> None:
        """The run changed: its frozen view must be rebuilt at the next observation."""
        self.dirty[run.id] = run

    def finish(self, run: RunState, status: Status, now: datetime) -> None:
        run.status = status
        run.finished_at = now
        for k in range(run.stage_index + 1, len(STAGES)):
            run.stage_status[k] = Status.SKIPPED
        self._touch(run)
        self.active.pop(run.id, None)
        self.stop_waiting(run)

    def stop_waiting(self, run: RunState) -> None:
        """The run no longer waits for approval (approved, rejected, cancelled, failed)."""
        if self.pending.get(run.service) is run:
            del self.pending[run.service]
            self.approvals_cache = None

    def deploy(
        self,
        svc: str,
        env: str,
        version: str,
        who: str,
        now: datetime,
        rollback: bool = False,
        digest: str = "",  # the version's digest_of, when the caller has it
    ) -> None:
        old = self.deployments[(svc, env)]
        if old.version == version:
            return
        self.deployments_changed = True
        self.replaced.setdefault((svc, env), old)
        previous = make_revision(
            old.version, old.digest, old.deployed_at, old.deployed_by, old.remote_id, False
        )
        self.deployments[(svc, env)] = make_deployment(
            svc,
            env,
            version,
            digest or digest_of(svc, version),
            now,
            who,
            Status.SUCCEEDED,
            Health.HEALTHY,
            self.source,
            now,
            (previous, *old.history)[:6],
            sim_start.revision_id(int(old.remote_id or "0") + 1),
            "rollback" if rollback else "",
        )
        drift = self.drift.get((svc, env))
        if drift is not None:
            # Hand-made live changes survive a deploy until someone syncs (the Sync action).
            self.drift[(svc, env)] = DriftReport(
                svc, env, version, drift.items, source=self.source, observed_at=now
            )

    def _trim(self) -> None:
        limit = self.keep
        if len(self.runs) > limit:
            for run_id in list(self.runs)[: len(self.runs) - limit]:
                if run_id not in self.active:
                    seen = self.runs.pop(run_id)
                    if type(seen) is PipelineRun:
                        self.gone.append(seen)
                    self.removed_runs.add(run_id)

    # Views as frozen domain objects ---------------------------------------------------
    def state(self, run_id: str) -> RunState | PipelineRun | None:
        """A run as it stands now: its state while it can change or has changed since the
        last observation, else its frozen view."""
        found = self.dirty.get(run_id) or self.active.get(run_id) or self.runs.get(run_id)
        if type(found) is tuple:  # drawn, not read yet: read for the asking
            return self.history.read(run_id, found)
        return found  # type: ignore[return-value]

    def settle(self) -> tuple[list[PipelineRun], list[PipelineRun]]:
        """Freeze the runs that changed since the last observation into `runs`: (the new
        frozen views, the views of the last observation they replace or that were
        trimmed). A finished run's state goes with it: only its frozen view is kept."""
        added: list[PipelineRun] = []
        removed = self.gone
        runs, source, now = self.runs, self.source, self.now
        made: dict[StageKey, Stage] = {}  # this observation's new stages, shared
        for run_id, state in self.dirty.items():
            old = runs.get(run_id)
            if old is None:
                continue  # trimmed
            if type(old) is PipelineRun:
                new = freeze_run(state, source, now, old, made)
                removed.append(old)
            else:
                new = freeze_run(state, source, now, None, made)
            runs[run_id] = new
            added.append(new)
        self.dirty, self.gone = {}, []
        self.removed_runs = set()
        return added, removed

    def deployments_moved(self) -> tuple[list[Deployment], list[Deployment]]:
        """(deployments new since the last observation, those they replaced), by cell."""
        added, removed = [], []
        for key, old in self.replaced.items():
            new = self.deployments[key]
            if new is not old:
                added.append(new)
                removed.append(old)
        self.replaced = {}
        return added, removed

    def canary(self, state: CanaryState) -> Canary:
        return sim_canary.freeze(
            state, self.source, self.now, digest_of(state.service, state.candidate)
        )

    @property
    def alerts(self) -> tuple[Alert, ...]:
        return self.alert_book.alerts(self.now)

    def approvals(self) -> tuple[PendingApproval, ...]:
        if self.approvals_cache is None:
            out = []
            for run in sorted(self.pending.values(), key=_started):  # in start order
                if run.approval is None:
                    run.approval = approval_of(run, self.source, self.prod, self.now)
                out.append(run.approval)
            self.approvals_cache = tuple(out)
        return self.approvals_cache
