"""Few bytes per refresh: a one-cell change repaints one table line, not the table."""

from __future__ import annotations

from typing import Any

from rich.text import Text

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
