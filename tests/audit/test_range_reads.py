"""Reading a time range of the SQLite log: exactly its records, without reading the rest.

The bodies SQLite reads are counted by standing in for its json_extract (the function
behind the ts and event_type columns) on the store's connection: a body read outside the
range is a ts or event_type extracted outside it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cockpit.audit import AuditRecord, EventType
from cockpit.audit import canonical as c
from cockpit.audit import sqlite as audit_sqlite
from cockpit.audit.records import body_of
from cockpit.audit.sqlite import SqliteStore
from cockpit.clock import FixedClock

from .conftest import event

COUNT = 2_000  # records after the init record, one a minute
START_EVERY = 100  # every 100th is an app.start
T0 = datetime.fromisoformat("2026-11-20T00:00:00+00:00")


def minute(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def _log(path: Path, times: Callable[[int], datetime]) -> None:
    """The init record, then COUNT chained records, record n+1 at times(n)."""
    with SqliteStore(str(path), clock=FixedClock(T0 - timedelta(days=1))) as store:
        head = store.head()
    assert head is not None
    prev, rows = bytes.fromhex(head.hash), []
    for n in range(COUNT):
        kind = EventType.APP_START if n % START_EVERY == 0 else EventType.ACTION_REQUESTED
        body = body_of(event(n, event_type=kind), head.seq + 1 + n, times(n))
        hash_ = c.chain_hash(prev, body)
        rows.append((head.seq + 1 + n, prev, hash_, body.decode()))
        prev = hash_
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO audit_log (seq, prev_hash, hash, body) VALUES (?,?,?,?)", rows)
    conn.execute("COMMIT")
    conn.close()


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "audit.sqlite3"
    _log(path, minute)
    return path


@pytest.fixture
def bodies_read(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many times SQLite read a ts or event_type out of a body, on read-only stores."""
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
    yield calls


def _store(path: Path) -> SqliteStore:
    return SqliteStore(str(path), clock=FixedClock(minute(COUNT)), read_only=True)


def test_a_recent_time_range_is_read_without_reading_the_bodies_before_it(
    log: Path, bodies_read: list[int]
) -> None:
    with _store(log) as store:
        bodies_read[0] = 0
        found = list(store.records(since=minute(COUNT - 20)))
    assert [r.ts for r in found] == [minute(n) for n in range(COUNT - 20, COUNT)]
    assert bodies_read[0] <= 3 * len(found)  # was every record's: 2,000 and more


def test_the_last_start_before_a_time_is_found_without_reading_the_whole_log_before_it(
    log: Path, bodies_read: list[int]
) -> None:
    with _store(log) as store:
        bodies_read[0] = 0
        found = list(
            store.records(
                until=minute(COUNT - 30),
                event_types=[EventType.APP_START],
                newest_first=True,
                limit=1,
            )
        )
    assert [r.ts for r in found] == [minute(COUNT - START_EVERY)]
    # At most the records between it and the time: SQLite sorted every earlier one (2,000).
    assert bodies_read[0] <= 3 * START_EVERY


def test_reading_on_from_a_seq_reads_each_body_once_however_many_pages(
    log: Path, bodies_read: list[int]
) -> None:
    with _store(log) as store:
        bodies_read[0] = 0
        found = list(store.records(since=minute(10), after_seq=COUNT // 2))
    assert [r.seq for r in found] == list(range(COUNT // 2 + 1, COUNT + 2))
    # Two lower bounds of seq: SQLite sought one and re-read from it on every page of 500.
    assert bodies_read[0] <= 2 * len(found)


def _expected(records: list[AuditRecord], since: datetime, until: datetime) -> list[int]:
    return [r.seq for r in records if since <= r.ts < until]


def test_a_time_range_holds_exactly_its_records_where_times_went_back(tmp_path: Path) -> None:
    """A damaged log (verify names it) still reads as what it holds: 20 records in the
    middle carry times a day early; a range of only those, and one that takes some of them
    and the first 600 minutes, find exactly them, oldest or newest first."""
    path = tmp_path / "audit.sqlite3"
    _log(path, lambda n: minute(n - 1440) if 500 <= n < 520 else minute(n))
    with _store(path) as store:
        every = list(store.records())
        assert not store.verify().ok
        for since, until in ((minute(-940), minute(-925)), (minute(-930), minute(600))):
            expected = _expected(every, since, until)
            assert expected and [r.seq for r in store.records(since=since, until=until)] == expected
            backwards = store.records(since=since, until=until, newest_first=True)
            assert [r.seq for r in backwards] == expected[::-1]
        assert list(store.records(since=minute(COUNT + 5))) == []
        assert list(store.records(until=minute(-2000))) == []
