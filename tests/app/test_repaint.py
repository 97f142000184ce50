"""Few bytes per refresh: a one-cell change repaints one table line, not the table."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from screens.table import LiveTable
from tests.app.helpers import demo_app


def _refreshes(table: LiveTable) -> list[tuple[Any, ...]]:
    """The regions each later `table.refresh()` asks for, in order (it still refreshes)."""
    regions: list[tuple[Any, ...]] = []
    repaint = table.refresh

    def spy(*args: Any, **kwargs: Any) -> Any:
        regions.append(args)
        return repaint(*args, **kwargs)

    table.refresh = spy  # type: ignore[method-assign]
    return regions


async def test_a_changed_row_repaints_only_its_own_line() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#matrix", LiveTable)
        key = table.keys[2]
        regions = _refreshes(table)
        row = list(table.row(key))
        row[1] = Text("x" * min(row[1].cell_len, 3))  # narrower: the column keeps its width
        assert table.update_rows([(key, row)])
        assert len(regions) == 1 and len(regions[0]) == 1, "one region, not the whole table"
        (region,) = regions[0]
        assert region.height == 1 and region.y == table.get_row_index(key) + 1


async def test_the_failing_canary_banner_is_not_redrawn_each_second_when_unchanged() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        screen = app.screen
        app.banner = Text(" ⚠ CANARY FAILING  payments 2.7.15 in prod · press B to roll back")
        screen.refresh_header(app.snapshot)  # type: ignore[attr-defined]
        banner = screen.query_one("#banner", Static)
        assert banner.display and banner.content == app.banner
        updates: list[object] = []
        update = banner.update

        def spy(*args: Any, **kwargs: Any) -> None:
            updates.append(args)
            update(*args, **kwargs)

        banner.update = spy  # type: ignore[method-assign]
        screen.refresh_header(app.snapshot)  # type: ignore[attr-defined]  # the clock's tick
        assert updates == [], "the same banner again: nothing to send to the terminal"


async def test_overview_rows_after_many_polls_are_what_drawing_them_afresh_gives() -> None:
    """Cells whose facts did not move keep their drawn text; every row must still read as
    the straightforward drawing of the snapshot's cells, ?stale marks included."""
    from cockpit.clock import FixedClock
    from screens.overview import cell_text
    from tests.app.helpers import T0

    clock = FixedClock(T0)
    app = demo_app(scale=60, clock=clock)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#matrix", LiveTable)
        kept = 0
        for step in (3, 5, 7, 400, 1, 2):  # 400 s: the demo's source turns stale, then not
            before = {k: table.row(k) for k in table.keys}
            clock.advance(step)
            if step != 400:
                await app.hub.refresh(name="demo")
            app.screen.show(app.hub.snapshot, force=step == 400)  # type: ignore[attr-defined]
            await pilot.pause()
            snap, now = app.hub.snapshot, app.now()
            for service in table.keys:
                drawn = table.row(service)
                assert list(drawn[1:]) == [
                    cell_text(snap.cell(service, e.name), snap, now) for e in snap.environments
                ]
                old = before.get(service, ())
                kept += sum(1 for a, b in zip(drawn[1:], old[1:], strict=False) if a is b)
            if step == 400:
                assert any("?stale" in t.plain for k in table.keys for t in table.row(k))
        assert kept, "unchanged cells keep the text drawn before"


async def test_a_changed_row_off_screen_is_drawn_anew_when_scrolled_into_view() -> None:
    """A poll of a large fleet changes hundreds of rows below the fold: those are not sent
    to the terminal then, and read as changed once scrolled to."""
    app = demo_app(scale=60)
    async with app.run_test(size=(120, 20)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#matrix", LiveTable)
        key = table.keys[-1]
        assert table.get_row_index(key) + 1 > table.size.height, "the last row is off screen"
        table.render_line(table.size.height - 1)  # draw what is shown (strips cached)
        regions = _refreshes(table)
        row = list(table.row(key))
        row[1] = Text("zz" * min(row[1].cell_len // 2, 2) or "z")
        assert table.update_rows([(key, row)])
        assert regions == [], "nothing on screen changed"
        del table.refresh  # the spy off: the class's own refresh again
        table.scroll_end(animate=False)
        await pilot.pause()
        y = table.get_row_index(key) + 1 - int(table.scroll_y)
        assert 0 < y < table.size.height
        drawn = "".join(seg.text for seg in table.render_line(y))
        assert drawn.rstrip() == table.row_plain(key).rstrip()
        assert row[1].plain in drawn


async def test_cells_that_look_alike_share_one_drawn_text() -> None:
    from screens.overview import cell_look

    app = demo_app(scale=60)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#matrix", LiveTable)
        snap = app.hub.snapshot
        by_look: dict[tuple[object, ...], set[int]] = {}
        cells = 0
        for service in table.keys:
            for env, text in zip(snap.environments, table.row(service)[1:], strict=True):
                look = cell_look(snap.cell(service, env.name), frozenset())
                by_look.setdefault(look, set()).add(id(text))
                cells += 1
        assert len(by_look) < cells, "some cells look like another"
        assert all(len(ids) == 1 for ids in by_look.values()), "one text per look"


def test_a_cell_looks_stale_only_when_one_of_its_sources_is() -> None:
    """Cells drawn alike share one text (`cell_look`), so the look must tell a cell from a
    stale source from the same facts from a fresh one."""
    from cockpit.fleet.cells import Cell
    from screens.overview import cell_look

    fresh, old = Cell("web", "prod", sources=("argo",)), Cell("web", "prod", sources=("demo",))
    assert cell_look(fresh, frozenset()) == cell_look(old, frozenset())
    assert cell_look(fresh, frozenset({"demo"})) != cell_look(old, frozenset({"demo"}))
    assert cell_look(old, frozenset({"demo"}))[-1] and not cell_look(fresh, frozenset({"demo"}))[-1]
    both = Cell("web", "prod", sources=("argo", "demo"))
    assert cell_look(both, frozenset({"demo"}))[-1]
