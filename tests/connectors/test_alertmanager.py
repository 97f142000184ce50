"""Alertmanager connector: the contract kit, recorded API v2 payloads mapped onto Alerts,
silences created and expired, and failures mapped onto the error tree."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx
import pytest

from cockpit.connect.options import parse
from cockpit.errors import ConfigError, Rejected, Unauthorized, Unreachable
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import Action, ActionKind, Alert, Severity
from cockpit.testing import ConnectorContract
from connectors.alertmanager import AlertmanagerConnector, AlertmanagerOptions
from connectors.alertmanager.mapping import SEVERITY
from tests.fixtures.alertmanager import fake as am
from tests.fixtures.alertmanager.fake import CREATED, NOW, SILENCED, TOKEN, FakeAlertmanager

WEB_ERRORS = "a91a93edded764e1"  # HighErrorRate, web, prod, severity page


class TestAlertmanagerContract(ConnectorContract):
    connector_class = AlertmanagerConnector
    options = am.OPTIONS
    env = am.ENV
    now = NOW

    def transport(self) -> Any:
        return FakeAlertmanager().transport()


async def alerts(fake: FakeAlertmanager | None = None, **extra: Any) -> dict[str, Alert]:
    async with am.connector(fake or FakeAlertmanager(), **extra) as c:
        return {a.fingerprint: a for a in await c.alerts()}


def silence(fingerprint: str = WEB_ERRORS, duration: str = "2h", **kw: Any) -> Action:
    return Action(
        ActionKind.SILENCE,
        "web",
        "prod",
        source="alertmanager",
        remote_id=fingerprint,
        params=(("duration", duration),),
        reason=kw.pop("reason", "rolling back web 2.4.0, errors are known"),
        actor=kw.pop("actor", "sam"),
        **kw,
    )


async def test_recorded_alerts_map_every_field() -> None:
    got = await alerts()
    web = got[WEB_ERRORS]
    assert (web.name, web.service, web.environment) == ("HighErrorRate", "web", "prod")
    assert web.severity is Severity.CRITICAL and web.state == "firing"
    assert web.started_at == datetime.fromisoformat("2026-08-24T10:05:30.123+00:00")
    assert web.ends_at == datetime.fromisoformat("2026-08-24T10:20:30.123+00:00")
    assert web.summary == "5xx ratio above 2% for 5m"  # summary before description
    assert web.url.startswith("http://prometheus:9090/graph?g0.expr=")
    assert web.labels == (
        ("alertname", "HighErrorRate"),
        ("env", "prod"),
        ("service", "web"),
        ("severity", "page"),
    )
    assert (web.source, web.observed_at) == ("alertmanager", NOW)
    assert not web.silenced and web.inhibited_by == ()


async def test_suppressed_alerts_still_fire_and_name_their_silences_and_inhibitors() -> None:
    got = await alerts()
    inhibited = got["39148defff60329e"]
    assert inhibited.state == "firing" and inhibited.inhibited_by == (WEB_ERRORS,)
    assert inhibited.summary == "p99 latency above 800ms for 10m"  # description when no summary
    silenced = got["5c0e7d1f2a3b4c6d"]
    assert silenced.state == "firing" and silenced.silenced and silenced.silenced_by == (SILENCED,)


async def test_unprocessed_is_pending_and_an_unknown_state_still_fires() -> None:
    fake = FakeAlertmanager()
    fake.alerts[1]["status"]["state"] = "flapping"  # a state some later server might add
    got = await alerts(fake)
    assert got["e82e2fac3af581ca"].state == "pending"
    assert got[WEB_ERRORS].state == "firing"


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("critical", Severity.CRITICAL),
        ("page", Severity.CRITICAL),
        ("ERROR", Severity.CRITICAL),
        ("warning", Severity.WARNING),
        ("warn", Severity.WARNING),
        ("info", Severity.INFO),
        ("none", Severity.INFO),
        ("P2", Severity.WARNING),
        ("", Severity.WARNING),
    ],
)
async def test_severity_words_map_and_anything_else_is_a_warning(
    word: str, expected: Severity
) -> None:
    fake = FakeAlertmanager()
    fake.alerts[1]["labels"]["severity"] = word
    assert (await alerts(fake))[WEB_ERRORS].severity is expected
    assert set(SEVERITY) == {"critical", "page", "error", "warning", "warn", "info", "none"}


async def test_severity_comes_from_the_configured_label() -> None:
    fake = FakeAlertmanager()
    fake.alerts[1]["labels"]["priority"] = "info"
    assert (await alerts(fake, severity_label="priority"))[WEB_ERRORS].severity is Severity.INFO


async def test_service_and_environment_come_from_the_first_label_present() -> None:
    got = await alerts()
    backlog = got["5c0e7d1f2a3b4c6d"]  # app= and environment=, the second names of each
    assert (backlog.service, backlog.environment) == ("payments", "staging")
    custom = await alerts(service_labels=["instance"], environment_labels=["severity"])
    assert (custom["e82e2fac3af581ca"].service, custom["e82e2fac3af581ca"].environment) == (
        "db1",
        "info",
    )


async def test_an_alert_naming_no_service_is_kept_with_an_empty_service() -> None:
    disk = (await alerts())["e82e2fac3af581ca"]
    assert (disk.name, disk.service, disk.environment) == ("DiskFull", "", "")


async def test_a_pinned_environment_wins_over_labels() -> None:
    got = await alerts(environment="prod")
    assert {a.environment for a in got.values()} == {"prod"}


async def test_filters_are_sent_as_repeated_filter_parameters() -> None:
    fake = FakeAlertmanager()
    await alerts(fake, filters=['team="shop"', 'env=~"prod|staging"'])
    sent = fake.requests[0].url.params.get_list("filter")
    assert sent == ['team="shop"', 'env=~"prod|staging"']


def test_options_refuse_credentials_in_the_url_and_an_api_path() -> None:
    with pytest.raises(ConfigError, match="without /api/v2"):
        parse(AlertmanagerOptions, {"url": "http://am:9093/api/v2"})
    with pytest.raises(ConfigError, match="not in the url"):
        parse(AlertmanagerOptions, {"url": "http://u:p@am:9093"})
    with pytest.raises(ConfigError, match="max_silence"):
        parse(AlertmanagerOptions, {"url": "http://am:9093", "max_silence": "30s"})
    with pytest.raises(ConfigError, match="did you mean 'service_labels'"):
        parse(AlertmanagerOptions, {"url": "http://am:9093", "service_label": ["x"]})


async def test_hostile_label_values_and_huge_bodies_never_crash() -> None:
    fake = FakeAlertmanager()
    evil = "[bold red]x[/]\x1b[2J\x07\u202e" + "A" * 200_000
    fake.alerts[1]["labels"].update({"alertname": evil, "service": evil, "severity": 7})
    fake.alerts[1]["annotations"] = {"summary": evil, "runbook": {"nested": True}}
    fake.alerts[0]["status"] = "not an object"
    fake.alerts[0]["startsAt"] = "yesterday"
    got = await alerts(fake)
    assert got[WEB_ERRORS].name == evil  # raw here: the hub cleans every fact it merges
    assert got[WEB_ERRORS].severity is Severity.WARNING  # 7 is no known word
    broken = got["39148defff60329e"]
    assert broken.state == "firing" and broken.started_at == NOW


async def test_the_hub_cleans_hostile_alert_text_before_any_screen_sees_it() -> None:
    from cockpit.config import ConnectorSpec
    from cockpit.fleet.hub import Hub
    from cockpit.model import Environment

    fake = FakeAlertmanager()
    fake.alerts[1]["labels"]["alertname"] = "Boom\x1b]8;;http://evil\x07[bold]x"
    spec = ConnectorSpec("alertmanager", "alertmanager", AlertmanagerConnector, am.options(),
                         30.0, 5.0, 90.0)  # fmt: skip
    hub = Hub(
        [spec],
        (Environment("prod", 0, True),),
        clock=am.FixedClock(NOW),
        client_factory=lambda s: httpx.AsyncClient(transport=fake.transport()),
    )
    try:
        snap = await hub.refresh()
    finally:
        await hub.stop()
    name = next(a.name for a in snap.alerts if a.fingerprint == WEB_ERRORS)
    assert "\x1b" not in name and "\x07" not in name and "[bold]" in name
    assert snap.cell("web", "prod").firing


async def test_a_body_that_is_not_a_list_of_alerts_is_unreachable() -> None:
    fake = FakeAlertmanager()
    fake.faults[("GET", "/api/v2/alerts")] = (200, b'{"alerts": []}', "application/json")
    with pytest.raises(Unreachable, match="did not return a list"):
        await alerts(fake)


@pytest.mark.parametrize(
    ("status", "body", "kind", "error", "words"),
    [
        (400, b'"bad matcher format: team=="', "application/json", Rejected, "bad matcher"),
        (401, b"Unauthorized\n", "text/plain", Unauthorized, "credentials refused"),
        (500, b"internal error", "text/plain", Unreachable, "server error"),
        (503, b"<html><title>503 Service Unavailable</title></html>", "text/html", Unreachable,
         "503 Service Unavailable"),
    ],
)  # fmt: skip
async def test_error_answers_map_onto_the_error_tree(
    status: int, body: bytes, kind: str, error: type[Exception], words: str
) -> None:
    fake = FakeAlertmanager()
    fake.faults[("GET", "/api/v2/alerts")] = (status, body, kind)
    with pytest.raises(error, match=words) as caught:
        await alerts(fake)
    assert str(status) in str(caught.value)


async def test_a_token_echoed_in_an_error_body_never_reaches_the_message() -> None:
    fake = FakeAlertmanager()
    echoed = f"bad header Authorization: Bearer {TOKEN}".encode()
    fake.faults[("GET", "/api/v2/alerts")] = (403, echoed, "text/plain")
    with pytest.raises(Unauthorized) as caught:
        await alerts(fake)
    assert TOKEN not in str(caught.value) and "***" in str(caught.value)


async def test_basic_auth_sends_the_pair_and_never_shows_the_password() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization", ""))
        return httpx.Response(401, text=request.headers.get("authorization", ""))

    opts = parse(
        AlertmanagerOptions,
        {"url": am.URL, "username": "cockpit", "password": "env:AM_PASSWORD"},
        env={"AM_PASSWORD": "pa55-w0rd"},
    )
    assert opts.password is not None
    opts.password.resolve({"AM_PASSWORD": "pa55-w0rd"})
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        c = AlertmanagerConnector("am", opts, client=client, clock=am.FixedClock(NOW))
        with pytest.raises(Unauthorized) as caught:
            await c.alerts()
    assert seen == ["Basic Y29ja3BpdDpwYTU1LXcwcmQ="]
    assert "Y29ja3BpdDpwYTU1LXcwcmQ=" not in str(caught.value)


# Silences ---------------------------------------------------------------------------------
async def test_silence_posts_the_alerts_labels_as_exact_matchers_by_the_operator() -> None:
    fake = FakeAlertmanager()
    async with am.connector(fake) as c:
        result = await c.execute(silence(ticket="INC-42"))
    (body,) = fake.posted()
    assert body == {
        "matchers": [
            {"name": "alertname", "value": "HighErrorRate", "isRegex": False, "isEqual": True},
            {"name": "env", "value": "prod", "isRegex": False, "isEqual": True},
            {"name": "service", "value": "web", "isRegex": False, "isEqual": True},
            {"name": "severity", "value": "page", "isRegex": False, "isEqual": True},
        ],
        "startsAt": "2026-08-24T10:12:00.000Z",
        "endsAt": "2026-08-24T12:12:00.000Z",
        "createdBy": "sam",
        "comment": "rolling back web 2.4.0, errors are known [ticket INC-42]",
    }
    assert result.ok and result.remote_id == CREATED
    assert result.message == f"silence {CREATED} on HighErrorRate until 2026-08-24 12:12 UTC"


async def test_silence_matchers_use_the_raw_label_values_not_the_cleaned_ones() -> None:
    fake = FakeAlertmanager()
    fake.alerts[1]["labels"]["instance"] = "db\x1b1"
    async with am.connector(fake) as c:
        await c.execute(silence())
    (body,) = fake.posted()
    assert {"name": "instance", "value": "db\x1b1", "isRegex": False, "isEqual": True} in body[
        "matchers"
    ]


@pytest.mark.parametrize(
    ("duration", "why"),
    [
        ("30s", "at least 1m"),
        ("25h", "at most 24h"),
        ("soon", "not a duration"),
        ("", "not a duration"),
    ],
)
async def test_silence_durations_outside_one_minute_to_the_maximum_are_refused(
    duration: str, why: str
) -> None:
    fake = FakeAlertmanager()
    async with am.connector(fake) as c:
        planned = c.precheck(silence(duration=duration), FleetSnapshot.empty((), NOW))
        with pytest.raises(Rejected, match=why):
            await c.execute(silence(duration=duration))
    assert planned is not None and why in planned
    assert fake.posted() == []


async def test_the_maximum_silence_is_configurable() -> None:
    async with am.connector(FakeAlertmanager(), max_silence="72h") as c:
        assert c.precheck(silence(duration="48h"), FleetSnapshot.empty((), NOW)) is None
        assert "at most 72h" in str(
            c.precheck(silence(duration="4d"), FleetSnapshot.empty((), NOW))
        )


async def test_silencing_an_alert_that_resolved_meanwhile_is_refused() -> None:
    fake = FakeAlertmanager()
    fake.alerts = [a for a in fake.alerts if a["fingerprint"] != WEB_ERRORS]
    async with am.connector(fake) as c:
        with pytest.raises(Rejected, match="no longer reported"):
            await c.execute(silence())
    assert fake.posted() == []


async def test_a_silence_alertmanager_refuses_maps_to_rejected_with_its_words() -> None:
    fake = FakeAlertmanager()
    for status, name in ((400, "silence_400.json"), (422, "silence_422.json")):
        fake.faults[("POST", "/api/v2/silences")] = (status, am.recorded(name), "application/json")
        async with am.connector(fake) as c:
            with pytest.raises(Rejected) as caught:
                await c.execute(silence())
        said = json.loads(am.recorded(name))
        words = said if isinstance(said, str) else said["message"]
        assert words in str(caught.value) and str(status) in str(caught.value)


async def test_the_warning_names_every_matcher_and_the_duration() -> None:
    async with am.connector(FakeAlertmanager()) as c:
        await c.alerts()
        (warning,) = c.warnings(silence(duration="90m"))
    assert "for 90m" in warning
    assert "alertname=HighErrorRate, env=prod, service=web, severity=page" in warning
    assert "still counts in the alerts gate" in warning


async def test_unsilence_deletes_the_silence_by_its_id() -> None:
    fake = FakeAlertmanager()
    action = Action(ActionKind.UNSILENCE, "payments", "staging", "alertmanager", remote_id=SILENCED)
    async with am.connector(fake) as c:
        result = await c.execute(action)
    assert (fake.requests[-1].method, fake.requests[-1].url.path) == (
        "DELETE",
        f"/api/v2/silence/{SILENCED}",
    )
    assert result.ok and result.remote_id == SILENCED and "expired" in result.message


@pytest.mark.parametrize("status", [404, 500])
async def test_unsilencing_an_unknown_silence_is_rejected(status: int) -> None:
    fake = FakeAlertmanager()
    unknown = "00000000-0000-0000-0000-000000000000"
    if status == 404:
        path = f"/api/v2/silence/{unknown}"
        fake.faults[("DELETE", path)] = (404, b'"silence not found"', "application/json")
    action = Action(ActionKind.UNSILENCE, "web", "prod", "alertmanager", remote_id=unknown)
    async with am.connector(fake) as c:
        with pytest.raises(Rejected, match="not found"):
            await c.execute(action)


async def test_a_silence_id_that_is_not_an_id_never_reaches_the_url() -> None:
    fake = FakeAlertmanager()
    action = Action(ActionKind.UNSILENCE, "web", "prod", "alertmanager", remote_id="../alerts")
    async with am.connector(fake) as c:
        assert "is not a silence id" in str(c.precheck(action, FleetSnapshot.empty((), NOW)))
        with pytest.raises(Rejected, match="is not a silence id"):
            await c.execute(action)
    assert fake.requests == []


async def test_a_silence_without_an_operator_is_refused() -> None:
    fake = FakeAlertmanager()
    async with am.connector(fake) as c:
        with pytest.raises(Rejected, match="creator"):
            await c.execute(replace(silence(), actor=""))
    assert fake.posted() == []
