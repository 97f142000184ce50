"""A real Prometheus for tests: controlled samples written as TSDB blocks, served on loopback.

The samples are turned into blocks with `promtool tsdb create-blocks-from openmetrics`
before Prometheus starts. With an empty head block there is nothing for recent blocks to
overlap, so even the last minutes are queryable at once (checked with Debian's 2.42); a
scraped exporter would need the full half hour of wall-clock time to build the history.
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.integration.service import ServiceProcess, binary, free_port

Labels = tuple[tuple[str, str], ...]
Samples = Sequence[tuple[int, float]]  # (unix seconds, value)

INSTALL_HINT = "install Debian's prometheus package (it brings promtool)"


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


class PrometheusServer(ServiceProcess):
    """One Prometheus process over a directory of blocks built from OpenMetrics text."""

    def __init__(self, workdir: Path, text: str) -> None:
        super().__init__(workdir, "prometheus")
        self.text = text

    def start(self, ready_within: float = 30.0) -> None:
        promtool = binary("promtool", INSTALL_HINT)
        prometheus = binary("prometheus", INSTALL_HINT)
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
        argv = [
            prometheus,
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=1d",
        ]
        self.launch(argv, port, ready_within)
