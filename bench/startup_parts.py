"""Where plain `cockpit`'s start-up goes, part by part, beside the bare Textual app.

    .venv/bin/python -m bench.startup_parts [runs]

A diagnostic for `bench.startup` (which gives the figure against the target): the same
child processes, byte-code compiled, with hooks that time each part from the child's first
line to the first painted overview. Per part the median of `runs` interleaved runs (8):

- Textual's imports, then ours and the settings up to `App.run`, then `App.run` to the paint;
- the dataclasses of ours created before the paint and the time spent creating them (Python
  3.11 compiles six methods for each frozen, slotted one), with the modules that create most;
- the stylesheet parses (Textual parses every source again on each re-parse).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import Counter

from bench.startup import BARE_APP, COCKPIT_FRAME, PAINT_HOOK, PAINTED

# Installed before anything else in the child: it counts, it never changes what runs.
HOOKS = """
import dataclasses, json, time
T0 = time.perf_counter()
PARTS = {"dataclasses": 0, "dataclass_ms": 0.0, "parses": 0, "parse_ms": 0.0, "by_module": {}}
OURS = ("cockpit", "screens", "connectors")
_process_class = dataclasses._process_class

def _counted(cls, *args, **kwargs):
    start = time.perf_counter()
    made = _process_class(cls, *args, **kwargs)
    if cls.__module__.split(".")[0] in OURS:
        PARTS["dataclasses"] += 1
        PARTS["dataclass_ms"] += (time.perf_counter() - start) * 1000
        by = PARTS["by_module"]
        by[cls.__module__] = by.get(cls.__module__, 0) + 1
    return made

dataclasses._process_class = _counted
from textual.css.stylesheet import Stylesheet
_parse = Stylesheet.parse

def _timed_parse(self):
    start = time.perf_counter()
    try:
        return _parse(self)
    finally:
        PARTS["parses"] += 1
        PARTS["parse_ms"] += (time.perf_counter() - start) * 1000

Stylesheet.parse = _timed_parse
from textual.app import App
PARTS["textual_ms"] = (time.perf_counter() - T0) * 1000

def painted(app):
    PARTS["paint_ms"] = (time.perf_counter() - T0) * 1000
    print("PARTS " + json.dumps(PARTS), flush=True)
    app.exit()
"""

# The same first frame as bench.fleet's, reported by the counting `painted` above.
BARE = HOOKS + BARE_APP.replace(PAINTED, "")

# Plain `cockpit` as bench.fleet runs it, stopping at the first overview with services.
COMMAND = (
    HOOKS
    + PAINT_HOOK.replace(PAINTED, "")
    + COCKPIT_FRAME
    + """
terminal_run = App.run

def headless_run(self, **options):
    PARTS["run_ms"] = (time.perf_counter() - T0) * 1000
    return terminal_run(self, headless=True)

App.run = headless_run
from cockpit.cli import main

raise SystemExit(main([]))
"""
)


def _parts(code: str, env: dict[str, str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, env=env, capture_output=True, text=True
    )
    line = next(line for line in out.stdout.splitlines() if line.startswith("PARTS "))
    return json.loads(line.removeprefix("PARTS "))


def main(runs: int = 8) -> None:
    home = tempfile.mkdtemp(prefix="cockpit-bench-")
    env = {**os.environ, "XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home}
    env.pop("COCKPIT_CONFIG", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # compiled once, as an install leaves it
    env["PYTHONPYCACHEPREFIX"] = os.path.join(home, "pycache")
    _parts(BARE, env), _parts(COMMAND, env)  # warm-up: byte-code and the OS caches
    bare: list[dict] = []
    command: list[dict] = []
    for _ in range(runs):  # interleaved: drift on a shared machine hits both
        bare.append(_parts(BARE, env))
        command.append(_parts(COMMAND, env))

    def med(rows: list[dict], key: str) -> float:
        return statistics.median(row[key] for row in rows)

    b_textual, b_paint = med(bare, "textual_ms"), med(bare, "paint_ms")
    textual, run, paint = (med(command, k) for k in ("textual_ms", "run_ms", "paint_ms"))
    print(
        f"bare Textual app: {b_paint:.0f} ms to its first paint "
        f"(Textual's imports {b_textual:.0f}, then {b_paint - b_textual:.0f})"
    )
    print(
        f"`cockpit`: {paint:.0f} ms to its first overview (Textual's imports {textual:.0f}, "
        f"ours and the settings to App.run {run - textual:.0f}, App.run to the paint "
        f"{paint - run:.0f})"
    )
    by_module = Counter(command[-1]["by_module"])
    print(
        f"dataclasses of ours before the paint: {command[-1]['dataclasses']}, "
        f"{med(command, 'dataclass_ms'):.1f} ms; most: "
        + ", ".join(f"{m} {n}" for m, n in by_module.most_common(5))
    )
    print(
        f"stylesheet parses: cockpit {command[-1]['parses']} ({med(command, 'parse_ms'):.1f} ms), "
        f"bare app {bare[-1]['parses']} ({med(bare, 'parse_ms'):.1f} ms)"
        f" ({runs} interleaved runs, medians)"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
