"""Typed confirmation of the service name: by default only forward changes in production;
policy may ask for it per action kind (`typed_confirmation: [promote, sync, rollback]`)."""

from __future__ import annotations

from typing import Any

import pytest

from cockpit.actions.policy import Policy
from cockpit.config import PolicyConfig
from cockpit.connect import options
from cockpit.errors import ConfigError
from cockpit.model import ActionKind

K = ActionKind


def typed(prod: dict[str, Any] | None = None) -> dict[tuple[str, ActionKind], bool]:
    config = options.parse(PolicyConfig, {"environments": {"prod": prod or {}}})
    policy = Policy(config, production=["prod"])
    kinds = (K.PROMOTE, K.SYNC, K.ROLLBACK, K.ABORT, K.PAUSE, K.RESTART, K.RETRY, K.SILENCE)
    return {
        (env, k): policy.typed_confirmation(k, env) for env in ("prod", "staging") for k in kinds
    }


def asked(answers: dict[tuple[str, ActionKind], bool]) -> set[tuple[str, str]]:
    return {(env, kind.value) for (env, kind), yes in answers.items() if yes}


def test_typed_confirmation_defaults_to_forward_changes_in_production() -> None:
    assert asked(typed()) == {("prod", "promote"), ("prod", "sync")}


def test_typed_confirmation_can_be_asked_per_action_kind() -> None:
    answers = typed({"typed_confirmation": ["promote", "rollback", "rerun"]})
    # `rerun` still governs restart and retry, as in every other action list.
    assert asked(answers) == {
        ("prod", "promote"),
        ("prod", "rollback"),
        ("prod", "restart"),
        ("prod", "retry"),
    }


def test_typed_confirmation_true_asks_for_every_action_and_false_for_none() -> None:
    assert {k for (env, k) in asked(typed({"typed_confirmation": True})) if env == "prod"} == {
        "promote",
        "sync",
        "rollback",
        "abort",
        "pause",
        "restart",
        "retry",
        "silence",
    }
    assert asked(typed({"typed_confirmation": False})) == set()
    assert asked(typed({"typed_confirmation": ["*"]})) == asked(typed({"typed_confirmation": True}))


def test_an_unknown_action_in_typed_confirmation_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"typed_confirmation\[0\].*did you mean 'promote'"):
        options.parse(PolicyConfig, {"environments": {"prod": {"typed_confirmation": ["promte"]}}})
