"""`cockpit promote|rollback|approve|...`: the audited actions for scripts and people without a TTY.

Same executor, policy and audit as the keys in the TUI; no dialog, so `--yes` is required
and the reason is an option. Exit codes: 0 succeeded, 1 failed, 2 usage or config,
3 refused by policy, 4 waiting for another operator's approval (two-person rule).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from typing import TYPE_CHECKING, Any

from cockpit.cli.common import shared_options
from cockpit.cli.exits import Exit

if TYPE_CHECKING:
    from cockpit.actions.plan import Plan
    from cockpit.actions.policy import Decision
    from cockpit.config import Settings

CELL_ACTIONS = {
    "promote": "promote a canary one step (or --full), or the previous environment's version",
    "rollback": "roll back to the previous version (or --to VERSION); aborts an active canary",
    "pause": "pause a canary",
    "resume": "resume a paused canary",
    "abort": "abort a canary: all traffic back to stable",
    "sync": "sync a drifted deployment to its desired state",
    "restart": "restart a deployment's pods (Kubernetes `rollout restart`)",
    "retry": "retry an aborted canary rollout",
    "silence": "silence one alert (--alert) for --duration; it still counts in the alerts gate",
    "unsilence": "expire the silence that holds an alert (--alert; --silence when several do)",
}
ID_ACTIONS = {
    "approve": "approve a pending approval (ids: `cockpit status --json`, approvals[].id)",
    "reject": "reject a pending approval",
    "rerun": "re-run the failed jobs of a pipeline run (ids: pipelines.recent[].id)",
}


def add_parser(sub: Any) -> None:
    """One command per action, in the order help lists them."""
    for name, text in {**CELL_ACTIONS, **ID_ACTIONS}.items():
        p = sub.add_parser(
            name, help=text, description=text.capitalize() + ". Audited; needs --yes."
        )
        shared_options(p)
        p.set_defaults(run=run)
        if name in CELL_ACTIONS:
            p.add_argument("service")
            p.add_argument("environment")
        else:
            p.add_argument("id", metavar="APPROVAL_ID" if name != "rerun" else "RUN_ID")
        if name == "promote":
            p.add_argument("--full", action="store_true", help="promote a canary straight to 100%%")
            p.add_argument(
                "--hotfix",
                action="store_true",
                help="take the hotfix lane (policy.lanes.hotfix: its gates, approvals, ticket "
                "and follow-up due time); refused where policy has no such lane",
            )
        if name == "rollback":
            p.add_argument("--to", metavar="VERSION", help="the earlier version to roll back to")
        if name in ("silence", "unsilence"):
            p.add_argument(
                "--alert", required=True, help="the alert's name (alertname) or its fingerprint"
            )
        if name == "silence":
            p.add_argument(
                "--duration",
                required=True,
                help="how long: 30m, 2h, 1d (at least 1m, at most max_silence: 24h by default)",
            )
        if name == "unsilence":
            p.add_argument("--silence", default="", metavar="ID", help="which silence, if several")
        p.add_argument("--reason", required=True, help="why (required; recorded in the audit log)")
        p.add_argument("--ticket", default="", help="change ticket, e.g. CHG-1234")
        p.add_argument(
            "--break-glass",
            action="store_true",
            help="override a closed window or failed gate where policy allows; reported",
        )
        p.add_argument(
            "--confirm",
            metavar="SERVICE",
            help="the service name, where policy asks for a typed confirmation "
            "(by default: promote and sync in production)",
        )
        p.add_argument(
            "--yes", action="store_true", help="really do it (without it, only the plan is shown)"
        )
        p.add_argument(
            "--json",
            action="store_true",
            help="print the plan as JSON (gates with their facts, the decision) on stdout",
        )


def final_decision(decision: Decision, why: list[str]) -> str:
    """The decision in words, once the operator's answers (`why` they refuse) are counted."""
    if why:
        return "refused: " + "; ".join(why)
    if decision.needs_break_glass:
        return "allowed as break-glass: " + "; ".join(decision.glass_reasons)
    return decision.summary()


def print_plan_json(plan: Plan, why: list[str]) -> None:
    """The plan as one JSON document: what, the gates as the audit record keeps them (with
    their facts), and the decision the operator's answers meet."""
    import json

    from cockpit.sanitize import inert_json

    action = plan.action
    doc = {
        "title": plan.title,
        "action": action.kind.value,
        "service": action.service,
        "environment": action.environment,
        "from_version": plan.from_version,
        "to_version": plan.to_version,
        "digest": plan.digest,
        "decision": "refused" if why else plan.decision.outcome,
        "reasons": why or list(plan.decision.reasons),
        "notes": list(plan.decision.notes),
        "warnings": list(plan.warnings),
        **(
            {"policy_version": plan.decision.policy_version} if plan.decision.policy_version else {}
        ),
        **plan.evidence(),
    }
    print(inert_json(json.dumps(doc, indent=2, ensure_ascii=False)))


def run(args: argparse.Namespace) -> int:
    from cockpit.cli.common import load_settings
    from cockpit.sanitize import clean

    settings = load_settings(args)
    # First line: the fleet this acts on, so a wrong or missing -c is seen before --yes
    # (on stderr under --json, where stdout is the plan alone).
    print(
        "acts on: "
        + (f"config {clean(settings.file)}" if settings.file else "the built-in demo fleet"),
        file=sys.stderr if args.json else sys.stdout,
    )
    return asyncio.run(_run(args, settings))


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from cockpit import __version__
    from cockpit.actions import lanes, targets
    from cockpit.actions.identity import current_actor
    from cockpit.actions.outcome import PENDING, SUCCEEDED
    from cockpit.actions.policy import REFUSED
    from cockpit.model import ActionKind
    from cockpit.sanitize import clean
    from cockpit.wiring import wire

    actor = current_actor(__version__)
    # One settled look, then one action: plain polls, no streams or watches left open (a
    # source that published early, like the demo before its documents, is asked again).
    hub, executor, journal = wire(settings, actor=actor, read_only=args.read_only, live=False)
    try:
        # The two-person queue is read back from the log: open it before the one look, or
        # `approve ID` finds no request (an unusable log is reported by the first record).
        with contextlib.suppress(Exception):
            await journal.call(lambda store: store.head())
        await asyncio.gather(hub.settle(), executor.policy.refresh())  # team: stored policy
        snap = hub.snapshot
        kind = ActionKind(args.command)
        if args.command in CELL_ACTIONS:
            if kind is ActionKind.PROMOTE:
                built = targets.promote(snap, args.service, args.environment, full=args.full)
                if args.hotfix and not isinstance(built, str):
                    built = lanes.marked_hotfix(built)
            elif kind is ActionKind.ROLLBACK:
                built = targets.rollback(snap, args.service, args.environment, args.to)
            elif kind is ActionKind.SYNC:
                built = targets.sync(snap, args.service, args.environment)
            elif kind is ActionKind.RESTART:
                built = targets.restart(snap, args.service, args.environment)
            elif kind is ActionKind.RETRY:
                built = targets.retry(snap, args.service, args.environment)
            elif kind in (ActionKind.SILENCE, ActionKind.UNSILENCE):
                alert = targets.alert_named(snap, args.service, args.environment, args.alert)
                if isinstance(alert, str):
                    built = alert
                elif kind is ActionKind.SILENCE:
                    built = targets.silence(snap, alert, args.duration)
                else:
                    built = targets.unsilence(snap, alert, args.silence)
            else:
                built = targets.canary_action(snap, kind, args.service, args.environment)
        elif kind is ActionKind.RERUN:
            built = targets.rerun(snap, args.id)
        else:
            approval = next(
                (a for a in snap.approvals if a.id == args.id or a.remote_id == args.id), None
            )
            built = (
                targets.decide(approval, kind) if approval else f"no pending approval {args.id!r}"
            )
        if isinstance(built, str):
            print(f"cockpit: {clean(built)}", file=sys.stderr)
            return Exit.USAGE
        await executor.identify()  # team mode: the store's role is who acts, not the OS user
        plan = executor.plan(built)
        # The decision printed is the one --yes would meet: policy, the connector's own
        # checks, the reason rule and the typed confirmation, never "allowed" then refused.
        why = plan.refusal_for(args.reason, args.confirm, args.break_glass, args.ticket)
        if args.json:
            print_plan_json(plan, why)
        else:
            print(clean(plan.title))
            if plan.decision.lane:
                print(f"lane: {clean(plan.decision.lane.rules())}")
            for gate in plan.decision.gates:
                print(f"  {gate.status.value:<8} {clean(gate.name)}: {clean(gate.evidence)}")
            if plan.decision.policy_version:  # team mode: which stored version decides
                print(f"decided under: {clean(plan.decision.policy_version)}")
            print(f"policy: {clean(final_decision(plan.decision, why))}")
            for warning in plan.warnings:
                print(f"warning: {clean(warning)}")
        if plan.decision.typed_confirmation and args.confirm is None:
            print(
                f"cockpit: {clean(plan.action.environment) or 'this environment'} asks for a "
                f"typed confirmation: add --confirm {plan.confirmation_word}",
                file=sys.stderr,
            )
        if not args.yes:
            print("nothing done: add --yes to execute", file=sys.stderr)
            return Exit.REFUSED if why else Exit.OK
        # Refused or not, the attempt goes to the executor, which audits the refusal too.
        outcome = await executor.submit(
            plan,
            reason=args.reason,
            ticket=args.ticket,
            break_glass=args.break_glass,
            confirmation=args.confirm,
        )
        stream = sys.stdout if outcome.status in (SUCCEEDED, PENDING) else sys.stderr
        message = clean(outcome.message)
        print(
            message if message.startswith(outcome.status) else f"{outcome.status}: {message}",
            file=stream,
        )
        return {
            SUCCEEDED: Exit.OK,
            REFUSED: Exit.REFUSED,
            PENDING: Exit.PENDING,
            "approved": Exit.PENDING,
        }.get(outcome.status, Exit.FAILED)
    finally:
        await hub.stop()
        journal.close()
