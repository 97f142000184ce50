"""`store:` in config: each key does what it says or is refused with file:line: key."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit import config
from cockpit.errors import ConfigError
from cockpit.team.connect import connect_url
from cockpit.team.store_config import StoreConfig


def _load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> config.Settings:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return config.load(str(path), env=env or {})


def _problems(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text, env)
    return [str(p) for p in caught.value.problems]


def test_without_a_store_section_settings_have_none(tmp_path: Path) -> None:
    assert _load(tmp_path, "environments: [dev, prod]\n").store is None


def test_a_store_section_is_parsed_and_its_password_resolved(tmp_path: Path) -> None:
    text = (
        "environments: [prod]\nstore:\n  url: postgresql://alice@db.example:5433/cockpit\n"
        "  password: env:PGPW\n  sslmode: verify-full\n  connect_timeout: 5s\n"
    )
    settings = _load(tmp_path, text, {"PGPW": "s3cret-value"})
    assert settings.store is not None
    assert settings.store.sslmode == "verify-full"
    assert settings.store.where() == "db.example:5433/cockpit"
    assert "s3cret-value" not in repr(settings.store)
    conninfo = connect_url(settings.store)
    assert "password=s3cret-value" in conninfo
    assert "connect_timeout=5" in conninfo and "sslmode=verify-full" in conninfo


def test_a_password_inside_the_url_is_refused_pointing_at_password(tmp_path: Path) -> None:
    text = "environments: [prod]\nstore:\n  url: postgresql://alice:hunter2@db/cockpit\n"
    (problem,) = _problems(tmp_path, text)
    assert ":3: store.url:" in problem and "password: env:NAME" in problem
    assert "hunter2" not in problem


def test_a_password_in_the_url_query_is_refused_too(tmp_path: Path) -> None:
    text = "environments: [prod]\nstore:\n  url: postgresql://db/cockpit?password=hunter2\n"
    (problem,) = _problems(tmp_path, text)
    assert "store.url" in problem and "hunter2" not in problem


def test_bad_keys_are_each_named_with_their_line(tmp_path: Path) -> None:
    text = (
        "environments: [prod]\nstore:\n  url: mysql://db/cockpit\n  sslmode: verify\n"
        "  sslrootcert: /nonexistent/ca.pem\n  connect_timeout: 0\n  pool: 3\n"
    )
    problems = _problems(tmp_path, text)
    joined = "\n".join(problems)
    assert ":3: store.url: expected a postgresql://" in joined
    assert ":4: store.sslmode: sslmode 'verify' is not one of" in joined
    assert ":5: store.sslrootcert: no CA file at /nonexistent/ca.pem" in joined
    assert ":6: store.connect_timeout: connect_timeout must be positive" in joined
    assert ":7: store.pool: unknown key 'pool'" in joined


def test_an_unresolvable_password_names_its_reference_not_a_value(tmp_path: Path) -> None:
    text = "environments: [prod]\nstore:\n  url: postgresql://db/cockpit\n  password: env:NOPE\n"
    (problem,) = _problems(tmp_path, text)
    assert ":4: store.password: secret env:NOPE cannot be resolved" in problem


def test_a_plain_password_value_is_refused_as_a_secret(tmp_path: Path) -> None:
    text = "environments: [prod]\nstore:\n  url: postgresql://db/cockpit\n  password: hunter2\n"
    (problem,) = _problems(tmp_path, text)
    assert "store.password" in problem and "hunter2" not in problem


def test_an_empty_store_section_is_refused_not_read_as_local_mode(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, "environments: [prod]\nstore:\n")
    assert ":2: store: store: needs at least url" in problem


def test_a_url_without_a_database_is_refused(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, "environments: [prod]\nstore:\n  url: postgresql://db\n")
    assert "names no database" in problem


def test_the_where_of_a_store_never_shows_user_or_password() -> None:
    assert StoreConfig(url="postgresql://u:pw@h:1/d").where() == "h:1/d"


def test_config_check_names_the_team_store_without_user_or_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cockpit.cli import main

    monkeypatch.setenv("PGPW", "s3cret-value")
    path = tmp_path / "config.yaml"
    path.write_text(
        "environments: [prod]\nstore:\n  url: postgresql://alice@db.example:5433/cockpit\n"
        "  password: env:PGPW\n  sslmode: require\n"
    )
    assert main(["config", "check", "-c", str(path)]) == 0
    out = capsys.readouterr().out
    assert "team store: postgresql://db.example:5433/cockpit, sslmode require" in out
    assert "s3cret-value" not in out and "alice" not in out


def test_a_failure_message_never_carries_the_store_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cockpit.connect.option_values import Secret
    from cockpit.team.connect import failure

    monkeypatch.setenv("PGPW", "s3cret-value")
    store = StoreConfig(url="postgresql://alice@db/cockpit", password=Secret("env:PGPW"))
    error = failure(store, RuntimeError("server said: password s3cret-value\nis wrong"))
    # The first line only, the password starred out.
    assert (
        str(error) == "cannot connect to the team store db:5432/cockpit: server said: password ***"
    )
