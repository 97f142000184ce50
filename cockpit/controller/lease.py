"""Which controller leads: a session-level advisory lock, and the lease row everyone can read.

Exactly one controller per team store runs the hub, the judge, the gates and automatic
actions: the one whose dedicated connection holds `pg_try_advisory_lock(LOCK_KEY)`. The
lock belongs to that server session, so it goes when the session goes: a leader killed
with SIGKILL has its socket closed by the kernel and the server drops the lock at once; a
leader whose host vanished is found dead by TCP keepalives and `tcp_user_timeout`, set on
both ends of the connection (`dead_peer`). A standby asks again every `retry` seconds.

The leader also writes `cockpit.controller_lease` (host, pid, since, heartbeat): the lock
says who leads to the server, the row says it to people (the TUI's top bar, `/healthz`).
Ages are measured by the server's clock, so hosts with skewed clocks agree on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cockpit.backoff import Backoff

if TYPE_CHECKING:
    import psycopg

    from cockpit.controller.config import ControllerConfig
    from cockpit.team.store_config import StoreConfig

SCHEMA = "cockpit"
LEASE = f"{SCHEMA}.controller_lease"
CONTROLLER_ROLE = "cockpit_controller"
WRITER = "cockpit_writer"
# The session lock's key: b"ckpt-ctl" as a big-endian int64 (the audit append's is "ckpt-aud").
LOCK_KEY = int.from_bytes(b"ckpt-ctl", "big")


def ddl() -> list[str]:
    """The lease table and its grants; idempotent (collected by `cockpit store init`).

    One row at most (id = 1): there is one leader. Operators' roles read it; only the
    controller's role writes it. The lock itself needs no grant.
    """
    return [
        f"""CREATE TABLE IF NOT EXISTS {LEASE} (
    id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    host text NOT NULL,
    pid integer NOT NULL,
    version text NOT NULL DEFAULT '',
    since timestamptz NOT NULL,
    heartbeat timestamptz NOT NULL,
    ended timestamptz
)""",
        f"REVOKE ALL ON {LEASE} FROM PUBLIC",
        f"GRANT SELECT ON {LEASE} TO {WRITER}",
        f"GRANT SELECT, INSERT, UPDATE ON {LEASE} TO {CONTROLLER_ROLE}",
    ]


@dataclass(frozen=True)
class LeaseInfo:
    """The lease row as read, with its heartbeat's age by the server's clock."""

    host: str
    pid: int
    version: str
    since: datetime
    heartbeat: datetime
    ended: datetime | None
    age: float  # seconds since the heartbeat

    def live(self, stale_after: float) -> bool:
        """Does a controller lead now: not stopped, and heard from within `stale_after`?"""
        return self.ended is None and self.age <= stale_after

    def to_data(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "pid": self.pid,
            "version": self.version,
            "since": self.since.isoformat(),
            "heartbeat": self.heartbeat.isoformat(),
            "ended": self.ended.isoformat() if self.ended else None,
        }


_READ = (
    f"SELECT host, pid, version, since, heartbeat, ended,"
    f" extract(epoch FROM clock_timestamp() - heartbeat)::float8 FROM {LEASE} WHERE id = 1"
)


def _info(row: Any) -> LeaseInfo | None:
    if row is None:
        return None
    host, pid, version, since, heartbeat, ended, age = row
    return LeaseInfo(str(host), int(pid), str(version), since, heartbeat, ended, float(age))


def read_lease(conn: psycopg.Connection[Any]) -> LeaseInfo | None:
    """The lease (None when no controller ever led, or the store has no lease table)."""
    import psycopg

    try:
        with conn.transaction():
            return _info(conn.execute(_READ).fetchone())
    except psycopg.errors.UndefinedTable:
        return None


def keepalive_options(dead_peer: float) -> dict[str, Any]:
    """libpq options so this end finds a silent server dead within about `dead_peer` s."""
    idle = max(1, math.ceil(dead_peer / 2))
    return {
        "keepalives": 1,
        "keepalives_idle": idle,
        "keepalives_interval": max(1, math.ceil(dead_peer / 6)),
        "keepalives_count": 3,
        "tcp_user_timeout": int(dead_peer * 1000),
    }


def server_keepalive_statements(dead_peer: float) -> list[str]:
    """The same on the server's end of the session, so it drops a dead leader's lock."""
    opts = keepalive_options(dead_peer)
    return [
        f"SET tcp_keepalives_idle = {opts['keepalives_idle']}",
        f"SET tcp_keepalives_interval = {opts['keepalives_interval']}",
        f"SET tcp_keepalives_count = {opts['keepalives_count']}",
        f"SET tcp_user_timeout = {opts['tcp_user_timeout']}",
    ]


class LeaseLost(Exception):
    """The leader's session (and with it the lock) is gone, or another wrote the lease."""


class Claim:
    """One controller's claim on leadership, over one dedicated autocommit connection.

    `acquire()` returns once this process holds the lock (retrying every `retry` seconds,
    backing off while the store cannot be reached); `beat()` renews the heartbeat and raises
    LeaseLost when leadership is gone; `release()` ends it (the lease marked ended, the
    lock and connection let go) so a standby takes over at its next try.
    """

    def __init__(
        self,
        store: StoreConfig,
        cfg: ControllerConfig,
        *,
        host: str,
        pid: int,
        version: str,
        conninfo: str | None = None,  # tests: a plain URL instead of `store:`
    ) -> None:
        self.store, self.cfg = store, cfg
        self.host, self.pid, self.version = host, pid, version
        self._conninfo = conninfo
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self.previous: LeaseInfo | None = None  # the lease found when this claim won
        self.seen: LeaseInfo | None = None  # the lease as a standby last read it
        self.error = ""  # why the store cannot be reached now, for /healthz ("" when fine)

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        import psycopg

        from cockpit.team.connect import connect_url, failure

        conninfo = self._conninfo or connect_url(self.store)
        timeout = max(2, math.ceil(float(self.store.connect_timeout)))
        try:
            conn = await psycopg.AsyncConnection.connect(
                conninfo,
                autocommit=True,
                connect_timeout=timeout,
                application_name="cockpit-controller",
                **keepalive_options(self.cfg.dead_peer),
            )
        except psycopg.Error as exc:
            raise failure(self.store, exc) from None
        for statement in server_keepalive_statements(self.cfg.dead_peer):
            await conn.execute(statement)
        return conn

    async def try_once(self) -> bool:
        """One attempt: True when this process now holds the lock (and wrote the lease)."""
        if self._conn is None or self._conn.closed:
            self._conn = await self._connect()
        async with asyncio.timeout(self.cfg.dead_peer):
            cur = await self._conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,))
            row = await cur.fetchone()
            if not (row and row[0]):
                self.seen = _info(await (await self._conn.execute(_READ)).fetchone())
                return False
            async with self._conn.transaction():
                self.previous = _info(await (await self._conn.execute(_READ)).fetchone())
                await self._conn.execute(
                    f"INSERT INTO {LEASE} (id, host, pid, version, since, heartbeat, ended)"
                    " VALUES (1, %s, %s, %s, now(), now(), NULL) ON CONFLICT (id) DO UPDATE"
                    " SET host = excluded.host, pid = excluded.pid, version = excluded.version,"
                    " since = excluded.since, heartbeat = excluded.heartbeat, ended = NULL",
                    (self.host, self.pid, self.version),
                )
        return True

    async def acquire(self) -> LeaseInfo | None:
        """Wait until this process leads; returns the lease it took over (None: the first)."""
        backoff = Backoff(self.cfg.retry, cap=max(4 * self.cfg.retry, 10.0))
        while True:
            try:
                if await self.try_once():
                    self.error = ""
                    return self.previous
                self.error = ""
                backoff.succeeded()
                wait = float(self.cfg.retry)  # the store answers, the lock is busy: ask again
            except Exception as exc:  # the store is down or refused us: back off, retry
                self.error = _why(exc)
                await self._drop()
                wait = backoff.failed()
            await asyncio.sleep(wait)

    async def beat(self) -> None:
        """Renew the heartbeat; LeaseLost when the session or the lease is not ours now."""
        conn = self._conn
        if conn is None or conn.closed:
            raise LeaseLost("the leader's connection is closed")
        try:
            async with asyncio.timeout(self.cfg.dead_peer):
                cur = await conn.execute(
                    f"UPDATE {LEASE} SET heartbeat = now() WHERE id = 1 AND host = %s"
                    " AND pid = %s AND ended IS NULL",
                    (self.host, self.pid),
                )
        except Exception as exc:
            await self._drop()
            raise LeaseLost(_why(exc)) from None
        if cur.rowcount != 1:
            await self._drop()
            raise LeaseLost("the lease names another controller")

    async def read(self) -> LeaseInfo | None:
        """The lease row, over this claim's connection."""
        if self._conn is None or self._conn.closed:
            return None
        cur = await self._conn.execute(_READ)
        return _info(await cur.fetchone())

    async def release(self) -> None:
        """Step down: mark the lease ended, let the lock go, close the connection."""
        conn = self._conn
        if conn is not None and not conn.closed:
            # Closing the session lets the lock go all the same when these fail.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await conn.execute(
                        f"UPDATE {LEASE} SET ended = now() WHERE id = 1 AND host = %s"
                        " AND pid = %s AND ended IS NULL",
                        (self.host, self.pid),
                    )
                    await conn.execute("SELECT pg_advisory_unlock_all()")
        await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # already broken: nothing left to close
                await conn.close()


def _why(exc: BaseException) -> str:
    from cockpit.team.connect import scrub

    if isinstance(exc, TimeoutError):
        return "the team store did not answer in time"
    return scrub(str(exc)) or type(exc).__name__
