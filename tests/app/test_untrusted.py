"""Hostile text from a connector stays inert on screen: in names, messages and reasons."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.geometry import Region

from cockpit import config
from cockpit.app import CockpitApp
from cockpit.clock import FixedClock
from cockpit.config import ConnectorSpec
from cockpit.connector import Capability, Connector
from cockpit.model import Deployment, Health, Observation, PipelineRun, Stage, Status
from screens.table import LiveTable
from tests.app.helpers import T0

NASTY = [
    "\x1b[2J\x1b[H APPROVED",
    "\x1b]8;;https://evil.example\x1b\\click me\x1b]8;;\x1b\\",
    "\x1b]52;c;ZXZpbA==\x07",
    "\x9b31mred",
    "ok\rAPPROVED",
    "user\u202egnp.exe",
    "[@click=app.quit]see details[/]",
    "[link=https://evil.example]docs[/link]",
    "[bold red]FAKE APPROVED[/]",
    "[/]",
]
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@dataclass
class HostileOptions:
    text: str = "x"


class Hostile(Connector):
    """Reports a service, a deployment and a run whose every string is attacker-chosen."""

    CAPABILITIES = frozenset({Capability.ENVIRONMENTS, Capability.PIPELINES})
    Options = HostileOptions
    USES_HTTP = False

    async def poll(self) -> Observation:
        now = self.clock.now()
        t = self.options.text
        dep = Deployment(
            f"svc{t}",
            "prod",
            f"1.0{t}",
            "sha256:0",
            now - timedelta(hours=1),
            t,
            Status.SUCCEEDED,
            Health.HEALTHY,
            self.name,
            now,
        )
        run = PipelineRun(
            id=f"run{t}",
            service=f"svc{t}",
            pipeline=t,
            number=1,
            status=Status.FAILED,
            stages=(Stage(t, Status.FAILED),),
            author=t,
            commit="abc1234" + t,
            message=t,
            branch=t,
            queued_at=now,
            source=self.name,
            observed_at=now,
        )
        return Observation(self.name, now, deployments=(dep,), runs=(run,))


def hostile_app(tmp_path: Path, text: str) -> CockpitApp:
    base = config.load(None, env={})
    spec = ConnectorSpec("hostile", "hostile", Hostile, HostileOptions(text), 10, 5, 30)
    settings = config.Settings(
        file="test",
        environments=base.environments,
        connectors=(spec,),
        keys={},
        ui=base.ui,
        audit=config.AuditConfig(str(tmp_path / "a.sqlite3")),
    )
    app = CockpitApp(settings, clock=FixedClock(T0), poll=False)
    app.animation_level = "none"
    return app


def screen_text(table: LiveTable) -> tuple[str, list[str]]:
    lines = table.render_lines(Region(0, 0, table.size.width, table.size.height))
    text = "".join(seg.text for line in lines for seg in line)
    styles = [str(seg.style) for line in lines for seg in line if seg.style]
    return text, styles


async def check(tmp_path: Path, text: str) -> None:
    app = hostile_app(tmp_path, text)
    async with app.run_test(size=(120, 30)) as pilot:
        for key, table_id in (("1", "#matrix"), ("2", "#runs")):
            await pilot.press(key)
            await pilot.pause()
            table = app.screen.query_one(table_id, LiveTable)
            rendered, styles = screen_text(table)
            assert not FORBIDDEN.search(rendered), repr(rendered)
            assert not any("link" in s or "click" in s for s in styles), styles
        await pilot.press("enter")  # the run's detail screen: stages and the commit message
        await pilot.pause()
        for widget in app.screen.query("Static"):
            assert not FORBIDDEN.search(str(widget.render()))


async def test_known_attacks_are_shown_inert(tmp_path: Path) -> None:
    for i, text in enumerate(NASTY):
        await check(tmp_path / str(i), text)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.sampled_from([*NASTY, "\x07", "\x00", "\u2066", "\x85", "]8;;", "[", "]"]),
        min_size=1,
        max_size=4,
    ).map("".join)
)
def test_property_any_mix_stays_inert(tmp_path_factory, text: str) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    asyncio.run(check(tmp_path_factory.mktemp("h"), text))
