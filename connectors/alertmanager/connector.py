"""The Alertmanager connector: alerts from API v2, and silences created and expired there."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx

from cockpit.clock import Clock
from cockpit.connect.http import Api
from cockpit.connector import Capability, Connector
from cockpit.errors import ConnectorError, Rejected, Unreachable
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import Action, ActionKind, ActionResult, Alert
from cockpit.sanitize import clean
from connectors.alertmanager import mapping
from connectors.alertmanager.options import AlertmanagerOptions

# Silence ids are UUIDs; anything else never reaches the URL path.
_SILENCE_ID = re.compile(r"\A[0-9A-Za-z-]{1,64}\Z")


class AlertmanagerConnector(Connector):
    """Polls GET /api/v2/alerts (active, silenced, inhibited and unprocessed alike); creates
    a silence matching one alert's labels exactly, and expires a silence by its id."""

    CAPABILITIES = frozenset({Capability.ALERTS})
    ACTIONS = frozenset({ActionKind.SILENCE, ActionKind.UNSILENCE})
    Options = AlertmanagerOptions
    DESCRIPTION = "Alertmanager (API v2): firing and pending alerts, silences; silence and expire"

    def __init__(
        self,
        name: str,
        options: AlertmanagerOptions,
        *,
        client: httpx.AsyncClient | None,
        clock: Clock,
    ) -> None:
        super().__init__(name, options, client=client, clock=clock)
        if client is None:
            raise ConnectorError(f"{name}: the Alertmanager connector needs an HTTP client")
        headers: dict[str, str] = {}
        secrets: tuple[str, ...] = ()
        if options.bearer_token is not None:
            token = options.bearer_token.reveal()
            headers["Authorization"] = f"Bearer {token}"
            secrets = (token,)
        elif options.username is not None and options.password is not None:
            password = options.password.reveal()
            pair = base64.b64encode(f"{options.username}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {pair}"
            secrets = (password, pair)
        self.api = Api(client, options.url, headers=headers, name=name, secrets=secrets)
        # fingerprint -> the alert's labels exactly as Alertmanager sent them: the matchers
        # of a silence must be the raw values, not the cleaned ones the screens show.
        self._labels: dict[str, dict[str, str]] = {}

    # Facts ------------------------------------------------------------------------------
    async def alerts(self) -> Sequence[Alert]:
        items = await self._fetch()
        now = self.clock.now()
        return tuple(mapping.alert(item, self.options, self.name, now) for item in items)

    async def _fetch(self) -> list[Mapping[str, Any]]:
        params = {"filter": list(self.options.filters)} if self.options.filters else None
        body = await self.api.get("/api/v2/alerts", params=params, conditional=False)
        if not isinstance(body, list) or not all(isinstance(i, Mapping) for i in body):
            raise Unreachable(f"{self.name}: GET /api/v2/alerts did not return a list of alerts")
        self._labels = {
            str(i["fingerprint"]): mapping.strings(i.get("labels"))
            for i in body
            if i.get("fingerprint")
        }
        return body

    # Actions ----------------------------------------------------------------------------
    def precheck(self, action: Action, snapshot: FleetSnapshot) -> str | None:
        if action.kind is ActionKind.SILENCE:
            span = mapping.silence_span(action.param("duration"), self.options.max_silence)
            if isinstance(span, str):
                return span
            if not action.remote_id:
                return "no alert fingerprint: which alert to silence?"
        elif action.kind is ActionKind.UNSILENCE and not _SILENCE_ID.match(action.remote_id):
            return f"{clean(action.remote_id) or 'no id'} is not a silence id"
        return None

    def warnings(self, action: Action) -> Sequence[str]:
        if action.kind is ActionKind.SILENCE:
            labels = self._labels.get(action.remote_id, {})
            matchers = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
            which = f"the labels {matchers}" if matchers else "this alert's labels"
            text = (
                f"Alertmanager notifies nobody for {action.param('duration')} about any alert "
                f"carrying {which}. The alert still counts in the alerts gate."
            )
            return (clean(text, limit=400),)
        if action.kind is ActionKind.UNSILENCE:
            return ("Alerts this silence held back notify their receivers again.",)
        return ()

    async def execute(self, action: Action) -> ActionResult:
        if action.kind is ActionKind.SILENCE:
            return await self._silence(action)
        if action.kind is ActionKind.UNSILENCE:
            return await self._unsilence(action)
        raise Rejected(f"{self.name} cannot {action.kind}")

    async def _silence(self, action: Action) -> ActionResult:
        why = self.precheck(action, FleetSnapshot.empty((), self.clock.now()))
        if why:
            raise Rejected(why)
        if not action.actor:
            raise Rejected("a silence names its creator: no operator given")
        span = mapping.silence_span(action.param("duration"), self.options.max_silence)
        assert isinstance(span, timedelta)  # precheck refused every other answer
        # Read the alert again: it may have resolved since the dialog opened.
        await self._fetch()
        labels = self._labels.get(action.remote_id)
        if not labels:
            raise Rejected(
                f"alert {clean(action.remote_id)} is no longer reported by {self.name}: "
                "nothing to silence"
            )
        now = self.clock.now()
        body = mapping.silence_body(labels, action, now, span)
        resp = await self.api.request("POST", "/api/v2/silences", json_body=body)
        sid = resp.body.get("silenceID") if isinstance(resp.body, Mapping) else None
        if not isinstance(sid, str) or not sid:
            raise Unreachable(f"{self.name}: POST /api/v2/silences answered without silenceID")
        until = (now + span).strftime("%Y-%m-%d %H:%M UTC")
        name = labels.get("alertname", action.remote_id)
        return ActionResult(True, clean(f"silence {sid} on {name} until {until}"), sid)

    async def _unsilence(self, action: Action) -> ActionResult:
        sid = action.remote_id
        if not _SILENCE_ID.match(sid):
            raise Rejected(f"{clean(sid) or 'no id'} is not a silence id")
        path = f"/api/v2/silence/{quote(sid)}"
        resp = await self.api.request("DELETE", path, expect_json=False, accept=(404, 500))
        # Alertmanager 0.25 answers an unknown id with 500 "silence not found"; later
        # versions with 404. Either way nothing was expired: the operator must know.
        text = resp.body if isinstance(resp.body, str) else ""
        if resp.status == 404 or (resp.status == 500 and "not found" in text.lower()):
            raise Rejected(f"silence {sid} not found on {self.name}")
        if resp.status == 500:
            said = clean(text.strip(), limit=200)
            raise Unreachable(f"{self.name}: DELETE {path} -> 500: server error: {said}")
        return ActionResult(True, f"silence {sid} expired", sid)
