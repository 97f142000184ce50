"""The palette's "Go to <service> in <env>": jump to any service by typing its name.

Service and environment names come from connectors: the hit is drawn from plain `Text`
(Textual's `Matcher.highlight` would parse them as markup) and its help names nobody.
"""

from __future__ import annotations

from functools import partial

from rich.text import Text
from textual.command import Hit, Hits, Provider

from cockpit.sanitize import clean
from screens.host import host_of
from screens.nocolor import prod_style

HELP = "Open the service detail: versions, canary, drift, alerts and history"


class ServiceJump(Provider):
    """One hit per (service, environment) cell that holds a deployment or a canary."""

    async def search(self, query: str) -> Hits:
        app = self.app
        snapshot = host_of(app).snapshot
        matcher = self.matcher(query)
        for service in snapshot.services:
            name = clean(service, limit=40)
            for env in snapshot.environments:
                cell = snapshot.cell(service, env.name)
                if cell.deployment is None and cell.canary is None:
                    continue
                where = clean(env.name, limit=20)
                title = f"Go to {name} in {where}"
                score = matcher.match(title)
                if score <= 0:
                    continue
                shown = Text("Go to ")
                shown.append(name, style="bold")
                shown.append(" in ")
                shown.append(where, style=prod_style(app) if env.production else "bold")
                yield Hit(
                    score,
                    shown,
                    partial(host_of(app).open_cell, service, env.name, prefer_canary=False),
                    text=title,
                    help=HELP,
                )
