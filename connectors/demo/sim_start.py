"""The demo fleet's world at start: versions and their history, runs in flight, two prod
canaries, staging drift, and the alerts already firing.

The history of finished runs (9 a service by default) is only drawn here, and read into
frozen runs when the connector polls (sim_history).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from cockpit.model import (
    CanaryPhase,
    Deployment,
    DriftItem,
    DriftReport,
    Health,
    Revision,
    Severity,
    Status,
)
from connectors.demo import draws, sim_canary
from connectors.demo.make import maker
from connectors.demo.sim_alerts import Cause
from connectors.demo.sim_canary import METRIC_EVERY, METRIC_POINTS, CanaryState
from connectors.demo.sim_runs import (
    APPROVAL_STAGE,
    AUTHORS,
    STAGES,
    RunState,
    digest_of,
    tests_of,
)

if TYPE_CHECKING:
    from connectors.demo.draws import Stream
    from connectors.demo.sim import Fleet


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


def service_names(n: int) -> list[str]:
    if n <= len(SERVICE_NAMES):
        return list(SERVICE_NAMES[:n])
    width = len(str(n))
    return [f"svc-{i:0{width}d}" for i in range(1, n + 1)]


START_AGE = 180  # seconds the degrading canary has run when the demo starts


make_deployment = maker(Deployment)
make_revision = maker(Revision)


@cache
def revision_id(n: int) -> str:
    """A deployment's revision number as text, one object per number: every cell counts 1,
    2, 3 ... and its revisions keep them (141,000 equal strings, 6.9 MB, in a 10,000-service
    demo left running)."""
    return str(n)


def build(fleet: Fleet, runs_per_service: int) -> None:
    """Fill a new fleet with the world as it stands at the fleet's start."""
    with draws.drawing(fleet.rng) as stream:
        _services(fleet, runs_per_service, stream)
    start = fleet.now
    # A few runs already in flight, two of them waiting for a prod approval.
    for n, svc in enumerate(fleet.services[: max(3, len(fleet.services) // 2)]):
        run = fleet.new_run(svc, start - timedelta(seconds=30 + 20 * n))
        target = APPROVAL_STAGE if n < 2 else min(n % APPROVAL_STAGE, 4)
        _fast_forward(fleet, run, target)
    _initial_canary(fleet, start)
    _initial_drift_and_alerts(fleet, start)


def _services(fleet: Fleet, runs_per_service: int, stream: Stream) -> None:
    """Each service's versions, history and deployments, and its next commit's tick."""
    start = fleet.now
    history = fleet.history
    need = len(fleet.envs) + 4  # versions a service's deployments and their histories name
    for i, svc in enumerate(fleet.services):
        major, minor = 1 + i % 3, stream.below(12)  # randrange(0, 12)
        patch = 3 + stream.below(6)  # randrange(3, 9)
        fleet.latest_version[svc] = (major, minor, patch)
        fleet.run_numbers[svc] = 100 + stream.below(800)  # randrange(0, 800)
        # History of finished runs, oldest first, spaced over the last hours. Versions per
        # environment come from the successful ones: dev has the newest, staging the one
        # before, prod the one before that.
        built = history.draw(svc, runs_per_service - 1, need, stream)
        while len(built) < need:
            v = fleet.version_at(svc, patch - len(built))
            built.append((v, digest_of(svc, v)))
        for e_i, env in enumerate(fleet.envs):
            lag = e_i
            version, digest = built[lag]
            revs = tuple(
                make_revision(
                    v,
                    d,
                    history.at(-3600 * (6 * (j + 1) + lag) - 60 * (i % 60)),
                    AUTHORS[(i + j) % len(AUTHORS)],
                    revision_id(j + 1),
                    False,
                )
                for j, (v, d) in enumerate(built[lag + 1 : lag + 5])
            )
            fleet.deployments[(svc, env)] = make_deployment(
                svc,
                env,
                version,
                digest,
                history.at(-3600 * (lag * 3 + 1) - 60 * (7 * i % 60)),
                AUTHORS[(i + e_i) % len(AUTHORS)],
                Status.SUCCEEDED,
                Health.HEALTHY,
                fleet.source,
                start,
                revs,
                revision_id(len(revs) + 1),
                "",
            )
        # The next commit arrives at a staggered tick.
        fleet.schedule(svc, 5 + stream.below(235))  # randrange(5, 240)


def _fast_forward(fleet: Fleet, run: RunState, target_stage: int) -> None:
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
            run.tests = tests_of(run)
        env = STAGES[idx][4]
        if env and idx != APPROVAL_STAGE and (run.service, env) in fleet.deployments:
            fleet.deploy(run.service, env, run.version, run.author, t, digest=run.digest)
    run.stage_index = target_stage
    fleet.enter_stage(run, target_stage, t)


def _initial_canary(fleet: Fleet, start: datetime) -> None:
    """Two canaries in prod: a healthy one mid-way, and one that starts to degrade a
    minute after start-up (the judge scores it marginal, then fails it; the policy
    rolls it back or proposes to)."""
    staging = fleet.envs[-2] if len(fleet.envs) > 1 else fleet.prod
    picks = [(fleet.services[0], False, 2, METRIC_POINTS * METRIC_EVERY)]
    if len(fleet.services) > 1:
        picks.append((fleet.services[1], True, 1, START_AGE))
    for svc, degrade, step, age in picks:
        dep = fleet.deployments[(svc, fleet.prod)]
        state = CanaryState(
            service=svc,
            environment=fleet.prod,
            baseline=dep.version,
            candidate=fleet.deployments[(svc, staging)].version,
            step=step,
            phase=CanaryPhase.PROGRESSING,
            started_at=start - timedelta(seconds=age),
            degrade=degrade,
        )
        for k in range(METRIC_POINTS, 0, -1):
            sim_canary.sample(state, fleet.rng, start - timedelta(seconds=k * METRIC_EVERY))
        fleet.canaries[(svc, fleet.prod)] = state


def _initial_drift_and_alerts(fleet: Fleet, start: datetime) -> None:
    staging = fleet.envs[-2] if len(fleet.envs) > 1 else fleet.envs[0]
    picks = [s for s in ("search", "inventory") if s in fleet.services] or fleet.services[-2:]
    for n, svc in enumerate(picks):
        dep = fleet.deployments[(svc, staging)]
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
        fleet.drift[(svc, staging)] = DriftReport(
            service=svc,
            environment=staging,
            revision=dep.version,
            items=tuple(items),
            source=fleet.source,
            observed_at=start,
        )
    _initial_alerts(fleet, start)


def _initial_alerts(fleet: Fleet, start: datetime) -> None:
    """A bad prod deploy 20 minutes ago, paging since 12 (its rollback ends it), and a
    warning unrelated to any change."""
    prod = fleet.prod
    alerted = (
        "search" if "search" in fleet.services else fleet.services[min(3, len(fleet.services) - 1)]
    )
    dep = fleet.deployments[(alerted, prod)]
    fleet.deployments[(alerted, prod)] = replace(
        dep, deployed_at=start - timedelta(minutes=20), deployed_by=AUTHORS[3]
    )
    book = fleet.alert_book
    book.fire(
        "HighErrorRate",
        alerted,
        prod,
        Severity.CRITICAL,
        f"5xx ratio above 2% for 10m on {alerted}",
        start - timedelta(minutes=12),
        Cause("deploy", dep.version),
    )
    quiet = fleet.services[-1]
    book.fire(
        "DiskFillingUp",
        quiet,
        prod,
        Severity.WARNING,
        f"{quiet} data volume 85% full, full in about 2 days at this rate",
        start - timedelta(minutes=47),
    )
