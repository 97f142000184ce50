"""`audit verify` across the archive: segments, purges and the live log as one chain.

From record 1 to the live log's first, every range must be either a segment in the archive
directory (its own chain and checkpoint intact, named with the same digest by an
`audit.seal` record) or named by a signed `audit.purge` record; each range must continue
from the hash the one before it ended with, and the live log from the last. A segment whose
records are all still in the live log is the trace of a seal interrupted before its delete:
accepted when its hashes agree with the live ones, and finished by the next `audit seal`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cockpit.audit import canonical as c
from cockpit.audit import segments as seg
from cockpit.audit.checkpoint import Checkpoint
from cockpit.audit.events import EventType
from cockpit.audit.purges import PurgedRange, Signers, check
from cockpit.audit.records import AuditRecord
from cockpit.audit.sqlite import SqliteStore

_KINDS = (EventType.AUDIT_SEALED, EventType.AUDIT_PURGED)


@dataclass
class SpanReport:
    """What verify found: notes (one line each), problems, and the live log's head."""

    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    last: int = 0
    head_hash: str = c.GENESIS.hex()
    segments: int = 0
    purged: int = 0  # records
    live_ok: bool = True

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        if not self.ok:
            return f"audit log NOT intact: {self.problems[0]}"
        return (
            f"audit log intact: {self.last} records ({self.purged} purged, "
            f"{self.segments} segment(s) in the archive, the rest live), head {self.head_hash}"
        )


def in_use(store: SqliteStore, directory: Path) -> bool:
    """Whether verify must span the archive: segments exist or the live log was sealed."""
    first = next(store.records(limit=1), None)
    return bool(seg.listed(directory)) or (first is not None and first.seq > 1)


def check_span(
    store: SqliteStore,
    directory: Path,
    *,
    anchor: Checkpoint | None = None,
    deep: bool = False,
    signers: Signers | None = None,
    unsigned_ok: bool = False,
) -> SpanReport:
    report = SpanReport()
    origin = store.origin
    first_live = next(store.records(limit=1), None)
    live_from = first_live.seq if first_live else 1
    present = seg.listed(directory)
    routed = _route(anchor, present, live_from)
    marked: list[AuditRecord] = []
    checked: dict[str, tuple[seg.Segment, str]] = {}  # name -> (segment, head hash)
    failed: set[int] = set()  # first seqs of segments that did not verify (already reported)
    for s in present:
        result, cp = seg.check(s, origin, deep=deep, anchor=anchor if routed is s else None)
        if not result.ok:
            report.problems.append(result.problem)
            failed.add(s.first)
            continue
        if signers is not None and cp is not None:
            _check_checkpoint_signature(s, cp, signers, report)
        checked[s.name] = (s, result.head_hash)
        marked.extend(s.marked())
    live = store.verify(anchor if routed == "live" else None, deep=deep)
    if not live.ok:
        at = f"record {live.first_bad_seq}: " if live.first_bad_seq is not None else ""
        report.problems.append(f"live log: {at}{live.problem}")
        report.live_ok = False
    report.last, report.head_hash = live.count, live.head_hash
    marked.extend(store.records(event_types=_KINDS))
    seals = {
        (r.extra.get("first_seq"), r.extra.get("last_seq")): r
        for r in marked
        if r.event_type == EventType.AUDIT_SEALED and r.outcome == "success"
    }
    purged: dict[int, PurgedRange] = {}
    for r in marked:
        if r.event_type == EventType.AUDIT_PURGED and r.outcome == "success":
            ranges, why = check(r, origin, signers=signers, unsigned_ok=unsigned_ok)
            if why:
                report.problems.append(why)
            purged.update((p.first, p) for p in ranges)
    if (
        anchor is not None
        and routed == "archive"
        and any(p.first <= anchor.size <= p.last for p in purged.values())
    ):
        report.problems.append(
            f"the checkpoint's record {anchor.size if anchor else 0} was purged: "
            "it cannot be checked (use a checkpoint made after the purge)"
        )
    _walk(report, store, directory, present, checked, seals, purged, live_from, failed)
    return report


def _walk(
    report: SpanReport,
    store: SqliteStore,
    directory: Path,
    present: list[seg.Segment],
    checked: dict[str, tuple[seg.Segment, str]],
    seals: dict[tuple[object, object], AuditRecord],
    purged: dict[int, PurgedRange],
    live_from: int,
    failed: set[int],
) -> None:
    """Follow the ranges from record 1 to the live log, each continuing the one before."""
    starting = {s.first: s for s in present if s.name in checked}
    pos, prev = 1, c.GENESIS.hex()
    while pos < live_from:
        s, gone = starting.get(pos), purged.get(pos)
        if s is not None:
            head = checked[s.name][1]
            if s.first_prev().hex() != prev:
                report.problems.append(
                    f"segment {s.name} does not continue the chain: its first record's "
                    f"prev_hash is not the hash of record {pos - 1}"
                )
            _seal_matches(report, s, head, seals.get((s.first, s.last)), s.last >= live_from)
            if s.last >= live_from:  # an interrupted seal: the live log still has it all
                _overlap(report, store, s, head, live_from)
                return
            report.segments += 1
            report.notes.append(f"segment {s.name}: records {s.first}-{s.last} intact")
            pos, prev = s.last + 1, head
        elif gone is not None:
            report.notes.append(gone.describe())
            report.purged += gone.last - gone.first + 1
            pos, prev = gone.last + 1, gone.head_hash
        else:
            if pos not in failed:
                why = _missing(pos, live_from, starting, purged, seals, directory)
                report.problems.append(why)
            return
    if first := next(store.records(limit=1), None):
        if first.seq > 1 and first.prev_hash != prev:
            report.problems.append(
                f"live log: record {first.seq} does not continue the archive: its prev_hash "
                f"is not the hash of record {first.seq - 1}"
            )
        if report.live_ok:
            report.notes.append(f"live log: records {first.seq}-{report.last} intact")
    for s in present:  # segments left over inside the live range: interrupted seals
        if s.first >= live_from and s.name in checked:
            _overlap(report, store, s, checked[s.name][1], live_from)


def _seal_matches(
    report: SpanReport,
    s: seg.Segment,
    head: str,
    seal: AuditRecord | None,
    interrupted: bool,
) -> None:
    if seal is None:
        if not interrupted:
            report.problems.append(f"segment {s.name}: no audit.seal record names it")
        return
    if seal.extra.get("head_hash") != head or seal.extra.get("file_digest") != s.digest():
        report.problems.append(
            f"segment {s.name} does not match its seal record #{seal.seq} (head hash or file "
            "digest differ): the file was changed"
        )


def _overlap(
    report: SpanReport, store: SqliteStore, s: seg.Segment, head: str, live_from: int
) -> None:
    """A segment whose records the live log still holds: the same hashes, or a problem."""
    live = next(store.records(after_seq=s.last - 1, limit=1), None)
    if live is None or live.seq != s.last or live.hash != head:
        report.problems.append(
            f"segment {s.name} does not match the live log's records {s.first}-{s.last}"
        )
        return
    report.notes.append(
        f"segment {s.name}: records {s.first}-{s.last} are also still in the live log "
        "(an interrupted seal; the next audit seal finishes it)"
    )


def _missing(
    pos: int,
    live_from: int,
    starting: dict[int, seg.Segment],
    purged: dict[int, PurgedRange],
    seals: dict[tuple[object, object], AuditRecord],
    directory: Path,
) -> str:
    later = [n for n in (*starting, *purged) if n > pos] + [live_from]
    end = min(later) - 1
    named = next((r for (a, _), r in seals.items() if a == pos), None)
    what = f" (segment {named.extra.get('segment')}, sealed by #{named.seq})" if named else ""
    return (
        f"records {pos}-{end} are missing{what}: no segment in the archive ({directory}) holds "
        "them and no signed purge record names them"
    )


def _route(
    anchor: Checkpoint | None, present: list[seg.Segment], live_from: int
) -> seg.Segment | str | None:
    """Which part holds the record a checkpoint anchors: a segment, "live" or "purged"."""
    if anchor is None or anchor.size == 0:
        return None
    for s in present:
        if s.first <= anchor.size <= s.last and s.last < live_from:
            return s
    return "live" if anchor.size >= live_from else "archive"


def _check_checkpoint_signature(
    s: seg.Segment, cp: Checkpoint, signers: Signers, report: SpanReport
) -> None:
    from cockpit.audit.sshsig import SignatureError

    try:
        cp.verify_signature(principal=signers.principal, allowed_signers=signers.allowed_signers)
    except SignatureError as exc:
        report.problems.append(f"segment {s.name}: checkpoint: {exc}")
