"""Long audit logs for read tests, written in one transaction (an append syncs each record),
and a count of the record bodies SQLite reads on the cockpit's read-only connections."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cockpit.audit import AuditEvent
from cockpit.audit import canonical as c
from cockpit.audit import sqlite as audit_sqlite
from cockpit.audit.records import body_of
from cockpit.audit.sqlite import SqliteStore
from cockpit.clock import FixedClock


def write_log(path: Path, events: Sequence[tuple[datetime, AuditEvent]]) -> int:
    """A new log at `path`: its init record, then `events` chained in order; the first
    event's seq."""
    assert events, "a log of no events is SqliteStore's own"
    with SqliteStore(str(path), clock=FixedClock(events[0][0] - timedelta(days=1))) as store:
        head = store.head()
    assert head is not None
    prev, rows = bytes.fromhex(head.hash), []
    for seq, (at, event) in enumerate(events, start=head.seq + 1):
        body = body_of(event, seq, at)
        hash_ = c.chain_hash(prev, body)
        rows.append((seq, prev, hash_, body.decode()))
        prev = hash_
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO audit_log (seq, prev_hash, hash, body) VALUES (?,?,?,?)", rows)
    conn.execute("COMMIT")
    conn.close()
    return head.seq + 1


def count_bodies_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """From now on, [n]: how many times SQLite read a ts or event_type out of a record body
    on a read-only store (json_extract, behind those columns, stood in for)."""
    calls = [0]
    connect = audit_sqlite.connect_read_only

    def extract(body: str, path: str) -> Any:
        calls[0] += 1
        value: Any = json.loads(body)
        for key in path.removeprefix("$.").split("."):
            value = value.get(key) if isinstance(value, dict) else None
        return value

    def counting(path: str) -> sqlite3.Connection:
        conn = connect(path)
        conn.create_function("json_extract", 2, extract, deterministic=True)
        return conn

    monkeypatch.setattr(audit_sqlite, "connect_read_only", counting)
    return calls
