"""Opening the SQLite audit file safely: local disk, private modes, WAL + FULL, the schema.

Only `seq`, `prev_hash`, `hash` and the canonical `body` are stored; every other column is
generated from the body, so no column can be edited without breaking a hash.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from cockpit.audit.records import AuditError

BUSY_TIMEOUT = 30.0  # seconds an append waits for another writer
NETWORK_FILESYSTEMS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "afs", "ncpfs"}
TRIGGERS = (
    "audit_log_no_update",
    "audit_log_no_delete",
    "audit_meta_no_update",
    "audit_meta_no_delete",
)
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


def connect(path: str) -> tuple[sqlite3.Connection, str]:
    """A connection set to WAL + synchronous=FULL, and why it must not write ('' if fine)."""
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
    )
    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    conn.execute("PRAGMA synchronous=FULL")
    sync = conn.execute("PRAGMA synchronous").fetchone()[0]
    if str(mode).lower() != "wal" or sync != 2:
        return conn, f"journal_mode={mode} synchronous={sync} (need wal and 2, FULL)"
    return conn, ""


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
    return [statement.strip() for statement in SCHEMA.split(";\n\n") if statement.strip()]
