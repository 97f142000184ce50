"""Fixtures for the audit tests: a fresh log, an actor, events, and required binaries."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit.audit import Actor, AuditEvent, EventType, Target
from cockpit.audit.sqlite import SqliteStore
from cockpit.clock import FixedClock

ACTOR = Actor(
    user="alice", host="bastion-1", ssh_client="203.0.113.7:52144", pid=4242, version="0.1.0"
)
PROD = Target(
    "checkout", "prod", "1.4.2", "1.5.0", "sha256:" + "ab" * 32, "argocd", "rollout/checkout"
)

BOB = Actor("bob", "bastion-2", "", 77, "0.1.0", principal="bob@corp")
INCIDENT = "incident INC-77 \x1b]52;c;ZXZpbA==\x07 =cmd|' /C calc'!A0"  # OSC 52 and a CSV formula
STAGING = Target("cart", "staging", "2.0.0", "2.0.1", "sha256:" + "cd" * 32)


def need(binary: str) -> str:
    """The binary's path; skip when it is missing, but fail when CI=true."""
    path = shutil.which(binary)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{binary} is required when CI=true")
        pytest.skip(f"{binary} is not installed")
    return path


def event(n: int = 0, **changes: object) -> AuditEvent:
    """A promote attempt in production; `n` makes each one distinct."""
    fields: dict[str, object] = {
        "event_type": EventType.ACTION_REQUESTED,
        "actor": ACTOR,
        "target": PROD,
        "action": "promote",
        "outcome": "requested",
        "reason": f"release train {n}",
        "ticket": "CHG-1042",
        "evidence": {"gates": [{"name": "pipeline", "status": "passed", "evidence": "run 981"}]},
        "policy": {"decision": "allowed", "reasons": [], "break_glass": False},
        "request_id": f"req-{n}",
        "extra": {"n": n},
    }
    fields.update(changes)
    return AuditEvent(**fields)  # type: ignore[arg-type]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "audit.sqlite3"


@pytest.fixture
def store(db: Path, clock: FixedClock) -> Iterator[SqliteStore]:
    with SqliteStore(str(db), clock=clock) as s:
        yield s


@pytest.fixture
def filled(store: SqliteStore, clock: FixedClock) -> SqliteStore:
    """A log of 10 records: the init record and nine promote attempts, a second apart."""
    for n in range(9):
        clock.advance(1)
        store.append(event(n))
    return store


@pytest.fixture
def log(db: Path, clock: FixedClock) -> Path:
    """A small production history: a normal promote, a refused one, two break-glass uses."""
    with SqliteStore(str(db), clock=clock) as s:
        glass = {"request_id": "r3", "action": "rollback", "break_glass": True}
        steps = [
            event(1, event_type=EventType.ACTION_REQUESTED, request_id="r1"),
            event(1, event_type=EventType.APPROVAL_GRANTED, request_id="r1", outcome="granted",
                  actor=BOB),
            event(1, event_type=EventType.ACTION_SUCCEEDED, request_id="r1", outcome="success"),
            event(2, event_type=EventType.ACTION_REFUSED, request_id="r2", outcome="refused",
                  policy={"decision": "refused", "reasons": ["change window closed"]}),
            event(3, event_type=EventType.ACTION_REQUESTED, reason=INCIDENT, **glass),
            event(3, event_type=EventType.BREAKGLASS_USED, **glass),
            event(3, event_type=EventType.ACTION_SUCCEEDED, outcome="success", **glass),
            event(4, event_type=EventType.BREAKGLASS_USED, request_id="r4", target=STAGING,
                  break_glass=True, reason="hotfix in staging"),
        ]  # fmt: skip
        for step in steps:
            clock.advance(60)
            s.append(step)
    return db
