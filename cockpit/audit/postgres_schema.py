"""The audit log's tables in the team store (PostgreSQL): DDL, grants and the append-only walls.

Same columns as the SQLite log: only `seq`, `prev_hash`, `hash` and the canonical `body`
are written; every other column is set from the body by a trigger on insert (and no row
is ever updated), so none can differ from what the hash covers. Two walls keep the log append-only: the writers' role has INSERT and
SELECT only (UPDATE, DELETE, TRUNCATE revoked from it and from PUBLIC), and triggers refuse
UPDATE, DELETE and TRUNCATE for everyone, the table's owner included, even if somebody
GRANTs them later. A superuser can still drop the triggers or rewrite rows: verify fails
when a trigger is gone or disabled, and checkpoints kept outside the database catch a
rewrite made while they were back (docs/audit-format.md, "PostgreSQL").
"""

from __future__ import annotations

from typing import Any

SCHEMA = "cockpit"
LOG = f"{SCHEMA}.audit_log"
META = f"{SCHEMA}.audit_meta"
WRITER = "cockpit_writer"
CHANNEL = "cockpit_audit"  # NOTIFY channel; payload {"seq", "event_type", "request_id"}
# pg_advisory_xact_lock key serialising appends (b"ckpt-aud" as a big-endian int64).
APPEND_LOCK = int.from_bytes(b"ckpt-aud", "big")
# (table, trigger): each must exist and be enabled, or verify fails and appends stop.
TRIGGERS = (
    ("audit_log", "audit_log_fill"),
    ("audit_log", "audit_log_no_update_delete"),
    ("audit_log", "audit_log_no_truncate"),
    ("audit_meta", "audit_meta_no_update_delete"),
    ("audit_meta", "audit_meta_no_truncate"),
)
META_ORIGIN = "origin"
META_FORMAT = "format"


# Columns read from the body for indexes and filters: (name, jsonb path expression).
DERIVED = (
    ("ts", "->> 'ts'"),
    ("event_type", "->> 'event_type'"),
    ("service", "#>> '{target,service}'"),
    ("environment", "#>> '{target,environment}'"),
    ("request_id", "->> 'request_id'"),
    ("approval_nonce", "#>> '{extra,approval_nonce}'"),
)


def _fill_function() -> str:
    """The BEFORE INSERT trigger that sets every derived column from the body, whatever the
    INSERT gave: one parse of the body per row. (Six STORED generated columns parsed it six
    times: 180 us an insert instead of 50, inside the append lock.)"""
    sets = "\n".join(f"    NEW.{name} := j {path};" for name, path in DERIVED)
    return f"""CREATE OR REPLACE FUNCTION {SCHEMA}.audit_log_fill() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    j jsonb := NEW.body::jsonb;
BEGIN
{sets}
    RETURN NEW;
END
$$"""


def ddl() -> list[str]:
    """Idempotent statements creating the log, its indexes, triggers and grants."""
    statements = [
        f"CREATE TABLE IF NOT EXISTS {META} (key text PRIMARY KEY, value text NOT NULL)",
        f"""CREATE TABLE IF NOT EXISTS {LOG} (
    seq bigint PRIMARY KEY CHECK (seq > 0),
    prev_hash bytea NOT NULL UNIQUE CHECK (octet_length(prev_hash) = 32),
    hash bytea NOT NULL UNIQUE CHECK (octet_length(hash) = 32),
    body text NOT NULL,
    ts text, event_type text, service text, environment text, request_id text,
    approval_nonce text  -- set from body by audit_log_fill, never by the writer
)""",
        f"CREATE INDEX IF NOT EXISTS audit_log_ts ON {LOG} (ts)",
        f"CREATE INDEX IF NOT EXISTS audit_log_request ON {LOG} (request_id)"
        " WHERE request_id <> ''",
        f"CREATE UNIQUE INDEX IF NOT EXISTS audit_log_nonce ON {LOG} (approval_nonce)"
        " WHERE approval_nonce IS NOT NULL",
        f"""CREATE OR REPLACE FUNCTION {SCHEMA}.audit_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$""",
        _fill_function(),
    ]
    for table, trigger in TRIGGERS:
        if trigger == "audit_log_fill":
            when = "INSERT ON {} FOR EACH ROW EXECUTE FUNCTION {}.audit_log_fill()"
        elif trigger.endswith("truncate"):
            when = "TRUNCATE ON {} FOR EACH STATEMENT EXECUTE FUNCTION {}.audit_append_only()"
        else:
            when = (
                "UPDATE OR DELETE ON {} FOR EACH STATEMENT EXECUTE FUNCTION {}.audit_append_only()"
            )
        statements += [
            f"CREATE OR REPLACE TRIGGER {trigger} BEFORE "
            + when.format(f"{SCHEMA}.{table}", SCHEMA),
            # ALWAYS: fires under session_replication_role = replica too.
            f"ALTER TABLE {SCHEMA}.{table} ENABLE ALWAYS TRIGGER {trigger}",
        ]
    for table in (LOG, META):
        statements += [
            f"REVOKE ALL ON {table} FROM PUBLIC",
            f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {WRITER}",
        ]
    statements += [
        f"GRANT SELECT, INSERT ON {LOG} TO {WRITER}",
        f"GRANT SELECT ON {META} TO {WRITER}",
    ]
    return statements


def missing_guard(conn: Any) -> str:
    """Which append-only trigger is gone or disabled ('' when none): refuse, fail verify."""
    rows = conn.execute(
        "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t"
        " JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND NOT t.tgisinternal",
        (SCHEMA,),
    ).fetchall()
    found = {(str(r[0]), str(r[1])): r[2] for r in rows}
    for table, trigger in TRIGGERS:
        state = found.get((table, trigger))
        if state is None:
            return f"the append-only trigger {trigger} is missing"
        if state not in ("A", b"A"):
            how = "disabled" if state in ("D", b"D") else "not ENABLE ALWAYS"
            return f"the append-only trigger {trigger} is {how}"
    return ""
