"""The pods view (service screen, key d) against the fake Kubernetes API server: revisions,
pods, events, and `l` following the selected pod's log, sanitised, until the view closes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
from textual.pilot import Pilot
from textual.widgets import Log

from cockpit import config
from cockpit.app import CockpitApp
from cockpit.clock import FixedClock
from screens.pods import PodsScreen
from screens.service import ServiceScreen
from screens.table import LiveTable
from tests.connectors.test_kubernetes_e2e import write_config
from tests.fixtures.kubernetes.kit import NOW, cluster

POD = "web-7d9c6b5f4-c8w2n"  # the crash-looping one: revision 9, sorted first


async def until(pilot: Pilot[int], check: Callable[[], bool], turns: int = 200) -> None:
    """Let the app's workers run until `check()` holds (a bounded number of turns, no sleep)."""
    for _ in range(turns):
        if check():
            return
        await pilot.pause()
    raise AssertionError("condition not reached")


async def test_d_opens_pods_and_events_and_l_follows_the_selected_pods_log(tmp_path: Path) -> None:
    fake = cluster()
    for n in range(3):
        fake.write_log("shop", POD, f"starting {n}")
    settings = config.load(str(write_config(tmp_path, "https://kube.invalid")), env={})
    app = CockpitApp(
        settings,
        clock=FixedClock(NOW),
        poll=False,
        client_factory=lambda spec: httpx.AsyncClient(transport=fake.transport()),
    )
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_cell("web", "prod", prefer_canary=False)
        await until(pilot, lambda: isinstance(app.screen, ServiceScreen))
        await pilot.press("d")
        await until(
            pilot, lambda: isinstance(app.screen, PodsScreen) and app.screen.detail is not None
        )
        screen = app.screen
        pods = screen.query_one("#pods", LiveTable)
        assert pods.keys[0] == POD and len(pods.keys) == 4
        assert pods.cell_texts(POD)[1:4] == ["1/2", "CrashLoopBackOff", "7"]
        assert screen.query_one("#revisions", LiveTable).cell_texts("web-7d9c6b5f4")[:3] == [
            "9",
            "2.4.7",
            "4/4",
        ]
        events = screen.query_one("#events", LiveTable)
        assert len(events.keys) == 20
        assert events.cell_texts(events.keys[-1])[2] == "BackOff"
        assert "^[[2J" in events.cell_texts(events.keys[-1])[4]  # the ESC made visible

        await pilot.press("l")
        log = screen.query_one("#log", Log)
        await until(pilot, lambda: log.line_count >= 3)
        fake.write_log("shop", POD, "panic: \x1b]0;owned\x07 nil pointer")
        await until(pilot, lambda: log.line_count >= 4)
        assert list(log.lines) == [
            "starting 0",
            "starting 1",
            "starting 2",
            "panic: ^[]0;owned^G nil pointer",
        ]
        assert fake.followers("shop", POD) == 1
        tail = [s for s in fake.seen if s.path.endswith("/log")][-1]
        assert tail.query == {"follow": "true", "tailLines": "200"}

        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ServiceScreen))
        await until(pilot, lambda: fake.followers("shop", POD) == 0)  # the follow ended with it
