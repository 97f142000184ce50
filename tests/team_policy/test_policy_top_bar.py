"""The TUI's top bar in team mode names the stored policy in force, and a local difference."""

from __future__ import annotations

from pathlib import Path

from cockpit import config
from cockpit.app import CockpitApp
from cockpit.team.policy_doc import read_file
from screens.widgets import TopBar
from tests.team_policy.conftest import Team
from tests.team_policy.test_policy_enforced import ALLOWS, FORBIDS, _push


async def _top_line(config_file: Path, size: tuple[int, int]) -> str:
    settings = config.load(str(config_file))
    app = CockpitApp(settings, poll=False)
    app.animation_level = "none"
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert "policy: reading" in app.screen.query_one(TopBar).content.plain  # type: ignore[union-attr]
        await app.actions.refresh_policy()  # what the app's timer does every POLICY_EVERY
        app.screen.refresh_header(app.snapshot)  # type: ignore[attr-defined]
        await pilot.pause()
        return app.screen.query_one(TopBar).content.plain  # type: ignore[union-attr]


async def test_the_top_bar_shows_the_stored_policy_version_and_digest(team: Team) -> None:
    admin, operator = team.admin(), team.member("op")
    digest = _push(team, admin, ALLOWS, "allows.yaml")
    wide = await _top_line(operator.config, (160, 36))
    assert f"policy v1 {digest[:12]}" in wide
    narrow = await _top_line(operator.config, (80, 24))
    assert "policy v1" in narrow


async def test_the_top_bar_says_when_the_local_policy_differs(team: Team) -> None:
    admin, operator = team.admin(), team.member("op")
    digest = _push(team, admin, ALLOWS, "allows.yaml")
    local = operator.with_policy(FORBIDS)
    assert read_file(str(local)).digest != digest
    wide = await _top_line(local, (160, 36))
    assert f"policy v1 {digest[:12]} (local policy differs)" in wide
    narrow = await _top_line(local, (80, 24))
    assert "policy differs" in narrow


async def test_the_top_bar_says_when_no_policy_is_stored(team: Team) -> None:
    operator = team.member("op")
    assert "policy: none stored" in await _top_line(operator.config, (160, 36))


async def test_a_tui_action_is_planned_under_the_stored_policy(team: Team) -> None:
    """The dialog's plan (action_flow.prepare) reads the stored policy first: refused here
    although this host's file allows the rollback, and the refusal is audited."""
    from cockpit.actions import action_flow, targets
    from tests.team_policy.test_policy_enforced import _refusals

    admin, operator = team.admin(), team.member("op")
    digest = _push(team, admin, FORBIDS, "forbids.yaml")
    app = CockpitApp(config.load(str(operator.config)), poll=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        built = targets.rollback(app.snapshot, "payments", "prod")
        assert not isinstance(built, str)
        prepared = await action_flow.prepare(app.executor, built, {})
        assert prepared.plan.decision.refused
        assert "needs one of the roles captains" in prepared.plan.decision.summary()
        assert prepared.plan.decision.policy_version == f"team v1 sha256:{digest}"
    (refused,) = _refusals(team)
    assert refused["target"]["service"] == "payments"  # type: ignore[index]


async def test_the_stored_policys_change_windows_show_although_the_file_has_none(
    team: Team,
) -> None:
    admin, operator = team.admin(), team.member("op")
    # Open one minute a year: closed whenever this runs (but on New Year's midnight).
    windows = (
        "  windows:\n    - name: yearly\n      schedule: '0 0 1 1 *'\n      duration: 1m\n"
        "      environments: [prod]\n"
    )
    _push(team, admin, ALLOWS + windows, "windows.yaml")
    assert "prod closed" in await _top_line(operator.config, (80, 24))
