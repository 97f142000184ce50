"""Operator identity on every record: OS user, host, SSH origin, pid, version (R-B1, R-B7)."""

from __future__ import annotations

import os
import pwd
import socket
from pathlib import Path

import pytest

from cockpit.actions.identity import (
    agent_forwarded_suspected,
    current_actor,
    ssh_client,
    unresolved_user,
)

SSH = {"SSH_CONNECTION": "203.0.113.7 52144 10.0.0.5 22"}


def test_actor_from_the_process_and_the_ssh_session() -> None:
    actor = current_actor("0.1.0", env={**SSH, "USER": "mallory"})
    assert actor.user == pwd.getpwuid(os.getuid()).pw_name  # the uid, not a spoofable $USER
    assert actor.host == socket.gethostname()
    assert actor.ssh_client == "203.0.113.7:52144"
    assert actor.pid == os.getpid()
    assert actor.version == "0.1.0"
    assert actor.principal == "" and actor.agent_forwarded_suspected is False


def test_ssh_client_address_forms() -> None:
    assert ssh_client({}) == ""
    assert ssh_client({"SSH_CONNECTION": "garbage"}) == ""
    assert (
        ssh_client({"SSH_CONNECTION": "2001:db8::7 40022 2001:db8::1 22"}) == "[2001:db8::7]:40022"
    )


def test_forwarded_agent_heuristic(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    (proc / "3100").mkdir(parents=True)
    (proc / "3100" / "comm").write_text("sshd\n")
    (proc / "3200").mkdir()
    (proc / "3200" / "comm").write_text("bash\n")
    forwarded = {**SSH, "SSH_AUTH_SOCK": "/tmp/ssh-XXXXa1B2c3/agent.3100"}
    assert agent_forwarded_suspected(forwarded, proc) is True
    local_agent = {**SSH, "SSH_AUTH_SOCK": "/tmp/ssh-YYYYa1B2c3/agent.3200"}  # eval $(ssh-agent)
    assert agent_forwarded_suspected(local_agent, proc) is False
    gone = {**SSH, "SSH_AUTH_SOCK": "/tmp/ssh-ZZZZa1B2c3/agent.9999"}  # cannot tell: suspect
    assert agent_forwarded_suspected(gone, proc) is True
    desktop = {**SSH, "SSH_AUTH_SOCK": "/run/user/1000/keyring/ssh"}
    assert agent_forwarded_suspected(desktop, proc) is False
    not_ssh = {"SSH_AUTH_SOCK": "/tmp/ssh-XXXXa1B2c3/agent.3100"}  # a local login
    assert agent_forwarded_suspected(not_ssh, proc) is False


def test_a_uid_without_a_passwd_entry_is_uid_n_never_user_or_logname(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In a container run as an arbitrary uid, $USER and $LOGNAME are whatever was passed in."""

    def missing(uid: int) -> pwd.struct_passwd:
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.setattr(pwd, "getpwuid", missing)
    for name in ("USER", "LOGNAME", "LNAME", "USERNAME"):
        monkeypatch.setenv(name, "release-admin")
    actor = current_actor("0.1.0", env={"USER": "release-admin", "LOGNAME": "release-admin"})
    assert actor.user == f"uid:{os.getuid()}"
    assert unresolved_user(actor.user) and not unresolved_user("alice")


def test_an_action_by_a_bare_uid_is_flagged_in_its_audit_record() -> None:
    from datetime import UTC, datetime

    from cockpit.actions.policy import Operator, Policy
    from cockpit.config import PolicyConfig
    from cockpit.fleet.snapshot import FleetSnapshot
    from cockpit.model import Action, ActionKind, Environment

    now = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    snapshot = FleetSnapshot.empty((Environment("dev", 0),), now)
    action = Action(ActionKind.SYNC, "web", "dev", source="cd")
    decision = Policy(PolicyConfig()).evaluate(action, Operator("uid:1001"), snapshot, now)
    assert "actor uid:1001 has no passwd entry" in " ".join(decision.as_record()["notes"])  # type: ignore[arg-type]
