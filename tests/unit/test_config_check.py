"""`cockpit config check` names every problem of a file in one run; nothing starts on one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cockpit import config
from cockpit.errors import ConfigError, ConfigProblems
from tests.cli import cockpit

THREE_MISTAKES = """\
environments: [dev, prod]
connectors:
  - name: ci
    type: demo
    interval: soon
  - name: gh
    type: githbu
keys:
  promte: p
"""

# file:line: field: message, after the command's prefix
PROBLEM_LINE = re.compile(
    r"^cockpit: config error: (?P<file>\S+):(?P<line>\d+): (?P<field>\S+): .+$"
)


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "cockpit.yaml"
    path.write_text(text)
    return str(path)


def problems_of(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        config.load(write(tmp_path, text), env=env or {})
    return [f"{p.line}: {p.field}" for p in info.value.problems]


def test_a_file_with_three_mistakes_prints_three_lines_and_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, THREE_MISTAKES)
    out = cockpit("config", "check", "--config", path, cwd=tmp_path)
    assert out.returncode == 2
    lines = out.stderr.splitlines()
    assert len(lines) == 3, out.stderr
    found = [PROBLEM_LINE.match(line) for line in lines]
    assert all(found), lines
    assert [(m["file"], m["line"], m["field"]) for m in found if m] == [
        (path, "5", "connectors[0].interval"),
        (path, "7", "connectors[1].type"),
        (path, "9", "keys.promte"),
    ]
    assert "did you mean 'github'" in lines[1] and "did you mean 'action.promote'" in lines[2]


def test_the_cockpit_refuses_to_start_and_names_every_problem(tmp_path: Path) -> None:
    """Start-up fails closed on the whole set, before the UI is imported."""
    path = write(tmp_path, THREE_MISTAKES)
    out = cockpit("--config", path, cwd=tmp_path)
    assert out.returncode == 2
    assert len(out.stderr.splitlines()) == 3, out.stderr
    with pytest.raises(ConfigProblems) as info:
        config.load(path, env={})
    assert len(info.value.problems) == 3


def test_an_empty_config_file_is_an_error_not_the_demo(tmp_path: Path) -> None:
    path = write(tmp_path, "# nothing configured yet\n")
    out = cockpit("config", "check", "--config", path, cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr == (
        f"cockpit: config error: {path}: empty config: the file has no settings "
        "(the demo runs only without a config file)\n"
    )


def test_problems_in_several_sections_and_nested_options_are_all_named(tmp_path: Path) -> None:
    text = """\
environments: [dev, prod]
connectors:
  - name: gh
    type: github
    options:
      token: ghp_pasted_value
      repositories: [acme/shop, not-a-repo]
      runs_per_repoo: 5
  - name: gh
    type: demo
policy:
  environments:
    prd: {}
"""
    assert problems_of(tmp_path, text) == [
        "6: connectors[0].options.token",
        "7: connectors[0].options.repositories[1]",
        "8: connectors[0].options.runs_per_repoo",
        "9: connectors[1].name",
        "13: policy.environments.prd",
    ]


def test_every_unresolvable_secret_is_named(tmp_path: Path) -> None:
    text = """\
connectors:
  - name: argo
    type: argocd
    options: {url: "https://argocd.example.com", username: ops, password: env:ARGO_PW}
  - name: grafana
    type: grafana
    options: {url: "https://grafana.example.com", token: env:GRAFANA_TOKEN}
"""
    assert problems_of(tmp_path, text) == [
        "4: connectors[0].options.password",
        "7: connectors[1].options.token",
    ]


def test_an_environment_in_error_is_not_reported_again_as_unknown(tmp_path: Path) -> None:
    text = """\
environments:
  - dev
  - {name: prod, production: maybe}
policy:
  environments:
    prod: {}
"""
    assert problems_of(tmp_path, text) == ["3: environments[1].production"]


def test_an_unknown_start_view_or_theme_is_refused_at_load(tmp_path: Path) -> None:
    # Both used to pass the check: the view fell back to the overview unsaid, and the theme
    # stopped the cockpit with Textual's InvalidThemeError at start.
    found = problems_of(tmp_path, "ui:\n  theme: nope\n  start_view: nowhere\n")
    assert found == ["1: ui"]
    with pytest.raises(ConfigError) as info:
        config.load(write(tmp_path, "ui:\n  theme: nope\n  start_view: nowhere\n"), env={})
    (problem,) = info.value.problems
    assert "start_view: no view 'nowhere'" in str(problem) and "canary" in str(problem)
    assert "theme: no theme 'nope'" in str(problem) and "nord" in str(problem)
    settings = config.load(write(tmp_path, "ui:\n  theme: nord\n  start_view: canary\n"), env={})
    assert (settings.ui.theme, settings.ui.start_view) == ("nord", "canary")
