"""Crash safety and concurrency: kill -9 mid-append, and eight processes appending at once."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cockpit.audit import EventType, sqlite_file
from cockpit.audit.sqlite import SqliteStore
from cockpit.audit.sqlite_file import network_filesystem
from cockpit.clock import FixedClock

# The child appends forever (or `count` times), printing "seq hash" after each append returns.
CHILD = """
import sys
from cockpit.audit import Actor, AuditEvent, EventType
from cockpit.audit.sqlite import SqliteStore
from cockpit.clock import SystemClock

path, worker, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
actor = Actor("worker", "host", "", worker, "0.1.0")
store = SqliteStore(path, clock=SystemClock())
n = 0
while count < 0 or n < count:
    event = AuditEvent(EventType.ACTION_REQUESTED, actor, None, "promote", "requested",
                       reason="x" * (n % 400), extra={"worker": worker, "n": n})
    record = store.append(event)
    print(record.seq, record.hash, flush=True)
    n += 1
"""


def child(db: Path, worker: int, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), str(worker), str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_kill_9_mid_append_loses_no_acknowledged_record(db: Path, clock: FixedClock) -> None:
    rng = random.Random(20261126)
    acknowledged: dict[int, str] = {}
    for round_ in range(100):
        proc = child(db, round_, -1)
        assert proc.stdout is not None
        wanted = rng.randint(1, 12)
        for _ in range(wanted):  # block until this many appends have returned
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "child died"
            seq, hash_ = line.split()
            acknowledged[int(seq)] = hash_
        os.kill(proc.pid, signal.SIGKILL)
        # The rest of the stream from where readline left it: through proc.stdout, whose
        # buffer holds what readline read ahead. (communicate() reads the pipe itself, past
        # that buffer: its text could start mid-line, a blank or a truncated line.)
        rest = proc.stdout.read()
        proc.communicate()
        # Whole lines printed before the kill are acknowledgements too. The kill can land
        # while the child's buffer is flushed mid-line: a line cut short acknowledged nothing.
        for line in rest.splitlines(keepends=True):
            if line.endswith("\n"):
                seq, hash_ = line.split()
                acknowledged[int(seq)] = hash_
        assert proc.returncode == -signal.SIGKILL
        with SqliteStore(str(db), clock=clock) as store:
            result = store.verify()
            assert result.ok, f"round {round_}: {result.describe()}"
    with SqliteStore(str(db), clock=clock) as store:
        stored = {r.seq: r.hash for r in store.records()}
    assert len(acknowledged) >= 100
    missing = {s for s, h in acknowledged.items() if stored.get(s) != h}
    assert not missing, f"acknowledged records lost or changed: {sorted(missing)[:10]}"


@pytest.mark.slow
def test_eight_processes_appending_make_one_chain_without_gaps(db: Path, clock: FixedClock) -> None:
    # All eight start on a log that does not exist yet: creation races too.
    procs = [child(db, w, 200) for w in range(8)]
    outputs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
    with SqliteStore(str(db), clock=clock) as store:
        result = store.verify()
        assert result.ok, result.describe()
        records = list(store.records())
    assert result.count == 1 + 8 * 200  # the log's own audit.initialized record, then ours
    assert [r.seq for r in records] == list(range(1, 1602))
    assert records[0].event_type is EventType.AUDIT_INITIALIZED
    seen: dict[int, list[int]] = {}
    for r in records[1:]:
        seen.setdefault(r.extra["worker"], []).append(r.extra["n"])
    assert {w: ns for w, ns in seen.items()} == {w: list(range(200)) for w in range(8)}
    acknowledged = {
        int(s): h for out, _ in outputs for s, h in (ln.split() for ln in out.splitlines())
    }
    assert acknowledged == {r.seq: r.hash for r in records[1:]}


def test_network_filesystems_are_recognised_from_proc_mounts() -> None:
    mounts = "\n".join(
        [
            "/dev/vda / ext4 rw,relatime 0 0",
            "server:/export /home nfs4 rw,relatime 0 0",
            "//nas/share /mnt/share cifs rw 0 0",
            "/dev/vdb /home/alice/local ext4 rw 0 0",
        ]
    )
    assert network_filesystem("/home/bob/.local/share/cockpit", mounts) == "nfs4"
    assert network_filesystem("/mnt/share/audit", mounts) == "cifs"
    assert network_filesystem("/home/alice/local/cockpit", mounts) is None
    assert network_filesystem("/var/lib/cockpit", mounts) is None
    assert network_filesystem("/homework", mounts) is None


def test_the_log_is_private_to_its_owner(db: Path, store: SqliteStore) -> None:
    assert db.parent.stat().st_mode & 0o777 == 0o700
    assert db.stat().st_mode & 0o777 == 0o600


def test_a_missing_log_is_not_created_when_only_reading(tmp_path: Path, clock: FixedClock) -> None:
    from cockpit.audit import AuditError

    with pytest.raises(AuditError, match="no audit log"):
        SqliteStore(str(tmp_path / "none.sqlite3"), clock=clock, create=False)
    assert not (tmp_path / "none.sqlite3").exists()


def test_records_filters_and_paging(store: SqliteStore, clock: FixedClock) -> None:
    from .conftest import PROD, event

    start = clock.now()
    for n in range(1200):  # more than two pages
        clock.advance(1)
        target = PROD if n % 3 else None
        store.append(
            event(
                n,
                target=target,
                event_type=EventType.ACTION_SUCCEEDED if n % 2 else EventType.ACTION_REQUESTED,
            )
        )
    assert len(list(store.records())) == 1201
    assert [r.seq for r in store.records(newest_first=True, limit=3)] == [1201, 1200, 1199]
    assert [r.seq for r in store.records(after_seq=1195)] == [1196, 1197, 1198, 1199, 1200, 1201]
    window = list(store.records(since=start.replace(second=10), until=start.replace(second=20)))
    assert [r.extra["n"] for r in window] == list(range(9, 19))
    prod = list(
        store.records(
            service="checkout", environment="prod", event_types=[EventType.ACTION_SUCCEEDED]
        )
    )
    assert all(r.target == PROD and r.event_type is EventType.ACTION_SUCCEEDED for r in prod)
    assert len(prod) == len([n for n in range(1200) if n % 3 and n % 2])
    assert list(store.records(event_types=[])) == []
    assert json.loads(store.head().to_json())["seq"] == 1201  # type: ignore[union-attr]


def test_opening_waits_for_a_writer_sqlite_will_not_wait_for(
    db: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process holds the reserved lock on a log still in rollback mode (as when it
    # is creating the log). Switching to WAL then meets "database is locked" at once, with
    # no busy wait; CI saw one of eight appenders die of it. Opening must wait its turn.
    db.parent.mkdir(parents=True, exist_ok=True)
    other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE t(x)")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1)")
    pauses: list[float] = []

    def other_commits(seconds: float) -> None:
        pauses.append(seconds)
        if other.in_transaction:
            other.execute("COMMIT")

    monkeypatch.setattr(sqlite_file, "wait", other_commits)
    conn, refusal = sqlite_file.connect(str(db))
    try:
        assert refusal == ""
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert len(pauses) == 1  # it met the lock once, then went on
    finally:
        conn.close()
        other.close()
