"""The team audit log: the same records and hash chain as SQLite, in PostgreSQL.

It runs on the Journal's thread with a synchronous connection, as the SQLite store does.
An append is one transaction: take the append lock (`pg_advisory_xact_lock`, so appends
from every host queue up), read the head, insert the chained record and NOTIFY
`cockpit_audit`; it returns once the commit is durable (synchronous_commit never off). The
record bytes, the chain and its verification are those of `cockpit.audit.records`,
`canonical` and `verify`: only where the rows live differs.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cockpit.audit import canonical as c
from cockpit.audit import postgres_schema as ps
from cockpit.audit.checkpoint import Checkpoint
from cockpit.audit.events import AuditEvent, EventType
from cockpit.audit.records import AuditError, AuditRecord, VerifyResult, body_at, parse, prepared
from cockpit.audit.stored import failed, init_event, keyset_pages, record_of
from cockpit.audit.verify import Progress, Row, verify_rows
from cockpit.clock import Clock
from cockpit.team import connect as tc
from cockpit.team.store_config import StoreConfig

if TYPE_CHECKING:
    import psycopg

COPY_PROGRESS_EVERY = 50_000
VERIFY_BATCH = 20_000  # rows per chunk verify decodes at once
_RECORD = f"SELECT seq, body, prev_hash, hash FROM {ps.LOG}"
_VERIFY = f"SELECT seq, prev_hash, hash, body FROM {ps.LOG} ORDER BY seq"
_HEAD = f"SELECT seq, hash, ts FROM {ps.LOG} ORDER BY seq DESC LIMIT 1"
_INSERT = f"INSERT INTO {ps.LOG} (seq, prev_hash, hash, body) VALUES (%s, %s, %s, %s)"


class PostgresStore:
    """The team AuditStore. Thread-safe; any number of hosts and processes may append."""

    def __init__(
        self, store: StoreConfig, *, clock: Clock, create: bool = True, read_only: bool = False
    ) -> None:
        """`create` appends the first record (audit.init) to an empty log; the tables
        themselves come from `cockpit store init`, run by the database's owner."""
        self.config = store
        self.path = f"postgresql://{store.where()}"  # for messages: no user, no password
        self._clock = clock
        self._read_only = read_only
        self._lock = threading.RLock()
        self._conn = self._connect()
        try:
            self._check_tables()
            self.origin = self._meta(ps.META_ORIGIN)
            self._refusal = "it was opened read-only" if read_only else ""
            if not read_only:
                self._refusal = self._run(ps.missing_guard)
                if create and not self._refusal and self.head() is None:
                    self._append(init_event(), only_if_empty=True)
        except BaseException:
            self._conn.close()
            raise

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self) -> psycopg.Connection[Any]:
        from psycopg.types.string import ByteaBinaryLoader

        conn = tc.connect(self.config, autocommit=True)
        try:
            # Text columns in binary results come back as their UTF-8 bytes: the body the
            # hash covers, as stored, without a decode and encode per record.
            conn.adapters.register_loader("text", ByteaBinaryLoader)
            # Durable on commit: a server default of `off` is raised to `on` for this session;
            # `remote_apply` and the like (synchronous standbys) are left as they are.
            conn.execute(
                "SELECT set_config('synchronous_commit', 'on', false)"
                " WHERE current_setting('synchronous_commit') = 'off'"
            )
            if self._read_only:
                conn.read_only = True
        except Exception as exc:
            conn.close()
            raise self._failure(exc, "set up the connection to") from None
        return conn

    def _failure(self, exc: BaseException, doing: str) -> AuditError:
        return tc.failure(self.config, exc, doing)

    def _run(self, fn: Any, doing: str = "read") -> Any:
        """`fn(conn)` under the lock; a broken connection is made again on the next call."""
        import psycopg

        with self._lock:
            if self._conn.closed:
                self._conn = self._connect()
            try:
                return fn(self._conn)
            except psycopg.Error as exc:
                raise self._failure(exc, doing) from None

    def _check_tables(self) -> None:
        def check(conn: Any) -> None:
            row = conn.execute(
                "SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL,"
                " current_setting('server_encoding')",
                (ps.LOG, ps.META),
            ).fetchone()
            if not row[0]:
                raise AuditError(
                    f"the team store {self.config.where()} has no audit log: "
                    "run `cockpit store init` (as the database's owner) first"
                )
            if str(row[1]).upper() not in ("UTF8", "UTF-8"):
                raise AuditError(
                    f"the team store {self.config.where()} is encoded {row[1]}, not UTF8: "
                    "records would not be stored byte for byte"
                )

        self._run(check)

    def _meta(self, key: str) -> str:
        rows = self._query(f"SELECT value FROM {ps.META} WHERE key = %s", (key,))
        return (
            str(rows[0][0].decode() if isinstance(rows[0][0], bytes) else rows[0][0])
            if rows
            else ""
        )

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[Any]:
        return list(self._run(lambda conn: conn.execute(sql, tuple(args), binary=True).fetchall()))

    def append(self, event: AuditEvent) -> AuditRecord:
        if self._refusal:
            raise AuditError(f"refusing to write the audit log: {self._refusal}")
        record = self._append(event)
        assert record is not None
        return record

    def _append(self, event: AuditEvent, *, only_if_empty: bool = False) -> AuditRecord | None:
        """One transaction in two round trips, each a pipeline: BEGIN, the append lock and
        the head; then the insert, the NOTIFY and COMMIT. Other writers wait for the lock
        for as long as it is held, so it is held for one round trip and the commit, and
        only the record's place (seq, ts, hash) is worked out under it: the rest of the
        body is made before, the returned record read back after."""
        fields = prepared(event)

        def run(conn: psycopg.Connection[Any]) -> AuditRecord | None:
            try:
                with conn.pipeline() as pipeline:
                    conn.execute("BEGIN")
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (ps.APPEND_LOCK,))
                    cur = conn.execute(_HEAD, binary=True)
                    pipeline.sync()
                    head = cur.fetchone()
                    if only_if_empty and head is not None:
                        conn.execute("ROLLBACK")
                        return None  # another cockpit wrote the first record meanwhile
                    seq, prev, body, hash_ = self._place(fields, head)
                    conn.execute(_INSERT, (seq, prev, hash_, body.decode("utf-8")))
                    conn.execute("SELECT pg_notify(%s, %s)", (ps.CHANNEL, _payload(seq, fields)))
                    conn.execute("COMMIT")
            except BaseException:
                _roll_back(conn)
                raise
            return parse(body, prev, hash_)

        try:
            return self._run(run, "write to")
        except AuditError as exc:
            if "audit_log_nonce" in str(exc):
                raise AuditError("an approval with this nonce is already logged (replay)") from None
            raise

    def _place(self, fields: dict[str, Any], head: Any) -> tuple[int, bytes, bytes, bytes]:
        """seq, prev_hash, body and hash of the record after `head` (under the append lock)."""
        seq, prev = (head[0] + 1, bytes(head[1])) if head else (1, c.GENESIS)
        now, last = self._clock.now(), bytes(head[2]).decode() if head else ""
        if last and c.utc_text(now) < last:  # the clock stepped back: time in the log never does
            now = c.parse_utc(last)
        body = body_at(fields, seq, now)
        return seq, prev, body, c.chain_hash(prev, body)

    def bulk_load(self, rows: Iterable[Row], progress: Progress | None = None) -> int:
        """Load a whole log's rows (seq, prev_hash, hash, body) as they are, in one
        transaction under the append lock; refused unless this log is empty. The rows are
        not checked here: verify afterwards (`cockpit audit copy` does)."""
        if self._refusal:
            raise AuditError(f"refusing to write the audit log: {self._refusal}")

        def run(conn: psycopg.Connection[Any]) -> int:
            count, last = 0, None
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (ps.APPEND_LOCK,))
                if conn.execute(f"SELECT 1 FROM {ps.LOG} LIMIT 1").fetchone():
                    raise AuditError(
                        f"the team store {self.config.where()} already holds records: "
                        "a log is copied only into an empty one"
                    )
                sql = f"COPY {ps.LOG} (seq, prev_hash, hash, body) FROM STDIN (FORMAT BINARY)"
                with conn.cursor().copy(sql) as copy:
                    copy.set_types(["int8", "bytea", "bytea", "text"])
                    for seq, prev_hash, hash_, body in rows:
                        copy.write_row((seq, prev_hash, hash_, body.decode("utf-8")))
                        count, last = count + 1, seq
                        if progress is not None and count % COPY_PROGRESS_EVERY == 0:
                            progress(count, 0)
                if last is not None:
                    payload = json.dumps({"seq": last, "event_type": "", "request_id": ""})
                    conn.execute("SELECT pg_notify(%s, %s)", (ps.CHANNEL, payload))
            return count

        return int(self._run(run, "copy into"))

    def head(self) -> AuditRecord | None:
        rows = self._query(f"{_RECORD} ORDER BY seq DESC LIMIT 1")
        return record_of(*rows[0]) if rows else None

    def count(self) -> int:
        return int(self._query(f"SELECT count(*) FROM {ps.LOG}")[0][0])

    def nonce_used(self, nonce: str) -> bool:
        return bool(self._query(f"SELECT 1 FROM {ps.LOG} WHERE approval_nonce = %s", (nonce,)))

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
        where: list[str] = []
        args: list[object] = []
        for cond, value in (
            ("ts >= %s", c.utc_text(since) if since is not None else None),
            ("ts < %s", c.utc_text(until) if until is not None else None),
            ("service = %s", service),
            ("environment = %s", environment),
        ):
            if value is not None:
                where.append(cond)
                args.append(value)
        if event_types is not None:
            where.append("event_type = ANY(%s)")
            args.append([str(EventType(t)) for t in event_types])
        if after_seq is not None:
            where.append("seq > %s")
            args.append(after_seq)
        order, cursor_cond = ("DESC", "seq < %s") if newest_first else ("ASC", "seq > %s")
        yield from keyset_pages(
            self._query, _RECORD, where, args, cursor_cond=cursor_cond, order=order, limit=limit
        )

    def verify(
        self,
        checkpoint: Checkpoint | None = None,
        progress: Progress | None = None,
        *,
        deep: bool = False,
    ) -> VerifyResult:
        """The whole chain in one read snapshot (REPEATABLE READ), streamed in binary chunks;
        the append-only triggers must be there and enabled."""
        if checkpoint is not None and checkpoint.origin != self.origin:
            return failed(f"the checkpoint is for log {checkpoint.origin}, not {self.origin}")

        def walk(conn: psycopg.Connection[Any]) -> VerifyResult:
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                total = conn.execute(f"SELECT coalesce(max(seq), 0) FROM {ps.LOG}").fetchone()
                missing = ps.missing_guard(conn)
                with conn.cursor(binary=True) as cur:
                    # Streamed in chunks (libpq's chunked rows): the server keeps sending
                    # while the chain is checked, where a server-side cursor's FETCH waits
                    # for each batch to be asked for (1M records: ~7 s instead of ~10 s).
                    rows = cur.stream(_VERIFY, binary=True, size=VERIFY_BATCH)
                    try:
                        result = verify_rows(
                            rows,
                            total=int(total[0]) if total else 0,
                            checkpoint=checkpoint,
                            progress=progress,
                            deep=deep,
                        )
                    finally:
                        getattr(rows, "close", lambda: None)()  # ended early: cancel the rest
            if result.ok and missing:
                problem = f"{missing}: records could have been edited without a trace"
                return VerifyResult(False, result.count, result.head_hash, None, problem)
            return result

        return self._run(walk)

    def checkpoint(self) -> Checkpoint:
        rows = self._query(f"SELECT seq, hash FROM {ps.LOG} ORDER BY seq DESC LIMIT 1")
        size, head = (rows[0][0], bytes(rows[0][1])) if rows else (0, c.GENESIS)
        return Checkpoint(self.origin, size, head.hex(), self._clock.now())

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _payload(seq: int, fields: dict[str, Any]) -> str:
    """The NOTIFY payload: {"seq", "event_type", "request_id"} (no names, no reasons)."""
    data = {"seq": seq, "event_type": fields["event_type"], "request_id": fields["request_id"]}
    return json.dumps(data, sort_keys=True)


def _roll_back(conn: Any) -> None:
    """End a failed append's transaction, so the connection can be used again."""
    from psycopg import pq

    if not conn.closed and conn.info.transaction_status != pq.TransactionStatus.IDLE:
        try:
            conn.execute("ROLLBACK")
        except Exception:
            conn.close()
