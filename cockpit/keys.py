"""Every key binding, by stable id: one table for the app, the help screen, config and docs.

Users remap a binding in config with `keys: {<id>: <key>}`; the id never changes.
Plain data (no textual) so config validation and the README can read it.
"""

from __future__ import annotations

from typing import NamedTuple


class KeySpec(NamedTuple):
    """One key binding: its stable id, the key, the action it runs and where it applies."""

    id: str
    key: str
    action: str
    description: str
    scope: str  # "app" or the screen it belongs to
    show: bool = True  # in the footer
    mutating: bool = False


VIEWS = (
    ("overview", "1", "Overview"),
    ("pipelines", "2", "Pipelines"),
    ("environments", "3", "Environments"),
    ("canary", "4", "Canary"),
    ("drift", "5", "Drift"),
    ("approvals", "6", "Approvals"),
    ("audit", "7", "Audit"),
    ("incident", "8", "Incident"),
)

APP_KEYS: tuple[KeySpec, ...] = (
    *(
        KeySpec(f"view.{name}", key, f"app.view('{name}')", title, "app", show=False)
        for name, key, title in VIEWS
    ),
    KeySpec("help", "question_mark", "app.help", "Help", "app"),
    KeySpec("refresh", "ctrl+r", "app.refresh_now", "Refresh", "app", show=False),
    KeySpec("sources", "ctrl+s", "app.sources", "Sources and their errors", "app", show=False),
    KeySpec(
        "canary.rollback",
        "B",
        "app.rollback_failing",
        "Roll back failing canary",
        "app",
        show=False,
        mutating=True,
    ),
    KeySpec("quit", "q", "app.quit", "Quit", "app"),
)

SCREEN_KEYS: tuple[KeySpec, ...] = (
    KeySpec("filter", "slash", "filter", "Filter", "list"),
    KeySpec("back", "escape", "back", "Back", "list", show=False),
    KeySpec("open", "enter", "open", "Open", "list", show=False),
)

ACTION_KEYS: tuple[KeySpec, ...] = (
    KeySpec("action.approve", "a", "approve", "Approve", "actions", mutating=True),
    KeySpec("action.reject", "x", "reject", "Reject", "actions", mutating=True),
    KeySpec("action.promote", "p", "promote", "Promote", "actions", mutating=True),
    KeySpec(
        "action.promote_full",
        "P",
        "promote_full",
        "Promote 100%",
        "actions",
        show=False,
        mutating=True,
    ),
    KeySpec("action.rollback", "b", "rollback", "Rollback", "actions", mutating=True),
    KeySpec("action.pause", "z", "pause", "Pause", "actions", show=False, mutating=True),
    KeySpec("action.resume", "u", "resume", "Resume", "actions", show=False, mutating=True),
    KeySpec("action.abort", "K", "abort", "Abort canary", "actions", show=False, mutating=True),
    KeySpec("action.sync", "s", "sync", "Sync", "actions", show=False, mutating=True),
    KeySpec(
        "action.rerun", "R", "rerun", "Re-run failed jobs", "actions", show=False, mutating=True
    ),
    KeySpec("action.restart", "T", "restart", "Restart", "actions", show=False, mutating=True),
    KeySpec("action.retry", "Y", "retry", "Retry canary", "actions", show=False, mutating=True),
    KeySpec(
        "action.silence", "S", "silence", "Silence alert", "actions", show=False, mutating=True
    ),
)

# Recorded in the audit log, but they change nothing in the fleet: not "actions".
INCIDENT_KEYS: tuple[KeySpec, ...] = (
    KeySpec("incident.open", "o", "open_incident", "Open incident", "incident"),
    KeySpec("incident.close", "c", "close_incident", "Close incident", "incident"),
)

# Read-only: what runs under a Deployment or Rollout, fetched when asked for.
DETAIL_KEYS: tuple[KeySpec, ...] = (
    KeySpec("service.pods", "d", "pods", "Pods and events", "service"),
    KeySpec("pods.logs", "l", "logs", "Follow pod log", "pods"),
)

ALL_KEYS: tuple[KeySpec, ...] = APP_KEYS + SCREEN_KEYS + ACTION_KEYS + INCIDENT_KEYS + DETAIL_KEYS
BY_ID = {k.id: k for k in ALL_KEYS}


def display(key: str) -> str:
    """A key as a person would write it: `?` for question_mark, `/` for slash."""
    names = {"question_mark": "?", "slash": "/", "escape": "esc", "enter": "enter"}
    return ",".join(names.get(k, k) for k in key.split(","))
