"""The embedded audit log: one SQLite file, WAL with synchronous=FULL, append-only triggers.

Appends take the write lock up front (BEGIN IMMEDIATE), chain onto the head they read
inside it, and return only after the commit is synced, so several processes can append.
Verification always reads through a read-only connection, so it never changes the file.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from cockpit.audit import canonical as c
from cockpit.audit.checkpoint import Checkpoint
from cockpit.audit.events import AuditEvent, EventType
from cockpit.audit.records import (
    AuditError,
    AuditRecord,
    VerifyResult,
    body_of,
    parse,
)
from cockpit.audit.sealed import drop_prefix, live_start
from cockpit.audit.sqlite_file import (
    REPLACE_GUARD_KEY,
    add_replace_guards,
    connect,
    connect_read_only,
    explain,
    file_problem,
    missing_guard,
    prepare,
    probe,
    schema_statements,
    snapshot_key,
)
from cockpit.audit.stored import failed as _failed
from cockpit.audit.stored import init_event as _init_event
from cockpit.audit.stored import keyset_pages
from cockpit.audit.stored import record_of as _record
from cockpit.audit.verify import Progress, ts_of, verify_rows
from cockpit.clock import Clock


class SqliteStore:
    """The embedded AuditStore. Thread-safe; several processes may append at once."""

    def __init__(
        self, path: str, *, clock: Clock, create: bool = True, read_only: bool = False
    ) -> None:
        """`read_only` opens an existing log for reading (verify, show, export) only."""
        self.path = path
        self._clock = clock
        self._lock = threading.RLock()
        if read_only:
            self._conn, self._refusal = connect_read_only(path), "it was opened read-only"
        else:
            prepare(path, create)
            if not create:
                probe(path)
            try:
                self._conn, self._refusal = connect(path)
            except sqlite3.Error as exc:
                raise explain(exc, path) from None
        try:
            if not read_only:
                self._init_schema(create)
            elif not self._tables():
                raise AuditError(f"{path} is not a cockpit audit log")
            self.origin = self._meta("origin")
        except (sqlite3.Error, AuditError) as exc:
            self._conn.close()
            if isinstance(exc, AuditError):
                raise
            raise explain(exc, path) from None

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _init_schema(self, create: bool) -> None:
        conn = self._conn
        if self._tables() and not self._refusal:
            self._refusal = missing_guard(conn)
            if not self._refusal and not self._meta(REPLACE_GUARD_KEY):
                self._migrate()
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
                for statement in schema_statements():
                    conn.execute(statement)
                host = "".join(ch for ch in socket.gethostname() if ch.isalnum() or ch in ".-")
                origin = f"{host or 'localhost'}/cockpit-audit/{uuid.uuid4().hex[:16]}"
                conn.execute("INSERT INTO audit_meta VALUES ('origin', ?)", (origin,))
                conn.execute(
                    "INSERT INTO audit_meta VALUES ('format', ?)", (str(c.FORMAT_VERSION),)
                )
                conn.execute(
                    "INSERT INTO audit_meta VALUES (?, ?)",
                    (REPLACE_GUARD_KEY, c.utc_text(self._clock.now())),
                )
                self._insert(_init_event())
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _migrate(self) -> None:
        """Add the REPLACE guard to a log made before it existed (recorded in audit_meta)."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            add_replace_guards(conn, c.utc_text(self._clock.now()))
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

    def drop_sealed(self, through: int, head_hash: str, seal: AuditEvent) -> AuditRecord:
        """Append the `seal` record and delete records up to `through` in one transaction.

        Refused unless record `through` is still there with `head_hash`: what was sealed
        (and verified) is exactly what leaves the live log."""
        if self._refusal:
            raise AuditError(f"refusing to write the audit log: {self._refusal}")
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                record = self._insert(seal)
                drop_prefix(self._conn, through, head_hash)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return record

    def _insert(self, event: AuditEvent) -> AuditRecord:
        """Chain the event onto the head; the caller holds the write transaction."""
        row = self._conn.execute(
            "SELECT seq, hash, CAST(body AS BLOB) FROM audit_log ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        seq, prev = (row[0] + 1, bytes(row[1])) if row else (1, c.GENESIS)
        now, last = self._clock.now(), ts_of(bytes(row[2])).decode() if row else ""
        if last and c.utc_text(now) < last:  # the clock stepped back: time in the log never does
            now = c.parse_utc(last)
        body = body_of(event, seq, now)
        hash_ = c.chain_hash(prev, body)
        self._conn.execute(
            "INSERT INTO audit_log (seq, prev_hash, hash, body) VALUES (?, ?, ?, ?)",
            (seq, prev, hash_, body.decode("utf-8")),
        )
        return parse(body, prev, hash_)

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._conn.execute(sql, tuple(args)).fetchall()
            except sqlite3.Error as exc:
                raise explain(exc, self.path) from None

    def head(self) -> AuditRecord | None:
        rows = self._query(f"{_RECORD} ORDER BY seq DESC LIMIT 1")
        return _record(*rows[0]) if rows else None

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
        span = [
            (cond, c.utc_text(t))
            for cond, t in (("ts >= ?", since), ("ts < ?", until))
            if t is not None
        ]
        where = [cond for cond, _ in span]
        args: list[object] = [text for _, text in span]
        for cond, value in (("service = ?", service), ("environment = ?", environment)):
            if value is not None:
                where.append(cond)
                args.append(value)
        after = after_seq
        if span:
            bounds = self._seq_range(span)
            if bounds is None:
                return
            after = max(after or 0, bounds[0] - 1)
            if until is not None:
                where.append("seq <= ?")
                args.append(bounds[1])
        if event_types is not None:
            types = [str(EventType(t)) for t in event_types]
            where.append(f"event_type IN ({','.join('?' * len(types))})" if types else "0")
            args.extend(types)
        order = "DESC" if newest_first else "ASC"
        cursor_cond = "seq < ?" if newest_first else "seq > ?"
        cursor: int | None = None
        # Oldest first, the lower bound is where the cursor starts: SQLite seeks on one
        # lower bound of seq and checks any other row by row from there, on every page.
        if after is not None and newest_first:
            where.append("seq > ?")
            args.append(after)
        elif after is not None:
            cursor = after
        yield from keyset_pages(
            self._query,
            _RECORD,
            where,
            args,
            cursor_cond=cursor_cond,
            order=order,
            limit=limit,
            cursor=cursor,
        )

    def _seq_range(self, span: list[tuple[str, str]]) -> tuple[int, int] | None:
        """The smallest and largest seq of the records in a time span, None when it is empty.

        Pages walk seq order, so SQLite would otherwise read the ts out of every body before
        (or after) the span to find it: a 15-minute timeline at the end of 200,000 records
        read them all twice: 0.77 s, 0.10 s now. The ts index answers without a body. The
        extremes of seq, not the first and last by time: exact even where a time went back.
        +seq: a bare min(seq) takes SQLite's rowid shortcut, which reads from record 1.
        """
        where = " AND ".join(cond for cond, _ in span)
        sql = f"SELECT min(+seq), max(+seq) FROM audit_log WHERE {where}"
        first, last = self._query(sql, [text for _, text in span])[0]
        return None if first is None else (first, last)

    def verify(
        self,
        checkpoint: Checkpoint | None = None,
        progress: Progress | None = None,
        *,
        deep: bool = False,
    ) -> VerifyResult:
        """Check the file (SQLite's own check; all of it when `deep`) and the whole chain in
        one read snapshot, from fresh read-only connections; the file's check counts first."""
        if checkpoint is not None and checkpoint.origin != self.origin:
            return _failed(f"the checkpoint is for log {checkpoint.origin}, not {self.origin}")
        conn = connect_read_only(self.path)
        try:
            conn.execute("BEGIN")
            try:
                key = snapshot_key(conn)
            except sqlite3.DatabaseError as exc:
                return _failed(file_problem(conn, deep) or f"the database file is damaged: {exc}")
            # SQLite's check runs in C without the GIL: beside the walk, on another core, the
            # two take the longer of their times, not the sum (a million records: 5 s + 4 s).
            with ThreadPoolExecutor(1, thread_name_prefix="audit-file-check") as pool:
                beside = pool.submit(_file_problem_beside, self.path, key, deep)
                result = _walk(conn, checkpoint, progress, deep)
                problem = beside.result()
            if problem is None:  # the check could not read this snapshot: run it here
                problem = file_problem(conn, deep)
        finally:
            conn.close()
        return _failed(problem) if problem else result

    def checkpoint(self) -> Checkpoint:
        rows = self._query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        size, head = (rows[0][0], bytes(rows[0][1])) if rows else (0, c.GENESIS)
        return Checkpoint(self.origin, size, head.hex(), self._clock.now())

    def close(self) -> None:
        with self._lock:
            self._conn.close()


_RECORD = (
    "SELECT seq, CAST(body AS BLOB), CAST(prev_hash AS BLOB), CAST(hash AS BLOB) FROM audit_log"
)


def _walk(
    conn: sqlite3.Connection, checkpoint: Checkpoint | None, progress: Progress | None, deep: bool
) -> VerifyResult:
    """The chain and the append-only triggers, as `conn`'s read snapshot has them."""
    try:
        total = conn.execute("SELECT coalesce(max(seq), 0) FROM audit_log").fetchone()[0]
        start, sealed_problem = live_start(conn, checkpoint)
        if sealed_problem:
            return VerifyResult(False, start[0] - 1, start[1].hex(), start[0], sealed_problem)
        rows = conn.execute(
            "SELECT seq, prev_hash, hash, CAST(body AS BLOB) FROM audit_log ORDER BY seq"
        )
        result = verify_rows(
            rows, total=total, checkpoint=checkpoint, progress=progress, deep=deep, start=start
        )
        missing = missing_guard(conn)
    except sqlite3.DatabaseError as exc:
        return _failed(f"the database file is damaged: {exc}")
    if result.ok and missing:
        problem = f"{missing}: records could have been edited without a trace"
        return VerifyResult(False, result.count, result.head_hash, None, problem)
    return result


def _file_problem_beside(path: str, key: tuple[object, ...], deep: bool) -> str | None:
    """`file_problem` on a connection of its own; None unless it reads `key`'s snapshot."""
    try:
        conn = connect_read_only(path)
    except AuditError:
        return None
    try:
        conn.execute("BEGIN")
        # An append between the two snapshots: the caller checks its own instead.
        return file_problem(conn, deep) if snapshot_key(conn) == key else None
    except sqlite3.Error:
        return None
    finally:
        conn.close()
