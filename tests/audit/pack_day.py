"""A scripted day on the demo fleet, through the real executor, for the evidence pack tests.

Two operators (alice, bob) share one audit log, as two cockpits on one bastion do:

- checkout: alice asks to promote (two-person rule), bob approves, it runs;
- cart: alice asks, then tries to approve her own request (refused), bob approves, it runs
  with gates unknown (prod has `unknown_gates: warn`); its reason holds hostile text;
- search: alice asks under break-glass over a failing alerts gate, bob approves, it runs;
- payments: alice promotes in the hotfix lane (no approval, ticket CHG-7), no follow-up;
- cart again: alice rolls it back (rollback needs no second person here).

Then `cockpit audit show` reads the log (an audit.read) and `cockpit audit checkpoint -o`
writes a checkpoint, both through the command line.
"""

from __future__ import annotations

import asyncio
import zipfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cockpit import config
from cockpit.actions import lanes, targets
from cockpit.actions.executor import Executor
from cockpit.actions.policy import Operator
from cockpit.audit import Actor
from cockpit.clock import FixedClock
from cockpit.config import PolicyConfig
from cockpit.connect import options
from cockpit.fleet.hub import Hub
from cockpit.model import ActionKind
from cockpit.wiring import wire
from tests.cli import cockpit

DAY = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
HOSTILE = "cart 3.1.14 <script>alert(1)</script> [bold red]x[/] \x1b[31mred\x07 & <b>bold</b>"
POLICY: dict[str, Any] = {
    "environments": {
        "prod": {
            "two_person": ["promote"],
            "unknown_gates": "warn",
            "break_glass": ["promote", "rollback"],
        }
    },
    "lanes": {"hotfix": {"gates": ["pipeline", "tests"], "approvals": 0, "follow_up_hours": 4}},
}


@dataclass
class Desk:
    hub: Hub
    executor: Executor
    journal: Any


async def _desk(db: Path, user: str, clock: FixedClock) -> Desk:
    settings = config.load(None, seed=7, scale=12, env={})
    settings = replace(
        settings,
        policy=options.parse(PolicyConfig, POLICY),
        audit=config.AuditConfig(str(db)),
    )
    who = Actor(user=user, host="bastion-1", ssh_client="198.51.100.4:52144", pid=4242, version="t")
    hub, executor, journal = wire(settings, actor=who, clock=clock)
    executor.operator = Operator(user)  # no OS group lookup for test users
    await journal.call(lambda store: store.head())  # as the app does after its first frame
    await hub.refresh()
    return Desk(hub, executor, journal)


async def _request(desk: Desk, service: str, reason: str, glass: bool = False) -> None:
    built = targets.promote(desk.hub.snapshot, service, "prod")
    assert not isinstance(built, str), built
    plan = desk.executor.plan(built)
    done = await desk.executor.submit(plan, reason=reason, confirmation=service, break_glass=glass)
    assert done.status == "pending", done.message


async def _approve(desk: Desk, service: str, reason: str) -> str:
    await desk.hub.refresh()
    pending = next(
        a for a in desk.hub.snapshot.approvals if a.source == "cockpit" and a.service == service
    )
    plan = desk.executor.plan(targets.decide(pending, ActionKind.APPROVE))
    done = await desk.executor.submit(plan, reason=reason, confirmation=service)
    return done.status


async def _day(db: Path) -> None:
    clock = FixedClock(DAY)
    alice, bob = await _desk(db, "alice", clock), await _desk(db, "bob", clock)
    try:
        await _request(alice, "checkout", "release 1.5.14 of checkout, CHG-100")
        clock.advance(600)
        assert await _approve(bob, "checkout", "reviewed the diff and the tests") == "succeeded"
        clock.advance(600)
        await _request(alice, "cart", HOSTILE)
        clock.advance(60)
        assert await _approve(alice, "cart", "approving my own change, why not") == "refused"
        clock.advance(60)
        assert await _approve(bob, "cart", "canary unknown, accepted under policy") == "succeeded"
        clock.advance(600)
        await _request(alice, "search", "search fix for the HighErrorRate page", glass=True)
        clock.advance(60)
        assert await _approve(bob, "search", "break-glass accepted for INC-9") == "succeeded"
        clock.advance(600)
        built = targets.promote(alice.hub.snapshot, "payments", "prod")
        assert not isinstance(built, str), built
        plan = alice.executor.plan(lanes.marked_hotfix(built))
        done = await alice.executor.submit(
            plan, reason="INC-7 payment 500s, hotfix", ticket="CHG-7", confirmation="payments"
        )
        assert done.status == "succeeded", done.message
        clock.advance(600)
        await alice.hub.refresh()
        back = targets.rollback(alice.hub.snapshot, "cart", "prod", None)
        assert not isinstance(back, str), back
        done = await alice.executor.submit(
            alice.executor.plan(back), reason="cart errors after the release", confirmation="cart"
        )
        assert done.status == "succeeded", done.message
    finally:
        for desk in (alice, bob):
            await desk.hub.stop()
            desk.journal.close()


def scripted_day(folder: Path) -> Path:
    """The day's audit log in `folder`, read once and checkpointed by the command line."""
    db = folder / "audit.sqlite3"
    asyncio.run(_day(db))
    read = cockpit("audit", "show", "--db", str(db), "-n", "5")
    assert read.returncode == 0, read.stderr
    made = cockpit("audit", "checkpoint", "--db", str(db), "-o", str(folder / "cp.txt"))
    assert made.returncode == 0, made.stderr
    return db


def unzip(pack: Path, into: Path) -> dict[str, bytes]:
    """The pack's files by name, also extracted into `into` (for sha256sum and a browser)."""
    into.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(pack) as z:
        z.extractall(into)
        return {name: z.read(name) for name in z.namelist()}
