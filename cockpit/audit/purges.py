"""The signed purge: what an `audit.purge` record says was deleted, and checking who said so.

The signature is an SSHSIG (namespace `audit-purge@cockpit`) over the purge's canonical
payload: origin, time, cutoff, reason, and for each segment its name, range, head hash, file
digest and checkpoint. The record holds the payload text and the signature in `extra`, so
verify can check both from the log alone; only ranges named by a payload whose signature
checks out count as purged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cockpit.audit import canonical as c
from cockpit.audit.records import AuditRecord
from cockpit.retention_config import parse_age

PURGE_NAMESPACE = "audit-purge@cockpit"
PAYLOAD_TYPE = "cockpit-purge/v1"
SEGMENT_KEYS = (
    "segment", "first_seq", "last_seq", "head_hash", "file_digest", "checkpoint", "last_ts"
)  # fmt: skip


def payload(
    *,
    origin: str,
    time: datetime,
    before: datetime,
    keep: str,
    reason: str,
    segments: Sequence[Mapping[str, Any]],
    carried: Sequence[str] = (),
) -> bytes:
    """The canonical bytes a purge signs. `carried` holds the earlier purge records found in
    the segments it deletes (segment lines), so the ranges they purged stay accounted for."""
    return c.canonical(
        {
            "type": PAYLOAD_TYPE,
            "origin": origin,
            "time": c.utc_text(time),
            "before": c.utc_text(before),
            "keep": keep,
            "reason": c.plain(reason),  # as the record stores it
            "segments": [{k: s[k] for k in SEGMENT_KEYS} for s in segments],
            "carried": list(carried),
        }
    )


@dataclass(frozen=True, slots=True)
class PurgedRange:
    """Records first..last, once segment `segment` with head `head_hash`, purged by `by`."""

    segment: str
    first: int
    last: int
    head_hash: str
    by: int  # the purge record's seq
    at: str  # its time
    signer: str  # "signed by ...", or "UNSIGNED"

    def describe(self) -> str:
        return f"records {self.first}-{self.last} purged by #{self.by} at {self.at} ({self.signer})"


@dataclass(frozen=True, slots=True)
class Signers:
    """Who must have signed: an allowed_signers file and the principal in it."""

    allowed_signers: str
    principal: str


def check(
    record: AuditRecord, origin: str, *, signers: Signers | None, unsigned_ok: bool
) -> tuple[list[PurgedRange], str]:
    """The ranges a successful purge record purged, or why they do not count ('' if they do)."""
    from cockpit.audit import sshsig

    where = f"purge record #{record.seq}"
    text, signature = record.extra.get("payload", ""), record.extra.get("signature", "")
    if not isinstance(text, str):
        text = ""
    try:
        data = json.loads(text) if text else None
        named = data["segments"] if isinstance(data, dict) else None
        if data is None or data.get("type") != PAYLOAD_TYPE or not isinstance(named, list):
            raise ValueError
        if data.get("origin") != origin:
            return [], f"{where} is for log {data.get('origin')!r}, not {origin}"
        ranges = [
            (str(s["segment"]), int(s["first_seq"]), int(s["last_seq"]), str(s["head_hash"]))
            for s in named
        ]
        kept_from = parse_age(data["keep"]).before(c.parse_utc(data["time"]))
        early = [s["segment"] for s in named if c.parse_utc(s["last_ts"]) >= kept_from]
    except (ValueError, KeyError, TypeError):
        return [], f"{where} has no readable purge payload"
    if early:
        return [], f"{where} purged {early[0]} within retention (keep {data['keep']})"
    if not isinstance(signature, str) or not signature:
        if not unsigned_ok:
            return [], f"{where} is not signed (and retention.unsigned_purge is not allowed)"
        signer = "UNSIGNED, allowed by retention.unsigned_purge"
    else:
        try:
            if signers is not None:
                found = sshsig.verify(
                    text.encode("utf-8"),
                    signature,
                    principal=signers.principal,
                    allowed_signers=signers.allowed_signers,
                    namespace=PURGE_NAMESPACE,
                    at=record.ts,
                )
                signer = (
                    f"signed by {found.principal}, {found.key_type} key {found.key_fingerprint}"
                )
            else:
                found = sshsig.check_novalidate(
                    text.encode("utf-8"), signature, namespace=PURGE_NAMESPACE
                )
                signer = (
                    f"signed by {found.key_type} key {found.key_fingerprint}; signer not "
                    "checked: give --allowed-signers and --principal"
                )
        except sshsig.SignatureError as exc:
            return [], f"{where}: {exc}"
    at = c.utc_text(record.ts)
    found_ranges = [PurgedRange(n, a, b, h, record.seq, at, signer) for n, a, b, h in ranges]
    for line in data.get("carried", []):
        earlier = _carried(line)
        if earlier is None:
            return [], f"{where} carries an earlier purge record that is not one"
        more, why = check(earlier, origin, signers=signers, unsigned_ok=unsigned_ok)
        if why:
            return [], f"{why} (carried by {where})"
        found_ranges.extend(more)
    return found_ranges, ""


def _carried(line: object) -> AuditRecord | None:
    """An earlier purge record as a segment line carried it, if its hash fits its bytes."""
    from cockpit.audit.records import AuditError, parse

    try:
        data: Any = json.loads(line) if isinstance(line, str) else {}
        prev, hash_ = bytes.fromhex(data["prev_hash"]), bytes.fromhex(data["hash"])
        body = data["body"].encode("utf-8")
        record = parse(body, prev, hash_)
    except (ValueError, KeyError, TypeError, AttributeError, AuditError):
        return None
    fits = c.chain_hash(prev, body) == hash_ and record.seq == data["seq"]
    return record if fits and record.event_type == "audit.purge" else None
