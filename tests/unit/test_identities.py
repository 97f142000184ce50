"""Segregation of duties across systems: one person, whatever their login is called."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from cockpit import config
from cockpit.actions.policy import ALLOWED, REFUSED, Operator, Policy
from cockpit.config import PersonConfig, PolicyConfig
from cockpit.connect import options as opt
from cockpit.errors import ConfigError
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import Action, ActionKind, Environment, PendingApproval

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
ALICE = Operator("alice")
PEOPLE = {
    "alice": PersonConfig(principal="alice@corp.example", github="alice-gh", gitlab="asmith"),
    "bob": PersonConfig(github="bobby", jenkins="bob.jones"),
}
SYSTEMS = {"gh": "github", "gl": "gitlab", "ci": "jenkins", "cockpit": "two-person"}
ENVS = (Environment("staging", 0), Environment("prod", 1, True))


def decide(
    requested_by: str,
    source: str = "gh",
    environment: str = "prod",
    policy: dict | None = None,
    approvals: tuple[str, ...] = (),
) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    approval = PendingApproval(
        id="a1",
        service="web",
        environment=environment,
        kind="deployment",
        title="deploy web",
        requested_by=requested_by,
        requested_at=NOW,
        source=source,
        observed_at=NOW,
        approvals=approvals,
    )
    rules = Policy(
        opt.parse(PolicyConfig, policy or {}),
        production={"prod"},
        people=PEOPLE,
        systems=SYSTEMS,
    )
    action = Action(ActionKind.APPROVE, "web", environment, source=source, approval_id="a1")
    snapshot = FleetSnapshot.empty(ENVS, NOW)
    d = rules.evaluate(action, ALICE, snapshot, NOW, approval=approval)
    return d.outcome, d.reasons, d.notes


@pytest.mark.parametrize(
    ("login", "source"), [("alice-gh", "gh"), ("asmith", "gl"), ("alice@corp.example", "cockpit")]
)
def test_the_author_cannot_approve_under_another_login(login: str, source: str) -> None:
    outcome, reasons, _ = decide(login, source)
    assert outcome == REFUSED
    assert any("segregation of duties" in r for r in reasons), reasons


def test_someone_else_mapped_may_approve() -> None:
    assert decide("bobby")[0] == ALLOWED
    assert decide("bob.jones", "ci")[0] == ALLOWED


def test_an_unmapped_remote_author_is_refused_in_production_by_default() -> None:
    outcome, reasons, _ = decide("mystery-bot")
    assert outcome == REFUSED
    assert any("mystery-bot" in r and "identities" in r for r in reasons), reasons


def test_an_unmapped_remote_author_is_a_warning_outside_production() -> None:
    outcome, _, notes = decide("mystery-bot", environment="staging")
    assert outcome == ALLOWED and any("mystery-bot" in n for n in notes)


def test_policy_may_let_an_unmapped_author_through_production_with_a_warning() -> None:
    policy = {"environments": {"prod": {"unmapped_identity": "warn"}}}
    outcome, _, notes = decide("mystery-bot", policy=policy)
    assert outcome == ALLOWED and any("mystery-bot" in n for n in notes)


def test_an_earlier_approval_under_another_login_counts_as_the_same_person() -> None:
    outcome, reasons, _ = decide("bobby", approvals=("alice-gh",))
    assert outcome == REFUSED and any("already approved" in r for r in reasons), reasons


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "cockpit.yaml"
    path.write_text(text)
    return path.as_posix()


def test_identities_load_from_config(tmp_path: Path) -> None:
    text = (
        "identities:\n  alice: {principal: alice@corp.example, github: alice-gh}\n"
        "policy:\n  unmapped_identity: warn\n"
    )
    settings = config.load(write(tmp_path, text), env={})
    assert settings.identities["alice"].github == "alice-gh"
    assert settings.policy.unmapped_identity == "warn"


def test_an_unknown_identity_key_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="github"):
        config.load(write(tmp_path, "identities:\n  alice: {githb: alice-gh}\n"), env={})


def test_one_login_claimed_by_two_operators_is_refused(tmp_path: Path) -> None:
    text = "identities:\n  alice: {github: shared}\n  bob: {github: shared}\n"
    with pytest.raises(ConfigError, match="shared"):
        config.load(write(tmp_path, text), env={})
