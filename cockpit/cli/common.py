"""What the commands share: the fleet options, settings loading, log options and times."""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

    from cockpit.config import Settings

# The options every fleet command shares. They are defined once, on the root parser and on
# each subcommand, with SUPPRESS as the subcommand default: argparse copies a subcommand's
# namespace over the root's, so a real default there would overwrite `cockpit -c FILE rollback`.
SHARED_DEFAULTS = {"config": None, "seed": 7, "demo_scale": None, "read_only": False}


def plain() -> SimpleNamespace:
    """What the parser gives for plain `cockpit`, no word given: the root options' defaults.
    Building no parser keeps argparse (and gettext) out of the TUI's start-up."""
    return SimpleNamespace(**SHARED_DEFAULTS, command=None)


def shared_options(p: argparse.ArgumentParser) -> None:
    """Add -c, --seed, --demo-scale and --read-only to `p`, given before or after a command."""
    import argparse

    p.add_argument(
        "-c",
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="config file (default: $COCKPIT_CONFIG, then the user config dir)",
    )
    p.add_argument(
        "--seed", type=int, default=argparse.SUPPRESS, help="demo fleet seed (default 7)"
    )
    p.add_argument(
        "--demo-scale",
        type=int,
        metavar="N",
        default=argparse.SUPPRESS,
        help="grow the demo fleet to N services",
    )
    p.add_argument(
        "--read-only",
        action="store_true",
        default=argparse.SUPPRESS,
        help="disable every mutating key and action (say why)",
    )


def config_option(p: argparse.ArgumentParser, text: str = "config file") -> None:
    """-c on a subcommand, so it may follow the command as well as precede it."""
    # SUPPRESS keeps `cockpit -c FILE audit ...` working: the root's value is not overwritten.
    import argparse

    p.add_argument("-c", "--config", metavar="FILE", default=argparse.SUPPRESS, help=text)


def log_options(p: argparse.ArgumentParser) -> None:
    """-c and --db, for commands that read or write the audit log and never poll the fleet."""
    config_option(p)
    p.add_argument(
        "--db",
        metavar="PATH",
        help="audit log: an SQLite file or postgresql://user@host/db "
        "(default: config store:, else audit.path)",
    )


def when(text: str) -> datetime | str:
    """An option's time, parsed later against the clock: a relative age like 30m/24h/7d/2w,
    or in calendar years like retention's `keep` (7y), a date, or a time."""
    import argparse

    if re.fullmatch(r"(\d+)([smhdwy])", text):
        return text
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: use a date (2026-11-01), a time (2026-11-01T08:00Z) or an age "
            "(24h, 7d, 2w, 7y)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def resolve_when(value: datetime | str | None, now: datetime) -> datetime | None:
    """`when`'s result as a time: an age counts back from `now` (years as calendar years)."""
    if value is None or isinstance(value, datetime):
        return value
    if value.endswith("y"):
        from cockpit.retention_config import Age

        return Age(years=int(value[:-1])).before(now)
    unit = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}[value[-1]]
    return now - timedelta(seconds=int(value[:-1]) * unit)


def load_settings(
    args: argparse.Namespace | SimpleNamespace, resolve_secrets: bool = True
) -> Settings:
    """The settings the shared options name; skipped connectors are warned about on stderr."""
    from cockpit import config

    if args.demo_scale is not None and args.demo_scale < 1:
        from cockpit.errors import ConfigError

        raise ConfigError("--demo-scale must be at least 1", file="(command line)")
    settings = config.load(
        args.config, seed=args.seed, scale=args.demo_scale, resolve_secrets=resolve_secrets
    )
    for problem in settings.problems:
        print(f"cockpit: warning: {problem} (skipped)", file=sys.stderr)
    return settings


def one_shot_logging() -> None:
    """A command reports every failure itself, once; the hub's log lines ("retry in 5s")
    are for the long-running cockpit, so only errors reach stderr, on one line each."""
    import logging

    from cockpit.sanitize import clean

    class OneLine(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return "cockpit: " + clean(record.getMessage())

    handler = logging.StreamHandler()
    handler.setFormatter(OneLine())
    logging.basicConfig(level=logging.ERROR, handlers=[handler])
