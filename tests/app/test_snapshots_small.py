"""SVG snapshots of every view at 80x24: fixed clock, seed 7 demo, no animation, no polling.

The 120x36 pictures and the overview at 80x24 are in test_snapshots.py. Here each view
shows its essential columns without sideways scrolling, the top bar keeps its badges and
the footer keeps `?`. Regenerate with `--snapshot-update -k <name>` and look at them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.app.helpers import demo_app

SMALL = (80, 24)


def test_pipelines_80x24(snap_compare: Any) -> None:
    """Run, status, stage and the start of each commit message; took, author and commit
    dropped; the footer ends with `? Help`."""
    assert snap_compare(demo_app(), terminal_size=SMALL, press=["2"])


def test_environments_80x24(snap_compare: Any) -> None:
    """The dev tab: service, version, health, status and age; digest, deployer and earlier
    versions dropped."""
    assert snap_compare(demo_app(), terminal_size=SMALL, press=["3"])


def test_canary_80x24(snap_compare: Any) -> None:
    """Both canaries with the whole verdict ('pass 100', not 'p'); step and weight are in
    the detail below the table."""
    assert snap_compare(demo_app(), terminal_size=SMALL, press=["4"])


def test_drift_80x24(snap_compare: Any) -> None:
    """The drift items with desired (green) beside live (red), resource and path cut with
    an ellipsis where they must be."""
    assert snap_compare(demo_app(), terminal_size=SMALL, press=["5"])


def test_approvals_80x24(snap_compare: Any) -> None:
    """Pending prod deployments: title, env, waiting and approvals; the requester is in the
    detail below."""
    assert snap_compare(demo_app(), terminal_size=SMALL, press=["6"])


def test_audit_view_80x24(snap_compare: Any, tmp_path: Path, monkeypatch: Any) -> None:
    """The audit view: time, event, outcome and reason; sequence, actor, target and
    versions dropped (Enter shows the whole record)."""
    from tests.app.helpers import actor, app_with

    # The log's first record names the process that created it; pin it so hashes repeat.
    monkeypatch.setattr(
        "cockpit.actions.identity.current_actor", lambda version, env=None: actor("alice")
    )

    async def settle(pilot: Any) -> None:
        await pilot.press("7")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app_with(tmp_path), terminal_size=SMALL, run_before=settle)
