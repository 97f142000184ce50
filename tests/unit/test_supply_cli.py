"""`cockpit promote` on the demo: the plan lists the supply-chain gates, a failing one refuses
a production promote (exit 3), `--json` carries their facts, and a promote that runs keeps
them in its audit record."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cockpit.audit import EventType, open_store
from cockpit.clock import FixedClock
from tests.cli import cockpit
from tests.fakes import T0


def env_in(tmp_path: Path) -> dict[str, str]:
    return dict(
        os.environ,
        HOME=str(tmp_path),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        COCKPIT_CONFIG="",
    )


def test_a_failing_licence_gate_refuses_a_production_promote_with_exit_3(tmp_path: Path) -> None:
    out = cockpit(
        "promote", "ledger", "prod", "--reason", "weekly release train", env=env_in(tmp_path)
    )
    assert out.returncode == 3, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    gates = {
        line.split()[1].rstrip(":"): line.split()[0] for line in lines if line.startswith("  ")
    }
    assert gates == {
        "pipeline": "pass",
        "tests": "pass",
        "canary": "unknown",
        "alerts": "pass",
        "provenance": "pass",
        "licences": "fail",
        "scans": "pass",
    }
    assert (
        "  fail     licences: denied licence in 1 of 7 components: "
        "readline-compat@8.2.0 (GPL-3.0-only)" in lines
    )
    policy = next(line for line in lines if line.startswith("policy: "))
    assert policy.startswith("policy: refused:") and "gate licences is fail" in policy


def test_json_plan_carries_each_gate_s_facts(tmp_path: Path) -> None:
    out = cockpit(
        "promote",
        "catalog",
        "prod",
        "--reason",
        "weekly release train",
        "--json",
        env=env_in(tmp_path),
    )
    assert out.returncode == 3, out.stderr
    assert out.stderr.startswith("acts on: the built-in demo fleet")
    plan = json.loads(out.stdout)
    gates = {g["name"]: g for g in plan["gates"]}
    assert gates["scans"]["status"] == "fail"
    assert "py/sql-injection" in gates["scans"]["evidence"]
    assert gates["scans"]["facts"]["scan_digest"].startswith("sha256:")
    assert gates["provenance"]["facts"]["digest"] == plan["digest"]
    assert gates["licences"]["facts"]["components"] == "6"
    assert plan["decision"] == "refused"
    assert any(r.startswith("gate scans is fail") for r in plan["reasons"])


def test_a_promote_that_runs_keeps_the_gates_facts_in_its_audit_record(tmp_path: Path) -> None:
    env = env_in(tmp_path)
    out = cockpit(
        "promote",
        "checkout",
        "prod",
        "--reason",
        "canary metrics clean for 30m",
        "--confirm",
        "checkout",
        "--yes",
        env=env,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    store = open_store(
        str(tmp_path / "data" / "cockpit" / "audit.sqlite3"), clock=FixedClock(T0), create=False
    )
    try:
        done = [r for r in store.records() if r.event_type == EventType.ACTION_SUCCEEDED]
    finally:
        store.close()
    assert len(done) == 1
    gates = {g["name"]: g for g in done[0].evidence["gates"]}
    assert {n: gates[n]["status"] for n in ("provenance", "licences", "scans", "tests")} == {
        "provenance": "pass",
        "licences": "pass",
        "scans": "pass",
        "tests": "pass",
    }
    assert gates["provenance"]["facts"]["digest"] == done[0].target.digest
    assert gates["licences"]["facts"]["sbom_digest"].startswith("sha256:")
    assert gates["tests"]["facts"]["report_format"] == "JUnit XML"
