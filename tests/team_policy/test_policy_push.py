"""`cockpit policy push|show|diff|history` against a real team store (PostgreSQL)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import psycopg
import pytest

from tests.team_policy.conftest import Team

V1 = """\
policy:
  roles:
    captains: [alice, bob]   # who may ship
  permissions:
    promote: [captains]
"""
V2 = (
    V1
    + """\
  environments:
    prod:
      two_person: [promote]
"""
)


def _file(tmp_path: Path, text: str, name: str = "team-policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _ok(out: object) -> subprocess.CompletedProcess[str]:
    assert isinstance(out, subprocess.CompletedProcess)
    assert out.returncode == 0, out.stdout + out.stderr
    return out


def _records(team: Team, event_type: str) -> list[dict[str, object]]:
    with team.connect() as conn:
        rows = conn.execute(
            "SELECT body FROM cockpit.audit_log WHERE event_type = %s ORDER BY seq", (event_type,)
        ).fetchall()
    return [json.loads(r[0]) for r in rows]


def test_an_admin_pushes_v1_then_v2_numbered_and_stamped_by_the_server(
    team: Team, tmp_path: Path
) -> None:
    admin = team.admin()
    first = _ok(admin.run("policy", "push", str(_file(tmp_path, V1))))
    assert first.stdout.startswith("pushed policy v1 ")
    second = _ok(admin.run("policy", "push", str(_file(tmp_path, V2, "v2.yaml"))))
    assert second.stdout.startswith("pushed policy v2 ")
    with team.connect() as conn:
        rows = conn.execute(
            "SELECT number, pushed_by, digest, text FROM cockpit.policy_versions ORDER BY number"
        ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [(1, admin.role), (2, admin.role)]
    assert rows[0][3] == V1  # the section as written, comment kept
    assert rows[0][2] != rows[1][2]
    pushed = _records(team, "policy.pushed")
    assert [(r["extra"]["version"], r["extra"]["digest"]) for r in pushed] == [  # type: ignore[index]
        (1, rows[0][2]),
        (2, rows[1][2]),
    ]
    assert all(r["extra"]["pushed_by"] == admin.role for r in pushed)  # type: ignore[index]
    assert team.verify().ok


def test_a_config_file_pushes_only_its_policy_section_and_the_same_policy_twice_is_one_version(
    team: Team, tmp_path: Path
) -> None:
    admin = team.admin()
    config = _file(
        tmp_path,
        "environments: [dev, staging, prod]\nconnectors: []\n" + V2 + "ui:\n  theme: nord\n",
        "config.yaml",
    )
    _ok(admin.run("policy", "push", str(config)))
    # Spelled differently (order, comments, a default written out): the same policy.
    same = (
        "policy:\n  permissions: {promote: [captains]}\n  reason_min_length: 10\n"
        "  environments: {prod: {two_person: [promote], approvals: 1}}\n"
        "  roles: {captains: [alice, bob]}\n"
    )
    again = _ok(admin.run("policy", "push", str(_file(tmp_path, same, "same.yaml"))))
    assert "already holds this policy; nothing stored" in again.stdout
    with team.connect() as conn:
        (text,) = conn.execute("SELECT text FROM cockpit.policy_versions").fetchone() or ("",)
    assert "ui:" not in text and "connectors" not in text


def test_a_non_admin_push_is_refused_exit_3_and_audited(team: Team, tmp_path: Path) -> None:
    operator = team.member("op")
    out = operator.run("policy", "push", str(_file(tmp_path, V1)))
    assert isinstance(out, subprocess.CompletedProcess)
    assert out.returncode == 3, out.stdout + out.stderr
    assert f"{operator.role} is not a member of the cockpit_policy_admin" in out.stderr
    assert "nothing stored" in out.stderr
    with team.connect() as conn:
        assert conn.execute("SELECT count(*) FROM cockpit.policy_versions").fetchone() == (0,)
    (refused,) = _records(team, "policy.push_refused")
    assert refused["outcome"] == "refused"
    assert refused["extra"]["pushed_by"] == operator.role  # type: ignore[index]
    assert refused["actor"]["user"] == operator.role  # type: ignore[index]


def test_the_database_refuses_a_non_admin_insert_and_every_change_of_a_version(
    team: Team, tmp_path: Path
) -> None:
    """The code's check is the first wall; the GRANT and the triggers hold without it."""
    admin = team.admin()
    _ok(admin.run("policy", "push", str(_file(tmp_path, V1))))
    operator = team.member("op")
    insert = "INSERT INTO cockpit.policy_versions (number, digest, text) VALUES (1, %s, 'x')"
    with team.connect(operator) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(insert, ("0" * 64,))
    for statement in (
        "UPDATE cockpit.policy_versions SET text = 'policy: {}'",
        "DELETE FROM cockpit.policy_versions",
        "TRUNCATE cockpit.policy_versions",
    ):
        for who in (admin, None):  # the admin lacks the privilege; the owner meets the trigger
            with team.connect(who) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    # A client cannot claim another pusher or number: the server stamps both.
    with team.connect(admin) as conn:
        conn.execute(
            "INSERT INTO cockpit.policy_versions (number, digest, pushed_by, text)"
            " VALUES (99, %s, 'someone_else', 'policy: {}')",
            ("1" * 64,),
        )
        row = conn.execute(
            "SELECT number, pushed_by FROM cockpit.policy_versions ORDER BY number DESC LIMIT 1"
        ).fetchone()
    assert row == (2, admin.role)


def test_an_invalid_policy_is_refused_with_file_line_and_nothing_stored(
    team: Team, tmp_path: Path
) -> None:
    admin = team.admin()
    bad = _file(
        tmp_path,
        "policy:\n  roles:\n    captains: [alice]\n  permissions:\n    promote: [captians]\n"
        "  reason_min_lenght: 5\n",
    )
    out = admin.run("policy", "push", str(bad))
    assert isinstance(out, subprocess.CompletedProcess)
    assert out.returncode == 2, out.stdout + out.stderr
    assert f"{bad}:5: policy.permissions.promote: unknown role 'captians'" in out.stderr
    assert f"{bad}:6: policy.reason_min_lenght" in out.stderr
    assert "nothing stored" in out.stderr
    with team.connect() as conn:
        assert conn.execute("SELECT count(*) FROM cockpit.policy_versions").fetchone() == (0,)
    assert _records(team, "policy.pushed") == []


def test_show_history_and_diff(team: Team, tmp_path: Path) -> None:
    admin = team.admin()
    _ok(admin.run("policy", "push", str(_file(tmp_path, V1))))
    _ok(admin.run("policy", "push", str(_file(tmp_path, V2, "v2.yaml"))))

    show = _ok(admin.run("policy", "show"))
    assert show.stdout.splitlines()[0].startswith("policy v2 sha256 ")
    assert f"pushed by {admin.role} at " in show.stdout
    assert "two_person: [promote]" in show.stdout
    first = json.loads(_ok(admin.run("policy", "show", "--version", "1", "--json")).stdout)
    assert first["version"] == 1 and first["text"] == V1 and first["pushed_by"] == admin.role

    history = _ok(admin.run("policy", "history")).stdout.splitlines()
    assert [line.split()[0] for line in history] == ["v1", "v2"]
    assert history[-1].endswith("(in force)")
    listed = json.loads(_ok(admin.run("policy", "history", "--json")).stdout)
    assert [v["version"] for v in listed] == [1, 2]

    diff = admin.run("policy", "diff", "1", "2")
    assert isinstance(diff, subprocess.CompletedProcess)
    assert diff.returncode == 1, diff.stdout + diff.stderr
    assert diff.stdout.startswith(f"--- v1 {first['digest'][:12]}")
    assert "+    prod:" in diff.stdout and "+      two_person:" in diff.stdout
    # The newest vs a file written like it: the same policy.
    same = _ok(admin.run("policy", "diff", "2", str(_file(tmp_path, V2, "copy.yaml"))))
    assert same.stdout.startswith("same policy: v2 ")
    # The newest vs this host's config: it has no policy: section to compare.
    local = admin.run("policy", "diff")
    assert isinstance(local, subprocess.CompletedProcess)
    assert local.returncode == 2 and "has no policy: section" in local.stderr


def test_a_push_to_a_store_never_initialised_says_to_run_store_init(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from urllib.parse import urlsplit

    from tests.cli import cockpit
    from tests.pgserver import PASSWORD, SUPERUSER

    parts = urlsplit(pg_url)
    monkeypatch.setenv("COCKPIT_TEST_PW_EMPTY", PASSWORD)
    config = _file(
        tmp_path,
        f"store:\n  url: postgresql://{SUPERUSER}@127.0.0.1:{parts.port}{parts.path}\n"
        "  password: env:COCKPIT_TEST_PW_EMPTY\n",
        "config.yaml",
    )
    out = cockpit("-c", str(config), "policy", "push", str(_file(tmp_path, V1)), cwd=tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "cockpit store init" in out.stderr
    assert PASSWORD not in out.stdout + out.stderr
    shown = cockpit("-c", str(config), "policy", "show", cwd=tmp_path)
    assert shown.returncode == 2 and "cockpit store init" in shown.stderr


def test_a_version_whose_audit_record_fails_is_not_stored(team: Team) -> None:
    """The push's record is written inside the version's transaction: no record, no version."""
    from cockpit.team import policy_store

    admin = team.admin()

    def audit_fails(version: policy_store.StoredVersion) -> None:
        raise RuntimeError("the audit log refused the record")

    with team.connect(admin) as conn:
        conn.autocommit = False
        with pytest.raises(RuntimeError, match="audit log refused"):
            policy_store.push(conn, "2" * 64, V1, "v1.yaml", then=audit_fails)
        assert policy_store.history(conn) == []
        stored = policy_store.push(conn, "3" * 64, V1, "v1.yaml")
    assert stored.number == 1  # the failed push left no gap either


def test_concurrent_pushes_get_distinct_numbers_without_gaps(team: Team) -> None:
    import threading

    from cockpit.team import policy_store

    admin = team.admin()
    numbers: list[int] = []

    def push(i: int) -> None:
        with team.connect(admin) as conn:
            conn.autocommit = False
            numbers.append(policy_store.push(conn, f"{i:x}" * 64, V1, f"{i}.yaml").number)

    threads = [threading.Thread(target=push, args=(i,)) for i in range(1, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(numbers) == [1, 2, 3, 4, 5, 6]
