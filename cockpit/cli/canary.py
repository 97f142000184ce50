"""`cockpit canary ...`: the canary judge's commands (the judge defines `judge` itself)."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    from cockpit.judge.cli import add_parser as add_judge_parser

    canary = sub.add_parser("canary", help="canary analysis: judge canary against baseline metrics")
    canary_sub = canary.add_subparsers(dest="canary_command", metavar="ACTION", required=True)
    add_judge_parser(canary_sub)
    canary.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from cockpit.judge.cli import run as judge

    return judge(args)
