"""Approvals signed with the operator's SSH key where policy requires it (ssh-keygen -Y)."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from cockpit import config
from cockpit.audit import EventType
from cockpit.config import IdentityConfig, PolicyConfig
from cockpit.connect import options
from screens.dialog import ActionDialog
from screens.widgets import LiveTable
from tests.app.helpers import actor, fill_and_confirm, records

SIGNED = {"environments": {"prod": {"signed_approvals": True, "unknown_gates": "warn"}}}


@pytest.fixture
def ssh_key(tmp_path: Path) -> tuple[str, str]:
    if shutil.which("ssh-keygen") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("ssh-keygen is missing in CI (install openssh-client)")
        pytest.skip("ssh-keygen is not installed (Debian: openssh-client)")
    key = tmp_path / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f", str(key)], check=True
    )
    public = key.with_suffix(".pub").read_text().split()
    signers = tmp_path / "allowed_signers"
    signers.write_text(f'alice namespaces="release-approval@cockpit" {public[0]} {public[1]}\n')
    return str(key), str(signers)


def signed_app(tmp_path: Path, identity: IdentityConfig):  # type: ignore[no-untyped-def]
    from cockpit.app import CockpitApp
    from cockpit.clock import FixedClock
    from tests.app.helpers import T0

    settings = config.load(None, seed=7, scale=12, env={})
    settings = replace(
        settings,
        policy=options.parse(PolicyConfig, SIGNED),
        audit=config.AuditConfig(str(tmp_path / "audit.sqlite3")),
        identity=identity,
    )
    app = CockpitApp(settings, clock=FixedClock(T0), poll=False, actor=actor("alice"))
    app.animation_level = "none"
    return app


async def approve_first(app, pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("6")
    table = app.screen.query_one("#approvals", LiveTable)
    table.move_cursor(row=0)
    await pilot.press("a")
    await pilot.pause()
    assert isinstance(app.screen, ActionDialog)
    await fill_and_confirm(pilot, app, "reviewed: CAB-2291 approved", "payments")


async def test_an_approval_in_prod_is_signed_verified_and_recorded(
    tmp_path: Path, ssh_key: tuple[str, str]
) -> None:
    key, signers = ssh_key
    app = signed_app(tmp_path, IdentityConfig(signing_key=key, allowed_signers=signers))
    async with app.run_test(size=(120, 36)) as pilot:
        await approve_first(app, pilot)
    requested = next(r for r in records(app) if r.event_type == EventType.ACTION_REQUESTED)
    assert requested.actor.principal == "alice"
    assert requested.actor.signature.startswith("-----BEGIN SSH SIGNATURE-----")
    assert (
        requested.actor.key_type == "ssh-ed25519" or "ed25519" in requested.actor.key_type.lower()
    )
    assert len(requested.extra["approval_nonce"]) >= 16
    assert '"action":"approve"' in requested.extra["approval_payload"]
    assert any(r.event_type == EventType.ACTION_SUCCEEDED for r in records(app))


async def test_without_a_key_a_required_signature_refuses(tmp_path: Path) -> None:
    app = signed_app(tmp_path, IdentityConfig())
    async with app.run_test(size=(120, 36)) as pilot:
        await approve_first(app, pilot)
    refused = [r for r in records(app) if r.event_type == EventType.ACTION_REFUSED]
    assert refused and "requires a signed approval" in refused[0].extra["refusal"][0]
    assert not [r for r in records(app) if r.event_type == EventType.ACTION_REQUESTED]


@pytest.fixture
def nobody_allowed(ssh_key: tuple[str, str]) -> tuple[str, str]:
    key, signers = ssh_key
    Path(signers).write_text("")
    return key, signers


async def test_a_key_not_in_allowed_signers_refuses(
    tmp_path: Path, nobody_allowed: tuple[str, str]
) -> None:
    key, signers = nobody_allowed
    app = signed_app(tmp_path, IdentityConfig(signing_key=key, allowed_signers=signers))
    async with app.run_test(size=(120, 36)) as pilot:
        await approve_first(app, pilot)
    refused = [r for r in records(app) if r.event_type == EventType.ACTION_REFUSED]
    assert refused and "requires a signed approval" in refused[0].extra["refusal"][0]
