"""The top bar and the footer at 80 columns: READ-ONLY, the production window, a failing
source with its reason where room allows, and `?` for help are never cut off."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from cockpit import config
from cockpit.app import CockpitApp
from cockpit.clock import FixedClock
from cockpit.config import ConnectorSpec, PolicyConfig
from cockpit.connect import options
from cockpit.connector import Capability, Connector
from cockpit.errors import RateLimited, Unauthorized
from cockpit.model import Observation
from screens.widgets import CLOCK_WIDTH, KeyBar, TopBar
from tests.app.helpers import T0  # Thursday 03:00 UTC

BUSINESS_HOURS: dict[str, Any] = {
    "windows": [
        {
            "name": "business-hours",
            "schedule": "0 9 * * 1-5",
            "duration": "8h",
            "environments": ["prod"],
        }
    ],
    "environments": {"prod": {}},
}


@dataclass
class NoOptions:
    pass


class Refused(Connector):
    """Its token is refused: the hub words it 'Unauthorized: ...: credentials refused'."""

    CAPABILITIES = frozenset({Capability.ENVIRONMENTS})
    Options = NoOptions
    USES_HTTP = False

    async def poll(self) -> Observation:
        raise Unauthorized("GET /api/v1/applications: credentials refused")


class Limited(Connector):
    """Rate-limited for five minutes."""

    CAPABILITIES = frozenset({Capability.PIPELINES})
    Options = NoOptions
    USES_HTTP = False

    async def poll(self) -> Observation:
        raise RateLimited("GET /repos/acme/shop/actions/runs: rate limited", retry_after=300)


def app_in(tmp_path: Path, *, failing: bool = True, windows: bool = True) -> CockpitApp:
    settings = config.load(None, seed=7, scale=12, env={})
    specs = (
        ConnectorSpec("argocd", "refused", Refused, NoOptions(), 10, 5, 30),
        ConnectorSpec("github", "limited", Limited, NoOptions(), 10, 5, 30),
    )
    settings = replace(
        settings,
        connectors=(*settings.connectors, *(specs if failing else ())),
        policy=options.parse(PolicyConfig, BUSINESS_HOURS if windows else {}),
        audit=config.AuditConfig(str(tmp_path / "audit.sqlite3")),
    )
    app = CockpitApp(settings, clock=FixedClock(T0), poll=False, read_only=True)
    app.animation_level = "none"
    return app


def top_line(app: CockpitApp) -> tuple[str, int]:
    """The bar's text and the room it has beside the clock."""
    bar = app.screen.query_one(TopBar)
    return bar.content.plain, bar.size.width - CLOCK_WIDTH  # type: ignore[union-attr]


async def test_top_bar_at_80_columns_keeps_read_only_the_window_and_the_failing_sources(
    tmp_path: Path,
) -> None:
    app = app_in(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text, room = top_line(app)
        assert len(text) <= room, f"cut off: {text!r}"
        assert "READ-ONLY" in text
        assert "prod closed" in text, "the production change window"
        assert ("✗ argocd" in text and "✗ github" in text) or "✗2" in text
        assert "Release Cockpit" not in text, "the title goes before anything that matters"


async def test_top_bar_with_room_says_why_each_source_fails(tmp_path: Path) -> None:
    app = app_in(tmp_path)
    async with app.run_test(size=(160, 36)) as pilot:
        await pilot.pause()
        text, room = top_line(app)
        assert len(text) <= room
        assert "✗ argocd: 401" in text
        assert "✗ github: rate-limited until 03:05" in text
        assert "✓2" in text, "healthy sources collapse to a count before a reason goes"


async def test_top_bar_collapses_to_counts_when_even_names_do_not_fit(tmp_path: Path) -> None:
    app = app_in(tmp_path)
    async with app.run_test(size=(60, 24)) as pilot:
        await pilot.pause()
        text, room = top_line(app)
        assert len(text) <= room, f"cut off: {text!r}"
        assert "✓2 ✗2" in text and "READ-ONLY" in text and "prod closed" in text


async def test_top_bar_redraws_only_when_its_text_changes(tmp_path: Path) -> None:
    """The clock is its own widget: a tick with nothing else changed leaves the bar alone."""
    app = app_in(tmp_path, failing=False, windows=False)  # a window counts down its minutes
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(TopBar)
        before = bar.content
        app.clock.advance(1)  # type: ignore[attr-defined]
        app.screen.refresh_header(app.snapshot)  # type: ignore[attr-defined]
        assert bar.content is before
        clock = app.screen.query_one("#clock")
        assert "03:00:01" in clock.content.plain  # type: ignore[attr-defined]


@pytest.mark.parametrize("view", list("1234567"))
async def test_footer_keeps_help_at_80_columns(tmp_path: Path, view: str) -> None:
    app = app_in(tmp_path, failing=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(view)
        await pilot.pause()
        await pilot.pause()  # the key bar is drawn after the bindings refresh
        bar = app.screen.query_one(KeyBar)
        text = bar.content.plain  # type: ignore[union-attr]
        assert " ?  Help" in text and len(text) <= bar.size.width, text
