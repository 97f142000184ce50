"""What submitting an action came to: the status words and the Outcome the UI and CLI show."""

from __future__ import annotations

from dataclasses import dataclass, field

SUCCEEDED, FAILED, PENDING, DUPLICATE, APPROVED, CANCELLED = (
    "succeeded",
    "failed",
    "pending",
    "duplicate",
    "approved",
    "cancelled",
)


@dataclass(frozen=True)
class Outcome:
    status: str  # succeeded, failed, refused, pending, approved, duplicate, cancelled
    message: str
    request_id: str = ""
    remote_id: str = ""
    reasons: tuple[str, ...] = field(default=())
    # The audit log refused the first record: nothing ran, and asking again may succeed.
    audit_unavailable: bool = False
