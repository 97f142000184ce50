"""What an evidence pack says, gathered once: its HTML page and controls.json both read it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cockpit.audit.pack_controls import CONTROLS, MappedChange
from cockpit.audit.pack_exceptions import KINDS, Finding
from cockpit.audit.report import Report

CONTROL_MAP_FORMAT = "cockpit-control-map/1"


@dataclass(frozen=True)
class LogIdentity:
    """Which log the pack is about: its origin, and its size and head hash when read."""

    origin: str
    size: int
    head_hash: str
    intact: bool


@dataclass(frozen=True)
class Contents:
    """Everything the pack reports, in the form its files write it."""

    since: str
    until: str
    generated: str
    controls: tuple[str, ...]
    log: LogIdentity
    verify_transcript: str  # what `cockpit audit verify` printed, as verify.txt has it
    verify_ok: bool
    checkpoint_text: str  # checkpoint.txt, "" when the pack has none
    checkpoint_note: str  # where the checkpoint came from, or why there is none
    changes: list[MappedChange]
    findings: list[Finding]
    report: Report

    def findings_of(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]


def controls_json(contents: Contents) -> str:
    """controls.json: the control map and the exceptions, for machines (ASCII, sorted keys,
    one change a line: json's C encoder, which an indent would turn off, 2.9 -> 0.3 s for
    2,500 changes)."""
    data: dict[str, Any] = {
        "format": CONTROL_MAP_FORMAT,
        "period": {"since": contents.since, "until": contents.until},
        "generated": contents.generated,
        "log": vars(contents.log),
        "controls": [
            {"id": c, "name": CONTROLS[c][0], "requirement": CONTROLS[c][1]}
            for c in contents.controls
        ],
        "changes": [],
        "exceptions": {k: [f.as_data() for f in contents.findings_of(k)] for k in KINDS},
    }
    # "changes" sorts first of the top-level keys, so its first occurrence is that key
    head, tail = json.dumps(data, sort_keys=True, ensure_ascii=True).split('"changes": []', 1)
    changes = ",\n".join(
        json.dumps(c.as_data(), sort_keys=True, ensure_ascii=True) for c in contents.changes
    )
    return f'{head}"changes": [\n{changes}\n]{tail}\n'
