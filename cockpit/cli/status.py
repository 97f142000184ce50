"""`cockpit status`: poll every connector once and print the fleet, for scripts and CI."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from cockpit.cli.common import shared_options

if TYPE_CHECKING:
    from cockpit.clock import Clock
    from cockpit.config import Settings
    from cockpit.fleet.snapshot import FleetSnapshot
    from cockpit.team.held_policy import Held


def add_parser(sub: Any) -> None:
    status = sub.add_parser(
        "status",
        help="poll every connector once and print the fleet",
        description="Poll every connector once, print the fleet snapshot, exit 1 if any connector failed.",
    )
    shared_options(status)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import asyncio
    import sys

    from cockpit.cli.common import load_settings
    from cockpit.cli.exits import Exit
    from cockpit.clock import SystemClock
    from cockpit.sanitize import clean
    from cockpit.status import snapshot_json, snapshot_table, write_json

    settings = load_settings(args)
    clock = SystemClock()
    snap, held = asyncio.run(_look(settings, clock))
    now = clock.now()
    if args.json:
        data = snapshot_json(snap, now, settings.file)
        if held is not None:
            data["policy"] = held.as_json()
        write_json(data, sys.stdout)
    else:
        print(snapshot_table(snap, now))
        if held is not None:
            print(f"\nteam {held.badge()}")
            if held.refusal():
                print(f"actions refused: {clean(held.refusal())}")
    failed = [s for s in snap.sources.values() if not s.ok]
    for s in failed:
        # The error itself is in the output above; stderr only says which failed.
        print(f"cockpit: connector {clean(s.name)} failed", file=sys.stderr)
    return Exit.FAILED if failed or settings.problems else Exit.OK


async def _look(settings: Settings, clock: Clock) -> tuple[FleetSnapshot, Held | None]:
    """The fleet, and in team mode the policy in force (read in a thread meanwhile)."""
    import asyncio

    from cockpit.status import fleet_snapshot

    if settings.store is None:
        return await fleet_snapshot(settings, clock), None
    from cockpit.team.held_policy import read_held

    return await asyncio.gather(
        fleet_snapshot(settings, clock), asyncio.to_thread(read_held, settings)
    )
