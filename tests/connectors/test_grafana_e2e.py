"""Grafana end to end: `cockpit rollback --yes` annotates over loopback HTTP, as scripts run it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cockpit.audit import EventType, open_store
from cockpit.clock import SystemClock
from connectors.grafana.mapping import epoch_ms
from tests.cli import cockpit, status_json
from tests.fixtures.gitlab.fake import loopback
from tests.fixtures.grafana.fake import TOKEN, GrafanaFake

CONFIG = """\
environments: [dev, staging, {{name: prod, production: true}}]
connectors:
  - name: demo
    type: demo
    options: {{seed: 7, services: 12}}
  - name: grafana
    type: grafana
    timeout: 5s
    options:
      url: {url}
      token: env:GRAFANA_TOKEN
      tags: [team:sre]
audit:
  path: {audit}
"""


def test_a_rollback_from_the_command_line_is_annotated_with_its_audit_record(
    tmp_path: Path,
) -> None:
    fake = GrafanaFake()
    audit = tmp_path / "audit.sqlite3"
    with loopback(fake.handle) as url:
        config = tmp_path / "cockpit.yaml"
        config.write_text(CONFIG.format(url=url, audit=audit))
        out = cockpit(
            "-c", str(config), "rollback", "cart", "prod",
            "--reason", "5xx since the deploy", "--confirm", "cart", "--yes",
            env={**os.environ, "GRAFANA_TOKEN": TOKEN},
            cwd=tmp_path,
        )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert TOKEN not in out.stdout + out.stderr
    store = open_store(str(audit), clock=SystemClock(), create=False)
    try:
        (ok,) = [r for r in store.records() if r.event_type == EventType.ACTION_SUCCEEDED]
    finally:
        store.close()
    (body,) = fake.posted
    target = ok.target
    assert target is not None
    assert body["tags"] == [
        "cockpit",
        "action:rollback",
        "service:cart",
        "env:prod",
        f"version:{target.to_version}",
        "team:sre",
    ]
    assert body["text"] == (
        f"rollback cart {target.from_version}→{target.to_version} in prod by "
        f"{ok.actor.user}: 5xx since the deploy (audit #{ok.seq})"
    )
    assert body["time"] == epoch_ms(ok.ts)


def test_status_json_lists_the_annotations_read_over_loopback(tmp_path: Path) -> None:
    fake = GrafanaFake()
    with loopback(fake.handle) as url:
        config = tmp_path / "cockpit.yaml"
        config.write_text(CONFIG.format(url=url, audit=tmp_path / "audit.sqlite3"))
        out = status_json(config, env={**os.environ, "GRAFANA_TOKEN": TOKEN}, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert TOKEN not in out.stdout + out.stderr
    data = json.loads(out.stdout)
    assert [(c["name"], c["ok"]) for c in data["connectors"]] == [
        ("demo", True),
        ("grafana", True),
    ]
    deploy = next(a for a in data["annotations"] if a["id"] == "1187")
    assert deploy == {
        "id": "1187",
        "at": "2026-08-24T09:20:00Z",
        "end": "2026-08-24T09:25:00Z",
        "text": "Deploy web v2.4.0 to prod (run #412, CAB-2291)",
        "tags": ["deploy", "service:web", "env:prod", "version:2.4.0"],
        "service": "web",
        "environment": "prod",
        "author": "ci-bot",
        "source": "grafana",
    }
    (get,) = fake.requests
    assert get.url.params["type"] == "annotation"
