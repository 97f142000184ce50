"""What the cockpit loads before its first painted overview: only what that frame draws.

The action flow, executor, policy, audit store, judge and numpy are loaded by the first
action, the first verdict or the audit log opening after the frame; each one imported
before it costs start-up time (issue 14: `cockpit` within 1.2x a bare Textual app).
"""

from __future__ import annotations

from pathlib import Path

from tests.cli import python_in_a_fresh_home

# Run as the console script runs it, headless, printing the modules loaded when the
# first overview with services has been painted.
PROBE = """
import sys
from textual.app import App

terminal_run = App.run

def headless_run(self, **options):
    cls = type(self)
    handler = cls.on_fleet_updated

    def on_fleet_updated(self, message):
        handler(self, message)
        if message.snapshot.services and not getattr(self, "seen", False):
            self.seen = True
            self.call_after_refresh(painted, self)

    def painted(self):
        print("LOADED", " ".join(sorted(sys.modules)), flush=True)
        self.exit()

    cls.on_fleet_updated = on_fleet_updated
    return terminal_run(self, headless=True)

App.run = headless_run
from cockpit.cli import main

raise SystemExit(main([]))
"""

NOT_FOR_THE_FIRST_FRAME = (
    "cockpit.actions.action_flow",
    "cockpit.actions.lanes",
    "cockpit.actions.executor",
    "cockpit.actions.policy",
    "cockpit.audit.sqlite",
    "cockpit.actions.identity",
    "cockpit.judge",
    "numpy",
    "screens.dialog",
    "cockpit.connect.option_help",  # `cockpit connectors` reads the options' help
    # Supply-chain evidence: the demo makes its documents from its second poll on, and the
    # gates load their evaluators (and cryptography, sigstore...) on the first promote.
    "connectors.demo.sim_evidence",
    "cockpit.evidence_model",
    "cockpit.actions.supply_gates",
    "cockpit.fleet.run_tests",
    "cockpit.supply",
    "cryptography",
    "sigstore",
    "license_expression",
    "junitparser",
)


def test_the_first_frame_loads_no_action_judge_or_audit_machinery(tmp_path: Path) -> None:
    out = python_in_a_fresh_home(PROBE, tmp_path)
    line = next((x for x in out.stdout.splitlines() if x.startswith("LOADED ")), None)
    assert line is not None, out.stderr[-2000:]
    loaded = set(line.split()[1:])
    assert "screens.overview" in loaded  # the probe did reach the first frame
    assert sorted(m for m in NOT_FOR_THE_FIRST_FRAME if m in loaded) == []
