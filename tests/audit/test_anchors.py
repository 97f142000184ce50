"""Checkpoints anchored outside the store: the directory and Git sinks, and the anchorer's
schedule (every N records or M minutes, never twice for one head, failures audited)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from cockpit.audit.anchorer import ACTION, Anchorer
from cockpit.audit.anchors import AnchorError, DirectorySink, GitSink, file_name, listed
from cockpit.audit.checkpoint import Checkpoint
from cockpit.audit.events import EventType
from cockpit.audit.sqlite import SqliteStore
from cockpit.clock import FixedClock
from tests.audit.anchor_kit import keygen, rewrite_sqlite, truncate_sqlite
from tests.audit.conftest import ACTOR, event, need


@pytest.fixture
def key(tmp_path: Path) -> Path:
    return keygen(tmp_path / "keys" / "controller")


@pytest.fixture
def sink_dir(tmp_path: Path) -> Path:
    path = tmp_path / "worm"
    path.mkdir()
    return path


def anchorer(store: SqliteStore, sink: DirectorySink | GitSink, key: Path, clock: FixedClock,
             every_records: int = 5, every_minutes: float = 10) -> Anchorer:  # fmt: skip
    return Anchorer(
        store, sink, every_records=every_records, every_minutes=every_minutes,
        key=str(key), clock=clock, actor=ACTOR,
    )  # fmt: skip


def anchors(store: SqliteStore) -> list[tuple[str, str]]:
    """(outcome, reason) of the anchorer's own records, oldest first."""
    return [
        (r.outcome, r.reason)
        for r in store.records(event_types=[EventType.AUDIT_CHECKPOINT])
        if r.action == ACTION
    ]


def fill(store: SqliteStore, clock: FixedClock, n: int) -> None:
    for i in range(n):
        clock.advance(1)
        store.append(event(i))


# --- the directory sink -------------------------------------------------------------------


def test_checkpoint_files_sort_in_log_order_and_are_never_overwritten(
    sink_dir: Path, clock: FixedClock
) -> None:
    sink = DirectorySink(sink_dir)
    small = Checkpoint("host/cockpit-audit/x", 9, "ab" * 32, clock.now())
    big = Checkpoint("host/cockpit-audit/x", 120, "cd" * 32, clock.now())
    sink.write(big)
    sink.write(small)
    assert sorted(os.listdir(sink_dir)) == [file_name(9), file_name(120)]
    assert [f.checkpoint for f in listed(sink_dir)] == [small, big]
    assert sink.latest() == big
    # The same head again (a retry after a lost audit record): accepted, file untouched.
    before = (sink_dir / file_name(9)).read_bytes()
    sink.write(replace(small, timestamp=clock.now().replace(year=2030)))
    assert (sink_dir / file_name(9)).read_bytes() == before
    # Another head for the same count is the log rewritten: refused, the file stays.
    with pytest.raises(AnchorError, match="the log was rewritten"):
        sink.write(replace(small, head_hash="ef" * 32))
    assert (sink_dir / file_name(9)).read_bytes() == before
    assert not [n for n in os.listdir(sink_dir) if n.endswith(".tmp")]  # no temp file left


def test_a_missing_sink_directory_is_an_error_and_is_not_created(
    tmp_path: Path, clock: FixedClock
) -> None:
    gone = tmp_path / "mnt" / "worm"
    with pytest.raises(AnchorError, match="does not exist"):
        DirectorySink(gone).write(Checkpoint("o", 1, "ab" * 32, clock.now()))
    assert not gone.exists()


# --- the schedule ---------------------------------------------------------------------------


def test_a_checkpoint_every_n_records_and_never_twice_for_one_head(
    store: SqliteStore, sink_dir: Path, key: Path, clock: FixedClock
) -> None:
    a = anchorer(store, DirectorySink(sink_dir), key, clock, every_records=5)
    first = a.tick()  # the first one anchors what is there at once
    assert first is not None and first.size == 1 and first.signature
    assert a.tick() is None  # its own "checkpoint written" record is not news
    fill(store, clock, 3)
    assert not a.due()  # 4 new records (3 and the anchor's own) < 5
    fill(store, clock, 1)
    second = a.tick()
    assert second is not None and second.size == 6
    assert a.emit() == second  # asked again for the same head: the same checkpoint
    assert [f.checkpoint for f in listed(sink_dir)] == [first, second]
    assert anchors(store) == [("success", ""), ("success", "")]
    verify = store.verify()
    assert verify.ok


def test_a_checkpoint_after_m_minutes_when_anything_was_appended(
    store: SqliteStore, sink_dir: Path, key: Path, clock: FixedClock
) -> None:
    a = anchorer(store, DirectorySink(sink_dir), key, clock, every_records=1000, every_minutes=10)
    assert a.tick() is not None
    clock.advance(3600)
    assert not a.due()  # an idle hour: nothing new, no checkpoint
    fill(store, clock, 1)  # the first news after 10 idle minutes is anchored at once
    first = a.tick()
    assert first is not None and first.size == 3
    fill(store, clock, 1)  # later news waits at most 10 minutes from the last checkpoint
    clock.advance(9 * 60)
    assert not a.due()
    clock.advance(60)
    made = a.tick()
    assert made is not None and made.size == 5


def test_a_restarted_anchorer_goes_on_from_the_sinks_newest_checkpoint(
    store: SqliteStore, sink_dir: Path, key: Path, clock: FixedClock
) -> None:
    assert anchorer(store, DirectorySink(sink_dir), key, clock).tick() is not None
    again = anchorer(store, DirectorySink(sink_dir), key, clock)
    assert again.last is not None and again.last.size == 1
    assert not again.due()  # no second checkpoint for the same head after a restart


def test_a_missing_sink_is_an_audited_warning_retried_with_backoff(
    store: SqliteStore, tmp_path: Path, key: Path, clock: FixedClock
) -> None:
    worm = tmp_path / "worm"
    a = anchorer(store, DirectorySink(worm), key, clock)
    assert a.tick() is None
    [(outcome, reason)] = anchors(store)
    assert outcome == "failed" and "does not exist" in reason
    assert not a.due()  # waiting out the backoff
    clock.advance(10)
    assert a.tick() is None  # the same problem again: logged, not audited twice
    assert len(anchors(store)) == 1
    worm.mkdir()
    clock.advance(20)
    made = a.tick()
    assert made is not None and [o for o, _ in anchors(store)] == ["failed", "success"]
    last = next(store.records(newest_first=True, limit=1))
    assert last.extra["after_failed_attempts"] == 2


def test_a_bad_key_is_an_audited_warning_not_a_crash(
    store: SqliteStore, sink_dir: Path, tmp_path: Path, clock: FixedClock
) -> None:
    need("ssh-keygen")
    a = anchorer(store, DirectorySink(sink_dir), tmp_path / "no-such-key", clock)
    assert a.tick() is None
    [(outcome, reason)] = anchors(store)
    assert outcome == "failed" and "sign" in reason
    assert os.listdir(sink_dir) == []


def test_a_log_rewritten_under_the_last_checkpoint_is_reported_not_anchored(
    store: SqliteStore, db: Path, sink_dir: Path, key: Path, clock: FixedClock
) -> None:
    fill(store, clock, 4)
    a = anchorer(store, DirectorySink(sink_dir), key, clock, every_records=2)
    assert a.tick() is not None  # anchors records 1..5
    fill(store, clock, 3)
    rewrite_sqlite(db, 3, "release train 1", "release train X", rechain=True)
    assert store.verify().ok  # the chain alone cannot tell
    assert a.tick() is None
    outcome, reason = anchors(store)[-1]
    assert outcome == "failed" and "does not continue from checkpoint-000000000005.txt" in reason
    assert [f.name for f in sink_dir.iterdir()] == [file_name(5)]


def test_a_log_truncated_below_the_last_checkpoint_is_reported(
    store: SqliteStore, db: Path, sink_dir: Path, key: Path, clock: FixedClock
) -> None:
    fill(store, clock, 6)
    a = anchorer(store, DirectorySink(sink_dir), key, clock)
    assert a.tick() is not None and a.last is not None and a.last.size == 7
    truncate_sqlite(db, 4)
    assert a.tick() is None
    outcome, reason = anchors(store)[-1]
    assert outcome == "failed" and "truncated" in reason


def test_run_anchors_from_the_event_loop_until_stopped(
    store: SqliteStore, sink_dir: Path, key: Path, clock: FixedClock
) -> None:
    a = replace_poll(anchorer(store, DirectorySink(sink_dir), key, clock, every_records=3))

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(a.run(stop))
        await until(lambda: len(os.listdir(sink_dir)) == 1)
        fill(store, clock, 3)
        await until(lambda: len(os.listdir(sink_dir)) == 2)
        stop.set()
        await asyncio.wait_for(task, 5)

    asyncio.run(scenario())
    assert [f.checkpoint.size for f in listed(sink_dir) if f.checkpoint] == [1, 5]


def replace_poll(a: Anchorer) -> Anchorer:
    a.poll_seconds = 0.01
    return a


async def until(condition: object) -> None:
    deadline = time.monotonic() + 10.0
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


# --- the git sink -----------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    need("git")
    path = tmp_path / "anchors"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    return path


def test_each_checkpoint_is_a_commit_by_the_cockpit_controller(
    store: SqliteStore, repo: Path, key: Path, clock: FixedClock
) -> None:
    a = anchorer(store, GitSink(repo), key, clock, every_records=2)
    assert a.tick() is not None
    fill(store, clock, 2)
    assert a.tick() is not None
    authors = git(repo, "log", "--format=%an <%ae>|%cn|%s").splitlines()
    assert len(authors) == 2
    assert all(line.startswith("cockpit controller <") and "|cockpit controller|" in line
               for line in authors)  # fmt: skip
    assert git(repo, "ls-files").split() == [file_name(1), file_name(4)]
    assert git(repo, "status", "--porcelain") == ""


def test_push_needs_a_remote_and_then_pushes_every_commit(
    store: SqliteStore, repo: Path, tmp_path: Path, key: Path, clock: FixedClock
) -> None:
    a = anchorer(store, GitSink(repo, push=True), key, clock)
    assert a.tick() is None
    assert "no remote" in anchors(store)[-1][1]
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(repo, "remote", "add", "origin", str(remote))  # a path: no network
    clock.advance(60)
    made = a.tick()
    assert made is not None
    assert git(remote, "log", "--format=%s", "main").startswith(f"checkpoint {made.origin} at")


def test_a_git_sink_that_is_not_a_work_tree_is_refused(tmp_path: Path, clock: FixedClock) -> None:
    need("git")
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / ".git").write_text("gitdir: /nonexistent\n")  # not a repository, and no parent one
    with pytest.raises(AnchorError, match="git rev-parse failed"):
        GitSink(plain).write(Checkpoint("o", 1, "ab" * 32, clock.now()))


def test_the_config_section_makes_the_anchorer_the_controller_runs(
    store: SqliteStore, sink_dir: Path, key: Path, clock: FixedClock
) -> None:
    from cockpit.anchors_config import CheckpointsConfig
    from cockpit.audit.anchorer import from_config

    assert from_config(CheckpointsConfig(), store, clock) is None  # no section: no anchoring
    cfg = CheckpointsConfig(dir=str(sink_dir), every_records=7, every_minutes=3, key=str(key))
    a = from_config(cfg, store, clock, actor=ACTOR)
    assert a is not None and (a.every_records, a.every.total_seconds()) == (7, 180)
    assert a.tick() is not None and [p.name for p in sink_dir.iterdir()] == [file_name(1)]


def test_cancelling_run_waits_for_the_checkpoint_in_flight(
    store: SqliteStore, sink_dir: Path, key: Path, clock: FixedClock
) -> None:
    """The controller closes the store after cancelling the task: no write may be left
    running in the worker thread by then."""
    entered, release = threading.Event(), threading.Event()
    inner = DirectorySink(sink_dir)

    class Slow:
        def latest(self) -> Checkpoint | None:
            return inner.latest()

        def describe(self) -> str:
            return "slow"

        def write(self, checkpoint: Checkpoint) -> str:
            entered.set()
            assert release.wait(10)
            return inner.write(checkpoint)

    a = replace_poll(anchorer(store, DirectorySink(sink_dir), key, clock))
    a.sink = Slow()

    async def scenario() -> None:
        task = asyncio.create_task(a.run(asyncio.Event()))
        await until(entered.is_set)
        task.cancel()
        await asyncio.sleep(0.05)
        assert not task.done()  # still waiting for the write in flight
        release.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        assert task.cancelled()

    asyncio.run(scenario())
    assert [p.name for p in sink_dir.iterdir()] == [file_name(1)]
    assert anchors(store) == [("success", "")]


@pytest.mark.parametrize("theirs", ["ab", "ef"])
def test_a_writer_that_wins_the_race_for_a_name_is_never_overwritten(
    sink_dir: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch, theirs: str
) -> None:
    """Another controller (a failover) links the same name first: its file stays; the same
    head is a success, another head is refused as a rewrite."""
    mine = Checkpoint("host/cockpit-audit/x", 9, "ab" * 32, clock.now())
    other = replace(mine, head_hash=theirs * 32, timestamp=clock.now().replace(year=2030))
    real_link = os.link

    def racing(src: str, dst: str) -> None:
        Path(dst).write_text(other.serialize())
        real_link(src, dst)

    monkeypatch.setattr(os, "link", racing)
    sink = DirectorySink(sink_dir)
    if theirs == "ab":
        assert sink.write(mine) == str(sink_dir / file_name(9))
    else:
        with pytest.raises(AnchorError, match="the log was rewritten"):
            sink.write(mine)
    assert Checkpoint.parse((sink_dir / file_name(9)).read_text()) == other
    assert os.listdir(sink_dir) == [file_name(9)]  # no temp file left


def test_a_huge_or_foreign_file_under_a_checkpoint_name_is_named_not_read_whole(
    sink_dir: Path, clock: FixedClock
) -> None:
    (sink_dir / file_name(9)).write_bytes(b"x" * (1 << 20))
    [found] = listed(sink_dir)
    assert found.checkpoint is None and "larger than" in found.problem
    with pytest.raises(AnchorError, match="exists and is not a checkpoint: larger than"):
        DirectorySink(sink_dir).write(Checkpoint("o", 9, "ab" * 32, clock.now()))
    (sink_dir / file_name(9)).write_text("hello\n")
    with pytest.raises(AnchorError, match="exists and is not a readable checkpoint"):
        DirectorySink(sink_dir).write(Checkpoint("o", 9, "ab" * 32, clock.now()))


def test_a_sink_holding_another_logs_checkpoints_is_refused(
    store: SqliteStore, sink_dir: Path, key: Path, clock: FixedClock
) -> None:
    DirectorySink(sink_dir).write(
        Checkpoint("old-store/cockpit-audit/0", 40, "ab" * 32, clock.now())
    )
    a = anchorer(store, DirectorySink(sink_dir), key, clock)
    assert a.tick() is None
    outcome, reason = anchors(store)[-1]
    assert outcome == "failed" and "is for log old-store/cockpit-audit/0" in reason
    assert os.listdir(sink_dir) == [file_name(40)]
