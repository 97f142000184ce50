"""Which format `cockpit audit report` writes, and writing it."""

from __future__ import annotations

from pathlib import PurePath

from cockpit.audit import report, report_html, report_text
from cockpit.audit.export import TextSink

FORMATS = ("text", "csv", "json", "html")
_BY_SUFFIX = {".html": "html", ".htm": "html", ".csv": "csv", ".json": "json"}


def choose(asked: str | None, output: str | None) -> str:
    """`--format` when given; else what the `-o` file's suffix names; else text.

    Text on a terminal and in a pipe alike: an operator reads it, and `less` or `grep`
    want lines, not markup. HTML is for a file an auditor opens in a browser.
    """
    if asked:
        return asked
    suffix = PurePath(output).suffix.lower() if output else ""
    return _BY_SUFFIX.get(suffix, "text")


def write(built: report.Report, fmt: str, out: TextSink) -> None:
    if fmt == "csv":
        report.to_csv(built, out)
    elif fmt == "json":
        out.write(report.to_json(built))
    elif fmt == "html":
        out.write(report_html.to_html(built))
    else:
        out.write(report_text.to_text(built))
