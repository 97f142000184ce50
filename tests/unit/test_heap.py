"""A freed large block goes back to the system once the cockpit fixes glibc's mmap bar."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from tests.cli import ROOT

# glibc raises its bar for a block of its own mapping each time such a block is freed: the
# second 8 MiB block then comes from the heap and stays in RSS after it is freed.
PROBE = """
import sys
from cockpit import heap

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20

if sys.argv[1] == "fixed":
    assert heap.return_large_blocks()
size = 8 * 2**20
block = bytearray(b"x") * size
del block
base = rss()
block = bytearray(b"x") * size
del block
print(rss() - base)
"""

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="glibc's malloc only: elsewhere return_large_blocks changes nothing",
)


def kept_mb(mode: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    return float(out.stdout)


@glibc
def test_a_freed_large_block_leaves_rss_once_the_bar_is_fixed() -> None:
    assert kept_mb("moving") > 6  # the probe shows glibc's behaviour at all
    assert kept_mb("fixed") < 2


def test_off_glibc_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    from cockpit import heap

    monkeypatch.setattr(sys, "platform", "darwin")
    assert heap.return_large_blocks() is False


@pytest.mark.parametrize("poll", [True, False])
async def test_an_app_session_fixes_the_bar(monkeypatch: pytest.MonkeyPatch, poll: bool) -> None:
    """Polling (as `cockpit` starts) after the first frame: ctypes costs ~4 ms to load."""
    from cockpit import config, heap
    from cockpit.app import CockpitApp
    from cockpit.clock import FixedClock
    from tests.fakes import T0

    calls: list[bool] = []
    monkeypatch.setattr(heap, "return_large_blocks", lambda: calls.append(True) or True)
    app = CockpitApp(config.load(None, seed=7, scale=12, env={}), clock=FixedClock(T0), poll=poll)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.pause()
    assert calls == [True]
