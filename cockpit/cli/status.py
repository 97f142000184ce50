"""`cockpit status`: poll every connector once and print the fleet, for scripts and CI."""

from __future__ import annotations

import argparse
from typing import Any

from cockpit.cli.common import shared_options


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
    from cockpit.status import fleet_snapshot, snapshot_json, snapshot_table, write_json

    settings = load_settings(args)
    clock = SystemClock()
    snap = asyncio.run(fleet_snapshot(settings, clock))
    now = clock.now()
    if args.json:
        write_json(snapshot_json(snap, now, settings.file), sys.stdout)
    else:
        print(snapshot_table(snap, now))
    failed = [s for s in snap.sources.values() if not s.ok]
    for s in failed:
        # The error itself is in the output above; stderr only says which failed.
        print(f"cockpit: connector {clean(s.name)} failed", file=sys.stderr)
    return Exit.FAILED if failed or settings.problems else Exit.OK
