"""Audit log benchmark: durable append latency, and `verify` over a million records.

Run: .venv/bin/python -m bench.audit [--records 1000000] [--appends 500] [--dir DIR]
Targets: append median <= 5 ms (WAL, synchronous=FULL, fsync per commit); verify of
1,000,000 records <= 5 s. The big log is built with a bulk insert used only here; it is
verified through the normal code path (SqliteStore.verify, then the `cockpit audit verify`
command as an operator runs it).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cockpit.audit import Actor, AuditEvent, EventType, Target
from cockpit.audit import canonical as c
from cockpit.audit.records import body_of
from cockpit.audit.sqlite import SqliteStore
from cockpit.clock import FixedClock

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
ACTOR = Actor("alice", "bastion-1", "203.0.113.7:52144", 4242, "0.1.0")
TARGET = Target("checkout", "prod", "1.4.2", "1.5.0", "sha256:" + "ab" * 32, "argocd", "checkout")
GATES = [
    {"name": name, "status": "passed", "evidence": f"{name} ok, run 98123"}
    for name in ("pipeline", "tests", "security-scan", "licence", "canary", "window", "approvals")
]


def realistic(n: int) -> AuditEvent:
    """A promote request as the executor writes it: gates, policy, reason, ticket."""
    return AuditEvent(
        EventType.ACTION_REQUESTED,
        ACTOR,
        TARGET,
        "promote",
        "requested",
        reason=f"release train {n}: canary healthy for 30m",
        ticket="CHG-1042",
        evidence={"gates": GATES, "verdict_digest": "sha256:" + "cd" * 32},
        policy={"decision": "allowed", "reasons": [], "break_glass": False},
        request_id=f"req-{n:08d}",
    )


def bench_append(folder: Path, count: int) -> list[float]:
    clock = FixedClock(T0)
    with SqliteStore(str(folder / "append.sqlite3"), clock=clock) as store:
        for n in range(20):  # warm up page cache and statement cache
            store.append(realistic(n))
        timings = []
        for n in range(count):
            clock.advance(0.1)
            start = time.perf_counter()
            store.append(realistic(n))
            timings.append(time.perf_counter() - start)
        assert store.verify().ok
    return timings


def build_big(path: Path, records: int) -> int:
    """A log of `records` records: the store creates it, then a bulk insert fills it."""
    clock = FixedClock(T0)
    with SqliteStore(str(path), clock=clock) as store:
        head = store.head()
    assert head is not None
    prev = bytes.fromhex(head.hash)
    marker_seq, marker_ts = 987654321, c.utc_text(datetime(2031, 1, 1, tzinfo=UTC)).encode()
    template = body_of(realistic(0), marker_seq, datetime(2031, 1, 1, tzinfo=UTC))
    before, after = template.split(b'"seq":%d' % marker_seq)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")  # bulk build only; appends never do this
    conn.execute("BEGIN")
    rows = []
    for seq in range(2, records + 1):
        ts = c.utc_text(datetime.fromtimestamp(T0.timestamp() + seq, tz=UTC)).encode()
        body = (before + b'"seq":%d' % seq + after).replace(marker_ts, ts)
        hash_ = c.chain_hash(prev, body)
        rows.append((seq, prev, hash_, body.decode()))
        prev = hash_
        if len(rows) == 50_000:
            conn.executemany(
                "INSERT INTO audit_log (seq, prev_hash, hash, body) VALUES (?,?,?,?)", rows
            )
            rows.clear()
    conn.executemany("INSERT INTO audit_log (seq, prev_hash, hash, body) VALUES (?,?,?,?)", rows)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return len(template)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit", description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--appends", type=int, default=500)
    parser.add_argument("--dir", help="where to put the logs (default: a temporary directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cockpit-bench-", dir=args.dir) as tmp:
        folder = Path(tmp)
        timings = bench_append(folder, args.appends)
        ms = sorted(t * 1000 for t in timings)
        median = statistics.median(ms)
        p95 = ms[int(len(ms) * 0.95) - 1]
        print(f"durable append: median {median:.2f} ms, p95 {p95:.2f} ms, max {ms[-1]:.2f} ms "
              f"over {len(ms)} appends (target median <= 5 ms)")  # fmt: skip

        big = folder / "big.sqlite3"
        start = time.perf_counter()
        size = build_big(big, args.records)
        took = time.perf_counter() - start
        print(f"built {args.records:,} records of ~{size} bytes in {took:.1f} s "
              f"({big.stat().st_size / 1e6:.0f} MB)")  # fmt: skip

        with SqliteStore(str(big), clock=FixedClock(T0), create=False) as store:
            start, cpu = time.perf_counter(), time.process_time()
            result = store.verify()
            took, cpu = time.perf_counter() - start, time.process_time() - cpu
        assert result.ok and result.count == args.records, result.describe()
        print(f"verify (SqliteStore.verify): {args.records:,} records in {took:.2f} s wall, "
              f"{cpu:.2f} s CPU (target <= 5 s)")  # fmt: skip

        start = time.perf_counter()
        cmd = [sys.executable, "-m", "cockpit", "audit", "verify", "--db", str(big)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        took_cli = time.perf_counter() - start
        print(
            f"verify (cockpit audit verify, whole process): {took_cli:.2f} s, "
            f"exit {done.returncode}"
        )
        ok = median <= 5 and took <= 5 and done.returncode == 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
