"""`cockpit store init`: create the team store's roles, schema and tables, idempotently.

Everything runs in one transaction under an advisory lock, so two inits at once, or an
init run again after an upgrade, leave one consistent store. The GRANTs and REVOKEs that
ran are returned, and the privileges the database then holds on the `cockpit` schema,
so the owner sees exactly who may do what.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from cockpit.audit import canonical as c
from cockpit.audit import postgres_schema as ps
from cockpit.team import connect as tc
from cockpit.team import schema
from cockpit.team.store_config import StoreConfig

INIT_LOCK = int.from_bytes(b"ckpt-ini", "big")
_GRANTS = re.compile(r"^\s*(GRANT|REVOKE)\b", re.IGNORECASE)


@dataclass
class InitReport:
    """What `store init` did: the statements' parts, the GRANT/REVOKEs and the privileges."""

    parts: list[str] = field(default_factory=list)
    grants: list[str] = field(default_factory=list)
    privileges: list[tuple[str, str, str]] = field(default_factory=list)  # grantee, table, privs
    records: int = 0


def plan() -> list[tuple[str, str]]:
    """(part, statement) as `store init` would run them (for --print-only)."""
    return schema.statements()


def init(store: StoreConfig) -> InitReport:
    """Apply the whole schema to `store` as the connecting role (the database's owner)."""
    import psycopg

    report = InitReport()
    conn = tc.connect(store, autocommit=True)
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (INIT_LOCK,))
            for part, statement in plan():
                if part not in report.parts:
                    report.parts.append(part)
                conn.execute(statement)
                if _GRANTS.match(statement):
                    report.grants.append(statement)
            origin = f"{store.where()}/cockpit-audit/{uuid.uuid4().hex[:16]}"
            for key, value in ((ps.META_ORIGIN, origin), (ps.META_FORMAT, str(c.FORMAT_VERSION))):
                conn.execute(
                    f"INSERT INTO {ps.META} (key, value) VALUES (%s, %s)"
                    " ON CONFLICT (key) DO NOTHING",
                    (key, value),
                )
        report.privileges = _privileges(conn)
        row = conn.execute(f"SELECT count(*) FROM {ps.LOG}").fetchone()
        report.records = int(row[0]) if row else 0
    except psycopg.Error as exc:
        raise tc.failure(store, exc, "initialise") from None
    finally:
        conn.close()
    return report


def _privileges(conn: Any) -> list[tuple[str, str, str]]:
    rows = conn.execute(
        "SELECT grantee, table_name, string_agg(privilege_type, ', ' ORDER BY privilege_type)"
        " FROM information_schema.table_privileges WHERE table_schema = %s"
        " AND grantee = ANY(%s) GROUP BY grantee, table_name ORDER BY 1, 2",
        (schema.SCHEMA, list(schema.ROLES)),
    ).fetchall()
    return [(str(g), f"{schema.SCHEMA}.{t}", str(p)) for g, t, p in rows]
