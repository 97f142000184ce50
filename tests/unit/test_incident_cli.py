"""`cockpit incident open|close|list|timeline` as an operator runs them: ids, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli import cockpit


def test_open_list_close_round_trip_with_exit_codes(tmp_path: Path) -> None:
    db = str(tmp_path / "audit.sqlite3")
    opened = cockpit("incident", "open", "checkout 5xx", "--ticket", "INC-1", "--service",
                     "checkout", "--env", "prod", "--db", db)  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    first = opened.stdout.strip()
    assert first.startswith("INC-") and opened.stdout.count("\n") == 1  # the id alone: $(...)
    second = cockpit("incident", "open", "cart slow", "--db", db).stdout.strip()
    listed = cockpit("incident", "list", "--db", db)
    assert listed.returncode == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [second, first]
    assert "checkout/prod [INC-1]  checkout 5xx" in listed.stdout

    ambiguous = cockpit("incident", "close", "--db", db)
    assert ambiguous.returncode == 2 and ambiguous.stdout == ""
    assert ambiguous.stderr == (
        f"cockpit incident: 2 incidents are open ({first}, {second}): name the one to close\n"
    )
    assert (
        cockpit("incident", "close", first, "--reason", "rolled back", "--db", db).returncode == 0
    )
    assert cockpit("incident", "close", "--db", db).stdout == f"closed {second}\n"
    again = cockpit("incident", "close", first, "--db", db)
    assert (again.returncode, again.stderr) == (2, f"cockpit incident: {first} is already closed\n")
    assert cockpit("incident", "list", "--db", db).stdout == "no open incidents\n"
    assert cockpit("incident", "list", "--all", "--db", db).stdout.count("closed") == 2


def test_bad_input_is_one_line_and_exit_2_never_a_traceback(tmp_path: Path) -> None:
    db = str(tmp_path / "audit.sqlite3")
    for args, message in (
        (("close",), "no audit log"),
        (("timeline", "--incident", "INC-9"), "no audit log"),
        (("open", " "), "an incident needs a title"),
        (("open", "a real one"), ""),  # now there is a log
        (("close", "payments"), "is not an incident id"),
        (("timeline", "--incident", "INC-9"), "no incident INC-9 in the audit log"),
    ):
        out = cockpit("incident", *args, "--db", db)
        if not message:
            assert out.returncode == 0, out.stderr
            continue
        assert out.returncode == 2, (args, out.stderr)
        assert message in out.stderr and out.stderr.count("\n") == 1, out.stderr
        assert "Traceback" not in out.stderr
    both = cockpit("incident", "timeline", "--since", "2h", "--incident", "INC-1")
    assert both.returncode == 2 and "not allowed with argument" in both.stderr


def test_the_timeline_of_the_demo_is_json_with_figures_or_markdown(tmp_path: Path) -> None:
    db = str(tmp_path / "audit.sqlite3")
    inc = cockpit("incident", "open", "payments 5xx", "--service", "payments", "--env", "prod",
                  "--db", db).stdout.strip()  # fmt: skip
    out = cockpit("incident", "timeline", "--incident", inc, "--format", "json", "--db", db)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["incident"]["id"] == inc and data["service"] == "payments"
    assert set(data["figures"]) == {"time_to_detect", "time_to_first_action", "time_to_mitigation"}
    assert {e["service"] for e in data["entries"]} <= {"payments", ""}
    md = cockpit("incident", "timeline", "--since", "30m", "--db", db)
    assert md.returncode == 0 and md.stdout.startswith("# Timeline of the fleet\n")
    assert "| Time (UTC) | Kind | Service/env | What | Who |" in md.stdout


def test_a_timeline_without_an_audit_log_says_what_it_lacks(tmp_path: Path) -> None:
    out = cockpit("incident", "timeline", "--db", str(tmp_path / "none.sqlite3"))
    assert out.returncode == 0
    assert (
        "- Note: no audit log" in out.stdout
        and "actions, verdicts and incidents unknown" in out.stdout
    )


def test_help_names_every_action_and_an_example_of_each() -> None:
    out = cockpit("incident", "--help")
    assert out.returncode == 0
    for action in ("open", "close", "list", "timeline"):
        assert f"cockpit incident {action}" in out.stdout
    assert "docs/incidents.md" in out.stdout


def test_a_refused_open_leaves_no_audit_log_behind(tmp_path: Path) -> None:
    db = tmp_path / "fresh" / "audit.sqlite3"
    for args in ((" ",), ("x" * 1000,), ("title", "--env", "prod")):
        out = cockpit("incident", "open", *args, "--db", str(db))
        assert out.returncode == 2, (args, out.stderr)
    assert not db.exists() and not db.parent.exists()
