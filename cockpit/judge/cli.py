"""`cockpit canary judge`: judge a canary from a JSON document, print JSON or a table.

Exit codes: 0 pass, 1 marginal or fail, 2 unreadable or invalid input.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import TYPE_CHECKING, Any, TextIO

from cockpit.cli.exits import Exit

if TYPE_CHECKING:
    from cockpit.judge.result import JudgeResult

# The judge's outcomes under the exit codes every command shares.
EXIT_PASS, EXIT_NOT_PASS, EXIT_INVALID = Exit.OK, Exit.FAILED, Exit.USAGE

EPILOG = """\
input document (JSON):
  {"metrics": [{"name": "p99 latency", "direction": "increase", "critical": true,
                "group": "latency", "unit": "ms", "baseline": [...], "canary": [...]}],
   "groups": {"latency": 60, "errors": 40},
   "thresholds": {"marginal": 75, "pass": 95},
   "run_id": "rollout-42/step-3", "min_points": 50, "confidence": 0.98, "tolerance": 0.25}

exit codes: 0 pass, 1 marginal or fail, 2 unreadable or invalid input
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `judge` under the `canary` command's subparsers."""
    judge = subparsers.add_parser(
        "judge",
        help="judge canary against baseline metrics from a JSON document",
        description="Judge a canary: Mann-Whitney classification per metric, group scores, "
        "and a pass / marginal / fail decision (Kayenta's NetflixACAJudge, failing closed).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    judge.add_argument(
        "--input", "-i", required=True, metavar="FILE", help="the document; - reads stdin"
    )
    judge.add_argument(
        "--format", choices=("json", "table"), default="table", help="output (default: table)"
    )
    return judge


def _bare_constant(name: str) -> object:
    # Python's json reads NaN and Infinity, which JSON does not have: a document that
    # means them spells them as strings, so a bare one is a broken exporter.
    raise ValueError(f'not JSON: {name} is not JSON (write "{name}")')


# Any integer past binary64's range: stands in for a decimal literal that overflows.
_TOO_LARGE = 10**400


def _number(text: str) -> float | int:
    # Python reads 1e999 as infinity without a word; as an integer too large to convert it
    # meets the same check as a 400-digit integer, which names the value's JSON path.
    value = float(text)
    return _TOO_LARGE if value in (math.inf, -math.inf) else value


def _read(path: str) -> object:
    options: dict[str, Any] = {"parse_constant": _bare_constant, "parse_float": _number}
    if path == "-":
        return json.load(sys.stdin, **options)
    with open(path, encoding="utf-8") as handle:
        return json.load(handle, **options)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Judge the document named by args.input; print the verdict; return the exit code."""
    from cockpit.judge.core import judge
    from cockpit.judge.document import load_document
    from cockpit.sanitize import clean

    out = out or sys.stdout
    where = "stdin" if args.input == "-" else args.input
    try:
        metrics, config = load_document(_read(args.input))
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        print(f"cockpit: cannot read {clean(where)}: {clean(reason)}", file=sys.stderr)
        return EXIT_INVALID
    except RecursionError:
        print(f"cockpit: {clean(where)}: not JSON: nested too deeply", file=sys.stderr)
        return EXIT_INVALID
    except json.JSONDecodeError as exc:
        print(
            f"cockpit: {clean(where)}: not JSON: {exc.msg} (line {exc.lineno} column {exc.colno})",
            file=sys.stderr,
        )
        return EXIT_INVALID
    except ValueError as exc:
        print(f"cockpit: {clean(where)}: {clean(str(exc))}", file=sys.stderr)
        return EXIT_INVALID
    result = judge(metrics, config)
    out.write(result.to_json() + "\n" if args.format == "json" else render_table(result))
    return EXIT_PASS if result.decision == "pass" else EXIT_NOT_PASS


def _num(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}g}"


def render_table(result: JudgeResult) -> str:
    """Aligned plain text: metrics, groups, then the decision. Names are made inert."""
    from cockpit.sanitize import clean

    header = (
        "metric",
        "group",
        "class",
        "crit",
        "U",
        "p",
        "CI low",
        "CI high",
        "estimate",
        "HL",
        "effect",
    )
    rows = [header]
    for m in result.metrics:
        rows.append(
            (
                clean(m.name) + (" (muted)" if m.muted else ""),
                clean(m.group),
                m.classification,
                "yes" if m.critical else "",
                _num(m.u, 8),
                _num(m.p_value, 3),
                _num(m.ci_low),
                _num(m.ci_high),
                _num(m.estimate),
                _num(m.hodges_lehmann),
                _num(m.effect) + (f" {m.effect_measure}" if m.effect is not None else ""),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.append("")
    lines.extend(f"  {clean(m.name)}: {clean(m.reason)}" for m in result.metrics)
    lines.append("")
    for g in result.groups.values():
        flag = "  (no data: counts as 0)" if g.no_data else ""
        lines.append(f"group {clean(g.name)}: score {g.score:.2f}, weight {g.weight:g}{flag}")
    lines.append("")
    lines.append(
        f"score {result.score:g} -> {result.decision.upper()} "
        f"(marginal {result.marginal:g}, pass {result.passing:g})"
    )
    lines.append(f"reason: {clean(result.reason)}")
    lines.append(f"digest: {result.digest}  judge {result.judge_version}")
    return "\n".join(lines) + "\n"
