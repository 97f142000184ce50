"""A real `cockpit controller` leading a team store anchors signed checkpoints to the sink
its config names: one at once, one after every_records more, all of them verifiable."""

from __future__ import annotations

from pathlib import Path

from cockpit.audit.anchorer import ACTION
from cockpit.audit.anchors import listed
from cockpit.audit.anchors_verify import check_all
from cockpit.audit.postgres import PostgresStore
from cockpit.clock import SystemClock
from tests.audit.anchor_kit import PRINCIPAL, allowed_signers, keygen
from tests.audit.conftest import event
from tests.controller.controller_kit import make_team, wait_for
from tests.pgserver import PostgresServer
from tests.team.kit import store_for


def test_the_leader_anchors_checkpoints_to_the_configured_sink(
    pg_server: PostgresServer, pg_url: str, tmp_path: Path
) -> None:
    team = make_team(pg_server, pg_url, tmp_path)
    key = keygen(tmp_path / "keys" / "controller")
    signers = allowed_signers(tmp_path / "allowed_signers", (PRINCIPAL, key))
    sink = tmp_path / "worm"
    sink.mkdir()
    with team.config.open("a") as f:
        f.write(f"checkpoints:\n  dir: {sink}\n  every_records: 3\n  key: {key}\n")
    running = team.start()
    try:
        wait_for(lambda: len(listed(sink)) >= 1, 60, f"the first checkpoint\n{running.tail()}")
        first = listed(sink)[-1].checkpoint
        assert first is not None
        with PostgresStore(store_for(pg_url), clock=SystemClock(), create=False) as store:
            for n in range(3):
                store.append(event(n))
            size = first.size + 3

            def anchored_the_three() -> bool:
                return any(f.checkpoint and f.checkpoint.size >= size for f in listed(sink))

            wait_for(anchored_the_three, 30, f"a checkpoint after 3 more\n{running.tail()}")
            report = check_all(store, sink, allowed_signers=str(signers))
        assert report.ok, report.lines()
        anchors = [r for r in team.records() if r["action"] == ACTION]
        assert anchors and all(r["outcome"] == "success" for r in anchors)
        assert anchors[0]["actor"]["user"] == "cockpit:controller"
        assert running.stop() == 0
    finally:
        running.stop()
