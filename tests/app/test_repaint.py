"""Few bytes per refresh: a one-cell change repaints one table line, not the table."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from screens.table import LiveTable
from tests.app.helpers import demo_app


async def test_a_changed_row_repaints_only_its_own_line() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#matrix", LiveTable)
        key = table.keys[2]
        regions: list[tuple[Any, ...]] = []
        repaint = table.refresh

        def spy(*args: Any, **kwargs: Any) -> Any:
            regions.append(args)
            return repaint(*args, **kwargs)

        table.refresh = spy  # type: ignore[method-assign]
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
