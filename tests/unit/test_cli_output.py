"""One-shot commands write clean output: no traceback on a closed pipe, inert JSON, each error once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import cockpit

UNREACHABLE = """\
connectors:
  - name: gh
    type: github
    timeout: 1s
    options:
      base_url: http://127.0.0.1:9
      token: env:TOKEN_FOR_CLI_TEST
      repositories: [acme/shop]
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["status"],
        ["status", "--json"],
        ["connectors"],
        ["connectors", "--json"],
        ["config", "check"],
        ["config", "path"],
        ["rollback", "payments", "prod", "--reason", "5xx since 2.7.12", "--confirm", "payments"],
        ["--help"],
    ],
    ids=" ".join,
)
def test_a_closed_pipe_ends_the_command_quietly(argv: list[str], tmp_path: Path) -> None:
    """`cockpit ... | head`: the reader is gone before anything is written (no timing)."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "cockpit", *argv],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert proc.stderr == "", proc.stderr


def test_json_output_escapes_c1_controls_and_bidi_overrides() -> None:
    from cockpit.status import write_json

    class Out:
        text = ""

        def write(self, s: str) -> None:
            self.text += s

    data = {"name": "pay\u202ements\x9b31m", "sep": "a\u2028b", "del": "x\x7f", "ok": "café → 2.7"}
    out = Out()
    write_json(data, out)
    for raw in ("\u202e", "\x9b", "\u2028", "\x7f"):
        assert raw not in out.text
    assert "café → 2.7" in out.text  # printable text stays readable
    assert json.loads(out.text) == data


def test_status_json_of_a_config_path_with_a_bidi_override_is_escaped(tmp_path: Path) -> None:
    config = tmp_path / "lab\u202e.yaml"
    config.write_text("connectors:\n  - name: lab\n    type: demo\n")
    out = cockpit("status", "--json", "-c", str(config), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "\u202e" not in out.stdout
    assert json.loads(out.stdout)["config"] == str(config)


def _unreachable(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "c.yaml"
    config.write_text(UNREACHABLE)
    env = {**os.environ, "TOKEN_FOR_CLI_TEST": "not-a-real-token"}
    return cockpit("status", *argv, "-c", str(config), env=env, cwd=tmp_path)


def test_a_source_that_never_answered_is_unreachable_not_stale(tmp_path: Path) -> None:
    out = _unreachable(tmp_path)
    assert out.returncode == 1
    line = out.stdout.splitlines()[0]
    assert line.startswith("connector gh (github): unreachable: "), line
    assert "stale" not in out.stdout


def test_status_json_says_unreachable_not_stale(tmp_path: Path) -> None:
    out = _unreachable(tmp_path, "--json")
    (gh,) = json.loads(out.stdout)["connectors"]
    assert (gh["state"], gh["stale"], gh["ok"]) == ("unreachable", False, False)


def test_a_one_shot_status_prints_each_error_once_and_no_retry(tmp_path: Path) -> None:
    out = _unreachable(tmp_path)
    both = out.stdout + out.stderr
    assert "retry in" not in both
    assert both.count("ConnectError") == 1, both
    assert "connector gh failed" in out.stderr
