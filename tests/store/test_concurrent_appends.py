"""Several processes appending to the team store at once: one gap-free chain that verifies."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

from cockpit.audit.postgres import PostgresStore
from cockpit.clock import FixedClock
from cockpit.wiring import open_journal
from tests.cli import ROOT
from tests.fakes import T0
from tests.store.conftest import Team

WRITER = """
import sys
from pathlib import Path
from cockpit.audit.postgres import PostgresStore
from cockpit.clock import SystemClock
from cockpit.connect.option_values import Secret
from cockpit.team.store_config import StoreConfig
from tests.audit.conftest import event

url, var, who, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
store = PostgresStore(StoreConfig(url=url, password=Secret("env:" + var)), clock=SystemClock(), create=False)
print("ready", flush=True)
sys.stdin.readline()  # every writer starts on the same line from the test
for n in range(count):
    store.append(event(n, request_id=f"{who}-{n}"))
store.close()
print("done", flush=True)
"""


def test_writers_in_separate_processes_make_one_gap_free_chain(team: Team) -> None:
    writers, each = 6, 40
    procs = []
    for w in range(writers):
        operator = team.operator(f"w{w}")
        assert operator.password is not None
        var = operator.password.ref.removeprefix("env:")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", WRITER, operator.url, var, f"w{w}", str(each)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=ROOT,
                env=dict(os.environ),
            )
        )
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    with PostgresStore(team.config(), clock=FixedClock(T0), create=False) as store:
        records = list(store.records())
        result = store.verify(deep=True)
    assert result.ok, result.describe()
    assert [r.seq for r in records] == list(range(1, writers * each + 1))
    by_writer = {f"w{w}": [r.request_id for r in records if r.request_id.startswith(f"w{w}-")]
                 for w in range(writers)}  # fmt: skip
    # Each writer's records are all there, in the order it wrote them.
    assert all(ids == [f"{w}-{n}" for n in range(each)] for w, ids in by_writer.items())
    interleaved = sum(1 for a, b in itertools.pairwise(records)
                      if a.request_id.split("-")[0] != b.request_id.split("-")[0])  # fmt: skip
    assert interleaved > writers  # they really ran at once, not one after another


def test_the_tui_journal_opens_the_team_store_when_configured(team: Team, tmp_path: Path) -> None:
    from cockpit import config

    path = tmp_path / "c.yaml"
    url, ref = team.config().url, team.config().password
    assert ref is not None
    path.write_text(f"environments: [prod]\nstore:\n  url: {url}\n  password: {ref.ref}\n")
    settings = config.load(str(path))
    journal = open_journal(settings, FixedClock(T0))
    try:
        kind = journal.call_sync(lambda store: type(store).__name__)
        head = journal.call_sync(lambda store: json.loads(store.head().body)["event_type"])
    finally:
        journal.close()
    assert kind == "PostgresStore" and head == "audit.initialized"
