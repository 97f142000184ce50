"""Deployment approvals and protected environments -> pending approvals and protection text."""

from __future__ import annotations

from collections.abc import Sequence

from cockpit.model import PendingApproval
from connectors.gitlab.mapping import Context, Json, required_ts, short


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def rule_text(rule: Json) -> str:
    """One approval rule in words: "2 approvals required from group:release-managers"."""
    n = int(rule.get("required_approvals") or 0)
    desc = rule.get("access_level_description") or ""
    if rule.get("group_id") is not None:
        who = f"group:{desc or rule['group_id']}"
    elif rule.get("user_id") is not None:
        who = f"user:{desc or rule['user_id']}"
    else:
        who = f"role:{desc or rule.get('access_level')}"
    return f"{_plural(n, 'approval')} required from {who}"


def protection(env: Json) -> tuple[str, ...]:
    """A protected environment's rules, as the environments view shows them."""
    lines = [rule_text(r) for r in env.get("approval_rules") or []]
    count = int(env.get("required_approval_count") or 0)
    if not lines and count:
        lines.append(f"{_plural(count, 'approval')} required")
    deployers = [
        str(level.get("access_level_description") or level.get("access_level"))
        for level in env.get("deploy_access_levels") or []
    ]
    if deployers:
        lines.append("deploy allowed for " + ", ".join(deployers))
    return tuple(lines)


def _rules_total(rules: Sequence[Json]) -> int:
    return sum(int(r.get("required_approvals") or 0) for r in rules)


def required(detail: Json, protected: Json | None, approved: int) -> int:
    """How many approvals the deployment needs, from the most specific source there is."""
    summary = (detail.get("approval_summary") or {}).get("rules") or []
    if summary and _rules_total(summary):
        return _rules_total(summary)
    if protected is not None:
        total = _rules_total(protected.get("approval_rules") or [])
        if total or protected.get("required_approval_count"):
            return total or int(protected["required_approval_count"])
    pending = detail.get("pending_approval_count")
    if isinstance(pending, int) and pending + approved > 0:
        return pending + approved
    return 1


def approval(
    project: str, service: str, dep: Json, protected: Json | None, ctx: Context
) -> PendingApproval | None:
    """A blocked deployment (the full GET, with its approvals) as a pending approval."""
    env_name = str(dep["environment"]["name"])
    environment = ctx.environment(env_name)
    if environment is None:
        return None
    approved = tuple(
        str((a.get("user") or {}).get("username", ""))
        for a in dep.get("approvals") or []
        if a.get("status") == "approved"
    )
    pipeline = ((dep.get("deployable") or {}).get("pipeline") or {}).get("id")
    return PendingApproval(
        id=f"{ctx.source}:deployment:{dep['id']}",
        service=service,
        environment=environment,
        kind="deployment",
        title=f"Deploy {service} {short(dep['sha'])} to {env_name}",
        requested_by=str((dep.get("user") or {}).get("username", "")),
        requested_at=required_ts(dep["created_at"]),
        source=ctx.source,
        observed_at=ctx.now,
        version=short(dep["sha"]),
        run_id=f"{project}#{pipeline}" if pipeline is not None else "",
        remote_id=f"deployment:{dep['id']}",
        required=required(dep, protected, len(approved)),
        approvals=approved,
    )
