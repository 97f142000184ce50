"""`cockpit audit copy` and the audit commands on the team store, as real processes run them."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from cockpit.audit import copy as audit_copy
from cockpit.audit.postgres import PostgresStore
from cockpit.audit.sqlite import SqliteStore
from cockpit.cli import main
from cockpit.clock import FixedClock
from tests.audit.conftest import event
from tests.cli import cockpit
from tests.fakes import T0
from tests.pgserver import PASSWORD
from tests.store.conftest import Team


def _personal_log(path: Path, records: int) -> None:
    clock = FixedClock(T0)
    with SqliteStore(str(path), clock=clock) as store:
        for n in range(records - 1):  # the first record is the log's own audit.init
            clock.advance(1)
            store.append(event(n))


def _config(tmp_path: Path, team: Team) -> Path:
    path = tmp_path / "team.yaml"
    url = team.config().url
    path.write_text(f"environments: [dev, prod]\nstore:\n  url: {url}\n  password: env:TEAM_PW\n")
    return path


@pytest.fixture
def env() -> dict[str, str]:
    return {**os.environ, "TEAM_PW": PASSWORD}


def test_a_copied_log_verifies_on_both_stores_with_the_same_head(
    team: Team, tmp_path: Path, env: dict[str, str]
) -> None:
    personal = tmp_path / "audit.sqlite3"
    _personal_log(personal, 40)
    config = _config(tmp_path, team)
    done = cockpit("audit", "copy", "--from", str(personal), "-c", str(config), env=env)
    assert done.returncode == 0, done.stderr
    assert "copied 40 records" in done.stdout and "audit log intact: 40 records" in done.stdout
    with SqliteStore(str(personal), clock=FixedClock(T0), read_only=True) as lite:
        source = [(r.seq, r.hash, r.body) for r in lite.records()]
    with PostgresStore(team.config(), clock=FixedClock(T0), create=False) as pg:
        copied = [(r.seq, r.hash, r.body) for r in pg.records()]
    assert copied[:40] == source
    assert json.loads(copied[40][2])["event_type"] == "audit.copied"
    team_verify = cockpit("audit", "verify", "-c", str(config), env=env)
    assert team_verify.returncode == 0, team_verify.stderr
    assert "audit log intact: 41 records" in team_verify.stdout
    lite_verify = cockpit("audit", "verify", "--db", str(personal), env=env)
    assert lite_verify.returncode == 0 and "audit log intact: 40 records" in lite_verify.stdout
    # The verify of the team log was recorded in the team log, not in the personal one.
    with PostgresStore(team.config(), clock=FixedClock(T0), create=False) as pg:
        head = pg.head()
        assert head is not None and str(head.event_type) == "audit.verified"


def test_a_second_copy_is_refused_since_the_team_log_is_not_empty(
    team: Team, tmp_path: Path, env: dict[str, str]
) -> None:
    personal = tmp_path / "audit.sqlite3"
    _personal_log(personal, 3)
    config = _config(tmp_path, team)
    assert (
        cockpit("audit", "copy", "--from", str(personal), "-c", str(config), env=env).returncode
        == 0
    )
    again = cockpit("audit", "copy", "--from", str(personal), "-c", str(config), env=env)
    assert again.returncode == 2
    assert "already holds records: a log is copied only into an empty one" in again.stderr


def test_a_damaged_personal_log_is_not_copied(
    team: Team, tmp_path: Path, env: dict[str, str]
) -> None:
    personal = tmp_path / "audit.sqlite3"
    _personal_log(personal, 5)
    with sqlite3.connect(personal) as conn:
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute("UPDATE audit_log SET body = replace(body, 'train 2', 'train 7')")
    done = cockpit(
        "audit", "copy", "--from", str(personal), "-c", str(_config(tmp_path, team)), env=env
    )
    assert done.returncode == 1 and "is not copied" in done.stderr
    with PostgresStore(team.config(), clock=FixedClock(T0), create=False) as pg:
        assert pg.count() == 0


def test_a_long_copy_shows_progress_on_stderr(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    personal = tmp_path / "audit.sqlite3"
    _personal_log(personal, 30)
    monkeypatch.setattr(audit_copy, "LONG_COPY", 10)
    monkeypatch.setattr("cockpit.audit.postgres.COPY_PROGRESS_EVERY", 10)
    assert main(["audit", "copy", "--from", str(personal), "--to", team.config().url]) == 2
    assert "password" in capsys.readouterr().err  # libpq had none: PGPASSWORD, ~/.pgpass
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    assert main(["audit", "copy", "--from", str(personal), "--to", team.config().url]) == 0
    err = capsys.readouterr().err
    assert "copying: 10/30 records" in err and "copying: 30/30 records" in err


def test_show_export_and_follow_up_read_the_team_store(
    team: Team, tmp_path: Path, env: dict[str, str]
) -> None:
    config = _config(tmp_path, team)
    with PostgresStore(team.config(), clock=FixedClock(T0)) as pg:
        for n in range(4):
            pg.append(event(n))
    shown = cockpit("audit", "show", "--json", "-c", str(config), env=env)
    assert shown.returncode == 0, shown.stderr
    assert [json.loads(line)["seq"] for line in shown.stdout.splitlines()] == [1, 2, 3, 4, 5]
    exported = cockpit("audit", "export", "--format", "jsonl", "-c", str(config), env=env)
    assert exported.returncode == 0 and len(exported.stdout.splitlines()) == 6  # + show's read
    report = cockpit("audit", "report", "--since", "2026-01-01", "-c", str(config), env=env)
    assert report.returncode == 0, report.stderr


@pytest.mark.parametrize("command", [["seal"], ["purge", "--before", "7y", "--reason", "r"]])
def test_seal_and_purge_are_refused_on_the_team_store(
    team: Team, tmp_path: Path, env: dict[str, str], command: list[str]
) -> None:
    done = cockpit("audit", *command, "-c", str(_config(tmp_path, team)), env=env)
    assert done.returncode == 2
    assert "not supported on the team store yet" in done.stderr


def test_the_db_option_takes_a_postgresql_url(team: Team, env: dict[str, str]) -> None:
    with PostgresStore(team.config(), clock=FixedClock(T0)):
        pass
    url = team.config().url
    done = cockpit("audit", "verify", "--db", url, env={**env, "PGPASSWORD": PASSWORD})
    assert done.returncode == 0, done.stderr
    assert "audit log intact: 1 records" in done.stdout


def test_incidents_are_opened_listed_and_closed_in_the_team_store(
    team: Team, tmp_path: Path, env: dict[str, str]
) -> None:
    config = str(_config(tmp_path, team))
    opened = cockpit(
        "incident", "open", "checkout 5xx", "--service", "checkout", "-c", config, env=env
    )
    assert opened.returncode == 0, opened.stderr
    listed = cockpit("incident", "list", "-c", config, env=env)
    assert listed.returncode == 0 and "checkout 5xx" in listed.stdout
    closed = cockpit("incident", "close", "--reason", "rolled back", "-c", config, env=env)
    assert closed.returncode == 0, closed.stderr
    with PostgresStore(team.config(), clock=FixedClock(T0), create=False) as pg:
        kinds = [str(r.event_type) for r in pg.records()]
    assert kinds == ["audit.initialized", "incident.open", "audit.read", "incident.close"]
