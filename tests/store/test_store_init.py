"""`cockpit store init`: roles, schema, the append-only walls, idempotence and its output."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest

from cockpit.audit.postgres import PostgresStore
from cockpit.audit.records import AuditError
from cockpit.cli import main
from cockpit.clock import FixedClock
from cockpit.team import connect as tc
from cockpit.team import init as team_init
from tests.audit.conftest import event
from tests.fakes import T0
from tests.store.conftest import Team

REFUSED = (psycopg.errors.InsufficientPrivilege,)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE cockpit.audit_log SET body = body",
        "DELETE FROM cockpit.audit_log",
        "TRUNCATE cockpit.audit_log",
        "UPDATE cockpit.audit_meta SET value = 'x'",
        "DELETE FROM cockpit.audit_meta",
    ],
)
def test_an_operator_may_not_update_delete_or_truncate_the_log(team: Team, statement: str) -> None:
    operator = team.operator()
    with PostgresStore(operator, clock=FixedClock(T0), create=False) as store:
        store.append(event(1))
    with tc.connect(operator, autocommit=True) as conn, pytest.raises(REFUSED) as refused:
        conn.execute(statement)
    assert "permission denied" in str(refused.value)
    with PostgresStore(operator, clock=FixedClock(T0), create=False) as store:
        assert store.count() == 1 and store.verify().ok


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE cockpit.audit_log SET body = body",
        "DELETE FROM cockpit.audit_log WHERE seq = 1",
        "TRUNCATE cockpit.audit_log",
    ],
)
def test_the_trigger_refuses_even_the_owner_and_a_later_grant(team: Team, statement: str) -> None:
    operator = team.operator()
    with PostgresStore(team.config(), clock=FixedClock(T0), create=False) as store:
        store.append(event(1))
    with psycopg.connect(team.url(), autocommit=True) as owner:
        owner.execute("GRANT UPDATE, DELETE, TRUNCATE ON cockpit.audit_log TO cockpit_writer")
        with pytest.raises(REFUSED, match="the audit log is append-only"):
            owner.execute(statement)
    with tc.connect(operator, autocommit=True) as conn, pytest.raises(REFUSED, match="append-only"):
        conn.execute(statement)


def test_an_operator_may_insert_and_select_only(team: Team) -> None:
    with tc.connect(team.operator(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT privilege_type FROM information_schema.role_table_grants"
            " WHERE grantee = 'cockpit_writer' AND table_name = 'audit_log'"
        ).fetchall()
    assert sorted(r[0] for r in rows) == ["INSERT", "SELECT"]


def test_store_init_runs_twice_and_keeps_records_and_origin(team: Team) -> None:
    with PostgresStore(team.config(), clock=FixedClock(T0), create=False) as store:
        store.append(event(1))
        origin = store.origin
    again = team_init.init(team.config())
    assert again.records == 1
    with PostgresStore(team.config(), clock=FixedClock(T0), create=False) as store:
        assert store.origin == origin and store.count() == 1 and store.verify().ok


def test_the_controller_role_is_a_writer(team: Team) -> None:
    controller = team.operator("ctl", "cockpit_controller")
    with PostgresStore(controller, clock=FixedClock(T0), create=False) as store:
        assert store.append(event(1)).seq == 1


def test_store_init_command_prints_the_grants_it_applied(
    team: Team, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = team.config()
    monkeypatch.setenv("PGPASSWORD", "admin-secret")
    assert main(["store", "init", "--url", owner.url]) == 0
    out = capsys.readouterr().out
    assert "GRANT SELECT, INSERT ON cockpit.audit_log TO cockpit_writer" in out
    assert "REVOKE UPDATE, DELETE, TRUNCATE ON cockpit.audit_log FROM cockpit_writer" in out
    assert "cockpit_writer" in out and "INSERT, SELECT" in out
    assert "admin-secret" not in out


def test_store_init_from_the_config_store_section(
    team: Team, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OWNER_PW", "admin-secret")
    path = tmp_path / "c.yaml"
    path.write_text(
        f"environments: [prod]\nstore:\n  url: {team.config().url}\n  password: env:OWNER_PW\n"
    )
    assert main(["store", "init", "-c", str(path)]) == 0
    assert "initialised" in capsys.readouterr().out


def test_store_init_with_a_password_in_the_url_is_refused_without_echoing_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["store", "init", "--url", "postgresql://u:hunter2@db/x"]) == 2
    err = capsys.readouterr().err
    assert "PGPASSWORD" in err and "hunter2" not in err


def test_a_wrong_password_is_named_by_host_and_database_never_shown(
    team: Team, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    wrong = team.config(password="not-the-Secret-42")
    with pytest.raises(Exception) as caught:
        PostgresStore(wrong, clock=FixedClock(T0))
    text = str(caught.value) + repr(caught.value) + repr(wrong) + caplog.text
    assert f"127.0.0.1:{team.server.port}/{team.database}" in str(caught.value)
    assert "password authentication failed" in str(caught.value)
    assert "not-the-Secret-42" not in text


def test_print_only_needs_no_database(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["store", "init", "--print-only"]) == 0
    out = capsys.readouterr().out
    assert "CREATE SCHEMA IF NOT EXISTS cockpit;" in out
    assert "CREATE OR REPLACE TRIGGER audit_log_no_truncate BEFORE TRUNCATE" in out


def test_the_filter_columns_come_from_the_body_whatever_the_insert_says(team: Team) -> None:
    operator = team.operator()
    with PostgresStore(operator, clock=FixedClock(T0), create=False) as store:
        written = store.append(event(1))
    with tc.connect(operator, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO cockpit.audit_log (seq, prev_hash, hash, body, service, ts)"
            " VALUES (2, %s, %s, %s, 'forged', '1999')",
            (bytes.fromhex(written.hash), bytes(range(32)), written.body.decode()),
        )
        row = conn.execute("SELECT service, ts FROM cockpit.audit_log WHERE seq = 2").fetchone()
    assert row == ("checkout", "2026-11-26T03:00:00.000Z")


def test_the_password_reaches_no_log_line_repr_or_error(
    team: Team, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    secret = f"pw-{uuid.uuid4().hex}"
    operator = team.server.create_role(f"op_{uuid.uuid4().hex[:8]}", secret, "cockpit_writer")
    good = team.config(operator, secret)
    with PostgresStore(good, clock=FixedClock(T0), create=False) as store:
        store.append(event(1))
        shown = repr(store) + repr(vars(store)) + repr(good)
    with pytest.raises(AuditError) as bad:
        PostgresStore(team.config(operator, secret + "x"), clock=FixedClock(T0))
    shown += str(bad.value) + repr(bad.value) + caplog.text
    assert secret not in shown
