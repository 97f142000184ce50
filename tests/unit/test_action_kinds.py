"""Re-running CI, restarting a deployment and retrying a rollout are separate permissions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cockpit import config
from cockpit.actions import targets
from cockpit.actions.executor import Executor
from cockpit.actions.policy import ALLOWED, REFUSED, Operator, Policy
from cockpit.clock import FixedClock
from cockpit.config import PolicyConfig
from cockpit.connect import options as opt
from cockpit.errors import ConfigError
from cockpit.fleet.snapshot import FleetSnapshot, SourceState
from cockpit.model import (
    Action,
    ActionKind,
    Canary,
    CanaryPhase,
    Deployment,
    Environment,
    Health,
    Observation,
    Stage,
    Status,
)
from tests.cli import cockpit
from tests.fakes import pipeline_run

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
CI_BOT = Operator("ci-bot", frozenset({"ci"}))
SRE = Operator("sam", frozenset({"sre"}))


def fleet() -> FleetSnapshot:
    envs = (Environment("staging", 0), Environment("prod", 1, True))
    run = pipeline_run(
        NOW,
        id="web#8",
        number=8,
        status=Status.FAILED,
        stages=(
            Stage("build", Status.SUCCEEDED),
            Stage("deploy-staging", Status.SUCCEEDED, environment="staging"),
            Stage("deploy-prod", Status.FAILED, environment="prod"),
        ),
    )
    build_only = pipeline_run(
        NOW,
        id="web#9",
        pipeline="pr",
        number=9,
        status=Status.FAILED,
        stages=(Stage("test", Status.FAILED),),
        commit="def5678abc",
        branch="feature",
        version="",
    )
    dep = Deployment(
        "web",
        "prod",
        "1.9.0",
        "sha256:1",
        NOW - timedelta(days=1),
        "carol",
        Status.SUCCEEDED,
        Health.HEALTHY,
        "k8s",
        NOW,
    )
    aborted = Canary(
        "api",
        "prod",
        "3.1.0",
        "3.2.0",
        2,
        6,
        0,
        CanaryPhase.ABORTED,
        NOW - timedelta(minutes=30),
        "rollouts",
        NOW,
        canary_digest="sha256:c",
        remote_id="shop/api",
    )
    obs = Observation("k8s", NOW, deployments=(dep,), runs=(run, build_only), canaries=(aborted,))
    state = SourceState("k8s", "x", True, NOW, NOW, "", 0, 60)
    return FleetSnapshot.empty(envs, NOW).with_observation(obs, state, NOW)


def built(value: targets.Built) -> Action:
    assert isinstance(value, Action), value
    return value


def test_restart_is_its_own_kind_and_carries_environment_and_version() -> None:
    action = built(targets.restart(fleet(), "web", "prod"))
    assert (action.kind, action.environment, action.version) == (
        ActionKind.RESTART,
        "prod",
        "1.9.0",
    )


def test_retry_of_an_aborted_rollout_is_its_own_kind_with_its_environment() -> None:
    action = built(targets.retry(fleet(), "api", "prod"))
    assert action.kind is ActionKind.RETRY
    assert (action.environment, action.version, action.from_version) == ("prod", "3.2.0", "3.1.0")
    assert action.remote_id == "shop/api" and action.source == "rollouts"


def test_retry_needs_an_aborted_rollout() -> None:
    assert targets.retry(fleet(), "web", "prod") == "no aborted canary of web in prod to retry"


def test_rerun_carries_the_environment_its_failed_deploy_targets() -> None:
    action = built(targets.rerun(fleet(), "web#8"))
    assert (action.kind, action.environment, action.remote_id) == (
        ActionKind.RERUN,
        "prod",
        "web#8",
    )


def test_rerun_of_a_build_only_run_has_no_environment() -> None:
    assert built(targets.rerun(fleet(), "web#9")).environment == ""


SPLIT = {
    "roles": {"ci": ["@ci"], "sre": ["@sre"]},
    "permissions": {"rerun": ["ci"], "restart": ["sre"], "retry": ["sre"]},
}


@pytest.mark.parametrize(
    ("kind", "operator", "outcome"),
    [
        (ActionKind.RERUN, CI_BOT, ALLOWED),
        (ActionKind.RESTART, CI_BOT, REFUSED),
        (ActionKind.RETRY, CI_BOT, REFUSED),
        (ActionKind.RESTART, SRE, ALLOWED),
        (ActionKind.RERUN, SRE, REFUSED),
    ],
)
def test_a_role_that_may_rerun_ci_may_not_restart_or_retry(
    kind: ActionKind, operator: Operator, outcome: str
) -> None:
    policy = Policy(opt.parse(PolicyConfig, SPLIT), production={"prod"})
    action = Action(kind, "web", "prod", source="k8s", version="1.9.0")
    assert policy.evaluate(action, operator, fleet(), NOW).outcome == outcome


def test_a_legacy_rerun_permission_still_guards_restart_and_retry() -> None:
    """Before restart and retry were kinds of their own, `rerun` covered them: keep that."""
    legacy = {"roles": {"ci": ["@ci"]}, "permissions": {"rerun": ["ci"]}}
    policy = Policy(opt.parse(PolicyConfig, legacy), production={"prod"})
    for kind in (ActionKind.RESTART, ActionKind.RETRY):
        action = Action(kind, "web", "prod", source="k8s", version="1.9.0")
        assert policy.evaluate(action, SRE, fleet(), NOW).refused
        assert policy.evaluate(action, CI_BOT, fleet(), NOW).allowed


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "cockpit.yaml"
    path.write_text(text)
    return path.as_posix()


def test_config_accepts_restart_and_retry_by_name(tmp_path: Path) -> None:
    text = "policy:\n  roles: {sre: [sam]}\n  permissions: {restart: [sre], retry: [sre]}\n"
    settings = config.load(write(tmp_path, text), env={})
    assert set(settings.policy.permissions) == {"restart", "retry"}


def test_config_refuses_an_unknown_action_kind_with_a_suggestion(tmp_path: Path) -> None:
    text = "policy:\n  roles: {sre: [sam]}\n  permissions: {restrat: [sre]}\n"
    with pytest.raises(ConfigError, match="restart"):
        config.load(write(tmp_path, text), env={})


class _Hub:
    """Just what planning reads: a snapshot and no connectors."""

    def __init__(self, snapshot: FleetSnapshot) -> None:
        self.snapshot = snapshot

    def connector(self, name: str) -> Any:
        return None


def plan_title(action: Action) -> str:
    policy = Policy(PolicyConfig(), production={"prod"})
    hub: Any = _Hub(fleet())
    executor = Executor(hub, policy, None, actor=None, operator=SRE, clock=FixedClock(NOW))  # type: ignore[arg-type]
    return executor.plan(action).title


@pytest.mark.parametrize(
    "action",
    [
        lambda s: targets.restart(s, "web", "prod"),
        lambda s: targets.retry(s, "api", "prod"),
        lambda s: targets.rerun(s, "web#8"),
        lambda s: targets.rerun(s, "web#9"),
    ],
)
def test_no_plan_shows_an_empty_environment_or_an_unknown_version(action: Any) -> None:
    title = plan_title(built(action(fleet())))
    assert "?" not in title and not title.endswith(" in ") and " in  " not in title, title
    assert "PROD" in title or "CI (no deploy environment reported)" in title, title


def test_the_cli_plans_a_restart_as_a_restart_of_the_deployment(tmp_path: Path) -> None:
    out = cockpit(
        "restart", "checkout", "prod", "--reason", "pods wedged after drain", "--confirm", "checkout",
        cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr  # no --yes: the plan only, and it would be allowed
    title = out.stdout.splitlines()[1]  # after "acts on: the built-in demo fleet"
    assert title.startswith("Restart checkout ") and title.endswith(" in PROD (production)")
    assert "?" not in title and "nothing done" in out.stderr
