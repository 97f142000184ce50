"""The example third-party connector, as an installed distribution, is found through its entry
point, documents every option, and passes the contract kit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.cli import ROOT

EXAMPLE = ROOT / "examples" / "connector-hello"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example as an installed distribution: its package on the path beside a dist-info
    written from its own pyproject.toml (name, version, entry points), which is what
    importlib.metadata reads. Not `pip install`: that needs build tools (wheel) this
    environment need not have, and the entry-point lookup is the part under test."""
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    target = tmp_path_factory.mktemp("site")
    shutil.copytree(EXAMPLE / "cockpit_hello", target / "cockpit_hello")
    dist = target / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    groups = project["entry-points"]
    (dist / "entry_points.txt").write_text(
        "".join(
            f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items())
            for group, eps in groups.items()
        )
    )
    return target


def _env(site: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}


def test_the_installed_example_is_listed_with_help_for_every_option(site: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "cockpit", "connectors", "--json"],
        capture_output=True,
        text=True,
        env=_env(site),
        cwd=site,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    (hello,) = [row for row in json.loads(out.stdout) if row["type"] == "hello"]
    assert hello["distribution"] == "cockpit-connector-hello"
    assert [(o["key"], o["type"]) for o in hello["options"]] == [
        ("url", "url"),
        ("token", "secret"),
        ("environments", "list of strings"),
    ]
    assert all(o["help"] for o in hello["options"])


def test_the_installed_example_passes_the_contract_kit(site: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
        capture_output=True,
        text=True,
        env=_env(site),
        cwd=EXAMPLE,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert " passed" in out.stdout and "failed" not in out.stdout
