"""The `cockpit` command line: the TUI by default, and subcommands for scripts and CI.

Its shape is in the file names: `root` builds the parser, to which each area adds its
commands (`status`, `config`, `connectors`, `canary` and `actions` here; `audit` and
`incident` in their own packages); `common` holds the shared options and settings loading,
`exits` the exit codes. Modules load per command, so `cockpit status` never loads textual
and plain `cockpit` builds no subcommand.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cockpit.cli.common import load_settings, one_shot_logging, plain
from cockpit.cli.exits import Exit

if TYPE_CHECKING:
    import argparse
    from types import SimpleNamespace

    from cockpit.cli.root import EPILOG, parser

__all__ = ["EPILOG", "Exit", "load_settings", "main", "parser"]


def __getattr__(name: str) -> Any:
    """The parser (argparse) loads when a word is given, or when it is asked for by name."""
    if name in ("EPILOG", "parser"):
        from cockpit.cli import root

        return getattr(root, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    words = sys.argv[1:] if argv is None else list(argv)
    args: argparse.Namespace | SimpleNamespace
    if words:
        from cockpit.cli.root import parse

        args = parse(words)
    else:
        args = plain()
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


def _tui(args: argparse.Namespace | SimpleNamespace) -> int:
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
