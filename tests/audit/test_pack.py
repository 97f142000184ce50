"""`cockpit audit report --pack`: the evidence pack of a scripted day on the demo, checked as an
auditor would: unzipped, every digest, the records, the control map and the exceptions."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cockpit.audit import EventType
from cockpit.audit import canonical as c
from cockpit.audit.sqlite import SqliteStore
from cockpit.clock import FixedClock
from tests.audit.pack_day import DAY, scripted_day, unzip
from tests.binaries import binary
from tests.cli import cockpit

SINCE = ("--since", "2026-11-26")


@dataclass
class Made:
    folder: Path
    db: Path
    pack: Path
    files: dict[str, bytes]
    out: subprocess.CompletedProcess[str]

    def json(self, name: str) -> Any:
        return json.loads(self.files[name])

    def records(self) -> dict[int, dict[str, Any]]:
        lines = self.files["records.jsonl"].decode().splitlines()
        return {r["seq"]: r for r in map(json.loads, lines)}

    def change(self, service: str, action: str = "promote") -> dict[str, Any]:
        (found,) = [
            ch
            for ch in self.json("controls.json")["changes"]
            if ch["service"] == service and ch["action"] == action
        ]
        return found


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    folder = tmp_path_factory.mktemp("pack")
    db = scripted_day(folder)
    pack = folder / "evidence.zip"
    out = cockpit("audit", "report", "--db", str(db), *SINCE, "--pack", str(pack))
    assert out.returncode == 0, out.stderr
    return Made(folder, db, pack, unzip(pack, folder / "unzipped"), out)


def test_every_file_matches_the_manifest_and_sha256sum_agrees(made: Made) -> None:
    manifest = made.json("MANIFEST.json")
    listed = manifest["files"]
    assert set(made.files) == {*listed, "MANIFEST.json", "MANIFEST.sha256"}
    assert set(listed) == {
        "report.html", "records.jsonl", "changes.csv", "verify.txt", "checkpoint.txt",
        "controls.json",
    }  # fmt: skip
    for name, entry in listed.items():
        data = made.files[name]
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}, name
    sums = made.files["MANIFEST.sha256"].decode().splitlines()
    assert sorted(line.split("  ")[1] for line in sums) == sorted([*listed, "MANIFEST.json"])
    checked = subprocess.run(
        [binary("sha256sum", "coreutils"), "-c", "MANIFEST.sha256"],
        cwd=made.folder / "unzipped",
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count(": OK") == 7
    assert manifest["parameters"]["controls"] == ["sox", "pci", "hipaa"]
    assert manifest["parameters"]["since"] == "2026-11-26T00:00:00.000Z"
    digest = hashlib.sha256(made.pack.read_bytes()).hexdigest()
    assert made.out.stdout.strip().endswith(f"sha256:{digest}")


def test_records_jsonl_is_a_chained_slice_and_the_checkpoint_verifies_the_log(made: Made) -> None:
    records = made.records()
    seqs = sorted(records)
    assert seqs == list(range(seqs[0], seqs[-1] + 1)) and seqs[0] == 1
    prev = c.GENESIS.hex()
    for seq in seqs:
        data = dict(records[seq])
        stored, link = data.pop("hash"), data.pop("prev_hash")
        assert link == prev, f"record {seq} does not link to {seq - 1}"
        body = c.canonical(data)
        assert hashlib.sha256(c.DOMAIN + bytes.fromhex(link) + body).hexdigest() == stored
        prev = stored
    checkpoint = made.folder / "unzipped" / "checkpoint.txt"
    done = cockpit("audit", "verify", "--db", str(made.db), "--checkpoint", str(checkpoint))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "consistent" in done.stdout
    # verify.txt is the transcript of the in-process verify, against the checkpoint the log
    # records writing (cp.txt), and the pack's identity is that of the log
    verify = made.files["verify.txt"].decode()
    assert verify.startswith(f"$ cockpit audit verify --checkpoint {made.folder / 'cp.txt'}\n")
    assert "audit log intact" in verify and "consistent" in verify and verify.endswith("exit 0\n")
    log = made.json("MANIFEST.json")["log"]
    assert log["intact"] and checkpoint.read_text().splitlines()[1] == str(log["size"])


def test_an_approved_promote_meets_sox_with_the_request_and_approval_before_the_deploy(
    made: Made,
) -> None:
    records = made.records()
    change = made.change("checkout")
    assert change["author"] == "alice@bastion-1" and change["approvers"] == ["bob@bastion-1"]
    assert change["deployed_by"] == "bob@bastion-1" and change["outcome"] == "succeeded"
    sox = change["controls"]["sox"]
    assert sox["status"] == "satisfied" and sox["missing"] == []
    roles = {r["role"]: r for r in sox["records"]}
    assert list(roles) == ["request", "approval", "deploy"]
    assert roles["request"]["seq"] < roles["approval"]["seq"] < roles["deploy"]["seq"]
    for cited in sox["records"]:
        assert records[cited["seq"]]["hash"] == cited["hash"]
    assert records[roles["request"]["seq"]]["actor"]["user"] == "alice"
    assert records[roles["approval"]["seq"]]["event_type"] == "approval.granted"
    assert records[roles["approval"]["seq"]]["actor"]["user"] == "bob"
    gates = {g["name"]: g["status"] for g in change["gates"]}
    assert gates["pipeline"] == "pass" and gates["tests"] == "pass"


def test_changes_without_a_second_person_are_missing_sox_but_meet_pci_and_hipaa(
    made: Made,
) -> None:
    records = made.records()
    for service, action in (("payments", "promote"), ("cart", "rollback")):
        change = made.change(service, action)
        sox = change["controls"]["sox"]
        assert sox["status"] == "missing", (service, sox)
        assert sox["missing"] == [
            "an approval by someone other than the author before deployment (none recorded)"
        ]
        assert change["controls"]["pci"] == {
            "status": "satisfied",
            "missing": [],
            "note": "",
            "records": change["controls"]["pci"]["records"],
        }
        assert [r["role"] for r in change["controls"]["pci"]["records"]] == ["deploy", "outcome"]
        hipaa = change["controls"]["hipaa"]
        assert hipaa["status"] == "satisfied", hipaa
        reviews = [r for r in hipaa["records"] if r["role"] == "review"]
        assert reviews and all(
            records[r["seq"]]["event_type"].startswith("audit.") for r in reviews
        )
        assert any(records[r["seq"]]["event_type"] == "audit.read" for r in reviews)
    assert made.change("payments")["lane"] == "hotfix"
    assert "hotfix lane" in made.change("payments")["controls"]["sox"]["note"]
    # the refused self-approval ran nothing, so it is no change of its own
    assert [ch["action"] for ch in made.json("controls.json")["changes"]].count("approve") == 0


def test_exceptions_name_break_glass_the_hotfix_the_self_approval_and_overridden_gates(
    made: Made,
) -> None:
    records = made.records()
    found = made.json("controls.json")["exceptions"]
    (glass,) = found["break-glass"]
    assert glass["service"] == "search" and "break-glass" in glass["what"]
    assert any(records[s]["event_type"] == "breakglass.used" for s in glass["seqs"])
    (hotfix,) = found["hotfix without follow-up"]
    assert hotfix["service"] == "payments" and "CHG-7" in hotfix["what"]
    assert "overdue" in hotfix["what"]
    (selfie,) = found["refused self-approval"]
    request, refused = (records[s] for s in selfie["seqs"])
    assert request["event_type"] == "approval.pending" and request["actor"]["user"] == "alice"
    assert refused["event_type"] == "action.refused" and refused["actor"]["user"] == "alice"
    assert refused["target"]["remote_id"] == request["request_id"]
    overridden = {f["service"]: f["what"] for f in found["gate overridden"]}
    assert "under break-glass" in overridden["search"] and "alerts fail" in overridden["search"]
    assert "unknown_gates: warn" in overridden["cart"] and "canary unknown" in overridden["cart"]
    assert found["verify problem"] == []
    assert made.json("MANIFEST.json")["counts"]["exceptions"]["refused self-approval"] == 1


def test_the_pack_is_itself_recorded_with_its_digest(made: Made) -> None:
    with SqliteStore(str(made.db), clock=FixedClock(DAY), read_only=True) as store:
        exported = list(store.records(event_types=[EventType.AUDIT_EXPORTED]))
    (mine,) = [r for r in exported if r.extra["output"] == str(made.pack)]
    assert mine.extra["format"] == "pack" and mine.extra["changes"] == 5
    assert mine.extra["sha256"] == "sha256:" + hashlib.sha256(made.pack.read_bytes()).hexdigest()


def test_hostile_text_in_a_reason_is_escaped_in_the_html(made: Made) -> None:
    html = made.files["report.html"].decode()
    assert "<script" not in html.lower() and "\x1b" not in html and "\x07" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "&amp;" in html
    assert "^[[31mred^G" in html  # control characters made visible, not passed through
    assert "[bold red]x[/]" in html  # markup is only text in HTML
    for external in ("src=", "href=", "@import", "url("):
        assert external not in html
    assert "\x1b" not in made.files["changes.csv"].decode()


def test_a_pack_given_a_checkpoint_verifies_against_it_and_includes_it_as_is(
    made: Made, tmp_path: Path
) -> None:
    given = made.folder / "cp.txt"
    pack = tmp_path / "given.zip"
    out = cockpit(
        "audit", "report", "--db", str(made.db), *SINCE, "--pack", str(pack),
        "--checkpoint", str(given), "--controls", "sox",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    files = unzip(pack, tmp_path / "given")
    assert files["checkpoint.txt"] == given.read_bytes()
    assert f"--checkpoint {given}" in files["verify.txt"].decode()
    controls = json.loads(files["controls.json"])
    assert [ctl["id"] for ctl in controls["controls"]] == ["sox"]
    assert all(list(ch["controls"]) == ["sox"] for ch in controls["changes"])


def tamper(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET body = replace(body, 'bob', 'eve') WHERE seq = 3")
    conn.commit()
    conn.close()


def test_a_tampered_log_gives_a_pack_that_says_so_and_is_not_recorded(
    made: Made, tmp_path: Path
) -> None:
    db = tmp_path / "audit.sqlite3"
    db.write_bytes(made.db.read_bytes())
    tamper(db)
    size = db.stat().st_size
    pack = tmp_path / "bad.zip"
    out = cockpit("audit", "report", "--db", str(db), *SINCE, "--pack", str(pack))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "not recorded" in out.stderr
    files = unzip(pack, tmp_path / "bad")
    assert "checkpoint.txt" not in files  # no checkpoint anchors a damaged log
    assert "NOT intact" in files["verify.txt"].decode()
    found = json.loads(files["controls.json"])["exceptions"]["verify problem"]
    assert found and all("NOT intact" in f["what"] for f in found)
    checkout = next(ch for ch in json.loads(files["controls.json"])["changes"])
    assert checkout["controls"]["hipaa"]["status"] == "missing"
    assert "a verified chain" in checkout["controls"]["hipaa"]["missing"][0]
    assert db.stat().st_size == size  # nothing appended to a log that is not intact


def test_a_log_truncated_below_the_given_checkpoint_fails_every_hipaa_cell(
    made: Made, tmp_path: Path
) -> None:
    db = tmp_path / "audit.sqlite3"
    db.write_bytes(made.db.read_bytes())
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER audit_log_no_delete")
    conn.execute("DELETE FROM audit_log WHERE seq >= 18")  # the rollback's records and after
    conn.commit()
    conn.close()
    size = db.stat().st_size
    given = made.folder / "cp.txt"
    pack = tmp_path / "cut.zip"
    out = cockpit(
        "audit", "report", "--db", str(db), *SINCE, "--pack", str(pack), "--checkpoint", str(given)
    )
    assert out.returncode == 1, out.stdout + out.stderr
    files = unzip(pack, tmp_path / "cut")
    assert "truncated" in files["verify.txt"].decode() and files["verify.txt"].endswith(b"exit 1\n")
    controls = json.loads(files["controls.json"])
    assert controls["log"]["intact"] is False
    assert all(ch["controls"]["hipaa"]["status"] == "missing" for ch in controls["changes"])
    assert any("truncated" in f["what"] for f in controls["exceptions"]["verify problem"])
    assert db.stat().st_size == size


def test_a_failed_write_leaves_no_half_pack_and_an_older_pack_untouched(
    made: Made, tmp_path: Path
) -> None:
    older = tmp_path / "older.zip"
    older.write_bytes(b"an older pack")
    blocked = tmp_path / "taken"
    blocked.mkdir()  # the pack's name is a directory: the rename into place fails
    out = cockpit("audit", "report", "--db", str(made.db), *SINCE, "--pack", str(blocked))
    assert out.returncode == 2 and "cockpit audit:" in out.stderr
    assert sorted(os.listdir(tmp_path)) == ["older.zip", "taken"]  # no temporary file left
    assert list(blocked.iterdir()) == []
    bad = cockpit(
        "audit", "report", "--db", str(made.db), "--pack", str(older), "--controls", "sox,gdpr"
    )
    assert bad.returncode == 2 and "gdpr" in bad.stderr
    assert older.read_bytes() == b"an older pack"
    mixed = cockpit("audit", "report", "--db", str(made.db), "--pack", str(older), "-o", "x.csv")
    assert mixed.returncode == 2 and "--pack writes its own files" in mixed.stderr


def test_a_pack_signs_the_checkpoint_it_makes_and_the_auditor_checks_it(
    made: Made, tmp_path: Path
) -> None:
    key = tmp_path / "auditor"
    keygen = binary("ssh-keygen", "apt-get install -y openssh-client")
    subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    kind, blob, *_ = Path(f"{key}.pub").read_text().split()
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f'auditor@corp namespaces="audit-checkpoint@cockpit" {kind} {blob}\n')
    pack = tmp_path / "signed.zip"
    out = cockpit(
        "audit", "report", "--db", str(made.db), *SINCE, "--pack", str(pack), "--sign-key", str(key)
    )
    assert out.returncode == 0, out.stderr
    files = unzip(pack, tmp_path / "signed")
    assert "-----BEGIN SSH SIGNATURE-----" in files["checkpoint.txt"].decode()
    assert "signed" in json.loads(files["MANIFEST.json"])["parameters"]["checkpoint"]
    checked = cockpit(
        "audit", "verify", "--db", str(made.db),
        "--checkpoint", str(tmp_path / "signed" / "checkpoint.txt"),
        "--allowed-signers", str(allowed), "--principal", "auditor@corp",
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "consistent" in checked.stdout
