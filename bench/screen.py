"""Issue 10's bytes per refresh: what the terminal receives per refresh of the overview.

    .venv/bin/python -m bench.screen [seconds]

The real cockpit runs in a child process on a pseudo-terminal (TERM=xterm-256color, 120x36
set with TIOCSWINSZ), with Textual's own Linux driver, the production start path (polling,
the clock tick each second) and an audit log in a temporary directory. This process reads
every byte the child writes to the terminal. The source is the seed 7 demo frozen at its
first poll and polled once a second, so one refresh is one poll plus the clock tick:

- "nothing changed": each poll answers the same fleet; only the clock moves.
- "one cell changed": each poll flips one deployment's version (auth in dev), so exactly one
  overview cell changes a second, plus the clock.

After a warm-up (first frame, the first verdicts, the audit log opening) the bytes of the
next `seconds` seconds are divided by the seconds. Targets: < 200 bytes and < 2 KB.
"""

from __future__ import annotations

import fcntl
import os
import struct
import sys
import tempfile
import termios
import threading
import time
from dataclasses import replace

WIDTH, HEIGHT = 120, 36
WARM_UP = 6.0  # seconds: first frame, the judge's first verdicts, the audit log opening


def child(mode: str, audit_dir: str) -> None:
    """Run the cockpit on this terminal, fed by the frozen demo."""
    from cockpit import config
    from cockpit.app import CockpitApp
    from cockpit.config import ConnectorSpec
    from cockpit.model import Observation
    from connectors.demo import DemoConnector, DemoOptions

    class Frozen(DemoConnector):
        """The demo fleet as its first poll saw it; with `flip`, one cell alternates."""

        first: Observation | None = None
        polls = 0

        async def poll(self) -> Observation:
            if self.first is None:
                self.first = await super().poll()
            obs = replace(self.first, observed_at=self.clock.now(), runs_delta=None)
            self.polls += 1
            if mode == "one-cell":
                deployments = list(obs.deployments)
                i = next(
                    i
                    for i, d in enumerate(deployments)
                    if (d.service, d.environment) == ("auth", "dev")
                )
                version = "9.9.9" if self.polls % 2 else "9.9.8"
                deployments[i] = replace(deployments[i], version=version)
                obs = replace(obs, deployments=tuple(deployments))
            return obs

    settings = config.load(None, seed=7, scale=12, env={})
    spec = ConnectorSpec("demo", "demo", Frozen, DemoOptions(seed=7, services=12), 1.0, 5, 30)
    settings = replace(
        settings,
        connectors=(spec,),
        audit=config.AuditConfig(os.path.join(audit_dir, "audit.sqlite3")),
    )
    CockpitApp(settings).run()


def measure(mode: str, seconds: float) -> tuple[float, int]:
    """Bytes a second the terminal received from the cockpit in `mode`, and the writes."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", HEIGHT, WIDTH, 0, 0))
    with tempfile.TemporaryDirectory() as audit_dir:
        pid = os.fork()
        if pid == 0:  # the child: the terminal is its stdin, stdout and stderr
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
            os.close(master)
            os.environ.update(TERM="xterm-256color", COLUMNS=str(WIDTH), LINES=str(HEIGHT))
            os.environ.pop("NO_COLOR", None)
            try:
                child(mode, audit_dir)
            finally:
                os._exit(0)
        os.close(slave)
        chunks: list[tuple[float, int]] = []
        done = threading.Event()

        def read() -> None:
            while not done.is_set():
                try:
                    data = os.read(master, 65536)
                except OSError:
                    return
                if not data:
                    return
                chunks.append((time.monotonic(), len(data)))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        start = time.monotonic()
        time.sleep(WARM_UP + seconds)
        alive = os.waitpid(pid, os.WNOHANG) == (0, 0)
        if alive:
            os.write(master, b"q")
            os.waitpid(pid, 0)
        done.set()
        os.close(master)
    if not alive or not chunks:
        raise RuntimeError("the cockpit exited before the measurement ended (run `cockpit`)")
    since = start + WARM_UP
    counted = [n for t, n in chunks if since <= t < since + seconds]
    return sum(counted) / seconds, len(counted)


def main(argv: list[str]) -> int:
    seconds = float(argv[0]) if argv else 10.0
    over = False
    for mode, target in (("nothing changed", 200), ("one cell changed", 2048)):
        try:
            per_second, writes = measure(
                "idle" if mode == "nothing changed" else "one-cell", seconds
            )
        except RuntimeError as exc:
            print(f"overview 120x36, {mode}: FAILED: {exc}", flush=True)
            return 1
        ok = per_second < target
        over |= not ok
        print(
            f"overview 120x36, {mode}: {per_second:.0f} bytes per refresh "
            f"({writes} writes in {seconds:g} s; target < {target}) {'OK' if ok else 'OVER'}",
            flush=True,
        )
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
