"""SVG snapshots of the Incident view: fixed size, fixed clock, seed 7 demo, a fresh audit log.

Regenerate with `--snapshot-update -k incident` and look at the pictures before committing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.app.helpers import app_with


async def _open(pilot: Any) -> None:
    await pilot.press("8")
    await pilot.app.workers.wait_for_complete()  # the audit log read
    await pilot.pause()


def test_incident_view(snap_compare: Any, tmp_path: Path) -> None:
    """The critical HighErrorRate on search/prod (12m) above the ledger warning (47m); below,
    what changed in the 2 h before it: the prod deploy 8m before marked ▶ suspect and
    selected, then the pipeline runs; the detail line says why; no incident open."""
    assert snap_compare(app_with(tmp_path), terminal_size=(120, 36), run_before=_open)


def test_incident_view_small_terminal(snap_compare: Any, tmp_path: Path) -> None:
    """At 80x24 both alerts, the marked suspect and a few more changes still fit, with the
    footer's keys."""
    assert snap_compare(app_with(tmp_path), terminal_size=(80, 24), run_before=_open)
