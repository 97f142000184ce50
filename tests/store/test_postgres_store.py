"""PostgresStore: the same records and chain as SQLite, reads, verify, and NOTIFY on append."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from cockpit.audit import EventType
from cockpit.audit.postgres import PostgresStore
from cockpit.audit.records import AuditError
from cockpit.audit.sqlite import SqliteStore
from cockpit.audit.store import open_store
from cockpit.clock import FixedClock
from tests.audit.conftest import event
from tests.fakes import T0
from tests.pgserver import PostgresServer
from tests.store.conftest import Team


def test_a_record_has_the_same_bytes_and_hash_in_postgres_as_in_sqlite(
    team: Team, tmp_path: Path
) -> None:
    clock = FixedClock(T0)
    with (
        PostgresStore(team.config(), clock=clock, create=False) as pg,
        SqliteStore(str(tmp_path / "a.sqlite3"), clock=clock, create=True) as lite,
    ):
        lite_init = lite.head()
        assert lite_init is not None and pg.head() is None
        # The same event at the same place in the chain gives the same bytes and hash.
        pg_first = pg.append(event(1))
        lite_second = lite.append(event(1))
        assert pg_first.seq == 1 and pg_first.prev_hash == "00" * 32
        assert lite_second.body.replace(b'"seq":2', b'"seq":1') == pg_first.body
        assert [r.body for r in pg.records()] == [pg_first.body]
        assert pg.verify().ok


def test_opening_an_empty_log_for_writing_records_its_first_record(team: Team) -> None:
    with open_store(clock=FixedClock(T0), store=team.config()) as store:
        head = store.head()
        assert head is not None and head.event_type is EventType.AUDIT_INITIALIZED
        assert store.origin.startswith("127.0.0.1:")
    with open_store(clock=FixedClock(T0), store=team.config()) as store:
        assert store.count() == 1  # not twice


def test_filters_pages_and_newest_first_read_as_sqlite_does(team: Team) -> None:
    clock = FixedClock(T0)
    with PostgresStore(team.operator(), clock=clock, create=False) as store:
        for n in range(1200):
            clock.advance(1)
            kind = EventType.ACTION_SUCCEEDED if n % 3 == 0 else EventType.ACTION_REQUESTED
            store.append(event(n, event_type=kind, outcome="ok"))
        assert store.count() == 1200
        assert [r.seq for r in store.records(after_seq=1195)] == [1196, 1197, 1198, 1199, 1200]
        newest = [r.seq for r in store.records(newest_first=True, limit=3)]
        assert newest == [1200, 1199, 1198]
        succeeded = list(store.records(event_types=[EventType.ACTION_SUCCEEDED]))
        assert len(succeeded) == 400
        window = list(
            store.records(since=T0 + timedelta(seconds=101), until=T0 + timedelta(seconds=111))
        )
        assert [r.seq for r in window] == list(range(101, 111))
        assert list(store.records(service="checkout", environment="prod", limit=2))[1].seq == 2
        assert not list(store.records(service="nope"))
        checkpoint = store.checkpoint()
        assert checkpoint.size == 1200 and store.verify(checkpoint).ok


def test_an_append_notifies_cockpit_audit_with_seq_type_and_request_id(team: Team) -> None:
    with psycopg.connect(team.url(), autocommit=True) as listener:
        listener.execute("LISTEN cockpit_audit")
        with PostgresStore(team.operator(), clock=FixedClock(T0), create=False) as store:
            written = store.append(event(7))
        got = next(listener.notifies(timeout=5, stop_after=1))
    assert got.channel == "cockpit_audit"
    assert json.loads(got.payload) == {
        "seq": written.seq,
        "event_type": "action.requested",
        "request_id": "req-7",
    }


def test_a_nonce_is_refused_the_second_time_as_a_replay(team: Team) -> None:
    with PostgresStore(team.operator(), clock=FixedClock(T0), create=False) as store:
        store.append(event(1, extra={"approval_nonce": "n-1"}))
        assert store.nonce_used("n-1") and not store.nonce_used("n-2")
        with pytest.raises(AuditError, match="replay"):
            store.append(event(2, extra={"approval_nonce": "n-1"}))
        assert store.count() == 1


def test_time_in_the_log_never_goes_back_when_the_clock_does(team: Team) -> None:
    clock = FixedClock(T0)
    with PostgresStore(team.operator(), clock=clock, create=False) as store:
        first = store.append(event(1))
        clock.advance(-300)
        second = store.append(event(2))
    assert second.ts == first.ts


def test_verify_names_a_record_a_superuser_edited(team: Team) -> None:
    with PostgresStore(team.config(), clock=FixedClock(T0), create=False) as store:
        for n in range(5):
            store.append(event(n))
    with psycopg.connect(team.url(), autocommit=True) as owner:
        owner.execute("SET session_replication_role = replica")  # triggers are ENABLE ALWAYS
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            owner.execute("UPDATE cockpit.audit_log SET body = replace(body, 'train 3', 'train 9')")
        owner.execute("ALTER TABLE cockpit.audit_log DISABLE TRIGGER audit_log_no_update_delete")
        owner.execute("UPDATE cockpit.audit_log SET body = replace(body, 'train 3', 'train 9')")
        owner.execute(
            "ALTER TABLE cockpit.audit_log ENABLE ALWAYS TRIGGER audit_log_no_update_delete"
        )
    with PostgresStore(team.config(), clock=FixedClock(T0), create=False) as store:
        result = store.verify()
    assert not result.ok and result.first_bad_seq == 4
    assert "edited" in result.problem


def test_a_disabled_trigger_fails_verify_and_stops_appends(team: Team) -> None:
    with PostgresStore(team.config(), clock=FixedClock(T0), create=False) as store:
        store.append(event(1))
    with psycopg.connect(team.url(), autocommit=True) as owner:
        owner.execute("ALTER TABLE cockpit.audit_log DISABLE TRIGGER audit_log_no_truncate")
    with PostgresStore(team.config(), clock=FixedClock(T0), create=False) as store:
        result = store.verify()
        with pytest.raises(AuditError, match="audit_log_no_truncate is disabled"):
            store.append(event(2))
    assert not result.ok and "audit_log_no_truncate is disabled" in result.problem


def test_a_store_without_init_says_to_run_store_init(
    pg_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pg_server.create_database("bare")
    bare = Team(pg_server, url.rsplit("/", 1)[1], monkeypatch)
    with pytest.raises(AuditError, match="run `cockpit store init`"):
        PostgresStore(bare.config(), clock=FixedClock(T0))


def test_verify_reports_progress_and_checks_deep(team: Team) -> None:
    seen: list[tuple[int, int]] = []
    with PostgresStore(team.config(), clock=FixedClock(T0), create=False) as store:
        for n in range(3):
            store.append(event(n))
        result = store.verify(progress=lambda done, total: seen.append((done, total)), deep=True)
    assert result.ok and result.count == 3 and seen[-1] == (3, 3)


def test_a_bad_record_early_in_a_long_log_ends_verify_and_the_store_stays_usable(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench.store import big_rows

    monkeypatch.setattr("cockpit.audit.postgres.VERIFY_BATCH", 500)
    rows = [
        (seq, prev, hash_, body.replace(b"train", b"trian") if seq == 10 else body)
        for seq, prev, hash_, body in big_rows(5000)
    ]
    with PostgresStore(team.config(), clock=FixedClock(T0), create=False) as store:
        assert store.bulk_load(rows) == 5000
        result = store.verify()
        assert not result.ok and result.first_bad_seq == 10
        assert store.count() == 5000  # the stream was cancelled, the connection still works
        assert store.append(event(1)).seq == 5001


def test_a_server_default_of_synchronous_commit_off_is_raised_for_the_store(team: Team) -> None:
    with psycopg.connect(team.url(), autocommit=True) as owner:
        owner.execute(f'ALTER DATABASE "{team.database}" SET synchronous_commit = off')
    with PostgresStore(team.config(), clock=FixedClock(T0), create=False) as store:
        setting = store._run(lambda conn: conn.execute("SHOW synchronous_commit").fetchone()[0])
    assert setting == "on"


def test_a_terminated_connection_fails_one_call_and_is_made_again_for_the_next(
    team: Team,
) -> None:
    with PostgresStore(team.operator(), clock=FixedClock(T0), create=False) as store:
        store.append(event(1))
        with psycopg.connect(team.url(), autocommit=True) as owner:
            owner.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        with pytest.raises(AuditError, match=f"team store 127.0.0.1:{team.server.port}/"):
            store.append(event(2))
        assert store.append(event(3)).seq == 2
        assert store.verify().ok
