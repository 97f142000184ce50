"""Checkpoints outside the team store: what a PostgreSQL superuser's rewrite looks like to
the anchorer and to `verify --checkpoints` (real PostgreSQL, real ssh-keygen)."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from cockpit.audit import canonical as c
from cockpit.audit.anchorer import ACTION, Anchorer
from cockpit.audit.anchors import DirectorySink, file_name
from cockpit.audit.anchors_verify import check_all
from cockpit.audit.events import EventType
from cockpit.audit.postgres import PostgresStore
from cockpit.clock import FixedClock
from tests.audit.anchor_kit import PRINCIPAL, allowed_signers, keygen
from tests.audit.conftest import ACTOR, event
from tests.cli import cockpit
from tests.conftest import T0
from tests.pgserver import PASSWORD
from tests.store.conftest import Team

TRIGGER = "audit_log_no_update_delete"


def as_superuser(team: Team, *statements: tuple[str, tuple[object, ...]]) -> None:
    """Run `statements` with the append-only trigger disabled, then enable it again."""
    with psycopg.connect(team.url(), autocommit=True) as owner:
        owner.execute(f"ALTER TABLE cockpit.audit_log DISABLE TRIGGER {TRIGGER}")
        for sql, args in statements:
            owner.execute(sql, args)
        owner.execute(f"ALTER TABLE cockpit.audit_log ENABLE ALWAYS TRIGGER {TRIGGER}")


def rechain(team: Team, seq: int, old: str, new: str) -> None:
    """Edit record `seq` and recompute every hash after it, as a careful superuser would."""
    with psycopg.connect(team.url(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT seq, prev_hash, body FROM cockpit.audit_log WHERE seq >= %s ORDER BY seq",
            (seq,),
        ).fetchall()
    assert old in rows[0][2], f"record {seq} does not say {old!r}"
    prev = bytes(rows[0][1])
    updates = []
    for at, _, body in rows:
        text = body.replace(old, new) if at == seq else body
        digest = c.chain_hash(prev, text.encode())
        updates.append(
            ("UPDATE cockpit.audit_log SET body = %s, prev_hash = %s, hash = %s WHERE seq = %s",
             (text, prev, digest, at))
        )  # fmt: skip
        prev = digest
    as_superuser(team, *updates)


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    key = keygen(tmp_path / "keys" / "controller")
    return key, allowed_signers(tmp_path / "allowed_signers", (PRINCIPAL, key))


def anchored(team: Team, sink: Path, key: Path, clock: FixedClock) -> Anchorer:
    """An operator's store with checkpoints at records 4 and 9 and two records after."""
    sink.mkdir()
    store = PostgresStore(team.operator(), clock=clock)
    a = Anchorer(store, DirectorySink(sink), every_records=4, every_minutes=60,
                 key=str(key), clock=clock, actor=ACTOR)  # fmt: skip
    for n in range(1, 10):
        clock.advance(1)
        store.append(event(n))
        if n in (3, 7):
            assert a.tick() is not None
    assert sorted(p.name for p in sink.iterdir()) == [file_name(4), file_name(9)]
    return a


def test_the_anchorer_anchors_a_team_store_and_verify_agrees(
    team: Team, tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    clock = FixedClock(T0)
    a = anchored(team, tmp_path / "worm", keys[0], clock)
    with a.store as store:
        report = check_all(store, tmp_path / "worm", allowed_signers=str(keys[1]))
        records = [r.action for r in store.records(event_types=[EventType.AUDIT_CHECKPOINT])]
    assert report.ok, report.lines()
    assert report.checked == 2 and report.newest is not None and report.newest.size == 9
    assert records == [ACTION, ACTION]


def test_a_superusers_rewrite_is_caught_by_the_checkpoints_covering_it(
    team: Team, tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    clock = FixedClock(T0)
    sink = tmp_path / "worm"
    a = anchored(team, sink, keys[0], clock)
    rechain(team, 6, "release train 4", "release train X")
    with PostgresStore(team.config(), clock=clock, read_only=True) as reader:
        assert reader.verify().ok  # the chain alone cannot tell
        report = check_all(reader, sink, allowed_signers=str(keys[1]))
    assert [name for name, _ in report.failing] == [file_name(9)]
    assert "the log was rewritten up to there" in report.failing[0][1]
    # The controller's anchorer refuses to anchor the rewritten log, and says so in it.
    clock.advance(3600)
    assert a.tick() is None
    last = next(a.store.records(newest_first=True, limit=1))
    assert (last.action, last.outcome) == (ACTION, "failed")
    assert f"does not continue from {file_name(9)}" in last.reason
    a.store.close()


def test_an_edited_row_and_a_truncation_fail_the_checkpoints_they_touch(
    team: Team, tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    clock = FixedClock(T0)
    sink = tmp_path / "worm"
    anchored(team, sink, keys[0], clock).store.close()
    edit = "UPDATE cockpit.audit_log SET body = replace(body, 'release train 2', 'TAMPERED-2') WHERE seq = 3"
    as_superuser(team, (edit, ()))
    with PostgresStore(team.config(), clock=clock, read_only=True) as reader:
        report = check_all(reader, sink, allowed_signers=str(keys[1]))
    assert [name for name, _ in report.failing] == [file_name(4), file_name(9)]
    assert all("record 3, which it covers" in why for _, why in report.failing)

    rechain(team, 3, "TAMPERED-2", "release train 2")  # put it back (hashes as they were)
    as_superuser(team, ("DELETE FROM cockpit.audit_log WHERE seq > %s", (6,)))
    with PostgresStore(team.config(), clock=clock, read_only=True) as reader:
        report = check_all(reader, sink, allowed_signers=str(keys[1]))
    assert [name for name, _ in report.failing] == [file_name(9)]
    assert "truncated" in report.failing[0][1]


def test_cockpit_audit_verify_checkpoints_on_the_team_store_takes_signers_from_config(
    team: Team, tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    clock = FixedClock(T0)
    sink = tmp_path / "worm"
    anchored(team, sink, keys[0], clock).store.close()
    config = tmp_path / "team.yaml"
    config.write_text(
        f"environments: [dev, prod]\nstore:\n  url: {team.config().url}\n"
        "  password: env:TEAM_PW\n"
        f"checkpoints:\n  dir: {sink}\n  key: {keys[0]}\n  allowed_signers: {keys[1]}\n"
        f"  principal: {PRINCIPAL}\n"
    )
    env = {**os.environ, "TEAM_PW": PASSWORD}
    done = cockpit("audit", "verify", "-c", str(config), "--checkpoints", str(sink), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"all 2 in {sink} consistent, signed by {PRINCIPAL}" in done.stdout

    rechain(team, 6, "release train 4", "release train X")
    done = cockpit("audit", "verify", "-c", str(config), "--checkpoints", str(sink), env=env)
    assert done.returncode == 1
    assert f"{file_name(9)}: FAILED: record 9 has hash" in done.stdout
    assert file_name(4) + ": FAILED" not in done.stdout
