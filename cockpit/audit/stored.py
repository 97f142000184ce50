"""What every audit store shares: a stored row read as a record, a failed check, record 1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from cockpit.audit import canonical as c
from cockpit.audit.events import AuditEvent, EventType
from cockpit.audit.records import AuditError, AuditRecord, DamagedLog, VerifyResult, parse


def failed(problem: str) -> VerifyResult:
    """A verify that failed before any record could be checked."""
    return VerifyResult(False, 0, c.GENESIS.hex(), None, problem)


def record_of(seq: int, body: bytes, prev: bytes, hash_: bytes) -> AuditRecord:
    """A stored row as a record; a row that is not one is damage, named by its seq."""
    try:
        return parse(body, prev, hash_)
    except AuditError as exc:
        raise DamagedLog(
            f"record {seq} is not a valid record: {exc} (see audit verify --deep)"
        ) from None


def init_event() -> AuditEvent:
    """Record 1 of every log: who created it, from where (PCI DSS 10.2.1.6)."""
    from cockpit import __version__
    from cockpit.actions.identity import current_actor

    return AuditEvent(
        EventType.AUDIT_INITIALIZED, current_actor(__version__), None, "audit.init", "success"
    )


PAGE = 500  # records a keyset page reads


def keyset_pages(
    query: Callable[[str, list[object]], list[Any]],
    select: str,
    where: list[str],
    args: list[object],
    *,
    cursor_cond: str,
    order: str,
    limit: int | None,
    cursor: int | None = None,
) -> Iterator[AuditRecord]:
    """Records page by page on seq (`cursor_cond` compares seq with the last one read), so no
    statement stays open between yields and appends never wait on a reader. `query` runs one
    statement with its arguments (each store's placeholders are in `where`/`cursor_cond`)."""
    remaining = limit
    while remaining is None or remaining > 0:
        page = PAGE if remaining is None else min(PAGE, remaining)
        conds = [*where, cursor_cond] if cursor is not None else where
        sql = select + ((" WHERE " + " AND ".join(conds)) if conds else "")
        sql += f" ORDER BY seq {order} LIMIT {page}"
        rows = query(sql, [*args, cursor] if cursor is not None else args)
        for row in rows:
            yield record_of(*row)
            cursor = row[0]
        if remaining is not None:
            remaining -= len(rows)
        if len(rows) < page:
            return
