"""`cockpit audit verify --checkpoints DIR`: the log against every checkpoint anchored outside
it, each failing one named by its file and why (real ssh-keygen signatures, real processes)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from cockpit.audit.anchorer import Anchorer
from cockpit.audit.anchors import DirectorySink, GitSink, file_name
from cockpit.audit.anchors_verify import check_all
from cockpit.audit.checkpoint import Checkpoint
from cockpit.audit.sqlite import SqliteStore
from cockpit.clock import FixedClock
from tests.audit.anchor_kit import (
    PRINCIPAL,
    allowed_signers,
    keygen,
    rewrite_sqlite,
    truncate_sqlite,
)
from tests.audit.conftest import ACTOR, event, need
from tests.cli import cockpit


@dataclass
class Anchored:
    db: Path
    sink: Path
    signers: Path
    key: Path

    def verify(self, *more: str) -> subprocess.CompletedProcess[str]:
        return cockpit(
            "audit", "verify", "--db", str(self.db), "--checkpoints", str(self.sink),
            "--allowed-signers", str(self.signers), *more,
        )  # fmt: skip


def anchor_a_history(store: SqliteStore, sink: DirectorySink | GitSink, key: Path,
                     clock: FixedClock) -> None:  # fmt: skip
    """Checkpoints at records 3, 7 and 11; records 12 to 14 come after the last one."""
    a = Anchorer(store, sink, every_records=4, every_minutes=60, key=str(key), clock=clock,
                 actor=ACTOR)  # fmt: skip
    n = 0
    for batch in (2, 3, 3, 2):
        for _ in range(batch):
            n += 1
            clock.advance(1)
            store.append(event(n))
        a.tick()
    assert [cp.size for cp in [a.last] if cp] == [11]


@pytest.fixture
def anchored(tmp_path: Path, db: Path, clock: FixedClock) -> Anchored:
    key = keygen(tmp_path / "keys" / "controller")
    signers = allowed_signers(tmp_path / "allowed_signers", (PRINCIPAL, key))
    sink = tmp_path / "worm"
    sink.mkdir()
    with SqliteStore(str(db), clock=clock) as store:
        anchor_a_history(store, DirectorySink(sink), key, clock)
    assert sorted(p.name for p in sink.iterdir()) == [file_name(n) for n in (3, 7, 11)]
    return Anchored(db, sink, signers, key)


def test_a_log_consistent_with_every_checkpoint_passes_and_says_what_is_not_anchored(
    anchored: Anchored,
) -> None:
    done = anchored.verify()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "audit log intact: 14 records" in done.stdout
    assert f"all 3 in {anchored.sink} consistent, signed by {PRINCIPAL}" in done.stdout
    assert "newest at record 11" in done.stdout and "3 record(s) after it" in done.stdout
    assert anchored.verify("--principal", PRINCIPAL).returncode == 0
    assert anchored.verify("--principal", "someone@else").returncode == 1


def test_a_record_edited_after_it_was_anchored_fails_naming_each_checkpoint_covering_it(
    anchored: Anchored,
) -> None:
    rewrite_sqlite(anchored.db, 5, "release train 3", "release train X", rechain=False)
    done = anchored.verify()
    assert done.returncode == 1
    failed = [line for line in done.stdout.splitlines() if "FAILED:" in line]
    assert [line.split(":")[0] for line in failed] == [file_name(7), file_name(11)]
    assert "record 5, which it covers, fails the chain" in failed[0]
    assert "edited" in failed[0]
    assert "checkpoints: 2 of 3" in done.stdout


def test_a_rewrite_that_rechains_the_log_is_caught_by_the_checkpoints_after_it(
    anchored: Anchored,
) -> None:
    rewrite_sqlite(anchored.db, 5, "release train 3", "release train X", rechain=True)
    done = anchored.verify()
    assert done.returncode == 1
    assert "audit log intact: 14 records" in done.stdout  # the chain alone cannot tell
    failed = [line for line in done.stdout.splitlines() if "FAILED:" in line]
    assert [line.split(":")[0] for line in failed] == [file_name(7), file_name(11)]
    assert all("the log was rewritten up to there" in line for line in failed)


def test_truncation_below_a_checkpoint_fails_it(anchored: Anchored) -> None:
    truncate_sqlite(anchored.db, 9)
    done = anchored.verify()
    assert done.returncode == 1
    assert f"{file_name(11)}: FAILED: it covers 11 records but the log ends at 9" in done.stdout
    assert "truncated" in done.stdout
    assert file_name(7) not in done.stdout


def test_a_forged_checkpoint_fails_on_its_signature(
    anchored: Anchored, tmp_path: Path, clock: FixedClock
) -> None:
    """A rewritten log with a checkpoint made for it by a key not in allowed_signers, and
    a real checkpoint whose size was edited: both fail on the signature."""
    rewrite_sqlite(anchored.db, 13, "release train 9", "release train X", rechain=True)
    with SqliteStore(str(anchored.db), clock=clock, create=False) as store:
        forged = store.checkpoint().sign(str(keygen(tmp_path / "keys" / "mallory")))
    (anchored.sink / file_name(forged.size)).write_text(forged.serialize())
    edited = anchored.sink / file_name(7)
    lines = edited.read_text().split("\n")
    edited.write_text("\n".join([lines[0], "6", *lines[2:]]))
    done = anchored.verify()
    assert done.returncode == 1
    assert f"{file_name(forged.size)}: FAILED: signature: " in done.stdout
    assert f"{file_name(7)}: FAILED: signature: signature rejected" in done.stdout
    assert file_name(11) not in done.stdout.replace("checkpoints:", "")


def test_an_unsigned_checkpoint_is_a_failure_not_a_pass(
    anchored: Anchored, clock: FixedClock
) -> None:
    with SqliteStore(str(anchored.db), clock=clock, create=False) as store:
        bare = store.checkpoint()
    (anchored.sink / file_name(bare.size)).write_text(bare.serialize())
    done = anchored.verify()
    assert done.returncode == 1
    assert f"{file_name(bare.size)}: FAILED: signature: not signed" in done.stdout


def test_an_empty_sink_fails_and_says_so(anchored: Anchored, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    anchored.sink = empty
    done = anchored.verify()
    assert done.returncode == 1
    assert f"no checkpoints found in {empty}" in done.stdout


def test_checkpoints_without_allowed_signers_is_a_usage_error(anchored: Anchored) -> None:
    done = cockpit("audit", "verify", "--db", str(anchored.db), "--checkpoints", str(anchored.sink))
    assert done.returncode == 2
    assert "--allowed-signers" in done.stderr


def test_a_git_work_tree_of_checkpoints_is_checked_the_same_way(
    tmp_path: Path, db: Path, clock: FixedClock
) -> None:
    need("git")
    key = keygen(tmp_path / "keys" / "controller")
    repo = tmp_path / "anchors"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    with SqliteStore(str(db), clock=clock) as store:
        anchor_a_history(store, GitSink(repo), key, clock)
        report = check_all(
            store, repo,
            allowed_signers=str(allowed_signers(tmp_path / "signers", (PRINCIPAL, key))),
        )  # fmt: skip
    assert report.ok and report.checked == 3 and report.signers == {PRINCIPAL}


def test_a_checkpoint_of_another_log_fails(anchored: Anchored, clock: FixedClock) -> None:
    other = Checkpoint("elsewhere/cockpit-audit/0", 2, "ab" * 32, clock.now())
    (anchored.sink / file_name(2)).write_text(other.sign(str(anchored.key)).serialize())
    done = anchored.verify()
    assert done.returncode == 1
    assert f"{file_name(2)}: FAILED: it is for log elsewhere/cockpit-audit/0" in done.stdout


def test_checkpoints_of_records_sealed_into_the_archive_still_check_out(
    anchored: Anchored, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """Retention moved records 1 to 12 into an archive segment: every checkpoint is looked
    up there, and the anchorer goes on past the seal (the records after its newest
    checkpoint are no longer all in the live log)."""
    from cockpit.audit import cli
    from cockpit.cli.root import parse

    with SqliteStore(str(anchored.db), clock=clock, create=False) as store:
        cutoff = next(store.records(after_seq=12, limit=1)).ts
    sealed = cli.run(parse(["audit", "seal", "--db", str(anchored.db), "--before",
                            cutoff.strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"]), clock)  # fmt: skip
    assert sealed == 0, capsys.readouterr()
    with SqliteStore(str(anchored.db), clock=clock, create=False) as store:
        assert next(store.records(limit=1)).seq == 13  # 1 to 12 left the live log
        a = Anchorer(store, DirectorySink(anchored.sink), every_records=1, every_minutes=60,
                     key=str(anchored.key), clock=clock, actor=ACTOR)  # fmt: skip
        made = a.tick()
        assert made is not None and made.size == store.checkpoint().size - 1
    done = anchored.verify()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all 4 in" in done.stdout
