"""Configuration errors: one clear message with file, line and field, case by case."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit import config
from cockpit.errors import ConfigError
from tests.cli import cockpit


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "cockpit.yaml"
    path.write_text(text)
    return str(path)


def load_error(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        config.load(write(tmp_path, text), env=env or {})
    return info.value


def test_no_file_means_the_demo_fleet() -> None:
    settings = config.load(None, env={})
    assert settings.demo
    assert [c.type for c in settings.connectors] == ["demo"]
    assert [e.name for e in settings.environments] == ["dev", "staging", "prod"]
    assert [e.production for e in settings.environments] == [False, False, True]


def test_env_var_points_at_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "environments: [qa, live]\n")
    settings = config.load(None, env={"COCKPIT_CONFIG": path})
    assert settings.file == path
    assert [(e.name, e.production) for e in settings.environments] == [
        ("qa", False),
        ("live", True),
    ]


def test_a_valid_file_with_connector_options_and_interpolation(tmp_path: Path) -> None:
    text = """\
environments:
  - dev
  - name: prod
    read_only: true
connectors:
  - name: fleet
    type: demo
    interval: 2s
    timeout: 500ms
    options:
      seed: ${SEED}
      services: 4
"""
    settings = config.load(write(tmp_path, text), env={"SEED": "11"})
    (spec,) = settings.connectors
    assert (spec.name, spec.interval, spec.timeout) == ("fleet", 2.0, 0.5)
    assert spec.options.services == 4
    assert settings.read_only_envs == {"prod"}


def test_seed_interpolated_as_a_string_is_refused_where_an_integer_is_needed(
    tmp_path: Path,
) -> None:
    err = load_error(
        tmp_path,
        "connectors:\n  - name: d\n    type: demo\n    options:\n      seed: ${SEED}\n",
        env={"SEED": "eleven"},
    )
    assert err.line == 5 and err.field == "connectors[0].options.seed"
    assert "expected an integer" in err.message


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    err = load_error(tmp_path, "environments: [dev, prod\nconnectors: []\n")
    assert err.file.endswith("cockpit.yaml")
    assert err.line == 2
    assert "YAML syntax error" in err.message


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    err = load_error(tmp_path, "environments: [dev]\nconectors: []\n")
    assert (err.line, err.field) == (2, "conectors")
    assert "did you mean 'connectors'" in err.message


def test_unknown_connector_option_suggests(tmp_path: Path) -> None:
    err = load_error(
        tmp_path,
        "connectors:\n  - name: d\n    type: demo\n    options:\n      sead: 3\n",
    )
    assert (err.line, err.field) == (5, "connectors[0].options.sead")
    assert "did you mean 'seed'" in err.message


def test_wrong_type(tmp_path: Path) -> None:
    err = load_error(tmp_path, "connectors:\n  - name: d\n    type: demo\n    interval: soon\n")
    assert (err.line, err.field) == (4, "connectors[0].interval")
    assert "expected a duration" in err.message


def test_unknown_connector_type(tmp_path: Path) -> None:
    err = load_error(tmp_path, "connectors:\n  - name: d\n    type: dmeo\n")
    assert (err.line, err.field) == (3, "connectors[0].type")
    assert "unknown connector type 'dmeo'" in err.message and "did you mean 'demo'" in err.message


def test_missing_secret_names_the_reference_not_a_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cockpit.connect import plugins
    from tests.fakes import entry_points_with_fakes

    monkeypatch.setattr(plugins, "installed", entry_points_with_fakes)
    text = """\
connectors:
  - name: fake
    type: fake-secret
    options:
      token: env:TOKEN_FOR_TEST
"""
    err = load_error(tmp_path, text)
    assert "TOKEN_FOR_TEST" in err.message and "not set" in err.message
    assert err.field == "connectors[0].options.token" and err.line == 5
    settings = config.load(write(tmp_path, text), env={"TOKEN_FOR_TEST": "s3cret-value"})
    token = settings.connectors[0].options.token
    assert token.reveal() == "s3cret-value"
    assert "s3cret" not in repr(settings.connectors[0].options)


def test_a_literal_secret_is_refused(tmp_path: Path) -> None:
    from cockpit.connect.options import Secret

    with pytest.raises(ValueError, match="never as the value itself"):
        Secret("ghp_abcdef123456")


def test_duplicate_connector_names(tmp_path: Path) -> None:
    text = "connectors:\n  - name: d\n    type: demo\n  - name: d\n    type: demo\n"
    err = load_error(tmp_path, text)
    assert (err.line, err.field) == (4, "connectors[1].name")
    assert "duplicate connector name 'd'" in err.message


def test_duplicate_environment_names(tmp_path: Path) -> None:
    err = load_error(tmp_path, "environments: [dev, prod, dev]\n")
    assert err.field == "environments[2]" and "duplicate environment 'dev'" in err.message


def test_unknown_key_binding_id(tmp_path: Path) -> None:
    err = load_error(tmp_path, "keys:\n  view.overveiw: f1\n")
    assert "did you mean 'view.overview'" in err.message


def test_demo_option_validation(tmp_path: Path) -> None:
    err = load_error(
        tmp_path, "connectors:\n  - name: d\n    type: demo\n    options:\n      services: 0\n"
    )
    assert "services must be between" in err.message and err.field == "connectors[0].options"


def test_config_check_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "environments: [dev]\nconnectors:\n  - name: d\n    type: demo\n    interval: never\n",
    )
    out = cockpit("config", "check", "--config", path, cwd=tmp_path)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0
    assert f"{path}:5: connectors[0].interval:" in out.stderr


def test_config_check_ok(tmp_path: Path) -> None:
    path = write(tmp_path, "environments: [dev, prod]\nconnectors:\n  - name: d\n    type: demo\n")
    out = cockpit("config", "check", "--config", path, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "OK" in out.stdout and "prod [production]" in out.stdout
