"""The tamper-evident audit log: hash-chained records of every action, allowed or refused."""

from __future__ import annotations

from cockpit.audit.checkpoint import Checkpoint
from cockpit.audit.events import Actor, AuditEvent, EventType, Target
from cockpit.audit.records import AuditError, AuditRecord, VerifyResult
from cockpit.audit.store import AuditStore, default_path, open_store

__all__ = [
    "Actor",
    "AuditError",
    "AuditEvent",
    "AuditRecord",
    "AuditStore",
    "Checkpoint",
    "EventType",
    "Target",
    "VerifyResult",
    "default_path",
    "open_store",
]
