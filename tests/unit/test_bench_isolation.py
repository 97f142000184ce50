"""Benchmarks never write to the operator's own data or config folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_importing_the_benchmarks_moves_the_data_and_config_folders_away(tmp_path: Path) -> None:
    mine = tmp_path / "operator"
    env = {**os.environ, "XDG_DATA_HOME": str(mine / "data"), "XDG_CONFIG_HOME": str(mine)}
    code = (
        "import bench, os\n"
        "from cockpit.audit.store import default_path\n"
        "print(os.environ['XDG_CONFIG_HOME']); print(default_path())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).parents[2],
        check=False,
    )
    assert out.returncode == 0, out.stderr
    conf, audit = out.stdout.split()
    assert not conf.startswith(str(mine)) and not audit.startswith(str(mine))
    assert "cockpit-bench-home-" in audit
