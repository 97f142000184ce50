"""Who is at the keyboard: OS user, host, SSH origin and process, for every audit record."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from pathlib import Path

from cockpit.audit.events import Actor

# sshd names a forwarded agent socket /tmp/ssh-XXXXXXXXXX/agent.<pid of the sshd session>.
_SSHD_AGENT = re.compile(r"/ssh-[A-Za-z0-9]+/agent\.(\d+)$")


UNRESOLVED_PREFIX = "uid:"  # no login name contains ":", so this cannot pass for one


def os_user() -> str:
    """The login of the real uid, or `uid:N` when it has none.

    $USER and $LOGNAME can be set to anything, the uid cannot: a container started with an
    arbitrary uid has no passwd entry, and its environment must not name the actor.
    """
    import pwd

    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"{UNRESOLVED_PREFIX}{uid}"


def unresolved_user(user: str) -> bool:
    """Is this actor a bare uid (no passwd entry), so no role or group can be trusted?"""
    return user.startswith(UNRESOLVED_PREFIX)


def ssh_client(env: Mapping[str, str]) -> str:
    """The SSH client's address and port from SSH_CONNECTION ("ip port ip port"), or ""."""
    parts = env.get("SSH_CONNECTION", "").split()
    if len(parts) != 4:
        return ""
    address, port = parts[0], parts[1]
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def agent_forwarded_suspected(env: Mapping[str, str], proc: Path = Path("/proc")) -> bool:
    """A heuristic (R-B7): in an SSH session, is SSH_AUTH_SOCK the sshd-forwarded agent?

    A forwarded agent can be made to sign by anyone who reaches the socket on this host,
    so approvals signed through it deserve a warning. sshd names the socket after its own
    pid; when that pid is visibly an sshd process, or cannot be checked, we suspect.
    """
    sock = env.get("SSH_AUTH_SOCK", "")
    if not env.get("SSH_CONNECTION") or not sock:
        return False
    match = _SSHD_AGENT.search(sock)
    if match is None:
        return False
    try:
        comm = (proc / match.group(1) / "comm").read_text(encoding="utf-8").strip()
    except OSError:
        return True
    return comm.startswith("sshd")


def current_actor(version: str, env: Mapping[str, str] | None = None) -> Actor:
    """The actor for records written by this process."""
    env = os.environ if env is None else env
    return Actor(
        user=os_user(),
        host=socket.gethostname(),
        ssh_client=ssh_client(env),
        pid=os.getpid(),
        version=version,
        agent_forwarded_suspected=agent_forwarded_suspected(env),
    )
