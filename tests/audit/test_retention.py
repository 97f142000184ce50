"""Retention: sealing old records into archive segments, verify across them, signed purges.

The commands run in-process through the audit CLI's own dispatch with an injected clock, so
"seven years later" is a clock set, not a wait. Keys are made by the real ssh-keygen.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cockpit.audit import cli
from cockpit.audit.records import AuditRecord
from cockpit.audit.sqlite import SqliteStore
from cockpit.cli.root import parse
from cockpit.clock import FixedClock

from .conftest import ACTOR, event, need

START = datetime(2019, 3, 1, tzinfo=UTC)
SEG = "audit-000000000001-000000000005.jsonl"


class Audit:
    """`cockpit audit ...` against one log, at the test's clock, output captured."""

    def __init__(self, db: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]) -> None:
        self.db, self.clock, self.capsys = db, clock, capsys
        self.config: Path | None = None
        self.archive = db.with_name("audit-archive")

    def __call__(self, *argv: str) -> tuple[int, str]:
        self.capsys.readouterr()
        config = ["-c", str(self.config)] if self.config else []
        code = cli.run(parse(["audit", *argv, "--db", str(self.db), *config]), self.clock)
        out = self.capsys.readouterr()
        return code, out.out + out.err

    def configure(self, text: str) -> None:
        self.config = self.db.parent / "cockpit.yaml"
        self.config.write_text(text)

    def records(self) -> list[AuditRecord]:
        with SqliteStore(str(self.db), clock=self.clock, create=False) as s:
            return list(s.records())


@pytest.fixture
def audit(db: Path, capsys: pytest.CaptureFixture[str]) -> Audit:
    """A log of 10 records, one a day from 1 March 2019: the init record and nine promotes."""
    clock = FixedClock(START)
    with SqliteStore(str(db), clock=clock) as s:
        for n in range(9):
            clock.advance(86400)
            s.append(event(n))
    return Audit(db, clock, capsys)


def keygen(tmp_path: Path, name: str = "alice") -> tuple[Path, Path]:
    """An ed25519 key and an allowed_signers file naming it for checkpoints and purges."""
    key = tmp_path / name
    subprocess.run(
        [need("ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)],
        check=True,
    )
    kind, blob, *_ = Path(f"{key}.pub").read_text().split()
    allowed = tmp_path / f"{name}_allowed_signers"
    spaces = "audit-checkpoint@cockpit,audit-purge@cockpit"
    allowed.write_text(f'{name}@corp namespaces="{spaces}" {kind} {blob}\n')
    return key, allowed


def test_seal_moves_the_prefix_into_a_segment_and_verify_spans_it(audit: Audit) -> None:
    code, out = audit("seal", "--before", "2019-03-06", "--reason", "yearly archive")
    assert code == 0, out
    segment = audit.archive / SEG
    assert segment.exists() and segment.stat().st_mode & 0o777 == 0o600
    lines = [json.loads(line) for line in segment.read_bytes().splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3, 4, 5]
    live = audit.records()
    assert live[0].seq == 6 and live[0].prev_hash == lines[-1]["hash"]
    seal = live[-1]
    assert (str(seal.event_type), seal.reason) == ("audit.seal", "yearly archive")
    assert seal.extra["segment"] == SEG and seal.extra["head_hash"] == lines[-1]["hash"]
    assert (seal.extra["first_seq"], seal.extra["last_seq"]) == (1, 5)
    checkpoint = segment.with_suffix(".checkpoint").read_text().splitlines()
    assert checkpoint[1] == "5"
    prev = bytes(32)  # docs/audit-format.md 10a: every hash from the file alone
    for line in lines:
        body = line["body"].encode("utf-8")
        assert line["prev_hash"] == prev.hex()
        prev = hashlib.sha256(b"cockpit-audit-v1\x00" + prev + body).digest()
        assert line["hash"] == prev.hex()

    code, out = audit("verify", "--deep")
    assert code == 0, out
    assert f"segment {SEG}: records 1-5 intact" in out
    assert "live log: records 6-11 intact" in out and "audit log intact: 11 records" in out
    assert str(audit.records()[-1].event_type) == "audit.verified"


def test_sealed_records_are_still_shown_and_exported(audit: Audit, tmp_path: Path) -> None:
    assert audit("seal", "--before", "2019-03-06")[0] == 0
    code, out = audit("show", "3", "--json")
    assert code == 0, out
    assert json.loads(out.splitlines()[0])["seq"] == 3
    target = tmp_path / "march.jsonl"
    code, out = audit(
        "export", "--format", "jsonl", "--since", "2019-03-02", "--until", "2019-03-08",
        "-o", str(target),
    )  # fmt: skip
    assert code == 0, out
    seqs = [json.loads(line)["seq"] for line in target.read_text().splitlines()]
    assert seqs == [2, 3, 4, 5, 6, 7]  # four sealed, two live, each once


def test_a_tampered_segment_fails_verify_naming_it(audit: Audit) -> None:
    assert audit("seal", "--before", "2019-03-06")[0] == 0
    segment = audit.archive / SEG
    segment.write_bytes(segment.read_bytes().replace(b"release train 2", b"release train X"))
    code, out = audit("verify")
    assert code == 1
    assert f"NOT intact: segment {SEG}: record 4" in out and "edited" in out


def test_a_rewritten_segment_with_a_fresh_chain_fails_against_its_seal_and_the_live_log(
    audit: Audit,
) -> None:
    """Rewriting a segment and re-hashing it cannot also fix the live log's link to it."""
    assert audit("seal", "--before", "2019-03-06")[0] == 0
    segment = audit.archive / SEG
    lines = segment.read_bytes().splitlines()
    segment.write_bytes(b"\n".join(lines[:-1]) + b"\n")  # drop record 5
    code, out = audit("verify")
    assert code == 1 and SEG in out


def test_a_segment_deleted_without_a_purge_record_fails_verify(audit: Audit) -> None:
    assert audit("seal", "--before", "2019-03-06")[0] == 0
    (audit.archive / SEG).unlink()
    code, out = audit("verify")
    assert code == 1
    assert (
        "records 1-5 are missing (segment audit-000000000001-000000000005.jsonl, sealed by #11)"
        in out
    )


def test_records_deleted_from_the_live_log_without_a_seal_fail_verify(audit: Audit) -> None:
    with sqlite3.connect(audit.db) as conn:
        conn.execute("DROP TRIGGER audit_log_no_delete")
        conn.execute("DELETE FROM audit_log WHERE seq <= 3")
    code, out = audit("verify")
    assert code == 1
    assert "starts at record 4 and no audit.seal record" in out


def test_a_crash_between_segment_write_and_delete_leaves_a_verifiable_state(
    audit: Audit, monkeypatch: pytest.MonkeyPatch
) -> None:
    def power_cut(*_: object) -> None:
        raise RuntimeError("power cut after the segment was written")

    with monkeypatch.context() as patched:
        patched.setattr(SqliteStore, "drop_sealed", power_cut)
        with pytest.raises(RuntimeError):
            audit("seal", "--before", "2019-03-06")
    assert (audit.archive / SEG).exists()
    assert [r.seq for r in audit.records()][:2] == [1, 2]  # nothing left the live log
    code, out = audit("verify")
    assert code == 0, out
    assert "also still in the live log (an interrupted seal" in out

    code, out = audit("seal", "--before", "2019-03-09")  # a later cutoff: the old one finishes
    assert code == 0, out
    assert "resuming an interrupted seal" in out
    assert audit.records()[0].seq == 6
    code, out = audit("verify")
    assert code == 0, out


def test_a_checkpoint_made_before_the_seal_still_anchors_verify(
    audit: Audit, tmp_path: Path
) -> None:
    anchor = tmp_path / "cp.txt"
    assert audit("checkpoint", "-o", str(anchor))[0] == 0  # at record 10
    early = tmp_path / "early.txt"
    lines = anchor.read_text().splitlines()
    with SqliteStore(str(audit.db), clock=audit.clock, create=False) as s:
        three = next(r for r in s.records() if r.seq == 3)
    lines[1:3] = ["3", base64.b64encode(bytes.fromhex(three.hash)).decode()]
    early.write_text("\n".join(lines) + "\n")
    assert audit("seal", "--before", "2019-03-06")[0] == 0
    for cp in (anchor, early):
        code, out = audit("verify", "--checkpoint", str(cp))
        assert code == 0, out
        assert "consistent" in out


def retention(audit: Audit, extra: str = "") -> None:
    audit.configure(f"retention:\n  keep: 7y\n{extra}")


def test_a_purge_within_retention_is_refused_and_the_refusal_recorded(
    audit: Audit, tmp_path: Path
) -> None:
    key, _ = keygen(tmp_path)
    retention(audit)
    assert audit("seal", "--before", "2019-03-06")[0] == 0
    audit.clock.set(datetime(2025, 6, 1, tzinfo=UTC))  # six years on: still within 7y
    argv = ("purge", "--before", "2019-03-06", "--reason", "tidy", "--sign-key", str(key))
    before = len(audit.records())
    code, out = audit(*argv)  # the plan: nothing recorded
    assert code == 3 and "within retention (keep 7y" in out
    assert len(audit.records()) == before

    code, out = audit(*argv, "--yes")
    assert code == 3 and f"segment {SEG} holds records up to 2019-03-05" in out
    refused = audit.records()[-1]
    assert (str(refused.event_type), refused.outcome) == ("audit.purge", "refused")
    assert "within retention" in refused.extra["refusals"][0]
    assert (audit.archive / SEG).exists()
    assert audit("verify")[0] == 0


def test_a_signed_purge_past_retention_is_reported_by_verify(audit: Audit, tmp_path: Path) -> None:
    key, allowed = keygen(tmp_path)
    retention(audit)
    assert audit("seal", "--before", "2019-03-06", "--sign-key", str(key))[0] == 0
    assert audit("seal", "--before", "2019-03-09", "--sign-key", str(key))[0] == 0
    audit.clock.set(datetime(2026, 12, 5, tzinfo=UTC))  # seven years and more later
    argv = ("purge", "--before", "2019-03-06", "--reason", "past retention", "--sign-key", str(key))
    code, out = audit(*argv)
    assert code == 0 and "plan only" in out and (audit.archive / SEG).exists()

    code, out = audit(*argv, "--yes")
    assert code == 0, out
    assert not (audit.archive / SEG).exists()
    assert not (audit.archive / SEG).with_suffix(".checkpoint").exists()
    purge = audit.records()[-1]
    assert (str(purge.event_type), purge.outcome) == ("audit.purge", "success")
    assert purge.extra["segments"][0]["segment"] == SEG
    assert "BEGIN SSH SIGNATURE" in purge.extra["signature"]

    code, out = audit("verify")
    assert code == 0, out
    assert (
        f"records 1-5 purged by #{purge.seq} at 2026-12-05T00:00:00.000Z (signed by ED25519" in out
    )
    assert "records 6-8 intact" in out
    code, out = audit("verify", "--allowed-signers", str(allowed), "--principal", "alice@corp")
    assert code == 0, out
    assert "signed by alice@corp" in out
    code, out = audit("verify", "--allowed-signers", str(allowed), "--principal", "mallory@corp")
    assert code == 1 and f"purge record #{purge.seq}" in out


def test_an_unsigned_purge_needs_the_config_and_verify_holds_it_to_that(
    audit: Audit, tmp_path: Path
) -> None:
    retention(audit)
    assert audit("seal", "--before", "2019-03-06")[0] == 0
    audit.clock.set(datetime(2027, 1, 1, tzinfo=UTC))
    argv = ("purge", "--before", "2019-03-06", "--reason", "old", "--yes")
    code, out = audit(*argv)
    assert code == 3 and "a purge must be signed" in out
    code, out = audit(*argv, "--unsigned")
    assert code == 3 and "retention.unsigned_purge is false" in out
    assert (audit.archive / SEG).exists()

    retention(audit, "  unsigned_purge: true\n")
    assert audit(*argv, "--unsigned")[0] == 0
    code, out = audit("verify")
    assert code == 0 and "UNSIGNED" in out
    retention(audit)  # the config no longer allows unsigned purges: verify does not either
    code, out = audit("verify")
    assert code == 1 and "is not signed" in out


def test_seal_every_as_a_count_seals_whole_segments(audit: Audit) -> None:
    audit.configure("retention:\n  keep: 1y\n  seal_every: 4\n")
    code, out = audit("seal")
    assert code == 0, out
    assert (audit.archive / "audit-000000000001-000000000004.jsonl").exists()
    assert audit("seal")[0] == 0
    assert (audit.archive / "audit-000000000005-000000000008.jsonl").exists()
    assert audit("verify")[0] == 0


def test_with_allowed_signers_every_segment_checkpoint_must_be_signed(
    audit: Audit, tmp_path: Path
) -> None:
    key, allowed = keygen(tmp_path)
    assert audit("seal", "--before", "2019-03-04", "--sign-key", str(key))[0] == 0
    assert audit("seal", "--before", "2019-03-06")[0] == 0
    argv = ("verify", "--allowed-signers", str(allowed))
    code, out = audit(*argv, "--principal", "alice@corp")
    assert code == 1
    assert (
        "segment audit-000000000004-000000000005.jsonl: checkpoint: the checkpoint is not signed"
        in out
    )
    assert audit("verify")[0] == 0  # without signers the chain alone is checked


def test_seal_without_a_cutoff_is_a_usage_error(audit: Audit) -> None:
    code, out = audit("seal")
    assert code == 2 and "give --before WHEN" in out


def test_a_tampered_segment_is_neither_purged_nor_resumed(audit: Audit, tmp_path: Path) -> None:
    key, _ = keygen(tmp_path)
    retention(audit)
    assert audit("seal", "--before", "2019-03-06")[0] == 0
    segment = audit.archive / SEG
    segment.write_bytes(segment.read_bytes().replace(b"release train 3", b"release train Y"))
    audit.clock.set(datetime(2027, 1, 1, tzinfo=UTC))
    argv = ("purge", "--before", "2019-03-06", "--reason", "old", "--sign-key", str(key), "--yes")
    code, out = audit(*argv)
    assert code == 3 and "verify the archive first" in out and segment.exists()
    assert audit.records()[-1].outcome == "refused"


def test_an_interrupted_seal_whose_segment_was_changed_deletes_nothing(
    audit: Audit, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patched:
        patched.setattr(SqliteStore, "drop_sealed", lambda *_: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            audit("seal", "--before", "2019-03-06")
    segment = audit.archive / SEG
    segment.write_bytes(segment.read_bytes().replace(b"release train 1", b"release train Z"))
    code, out = audit("seal", "--before", "2019-03-06")
    assert code == 1 and "nothing deleted from the live log" in out
    assert audit.records()[0].seq == 1
    assert audit("verify")[0] == 1


def test_a_crash_after_the_purge_record_leaves_a_verifiable_archive(
    audit: Audit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cockpit.audit import segments

    key, _ = keygen(tmp_path)
    retention(audit)
    assert audit("seal", "--before", "2019-03-06")[0] == 0
    audit.clock.set(datetime(2027, 1, 1, tzinfo=UTC))
    argv = ("purge", "--before", "2019-03-06", "--reason", "old", "--sign-key", str(key), "--yes")
    with monkeypatch.context() as patched:
        patched.setattr(segments, "remove", lambda *_: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            audit(*argv)
    assert (audit.archive / SEG).exists() and audit.records()[-1].outcome == "success"
    code, out = audit("verify")
    assert code == 0, out
    assert audit(*argv)[0] == 0 and not (audit.archive / SEG).exists()
    assert audit("verify")[0] == 0


def test_a_damaged_live_log_is_not_sealed(audit: Audit) -> None:
    with sqlite3.connect(audit.db) as conn:
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute(
            "UPDATE audit_log SET body = replace(body, 'train 4', 'train 9') WHERE seq = 6"
        )
    code, out = audit("seal", "--before", "2019-03-06")
    assert code == 1 and "nothing sealed" in out
    assert not audit.archive.exists()


def test_the_commands_run_as_an_operator_runs_them(audit: Audit) -> None:
    """The real entry point: `cockpit audit seal|verify|purge` in a process of their own."""
    from tests.cli import cockpit

    db = str(audit.db)
    done = cockpit("audit", "seal", "--before", "2019-03-06", "--db", db)
    assert done.returncode == 0 and "sealed records 1-5" in done.stdout, done.stderr
    done = cockpit("audit", "verify", "--db", db)
    assert done.returncode == 0 and f"segment {SEG}" in done.stdout, done.stdout + done.stderr
    done = cockpit("audit", "purge", "--before", "2019-03-06", "--reason", "old", "--db", db)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "retention.keep is not configured" in done.stdout and "must be signed" in done.stdout


def test_a_purge_carries_the_earlier_purge_records_it_deletes(audit: Audit, tmp_path: Path) -> None:
    """Purging the segment that holds an earlier purge record keeps that purge accounted for."""
    key, allowed = keygen(tmp_path)
    retention(audit)
    assert audit("seal", "--before", "2019-03-06")[0] == 0
    audit.clock.set(datetime(2026, 12, 5, tzinfo=UTC))
    sign = ("--sign-key", str(key), "--yes")
    assert audit("purge", "--before", "2019-03-06", "--reason", "first", *sign)[0] == 0
    first_purge = audit.records()[-1].seq
    assert audit("seal", "--before", "2026-12-06")[0] == 0  # seals that purge record too
    later = sorted(p.name for p in audit.archive.glob("*.jsonl"))
    assert len(later) == 1 and later[0].startswith("audit-000000000006-")
    audit.clock.set(datetime(2034, 1, 1, tzinfo=UTC))
    code, out = audit("purge", "--before", "2026-12-06", "--reason", "second", *sign)
    assert code == 0, out
    second = audit.records()[-1]
    assert second.extra["carried_purges"] == [first_purge]
    assert not list(audit.archive.glob("*.jsonl"))
    code, out = audit("verify", "--allowed-signers", str(allowed), "--principal", "alice@corp")
    assert code == 0, out
    assert (
        f"records 1-5 purged by #{first_purge} at 2026-12-05T00:00:00.000Z (signed by alice" in out
    )
    assert f"purged by #{second.seq} at 2034-01-01" in out


def test_seal_every_as_an_age_seals_what_is_older(audit: Audit) -> None:
    audit.configure("retention:\n  seal_every: 5d\n")
    audit.clock.set(datetime(2019, 3, 9, 12, tzinfo=UTC))  # 5 days back: 4 March, 12:00
    code, out = audit("seal")
    assert code == 0, out
    assert "sealed records 1-4" in out


def test_a_checkpoint_whose_record_was_purged_cannot_anchor_verify(
    audit: Audit, tmp_path: Path
) -> None:
    key, _ = keygen(tmp_path)
    retention(audit)
    anchor = tmp_path / "cp.txt"
    assert audit("seal", "--before", "2019-03-06")[0] == 0
    audit.clock.set(datetime(2019, 3, 6, 12, tzinfo=UTC))
    assert audit("checkpoint", "-o", str(anchor))[0] == 0
    lines = anchor.read_text().splitlines()
    segment = (audit.archive / SEG).read_bytes().splitlines()
    lines[1:3] = ["5", base64.b64encode(bytes.fromhex(json.loads(segment[-1])["hash"])).decode()]
    anchor.write_text("\n".join(lines) + "\n")
    assert audit("verify", "--checkpoint", str(anchor))[0] == 0
    audit.clock.set(datetime(2027, 1, 1, tzinfo=UTC))
    argv = ("purge", "--before", "2019-03-06", "--reason", "old", "--sign-key", str(key), "--yes")
    assert audit(*argv)[0] == 0
    code, out = audit("verify", "--checkpoint", str(anchor))
    assert code == 1 and "the checkpoint's record 5 was purged" in out


def test_a_report_over_a_sealed_period_reads_the_segments(audit: Audit, tmp_path: Path) -> None:
    assert audit("seal", "--before", "2019-03-06")[0] == 0
    out_file = tmp_path / "report.json"
    code, out = audit(
        "report", "--since", "2019-03-01", "--until", "2019-03-20", "-o", str(out_file)
    )
    assert code == 0, out
    changes = json.loads(out_file.read_text())["changes"]
    assert sorted(c["request_id"] for c in changes) == [f"req-{n}" for n in range(9)]


def test_a_live_record_edited_after_a_seal_is_named(audit: Audit) -> None:
    assert audit("seal", "--before", "2019-03-06")[0] == 0
    with sqlite3.connect(audit.db) as conn:
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute(
            "UPDATE audit_log SET body = replace(body, 'train 5', 'train 0') WHERE seq = 7"
        )
    code, out = audit("verify")
    assert code == 1 and "NOT intact: live log: record 7: content does not match" in out


def test_a_signed_purge_record_that_purged_within_retention_fails_verify(
    audit: Audit, tmp_path: Path
) -> None:
    """Written around the command (by hand, with a good key): verify still holds it to keep."""
    from cockpit.audit import AuditEvent, EventType, purges, sshsig

    key, _ = keygen(tmp_path)
    assert audit("seal", "--before", "2019-03-06")[0] == 0
    segment = audit.archive / SEG
    last = json.loads(segment.read_bytes().splitlines()[-1])
    named = {
        "segment": SEG, "first_seq": 1, "last_seq": 5, "head_hash": last["hash"],
        "file_digest": "sha256:" + hashlib.sha256(segment.read_bytes()).hexdigest(),
        "checkpoint": segment.with_suffix(".checkpoint").read_text(), "last_ts": "2019-03-05T00:00:00.000Z",
    }  # fmt: skip
    with SqliteStore(str(audit.db), clock=audit.clock, create=False) as s:
        origin = s.origin
        payload = purges.payload(
            origin=origin, time=audit.clock.now(), before=datetime(2019, 3, 6, tzinfo=UTC),
            keep="7y", reason="tidy", segments=[named],
        )  # fmt: skip
        signature = sshsig.sign(payload, key=str(key), namespace=purges.PURGE_NAMESPACE)
        extra = {"payload": payload.decode(), "signature": signature, "segments": [named]}
        s.append(AuditEvent(EventType.AUDIT_PURGED, ACTOR, None, "audit.purge", "success",
                            reason="tidy", extra=extra))  # fmt: skip
    segment.unlink()
    code, out = audit("verify")
    assert code == 1 and f"purged {SEG} within retention (keep 7y)" in out


def test_a_key_that_cannot_sign_changes_nothing(audit: Audit, tmp_path: Path) -> None:
    need("ssh-keygen")
    missing = str(tmp_path / "no-such-key")
    code, out = audit("seal", "--before", "2019-03-06", "--sign-key", missing)
    assert code == 2 and "nothing sealed: signing failed" in out
    assert not audit.archive.exists() and audit.records()[0].seq == 1
    retention(audit)
    assert audit("seal", "--before", "2019-03-06")[0] == 0
    audit.clock.set(datetime(2027, 1, 1, tzinfo=UTC))
    before = len(audit.records())
    argv = ("purge", "--before", "2019-03-06", "--reason", "old", "--sign-key", missing, "--yes")
    code, out = audit(*argv)
    assert code == 2 and "nothing purged or recorded" in out
    assert (audit.archive / SEG).exists() and len(audit.records()) == before
