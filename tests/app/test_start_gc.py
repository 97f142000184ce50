"""Plain `cockpit` holds the cyclic garbage collector off until its first frame has settled.

Start-up makes tens of thousands of long-lived objects; full collections over them while
they are made delay the first frame (issue 14). After the frame the collector runs once,
freezes start-up's survivors out of later passes, and is on again for the session.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from cockpit import gcpause
from tests.cli import python_in_a_fresh_home

# The console script's path, headless: what the collector is doing at the first painted
# overview, and when the app lets it go again.
PROBE = """
import gc
from textual.app import App
from cockpit import gcpause

terminal_run = App.run
release = gcpause.started

def headless_run(self, **options):
    cls = type(self)
    handler = cls.on_fleet_updated

    def on_fleet_updated(self, message):
        handler(self, message)
        if message.snapshot.services and not getattr(self, "seen", False):
            self.seen = True
            self.call_after_refresh(painted)

    def painted():
        print("AT-FIRST-FRAME enabled", gc.isenabled(), flush=True)

    def started():
        release()
        print("RELEASED enabled", gc.isenabled(), "frozen", gc.get_freeze_count(), flush=True)
        self.exit()

    gcpause.started = started
    cls.on_fleet_updated = on_fleet_updated
    return terminal_run(self, headless=True)

App.run = headless_run
from cockpit.cli import main

raise SystemExit(main([]))
"""


def test_the_collector_is_off_for_the_first_frame_and_on_after_it(tmp_path: Path) -> None:
    out = python_in_a_fresh_home(PROBE, tmp_path)
    lines = [x for x in out.stdout.splitlines() if x.startswith(("AT-FIRST-FRAME", "RELEASED"))]
    assert lines[:1] == ["AT-FIRST-FRAME enabled False"], out.stderr[-2000:]
    released = lines[1].split()
    assert released[:3] == ["RELEASED", "enabled", "True"]
    assert int(released[-1]) > 10_000  # start-up's objects frozen out of later passes


def test_a_collector_someone_else_turned_off_stays_off() -> None:
    gc.disable()
    try:
        gcpause.hold_for_start()
        gcpause.started()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_started_without_a_hold_changes_nothing() -> None:
    frozen = gc.get_freeze_count()
    gcpause.started()
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


async def test_a_session_collects_young_objects_less_often_and_gives_the_setting_back(
    tmp_path: Path,
) -> None:
    """A large fleet's snapshots are big containers made each poll; the session's young
    collections come after 20,000 new containers, and the thresholds are restored on exit."""
    from tests.app.helpers import app_with

    before = gc.get_threshold()
    app = app_with(tmp_path)
    async with app.run_test(size=(120, 36)):
        assert gc.get_threshold() == (gcpause.SESSION_YOUNG, *before[1:])
    assert gc.get_threshold() == before


def test_the_young_threshold_grows_with_the_fleet_up_to_a_bound() -> None:
    assert gcpause.young_for(0) == gcpause.SESSION_YOUNG
    assert gcpause.young_for(19_000) == gcpause.SESSION_YOUNG  # 2,000 services
    assert gcpause.young_for(95_000) == 47_500  # 10,000 services
    assert gcpause.young_for(475_000) == 237_500  # 50,000 services
    assert gcpause.young_for(5_000_000) == gcpause.SESSION_YOUNG_MAX


def test_fitting_the_session_moves_only_the_young_threshold() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(20_000, 7, 9)
        gcpause.fit_session(475_000)
        assert gc.get_threshold() == (237_500, 7, 9)
        gcpause.fit_session(1_000)
        assert gc.get_threshold() == (gcpause.SESSION_YOUNG, 7, 9)
    finally:
        gc.set_threshold(*before)


async def test_a_session_fits_its_young_collections_to_the_fleet_it_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each fleet update sets the threshold for the snapshot's runs (here a small demo,
    with many containers a run, so that it moves), and exit restores the setting."""
    from tests.app.helpers import app_with

    monkeypatch.setattr(gcpause, "YOUNG_PER_RUN", 1_000)
    before = gc.get_threshold()
    app = app_with(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        runs = len(app.hub.snapshot.runs)
        assert runs > gcpause.SESSION_YOUNG // 1_000
        assert gc.get_threshold() == (min(runs * 1_000, gcpause.SESSION_YOUNG_MAX), *before[1:])
    assert gc.get_threshold() == before
