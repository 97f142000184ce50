"""The team policy's digest, and how the held policy decides in each state (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cockpit import config
from cockpit.actions.policy import ALLOWED, REFUSED, Operator
from cockpit.actions.policy_config import PolicyConfig
from cockpit.errors import ConfigError
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import Action, ActionKind, Environment
from cockpit.team.held_policy import Held, HeldPolicy
from cockpit.team.policy_doc import LocalPolicy, canonical, digest_of, read_file
from cockpit.team.store_config import StoreConfig

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
ROLLBACK = Action(ActionKind.ROLLBACK, "demo", "payments", "prod")
POLICY = "policy:\n  roles: {captains: [alice]}\n  permissions: {rollback: [captains]}\n"


def _doc(tmp_path: Path, text: str, name: str = "p.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return read_file(str(path)).digest


def test_the_digest_names_the_settings_not_their_spelling(tmp_path: Path) -> None:
    plain = _doc(tmp_path, POLICY)
    spelled = _doc(
        tmp_path,
        "# ours\npolicy:\n  permissions:\n    rollback: [captains]   # who\n"
        "  reason_min_length: 10\n  roles:\n    captains: [alice]\n",
        "q.yaml",
    )
    assert plain == spelled
    assert plain != _doc(tmp_path, POLICY.replace("alice", "bob"), "r.yaml")
    assert canonical(PolicyConfig()) == "{}"  # a new setting with a default changes no digest


def test_a_team_policy_names_key_files_by_absolute_path(tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_text("not really a key")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "policy:\n  supply_chain:\n    provenance:\n      builders: [ci]\n"
        "      public_keys: [key.pem]\n"
    )
    with pytest.raises(ConfigError) as caught:
        read_file(str(bad))
    (problem,) = caught.value.problems
    assert str(problem).startswith(f"{bad}:5: policy.supply_chain.provenance.public_keys[0]")
    assert "absolute path" in str(problem)


def test_a_file_without_a_policy_section_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("environments: [dev, prod]\n")
    with pytest.raises(ConfigError, match="no policy: section"):
        read_file(str(path))


def _settings(tmp_path: Path, local: str = "") -> config.Settings:
    path = tmp_path / "config.yaml"
    path.write_text("connectors: []\n" + local)
    settings = config.load(str(path), env={})
    return replace(settings, store=StoreConfig(url="postgresql://op@127.0.0.1:1/team"))


def _decide(policy: HeldPolicy, operator: str = "alice") -> tuple[str, tuple[str, ...], str]:
    snap = FleetSnapshot.empty((Environment("prod", 0, True),), NOW)
    d = policy.evaluate(ROLLBACK, Operator(operator), snap, NOW)
    return d.outcome, d.reasons, d.policy_version


def test_until_read_and_without_a_stored_version_every_action_is_refused(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    policy = HeldPolicy(settings, reader=lambda: Held("none", LocalPolicy(False)))
    outcome, reasons, _ = _decide(policy)
    assert outcome == REFUSED and "has not been read" in reasons[0]
    policy.load()
    outcome, reasons, _ = _decide(policy)
    assert outcome == REFUSED and "`cockpit policy push FILE`" in reasons[0]


def test_an_unreadable_store_refuses_saying_why(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    held = Held("unreadable", LocalPolicy(False), why="cannot connect to 127.0.0.1:1/team")
    policy = HeldPolicy(settings, reader=lambda: held)
    policy.load()
    outcome, reasons, _ = _decide(policy)
    assert outcome == REFUSED and "cannot connect to 127.0.0.1:1/team" in reasons[0]


def test_the_stored_policy_decides_and_is_named_in_the_decision(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    stored = config.opt.parse(
        PolicyConfig, {"roles": {"captains": ["alice"]}, "permissions": {"rollback": ["captains"]}}
    )
    digest = digest_of(stored)
    held = Held("in_force", LocalPolicy(False), 4, digest, config=stored)
    policy = HeldPolicy(settings, reader=lambda: held)
    policy.load()
    assert _decide(policy, "alice")[0] == ALLOWED
    outcome, reasons, version = _decide(policy, "mallory")
    assert outcome == REFUSED and "needs one of the roles captains" in reasons[0]
    assert version == f"team v4 sha256:{digest}"
    assert policy.held.badge() == f"policy v4 {digest[:12]}"


def test_a_local_policy_section_is_compared_by_digest(tmp_path: Path) -> None:
    settings = _settings(tmp_path, POLICY)
    assert settings.policy_written
    none_written = _settings(tmp_path)
    assert not none_written.policy_written
    stored = config.opt.parse(PolicyConfig, {"roles": {"captains": ["bob"]}})
    local = LocalPolicy(True, digest_of(settings.policy))
    held = Held("differs", local, 2, digest_of(stored), config=stored)
    policy = HeldPolicy(settings, reader=lambda: held)
    policy.load()
    outcome, reasons, _ = _decide(policy)
    assert outcome == REFUSED
    assert f"(sha256 {digest_of(stored)[:12]}) is in force" in reasons[0]
    assert f"differs (sha256 {local.digest[:12]})" in reasons[0]
    assert policy.held.badge().endswith("(local policy differs)")


async def test_what_is_automatic_follows_the_stored_policy(tmp_path: Path) -> None:
    """The controller's auto-rollbacks: the stored policy's auto_rollback, not the file's; a
    store unreadable for a moment keeps the last one read (actions are refused meanwhile)."""
    from typing import Any, cast

    from cockpit.actions.identity import current_actor
    from cockpit.actions.service import ActionService
    from cockpit.clock import FixedClock
    from cockpit.wiring import make_hub

    settings = _settings(tmp_path)
    clock = FixedClock(NOW)
    hub = make_hub(settings, clock=clock, live=False)
    service = ActionService(
        settings, hub, cast(Any, None), actor=lambda: current_actor("test"), clock=clock
    )
    policy = service.executor.policy
    assert isinstance(policy, HeldPolicy)
    stored = config.opt.parse(PolicyConfig, {"environments": {"prod": {"auto_rollback": True}}})
    states = iter(
        [
            Held("in_force", LocalPolicy(False), 1, digest_of(stored), config=stored),
            Held("unreadable", LocalPolicy(False), why="connection refused"),
            Held("none", LocalPolicy(False)),
        ]
    )
    policy._reader = lambda: next(states)
    assert not service.autopilot.automatic("prod")  # this host's file says nothing
    await service.refresh_policy()
    assert service.autopilot.automatic("prod")
    await service.refresh_policy()
    assert service.autopilot.automatic("prod") and policy.held.state == "unreadable"
    await service.refresh_policy()
    assert not service.autopilot.automatic("prod")
