"""Checkpoints: the log's size and head hash in a small text note, optionally SSH-signed.

The layout follows C2SP tlog-checkpoint (origin line, size, base64 hash, extension lines,
blank line, signatures) with an SSHSIG block as the signature. Kept somewhere the cockpit
host cannot rewrite, a checkpoint lets `cockpit audit verify --checkpoint` detect a
truncated or rewritten log, which the chain alone cannot (R-B5).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, replace
from datetime import datetime

from cockpit.audit import canonical as c
from cockpit.audit.records import AuditError

CHECKPOINT_NAMESPACE = "audit-checkpoint@cockpit"
_BEGIN = "-----BEGIN SSH SIGNATURE-----"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The log named `origin` had `size` records and its last record's hash was `head_hash`."""

    origin: str
    size: int
    head_hash: str  # hex; the genesis value for an empty log
    timestamp: datetime
    signature: str = ""  # armored SSHSIG over body(), or empty

    def body(self) -> str:
        """The signed part: origin, size, base64 head hash, then the `time` extension line."""
        head = base64.b64encode(bytes.fromhex(self.head_hash)).decode("ascii")
        return f"{self.origin}\n{self.size}\n{head}\ntime {c.utc_text(self.timestamp)}\n"

    def serialize(self) -> str:
        text = self.body()
        if self.signature:
            text += "\n" + self.signature.strip() + "\n"
        return text

    def sign(self, key: str | None, namespace: str = CHECKPOINT_NAMESPACE) -> Checkpoint:
        """A copy signed with an SSH key file, or the first ssh-agent key when `key` is None."""
        from cockpit.audit import sshsig

        return replace(
            self, signature=sshsig.sign(self.body().encode(), key=key, namespace=namespace)
        )

    def verify_signature(
        self, *, principal: str, allowed_signers: str, namespace: str = CHECKPOINT_NAMESPACE
    ) -> str:
        """Raise SignatureError unless signed by `principal`; returns the key fingerprint."""
        from cockpit.audit import sshsig

        if not self.signature:
            raise sshsig.SignatureError("the checkpoint is not signed")
        return sshsig.verify(
            self.body().encode(),
            self.signature,
            principal=principal,
            allowed_signers=allowed_signers,
            namespace=namespace,
            at=self.timestamp,
        ).key_fingerprint

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Read a checkpoint; AuditError says which line is wrong."""
        body, _, rest = text.partition("\n\n")
        lines = body.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if len(lines) != 4:
            raise AuditError("checkpoint: expected origin, size, hash and time lines")
        origin, size_text, head_text, time_line = lines
        if not origin or any(ch.isspace() for ch in origin):
            raise AuditError("checkpoint line 1: the origin must be one word")
        if not size_text.isdigit() or (size_text.startswith("0") and size_text != "0"):
            raise AuditError("checkpoint line 2: the size must be a decimal number")
        try:
            head = base64.b64decode(head_text, validate=True)
        except binascii.Error:
            head = b""
        if len(head) != 32:
            raise AuditError("checkpoint line 3: the head hash must be 32 bytes of base64")
        if not time_line.startswith("time "):
            raise AuditError("checkpoint line 4: expected 'time <RFC 3339 UTC>'")
        try:
            when = c.parse_utc(time_line[5:])
        except ValueError:
            raise AuditError("checkpoint line 4: the time is not RFC 3339 UTC") from None
        signature = rest.strip()
        if signature and not signature.startswith(_BEGIN):
            raise AuditError("checkpoint: after the blank line only an SSH signature may follow")
        return cls(origin, int(size_text), head.hex(), when, signature + "\n" if signature else "")
