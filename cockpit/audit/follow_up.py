"""`cockpit audit follow-up SEQ --ticket T`: link a hotfix to its follow-up ticket."""

from __future__ import annotations

from cockpit import __version__
from cockpit.actions.identity import current_actor
from cockpit.audit.commands import Context
from cockpit.audit.events import AuditEvent, EventType
from cockpit.audit.records import AuditError
from cockpit.cli.exits import Exit
from cockpit.sanitize import clean


def follow_up(ctx: Context) -> int:
    """Append a record linking hotfix record SEQ (any record of that attempt) to its ticket."""
    args = ctx.args
    ticket = clean(args.ticket).strip()
    if not ticket:
        raise AuditError("--ticket must name the follow-up ticket")
    with ctx.reader() as store:
        found = [r for r in store.records(after_seq=args.seq - 1, limit=1) if r.seq == args.seq]
        if not found:
            raise AuditError(f"no record {args.seq}")
        hotfix = found[0]
        if hotfix.policy.get("lane") != "hotfix" or not hotfix.request_id:
            raise AuditError(f"record {args.seq} is not a hotfix (its policy names no hotfix lane)")
        t = hotfix.target
        attempt = [
            r
            for r in store.records(
                service=t.service if t else None, environment=t.environment if t else None
            )
            if r.request_id == hotfix.request_id
        ]
        if not any(r.event_type is EventType.ACTION_REQUESTED for r in attempt):
            raise AuditError(f"record {args.seq} is a hotfix that never ran: no follow-up is due")
        for r in store.records(event_types=[EventType.HOTFIX_FOLLOW_UP]):
            if r.extra.get("hotfix_request_id") == hotfix.request_id:
                raise AuditError(
                    f"hotfix record {args.seq} already has follow-up {r.ticket} (record {r.seq})"
                )
    event = AuditEvent(
        EventType.HOTFIX_FOLLOW_UP,
        current_actor(__version__),
        hotfix.target,
        "hotfix.follow_up",
        "recorded",
        reason=args.reason or "",
        ticket=ticket,
        extra={
            "hotfix_seq": attempt[-1].seq,
            "hotfix_request_id": hotfix.request_id,
            "hotfix_ticket": hotfix.ticket,
        },
    )
    with ctx.writer() as store:
        written = store.append(event)
    where = f" ({t.service}/{t.environment} {t.to_version})" if t else ""
    print(
        clean(
            f"record {written.seq}: follow-up {ticket} for hotfix record {attempt[-1].seq}{where}"
        )
    )
    return Exit.OK
