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


def _cert_files(tmp_path: Path, key_mode: int = 0o600) -> tuple[Path, Path]:
    cert, key = tmp_path / "alice.crt", tmp_path / "alice.key"
    cert.write_text("-----BEGIN CERTIFICATE-----\nMIIBcert-bytes\n-----END CERTIFICATE-----\n")
    key.write_text("-----BEGIN PRIVATE KEY-----\nMIIBkey-bytes-secret\n-----END PRIVATE KEY-----\n")
    key.chmod(key_mode)
    return cert, key


def _cert_store(cert: Path | str, key: Path | str, mode: str = "verify-full") -> str:
    return (
        "environments: [prod]\nstore:\n  url: postgresql://alice@db.example/cockpit\n"
        f"  sslmode: {mode}\n  sslrootcert: {__file__}\n  sslcert: {cert}\n  sslkey: {key}\n"
    )


def test_a_client_certificate_and_key_reach_libpq_without_a_password(tmp_path: Path) -> None:
    cert, key = _cert_files(tmp_path)
    settings = _load(tmp_path, _cert_store(cert, key))
    assert settings.store is not None and settings.store.password is None
    conninfo = connect_url(settings.store)
    assert f"sslcert={cert}" in conninfo and f"sslkey={key}" in conninfo
    assert "sslmode=verify-full" in conninfo and "password" not in conninfo


@pytest.mark.parametrize("mode", ["disable", "allow", "prefer"])
def test_a_client_certificate_over_a_link_that_may_skip_tls_is_refused(
    tmp_path: Path, mode: str
) -> None:
    cert, key = _cert_files(tmp_path)
    (problem,) = _problems(tmp_path, _cert_store(cert, key, mode))
    assert ":4: store.sslmode: a client certificate needs sslmode verify-full" in problem
    assert f"not sslmode {mode}" in problem


def test_a_client_certificate_without_any_sslmode_is_refused_at_its_line(tmp_path: Path) -> None:
    cert, key = _cert_files(tmp_path)
    text = (
        "environments: [prod]\nstore:\n  url: postgresql://alice@db/cockpit\n"
        f"  sslcert: {cert}\n  sslkey: {key}\n"
    )
    (problem,) = _problems(tmp_path, text)
    assert ":4: store.sslcert: a client certificate needs sslmode" in problem
    assert "libpq's default is prefer" in problem
    # The URL's own sslmode counts.
    with_url_mode = text.replace("db/cockpit", "db/cockpit?sslmode=verify-ca")
    assert _load(tmp_path, with_url_mode).store is not None


def test_sslcert_and_sslkey_go_together_as_absolute_paths(tmp_path: Path) -> None:
    cert, _ = _cert_files(tmp_path)
    text = (
        "environments: [prod]\nstore:\n  url: postgresql://alice@db/cockpit\n"
        f"  sslmode: require\n  sslcert: {cert}\n"
    )
    (problem,) = _problems(tmp_path, text)
    assert ":5: store.sslcert: sslcert needs sslkey too: give both or neither" in problem
    problems = _problems(tmp_path, _cert_store("certs/alice.crt", "alice.key"))
    joined = "\n".join(problems)
    assert ":6: store.sslcert: sslcert must be an absolute path, got 'certs/alice.crt'" in joined
    assert ":7: store.sslkey: sslkey must be an absolute path, got 'alice.key'" in joined


def test_a_missing_certificate_or_key_is_named_by_path_and_line(tmp_path: Path) -> None:
    problems = _problems(tmp_path, _cert_store(tmp_path / "no.crt", tmp_path / "no.key"))
    joined = "\n".join(problems)
    assert f":6: store.sslcert: cannot read '{tmp_path / 'no.crt'}': No such file" in joined
    assert f":7: store.sslkey: cannot read '{tmp_path / 'no.key'}': No such file" in joined
    # Read without secrets (a host that does not hold the key), the files are not checked.
    path = tmp_path / "config.yaml"
    assert config.load(str(path), env={}, resolve_secrets=False).store is not None


def test_a_key_readable_by_others_is_refused_as_libpq_would_without_its_contents(
    tmp_path: Path,
) -> None:
    cert, key = _cert_files(tmp_path, key_mode=0o644)
    (problem,) = _problems(tmp_path, _cert_store(cert, key))
    assert f":7: store.sslkey: {key} has mode 0644: libpq refuses a private key" in problem
    assert "chmod 0600" in problem
    assert "key-bytes-secret" not in problem and "cert-bytes" not in problem


@pytest.mark.parametrize(
    "head",
    [
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFsecret\n",
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES\n\nMIIFsecret\n",
    ],
)
def test_an_encrypted_key_is_refused_rather_than_prompting_on_the_terminal(
    tmp_path: Path, head: str
) -> None:
    cert, key = _cert_files(tmp_path)
    key.write_text(head + "-----END PRIVATE KEY-----\n")
    (problem,) = _problems(tmp_path, _cert_store(cert, key))
    assert f":7: store.sslkey: {key} is encrypted" in problem and "MIIFsecret" not in problem


def test_a_key_owned_by_root_may_be_group_readable_as_libpq_allows(tmp_path: Path) -> None:
    cert, key = _cert_files(tmp_path, key_mode=0o640)
    text = _cert_store(cert, key)
    if key.stat().st_uid == 0:
        assert _load(tmp_path, text).store is not None
    else:
        (problem,) = _problems(tmp_path, text)
        assert "has mode 0640" in problem


def test_config_check_says_the_store_uses_a_client_certificate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cockpit.cli import main

    cert, key = _cert_files(tmp_path)
    path = tmp_path / "config.yaml"
    path.write_text(_cert_store(cert, key))
    assert main(["config", "check", "-c", str(path)]) == 0
    out = capsys.readouterr().out
    assert "team store: postgresql://db.example:5432/cockpit, sslmode verify-full, client" in out
    assert "key-bytes-secret" not in out


def test_a_client_certificate_in_the_url_is_refused_pointing_at_the_keys(
    tmp_path: Path,
) -> None:
    text = (
        "environments: [prod]\nstore:\n"
        "  url: postgresql://alice@db/cockpit?sslmode=require&sslcert=/c.crt&sslkey=/c.key\n"
    )
    joined = "\n".join(_problems(tmp_path, text))
    assert ":3: store.url: sslcert in the URL is not checked here: write it as store.sslcert" in (
        joined
    )
    assert ":3: store.url: sslkey in the URL" in joined


def test_a_store_config_made_in_code_cannot_send_a_certificate_without_tls(
    tmp_path: Path,
) -> None:
    cert, key = _cert_files(tmp_path)
    store = StoreConfig(
        url="postgresql://alice@db/cockpit", sslmode="prefer", sslcert=str(cert), sslkey=str(key)
    )
    with pytest.raises(ConfigError, match=r"store\.sslmode: a client certificate needs"):
        connect_url(store)
