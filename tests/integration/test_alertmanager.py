"""Against a real Alertmanager (Debian's prometheus-alertmanager): alerts posted to it are
listed by the connector, silenced through `cockpit silence` (the executor, policy and audit
log), seen suppressed with silencedBy, and expired again with `cockpit unsilence`."""

from __future__ import annotations

import os
import pwd
from pathlib import Path
from typing import Any

import httpx

from cockpit.audit import open_store
from cockpit.clock import SystemClock
from cockpit.connect.options import parse
from cockpit.model import Alert, Severity
from connectors.alertmanager import AlertmanagerConnector, AlertmanagerOptions
from tests.cli import cockpit
from tests.integration.amserver import AlertmanagerServer

ALERTS: list[dict[str, Any]] = [
    {
        "labels": {"alertname": "HighErrorRate", "service": "web", "env": "prod",
                   "severity": "critical"},
        "annotations": {"summary": "5xx ratio above 2% for 5m"},
        "generatorURL": "http://prometheus:9090/graph?g0.expr=errors",
    },
    {
        "labels": {"alertname": "LatencyHigh", "service": "web", "env": "prod",
                   "severity": "warning"},
        "annotations": {"description": "p99 above 800ms"},
    },
    {"labels": {"alertname": "DiskFull", "instance": "db1", "severity": "page"}},
]  # fmt: skip
REASON = "rolling back web, errors are understood"


async def listed(url: str) -> dict[str, Alert]:
    options = parse(AlertmanagerOptions, {"url": url})
    async with httpx.AsyncClient(timeout=5) as client:
        c = AlertmanagerConnector("alertmanager", options, client=client, clock=SystemClock())
        return {a.name: a for a in await c.alerts()}


def config(tmp_path: Path, url: str, policy: str = "") -> Path:
    path = tmp_path / "cockpit.yaml"
    path.write_text(
        f"environments: [staging, prod]\naudit:\n  path: {tmp_path / 'audit.sqlite3'}\n"
        f"connectors:\n  - name: alertmanager\n    type: alertmanager\n"
        f"    options:\n      url: {url}\n{policy}"
    )
    return path


def records(tmp_path: Path) -> list[Any]:
    store = open_store(str(tmp_path / "audit.sqlite3"), clock=SystemClock(), create=False)
    try:
        return list(store.records())
    finally:
        store.close()


async def test_alerts_posted_to_alertmanager_are_listed_with_their_state(
    alertmanager_server: AlertmanagerServer,
) -> None:
    alertmanager_server.post(ALERTS)
    got = await listed(alertmanager_server.url)
    errors = got["HighErrorRate"]
    assert (errors.service, errors.environment, errors.severity) == (
        "web",
        "prod",
        Severity.CRITICAL,
    )
    assert errors.state == "firing" and errors.summary == "5xx ratio above 2% for 5m"
    assert errors.url == "http://prometheus:9090/graph?g0.expr=errors" and errors.fingerprint
    # The inhibit rule (critical over warning, same service and env) holds LatencyHigh back.
    latency = got["LatencyHigh"]
    assert latency.state == "firing" and latency.inhibited_by == (errors.fingerprint,)
    disk = got["DiskFull"]
    assert (disk.service, disk.environment, disk.severity) == ("", "", Severity.CRITICAL)


async def test_silence_and_unsilence_through_the_cockpit_are_audited_and_real(
    alertmanager_server: AlertmanagerServer, tmp_path: Path
) -> None:
    url = alertmanager_server.url
    alertmanager_server.post(ALERTS)
    cfg = config(tmp_path, url)
    done = cockpit("silence", "web", "prod", "--alert", "HighErrorRate", "--duration", "2h",
                   "--reason", REASON, "--ticket", "INC-7", "--yes", "-c", str(cfg))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "succeeded: silence " in done.stdout
    succeeded = [r for r in records(tmp_path) if r.outcome == "succeeded"]
    (record,) = succeeded
    assert (record.action, record.reason, record.ticket) == ("silence", REASON, "INC-7")
    assert record.target is not None and record.target.service == "web"
    silence_id = record.target.remote_id

    silence = alertmanager_server.call("GET", f"/api/v2/silence/{silence_id}")
    assert silence["createdBy"] == pwd.getpwuid(os.getuid()).pw_name
    assert silence["comment"] == f"{REASON} [ticket INC-7]"
    assert silence["status"]["state"] == "active"
    assert {(m["name"], m["value"], m["isRegex"], m["isEqual"]) for m in silence["matchers"]} == {
        ("alertname", "HighErrorRate", False, True),
        ("service", "web", False, True),
        ("env", "prod", False, True),
        ("severity", "critical", False, True),
    }

    async def silenced() -> Alert:  # as the connector sees it
        return (await listed(url))["HighErrorRate"]

    errors = await silenced()
    assert errors.state == "firing" and errors.silenced_by == (silence_id,)

    done = cockpit("unsilence", "web", "prod", "--alert", "HighErrorRate",
                   "--reason", "rollback done, page again", "--yes", "-c", str(cfg))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert alertmanager_server.call("GET", f"/api/v2/silence/{silence_id}")["status"] == {
        "state": "expired"
    }

    def paging_again() -> bool:
        got = alertmanager_server.call("GET", "/api/v2/alerts")
        status = next(a["status"] for a in got if a["labels"]["alertname"] == "HighErrorRate")
        return bool(status["state"] == "active" and status["silencedBy"] == [])

    alertmanager_server.wait_for(paging_again, 10, "HighErrorRate active again")
    assert (await silenced()).silenced_by == ()
    assert [r.action for r in records(tmp_path) if r.outcome == "succeeded"] == [
        "silence",
        "unsilence",
    ]


async def test_a_silence_policy_refuses_is_audited_and_exits_3(
    alertmanager_server: AlertmanagerServer, tmp_path: Path
) -> None:
    alertmanager_server.post(ALERTS)
    policy = "policy:\n  roles:\n    oncall: [nobody-here]\n  permissions:\n    silence: [oncall]\n"
    cfg = config(tmp_path, alertmanager_server.url, policy)
    done = cockpit("silence", "web", "prod", "--alert", "HighErrorRate", "--duration", "2h",
                   "--reason", REASON, "--yes", "-c", str(cfg))  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr
    assert "needs one of the roles oncall" in done.stderr
    (refused,) = [r for r in records(tmp_path) if r.action == "silence"]
    assert (refused.action, refused.outcome, refused.reason) == ("silence", "refused", REASON)
    assert alertmanager_server.call("GET", "/api/v2/silences") == []
