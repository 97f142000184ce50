"""Opening the SQLite audit file safely: local disk, private modes, WAL + FULL, the schema.

Only `seq`, `prev_hash`, `hash` and the canonical `body` are stored; every other column is
generated from the body, so no column can be edited without breaking a hash. Readers (verify,
show, export) open the file read-only, after checking it is an SQLite file at all.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from cockpit.audit.records import AuditError, DamagedLog

BUSY_TIMEOUT = 30.0  # seconds an append waits for another writer
NETWORK_FILESYSTEMS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "afs", "ncpfs"}
TRIGGERS = (
    "audit_log_no_update",
    "audit_log_no_delete",
    "audit_meta_no_update",
    "audit_meta_no_delete",
)
# INSERT OR REPLACE deletes the conflicting row without firing DELETE triggers (unless
# recursive_triggers is on), and an explicit OR REPLACE overrides a column's ON CONFLICT
# ABORT; so a BEFORE INSERT trigger refuses any insert that would collide. Logs made before
# these existed get them when next opened for writing; audit_meta `replace_guard` records
# when, and from then on their absence is tampering.
REPLACE_GUARD_KEY = "replace_guard"
REPLACE_GUARDS = {
    "audit_log_no_replace": """CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
    WHEN EXISTS (SELECT 1 FROM audit_log
                 WHERE seq = NEW.seq OR prev_hash = NEW.prev_hash OR hash = NEW.hash)
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: this seq, prev_hash or hash is taken (INSERT OR REPLACE refused)'); END""",
    "audit_log_nonce_once": """CREATE TRIGGER audit_log_nonce_once BEFORE INSERT ON audit_log
    WHEN EXISTS (SELECT 1 FROM audit_log
                 WHERE approval_nonce = json_extract(NEW.body, '$.extra.approval_nonce'))
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: this approval nonce is already logged (replay)'); END""",
    "audit_meta_no_replace": """CREATE TRIGGER audit_meta_no_replace BEFORE INSERT ON audit_meta
    WHEN EXISTS (SELECT 1 FROM audit_meta WHERE key = NEW.key)
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: INSERT OR REPLACE refused'); END""",
}
SQLITE_HEADER = b"SQLite format 3\x00"
SCHEMA = """
CREATE TABLE audit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY CHECK (seq > 0),
    prev_hash BLOB NOT NULL UNIQUE CHECK (length(prev_hash) = 32),
    hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
    body TEXT NOT NULL,
    ts TEXT GENERATED ALWAYS AS (json_extract(body, '$.ts')) VIRTUAL,
    event_type TEXT GENERATED ALWAYS AS (json_extract(body, '$.event_type')) VIRTUAL,
    service TEXT GENERATED ALWAYS AS (json_extract(body, '$.target.service')) VIRTUAL,
    environment TEXT GENERATED ALWAYS AS (json_extract(body, '$.target.environment')) VIRTUAL,
    approval_nonce TEXT GENERATED ALWAYS AS (json_extract(body, '$.extra.approval_nonce')) VIRTUAL
);

CREATE INDEX audit_log_ts ON audit_log (ts);

CREATE UNIQUE INDEX audit_log_nonce ON audit_log (approval_nonce) WHERE approval_nonce IS NOT NULL;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE refused'); END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE refused'); END;

CREATE TRIGGER audit_meta_no_update BEFORE UPDATE ON audit_meta
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE refused'); END;

CREATE TRIGGER audit_meta_no_delete BEFORE DELETE ON audit_meta
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE refused'); END;
"""


def network_filesystem(path: str, mounts: str | None = None) -> str | None:
    """The filesystem type when `path` is on NFS/SMB-like storage (from /proc/mounts)."""
    if mounts is None:
        try:
            mounts = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None  # not Linux: nothing cheap to check
    real = os.path.realpath(path)
    best, kind = "", ""
    for line in mounts.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        point = parts[1].replace("\\040", " ")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, parts[2]
    return kind if kind in NETWORK_FILESYSTEMS else None


def missing_guard(conn: sqlite3.Connection) -> str:
    """Which append-only trigger is gone ('' when none): refuse to write, fail verify."""
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    wanted = set(TRIGGERS)
    if conn.execute("SELECT 1 FROM audit_meta WHERE key = ?", (REPLACE_GUARD_KEY,)).fetchone():
        wanted |= set(REPLACE_GUARDS)
    missing = sorted(wanted - names)
    return f"the append-only trigger {missing[0]} is missing" if missing else ""


def add_replace_guards(conn: sqlite3.Connection, now: str) -> None:
    """Give a log made before the REPLACE guard its triggers; the caller holds the write lock."""
    if conn.execute("SELECT 1 FROM audit_meta WHERE key = ?", (REPLACE_GUARD_KEY,)).fetchone():
        return  # another process migrated it first
    for sql in REPLACE_GUARDS.values():
        conn.execute(sql)
    conn.execute("INSERT INTO audit_meta VALUES (?, ?)", (REPLACE_GUARD_KEY, now))


def connect(path: str) -> tuple[sqlite3.Connection, str]:
    """A connection set to WAL + synchronous=FULL, and why it must not write ('' if fine)."""
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
    )
    try:
        mode = wal_mode(conn)
    except BaseException:
        conn.close()
        raise
    conn.execute("PRAGMA synchronous=FULL")
    sync = conn.execute("PRAGMA synchronous").fetchone()[0]
    if str(mode).lower() != "wal" or sync != 2:
        return conn, f"journal_mode={mode} synchronous={sync} (need wal and 2, FULL)"
    return conn, ""


def wal_mode(conn: sqlite3.Connection) -> str:
    """Switch `conn` to WAL and return the journal mode it has, waiting out other writers.

    The switch reads the header under a shared lock and then needs the exclusive one. When
    another connection holds the reserved lock meanwhile (a log being created or changed by
    another process), SQLite answers "database is locked" at once instead of calling the
    busy handler, since waiting could deadlock; the way out is to let go and ask again.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT
    pause = 0.001
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode=WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or time.monotonic() + pause > deadline:
                raise
        wait(pause)
        pause = min(pause * 2, 0.05)


def is_busy(exc: sqlite3.Error) -> bool:
    """True when SQLite said another connection holds a lock (SQLITE_BUSY and its kinds)."""
    return bool(exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY)


def wait(seconds: float) -> None:
    """The pause between two tries of a lock SQLite would not wait for (a seam for tests)."""
    time.sleep(seconds)


def connect_read_only(path: str) -> sqlite3.Connection:
    """A connection that cannot write the log, its -wal, or checkpoint on close."""
    if path == ":memory:":
        raise AuditError("an in-memory audit log cannot be opened again to be read")
    probe(path)
    uri = Path(path).absolute().as_uri() + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT, isolation_level=None)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        raise explain(exc, path) from None
    return conn


def probe(path: str) -> None:
    """Raise AuditError unless `path` looks like an intact SQLite file, without opening it.

    SQLite would turn an empty file into a new database, and any open of a log in WAL mode
    creates a -wal next to it, so an unusable or truncated file is turned away first.
    """
    file = Path(path)
    if not file.exists():
        raise AuditError(f"no audit log at {path}")
    if not file.is_file():
        raise AuditError(f"{path} is not a file, so not a cockpit audit log")
    try:
        with file.open("rb") as f:
            header = f.read(100)
        size = file.stat().st_size
        wal = Path(f"{path}-wal")
        wal_size = wal.stat().st_size if wal.exists() else 0
    except OSError as exc:
        raise AuditError(f"cannot read the audit log {path}: {exc.strerror}") from None
    if not header:
        raise AuditError(f"{path} is empty, not a cockpit audit log")
    if len(header) < 100 or not header.startswith(SQLITE_HEADER):
        raise AuditError(f"{path} is not an SQLite database, so not a cockpit audit log")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The page count is only valid when the change counter matches "version valid for"; a
    # -wal with content may legitimately hold pages the main file does not have yet.
    counted = header[24:28] == header[92:96]
    if not wal_size and counted and page_size and size < pages * page_size:
        raise DamagedLog(
            f"the audit log {path} is damaged: it has {size} bytes but its header says "
            f"{pages * page_size} (truncated)"
        )


def explain(exc: sqlite3.Error, path: str) -> AuditError:
    """The one-line error for an SQLite failure reading the log: damaged, or unusable."""
    name = getattr(exc, "sqlite_errorname", "")
    if name.startswith("SQLITE_CORRUPT"):
        return DamagedLog(f"the audit log {path} is damaged: {exc}")
    if name == "SQLITE_NOTADB":
        return AuditError(f"{path} is not an SQLite database, so not a cockpit audit log")
    return AuditError(f"cannot read the audit log {path}: {exc}")


def file_problem(conn: sqlite3.Connection, deep: bool) -> str:
    """What SQLite's own check finds wrong with the file ('' when nothing).

    quick_check reads every page, O(N), and computes every generated column to check its
    type: ~5 s for a million records, most of it json_extract. integrity_check (`deep`)
    also matches indexes to rows.
    """
    check = "integrity_check" if deep else "quick_check"
    try:
        found = [str(r[0]) for r in conn.execute(f"PRAGMA {check}(2)")]
    except sqlite3.DatabaseError as exc:
        return f"the database file is damaged: {exc}"
    if found == ["ok"]:
        return ""
    lines = [ln for r in found for ln in r.splitlines() if not ln.startswith("***")]
    return f"the database file is damaged: SQLite {check}: {lines[0] if lines else ''}"


def snapshot_key(conn: sqlite3.Connection) -> tuple[object, ...]:
    """What tells two read snapshots of a log apart; as a transaction's first read, fixes it.

    Every commit the triggers let through appends a record, adds a meta key or changes the
    schema, so two connections with the same key read the same log.
    """
    return tuple(
        conn.execute(
            "SELECT (SELECT schema_version FROM pragma_schema_version),"
            " (SELECT page_count FROM pragma_page_count),"
            " (SELECT count(*) FROM audit_meta), (SELECT max(seq) FROM audit_log),"
            " (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1)"
        ).fetchone()
    )


def prepare(path: str, create: bool) -> None:
    """Check where the log is to live; create it 0600 in a 0700 directory when asked."""
    if path == ":memory:":
        return
    file = Path(path)
    if not file.exists():
        if not create:
            raise AuditError(f"no audit log at {path}")
        file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    kind = network_filesystem(str(file.parent))
    if kind:
        raise AuditError(f"{path} is on a network filesystem ({kind}); keep the audit log local")
    if not file.exists():
        fd = os.open(file, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
        dir_fd = os.open(file.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the new directory entry must survive a crash too
        finally:
            os.close(dir_fd)


def schema_statements() -> list[str]:
    """The CREATE statements one by one (executescript would commit the open transaction)."""
    statements = [statement.strip() for statement in SCHEMA.split(";\n\n")]
    return [s for s in statements if s] + list(REPLACE_GUARDS.values())
