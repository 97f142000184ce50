"""Shared helpers for the checkpoint-anchor tests: SSH keys, allowed_signers, log surgery."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from cockpit.audit import canonical as c
from cockpit.audit.sqlite_file import SCHEMA
from tests.audit.conftest import need

PRINCIPAL = "controller@cockpit"


def keygen(path: Path, comment: str = PRINCIPAL) -> Path:
    """A fresh ed25519 key pair at `path` (and `path`.pub), no passphrase."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [need("ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
    )
    return path


def allowed_signers(path: Path, *keys: tuple[str, Path]) -> Path:
    """An allowed_signers file naming each (principal, key) for the checkpoint namespace."""
    lines = []
    for principal, key in keys:
        kind, blob = Path(f"{key}.pub").read_text().split()[:2]
        lines.append(f'{principal} namespaces="audit-checkpoint@cockpit" {kind} {blob}\n')
    path.write_text("".join(lines))
    return path


def _trigger(name: str) -> str:
    at = SCHEMA.index(f"CREATE TRIGGER {name} ")
    return SCHEMA[at : SCHEMA.index("END;", at) + 3]


def rewrite_sqlite(db: Path, seq: int, old: str, new: str, *, rechain: bool) -> None:
    """Replace `old` with `new` in record `seq`'s body past the triggers; with `rechain`,
    recompute every hash from there on and put the trigger back, as a careful forger would."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        (body,) = conn.execute("SELECT body FROM audit_log WHERE seq = ?", (seq,)).fetchone()
        assert old in body, f"record {seq} does not say {old!r}"
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute(
            "UPDATE audit_log SET body = replace(body, ?, ?) WHERE seq = ?", (old, new, seq)
        )
        if rechain:
            rows = conn.execute(
                "SELECT seq, prev_hash, CAST(body AS BLOB) FROM audit_log WHERE seq >= ? ORDER BY seq",
                (seq,),
            ).fetchall()
            prev = bytes(rows[0][1])
            # The new hashes go in back to front so the UNIQUE constraints never collide.
            fresh = []
            for at, _, body in rows:
                digest = c.chain_hash(prev, bytes(body))
                fresh.append((at, prev, digest))
                prev = digest
            conn.execute(
                "UPDATE audit_log SET hash = randomblob(32), prev_hash = randomblob(32) WHERE seq >= ?",
                (seq,),
            )
            for at, p, h in fresh:
                conn.execute(
                    "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", (p, h, at)
                )
            conn.execute(_trigger("audit_log_no_update"))
    finally:
        conn.close()


def truncate_sqlite(db: Path, keep: int) -> None:
    """Delete every record after `keep` past the DELETE trigger, then put the trigger back."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("DROP TRIGGER audit_log_no_delete")
        conn.execute("DELETE FROM audit_log WHERE seq > ?", (keep,))
        conn.execute(_trigger("audit_log_no_delete"))
    finally:
        conn.close()
