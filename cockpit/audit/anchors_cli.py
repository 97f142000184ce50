"""`cockpit audit verify --checkpoints DIR`: the command around cockpit.audit.anchors_verify.

Exit 0 only when the chain is intact and every checkpoint found is signed, for this log,
and consistent with it; 1 when any fails or when DIR holds none (an empty sink anchors
nothing); 2 for bad usage (no allowed_signers: a signature nobody checks proves nothing).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from cockpit.audit.anchors_verify import HashAt, check_all, store_hash_at
from cockpit.audit.events import EventType
from cockpit.audit.records import AuditError, DamagedLog, VerifyResult
from cockpit.cli.exits import Exit
from cockpit.sanitize import clean

if TYPE_CHECKING:
    from cockpit.audit.commands import Context
    from cockpit.audit.store import AuditStore


def verify_checkpoints(ctx: Context) -> int:
    args = ctx.args
    if args.checkpoint:
        raise AuditError("give --checkpoint FILE or --checkpoints DIR, not both")
    cfg = getattr(ctx.settings, "checkpoints", None)
    signers = args.allowed_signers or getattr(cfg, "allowed_signers", None)
    principal = args.principal or getattr(cfg, "principal", None)
    if not signers:
        raise AuditError(
            "--checkpoints needs --allowed-signers FILE (or checkpoints.allowed_signers in "
            "config): a checkpoint whose signature nobody checks proves nothing"
        )
    directory = Path(os.path.expanduser(args.checkpoints))
    try:
        store = ctx.reader()
    except DamagedLog as exc:
        print(clean(f"audit log NOT intact: {exc}"))
        return Exit.FAILED
    with store:
        chain, hash_at = _chain(ctx, store)
        report = check_all(
            store,
            directory,
            allowed_signers=os.path.expanduser(signers),
            principal=principal,
            chain=chain,
            hash_at=hash_at,
        )
    for line in report.lines():
        print(clean(line))
    if not report.ok:
        return Exit.FAILED  # recording the check would append to a log that is not intact
    ctx.record(
        EventType.AUDIT_VERIFIED,
        "success",
        records=report.chain.count,
        head_hash=report.chain.head_hash,
        deep=bool(args.deep),
        checkpoint_size=report.newest.size if report.newest else -1,
        checkpoints=report.checked,
        checkpoints_dir=str(directory),
    )
    return Exit.OK


def _chain(ctx: Context, store: AuditStore) -> tuple[VerifyResult, HashAt]:
    """The log's own check, and how to find a record's hash: across the archive segments
    and purges for a sealed SQLite log (cockpit.audit.span), else the store alone."""
    from cockpit.audit.sqlite import SqliteStore

    if isinstance(store, SqliteStore):
        from cockpit.audit import span

        archive = ctx.archive_dir()
        if span.in_use(store, archive):
            return _across(ctx, store, archive)
    return store.verify(deep=ctx.args.deep), store_hash_at(store)


def _across(ctx: Context, store: AuditStore, archive: Path) -> tuple[VerifyResult, HashAt]:
    from cockpit.audit import archive_read, span
    from cockpit.audit.sqlite import SqliteStore

    assert isinstance(store, SqliteStore)
    retention = getattr(ctx.settings, "retention", None)
    report = span.check_span(
        store, archive, deep=ctx.args.deep,
        unsigned_ok=bool(getattr(retention, "unsigned_purge", False)),
    )  # fmt: skip
    problem = "; ".join(report.problems)
    chain = VerifyResult(report.ok, report.last, report.head_hash, None, problem)
    live = store_hash_at(store)

    def hash_at(seq: int) -> str | None:
        found = live(seq)
        if found is None:
            sealed = archive_read.one(archive, seq)
            found = sealed.hash if sealed is not None else None
        return found

    return chain, hash_at
