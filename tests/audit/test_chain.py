"""The hash chain: every kind of tampering is detected and the first bad record named."""

from __future__ import annotations

import sqlite3
from itertools import pairwise
from pathlib import Path

import pytest

from cockpit.audit import AuditError, Checkpoint
from cockpit.audit import canonical as c
from cockpit.audit.records import body_of
from cockpit.audit.sqlite import SqliteStore
from cockpit.clock import FixedClock

from .conftest import event

GUARDS = ("audit_log_no_update", "audit_log_no_delete")


def tamper(db: Path, *statements: str, args: tuple[object, ...] = (), careful: bool = True) -> None:
    """What an attacker with the sqlite3 module does: drop the guards, edit, and (being
    careful) put the guards back, so that only the chain can tell."""
    conn = sqlite3.connect(db)
    sql_of = dict(
        conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    )
    for name in GUARDS:
        conn.execute(f"DROP TRIGGER {name}")
    for sql in statements:
        conn.execute(sql, args if "?" in sql else ())
    if careful:
        for name in GUARDS:
            conn.execute(sql_of[name])
    conn.commit()
    conn.close()


def test_an_untouched_log_verifies(filled: SqliteStore) -> None:
    result = filled.verify()
    assert result.ok, result.problem
    assert result.count == 10 == filled.count()
    assert result.head_hash == filled.head().hash  # type: ignore[union-attr]
    assert "intact: 10 records" in result.describe()


def test_every_record_commits_to_the_previous_one(filled: SqliteStore) -> None:
    records = list(filled.records())
    assert [r.seq for r in records] == list(range(1, 11))
    assert records[0].prev_hash == c.GENESIS.hex()
    for before, after in pairwise(records):
        assert after.prev_hash == before.hash
        assert after.hash == c.chain_hash(bytes.fromhex(before.hash), after.body).hex()


def test_triggers_refuse_update_and_delete(filled: SqliteStore, db: Path) -> None:
    conn = sqlite3.connect(db)
    for sql in (
        "UPDATE audit_log SET body = body WHERE seq = 3",
        "DELETE FROM audit_log WHERE seq = 10",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(sql)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit_meta")
    with pytest.raises(sqlite3.OperationalError, match="generated column"):
        conn.execute("UPDATE audit_log SET service = 'other' WHERE seq = 3")
    conn.close()
    assert filled.verify().ok


def test_wal_and_synchronous_full_are_read_back_on_a_fresh_connection(
    filled: SqliteStore, db: Path
) -> None:
    from cockpit.audit.sqlite_file import connect

    conn, refusal = connect(str(db))
    assert refusal == ""
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    conn.close()
    plain = sqlite3.connect(db)  # synchronous is per connection: the store must set it itself
    assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    plain.close()


def test_a_log_that_cannot_be_wal_is_refused(clock: FixedClock) -> None:
    with pytest.raises(AuditError, match="journal_mode=memory"):
        SqliteStore(":memory:", clock=clock)


def test_appends_are_refused_once_the_guards_are_gone(
    filled: SqliteStore, db: Path, clock: FixedClock
) -> None:
    tamper(db, careful=False)  # drops the triggers, edits nothing
    result = filled.verify()
    assert not result.ok and result.first_bad_seq is None
    assert "append-only trigger audit_log_no_delete is missing" in result.problem
    with SqliteStore(str(db), clock=clock) as reopened, pytest.raises(AuditError, match="trigger"):
        reopened.append(event(99))


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("body", None),  # filled in below: one field of the JSON changed
        ("prev_hash", b"\x02" * 32),
        ("hash", b"\x01" * 32),
    ],
)
def test_editing_any_column_of_a_middle_record_is_detected(
    filled: SqliteStore, db: Path, column: str, value: bytes | None
) -> None:
    if column == "body":
        tamper(
            db, "UPDATE audit_log SET body = replace(body, '\"1.5.0\"', '\"6.6.6\"') WHERE seq = 5"
        )
    else:
        tamper(db, f"UPDATE audit_log SET {column} = ? WHERE seq = 5", args=(value,))
    result = filled.verify()
    assert not result.ok
    assert result.first_bad_seq == 5, result.problem
    assert "record 5:" in result.describe()


def test_an_edit_that_keeps_the_json_valid_but_changes_the_reason(
    filled: SqliteStore, db: Path
) -> None:
    tamper(
        db, "UPDATE audit_log SET body = json_set(body, '$.reason', 'nothing to see') WHERE seq = 7"
    )
    result = filled.verify()
    assert (result.ok, result.first_bad_seq) == (False, 7)
    assert "edited" in result.problem


def test_deleting_a_record_is_detected(filled: SqliteStore, db: Path) -> None:
    tamper(db, "DELETE FROM audit_log WHERE seq = 4")
    result = filled.verify()
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert "missing" in result.problem and "deleted 4" in result.problem


def test_deleting_and_renumbering_is_detected(filled: SqliteStore, db: Path) -> None:
    tamper(
        db,
        "DELETE FROM audit_log WHERE seq = 4",
        "UPDATE audit_log SET seq = seq - 1 WHERE seq > 4",
    )
    result = filled.verify()
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert "prev_hash does not match the hash of record 3" in result.problem


def test_renumbering_the_seq_column_is_detected(filled: SqliteStore, db: Path) -> None:
    tamper(db, "UPDATE audit_log SET seq = 50 WHERE seq = 10")
    result = filled.verify()
    assert (result.ok, result.first_bad_seq) == (False, 10)


def test_reordering_two_records_is_detected(filled: SqliteStore, db: Path) -> None:
    tamper(
        db,
        "UPDATE audit_log SET seq = 1000 WHERE seq = 3",
        "UPDATE audit_log SET seq = 3 WHERE seq = 4",
        "UPDATE audit_log SET seq = 4 WHERE seq = 1000",
    )
    result = filled.verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "prev_hash does not match the hash of record 2" in result.problem
    deep = filled.verify(deep=True)
    assert (deep.first_bad_seq, deep.problem) == (
        3,
        "has seq 4 in its content: moved or renumbered",
    )


def test_reordering_with_rewritten_bodies_is_detected(filled: SqliteStore, db: Path) -> None:
    # Swap 3 and 4 and fix the seq inside each body: only the chain links can tell.
    tamper(
        db,
        "UPDATE audit_log SET seq = 1000 WHERE seq = 3",
        "UPDATE audit_log SET seq = 3, body = json_set(body, '$.seq', 3) WHERE seq = 4",
        "UPDATE audit_log SET seq = 4, body = json_set(body, '$.seq', 4) WHERE seq = 1000",
    )
    result = filled.verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)


def test_a_fork_off_an_existing_record_is_refused_by_the_schema(
    filled: SqliteStore, db: Path, clock: FixedClock
) -> None:
    prev = bytes.fromhex(next(filled.records(after_seq=4, limit=1)).hash)
    forged = body_of(event(77), 11, clock.now())
    conn = sqlite3.connect(db)
    with pytest.raises(sqlite3.IntegrityError, match="prev_hash"):
        conn.execute(
            "INSERT INTO audit_log (seq, prev_hash, hash, body) VALUES (11, ?, ?, ?)",
            (prev, c.chain_hash(prev, forged), forged.decode()),
        )
    conn.close()


def test_inserting_a_well_formed_record_in_the_middle_is_detected(
    filled: SqliteStore, db: Path, clock: FixedClock
) -> None:
    moves = [f"UPDATE audit_log SET seq = {s + 1} WHERE seq = {s}" for s in range(10, 5, -1)]
    forged = body_of(event(77, reason="approved by nobody"), 6, clock.now())
    prev = b"\x03" * 32  # record 5's hash is taken (UNIQUE prev_hash), so the forger invents one
    insert = "INSERT INTO audit_log (seq, prev_hash, hash, body) VALUES (6, ?, ?, ?)"
    tamper(db, *moves, insert, args=(prev, c.chain_hash(prev, forged), forged.decode()))
    result = filled.verify()
    assert (result.ok, result.first_bad_seq) == (False, 6)
    assert "prev_hash does not match the hash of record 5" in result.problem


def test_truncating_the_tail_is_detected_against_a_checkpoint(
    filled: SqliteStore, db: Path
) -> None:
    anchor = filled.checkpoint()
    assert filled.verify(anchor).ok
    tamper(db, "DELETE FROM audit_log WHERE seq > 7")
    assert filled.verify().ok  # the chain alone cannot see a missing tail...
    result = filled.verify(anchor)  # ...the checkpoint can
    assert (result.ok, result.first_bad_seq) == (False, 8)
    assert "truncated" in result.problem and "3 record(s)" in result.problem


def test_rewriting_the_whole_log_is_detected_against_a_checkpoint(
    filled: SqliteStore, db: Path, clock: FixedClock
) -> None:
    anchor = filled.checkpoint()
    rows = sqlite3.connect(db).execute("SELECT seq, body FROM audit_log ORDER BY seq").fetchall()
    tamper(db, "DELETE FROM audit_log")
    conn = sqlite3.connect(db)
    prev = c.GENESIS
    for seq, body in rows:  # a consistent new chain with one reason changed
        data = body.replace("release train 2", "release train 2 (approved)").encode()
        h = c.chain_hash(prev, data)
        conn.execute(
            "INSERT INTO audit_log (seq, prev_hash, hash, body) VALUES (?, ?, ?, ?)",
            (seq, prev, h, data.decode()),
        )
        prev = h
    conn.commit()
    conn.close()
    assert filled.verify().ok
    result = filled.verify(anchor)
    assert (result.ok, result.first_bad_seq) == (False, 10)
    assert "rewritten" in result.problem


def test_a_checkpoint_older_than_the_log_still_verifies(
    filled: SqliteStore, clock: FixedClock
) -> None:
    anchor = filled.checkpoint()
    for n in range(5):
        filled.append(event(100 + n))
    assert filled.verify(anchor).ok


def test_a_checkpoint_of_another_log_is_refused(
    filled: SqliteStore, tmp_path: Path, clock: FixedClock
) -> None:
    with SqliteStore(str(tmp_path / "other.sqlite3"), clock=clock) as other:
        result = filled.verify(other.checkpoint())
    assert not result.ok and "not " + filled.origin in result.problem


def test_checkpoint_text_round_trips_and_rejects_garbage(filled: SqliteStore) -> None:
    anchor = filled.checkpoint()
    text = anchor.serialize()
    lines = text.splitlines()
    assert lines[0] == filled.origin and lines[1] == "10" and lines[3].startswith("time 2026-")
    assert Checkpoint.parse(text) == anchor
    for bad in (
        text.replace("\n10\n", "\n010\n"),
        text.replace("\n10\n", "\nten\n"),
        text.replace(lines[2], lines[2][:-4]),
        text.replace("time ", "tim "),
        "only\ntwo\n",
        text + "\ntrailing junk\n",
    ):
        with pytest.raises(AuditError, match="checkpoint"):
            Checkpoint.parse(bad)


def test_an_empty_log_checkpoint_is_the_genesis_value(tmp_path: Path, clock: FixedClock) -> None:
    with SqliteStore(str(tmp_path / "a.sqlite3"), clock=clock) as s:
        anchor = Checkpoint(s.origin, 0, c.GENESIS.hex(), clock.now())
        assert s.verify(anchor).ok
        assert not s.verify(Checkpoint(s.origin, 0, "11" * 32, clock.now())).ok


def test_deep_verify_checks_schema_and_evidence_digest(filled: SqliteStore, db: Path) -> None:
    assert filled.verify(deep=True).ok
    conn = sqlite3.connect(db)
    row = conn.execute("SELECT prev_hash, body FROM audit_log WHERE seq = 10").fetchone()
    conn.close()
    body = row[1].replace('"evidence_digest":"sha256:', '"evidence_digest":"sha256:0').encode()
    tamper(
        db,
        "UPDATE audit_log SET body = ?, hash = ? WHERE seq = 10",
        args=(body.decode(), c.chain_hash(row[0], body)),
    )
    assert filled.verify().ok  # the writer's own chain is consistent...
    result = filled.verify(deep=True)  # ...but the record is not well formed
    assert (result.ok, result.first_bad_seq) == (False, 10)
