"""`controller:` in config: where the headless controller listens, and its lease timings.

Plain data and its checks only (stdlib), so loading the config stays cheap. The timings
bound the failover: a standby asks for the lock every `retry`; the server drops a dead
leader's lock once TCP says the peer is gone (`dead_peer`: keepalives and
`tcp_user_timeout` on both ends); so a standby leads at most about `dead_peer + retry`
after its leader vanished without closing its connection, and about `retry` after a
SIGKILL (the kernel closes the socket). The defaults keep that under 15 s.
"""

from __future__ import annotations

from dataclasses import dataclass

from cockpit.connect.options import Duration

DEFAULT_PORT = 9464  # the port registered for Prometheus exporters' examples, unused by us


@dataclass
class ControllerConfig:
    listen: str = f"127.0.0.1:{DEFAULT_PORT}"  # /healthz, /readyz, /metrics and webhooks
    allow_remote: bool = False  # a non-loopback `listen` must be asked for in so many words
    retry: Duration = Duration(2)  # a standby asks for the leader's lock this often
    heartbeat: Duration = Duration(2)  # the leader writes its lease's heartbeat this often
    dead_peer: Duration = Duration(10)  # TCP keepalive/user timeout: a silent peer is dead
    stale_after: Duration = Duration(15)  # a TUI says "controller: none" past this heartbeat age


def split_listen(listen: str) -> tuple[str, int]:
    """`HOST:PORT` (an IPv6 host in brackets) as (host, port); ValueError saying what is wrong."""
    text = listen.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep or not host:
        raise ValueError(f"expected HOST:PORT like 127.0.0.1:{DEFAULT_PORT}, got {listen!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"write an IPv6 address in brackets, like [::1]:{DEFAULT_PORT}")
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"the port must be a number, got {port_text!r}") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"the port must be 0-65535, got {port}")
    return host, port


def loopback(host: str) -> bool:
    """Is `host` reachable only from this machine (127.0.0.0/8, ::1, localhost)?"""
    if host in ("localhost", "127.0.0.1", "::1"):
        return True
    import ipaddress  # ~2 ms, and config is read before the first frame: only when needed

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name could resolve to anything


def problems(cfg: ControllerConfig) -> list[tuple[str, str]]:
    """(key, why) for each thing wrong with `cfg`; none for the defaults."""
    found: list[tuple[str, str]] = []
    try:
        host, _ = split_listen(cfg.listen)
    except ValueError as exc:
        found.append(("listen", str(exc)))
    else:
        if not loopback(host) and not cfg.allow_remote:
            found.append(
                (
                    "listen",
                    f"{host} is not a loopback address: the endpoints have no authentication "
                    "of their own; set allow_remote: true to serve them there (behind a proxy "
                    "that terminates TLS)",
                )
            )
    for key in ("retry", "heartbeat", "dead_peer", "stale_after"):
        if getattr(cfg, key) <= 0:
            found.append((key, f"{key} must be more than zero"))
    if 0 < cfg.stale_after <= cfg.heartbeat:
        found.append(
            (
                "stale_after",
                f"stale_after ({cfg.stale_after:g}s) must be longer than heartbeat ({cfg.heartbeat:g}s)",
            )
        )
    return found
