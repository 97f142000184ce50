"""The `cockpit` command line: the TUI by default, and subcommands for scripts and CI.

Its shape is in the file names: `root` builds the parser, to which each area adds its
commands (`status`, `config`, `connectors`, `canary` and `actions` here; `audit` and
`incident` in their own packages); `common` holds the shared options and settings loading,
`exits` the exit codes. Modules load per command, so `cockpit status` never loads textual
and plain `cockpit` builds no subcommand.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from cockpit.cli.common import load_settings, one_shot_logging
from cockpit.cli.exits import Exit
from cockpit.cli.root import EPILOG, parse, parser

__all__ = ["EPILOG", "Exit", "load_settings", "main", "parser"]


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return _main(argv)
        finally:
            sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
    except BrokenPipeError:
        # `cockpit status | head`: the reader has gone. Python's own recipe: point stdout at
        # /dev/null so the final flush at exit is quiet too, and stop.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return Exit.FAILED


def _main(argv: Sequence[str] | None) -> int:
    args = parse(argv)
    if args.command is not None:
        one_shot_logging()
    from cockpit.errors import ConfigError

    try:
        return args.run(args) if args.command is not None else _tui(args)
    except ConfigError as exc:
        for problem in exc.problems:  # every one, each on its own line
            print(f"cockpit: config error: {problem}", file=sys.stderr)
        return Exit.USAGE
    except KeyboardInterrupt:
        return 130


def _tui(args: argparse.Namespace) -> int:
    from cockpit import gcpause

    gcpause.hold_for_start()  # the app lets the collector go again after its first frame
    try:
        settings = load_settings(args)
        from cockpit.app import CockpitApp

        app = CockpitApp(settings, read_only=args.read_only)
        app.run()
    finally:
        gcpause.started()  # whatever happened, the collector is never left off
    return app.return_code or Exit.OK
