"""The tamper-evident audit log: hash-chained records of every action, allowed or refused.

Names are loaded on first use (PEP 562), so recording who is at the keyboard at start-up
does not import the storage, hashing and export machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cockpit.audit.checkpoint import Checkpoint
    from cockpit.audit.events import Actor, AuditEvent, EventType, Target
    from cockpit.audit.records import AuditError, AuditRecord, VerifyResult
    from cockpit.audit.store import AuditStore, default_path, open_store

_WHERE = {
    "Checkpoint": "checkpoint",
    "Actor": "events",
    "AuditEvent": "events",
    "EventType": "events",
    "Target": "events",
    "AuditError": "records",
    "AuditRecord": "records",
    "VerifyResult": "records",
    "AuditStore": "store",
    "default_path": "store",
    "open_store": "store",
}

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


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'cockpit.audit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"cockpit.audit.{module}"), name)
    globals()[name] = value
    return value
