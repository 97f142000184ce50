"""The programs tests run for real (Prometheus, Alertmanager, openssl) and the optional C
extensions (setup.py): found, or skipped.

Missing on a developer's machine, a test skips and says what to install; under CI=true,
where `.ci/run` installs them, a missing one fails the test instead.
"""

from __future__ import annotations

import os
import shutil

import pytest


def binary(name: str, hint: str) -> str:
    """The path of `name`; skip without it (saying `hint`), but fail under CI=true."""
    found = shutil.which(name)
    if found is None and os.access(f"/usr/bin/{name}", os.X_OK):
        found = f"/usr/bin/{name}"
    if found is not None:
        return found
    missing(f"{name} is not on PATH nor in /usr/bin: {hint}")
    raise AssertionError("unreachable")  # missing() skips or fails


def built(module: str, available: bool) -> None:
    """Skip unless the optional C extension `module` was built; fail instead under CI=true."""
    if not available:
        missing(
            f"{module} is not built (no C compiler when the package was installed): install "
            "gcc, then `rm .venv/.installed` and run `make test` again"
        )


def missing(reason: str) -> None:
    """Skip the test, saying `reason`; fail it under CI=true, where nothing may be missing."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)
