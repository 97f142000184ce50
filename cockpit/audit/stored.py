"""What every audit store shares: a stored row read as a record, a failed check, record 1."""

from __future__ import annotations

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
