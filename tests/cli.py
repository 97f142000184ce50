"""Running the `cockpit` command line from tests, as a script or CI job would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cockpit(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m cockpit ARGS` in a fresh process, with `env` (default: this one's)."""
    return subprocess.run(
        [sys.executable, "-m", "cockpit", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ if env is None else env),
        cwd=cwd or ROOT,
        timeout=120,
        check=False,
    )


def status_json(
    config: Path, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`cockpit status --json -c CONFIG`."""
    return cockpit("status", "--json", "-c", str(config), env=env, cwd=cwd)


def python_in_a_fresh_home(code: str, home: Path) -> subprocess.CompletedProcess[str]:
    """`python -c CODE` from the repository, with `home` as HOME and the XDG data and config
    directories (no user's config or audit log), and a bare PATH."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home)}
    env |= {"XDG_DATA_HOME": str(home), "XDG_CONFIG_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
