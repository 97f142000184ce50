"""Reading a time range of the SQLite log: exactly its records, without reading the rest.

The bodies SQLite reads are counted by standing in for its json_extract (the function
behind the ts and event_type columns) on the store's connection: a body read outside the
range is a ts or event_type extracted outside it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from cockpit.audit import AuditRecord, EventType
from cockpit.audit.sqlite import SqliteStore
from cockpit.clock import FixedClock
from tests.bulk_log import count_bodies_read, write_log

from .conftest import event

COUNT = 2_000  # records after the init record, one a minute
START_EVERY = 100  # every 100th is an app.start
T0 = datetime.fromisoformat("2026-11-20T00:00:00+00:00")


def minute(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def _log(path: Path, times: Callable[[int], datetime]) -> None:
    """The init record, then COUNT records, record n+1 at times(n)."""
    kinds = [
        EventType.APP_START if n % START_EVERY == 0 else EventType.ACTION_REQUESTED
        for n in range(COUNT)
    ]
    write_log(path, [(times(n), event(n, event_type=kind)) for n, kind in enumerate(kinds)])


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "audit.sqlite3"
    _log(path, minute)
    return path


@pytest.fixture
def bodies_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    return count_bodies_read(monkeypatch)


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
