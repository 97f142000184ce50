"""The demo's history is drawn at its start and read into frozen runs when polled
(connectors/demo/sim_history.py); it must be the history runs made and stepped one by one
would give, with the same random draws after it, and a large one must not hold up the
first poll."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from cockpit.clock import FixedClock
from cockpit.model import Action, ActionKind, PipelineRun, Status
from connectors.demo import DemoConnector, DemoOptions, draws, sim_canary, sim_history, sim_runs
from connectors.demo.sim import Fleet
from connectors.demo.sim_runs import APPROVAL_STAGE, STAGES, approval_of, freeze_run, thaw

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def _step_by_step(
    self: sim_history.History, svc: str, count: int, need: int, stream: object
) -> list[tuple[str, str]]:
    """The straightforward way: each run made by `Fleet.new_run`, its stages stepped to the
    end with `Random.randrange`, then frozen at once. (The build's other draws come from
    `Random` too here, `draws.RandomStream`, so that these follow them.)"""
    fleet = self.fleet
    built = []
    for k in range(count, 0, -1):
        queued = fleet.now - timedelta(minutes=15 * k + fleet.rng.randrange(0, 10))
        run = fleet.new_run(svc, queued)
        t = queued + timedelta(seconds=5)
        run.started_at = t
        last = len(STAGES) - 1 if run.fail_at < 0 else run.fail_at
        for idx in range(last + 1):
            run.stage_started[idx] = t
            t += timedelta(seconds=max(STAGES[idx][1], 1) + fleet.rng.randrange(0, 8))
            run.stage_finished[idx] = t
            run.stage_status[idx] = Status.SUCCEEDED
        if run.fail_at >= 0:
            run.stage_status[run.fail_at] = Status.FAILED
            for idx in range(run.fail_at + 1, len(STAGES)):
                run.stage_status[idx] = Status.SKIPPED
        run.status = Status.FAILED if run.fail_at >= 0 else Status.SUCCEEDED
        run.stage_index = last
        run.finished_at = t
        run.tests = sim_runs.tests_of(run)
        del fleet.active[run.id], fleet.dirty[run.id]
        frozen = fleet.runs[run.id] = freeze_run(run, fleet.source, fleet.now)
        if run.status is Status.SUCCEEDED:
            built.append((run.version, frozen.digest))
    return built[::-1][:need]


def _fleet(services: int, runs_per_service: int = 10) -> Fleet:
    return Fleet(
        seed=11,
        services=services,
        environments=("dev", "staging", "prod"),
        start=T0,
        source="demo",
        runs_per_service=runs_per_service,
    )


@pytest.mark.parametrize(("services", "per_service"), [(1, 10), (12, 10), (300, 10), (40, 3)])
def test_the_history_made_at_once_is_the_one_made_step_by_step(
    monkeypatch: pytest.MonkeyPatch, services: int, per_service: int
) -> None:
    fast = _fleet(services, per_service)  # drawn in C where the install built it
    monkeypatch.setattr(sim_history.History, "draw", _step_by_step)
    monkeypatch.setattr(draws, "_CStream", None)
    slow = _fleet(services, per_service)
    assert list(fast.runs) == list(slow.runs)
    unread = [i for i, r in fast.runs.items() if type(r) is tuple]
    assert len(unread) == services * (per_service - 1)  # drawn only, until read
    assert [r.id for r in fast.history.read_all()] == unread
    assert not fast.history.unread
    for run_id, run in slow.runs.items():
        assert fast.runs[run_id] == run
    assert fast.deployments == slow.deployments
    assert fast.rng.getstate() == slow.rng.getstate()  # the same draws, in the same order
    assert (fast.latest_version, fast.run_numbers) == (slow.latest_version, slow.run_numbers)
    assert list(fast.active) == list(slow.active)


def test_finished_runs_are_kept_frozen_only_and_thaw_back() -> None:
    clock = FixedClock(T0)
    demo = DemoConnector("demo", DemoOptions(services=30), client=None, clock=clock)
    for _ in range(12):
        clock.advance(9)
        obs = asyncio.run(demo.poll())
    fleet = demo.fleet
    assert not fleet.dirty
    unfinished = {r.id for r in obs.runs if r.finished_at is None}
    assert set(fleet.active) == unfinished  # the only runs with mutable state
    assert all(type(r) is PipelineRun for r in fleet.runs.values())
    failed = 0
    for run in obs.runs:
        if run.finished_at is not None:
            state = thaw(run)
            assert freeze_run(state, run.source, run.observed_at) == run
            failed += state.fail_at >= 0
            assert sim_runs.tests_of(state) == run.tests
    assert failed  # the fleet has failed runs, whose failing stage thaw finds


def test_a_run_finished_since_the_last_poll_can_be_rerun_at_once() -> None:
    clock = FixedClock(T0)
    demo = DemoConnector("demo", DemoOptions(services=60), client=None, clock=clock)
    asyncio.run(demo.poll())
    fleet = demo.fleet
    for _ in range(200):  # step the fleet until an observed run fails, before the next poll
        clock.advance(1)
        fleet.advance_to(clock.now())
        done = [
            s
            for s in fleet.dirty.values()
            if s.status is Status.FAILED and isinstance(fleet.runs[s.id], PipelineRun)
        ]
        if done:
            break
        asyncio.run(demo.poll())
    assert done
    stale = fleet.runs[done[0].id]
    assert isinstance(stale, PipelineRun) and stale.status is not Status.FAILED
    result = asyncio.run(
        demo.execute(Action(ActionKind.RERUN, done[0].service, "", remote_id=done[0].id, actor="t"))
    )
    assert result.ok


def test_a_large_history_is_read_in_chunks_newest_first_and_said_to_be_missing_until_then(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import connectors.demo as demo_module

    monkeypatch.setattr(demo_module, "HISTORY_AT_ONCE", 100)
    monkeypatch.setattr(demo_module, "HISTORY_CHUNK", 150)
    clock = FixedClock(T0)
    small = DemoConnector("demo", DemoOptions(services=11), client=None, clock=clock)
    assert asyncio.run(small.poll()).incomplete == ""  # 99 runs: read at once
    large = DemoConnector("demo", DemoOptions(services=40), client=None, clock=clock)
    first = asyncio.run(large.poll())
    assert first.incomplete == "its run history (360 runs)"
    assert len(first.runs) == 20 and all(r.finished_at is None for r in first.runs)
    assert len(first.deployments) == 120  # the overview has every service at once
    last, unread = first, 360
    for _ in range(3):  # the same instant: 150 runs a poll, then the last 60
        obs = asyncio.run(large.poll())
        read = min(150, unread)
        unread -= read
        assert obs.incomplete == (f"its run history ({unread:,} runs)" if unread else "")
        assert len(obs.runs) == len(last.runs) + read
        (hint,) = [h for h in obs.changed if h.field == "runs"]
        assert hint.before is last.runs and len(hint.added) == read and not hint.removed
        assert {r.id for r in hint.added} == {r.id for r in obs.runs} - {r.id for r in last.runs}
        assert obs.runs_delta is not None and len(obs.runs_delta[1]) == read
        assert obs.evidence == ()  # documents come the poll after the history is read
        # Newest first: every run read so far is newer than any of its service's unread.
        numbers = {r.id: r.number for r in obs.runs if r.finished_at is not None}
        for run_id in large.fleet.history.unread:
            svc, number = run_id.split("#")
            assert all(n > int(number) for i, n in numbers.items() if i.startswith(svc + "#"))
        last = obs
    assert last.incomplete == "" and len(last.runs) == 380 and not large.fleet.history.unread
    fourth = asyncio.run(large.poll())
    assert fourth.evidence and fourth.runs is last.runs
    # The same runs (in the same order) and documents as a demo that read its history at once.
    monkeypatch.setattr(demo_module, "HISTORY_AT_ONCE", 20_000)
    eager = DemoConnector("demo", DemoOptions(services=40), client=None, clock=clock)
    asyncio.run(eager.poll())
    again = asyncio.run(eager.poll())
    assert list(map(repr, again.runs)) == list(map(repr, last.runs))
    assert again.evidence == fourth.evidence and again.deployments == fourth.deployments
    oneshot = DemoConnector("demo", DemoOptions(services=40), client=None, clock=clock)
    oneshot.live = False
    assert asyncio.run(oneshot.poll()).incomplete == ""


def test_a_history_read_in_chunks_while_the_fleet_moves_is_the_one_read_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Chunks read between ticks, approvals and trimming give the observations of a demo
    that read its history at once: the same from the poll after the last chunk on (but
    for when each run was observed, which is the poll that read it, and the documents'
    order, which is when each was first made)."""
    import connectors.demo as demo_module

    monkeypatch.setattr(demo_module, "DOCS_AT_ONCE", 10_000)  # documents in one poll here

    def session(chunk: int) -> list[str]:
        monkeypatch.setattr(demo_module, "HISTORY_CHUNK", chunk)
        monkeypatch.setattr(demo_module, "HISTORY_AT_ONCE", 100 if chunk < 1000 else 20_000)
        clock = FixedClock(T0)
        demo = DemoConnector(
            "demo", DemoOptions(services=30, runs_per_service=14), client=None, clock=clock
        )
        seen = []
        for p in range(30):
            clock.advance(20 + p * 7 % 23)
            obs = asyncio.run(demo.poll())
            runs = sorted(repr(replace(r, observed_at=T0)) for r in obs.runs)
            docs = sorted(map(repr, obs.evidence))  # their order is when each was first made
            seen.append(repr((runs, obs.approvals, obs.deployments, docs)))
            if p % 3 == 0 and obs.approvals:
                a = obs.approvals[p % len(obs.approvals)]
                kind = ActionKind.APPROVE if p % 2 else ActionKind.REJECT
                asyncio.run(demo.execute(Action(kind, a.service, a.environment, approval_id=a.id)))
        assert not demo.fleet.history.unread
        return seen

    chunked, eager = session(70), session(20_000)
    assert chunked[8:] == eager[8:]  # 390 runs: the first poll, 6 chunks of 70, documents


def test_a_history_read_in_chunks_at_one_instant_is_the_one_read_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Chunks read at the fleet's start, then a session with reruns: every observation
    equal to a demo's that read its history at its first poll."""
    import connectors.demo as demo_module

    monkeypatch.setattr(demo_module, "HISTORY_AT_ONCE", 100)
    monkeypatch.setattr(demo_module, "HISTORY_CHUNK", 70)
    sessions = []
    for eager in (False, True):
        if eager:
            monkeypatch.setattr(demo_module, "HISTORY_AT_ONCE", 20_000)
        clock = FixedClock(T0)
        demo = DemoConnector(
            "demo", DemoOptions(services=30, runs_per_service=14), client=None, clock=clock
        )
        polls = 0
        while demo.fleet.history.unread or not polls:
            asyncio.run(demo.poll())
            polls += 1
        assert polls == (1 if eager else 7)
        sessions.append(_session(demo, clock))
    assert sessions[0] == sessions[1]


def _every_active_run(self: Fleet) -> None:
    """The straightforward tick: every unfinished run looked at, in start order."""
    self.start_commits()
    now = self.now
    self.queued, self.due = [], {}
    for run in list(self.active.values()):
        self._step_run(run, now)
    for state in self.canaries.values():
        sim_canary.step(state, self.rng, self.tick_no, now)
    self.alert_book.tick(now, self.deployments, self.canaries)
    self._trim()


def _approvals_of_active(self: Fleet) -> tuple[object, ...]:
    return tuple(
        r.approval or approval_of(r, self.source, self.prod, self.now)
        for r in self.active.values()
        if r.stage_index == APPROVAL_STAGE and r.stage_status[APPROVAL_STAGE] is Status.WAITING
    )


def _session(demo: DemoConnector, clock: FixedClock) -> list[str]:
    seen = []
    for p in range(25):
        clock.advance(1 + p * 7 % 23)
        obs = asyncio.run(demo.poll())
        seen.append(repr((sorted(map(repr, obs.runs)), obs.approvals, obs.deployments)))
        if p % 3 == 0 and obs.approvals:
            a = obs.approvals[p % len(obs.approvals)]
            kind = ActionKind.APPROVE if p % 2 else ActionKind.REJECT
            asyncio.run(demo.execute(Action(kind, a.service, a.environment, approval_id=a.id)))
        failed = sorted(r.id for r in obs.runs if r.status is Status.FAILED)
        if p % 4 == 1 and failed:
            asyncio.run(demo.execute(Action(ActionKind.RERUN, "", "", remote_id=failed[0])))
    return seen


def test_a_tick_moves_the_runs_due_as_stepping_every_run_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FixedClock(T0)
    bucketed = _session(
        DemoConnector("demo", DemoOptions(services=40), client=None, clock=clock), clock
    )
    clock = FixedClock(T0)
    monkeypatch.setattr(Fleet, "tick", _every_active_run)
    stepped = DemoConnector("demo", DemoOptions(services=40), client=None, clock=clock)
    approvals = Fleet.approvals
    monkeypatch.setattr(
        Fleet, "approvals", lambda self: (approvals(self), _approvals_of_active(self))[1]
    )
    assert _session(stepped, clock) == bucketed


async def test_a_source_still_reading_is_polled_again_only_after_the_first_frame(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The app holds the hub's judging back until its first frame is painted; a source that
    said it is incomplete is not polled again before then (the next chunk of the demo's
    history would hold the event loop before the frame), and is right after."""
    import connectors.demo as demo_module
    from cockpit.config import ConnectorSpec
    from cockpit.fleet.hub import Hub
    from cockpit.model import Environment

    monkeypatch.setattr(demo_module, "HISTORY_AT_ONCE", 100)
    monkeypatch.setattr(demo_module, "HISTORY_CHUNK", 150)
    envs = (Environment("dev", 0), Environment("staging", 1), Environment("prod", 2, True))
    options = DemoOptions(services=40)
    spec = ConnectorSpec("demo", "demo", DemoConnector, options, 0.001, 5, 60)
    hub = Hub([spec], envs, clock=FixedClock(T0))
    hub.judging = False
    polls: list[str] = []
    hub.subscribe(lambda snap: polls.append(snap.sources["demo"].incomplete))
    await hub.start()
    try:
        assert await hub.first_data(5)
        for _ in range(20):  # many poll intervals go by
            await asyncio.sleep(0.002)
        assert polls == ["its run history (360 runs)"]
        done = asyncio.Event()
        hub.subscribe(lambda snap: done.set() if not snap.sources["demo"].incomplete else None)
        hub.judging = True  # the first frame is up
        await asyncio.wait_for(done.wait(), 5)
        said = list(dict.fromkeys(polls))  # a poll's verdicts may follow as a second publish
        assert said == [polls[0], "its run history (210 runs)", "its run history (60 runs)", ""]
    finally:
        await hub.stop()


async def test_a_settled_look_reads_the_whole_history_chunk_by_chunk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`Hub.settle` (the app without polling, bench.fleet's settled fleet) asks a source
    that is still reading again until it names nothing missing."""
    import connectors.demo as demo_module
    from cockpit.config import ConnectorSpec
    from cockpit.fleet.hub import Hub
    from cockpit.model import Environment

    monkeypatch.setattr(demo_module, "HISTORY_AT_ONCE", 100)
    monkeypatch.setattr(demo_module, "HISTORY_CHUNK", 150)
    envs = (Environment("dev", 0), Environment("staging", 1), Environment("prod", 2, True))
    spec = ConnectorSpec("demo", "demo", DemoConnector, DemoOptions(services=40), 1, 5, 60)
    hub = Hub([spec], envs, clock=FixedClock(T0))
    snap = await hub.settle()
    assert snap.sources["demo"].incomplete == "" and len(snap.runs) == 380


def test_the_fleet_keeps_the_runs_per_service_the_option_says() -> None:
    # It kept max(20,000, 12 a service): a small demo's history grew for hours, and a large
    # one grew by a fifth, ~80 MB at 10,000 services.
    clock = FixedClock(T0)
    demo = DemoConnector(
        "demo", DemoOptions(services=6, runs_per_service=4), client=None, clock=clock
    )
    finished = []
    for _ in range(120):
        clock.advance(30)
        obs = asyncio.run(demo.poll())
        for a in obs.approvals:  # approved, the runs go on to finish
            asyncio.run(
                demo.execute(Action(ActionKind.APPROVE, a.service, a.environment, approval_id=a.id))
            )
        # A run still moving is never trimmed: the finished ones go, oldest first.
        finished.append(sum(r.id not in demo.fleet.active for r in obs.runs))
    assert max(finished) <= 6 * 4 and finished[-1] >= 6 * 4 - len(demo.fleet.active)


def test_a_newer_run_waiting_for_approval_cancels_the_one_before_it() -> None:
    # Unapproved runs piled up: a 10,000-service demo left running kept ~20,000 of them
    # waiting after 13 simulated minutes (~30 MB, growing), and the approvals queue with
    # them. As a GitHub Actions concurrency group does, the newer pending run cancels the
    # one pending before it.
    clock = FixedClock(T0)
    demo = DemoConnector("demo", DemoOptions(services=6), client=None, clock=clock)
    cancelled: dict[str, PipelineRun] = {}
    for _ in range(240):
        clock.advance(30)
        obs = asyncio.run(demo.poll())
        waiting = [r.service for r in obs.runs if r.status is Status.WAITING]
        assert len(waiting) == len(set(waiting)) == len(obs.approvals)
        cancelled.update((r.id, r) for r in obs.runs if r.status is Status.CANCELLED)
    assert cancelled
    run = next(iter(cancelled.values()))
    assert run.stages[APPROVAL_STAGE].status is Status.CANCELLED
    assert all(s.status is Status.SKIPPED for s in run.stages[APPROVAL_STAGE + 1 :])
    refused = Action(ActionKind.APPROVE, run.service, "prod", approval_id=f"demo:{run.id}")
    with pytest.raises(Exception, match="nothing waits for approval"):
        asyncio.run(demo.execute(refused))


def test_stages_frozen_alike_in_one_observation_are_one_object() -> None:
    # Runs started in the same tick move in step: a 10,000-service demo left running held
    # 538,000 stage objects for 212,000 distinct ones (47 MB).
    fleet = Fleet(
        seed=7, services=400, environments=("dev", "staging", "prod"), start=T0, source="demo"
    )
    for second in range(5, 150, 5):  # observed every 5 s
        fleet.advance_to(T0 + timedelta(seconds=second))
        fleet.settle()
    live = [r for r in fleet.runs.values() if type(r) is PipelineRun and r.queued_at > T0]
    objects: dict[int, object] = {}
    alike: set[tuple[object, ...]] = set()
    for run in live:
        for i, stage in enumerate(run.stages):
            if stage.started_at is not None:
                objects[id(stage)] = stage
                alike.add((i, stage.status, stage.started_at, stage.finished_at))
    assert len(live) > 50 and len(alike) > 100
    assert len(objects) == len(alike)


def test_revision_numbers_are_one_string_each() -> None:
    # Every cell counts its revisions 1, 2, 3 ...: a 10,000-service demo left running held
    # 141,000 such strings (6.9 MB) for a few hundred numbers.
    fleet = Fleet(
        seed=7, services=200, environments=("dev", "staging", "prod"), start=T0, source="demo"
    )
    fleet.advance_to(T0 + timedelta(minutes=10))
    ids = [d.remote_id for d in fleet.deployments.values()]
    ids += [r.id for d in fleet.deployments.values() for r in d.history]
    assert len(ids) > 1000
    assert len({id(i) for i in ids}) == len(set(ids))
