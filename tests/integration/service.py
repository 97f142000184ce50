"""A real service binary for tests: found or skipped, started on a loopback port, stopped.

Prometheus and Alertmanager share this: both answer `/-/ready`, log to a file in their
temporary folder, and must be gone when the test ends.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.binaries import binary as binary


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServiceProcess:
    """One process of `name`, logging to `<workdir>/<name>.log`, served at `self.url`."""

    def __init__(self, workdir: Path, name: str) -> None:
        self.workdir = workdir
        self.name = name
        self.url = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = workdir / f"{name}.log"

    def launch(self, argv: Sequence[str], port: int, ready_within: float) -> None:
        """Start `argv` (listening on `port`) and wait until it answers /-/ready."""
        self.url = f"http://127.0.0.1:{port}"
        with self._log.open("wb") as log:
            self._proc = subprocess.Popen(list(argv), stdout=log, stderr=subprocess.STDOUT)
        self.wait_for(self._ready, ready_within, "ready")

    def _ready(self) -> bool:
        assert self._proc is not None
        if self._proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
        try:
            with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as resp:
                return bool(resp.status == 200)
        except (urllib.error.URLError, ConnectionError):
            return False  # not listening yet, or still loading (503)

    def wait_for(self, condition: Callable[[], bool], within: float, what: str) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.05)  # the interval between checks of the condition, not a guess
        self.stop()
        raise RuntimeError(f"{self.name}: not {what} within {within:g}s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        return self._log.read_text(errors="replace")[-3000:] if self._log.exists() else ""

    def stop(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=5)
