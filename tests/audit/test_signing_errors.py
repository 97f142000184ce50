"""A signing key that cannot sign (missing, not a key, a directory, no ssh-agent) stops every
signing command (checkpoint, seal, purge, the pack) with one line on stderr and exit 2 before
it writes a file or a record. Keys are made by the real ssh-keygen."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cockpit.audit import cli
from cockpit.audit.sqlite import SqliteStore
from cockpit.cli.root import parse
from cockpit.clock import FixedClock
from tests.cli import cockpit

from .conftest import event, need

START = datetime(2019, 3, 1, tzinfo=UTC)


class Run:
    """`cockpit audit ...` in-process on one log at a fixed clock: exit, stdout, stderr."""

    def __init__(self, db: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]) -> None:
        self.db, self.clock, self.capsys = db, clock, capsys

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = cli.run(parse(["audit", *argv, "--db", str(self.db)]), self.clock)
        out = self.capsys.readouterr()
        return code, out.out, out.err

    def seqs(self) -> list[int]:
        with SqliteStore(str(self.db), clock=self.clock, create=False) as s:
            return [r.seq for r in s.records()]


@pytest.fixture
def run(db: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """A log of 10 records, one a day from 1 March 2019."""
    clock = FixedClock(START)
    with SqliteStore(str(db), clock=clock) as s:
        for n in range(9):
            clock.advance(86400)
            s.append(event(n))
    return Run(db, clock, capsys)


def bad_keys(tmp_path: Path) -> dict[str, Path]:
    """Keys that cannot sign, by what is wrong with them."""
    need("ssh-keygen")
    garbage = tmp_path / "garbage"
    garbage.write_text("not a key\n")
    garbage.chmod(0o600)
    folder = tmp_path / "a-directory"
    folder.mkdir()
    return {"missing": tmp_path / "no-such-key", "not a key": garbage, "a directory": folder}


def one_line(code: int, out: str, err: str, says: str) -> None:
    assert code == 2, out + err
    assert out == "", out
    assert len(err.splitlines()) == 1 and err.startswith("cockpit audit: "), err
    assert says in err and "Traceback" not in err, err


def test_checkpoint_with_a_key_that_cannot_sign_says_so_and_writes_nothing(
    run: Run, tmp_path: Path
) -> None:
    before = run.seqs()
    for name, key in bad_keys(tmp_path).items():
        target = tmp_path / f"cp-{name}.txt"
        code, out, err = run("checkpoint", "--sign-key", str(key), "-o", str(target))
        one_line(code, out, err, "signing failed")
        assert not target.exists(), name
        code, out, err = run("checkpoint", "--sign-key", str(key))  # to stdout: nothing printed
        one_line(code, out, err, "signing failed")
    assert run.seqs() == before  # no audit.checkpoint record


def test_checkpoint_with_no_agent_says_so_and_writes_nothing(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need("ssh-add")
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    before = run.seqs()
    target = tmp_path / "cp.txt"
    code, out, err = run("checkpoint", "--sign-agent", "-o", str(target))
    one_line(code, out, err, "ssh-agent has no keys")
    assert "no checkpoint written" in err
    assert not target.exists() and run.seqs() == before


def test_the_command_line_prints_one_line_and_exits_2(run: Run, tmp_path: Path) -> None:
    """The reported symptom, as an operator meets it: a real process, no traceback."""
    for key in (tmp_path / "missing", Path(__file__)):  # absent; present but not a key
        done = cockpit("audit", "checkpoint", "--db", str(run.db), "--sign-key", str(key))
        one_line(done.returncode, done.stdout, done.stderr, str(key))


def test_seal_and_purge_with_a_key_that_cannot_sign_change_nothing(
    run: Run, tmp_path: Path
) -> None:
    archive = run.db.with_name("audit-archive")
    for name, key in bad_keys(tmp_path).items():
        code, out, err = run("seal", "--before", "2019-03-06", "--sign-key", str(key))
        one_line(code, out, err, "signing failed")
        assert not archive.exists() and run.seqs()[0] == 1, name
    code, out, err = run("seal", "--before", "2019-03-06")
    assert code == 0, out + err
    run.db.with_name("cockpit.yaml").write_text("retention:\n  keep: 1y\n")
    run.clock.set(datetime(2027, 1, 1, tzinfo=UTC))
    before = run.seqs()
    config = ("-c", str(run.db.with_name("cockpit.yaml")))
    (tmp_path / "again").mkdir()
    for name, key in bad_keys(tmp_path / "again").items():
        argv = ("purge", "--before", "2019-03-06", "--reason", "old", "--sign-key", str(key))
        code, out, err = run(*argv, "--yes", *config)
        assert code == 2 and "signing failed" in err and "Traceback" not in err, (name, out, err)
        assert len(err.splitlines()) == 1 and err.startswith("cockpit audit: "), err
        assert run.seqs() == before and len(list(archive.glob("*.jsonl"))) == 1, name


def test_a_pack_with_a_key_that_cannot_sign_writes_no_pack_and_records_no_export(
    run: Run, tmp_path: Path
) -> None:
    for name, key in bad_keys(tmp_path).items():
        before = run.seqs()
        pack = tmp_path / f"{name}.zip"
        argv = ("report", "--since", "2019-03-01", "--pack", str(pack), "--sign-key", str(key))
        code, out, err = run(*argv)
        one_line(code, out, err, "no pack written")
        assert not pack.exists() and not list(tmp_path.glob(f".{name}.zip.*")), name
        if name != "not a key":  # caught before anything ran
            assert "cannot read the signing key" in err, err
            assert run.seqs() == before, name
        else:  # ssh-keygen refused it after the pack's verify ran (and was recorded as one)
            with SqliteStore(str(run.db), clock=run.clock, create=False) as s:
                added = [str(r.event_type) for r in s.records(after_seq=before[-1])]
            assert added == ["audit.verified"], name


def test_a_good_key_still_signs(run: Run, tmp_path: Path) -> None:
    key = tmp_path / "alice"
    keygen = need("ssh-keygen")
    subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    target = tmp_path / "cp.txt"
    code, _, err = run("checkpoint", "--sign-key", str(key), "-o", str(target))
    assert code == 0 and err == "", err
    assert "-----BEGIN SSH SIGNATURE-----" in target.read_text()
