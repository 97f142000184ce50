"""A real Prometheus for tests: controlled samples written as TSDB blocks, served on loopback.

The samples are turned into blocks with `promtool tsdb create-blocks-from openmetrics`
before Prometheus starts. With an empty head block there is nothing for recent blocks to
overlap, so even the last minutes are queryable at once (checked with Debian's 2.42); a
scraped exporter would need the full half hour of wall-clock time to build the history.
"""

from __future__ import annotations

import math
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

Labels = tuple[tuple[str, str], ...]
Samples = Sequence[tuple[int, float]]  # (unix seconds, value)

INSTALL_HINT = "install Debian's prometheus package (it brings promtool)"


def binary(name: str, hint: str = INSTALL_HINT) -> str:
    """The path of a Prometheus binary; skip without it, but fail in CI (CI=true)."""
    found = shutil.which(name)
    if found is None and os.access(f"/usr/bin/{name}", os.X_OK):
        found = f"/usr/bin/{name}"
    if found is not None:
        return found
    reason = f"{name} is not on PATH nor in /usr/bin: {hint}"
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def openmetrics(
    gauges: Mapping[str, Mapping[Labels, Samples]],
    counters: Mapping[str, Mapping[Labels, Samples]] | None = None,
) -> str:
    """OpenMetrics text of gauge and counter families: {family: {labels: samples}}, in time
    order. A counter family is named without `_total`; its samples carry the suffix."""
    lines = []
    for kind, families, suffix in (("gauge", gauges, ""), ("counter", counters or {}, "_total")):
        for family, series in families.items():
            lines.append(f"# TYPE {family} {kind}")
            name = family + suffix
            for labels, samples in series.items():
                selector = ",".join(f'{k}="{v}"' for k, v in labels)
                lines.extend(f"{name}{{{selector}}} {number(value)} {ts}" for ts, value in samples)
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def number(value: float) -> str:
    """A sample value as OpenMetrics spells it (NaN, +Inf, -Inf; repr round-trips floats)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrometheusServer:
    """One Prometheus process over a directory of blocks built from OpenMetrics text."""

    def __init__(self, workdir: Path, text: str) -> None:
        self.workdir = workdir
        self.text = text
        self.url = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = workdir / "prometheus.log"

    def start(self, ready_within: float = 30.0) -> None:
        promtool, prometheus = binary("promtool"), binary("prometheus")
        data, source = self.workdir / "data", self.workdir / "samples.om"
        source.write_text(self.text)
        built = subprocess.run(
            [promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if built.returncode != 0:
            raise RuntimeError(f"promtool failed: {built.stderr.strip()[-2000:]}")
        config = self.workdir / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 15s\n")  # nothing to scrape
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        with self._log.open("wb") as log:
            self._proc = subprocess.Popen(
                [
                    prometheus,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={data}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--storage.tsdb.retention.time=1d",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready(ready_within)

    def _wait_ready(self, within: float) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise RuntimeError(f"prometheus exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError):
                pass  # not listening yet, or still loading blocks (503)
            time.sleep(0.1)  # the interval between polls of the condition, not a guess
        self.stop()
        raise RuntimeError(f"prometheus not ready within {within:g}s:\n{self.log_tail()}")

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
