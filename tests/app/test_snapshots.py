"""SVG snapshots of every view: fixed size, fixed clock, seed 7 demo, no animation, no polling.

Regenerate with `make test PYTEST_ARGS="tests/app/test_snapshots.py --snapshot-update"` and
look at the pictures (snapshot_report.html) before committing them.
"""

from __future__ import annotations

from typing import Any

from tests.app.helpers import demo_app

WIDE = (120, 36)


def test_overview(snap_compare: Any) -> None:
    """You should see 12 services x dev/staging/PROD with versions, ✓ health, the checkout
    canary ⇢25% in prod, drift ≠ in staging for inventory and search, a ‼1 alert on search
    in prod, and the connector ✓ demo in the top bar."""
    assert snap_compare(demo_app(), terminal_size=WIDE)


def test_overview_small_terminal(snap_compare: Any) -> None:
    """At 80x24 the whole matrix and the footer still fit."""
    assert snap_compare(demo_app(), terminal_size=(80, 24))


def test_pipelines(snap_compare: Any) -> None:
    """Runs newest first: two waiting at approve-prod, some running, one failed test."""
    assert snap_compare(demo_app(), terminal_size=WIDE, press=["2"])


def test_run_detail(snap_compare: Any) -> None:
    """The newest run's stages with timings, the test summary and the commit message."""
    assert snap_compare(demo_app(), terminal_size=WIDE, press=["2", "enter"])


def test_environments(snap_compare: Any) -> None:
    """The dev tab: each service's version, health, deployer, digest and earlier versions."""
    assert snap_compare(demo_app(), terminal_size=WIDE, press=["3"])


def test_canary(snap_compare: Any) -> None:
    """checkout in prod at step 3/6, weight 25%, with baseline vs canary sparklines."""
    assert snap_compare(demo_app(), terminal_size=WIDE, press=["4"])


def test_drift(snap_compare: Any) -> None:
    """Two staging drift reports; the first one's items with desired beside live."""
    assert snap_compare(demo_app(), terminal_size=WIDE, press=["5"])


def test_approvals(snap_compare: Any) -> None:
    """Pending prod deployments with the selected one's version and digest (the demo reports
    no named gates: its scans and licences are documents, judged in the approve dialog)."""
    assert snap_compare(demo_app(), terminal_size=WIDE, press=["6"])


def test_help(snap_compare: Any) -> None:
    """Every key with its id for remapping."""
    assert snap_compare(demo_app(), terminal_size=WIDE, press=["question_mark"])


def test_promote_dialog_in_production(snap_compare: Any, tmp_path: Any) -> None:
    """The confirmation dialog for promoting checkout's canary in PROD: red border and
    PRODUCTION banner, versions and digest, the go/no-go checklist with evidence, the
    policy decision, reason/ticket/typed-confirmation inputs, focus on Cancel."""
    from tests.app.helpers import app_with

    assert snap_compare(app_with(tmp_path), terminal_size=WIDE, press=["4", "p"])


def test_promote_dialog_small_terminal(snap_compare: Any, tmp_path: Any) -> None:
    """The same dialog at 80x24: the checklist scrolls, inputs and buttons stay visible."""
    from tests.app.helpers import app_with

    assert snap_compare(app_with(tmp_path), terminal_size=(80, 24), press=["4", "p"])


def test_audit_view(snap_compare: Any, tmp_path: Any, monkeypatch: Any) -> None:
    """The Audit view after start-up: the verify status line and the first records."""
    from tests.app.helpers import actor, app_with

    # The log's first record names the process that created it; pin it so hashes repeat.
    monkeypatch.setattr(
        "cockpit.actions.identity.current_actor", lambda version, env=None: actor("alice")
    )

    async def settle(pilot: Any) -> None:
        await pilot.press("7")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app_with(tmp_path), terminal_size=WIDE, run_before=settle)
