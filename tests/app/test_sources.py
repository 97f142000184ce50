"""The sources panel (ctrl+s): each source's state, last success and last error, literally."""

from __future__ import annotations

from dataclasses import dataclass, replace

from textual.geometry import Region
from textual.widgets import Static

from cockpit import config
from cockpit.app import CockpitApp
from cockpit.clock import FixedClock
from cockpit.config import ConnectorSpec
from cockpit.connector import Capability, Connector
from cockpit.errors import Rejected, Unreachable
from cockpit.model import Observation
from screens.sources import SourcesScreen
from screens.widgets import TopBar
from tests.app.helpers import T0

HOSTILE = "[/] [@click=app.quit]quit[/] [bold]"


@dataclass
class NoOptions:
    pass


class Refusing(Connector):
    """Answers every poll with an error whose text is itself markup."""

    CAPABILITIES = frozenset({Capability.ENVIRONMENTS})
    Options = NoOptions
    USES_HTTP = False

    async def poll(self) -> Observation:
        raise Rejected(f"422 Unprocessable: {HOSTILE}")


class Gone(Connector):
    """Cannot be reached at all."""

    CAPABILITIES = frozenset({Capability.ENVIRONMENTS})
    Options = NoOptions
    USES_HTTP = False

    async def poll(self) -> Observation:
        raise Unreachable("connection refused by ci.example:443")


def app_with_failing_sources() -> CockpitApp:
    settings = config.load(None, seed=7, scale=12, env={})
    specs = (
        ConnectorSpec("refusing", "refusing", Refusing, NoOptions(), 10, 5, 30),
        ConnectorSpec("gone", "gone", Gone, NoOptions(), 10, 5, 30),
    )
    settings = replace(settings, connectors=(*settings.connectors, *specs))
    app = CockpitApp(settings, clock=FixedClock(T0), poll=False)
    app.animation_level = "none"
    return app


async def test_ctrl_s_shows_each_sources_state_and_its_error_literally() -> None:
    app = app_with_failing_sources()
    async with app.run_test(size=(80, 24)) as pilot:
        top = app.screen.query_one(TopBar).content.plain  # type: ignore[union-attr]
        assert "✗ refusing" in top and "ctrl+s: why" in top, "the top bar says where to look"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SourcesScreen)
        shown = app.screen.query_one("#sources-list", Static).content
        text = shown.plain  # type: ignore[union-attr]
        assert f"last error: Rejected: 422 Unprocessable: {HOSTILE}" in text
        assert "✗ refusing (refusing)  failing" in text
        assert "✗ gone (gone)  unreachable" in text
        assert "Unreachable: connection refused by ci.example:443" in text
        assert "✓ demo (demo)  ok\n    last success 0s ago" in text
        # What the terminal draws: the brackets literally, nothing parsed or made clickable.
        panel = app.screen.query_one("#sources-list", Static)
        area = Region(0, 0, panel.size.width, panel.size.height)
        drawn = "\n".join("".join(seg.text for seg in line) for line in panel.render_lines(area))
        assert "[@click=app.quit]quit[/]" in drawn
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SourcesScreen)
        assert app.is_running and app.return_code is None


class Partial(Connector):
    """Answers, but says each time that part of what it reports is still unread."""

    CAPABILITIES = frozenset({Capability.ENVIRONMENTS})
    Options = NoOptions
    USES_HTTP = False

    async def poll(self) -> Observation:
        return Observation(self.name, self.clock.now(), incomplete="its run history (500 runs)")


async def test_a_source_still_reading_is_not_shown_ok() -> None:
    # The demo at 10,000 services reads its history in chunks: until the last, the top bar
    # said `✓ demo` while the gates resting on those runs were still unknown.
    settings = config.load(None, seed=7, scale=12, env={})
    partial = ConnectorSpec("partial", "partial", Partial, NoOptions(), 10, 5, 30)
    settings = replace(settings, connectors=(*settings.connectors, partial))
    app = CockpitApp(settings, clock=FixedClock(T0), poll=False)
    app.animation_level = "none"
    async with app.run_test(size=(120, 24)) as pilot:
        top = app.screen.query_one(TopBar).content.plain  # type: ignore[union-attr]
        assert "✓ partial" not in top and "✓2" not in top
        assert "…1" in top or "… partial" in top
        await pilot.press("ctrl+s")
        await pilot.pause()
        text = app.screen.query_one("#sources-list", Static).content.plain  # type: ignore[union-attr]
        assert "… partial (partial)  reading" in text
        assert "still reading its run history (500 runs)" in text
        assert "✓ demo (demo)  ok" in text
