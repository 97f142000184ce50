"""Freed large blocks go back to the system: a long-running cockpit's memory stays level.

Each poll of a large fleet makes a few big containers (the snapshot's run index and cell
map: megabytes each at 10,000 services) and frees the ones before. glibc's malloc puts
a block of 128 KiB or more in a mapping of its own and unmaps it when freed, but it
raises that bar each time such a block is freed, up to 32 MiB; from then on the big
containers come from the heap, and the holes they leave are kept. A 10,000-service demo
polled for 40 simulated minutes held 221 MB with the bar moving, 212 MB with it fixed at
128 KiB (`python -m bench.soak`).
"""

from __future__ import annotations

import sys

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)
LARGE = 128 * 1024  # glibc's own starting bar, kept from rising


def return_large_blocks() -> bool:
    """Fix glibc's mmap threshold at LARGE. True when it took; False off Linux or on a C
    library without mallopt (musl), where nothing changes."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # ~4 ms to load: called after the first frame, never before it

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, LARGE) == 1)
