"""Operator identity on every record: OS user, host, SSH origin, pid, version (R-B1, R-B7)."""

from __future__ import annotations

import os
import pwd
import socket
from pathlib import Path

from cockpit.identity import agent_forwarded_suspected, current_actor, ssh_client

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
