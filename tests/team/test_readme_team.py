"""The README's team-mode commands (its `sh team` block) run as written on a real PostgreSQL.

The demo-only README test cannot run them (they need a team store), so this one gives
them one: a config whose `store:` names a fresh database on the session's PostgreSQL
(the password by `env:` reference, as the README shows), a personal SQLite log where the
README's `audit copy` looks for it, and `cockpit` on PATH. Each line must exit as its
`# exit N` comment says (0 without one).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from cockpit.audit import AuditEvent, EventType, open_store
from cockpit.audit.events import Actor
from cockpit.clock import FixedClock
from tests.cli import ROOT
from tests.fakes import T0
from tests.unit.test_readme_examples import expected_exit


def team_examples() -> list[str]:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh team\n(.*?)```", text, flags=re.S)
    return [line.strip() for b in blocks for line in b.splitlines() if line.strip()]


def personal_log(home: Path) -> Path:
    """A single-user log with one record, where the README's `audit copy --from` points."""
    path = home / ".local" / "share" / "cockpit" / "audit.sqlite3"
    path.parent.mkdir(parents=True)
    store = open_store(str(path), clock=FixedClock(T0))
    try:
        actor = Actor("alice", "laptop", "", 4242, "test")
        store.append(
            AuditEvent(
                EventType.AUDIT_READ, actor, None, "audit.read", "ok", extra={"view": "audit"}
            )
        )
    finally:
        store.close()
    return path


def test_the_readme_team_commands_run_as_written(pg_url: str, tmp_path: Path) -> None:
    examples = team_examples()
    assert len(examples) >= 6 and examples[0].startswith("cockpit store init")
    home, work, bin_dir = tmp_path / "home", tmp_path / "work", tmp_path / "bin"
    for folder in (home, work, bin_dir):
        folder.mkdir()
    personal_log(home)
    (work / "examples").symlink_to(ROOT / "examples")
    launcher = bin_dir / "cockpit"
    launcher.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m cockpit "$@"\n')
    launcher.chmod(0o755)
    url = urlsplit(pg_url)
    (work / "team.yaml").write_text(
        "environments: [dev, staging, prod]\n"
        "connectors:\n  - {name: demo, type: demo, options: {seed: 7, services: 6}}\n"
        "store:\n"
        f"  url: postgresql://{url.username}@{url.hostname}:{url.port}{url.path}\n"
        "  password: env:COCKPIT_DB_PASSWORD\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_DATA_HOME", "XDG_CONFIG_HOME")}
    env |= {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),
        "COCKPIT_CONFIG": str(work / "team.yaml"),
        "COCKPIT_DB_PASSWORD": url.password or "",
    }
    failures = []
    for example in examples:
        out = subprocess.run(
            ["bash", "-o", "pipefail", "-c", example],
            capture_output=True, text=True, env=env, cwd=work, timeout=120, check=False,
        )  # fmt: skip
        if out.returncode != expected_exit(example):
            failures.append(f"{example}\n  exit {out.returncode}: {out.stderr.strip()[-400:]}")
        assert (url.password or "\0") not in out.stdout + out.stderr  # never the password
    assert not failures, "\n".join(failures)
