"""`cockpit audit report` with no --format: text an operator reads, on a terminal or in a pipe."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from cockpit.audit import report_output
from tests.cli import cockpit

PERIOD = ("--since", "2026-11-26", "--until", "2026-11-27")


def on_a_terminal(*args: str) -> tuple[int, str]:
    """`cockpit ARGS` with stdout on a pseudo-terminal: its exit code and what it showed."""
    main, secondary = pty.openpty()
    cmd = [sys.executable, "-m", "cockpit", *args]
    proc = subprocess.Popen(cmd, stdout=secondary, stderr=subprocess.PIPE)
    os.close(secondary)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    return proc.wait(timeout=120), shown.decode().replace("\r\n", "\n")


def assert_text_report(out: str) -> None:
    assert out.startswith("Production changes 2026-11-26T00:00:00.000Z to 2026-11-27T00:00:00.000Z")
    assert "<html" not in out.lower() and "<td>" not in out
    assert "Changes to production (3)" in out and "Break-glass uses (2)" in out
    assert "Hotfixes without a follow-up ticket (0)" in out


def test_the_report_prints_text_tables_on_a_terminal_by_default(log: Path) -> None:
    code, shown = on_a_terminal("audit", "report", "--db", str(log), *PERIOD)
    assert code == 0
    assert_text_report(shown)


def test_the_report_prints_text_tables_into_a_pipe_by_default(log: Path) -> None:
    done = cockpit("audit", "report", "--db", str(log), *PERIOD)
    assert done.returncode == 0, done.stderr
    assert_text_report(done.stdout)


def test_the_text_report_lines_up_its_columns_and_shows_control_characters(log: Path) -> None:
    out = cockpit("audit", "report", "--db", str(log), *PERIOD).stdout
    lines = out.splitlines()
    head = next(ln for ln in lines if ln.startswith("WHEN (UTC)"))
    row = next(ln for ln in lines if " bob@corp (bob@bastion-2) " in ln)
    for column, value in (("SERVICE", "checkout"), ("APPROVERS", "bob@corp"), ("REASON", "rel")):
        assert row.index(value) == head.index(column), column
    assert "1.4.2 -> 1.5.0" in row and "succeeded" in row and row.endswith("release train 1")
    assert "\x1b" not in out and "\x07" not in out
    assert "incident INC-77 ^[]52" in out  # the OSC 52 in a reason is shown, never sent


def test_html_only_when_asked_or_when_the_output_file_is_html(log: Path, tmp_path: Path) -> None:
    page = tmp_path / "q4.html"
    done = cockpit("audit", "report", "--db", str(log), *PERIOD, "-o", str(page))
    assert done.returncode == 0, done.stderr
    assert page.read_text().startswith("<!DOCTYPE html>")
    asked = cockpit("audit", "report", "--db", str(log), *PERIOD, "--format", "html")
    assert asked.stdout.startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("asked", "output", "chosen"),
    [
        (None, None, "text"),
        (None, "changes.HTML", "html"),
        (None, "changes.htm", "html"),
        (None, "changes.csv", "csv"),
        (None, "changes.json", "json"),
        (None, "changes.txt", "text"),
        ("json", "changes.html", "json"),  # what the operator asked wins over the suffix
        ("html", None, "html"),
    ],
)
def test_the_report_format_follows_the_flag_then_the_output_suffix(
    asked: str | None, output: str | None, chosen: str
) -> None:
    assert report_output.choose(asked, output) == chosen
