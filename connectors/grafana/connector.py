"""The Grafana connector: reads annotations over the lookback, annotates successful actions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

import httpx

from cockpit.clock import Clock
from cockpit.connect.http import Api
from cockpit.connector import ActionDone, Capability, Connector
from cockpit.errors import ConnectorError, Unreachable
from cockpit.model import Annotation
from connectors.grafana import mapping
from connectors.grafana.options import GrafanaOptions

PATH = "/api/annotations"


class GrafanaConnector(Connector):
    """Annotations of one Grafana organization; writes one per successful cockpit action."""

    CAPABILITIES = frozenset({Capability.ANNOTATIONS})
    Options = GrafanaOptions
    DESCRIPTION = "Grafana: annotations for the timeline; annotates each successful action"

    def __init__(
        self,
        name: str,
        options: GrafanaOptions,
        *,
        client: httpx.AsyncClient | None,
        clock: Clock,
    ) -> None:
        super().__init__(name, options, client=client, clock=clock)
        if client is None:
            raise ConnectorError(f"{name}: the Grafana connector needs an HTTP client")
        token = options.token.reveal()
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if options.org_id is not None:
            headers["X-Grafana-Org-Id"] = str(options.org_id)
        self.api = Api(client, options.url, headers=headers, name=name, secrets=(token,))
        # id -> (the item as read, its Annotation): an unchanged one keeps its object, so
        # the hub neither cleans it again nor sees a change.
        self._seen: dict[str, tuple[Mapping[str, object], Annotation]] = {}

    async def annotations(self) -> Sequence[Annotation]:
        now = self.clock.now()
        since = now - timedelta(seconds=float(self.options.lookback))
        params = {
            "from": mapping.epoch_ms(since),
            "to": mapping.epoch_ms(now),
            "limit": self.options.limit,
            "type": "annotation",  # alert state changes are the alert connectors' business
        }
        # Not conditional: `from` and `to` move every poll, so an ETag could never match.
        body = await self.api.get(PATH, params=params, conditional=False)
        if not isinstance(body, list):
            raise Unreachable(f"{self.name}: GET {PATH} did not return a list")
        seen: dict[str, tuple[Mapping[str, object], Annotation]] = {}
        for item in body[: self.options.limit]:
            ident = str(item.get("id")) if isinstance(item, Mapping) else ""
            old = self._seen.get(ident)
            if old is not None and old[0] == item:
                seen[ident] = old
                continue
            found = mapping.annotation(item, self.name, now)
            if found is not None:
                seen[found.id] = (item, found)
        self._seen = seen
        return tuple(a for _, a in seen.values())

    async def action_done(self, done: ActionDone) -> None:
        wanted = self.options.environments
        if wanted and done.action.environment not in wanted:
            return
        await self.api.request("POST", PATH, json_body=mapping.body(done, self.options))
