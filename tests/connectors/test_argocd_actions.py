"""Sync and rollback through the audited executor (`cockpit sync|rollback`) on a loopback fake."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cockpit.audit import EventType, open_store
from cockpit.clock import FixedClock
from connectors.argocd import ArgoCDConnector
from tests.fixtures.argocd.fake import TOKEN, FakeArgoCD

CONFIG = """\
environments: [dev, staging, prod]
audit:
  path: {audit}
policy:
  environments:
    prod:
      unknown_gates: warn
connectors:
  - name: argocd
    type: argocd
    options:
      url: {url}
      token: env:ARGOCD_TOKEN
      projects: [shop, payments, data]
      environments:
        production: prod
        search-prd: prod
"""


class Cli:
    def __init__(self, fake: FakeArgoCD, folder: Path, url: str) -> None:
        self.fake = fake
        self.audit = folder / "audit.sqlite3"
        self.config = folder / "cockpit.yaml"
        self.config.write_text(CONFIG.format(audit=self.audit, url=url))
        self.env = {
            **os.environ,
            "ARGOCD_TOKEN": TOKEN,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            "XDG_DATA_HOME": str(folder / "data"),
            "XDG_CONFIG_HOME": str(folder / "config"),
        }

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cockpit", *args, "-c", str(self.config)],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=60,
        )

    def records(self) -> list[Any]:
        store = open_store(
            str(self.audit),
            clock=FixedClock(datetime(2026, 8, 24, 10, 0, tzinfo=UTC)),
            create=False,
        )
        try:
            assert store.verify().ok
            return [r for r in store.records() if r.event_type.value.startswith("action.")]
        finally:
            store.close()


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    fake = FakeArgoCD()
    fake.projects = {}  # no sync windows: the outcome must not depend on the time of day
    with fake.serve() as url:
        yield Cli(fake, tmp_path, url)


def posts(fake: FakeArgoCD) -> list[tuple[str, object]]:
    return [(r.path, r.body) for r in fake.requests if r.method == "POST"]


def test_sync_sends_the_documented_request_and_is_audited(cli: Cli) -> None:
    out = cli(
        "sync",
        "shop",
        "prod",
        "--reason",
        "drift on replicas after hotfix",
        "--confirm",
        "shop",
        "--yes",
    )
    assert out.returncode == 0, out.stderr
    ((path, body),) = posts(cli.fake)
    assert path == "/api/v1/applications/shop-prod/sync"
    assert isinstance(body, dict)
    requested_by = body["infos"][1]["value"]
    assert body == {
        "name": "shop-prod",
        "revision": "main",
        "prune": False,
        "dryRun": False,
        "strategy": {"hook": {}},
        "infos": [
            {"name": "Reason", "value": "drift on replicas after hotfix"},
            {"name": "Requested by", "value": requested_by},
        ],
        "appNamespace": "argocd",
    }
    requested, done = cli.records()
    assert (requested.event_type, done.event_type) == (
        EventType.ACTION_REQUESTED,
        EventType.ACTION_SUCCEEDED,
    )
    assert done.action == "sync" and done.actor.user == requested_by
    assert (done.target.service, done.target.environment, done.target.source) == (
        "shop",
        "prod",
        "argocd",
    )
    assert done.target.remote_id == "shop-prod"
    assert done.reason == "drift on replicas after hotfix"


def test_rollback_warns_sends_the_history_id_and_is_audited(cli: Cli) -> None:
    plan_only = cli(
        "rollback", "shop", "prod", "--to", "1a2b3c4", "--reason", "5xx since 2.3.9 rollout"
    )
    assert f"warning: {ArgoCDConnector.ROLLBACK_WARNING}" in plan_only.stdout
    assert posts(cli.fake) == []  # without --yes nothing is sent

    out = cli(
        "rollback",
        "shop",
        "prod",
        "--to",
        "1a2b3c4",
        "--reason",
        "5xx since 2.3.9 rollout",
        "--confirm",
        "shop",
        "--yes",
    )
    assert out.returncode == 0, out.stderr
    assert posts(cli.fake) == [
        (
            "/api/v1/applications/shop-prod/rollback",
            {"name": "shop-prod", "id": 41, "prune": False, "appNamespace": "argocd"},
        )
    ]
    assert "auto-sync" in out.stdout
    requested, done = cli.records()
    assert (requested.event_type, done.event_type) == (
        EventType.ACTION_REQUESTED,
        EventType.ACTION_SUCCEEDED,
    )
    assert done.action == "rollback" and done.request_id == requested.request_id
    assert (done.target.from_version, done.target.to_version, done.target.remote_id) == (
        "2.3.9",
        "1a2b3c4",
        "41",
    )
    assert done.extra["result"].endswith(ArgoCDConnector.ROLLBACK_WARNING)


def test_a_rollback_argo_cd_would_refuse_is_refused_by_the_plan(cli: Cli) -> None:
    out = cli(
        "rollback",
        "shop",
        "staging",
        "--to",
        "5b6a7c8",
        "--reason",
        "canary of 2.4.0 is bad",
        "--yes",
    )
    assert out.returncode == 3, "refused by policy and pre-checks, like any refusal"
    assert "policy: refused: argocd: Argo CD refuses to roll back" in out.stdout
    assert "auto-sync is on" in out.stderr
    assert posts(cli.fake) == []
    (refused,) = cli.records()
    assert refused.event_type == EventType.ACTION_REFUSED
    assert "auto-sync is on" in refused.extra["refusal"][0]
