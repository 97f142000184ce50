"""`cockpit status` as text: the services table keeps its columns whatever the names."""

from __future__ import annotations

from datetime import UTC, datetime

from cockpit.clock import FixedClock
from cockpit.config import ConnectorSpec
from cockpit.fleet.hub import Hub
from cockpit.model import Environment
from cockpit.status import snapshot_table
from tests.fakes import ScriptedConnector, ScriptOptions

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
LONG_SERVICE = "payments-reconciliation-batch-exporter-for-the-eu-ledger"
SHA = "a91957a858320c0e17f3a0eca7cfacbff50ea29a"


async def test_long_service_names_and_versions_are_cut_so_columns_stay_aligned() -> None:
    options = ScriptOptions(services=[LONG_SERVICE, "web"], version=SHA)
    spec = ConnectorSpec("ci", "scripted", ScriptedConnector, options, 10, 5, 30)
    envs = (Environment("staging", 0), Environment("prod", 1, True))
    hub = Hub([spec], envs, clock=FixedClock(NOW))
    try:
        snap = await hub.refresh()
    finally:
        await hub.stop()
    lines = snapshot_table(snap, NOW).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("SERVICE"))
    header, *rows = lines[start : start + 3]
    prod_at = header.index("PROD")
    assert prod_at == 24 + 2 + 22 + 2  # service column capped at 24, cells at 22
    for row in rows:
        assert len(row.rstrip()) <= prod_at + 22
        assert row[prod_at - 2 : prod_at] == "  "  # the gap before PROD is where it was
    long_row = next(r for r in rows if r.startswith("payments"))
    assert long_row[:24] == LONG_SERVICE[:23] + "…"
    assert long_row[prod_at:].rstrip() == (SHA + " healthy")[:21] + "…"
