"""The checks of config's sections that stand on their own: identities, retention, checkpoints,
the controller, webhooks and the team store (each section's own module says what is wrong;
this names the place as `file:line: section.key`) and the secrets they hold, resolved."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from cockpit import anchors_config, retention_config
from cockpit.actions import people
from cockpit.config_secrets import resolve_secrets_in
from cockpit.connect import options as opt
from cockpit.connect.options import LineMap
from cockpit.controller import config as controller_config
from cockpit.controller import webhooks_config
from cockpit.team import store_config

if TYPE_CHECKING:
    from cockpit.config_file import ConfigFile


def section_problems(
    raw: ConfigFile,
    lines: LineMap,
    problems: opt.Problems,
    known_envs: Collection[str] | None,
    env: Mapping[str, str],
    resolve_secrets: bool,
) -> None:
    """Add every problem of these sections to `problems`; resolve their secrets if asked."""
    for place, why in people.problems(raw.identities):
        problems.add(lines.error(("identities", *place), why))
    for member, why in people.db_member_problems(raw.policy.roles, raw.store is not None):
        problems.add(lines.error(("policy", "roles", *member), why))
    for key, why in retention_config.problems(raw.retention):
        problems.add(lines.error(("retention", key), why))
    for key, why in anchors_config.problems(raw.checkpoints, check_files=resolve_secrets):
        problems.add(lines.error(("checkpoints", key), why))
    for key, why in controller_config.problems(raw.controller):
        problems.add(lines.error(("controller", key), why))
    for hook_key, why in webhooks_config.problems(raw.webhooks, known_envs):
        problems.add(lines.error(("webhooks", *hook_key), why))
    if resolve_secrets:
        resolve_secrets_in(raw.webhooks, lines, ("webhooks",), env, problems)
    if raw.store is not None:
        for key, why in store_config.problems(raw.store, check_files=resolve_secrets):
            problems.add(lines.error(("store", key), why))
        if resolve_secrets:
            resolve_secrets_in(raw.store, lines, ("store",), env, problems)
