"""The embedded audit log: one SQLite file, WAL with synchronous=FULL, append-only triggers.

Only `seq`, `prev_hash`, `hash` and the canonical `body` are stored; every other column is
generated from the body, so no column can be edited without breaking a hash.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from cockpit.audit import canonical as c
from cockpit.audit.checkpoint import Checkpoint
from cockpit.audit.events import AuditEvent, EventType
from cockpit.audit.records import AuditError, AuditRecord, VerifyResult, body_of, parse
from cockpit.audit.verify import Progress, verify_rows
from cockpit.clock import Clock

BUSY_TIMEOUT = 30.0  # seconds an append waits for another writer
NETWORK_FILESYSTEMS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "afs", "ncpfs"}
TRIGGERS = (
    "audit_log_no_update",
    "audit_log_no_delete",
    "audit_meta_no_update",
    "audit_meta_no_delete",
)
_BATCH = 500

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


def _prepare(path: str, create: bool) -> None:
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


class SqliteStore:
    """The embedded AuditStore. Thread-safe; several processes may append at once."""

    def __init__(self, path: str, *, clock: Clock, create: bool = True) -> None:
        _prepare(path, create)
        self.path = path
        self._clock = clock
        self._lock = threading.RLock()
        self._conn, self._refusal = connect(path)
        self._init_schema(create)
        self.origin = self._meta("origin")

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _init_schema(self, create: bool) -> None:
        conn = self._conn
        if self._tables() and not self._refusal:
            self._refusal = self._missing_triggers(conn)
            return
        if not self._tables() and self._refusal:
            raise AuditError(f"refusing to create the audit log: {self._refusal}")
        if not create or self._refusal:
            if not self._tables():
                raise AuditError(f"{self.path} is not a cockpit audit log")
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            if not self._tables():  # another process may have won the race
                for statement in SCHEMA.split(";\n\n"):
                    conn.execute(statement)
                host = "".join(ch for ch in socket.gethostname() if ch.isalnum() or ch in ".-")
                origin = f"{host or 'localhost'}/cockpit-audit/{uuid.uuid4().hex[:16]}"
                conn.execute("INSERT INTO audit_meta VALUES ('origin', ?)", (origin,))
                conn.execute(
                    "INSERT INTO audit_meta VALUES ('format', ?)", (str(c.FORMAT_VERSION),)
                )
                self._insert(_init_event())
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _tables(self) -> bool:
        row = self._conn.execute(
            "SELECT count(*) FROM sqlite_master"
            " WHERE type = 'table' AND name IN ('audit_log', 'audit_meta')"
        ).fetchone()
        return bool(row[0] == 2)

    @staticmethod
    def _missing_triggers(conn: sqlite3.Connection) -> str:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall()
        missing = sorted(set(TRIGGERS) - {r[0] for r in rows})
        return f"the append-only trigger {missing[0]} is missing" if missing else ""

    def _meta(self, key: str) -> str:
        row = self._conn.execute("SELECT value FROM audit_meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else ""

    def append(self, event: AuditEvent) -> AuditRecord:
        if self._refusal:
            raise AuditError(f"refusing to write the audit log: {self._refusal}")
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise AuditError(f"the audit log is busy: {exc}") from None
            try:
                record = self._insert(event)
                conn.execute("COMMIT")
            except sqlite3.IntegrityError as exc:
                conn.execute("ROLLBACK")
                if "nonce" in str(exc):
                    raise AuditError(
                        "an approval with this nonce is already logged (replay)"
                    ) from None
                raise AuditError(f"audit append refused: {exc}") from None
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return record

    def _insert(self, event: AuditEvent) -> AuditRecord:
        """Chain the event onto the head; the caller holds the write transaction."""
        row = self._conn.execute(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        seq, prev = (row[0] + 1, bytes(row[1])) if row else (1, c.GENESIS)
        body = body_of(event, seq, self._clock.now())
        hash_ = c.chain_hash(prev, body)
        self._conn.execute(
            "INSERT INTO audit_log (seq, prev_hash, hash, body) VALUES (?, ?, ?, ?)",
            (seq, prev, hash_, body.decode("utf-8")),
        )
        return parse(body, prev, hash_)

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[Any]:
        with self._lock:
            return self._conn.execute(sql, tuple(args)).fetchall()

    def head(self) -> AuditRecord | None:
        rows = self._query(
            "SELECT CAST(body AS BLOB), prev_hash, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
        )
        return parse(bytes(rows[0][0]), bytes(rows[0][1]), bytes(rows[0][2])) if rows else None

    def count(self) -> int:
        return int(self._query("SELECT count(*) FROM audit_log")[0][0])

    def nonce_used(self, nonce: str) -> bool:
        return bool(self._query("SELECT 1 FROM audit_log WHERE approval_nonce = ?", (nonce,)))

    def records(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        event_types: Iterable[EventType] | None = None,
        service: str | None = None,
        environment: str | None = None,
        newest_first: bool = False,
        limit: int | None = None,
        after_seq: int | None = None,
    ) -> Iterator[AuditRecord]:
        where, args = [], []
        for cond, value in (
            ("ts >= ?", c.utc_text(since) if since else None),
            ("ts < ?", c.utc_text(until) if until else None),
            ("service = ?", service),
            ("environment = ?", environment),
            ("seq > ?", after_seq),
        ):
            if value is not None:
                where.append(cond)
                args.append(value)
        if event_types is not None:
            types = [str(EventType(t)) for t in event_types]
            where.append(f"event_type IN ({','.join('?' * len(types))})" if types else "0")
            args.extend(types)
        order = "DESC" if newest_first else "ASC"
        cursor_cond = "seq < ?" if newest_first else "seq > ?"
        remaining = limit
        cursor: int | None = None
        # Keyset pages: no statement stays open between yields, so appends never wait on a reader.
        while remaining is None or remaining > 0:
            page = _BATCH if remaining is None else min(_BATCH, remaining)
            conds = [*where, cursor_cond] if cursor is not None else where
            sql = "SELECT seq, CAST(body AS BLOB), prev_hash, hash FROM audit_log"
            sql += (" WHERE " + " AND ".join(conds)) if conds else ""
            sql += f" ORDER BY seq {order} LIMIT {page}"
            rows = self._query(sql, [*args, cursor] if cursor is not None else args)
            for seq, body, prev, hash_ in rows:
                yield parse(bytes(body), bytes(prev), bytes(hash_))
                cursor = seq
            if remaining is not None:
                remaining -= len(rows)
            if len(rows) < page:
                return

    def verify(
        self,
        checkpoint: Checkpoint | None = None,
        progress: Progress | None = None,
        *,
        deep: bool = False,
    ) -> VerifyResult:
        """Check the whole chain from a fresh connection, inside one read snapshot."""
        if checkpoint is not None and checkpoint.origin != self.origin:
            problem = f"the checkpoint is for log {checkpoint.origin}, not {self.origin}"
            return VerifyResult(False, 0, c.GENESIS.hex(), None, problem)
        conn, _ = connect(self.path)
        try:
            conn.execute("BEGIN")
            total = conn.execute("SELECT coalesce(max(seq), 0) FROM audit_log").fetchone()[0]
            rows = conn.execute(
                "SELECT seq, prev_hash, hash, CAST(body AS BLOB) FROM audit_log ORDER BY seq"
            )
            result = verify_rows(
                rows, total=total, checkpoint=checkpoint, progress=progress, deep=deep
            )
            missing = self._missing_triggers(conn)
            conn.execute("COMMIT")
        finally:
            conn.close()
        if result.ok and missing:
            problem = f"{missing}: records could have been edited without a trace"
            return VerifyResult(False, result.count, result.head_hash, None, problem)
        return result

    def checkpoint(self) -> Checkpoint:
        rows = self._query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        size, head = (rows[0][0], bytes(rows[0][1])) if rows else (0, c.GENESIS)
        return Checkpoint(self.origin, size, head.hex(), self._clock.now())

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _init_event() -> AuditEvent:
    from cockpit import __version__
    from cockpit.identity import current_actor

    return AuditEvent(
        EventType.AUDIT_INITIALIZED, current_actor(__version__), None, "audit.init", "success"
    )
