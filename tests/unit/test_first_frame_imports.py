"""What plain `cockpit` loads before its first frame, and that the built-in demo's settings,
whose sections are built when first read, are the ones a config file saying the same gives.

Start-up is measured against a bare Textual app (`python -m bench.fleet startup`): each
module on this path costs the first frame. The sections only actions, the controller and
the team use load when first read (cockpit/config_later.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import fields, replace

from cockpit import config
from tests.cli import ROOT

# Not needed for the overview's first frame with the demo fleet.
LATER = (
    "cockpit.config_file",
    "cockpit.config_sections",
    "cockpit.actions.policy_config",
    "cockpit.actions.supply_config",
    "cockpit.actions.people",
    "cockpit.actions.autopilot",
    "cockpit.actions.executor",
    "cockpit.actions.twoperson_request",  # read from the log, opened after the first frame
    "cockpit.anchors_config",
    "cockpit.retention_config",
    "cockpit.controller.config",
    "cockpit.controller.webhooks_config",
    "cockpit.team.store_config",
    "cockpit.incident.recorder",
    "cockpit.model_later",
    "cockpit.fleet.verdict_history",
    "screens.filter",
    "screens.sources",
    "cockpit.audit",
    "cockpit.judge",
    "numpy",
    "yaml",
    "argparse",  # plain `cockpit` gives no word to parse (cockpit.cli.common.plain)
    "hashlib",  # loads OpenSSL; the demo's digests use CPython's own (connectors/demo/digest.py)
    "ctypes",  # ~4 ms: cockpit.heap fixes malloc's bar after the first frame
)

# Plain `cockpit` through its console script's main, headless, stopped at the first frame
# that shows the overview with services (the benchmark's stop), printing what is loaded.
FIRST_FRAME = """
import sys
from textual.app import App

display = App._display

def first_frame(self, screen, renderable):
    display(self, screen, renderable)
    if renderable is None or self._batch_count or getattr(self, "seen", False):
        return
    shown = getattr(screen, "generation", 0) > 0 and bool(self.hub.snapshot.services)
    if shown and any(table.keys for table in screen.query("LiveTable")):
        self.seen = True
        print("LOADED " + " ".join(sorted(sys.modules)), flush=True)
        self.exit()

App._display = first_frame
run = App.run
App.run = lambda self, **options: run(self, headless=True)
from cockpit.cli import main

raise SystemExit(main([]))
"""


def test_plain_cockpit_draws_its_first_frame_without_the_sections_actions_use() -> None:
    home = tempfile.mkdtemp(prefix="cockpit-first-frame-")
    env = {**os.environ, "XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home}
    env.pop("COCKPIT_CONFIG", None)
    out = subprocess.run(
        [sys.executable, "-c", FIRST_FRAME],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    line = next(line for line in out.stdout.splitlines() if line.startswith("LOADED "))
    loaded = line.split()[1:]
    assert "screens.overview" in loaded  # the probe did reach the overview
    early = sorted(m for m in loaded if m.startswith(LATER))
    assert early == []


def test_plain_cockpit_has_the_options_the_parser_gives_for_no_words() -> None:
    from cockpit.cli.common import plain
    from cockpit.cli.root import parse

    assert vars(plain()) == vars(parse([]))


def _sections(settings: config.Settings) -> dict[str, object]:
    return {f.name: getattr(settings, f.name) for f in fields(settings)}


def test_the_demo_settings_are_those_of_its_config_file_with_every_check_run() -> None:
    lazy = config.load(None, seed=3, scale=5, env={})
    assert not lazy.given("policy") and not lazy.given("webhooks")
    problems = config.opt.Problems()
    checked = config.build(
        config.demo_file(3, 5),
        config.LineMap("(built-in demo)"),
        problems,
        env={},
        resolve_secrets=True,
        demo=True,
    )
    assert problems.errors == []
    assert _sections(lazy) == _sections(checked)  # reading each builds it
    assert lazy.given("policy") and lazy.policy.environments["prod"].auto_rollback
    assert lazy.policy.supply_chain is not None and lazy.policy_written


def test_a_built_in_section_is_built_per_settings_and_replace_keeps_a_given_one() -> None:
    first, second = config.load(None, env={}), config.load(None, env={})
    assert first.policy == second.policy and first.policy is not second.policy
    assert config.Settings("f", (), (), {}, config.UiConfig(), config.AuditConfig()).retention == (
        config.RetentionConfig()
    )
    window = {"name": "business-hours", "schedule": "0 9 * * 1-5", "duration": "8h"}
    windows = config.opt.parse(config.PolicyConfig, {"windows": [window]})
    fresh = config.load(None, env={})
    assert not fresh.change_windows  # answered without building the policy
    assert not fresh.given("policy")
    with_windows = replace(fresh, policy=windows)
    assert with_windows.given("policy") and with_windows.change_windows
    assert replace(with_windows, keys={"quit": "q"}).policy is windows
