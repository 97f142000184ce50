"""The command line as scripts use it: --help, status --json, connectors, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.cli import cockpit, status_json


def test_help_lists_the_commands_and_exits_0(tmp_path: Path) -> None:
    out = cockpit("--help", cwd=tmp_path)
    assert out.returncode == 0
    for command in (
        "status",
        "config",
        "connectors",
        "audit",
        "canary",
        "promote",
        "rollback",
        "approve",
    ):
        assert command in out.stdout
    assert "demo fleet" in out.stdout


def test_help_does_not_import_textual(tmp_path: Path) -> None:
    code = "import sys; from cockpit.cli import parser; parser().format_help(); print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_status_json_of_the_demo(tmp_path: Path) -> None:
    out = cockpit("status", "--json", "--seed", "3", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["ok"] is True
    assert [c["name"] for c in data["connectors"]] == ["demo"]
    assert [e["name"] for e in data["environments"]] == ["dev", "staging", "prod"]
    assert len(data["services"]) == 12
    prod = {s["name"]: s["environments"]["prod"] for s in data["services"]}
    assert all("deployment" in cell for cell in prod.values())
    assert any(c["phase"] == "progressing" for c in data["canaries"])
    assert data["drift"] and data["alerts"] and data["approvals"]
    assert data["pipelines"]["total"] > 100


def test_status_exits_1_when_a_connector_fails(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "connectors:\n  - name: gh\n    type: github\n    timeout: 1s\n    options:\n"
        "      base_url: http://127.0.0.1:9\n      token: env:TOKEN_FOR_CLI_TEST\n      repositories: [acme/shop]\n"
    )
    env_token = {"TOKEN_FOR_CLI_TEST": "not-a-real-token"}
    out = status_json(config, env={**os.environ, **env_token}, cwd=tmp_path)
    assert out.returncode == 1
    data = json.loads(out.stdout)
    assert data["ok"] is False and data["connectors"][0]["error"]
    assert "not-a-real-token" not in out.stdout + out.stderr
    assert "connector gh failed" in out.stderr


def test_connectors_lists_every_builtin_type(tmp_path: Path) -> None:
    out = cockpit("connectors", "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    types = {row["type"]: row for row in json.loads(out.stdout)}
    assert set(types) >= {
        "demo",
        "github",
        "gitlab",
        "jenkins",
        "argocd",
        "kubernetes",
        "argo-rollouts",
        "flagger",
        "prometheus",
    }
    assert "approve" in types["github"]["actions"]
    assert "drift" in types["argocd"]["capabilities"]
