"""Building app instances for Pilot and snapshot tests: fixed clock, seeded demo, no polling."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from cockpit import config
from cockpit.app import CockpitApp
from cockpit.clock import FixedClock

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def demo_app(
    *,
    seed: int = 7,
    scale: int = 12,
    keys: dict[str, str] | None = None,
    clock: FixedClock | None = None,
    **kw: object,
) -> CockpitApp:
    settings = config.load(None, seed=seed, scale=scale, env={})
    if keys:
        settings = replace(settings, keys=keys)
    app = CockpitApp(settings, clock=clock or FixedClock(T0), poll=False, **kw)  # type: ignore[arg-type]
    app.animation_level = "none"
    return app
