"""In team mode the policy pushed to the team store is the one enforced, not the local file."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from cockpit.team.policy_doc import read_file
from tests.team_policy.conftest import Member, Team

ROLLBACK = ("rollback", "payments", "prod", "--reason", "5xx since 2.7.12", "--yes")
FORBIDS = """\
policy:
  roles:
    captains: [alice]
  permissions:
    rollback: [captains]
"""
ALLOWS = """\
policy:
  roles:
    captains: [alice]
  permissions:
    rollback: ["*"]
"""


def _run(
    member: Member, *args: str, config: Path | None = None
) -> subprocess.CompletedProcess[str]:
    from tests.cli import cockpit

    return cockpit("-c", str(config or member.config), *args, cwd=member.config.parent)


def _push(team: Team, admin: Member, text: str, name: str) -> str:
    path = team.folder / name
    path.write_text(text)
    out = _run(admin, "policy", "push", str(path))
    assert out.returncode == 0, out.stdout + out.stderr
    return read_file(str(path)).digest


def _refusals(team: Team) -> list[dict[str, object]]:
    with team.connect() as conn:
        rows = conn.execute(
            "SELECT body FROM cockpit.audit_log WHERE event_type = 'action.refused' ORDER BY seq"
        ).fetchall()
    return [json.loads(r[0]) for r in rows]


def test_the_pushed_policy_is_enforced_even_where_the_local_file_allows(team: Team) -> None:
    """Acceptance: "the policy pushed is the one enforced"."""
    admin, operator = team.admin(), team.member("op")
    digest = _push(team, admin, FORBIDS, "forbids.yaml")
    # The operator's own file has no policy: section, so on its own it would allow this.
    out = _run(operator, *ROLLBACK)
    assert out.returncode == 3, out.stdout + out.stderr
    assert f"{operator.role} may not rollback in prod: needs one of the roles captains" in (
        out.stdout + out.stderr
    )
    (refused,) = _refusals(team)
    assert refused["policy"]["policy_version"] == f"team v1 sha256:{digest}"  # type: ignore[index]
    assert f"decided under: team v1 sha256:{digest}" in out.stdout
    # A newer version that allows it is enforced from the next action on.
    allows = _push(team, admin, ALLOWS, "allows.yaml")
    out = _run(operator, *ROLLBACK)
    assert out.returncode == 0, out.stdout + out.stderr
    with team.connect() as conn:
        (body,) = conn.execute(
            "SELECT body FROM cockpit.audit_log WHERE event_type = 'action.succeeded'"
        ).fetchone() or ("{}",)
    assert json.loads(body)["policy"]["policy_version"] == f"team v2 sha256:{allows}"
    assert team.verify().ok


def test_a_local_policy_that_differs_refuses_naming_both_digests(team: Team) -> None:
    admin, operator = team.admin(), team.member("op")
    stored = _push(team, admin, ALLOWS, "allows.yaml")
    local = operator.with_policy(ALLOWS.replace('["*"]', "[captains]"))
    local_digest = read_file(str(local)).digest
    out = _run(operator, *ROLLBACK, config=local)
    assert out.returncode == 3, out.stdout + out.stderr
    said = out.stdout + out.stderr
    assert f"the team's policy v1 (sha256 {stored[:12]}) is in force" in said
    assert f"policy: section that differs (sha256 {local_digest[:12]})" in said
    (refused,) = _refusals(team)
    assert stored[:12] in str(refused["policy"]) and local_digest[:12] in str(refused["policy"])
    # The same policy written locally (other spelling) is no difference: it runs.
    same = operator.with_policy(ALLOWS.replace("  roles:\n", "  reason_min_length: 10\n  roles:\n"))
    out = _run(operator, *ROLLBACK, config=same)
    assert out.returncode == 0, out.stdout + out.stderr


def test_without_a_stored_policy_every_action_is_refused_naming_the_push_command(
    team: Team,
) -> None:
    operator = team.member("op")
    out = _run(operator, *ROLLBACK)
    assert out.returncode == 3, out.stdout + out.stderr
    assert "no policy is stored in the team store yet" in out.stdout + out.stderr
    assert "cockpit policy push FILE" in out.stdout + out.stderr
    assert len(_refusals(team)) == 1


def test_status_names_the_policy_in_force_and_a_local_difference(team: Team) -> None:
    admin, operator = team.admin(), team.member("op")
    none = _run(operator, "status")
    assert "team policy: none stored" in none.stdout
    stored = _push(team, admin, ALLOWS, "allows.yaml")
    text = _run(operator, "status")
    assert f"team policy v1 {stored[:12]}" in text.stdout
    data = json.loads(_run(operator, "status", "--json").stdout)
    assert data["policy"] == {
        "state": "in_force",
        "version": 1,
        "digest": stored,
        "local_policy": None,
    }
    local = operator.with_policy(FORBIDS)
    differs = _run(operator, "status", config=local)
    assert f"team policy v1 {stored[:12]} (local policy differs)" in differs.stdout
    assert "actions refused: the team's policy v1" in differs.stdout
    data = json.loads(_run(operator, "status", "--json", config=local).stdout)
    assert data["policy"]["state"] == "differs"
    assert data["policy"]["local_policy"] == {
        "digest": read_file(str(local)).digest,
        "differs": True,
    }
