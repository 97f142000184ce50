"""Verification an auditor can rely on: read-only, one clear line on a damaged file, no REPLACE."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit.audit import AuditError
from cockpit.audit import canonical as c
from cockpit.audit.sqlite import SqliteStore
from cockpit.clock import FixedClock
from tests.cli import cockpit

from .conftest import event

REPLACE_GUARDS = ("audit_log_no_replace", "audit_log_nonce_once", "audit_meta_no_replace")


def files(db: Path) -> dict[str, bytes]:
    """The log's bytes and its -wal's; a missing -wal counts as an empty one (no records)."""
    wal = Path(f"{db}-wal")
    return {"db": db.read_bytes(), "wal": wal.read_bytes() if wal.exists() else b""}


def rewrite(db: Path, bodies: dict[int, bytes]) -> None:
    """Replace record bodies and recompute every later hash: a chain consistent with itself."""
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER audit_log_no_update")
    rows = conn.execute("SELECT seq, CAST(body AS BLOB) FROM audit_log ORDER BY seq").fetchall()
    prev = c.GENESIS
    for seq, body in rows:
        body = bodies.get(seq, body)
        hash_ = c.chain_hash(prev, body)
        conn.execute(
            "UPDATE audit_log SET prev_hash = ?, hash = ?, body = CAST(? AS TEXT) WHERE seq = ?",
            (prev, hash_, body, seq),  # the bytes as they are, valid UTF-8 or not
        )
        prev = hash_
    conn.commit()
    conn.close()


def body(db: Path, seq: int) -> bytes:
    conn = sqlite3.connect(db)
    row = conn.execute("SELECT CAST(body AS BLOB) FROM audit_log WHERE seq = ?", (seq,)).fetchone()
    conn.close()
    return bytes(row[0])


def root_page(db: Path, name: str) -> int:
    conn = sqlite3.connect(db)
    page = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
    conn.close()
    return int(page)


def break_page(db: Path, page: int) -> None:
    """Flip the b-tree page type byte of `page`: what a bad sector or a stray write leaves."""
    data = bytearray(db.read_bytes())
    data[(page - 1) * 4096 + (100 if page == 1 else 0)] ^= 0xFF
    db.write_bytes(bytes(data))


@pytest.fixture
def closed(filled: SqliteStore, db: Path) -> Path:
    """The 10-record log, closed, so everything is in the main file."""
    filled.close()
    return db


def damage(db: Path, kind: str) -> Path:
    if kind == "truncated":
        db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    elif kind == "flipped":
        break_page(db, root_page(db, "audit_log"))
    elif kind == "not a database":
        db.write_bytes(b"PK\x03\x04 not an audit log at all" * 200)
    elif kind == "another database":
        db.unlink()
        sqlite3.connect(db).execute("CREATE TABLE notes (text)").connection.close()
    elif kind == "empty":
        db.write_bytes(b"")
    elif kind == "a directory":
        db.unlink()
        db.mkdir()
    return db


@pytest.fixture
def live(closed: Path) -> Iterator[sqlite3.Connection]:
    """A writer that stays open, so what it changes stays in the -wal during a verify."""
    conn = sqlite3.connect(closed, isolation_level=None)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    yield conn
    conn.close()


@pytest.mark.parametrize("tampering", ["edited", "truncated tail"])
def test_verify_never_writes_to_a_log_that_is_not_intact(
    closed: Path, live: sqlite3.Connection, tmp_path: Path, clock: FixedClock, tampering: str
) -> None:
    anchor = tmp_path / "checkpoint.txt"
    with SqliteStore(str(closed), clock=clock, create=False) as store:
        anchor.write_text(store.checkpoint().serialize())
    if tampering == "edited":
        live.execute("DROP TRIGGER audit_log_no_update")
        live.execute("UPDATE audit_log SET body = replace(body, 'train 4', 'x') WHERE seq = 6")
    else:  # appending now would refill position 8, where the checkpoint expects the old record
        live.execute("DROP TRIGGER audit_log_no_delete")
        live.execute("DELETE FROM audit_log WHERE seq >= 8")
    before = files(closed)
    assert before["wal"]
    done = cockpit("audit", "verify", "--db", str(closed), "--checkpoint", str(anchor))
    assert done.returncode == 1, done.stdout + done.stderr
    assert ("record 6" if tampering == "edited" else "truncated") in done.stdout
    assert files(closed) == before  # no audit.verified appended to a log that is not intact


@pytest.mark.parametrize(("kind", "code"), [("truncated", 1), ("empty", 2)])
def test_verify_never_writes_to_a_truncated_or_empty_file(
    closed: Path, kind: str, code: int
) -> None:
    damage(closed, kind)
    before = files(closed)
    done = cockpit("audit", "verify", "--db", str(closed))
    assert done.returncode == code, done.stdout + done.stderr
    assert files(closed) == before  # an empty file is not turned into a database


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("truncated", 1),
        ("flipped", 1),
        ("not a database", 2),
        ("another database", 2),
        ("empty", 2),
        ("a directory", 2),
    ],
)
@pytest.mark.parametrize(
    "command",
    [
        ("verify",),
        ("verify", "--deep"),
        ("show",),
        ("tail",),
        ("export", "--format", "jsonl"),
        ("report", "--format", "json"),
        ("checkpoint",),
    ],
)
def test_a_damaged_file_gives_one_clear_line_and_no_traceback(
    closed: Path, kind: str, code: int, command: tuple[str, ...]
) -> None:
    damage(closed, kind)
    done = cockpit("audit", *command, "--db", str(closed))
    said = (done.stdout + done.stderr).strip()
    assert done.returncode == code, said
    assert "Traceback" not in said and len(said.splitlines()) == 1, said
    assert ("damaged" if code == 1 else "not") in said


def test_verify_runs_sqlite_s_own_integrity_check(closed: Path) -> None:
    break_page(closed, root_page(closed, "audit_log_ts"))  # an index the chain walk never reads
    done = cockpit("audit", "verify", "--db", str(closed))
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith("audit log NOT intact: the database file is damaged")


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (b'"action":"promote"', b'"action":["promote"]', "field action is not of type str"),
        (b'"ts":"2026-11-26T03:00:09.000Z"', b'"ts":"2026-11-26T03:00:09.000+00:00"', "ts"),
        (b'"ts":"2026-11-26T03:00:09.000Z"', b'"ts":"2026-11-26T03:00:69.000Z"', "ts"),
        (b'"reason":"release train 8"', b'"reason":"release train \xff"', "not a JSON object"),
    ],
)
def test_deep_verify_reports_malformed_values_as_bad_records(
    closed: Path, clock: FixedClock, old: bytes, new: bytes, problem: str
) -> None:
    original = body(closed, 10)
    assert old in original
    rewrite(closed, {10: original.replace(old, new)})
    with SqliteStore(str(closed), clock=clock, create=False, read_only=True) as store:
        result = store.verify(deep=True)
    assert (result.ok, result.first_bad_seq) == (False, 10), result.problem
    assert problem in result.problem
    shown = cockpit("audit", "show", "--db", str(closed))  # readers name it too, no traceback
    assert shown.returncode == 1 and "record 10" in shown.stderr and "Traceback" not in shown.stderr


def test_verify_checks_that_time_never_goes_back(closed: Path, clock: FixedClock) -> None:
    earlier = body(closed, 5).replace(b"03:00:04.000Z", b"03:00:02.500Z")
    rewrite(closed, {5: earlier})
    with SqliteStore(str(closed), clock=clock, create=False, read_only=True) as store:
        result = store.verify()
    assert (result.ok, result.first_bad_seq) == (False, 5), result.problem
    assert "earlier than record 4" in result.problem


def test_a_clock_that_steps_back_never_writes_an_earlier_time(
    filled: SqliteStore, clock: FixedClock
) -> None:
    head = filled.head()
    assert head is not None
    clock.advance(-3600)  # NTP stepped the clock back an hour
    record = filled.append(event(99))
    assert record.ts == head.ts
    assert filled.verify().ok


def test_insert_or_replace_cannot_rewrite_a_record_or_the_origin(
    filled: SqliteStore, db: Path
) -> None:
    conn = sqlite3.connect(db)
    seq, prev, hash_, text = conn.execute(
        "SELECT seq, prev_hash, hash, body FROM audit_log WHERE seq = 5"
    ).fetchone()
    for sql, args in [
        ("INSERT OR REPLACE INTO audit_log (seq, prev_hash, hash, body) VALUES (?, ?, ?, ?)",
         (seq, prev, hash_, text.replace("train 3", "train 9"))),
        ("REPLACE INTO audit_log (seq, prev_hash, hash, body) VALUES (?, ?, ?, ?)",
         (99, prev, b"\x07" * 32, text)),
        ("REPLACE INTO audit_meta VALUES ('origin', 'elsewhere/cockpit-audit/0')", ()),
    ]:  # fmt: skip
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(sql, args)
    conn.close()
    assert body(db, 5) == text.encode() and filled.verify().ok


def test_insert_or_replace_cannot_drop_a_record_through_its_approval_nonce(
    filled: SqliteStore, db: Path, clock: FixedClock
) -> None:
    first = filled.append(event(1, extra={"approval_nonce": "ab" * 16}))
    from cockpit.audit.records import body_of

    again = body_of(event(2, extra={"approval_nonce": "ab" * 16}), first.seq + 1, clock.now())
    conn = sqlite3.connect(db)
    with pytest.raises(sqlite3.IntegrityError, match="nonce"):
        conn.execute(
            "INSERT OR REPLACE INTO audit_log (seq, prev_hash, hash, body) VALUES (?, ?, ?, ?)",
            (first.seq + 1, bytes.fromhex(first.hash), b"\x08" * 32, again.decode()),
        )
    conn.close()
    assert filled.count() == first.seq


def _make_old(db: Path) -> None:
    """Turn a fresh log into one written before the REPLACE guard existed."""
    conn = sqlite3.connect(db)
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'audit_meta_no_delete'")
    recreate = sql.fetchone()[0]
    for name in (*REPLACE_GUARDS, "audit_meta_no_delete"):
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("DELETE FROM audit_meta WHERE key = 'replace_guard'")
    conn.execute(recreate)
    conn.commit()
    conn.close()


def test_an_older_log_gets_the_replace_guard_when_opened_for_writing(
    closed: Path, clock: FixedClock
) -> None:
    _make_old(closed)
    with SqliteStore(str(closed), clock=clock, read_only=True) as store:
        assert store.verify().ok  # an older log is not a tampered one
    with SqliteStore(str(closed), clock=clock, create=False) as store:
        store.append(event(50))
    conn = sqlite3.connect(closed)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert set(REPLACE_GUARDS) <= names
    meta = dict(conn.execute("SELECT key, value FROM audit_meta").fetchall())
    assert meta["replace_guard"] == c.utc_text(clock.now())
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("REPLACE INTO audit_meta VALUES ('origin', 'x')")
    conn.execute("DROP TRIGGER audit_log_no_replace")  # once recorded, its absence is tampering
    conn.commit()
    conn.close()
    with SqliteStore(str(closed), clock=clock, create=False) as store:
        result = store.verify()
        assert not result.ok and "audit_log_no_replace is missing" in result.problem
        with pytest.raises(AuditError, match="audit_log_no_replace"):
            store.append(event(51))
