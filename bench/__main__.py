"""`python -m bench [NAME ...]`: every benchmark in turn, each in its own process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PARTS = (
    "fleet",
    "judge",
    "audit",
    "github",
    "argocd",
    "kubernetes",
    "screen",
    "incident",
    "incident_view",
    "store",
    "notify",
    "failover",
    "soak",
)


def main(argv: list[str]) -> int:
    failed = 0
    for name in argv or PARTS:
        if not (Path(__file__).parent / f"{name}.py").exists():
            print(f"== bench.{name}: not present")
            continue
        print(f"== bench.{name}", flush=True)
        failed |= subprocess.run([sys.executable, "-m", f"bench.{name}"]).returncode
    return failed


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
