"""`cockpit canary judge` through a real subprocess: output formats and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "judge"


def cockpit(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cockpit", "canary", "judge", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_json_output_and_exit_code_for_pass() -> None:
    run = cockpit("--input", str(FIXTURES / "canary_pass.json"), "--format", "json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["decision"] == "pass" and data["score"] == 100.0
    again = cockpit("--input", str(FIXTURES / "canary_pass.json"), "--format", "json")
    assert again.stdout == run.stdout  # byte-identical


def test_table_output_for_a_failing_canary() -> None:
    run = cockpit("--input", str(FIXTURES / "canary_fail.json"))
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    header = lines[0].split()
    assert header[:6] == ["metric", "group", "class", "crit", "U", "p"]
    assert "CI" in header and "estimate" in header and "HL" in header and "effect" in header
    row = next(line for line in lines if line.startswith("p50 latency"))
    assert "High" in row
    assert any("p50 latency: canary" in line and "% higher than baseline" in line for line in lines)
    assert "group errors: score 0.00, weight 30" in run.stdout
    assert "score 45 -> FAIL (marginal 75, pass 95)" in run.stdout


def test_stdin_input() -> None:
    text = (FIXTURES / "canary_fail.json").read_text()
    run = cockpit("--input", "-", "--format", "json", stdin=text)
    assert run.returncode == 1
    assert json.loads(run.stdout)["decision"] == "fail"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"metrics": [{"name": "a", "baseline": [1, "x"], "canary": [1]}]}',
         "$.metrics[0].baseline[1]: expected a number, got a string"),
        ('{"metrics": [], "thresholds": {"pas": 90}}',
         "$.thresholds.pas: unknown key (did you mean 'pass'?)"),
        ('{"metrics": [ oops', "not JSON: Expecting value (line 1 column 15)"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_one_clear_message(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    run = cockpit("--input", str(path))
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr == f"cockpit: {path}: {message}\n"
    assert "Traceback" not in run.stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    run = cockpit("--input", str(tmp_path / "nope.json"))
    assert run.returncode == 2
    assert (
        run.stderr == f"cockpit: cannot read {tmp_path / 'nope.json'}: No such file or directory\n"
    )


def test_control_characters_in_names_are_made_inert(tmp_path: Path) -> None:
    metric = {"name": "evil\x1b[2J", "baseline": [1.0] * 60, "canary": [1.0] * 60}
    path = tmp_path / "doc.json"
    path.write_text(json.dumps({"metrics": [metric]}))
    run = cockpit("--input", str(path))
    assert run.returncode == 0
    assert "\x1b" not in run.stdout and "evil^[[2J" in run.stdout


def test_help_lists_the_document_format() -> None:
    run = cockpit("--help")
    assert run.returncode == 0
    assert "--input FILE" in run.stdout and "exit codes: 0 pass" in run.stdout


def test_numpy_is_loaded_only_when_judging() -> None:
    """`cockpit --help` and importing the judge's names never pay for numpy; judging does."""
    code = """
import contextlib, io, sys
import cockpit, cockpit.judge, cockpit.judge.cli
from cockpit.cli import main
from cockpit.judge import JudgeConfig, MetricInput, load_document
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    main(["--help"])
before = "numpy" in sys.modules
from cockpit.judge import judge
judge([MetricInput("m", [1.0, 2.0], [1.0, 3.0])], JudgeConfig(min_points=2))
print(before, "numpy" in sys.modules)
"""
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "True"]
