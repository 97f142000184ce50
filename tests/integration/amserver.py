"""A real Alertmanager for tests: Debian's prometheus-alertmanager on a loopback port.

Clustering is off (`--cluster.listen-address=` empty: no gossip port, no peers to wait
for), silences and the notification log live in a temporary --storage.path, and the only
receiver does nothing, so posted alerts are routed, silenced and inhibited for real but
page nobody.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.integration.service import ServiceProcess, binary, free_port

CONFIG = """\
route:
  receiver: nobody
  group_wait: 1s
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [service, env]
receivers:
  - name: nobody
"""


class AlertmanagerServer(ServiceProcess):
    """One Alertmanager process; `post` sends alerts as Prometheus would."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir, "alertmanager")

    def start(self, ready_within: float = 30.0) -> None:
        exe = binary("prometheus-alertmanager", "install Debian's prometheus-alertmanager")
        config = self.workdir / "alertmanager.yml"
        config.write_text(CONFIG)
        port = free_port()
        argv = [
            exe,
            f"--config.file={config}",
            f"--storage.path={self.workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ]
        self.launch(argv, port, ready_within)

    def call(self, method: str, path: str, body: object = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=5) as resp:
            text = resp.read()
        return json.loads(text) if text else None

    def post(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        """POST /api/v2/alerts, then wait until Alertmanager has routed every one of them
        (an alert is `unprocessed` until then, and not yet silenced or inhibited)."""
        self.call("POST", "/api/v2/alerts", list(alerts))
        names = {a["labels"]["alertname"] for a in alerts}

        def routed() -> bool:
            got = self.call("GET", "/api/v2/alerts")
            seen = {a["labels"]["alertname"]: a["status"]["state"] for a in got}
            return all(seen.get(n) not in (None, "unprocessed") for n in names)

        self.wait_for(routed, 15.0, "alerts routed")
