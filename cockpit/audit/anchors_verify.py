"""`cockpit audit verify --checkpoints DIR`: the log against every checkpoint anchored outside it.

Each checkpoint must be signed by a key in allowed_signers (an unsigned or unverifiable one
is a failure, not a pass: whoever rewrote the log could have written it), be for this log,
and name a record the log still has with the same hash. One walk of the chain decides
whether the log is intact; each checkpoint then costs one indexed lookup and a signature
check. Every failing checkpoint is named by its file and why, not just the first.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cockpit.audit import canonical as c
from cockpit.audit.anchors import AnchorError, Found, listed
from cockpit.audit.checkpoint import Checkpoint
from cockpit.audit.records import AuditError, VerifyResult
from cockpit.errors import CockpitError

if TYPE_CHECKING:
    from cockpit.audit.store import AuditStore

HashAt = Callable[[int], str | None]  # record seq -> its stored hash (hex), None if absent


@dataclass
class AnchorReport:
    """What checking a sink found: the chain's result and each failing checkpoint."""

    directory: Path
    chain: VerifyResult
    checked: int = 0
    failing: list[tuple[str, str]] = field(default_factory=list)  # (file name, why)
    newest: Checkpoint | None = None
    signers: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return self.chain.ok and self.checked > 0 and not self.failing

    def lines(self) -> list[str]:
        """What verify prints: the chain, each failing checkpoint, then a summary."""
        out = [self.chain.describe()]
        out += [f"{name}: FAILED: {why}" for name, why in self.failing]
        where = str(self.directory)
        if self.checked == 0:
            out.append(f"no checkpoints found in {where} (looked for checkpoint-*.txt)")
        elif self.failing:
            out.append(f"checkpoints: {len(self.failing)} of {self.checked} in {where} FAILED")
        elif self.newest is not None:
            by = ", ".join(sorted(self.signers))
            after = max(self.chain.count - self.newest.size, 0)
            out.append(
                f"checkpoints: all {self.checked} in {where} consistent, signed by {by}; "
                f"newest at record {self.newest.size} ({c.utc_text(self.newest.timestamp)}), "
                f"{after} record(s) after it not anchored yet"
            )
        return out


class _Signatures:
    """Checks each checkpoint's SSHSIG; remembers the principal that signed the last one,
    so a sink of one signer costs one ssh-keygen per file, not two."""

    def __init__(self, allowed_signers: str, principal: str | None) -> None:
        self.allowed_signers, self.principal = allowed_signers, principal
        self._recent: list[str] = []

    def check(self, cp: Checkpoint) -> str:
        """The principal that signed `cp`; SignatureError (with why) otherwise."""
        from cockpit.audit import sshsig

        if not cp.signature:
            raise sshsig.SignatureError("not signed (an unsigned checkpoint proves nothing)")
        if self.principal is not None:
            return self._verified(cp, [self.principal])
        if self._recent:  # most sinks have one signer: try it before asking who signed
            with contextlib.suppress(sshsig.SignatureError):
                return self._verified(cp, self._recent)
        found = sshsig.find_principals(
            cp.signature, allowed_signers=self.allowed_signers, at=cp.timestamp
        )
        if not found:
            raise sshsig.SignatureError("signed by a key that is not in allowed_signers")
        return self._verified(cp, found)

    def _verified(self, cp: Checkpoint, candidates: list[str]) -> str:
        from cockpit.audit import sshsig

        problem = "no principal to check"
        for principal in dict.fromkeys(candidates):
            try:
                cp.verify_signature(principal=principal, allowed_signers=self.allowed_signers)
            except sshsig.SignatureError as exc:
                problem = str(exc)
                continue
            self._recent = [principal]
            return principal
        raise sshsig.SignatureError(problem)


def store_hash_at(store: AuditStore) -> HashAt:
    """Record lookups through the AuditStore interface (any backend)."""

    def hash_at(seq: int) -> str | None:
        try:
            record = next(store.records(after_seq=seq - 1, limit=1), None)
        except AuditError:  # the record is there but damaged: its hash is not to be trusted
            return None
        return record.hash if record is not None and record.seq == seq else None

    return hash_at


def check_all(
    store: AuditStore,
    directory: Path,
    *,
    allowed_signers: str,
    principal: str | None = None,
    chain: VerifyResult | None = None,
    hash_at: HashAt | None = None,
) -> AnchorReport:
    """Check the log against every checkpoint in `directory` (a plain directory or a Git
    work tree: the files are read as they are there). `chain` is the log's own check
    (default: `store.verify()`); `hash_at` finds a record's hash (default: the store's)."""
    if not directory.is_dir():
        raise AnchorError(f"{directory} is not a directory of checkpoints")
    found = listed(directory)
    origin = store.checkpoint().origin
    report = AnchorReport(directory, chain if chain is not None else store.verify())
    lookup = hash_at or store_hash_at(store)
    signed = _signatures(found, origin, _Signatures(allowed_signers, principal))
    for item, (signer, unsigned) in zip(found, signed, strict=True):
        report.checked += 1
        why = f"signature: {unsigned}" if unsigned else _problem(item, origin, report.chain, lookup)
        if why:
            report.failing.append((item.path.name, why))
        elif item.checkpoint is not None:
            report.newest = item.checkpoint
            report.signers.add(signer)
    return report


def _signatures(found: list[Found], origin: str, signatures: _Signatures) -> list[tuple[str, str]]:
    """(principal, "") or ("", why) per file, for files that are checkpoints of this log.

    One ssh-keygen per file, 10 to 20 ms each, is most of verify's time for a sink of
    thousands: they run side by side (the first alone, to learn the usual signer)."""
    from concurrent.futures import ThreadPoolExecutor

    def one(item: Found) -> tuple[str, str]:
        cp = item.checkpoint
        if cp is None or cp.origin != origin:
            return "", ""  # _problem says why
        try:
            return signatures.check(cp), ""
        except CockpitError as exc:
            return "", str(exc)

    if not found:
        return []
    first = one(found[0])
    with ThreadPoolExecutor(min(8, os.cpu_count() or 1), thread_name_prefix="sshsig") as pool:
        return [first, *pool.map(one, found[1:])]


def _problem(item: Found, origin: str, chain: VerifyResult, hash_at: HashAt) -> str:
    cp = item.checkpoint
    if cp is None:
        return item.problem
    if cp.origin != origin:
        return f"it is for log {cp.origin}, not this log ({origin})"
    bad = chain.first_bad_seq
    if not chain.ok and bad is not None and bad <= cp.size:
        return f"record {bad}, which it covers, fails the chain: {chain.problem}"
    if cp.size == 0:
        return (
            ""
            if cp.head_hash == c.GENESIS.hex()
            else "an empty log's checkpoint must carry the genesis hash"
        )
    if chain.ok and cp.size > chain.count:
        return (
            f"it covers {cp.size} records but the log ends at {chain.count}: "
            f"{cp.size - chain.count} record(s) were removed from the end (truncated)"
        )
    stored = hash_at(cp.size)
    if stored is None:
        return f"record {cp.size} is not in the log (deleted, truncated or damaged)"
    if stored != cp.head_hash:
        return (
            f"record {cp.size} has hash {stored[:16]}... but the checkpoint has "
            f"{cp.head_hash[:16]}...: the log was rewritten up to there"
        )
    return ""
