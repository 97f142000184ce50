"""Live updates: the demo moves with the clock, tables update in place, the cursor stays."""

from __future__ import annotations

from cockpit.clock import FixedClock
from screens.widgets import LiveTable
from tests.app.helpers import T0, demo_app


async def test_pipelines_update_in_place_and_the_cursor_stays_on_its_run() -> None:
    clock = FixedClock(T0)
    app = demo_app(clock=clock)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2")
        runs = app.screen.query_one("#runs", LiveTable)
        runs.move_cursor(row=5)
        chosen = runs.current_key()
        before = set(runs.keys)
        for _ in range(30):  # five minutes of fleet life, in 10 s steps
            clock.advance(10)
            await app.hub.refresh()
            await pilot.pause()
        after = set(runs.keys)
        assert after - before, "new runs appeared"
        assert runs.current_key() == chosen
        assert runs.cursor_row == runs.keys.index(chosen)


async def test_overview_changes_without_input_and_keeps_the_cursor() -> None:
    clock = FixedClock(T0)
    app = demo_app(clock=clock)
    async with app.run_test(size=(120, 36)) as pilot:
        matrix = app.screen.query_one("#matrix", LiveTable)
        matrix.move_cursor(row=4, column=1)
        chosen = matrix.current_key()
        first = {k: tuple(matrix.cell_texts(k)) for k in matrix.keys}
        for _ in range(40):
            clock.advance(15)
            await app.hub.refresh()
            await pilot.pause()
        later = {k: tuple(matrix.cell_texts(k)) for k in matrix.keys}
        assert later != first, "ten minutes of demo fleet changed some version"
        assert matrix.current_key() == chosen and matrix.cursor_column == 1
        # The table shows exactly what the snapshot holds.
        snap = app.hub.snapshot
        for service in snap.services:
            dep = snap.cell(service, "dev").deployment
            assert dep is not None and later[service][1].startswith(dep.version)


async def test_a_modal_pauses_updates_and_the_view_catches_up() -> None:
    clock = FixedClock(T0)
    app = demo_app(clock=clock)
    async with app.run_test(size=(120, 36)) as pilot:
        overview = app.screen
        await pilot.press("question_mark")
        generation = overview.generation
        clock.advance(30)
        await app.hub.refresh()
        await pilot.pause()
        assert overview.generation == generation, "no redraw under the help screen"
        await pilot.press("escape")
        await pilot.pause()
        assert overview.generation == app.hub.snapshot.generation


async def test_a_stale_mark_drawn_late_clears_when_the_source_answers_again() -> None:
    """Cells and the view's record of stale sources judge staleness at the same moment, so a
    `?stale` mark drawn after a snapshot aged is cleared by the next fresh poll."""
    clock = FixedClock(T0)
    app = demo_app(clock=clock)
    async with app.run_test(size=(120, 36)) as pilot:
        matrix = app.screen.query_one("#matrix", LiveTable)
        await pilot.press("2")
        await app.hub.refresh()  # a snapshot the hidden overview has not drawn yet
        bound = app.hub.snapshot.sources["demo"].stale_after
        clock.advance(bound + 1)  # the overview comes back on aged facts: marked stale
        await pilot.press("1")
        await pilot.pause()
        matrix = app.screen.query_one("#matrix", LiveTable)
        assert any("?stale" in "".join(matrix.cell_texts(k)) for k in matrix.keys)
        await app.hub.refresh()  # the demo answers again: nothing is stale any more
        await pilot.pause()
        marked = [k for k in matrix.keys if "?stale" in "".join(matrix.cell_texts(k))]
        assert marked == []
