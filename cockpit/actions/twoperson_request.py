"""A two-person request as the audit log keeps it: the action to run, in plain data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from cockpit.model import Action, ActionKind


def action_to_data(action: Action) -> dict[str, Any]:
    data = {f.name: getattr(action, f.name) for f in fields(action)}
    data["kind"] = action.kind.value
    data["params"] = [list(p) for p in action.params]
    for personal in ("reason", "ticket", "actor"):
        data.pop(personal, None)
    return data


def action_from_data(data: Mapping[str, Any]) -> Action:
    known = {f.name for f in fields(Action)}
    kw = {k: v for k, v in data.items() if k in known}
    kw["kind"] = ActionKind(kw["kind"])
    kw["params"] = tuple(tuple(p) for p in kw.get("params", ()))
    return Action(**kw)


@dataclass(frozen=True)
class TwoPersonRequest:
    """An open request: the action to run once approved, and whether break-glass was asked."""

    action: Action
    break_glass: bool
    # Team mode: the database roles the store authenticated for the requester and for each
    # approval so far. Names are mapped by each host's own `identities:`, roles are not.
    requested_role: str = ""
    approved_roles: tuple[str, ...] = ()
