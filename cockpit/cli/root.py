"""The `cockpit` parser: the root options, and every area's subcommands when asked for."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from cockpit import __version__
from cockpit.cli.common import SHARED_DEFAULTS, shared_options

DESCRIPTION = """\
Release Cockpit: pipelines, environments, canaries, drift and alerts in one terminal,
with approve, promote and roll back under policy, every action audited.

With no command it starts the terminal UI. With no config file it shows the built-in
demo fleet. Config is read from --config, $COCKPIT_CONFIG, or config.yaml in the user
config directory (see `cockpit config path`).
"""

EPILOG = """\
examples:
  cockpit                          the live cockpit (demo fleet without a config)
  cockpit --read-only              the same, with every mutating key disabled
  cockpit status --json            poll every connector once, print the fleet as JSON
  cockpit config check -c examples/prod.yaml
  cockpit connectors               installed connector types and their capabilities
  cockpit rollback payments prod --reason "5xx since 2.7.12" --yes
  cockpit audit verify             prove the audit log is intact

action exit codes: 0 succeeded, 1 failed, 2 usage, 3 refused by policy, 4 waiting for approval
"""


class _RootOnly(argparse.ArgumentParser):
    """The root options alone; a mistake is left to the whole parser to report."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise argparse.ArgumentError(None, message)


def _root(cls: type[argparse.ArgumentParser] = argparse.ArgumentParser) -> argparse.ArgumentParser:
    root = cls(
        prog="cockpit",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=cls is not _RootOnly,
    )
    if cls is not _RootOnly:  # else `cockpit policy show --version 2` would print ours
        root.add_argument("--version", action="version", version=f"cockpit {__version__}")
    shared_options(root)
    root.set_defaults(**SHARED_DEFAULTS, command=None)
    return root


def parser() -> argparse.ArgumentParser:
    """The whole command line: each area registers its own commands, in help's order."""
    from cockpit.audit import cli as audit
    from cockpit.cli import actions, canary, config, connectors, status
    from cockpit.controller import cli as controller
    from cockpit.incident import cli as incident
    from cockpit.team import cli as store
    from cockpit.team import policy_cli as policy

    root = _root()
    sub = root.add_subparsers(dest="command", metavar="COMMAND")
    areas = (status, config, connectors, audit, canary, actions, incident, store, policy)
    for area in (*areas, controller):
        area.add_parser(sub)
    return root


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The parsed command line. Plain `cockpit [options]` needs the root options alone, so
    the subcommands (and the modules defining them) are built only when a word is left
    over: a command, --help, or a mistake, which the whole parser then reports as usual."""
    try:
        args, rest = _root(_RootOnly).parse_known_args(argv)
    except argparse.ArgumentError:
        return parser().parse_args(argv)
    return parser().parse_args(argv) if rest else args
