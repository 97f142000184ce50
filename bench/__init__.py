"""Benchmarks: `python -m bench.<name>` prints measured figures against their targets.

Importing the package points the cockpit's data and config folders at a fresh temporary
folder: benchmarks start apps on fixed clocks, and their records must never land in the
operator's own audit log (a record dated in the past reads as tampering there).
"""

import os
import tempfile

_home = tempfile.mkdtemp(prefix="cockpit-bench-home-")
os.environ["XDG_DATA_HOME"] = os.path.join(_home, "data")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_home, "config")
os.environ.pop("COCKPIT_CONFIG", None)
