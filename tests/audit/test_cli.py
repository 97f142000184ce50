"""`cockpit audit ...` as an operator and an auditor run it: real processes, real sqlite3."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from cockpit.audit import EventType
from cockpit.audit.sqlite import SqliteStore
from cockpit.clock import FixedClock
from tests.cli import cockpit

from .conftest import event, need


def events_of(db: Path, clock: FixedClock) -> list[str]:
    with SqliteStore(str(db), clock=clock, create=False) as s:
        return [str(r.event_type) for r in s.records()]


def test_verify_passes_and_is_itself_recorded(log: Path, clock: FixedClock) -> None:
    done = cockpit("audit", "verify", "--db", str(log))
    assert done.returncode == 0, done.stderr
    assert "audit log intact: 9 records" in done.stdout
    assert events_of(log, clock)[-1] == "audit.verified"
    assert cockpit("audit", "verify", "--db", str(log), "--deep").returncode == 0


def test_a_record_edited_with_the_sqlite3_shell_fails_verify_naming_it(log: Path) -> None:
    sql = (
        "DROP TRIGGER audit_log_no_update;"
        "UPDATE audit_log SET body = replace(body, 'change window closed', 'approved')"
        " WHERE seq = 5;"
    )
    subprocess.run([need("sqlite3"), str(log), sql], check=True)
    done = cockpit("audit", "verify", "--db", str(log))
    assert done.returncode == 1
    assert "record 5" in done.stdout and "edited" in done.stdout


def test_truncation_is_caught_with_an_exported_checkpoint(log: Path, tmp_path: Path) -> None:
    anchor = tmp_path / "worm" / "checkpoint.txt"
    anchor.parent.mkdir()
    made = cockpit("audit", "checkpoint", "--db", str(log), "-o", str(anchor))
    assert made.returncode == 0, made.stderr
    assert anchor.read_text().splitlines()[1] == "9" and anchor.stat().st_mode & 0o777 == 0o600
    assert cockpit("audit", "verify", "--db", str(log), "--checkpoint", str(anchor)).returncode == 0
    sql = "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq >= 7;"
    subprocess.run([need("sqlite3"), str(log), sql], check=True)
    done = cockpit("audit", "verify", "--db", str(log), "--checkpoint", str(anchor))
    assert done.returncode == 1
    assert "record 7" in done.stdout and "truncated" in done.stdout


def test_a_signed_checkpoint_is_checked_when_asked(log: Path, tmp_path: Path) -> None:
    key = tmp_path / "alice"
    subprocess.run(
        [need("ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True
    )
    kind, blob, *_ = Path(f"{key}.pub").read_text().split()
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f'alice@corp namespaces="audit-checkpoint@cockpit" {kind} {blob}\n')
    anchor = tmp_path / "cp.txt"
    assert (
        cockpit(
            "audit", "checkpoint", "--db", str(log), "--sign-key", str(key), "-o", str(anchor)
        ).returncode
        == 0
    )
    ok = cockpit("audit", "verify", "--db", str(log), "--checkpoint", str(anchor),
                 "--allowed-signers", str(allowed), "--principal", "alice@corp")  # fmt: skip
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = cockpit("audit", "verify", "--db", str(log), "--checkpoint", str(anchor),
                  "--allowed-signers", str(allowed), "--principal", "mallory@corp")  # fmt: skip
    assert bad.returncode == 1 and "checkpoint: signature rejected" in bad.stdout


def test_usage_problems_exit_2(log: Path, tmp_path: Path) -> None:
    assert cockpit("audit", "verify", "--db", str(tmp_path / "nothing.sqlite3")).returncode == 2
    assert not (tmp_path / "nothing.sqlite3").exists()
    junk = tmp_path / "junk.txt"
    junk.write_text("not a checkpoint\n")
    done = cockpit("audit", "verify", "--db", str(log), "--checkpoint", str(junk))
    assert done.returncode == 2 and "checkpoint" in done.stderr
    assert cockpit("audit", "export", "--db", str(log)).returncode == 2  # --format is required
    assert cockpit("audit", "show", "--db", str(log), "--type", "action.vanished").returncode == 2


def test_show_and_tail_print_clean_text_and_record_the_read(log: Path, clock: FixedClock) -> None:
    shown = cockpit("audit", "show", "--db", str(log), "--type", "breakglass.used")
    assert shown.returncode == 0
    assert len(shown.stdout.splitlines()) == 2 and "BREAK-GLASS" in shown.stdout
    detail = cockpit("audit", "show", "5", "--db", str(log))
    assert '"change window closed"' in detail.stdout
    tail = cockpit("audit", "tail", "-n", "3", "--db", str(log))
    assert [ln.split()[0] for ln in tail.stdout.splitlines()] == [
        "9",
        "10",
        "11",
    ]  # two reads logged
    everything = cockpit("audit", "show", "--db", str(log), "-n", "100").stdout
    assert "\x1b" not in everything and "\x07" not in everything
    assert "^[]52;c;ZXZpbA==^G" in everything
    assert events_of(log, clock)[-3:] == ["audit.read"] * 3
    assert cockpit("audit", "show", "99", "--db", str(log)).returncode == 1


def test_tail_follow_prints_new_records_as_they_come(log: Path, clock: FixedClock) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "cockpit", "audit", "tail", "-n", "1", "--follow", "--db", str(log)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().split()[0] == "9"
        assert "audit.read" in proc.stdout.readline()  # its own access, recorded and followed
        with SqliteStore(str(log), clock=clock) as s:
            s.append(event(42, reason="late change"))
        assert "late change" in proc.stdout.readline()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_export_jsonl_and_csv_with_a_period(log: Path, tmp_path: Path, clock: FixedClock) -> None:
    out = tmp_path / "export.jsonl"
    period = ("--since", "2026-11-26T03:02:00Z", "--until", "2026-11-26T03:05:00Z")
    done = cockpit(
        "audit", "export", "--db", str(log), "--format", "jsonl", *period, "-o", str(out)
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(ln) for ln in out.read_text().splitlines()]
    assert [r["seq"] for r in lines] == [3, 4, 5]  # since inclusive, until exclusive
    assert out.read_text().isascii() and out.stat().st_mode & 0o777 == 0o600
    with SqliteStore(str(log), clock=clock) as s:
        exported = s.head()
    assert exported is not None and exported.event_type is EventType.AUDIT_EXPORTED
    assert exported.extra["records"] == 3
    assert exported.extra["sha256"] == "sha256:" + hashlib.sha256(out.read_bytes()).hexdigest()
    table = list(
        csv.DictReader(
            io.StringIO(cockpit("audit", "export", "--db", str(log), "--format", "csv").stdout)
        )
    )
    assert [row["seq"] for row in table][:9] == [str(n) for n in range(1, 10)]
    glass = table[5]
    assert glass["break_glass"] == "yes" and glass["reason"].startswith("incident INC-77 ^[]52")


def test_report_lists_production_changes_and_every_break_glass_use(
    log: Path, tmp_path: Path
) -> None:
    period = ("--since", "2026-11-26", "--until", "2026-11-27")
    as_json = cockpit("audit", "report", "--db", str(log), "--format", "json", *period)
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert [c["request_id"] for c in data["changes"]] == [
        "r1",
        "r2",
        "r3",
    ]  # staging's r4 is not prod
    r1, r2, r3 = data["changes"]
    assert (
        r1["approvers"] == ["bob@corp (bob@bastion-2)"] and r1["requested_by"] == "alice@bastion-1"
    )
    assert (
        r1["outcome"] == "succeeded"
        and r1["gates"] == ["pipeline: passed"]
        and r1["ticket"] == "CHG-1042"
    )
    assert r2["outcome"] == "refused" and r2["decision"] == "refused"
    assert r3["break_glass"] and r3["action"] == "rollback"
    assert [u["request_id"] for u in data["break_glass"]] == ["r3", "r4"]  # any environment
    assert data["integrity"].startswith("audit log intact")

    rows = list(
        csv.DictReader(
            io.StringIO(
                cockpit("audit", "report", "--db", str(log), "--format", "csv", *period).stdout
            )
        )
    )
    assert [(r["kind"], r["request_id"]) for r in rows if r["kind"] == "break-glass"] == [
        ("break-glass", "r3"),
        ("break-glass", "r4"),
    ]
    assert all(not r["reason"].startswith(("=", "+", "-", "@")) for r in rows)

    page = tmp_path / "report.html"
    assert (
        cockpit(
            "audit", "report", "--db", str(log), "--format", "html", "-o", str(page), *period
        ).returncode
        == 0
    )
    html = page.read_text()
    assert "Break-glass uses (2)" in html and "hotfix in staging" in html and "INC-77" in html
    assert "\x1b" not in html and "<script" not in html


def test_the_log_path_comes_from_the_config_file(log: Path, tmp_path: Path) -> None:
    config = tmp_path / "cockpit.yaml"
    config.write_text(f"audit:\n  path: {log}\n")
    done = cockpit("audit", "verify", "-c", str(config))
    assert done.returncode == 0 and "9 records" in done.stdout
    done = cockpit("-c", str(config), "audit", "verify")
    assert done.returncode == 0 and "records" in done.stdout


def test_verify_shows_progress_only_on_a_terminal(log: Path) -> None:
    import pty

    main, secondary = pty.openpty()
    cmd = [sys.executable, "-m", "cockpit", "audit", "verify", "--db", str(log)]
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=secondary, timeout=120, check=False)
    os.close(secondary)
    shown = os.read(main, 4096).decode()
    os.close(main)
    assert done.returncode == 0
    assert "verifying: 9/9 records" in shown
    assert "verifying" not in cockpit("audit", "verify", "--db", str(log)).stderr
