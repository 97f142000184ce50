"""Every `cockpit ...` example in the README and in `cockpit --help` runs as written against the demo.

Shell examples run in order, through bash, in one temporary working directory and data
directory, with `cockpit` on PATH; a trailing `# exit N` comment states the exit code
(default 0). Examples that start the terminal UI run it headless and quit.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from cockpit.cli import EPILOG, load_settings, parser
from tests.cli import ROOT


def readme_examples() -> list[str]:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:sh|bash|shell|console)\n(.*?)```", text, flags=re.S)
    return [
        line.strip()
        for b in blocks
        for line in b.splitlines()
        if line.strip().startswith("cockpit")
    ]


def epilog_examples() -> list[str]:
    lines = EPILOG.split("examples:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    # "  cockpit status --json            what it does": the command ends at a wide gap.
    return [re.split(r"\s{3,}", line.strip())[0] for line in lines if line.strip()]


def expected_exit(example: str) -> int:
    match = re.search(r"#\s*exit (\d+)", example)
    return int(match.group(1)) if match else 0


def words(example: str) -> list[str]:
    """The example's words without its trailing comment (`#282` inside a word stays)."""
    return shlex.split(re.split(r"\s#", example, maxsplit=1)[0])


def starts_the_tui(example: str) -> bool:
    argv = words(example)
    return "|" not in argv and parser().parse_args(argv[1:]).command is None


def test_the_readme_and_help_have_examples() -> None:
    assert len(readme_examples()) >= 8 and len(epilog_examples()) >= 7


def test_every_shell_example_runs_as_written(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    launcher = bin_dir / "cockpit"
    launcher.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m cockpit "$@"\n')
    launcher.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    (work / "examples").symlink_to(ROOT / "examples")  # relative paths as from a checkout
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path / "home"),
    }
    examples = [e for e in [*readme_examples(), *epilog_examples()] if not starts_the_tui(e)]
    failures = []
    for example in examples:
        out = subprocess.run(
            ["bash", "-o", "pipefail", "-c", example],
            capture_output=True,
            text=True,
            env=env,
            cwd=work,
            timeout=120,
            check=False,
        )
        if out.returncode != expected_exit(example):
            failures.append(f"{example}\n  exit {out.returncode}: {out.stderr.strip()[-300:]}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "example", [e for e in epilog_examples() + readme_examples() if starts_the_tui(e)]
)
async def test_every_tui_example_starts_and_quits(example: str, tmp_path: Path) -> None:
    from cockpit.app import CockpitApp
    from cockpit.clock import FixedClock
    from tests.app.helpers import T0

    args = parser().parse_args(words(example)[1:])
    app = CockpitApp(
        load_settings(args), read_only=args.read_only, poll=False, clock=FixedClock(T0)
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("q")
    assert app.return_code in (None, 0)
    assert app.read_only == ("--read-only" in example)
