"""An action's plan on the command line: what it acts on, the final decision, the exit code."""

from __future__ import annotations

import os
from pathlib import Path

from tests.cli import cockpit
from tests.fixtures.argocd.fake import CONFIG as ARGOCD_CONFIG
from tests.fixtures.argocd.fake import TOKEN, FakeArgoCD

ROLLBACK = ("rollback", "payments", "prod")
REASON = ("--reason", "5xx since 2.7.12")


def _decision(stdout: str) -> str:
    (line,) = [line for line in stdout.splitlines() if line.startswith("policy: ")]
    return line


def test_the_plan_first_line_names_the_built_in_demo_fleet(tmp_path: Path) -> None:
    out = cockpit(*ROLLBACK, *REASON, "--confirm", "payments", cwd=tmp_path)
    assert out.stdout.splitlines()[0] == "acts on: the built-in demo fleet"


def test_the_plan_first_line_names_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "lab.yaml"
    config.write_text("connectors:\n  - name: lab\n    type: demo\n")
    out = cockpit("-c", str(config), *ROLLBACK, *REASON, "--confirm", "payments", cwd=tmp_path)
    assert out.stdout.splitlines()[0] == f"acts on: config {config}"


def test_a_plan_that_would_run_is_not_a_usage_error(tmp_path: Path) -> None:
    out = cockpit(*ROLLBACK, *REASON, "--confirm", "payments", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert _decision(out.stdout) == "policy: allowed"
    assert "nothing done: add --yes to execute" in out.stderr


def test_a_plan_with_a_short_reason_shows_the_refusal_and_exits_3(tmp_path: Path) -> None:
    out = cockpit(*ROLLBACK, "--reason", "5xx", "--confirm", "payments", cwd=tmp_path)
    assert out.returncode == 3, out.stdout + out.stderr
    assert _decision(out.stdout).startswith("policy: refused: a reason of at least 10 characters")


def test_a_refused_action_with_yes_never_prints_allowed(tmp_path: Path) -> None:
    out = cockpit(*ROLLBACK, "--reason", "5xx", "--confirm", "payments", "--yes", cwd=tmp_path)
    assert out.returncode == 3, out.stdout + out.stderr
    assert _decision(out.stdout).startswith("policy: refused")
    assert "succeeded" not in out.stdout


def test_a_plan_without_the_typed_confirmation_is_refused_and_says_how(tmp_path: Path) -> None:
    config = tmp_path / "typed.yaml"
    config.write_text(
        "connectors:\n  - name: demo\n    type: demo\n"
        "policy:\n  environments:\n    prod:\n      typed_confirmation: true\n"
    )
    out = cockpit("-c", str(config), *ROLLBACK, *REASON, cwd=tmp_path)
    assert out.returncode == 3, out.stdout + out.stderr
    assert _decision(out.stdout).startswith("policy: refused")
    assert "add --confirm payments" in out.stderr


def test_a_prod_rollback_needs_no_confirm_by_default_a_promote_does(tmp_path: Path) -> None:
    """--confirm follows the dialog's rule: forward changes (promote, sync) in production."""
    out = cockpit(*ROLLBACK, *REASON, cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert _decision(out.stdout) == "policy: allowed"
    assert "--confirm" not in out.stderr
    out = cockpit("promote", "checkout", "prod", *REASON, cwd=tmp_path)
    assert "add --confirm checkout" in out.stderr
    assert "type checkout to confirm" in _decision(out.stdout)


def test_the_argocd_auto_sync_rollback_is_refused_in_the_plan(tmp_path: Path) -> None:
    fake = FakeArgoCD()
    fake.apps["shop-prod"]["spec"]["syncPolicy"] = {"automated": {"prune": True}}
    config = tmp_path / "argocd.yaml"
    env = {**os.environ, "ARGOCD_TOKEN": TOKEN}
    with fake.serve() as url:
        config.write_text(ARGOCD_CONFIG.format(url=url))
        out = cockpit(
            "-c", str(config), "rollback", "shop", "prod", *REASON, "--confirm", "shop",
            env=env, cwd=tmp_path,
        )  # fmt: skip
    assert out.returncode == 3, out.stdout + out.stderr
    assert "auto-sync" in _decision(out.stdout)
    assert not fake.seen("POST"), "a refused plan never reaches Argo CD"
