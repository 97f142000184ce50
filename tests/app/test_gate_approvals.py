"""A GitHub protection-rule request in the Approvals view: listed, inert, approvable by key.

The request's ref carries markup and terminal control sequences, as a branch name may:
the view shows them as text and as visible notation, never obeys them.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from cockpit import config
from cockpit.app import CockpitApp
from cockpit.audit import open_store
from cockpit.clock import FixedClock
from cockpit.controller.gatekeeper import GateDeps, Gatekeeper
from cockpit.controller.github_gate import GATE_SOURCE, parse_request
from cockpit.journal import Journal
from screens.widgets import LiveTable
from tests.app.e2e_kit import SIZE, fill_and_confirm, open_dialog, select
from tests.app.helpers import FORBIDDEN, actor, visible
from tests.controller.gate_kit import fixture
from tests.fakes import T0

CONFIG = """\
environments: [dev, staging, prod]
audit: {path: AUDIT}
identities: {carol: {github: octocat}}
policy: {environments: {prod: {gates: []}}}
webhooks:
  github:
    secret: env:HOOK_SECRET
    token: env:GATE_TOKEN
    services: {acme/cart: cart}
    environments: {production: prod}
"""
ENV = {"HOOK_SECRET": "whsec-1", "GATE_TOKEN": "ghs_x"}
NASTY_REF = "[bold red]main\x1b[2J\x1b]0;pwned\x07"


async def _filed(settings: config.Settings) -> None:
    """The controller filed a request (another process, the same log)."""
    clock = FixedClock(T0)
    journal = Journal(lambda: open_store(settings.audit.path, clock=clock))
    hub = SimpleNamespace(poke=lambda *_: None)
    assert settings.webhooks.github is not None
    try:
        keeper = Gatekeeper(GateDeps(journal, hub, None, settings.webhooks, clock, actor("ctl")))
        payload = fixture("github_deployment_protection_rule.json")
        payload["deployment"]["ref"] = NASTY_REF
        assert await keeper.file(parse_request(payload, "d-1", settings.webhooks.github))
    finally:
        journal.close()


async def test_a_gate_request_is_shown_inert_and_approved_from_the_approvals_view(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cockpit.yaml"
    path.write_text(CONFIG.replace("AUDIT", str(tmp_path / "audit.sqlite3")))
    settings = config.load(str(path), env=ENV)
    await _filed(settings)
    app = CockpitApp(settings, clock=FixedClock(T0), poll=False, actor=actor("alice"))
    app.animation_level = "none"
    key = f"{GATE_SOURCE}:d-1"
    async with app.run_test(size=SIZE) as pilot:
        await app.journal.call(lambda store: store.head())  # the log is open, as after start
        await app.hub.refresh(GATE_SOURCE)
        await pilot.press("6")
        table = app.screen.query_one("#approvals", LiveTable)
        await pilot.pause()
        assert key in table.keys
        await select(pilot, table, key)
        await pilot.pause()
        shown = visible(app)
        assert not FORBIDDEN.search(shown)
        assert "[bold red]main^[[2J" in shown  # markup as text, ESC as visible notation
        dialog = await open_dialog(pilot, app, "a")
        assert dialog.plan.action.source == GATE_SOURCE
        await fill_and_confirm(pilot, app, "release notes read, go", None)
    store = open_store(settings.audit.path, clock=FixedClock(T0), create=False)
    try:
        done = [(str(r.event_type), r.action) for r in store.records()]
    finally:
        store.close()
    assert ("action.succeeded", "approve") in done
