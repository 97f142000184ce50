"""The options of `cockpit audit seal` and `cockpit audit purge` (the commands: retention.py)."""

from __future__ import annotations

import argparse
from typing import Any

from cockpit.cli.common import log_options, when

SEAL_HELP = """\
Move the records older than WHEN (a whole prefix of the chain) into an archive segment
(retention.archive_dir, default <log>-archive beside the log) with a checkpoint at its last
record, then delete them from the live log, which records the seal. Without --before,
retention.seal_every decides: an age (90d) seals what is older, a count (100000) seals that
many of the oldest records once the live log holds more. Exit 1 when the log or the written
segment does not verify (nothing is deleted then).
"""
PURGE_HELP = """\
Delete the archive segments whose records all end before WHEN, when all of them are past
retention.keep. A signed audit.purge record naming each segment, its range, head hash, file
digest and checkpoint is written first. Without --yes: print the plan, exit 0, or 3 when it
would be refused (within retention, not signed, an unfinished seal); with --yes a refusal is
recorded and exits 3.
"""


def _signing(p: argparse.ArgumentParser, what: str) -> argparse._MutuallyExclusiveGroup:
    group = p.add_mutually_exclusive_group()
    group.add_argument("--sign-key", metavar="KEY", help=f"SSH key (or .pub with agent): {what}")
    group.add_argument("--sign-agent", action="store_true", help="sign with ssh-agent's key")
    return group


def add_parsers(sub: Any) -> None:
    """Register `seal` and `purge` on the `audit` subparsers."""
    fmt = argparse.RawDescriptionHelpFormatter
    seal = sub.add_parser(
        "seal", help="move old records into a sealed archive segment", description=SEAL_HELP,
        formatter_class=fmt,
    )  # fmt: skip
    log_options(seal)
    seal.add_argument("--before", type=when, metavar="WHEN", help="seal records older than this")
    seal.add_argument("--reason", default="", help="why, recorded with the seal")
    _signing(seal, "signs the segment's checkpoint")

    purge = sub.add_parser(
        "purge", help="delete archive segments past retention (signed, audited)",
        description=PURGE_HELP, formatter_class=fmt,
    )  # fmt: skip
    log_options(purge)
    purge.add_argument("--before", type=when, metavar="WHEN", required=True,
                       help="purge segments whose records all end before this")  # fmt: skip
    purge.add_argument("--reason", required=True, help="why, recorded and signed")
    purge.add_argument("--yes", action="store_true", help="purge (default: print the plan)")
    group = _signing(purge, "signs the purge record")
    group.add_argument(
        "--unsigned", action="store_true", help="purge unsigned (only if retention.unsigned_purge)"
    )
