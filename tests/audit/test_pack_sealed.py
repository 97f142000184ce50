"""The evidence pack over a log partly sealed into archive segments (`cockpit audit seal`):
the sealed records, changes and exceptions are in it as if never sealed, every digest checks,
and a tampered segment makes the pack say so."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.audit.pack_day import scripted_day, unzip
from tests.binaries import binary
from tests.cli import cockpit

SEGMENT = "audit-000000000001-000000000010.jsonl"  # the day's records before 10:30
PERIOD = ("--since", "2026-11-26T10:05:00Z", "--until", "2026-11-26T11:00:00Z")


@dataclass
class Logs:
    sealed: Path  # records 1-10 in audit-archive/SEGMENT, the rest live
    twin: Path  # the same log, never sealed


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Logs:
    folder = tmp_path_factory.mktemp("sealed-day")
    db = scripted_day(folder)
    twin = folder / "twin" / "audit.sqlite3"
    twin.parent.mkdir()
    shutil.copyfile(db, twin)
    done = cockpit("audit", "seal", "--db", str(db), "--before", "2026-11-26T10:30:00Z")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (folder / "audit-archive" / SEGMENT).exists()
    return Logs(db, twin)


def copy(logs: Logs, into: Path) -> Path:
    """A copy of the sealed log with its archive, to change without touching the module's."""
    db = into / "audit.sqlite3"
    shutil.copyfile(logs.sealed, db)
    shutil.copytree(logs.sealed.with_name("audit-archive"), into / "audit-archive")
    return db


def pack(db: Path, into: Path, *period: str) -> tuple[subprocess.CompletedProcess[str], Any]:
    into.mkdir(exist_ok=True)
    out = cockpit("audit", "report", "--db", str(db), *period, "--pack", str(into / "p.zip"))
    files = unzip(into / "p.zip", into / "unzipped") if (into / "p.zip").exists() else {}
    return out, files


def jsonl(data: bytes) -> dict[int, dict[str, Any]]:
    return {r["seq"]: r for r in map(json.loads, data.decode().splitlines())}


def test_the_sealed_changes_are_in_the_pack_as_if_never_sealed_and_every_digest_checks(
    logs: Logs, tmp_path: Path
) -> None:
    out, files = pack(logs.sealed, tmp_path / "sealed", *PERIOD)
    assert out.returncode == 0, out.stdout + out.stderr
    twin_out, twin = pack(logs.twin, tmp_path / "twin", *PERIOD)
    assert twin_out.returncode == 0, twin_out.stdout + twin_out.stderr

    # the same records, changes, control map and exceptions as the log that was never sealed
    assert files["records.jsonl"] == twin["records.jsonl"]
    assert files["changes.csv"] == twin["changes.csv"]
    controls, twins = json.loads(files["controls.json"]), json.loads(twin["controls.json"])
    assert controls["changes"] == twins["changes"]
    assert controls["exceptions"] == twins["exceptions"]

    records = jsonl(files["records.jsonl"])
    assert sorted(records) == list(range(3, 20))  # 10:10 to 10:53; 3-10 are sealed
    segment = logs.sealed.with_name("audit-archive") / SEGMENT
    stored = {line["seq"]: line for line in map(json.loads, segment.read_bytes().splitlines())}
    for seq in range(3, 11):
        assert records[seq]["hash"] == stored[seq]["hash"], seq
    checkout = next(ch for ch in controls["changes"] if ch["service"] == "checkout")
    sox = checkout["controls"]["sox"]
    assert sox["status"] == "satisfied"
    # the request (10:00) is before the period: read from the segment as the change's context
    cited = {r["role"]: r for r in sox["records"]}
    assert cited["request"]["seq"] == 2 and cited["request"]["hash"] == stored[2]["hash"]
    assert [(ch["service"], ch["action"]) for ch in controls["changes"]] == [
        ("checkout", "promote"), ("cart", "promote"), ("search", "promote"),
        ("payments", "promote"), ("cart", "rollback"),
    ]  # fmt: skip
    (selfie,) = controls["exceptions"]["refused self-approval"]
    assert selfie["seqs"] == [6, 7]  # both sealed
    rows = files["changes.csv"].decode().splitlines()
    assert sum(row.startswith("change,") and ",checkout," in row for row in rows) == 1
    html = files["report.html"].decode()
    assert "checkout" in html and "Refused self-approval (1)" in html

    manifest = json.loads(files["MANIFEST.json"])
    assert manifest["counts"]["records"] == 17 and manifest["log"]["intact"] is True
    for name, entry in manifest["files"].items():
        data = files[name]
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}, name
    checked = subprocess.run(
        [binary("sha256sum", "coreutils"), "-c", "MANIFEST.sha256"],
        cwd=tmp_path / "sealed" / "unzipped",
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count(": OK") == len(manifest["files"]) + 1
    verify = files["verify.txt"].decode()
    assert f"segment {SEGMENT}: records 1-10 intact" in verify and verify.endswith("exit 0\n")


def test_a_follow_up_sealed_in_a_later_segment_closes_its_hotfix_in_pack_and_report(
    logs: Logs, tmp_path: Path
) -> None:
    db = copy(logs, tmp_path)
    done = cockpit("audit", "follow-up", "16", "--ticket", "CHG-8", "--db", str(db))
    assert done.returncode == 0, done.stdout + done.stderr
    done = cockpit("audit", "seal", "--db", str(db), "--before", "0s")  # all but the seal
    assert done.returncode == 0, done.stdout + done.stderr
    out, files = pack(db, tmp_path, "--since", "2026-11-26")
    assert out.returncode == 0, out.stdout + out.stderr
    records = jsonl(files["records.jsonl"])
    assert sorted(records) == list(range(1, max(records) + 1))
    assert [r["event_type"] for r in records.values()].count("hotfix.follow_up") == 1
    controls = json.loads(files["controls.json"])
    assert len(controls["changes"]) == 5
    assert controls["exceptions"]["hotfix without follow-up"] == []
    assert controls["exceptions"]["verify problem"] == []
    plain = cockpit("audit", "report", "--db", str(db), "--since", "2026-11-26", "--format", "json")
    assert plain.returncode == 0, plain.stderr
    assert json.loads(plain.stdout)["hotfixes_without_follow_up"] == []


def test_a_tampered_segment_makes_the_pack_say_so_and_it_is_not_recorded(
    logs: Logs, tmp_path: Path
) -> None:
    db = copy(logs, tmp_path)
    segment = tmp_path / "audit-archive" / SEGMENT
    text = segment.read_bytes()
    assert b"reviewed the diff" in text  # bob's approval of checkout, and its deploy
    segment.write_bytes(text.replace(b"reviewed the diff", b"reviewed the DIFF"))
    size = db.stat().st_size
    out, files = pack(db, tmp_path, *PERIOD)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "not recorded" in out.stderr
    assert "checkpoint.txt" not in files
    controls = json.loads(files["controls.json"])
    assert controls["log"]["intact"] is False
    problems = controls["exceptions"]["verify problem"]
    assert problems and all(SEGMENT in p["what"] for p in problems)
    assert all(ch["controls"]["hipaa"]["status"] == "missing" for ch in controls["changes"])
    assert db.stat().st_size == size


def test_a_checkpoint_whose_record_was_sealed_still_anchors_the_pack(
    logs: Logs, tmp_path: Path
) -> None:
    db = copy(logs, tmp_path)
    shutil.copyfile(logs.twin, tmp_path / "twin.sqlite3")
    # Seal everything, the record of the checkpoint the day wrote (with the real clock) too.
    done = cockpit("audit", "seal", "--db", str(db), "--before", "0d")  # up to now
    assert done.returncode == 0, done.stdout + done.stderr
    out, files = pack(db, tmp_path / "all-sealed", *PERIOD)
    assert out.returncode == 0, out.stdout + out.stderr
    twin_out, twin = pack(tmp_path / "twin.sqlite3", tmp_path / "twin", *PERIOD)
    assert twin_out.returncode == 0, twin_out.stdout + twin_out.stderr
    anchored = "$ cockpit audit verify --checkpoint "
    assert twin["verify.txt"].decode().startswith(anchored)
    assert files["verify.txt"].decode().startswith(anchored)
