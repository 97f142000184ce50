"""`webhooks:` in config: each key checked, each problem named with file:line, secrets resolved."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit import config
from cockpit.controller.webhooks_config import flagger_target, github_environment
from cockpit.errors import ConfigProblems

GOOD = """\
environments: [staging, prod]
webhooks:
  max_verdict_age: 2m
  github:
    secret: env:GH_HOOK_SECRET
    token: env:GH_GATE_TOKEN
    services: {acme/cart: cart}
    environments: {production: prod}
    retry: {first: 1s, max: 1m, attempts: 5}
  argo_rollouts: {}
  flagger:
    canaries: {shop/cart: cart/prod}
"""
ENV = {"GH_HOOK_SECRET": "s3cret-hook", "GH_GATE_TOKEN": "ghs_abcdefghijklmnop"}


def _problems(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[str]:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigProblems) as caught:
        config.load(str(path), env=ENV if env is None else env)
    return [str(e) for e in caught.value.problems]


def test_a_good_webhooks_block_is_kept_with_its_secrets_resolved(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(GOOD)
    hooks = config.load(str(path), env=ENV).webhooks
    assert hooks.max_verdict_age == 120
    assert hooks.github is not None and hooks.github.secret.reveal() == "s3cret-hook"
    assert github_environment(hooks.github, "production") == "prod"
    assert github_environment(hooks.github, "staging") == "staging"
    assert hooks.argo_rollouts is not None and hooks.argo_rollouts.enabled
    assert hooks.flagger is not None
    assert flagger_target(hooks.flagger, "shop", "cart") == ("cart", "prod")
    assert flagger_target(hooks.flagger, "shop", "other") is None
    assert "s3cret-hook" not in repr(hooks)


def test_without_a_webhooks_block_nothing_is_served(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("environments: [prod]\n")
    assert not config.load(str(path), env={}).webhooks.any


@pytest.mark.parametrize(
    ("old", "new", "line", "key", "words"),
    [
        ("services: {acme/cart: cart}", "services: {cart: cart}", 7, "services.cart", "owner/repo"),
        ("{production: prod}", "{production: live}", 8, "environments.production", "'live'"),
        ("first: 1s, max: 1m", "first: 1m, max: 1s", 9, "retry.max", "at least retry.first"),
        ("attempts: 5", "attempts: 0", 9, "retry.attempts", "at least 1"),
        ("{shop/cart: cart/prod}", "{shop/cart: cart}", 12, "canaries.shop/cart", "service/env"),
        ("{shop/cart: cart/prod}", "{shop/cart: cart/qa}", 12, "canaries.shop/cart", "'qa'"),
        ("{shop/cart: cart/prod}", "{Shop_X: cart/prod}", 12, "canaries.Shop_X", "namespace/name"),
        ("max_verdict_age: 2m", "max_verdict_age: 0s", 3, "max_verdict_age", "more than zero"),
        ("  argo_rollouts: {}", "  argo_rollout: {}", 10, "argo_rollout", "unknown"),
        ("services:", "api_url: http://example.com\n    services:", 7, "api_url", "https"),
    ],
)
def test_each_webhooks_problem_names_file_line_and_key(
    tmp_path: Path, old: str, new: str, line: int, key: str, words: str
) -> None:
    assert old in GOOD
    [problem] = _problems(tmp_path, GOOD.replace(old, new, 1))
    where = f"{tmp_path / 'config.yaml'}:{line}: webhooks."
    assert problem.startswith(where), problem
    assert key in problem and words in problem, problem


def test_an_unresolvable_secret_is_named_by_reference_never_by_value(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, GOOD, env={"GH_GATE_TOKEN": "ghs_abcdefghijklmnop"})
    assert ":5: webhooks.github.secret" in problem and "GH_HOOK_SECRET" in problem
    assert "ghs_abcdefghijklmnop" not in problem


def test_a_secret_written_as_its_value_is_refused(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, GOOD.replace("env:GH_HOOK_SECRET", "hunter2"))
    assert ":5: webhooks.github.secret" in problem and "references" in problem
    assert "hunter2" not in problem
