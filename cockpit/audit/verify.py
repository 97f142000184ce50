"""Chain verification: walk the records in order and name the first one that does not fit."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from cockpit.audit import canonical as c
from cockpit.audit.records import AuditError, VerifyResult, parse

if TYPE_CHECKING:
    from cockpit.audit.checkpoint import Checkpoint

# (seq column, prev_hash, hash, canonical body bytes)
Row = tuple[int, bytes, bytes, bytes]
Progress = Callable[[int, int], None]
PROGRESS_EVERY = 50_000
# A ts and its closing quote as records.TS_FORMAT has them, with every digit made 0: one
# translate and compare per record instead of a decode and a regex (0.3 s a million records).
_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_TS_SHAPE = b'0000-00-00T00:00:00.000Z"'


def verify_rows(
    rows: Iterable[Row],
    *,
    total: int = 0,
    checkpoint: Checkpoint | None = None,
    deep: bool = False,
    progress: Progress | None = None,
    start: tuple[int, bytes] = (1, c.GENESIS),
) -> VerifyResult:
    """Check every link of the chain; with `checkpoint`, also that it is a prefix of this log.

    `start` is the first seq and the prev_hash it must carry: a log (or an archive segment)
    whose older records were sealed away starts past record 1; counts stay absolute seqs.

    The fast path hashes the stored bytes and checks that record times never go back. `deep`
    also parses every record and checks its schema, its evidence digest and that the bytes
    are in canonical form.
    """
    expected, prev = start
    prev_ts = b""
    # Every record hash starts with the domain: copying a hash that has it is cheaper than
    # a new hash of a concatenated copy of each body (0.5 s a million records).
    chained = hashlib.sha256(c.DOMAIN).copy
    anchor_size = checkpoint.size if checkpoint else 0
    anchor_hash = bytes.fromhex(checkpoint.head_hash) if checkpoint else b""
    for seq, prev_hash, hash_, body in rows:
        if seq != expected:
            if seq > expected:
                gap = f"{expected}" if seq == expected + 1 else f"{expected} to {seq - 1}"
                why = f"missing: the log jumps from record {expected - 1} to {seq} (deleted {gap})"
                return _bad(expected - 1, prev, expected, why)
            return _bad(expected - 1, prev, seq, f"is out of order (expected {expected})")
        # The body's own seq is only compared when `deep`: with contiguous seqs starting at
        # genesis, the links below already fix every record's position.
        if deep and (moved := _moved(seq, body)):
            return _bad(seq - 1, prev, seq, moved)
        if prev_hash != prev:
            what = "the genesis value" if seq == 1 else f"the hash of record {seq - 1}"
            why = f"prev_hash does not match {what}: a record was deleted, inserted or reordered"
            return _bad(seq - 1, prev, seq, why)
        hashed = chained()
        hashed.update(prev_hash)
        hashed.update(body)
        if hashed.digest() != hash_:
            return _bad(
                seq - 1, prev, seq, "content does not match its hash: the record was edited"
            )
        if deep:
            problem = _deep_problem(body, prev_hash, hash_)
            if problem:
                return _bad(seq - 1, prev, seq, problem)
        ts = ts_of(body)
        if not ts:
            return _bad(seq - 1, prev, seq, "has no ts of the form YYYY-MM-DDTHH:MM:SS.mmmZ")
        if ts < prev_ts:
            why = (
                f"its time {ts.decode()} is earlier than record {seq - 1}'s "
                f"({prev_ts.decode()}): records were reordered or the writer's clock went back"
            )
            return _bad(seq - 1, prev, seq, why)
        prev_ts = ts
        if seq == anchor_size and hash_ != anchor_hash:
            why = (
                f"does not match the checkpoint (hash {hash_.hex()[:16]}..., checkpoint has "
                f"{anchor_hash.hex()[:16]}...): the log was rewritten"
            )
            return _bad(seq - 1, prev, seq, why)
        prev = hash_
        if progress is not None and seq % PROGRESS_EVERY == 0:
            progress(seq, total)
        expected += 1
    count = expected - 1
    if checkpoint is not None:
        if count < anchor_size:
            why = (
                f"missing: the checkpoint covers {anchor_size} records but the log ends at "
                f"{count}: {anchor_size - count} record(s) were removed from the end (truncated)"
            )
            return _bad(count, prev, count + 1, why)
        if anchor_size == 0 and anchor_hash != c.GENESIS:
            return _bad(0, prev, None, "the checkpoint of an empty log must carry the genesis hash")
    if progress is not None:
        progress(count, total)
    return VerifyResult(ok=True, count=count, head_hash=prev.hex())


def _bad(count: int, prev: bytes, seq: int | None, problem: str) -> VerifyResult:
    return VerifyResult(False, count, prev.hex(), first_bad_seq=seq, problem=problem)


def ts_of(body: bytes) -> bytes:
    """The record's ts, without parsing (b"" when there is none of the right form).

    Keys are sorted and only the integer `v` follows `ts`, so the last `"ts":"` in a body
    is the top-level one (a quote inside a string is always escaped).
    """
    at = body.rfind(b'"ts":"')
    ts = body[at + 6 : at + 31]
    return ts[:-1] if at >= 0 and ts.translate(_DIGITS) == _TS_SHAPE else b""


def _moved(seq: int, body: bytes) -> str:
    try:
        inner = json.loads(body).get("seq")
    except (ValueError, AttributeError, RecursionError):
        return "is not a JSON object"
    return "" if inner == seq else f"has seq {inner} in its content: moved or renumbered"


def _deep_problem(body: bytes, prev_hash: bytes, hash_: bytes) -> str:
    try:
        record = parse(body, prev_hash, hash_)
    except AuditError as exc:
        return f"is not a valid record: {exc}"
    data = {k: v for k, v in record.to_dict().items() if k not in ("prev_hash", "hash")}
    if not _integers_only(data):
        return "holds a number that is not an integer within ±(2^53 - 1)"
    if c.canonical(data) != body:
        return "is not in canonical form (key order, spacing or escapes differ)"
    if c.digest(record.evidence) != record.evidence_digest:
        return "evidence_digest does not match its evidence"
    return ""


def _integers_only(value: Any) -> bool:
    """Canonical rule 5: the writer stores floats and big integers as strings."""
    if isinstance(value, float):
        return False
    if isinstance(value, int) and not isinstance(value, bool):
        return -c.MAX_INT <= value <= c.MAX_INT
    if isinstance(value, dict):
        return all(_integers_only(v) for v in value.values())
    if isinstance(value, list):
        return all(_integers_only(v) for v in value)
    return True
