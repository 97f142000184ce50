"""Grafana connector: the contract, annotations read (epoch ms, tags) and written, errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from cockpit.clock import FixedClock
from cockpit.config import ConnectorSpec
from cockpit.connect import options as opt
from cockpit.connect.http_safety import CappedTransport
from cockpit.connector import ActionDone
from cockpit.errors import ConfigError, Unauthorized, Unreachable
from cockpit.fleet.hub import Hub
from cockpit.model import Action, ActionKind, ActionResult, Annotation, Environment
from cockpit.testing import ConnectorContract
from connectors.grafana import GrafanaConnector, GrafanaOptions
from tests.fixtures.grafana.fake import BASE, ENV, NOW, OPTIONS, TOKEN, GrafanaFake


class TestGrafanaContract(ConnectorContract):
    connector_class = GrafanaConnector
    options = OPTIONS
    env = ENV
    now = NOW

    def transport(self) -> Any:
        return GrafanaFake().transport()


def connector(fake: GrafanaFake, **extra: Any) -> GrafanaConnector:
    options = opt.parse(GrafanaOptions, {**OPTIONS, **extra})
    for secret in opt.secrets_of(options):
        secret.resolve(ENV)
    client = httpx.AsyncClient(transport=fake.transport())
    return GrafanaConnector("grafana", options, client=client, clock=FixedClock(NOW))


def done(**action: Any) -> ActionDone:
    fields: dict[str, Any] = {
        "kind": ActionKind.ROLLBACK,
        "service": "payments",
        "environment": "prod",
        "source": "argocd",
        "from_version": "1.4.2",
        "version": "1.4.1",
        "reason": "5xx since 1.4.2",
        "actor": "alice",
        **action,
    }
    return ActionDone(Action(**fields), ActionResult(True, "rolled back"), 123, NOW)


# Options ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"url": "grafana.acme.example"}, "url must start with https://"),
        ({"url": BASE + "/api"}, "without /api"),
        ({"limit": 0}, "limit must be between 1 and 10000"),
        ({"lookback": "0s"}, "lookback must be longer than 0s"),
        ({"token": "glsa_plaintext"}, "never as the value itself"),
        ({"dashbord_uid": "x"}, "did you mean 'dashboard_uid'"),
    ],
)
def test_options_refuse_what_cannot_work_with_a_one_line_reason(
    bad: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        opt.parse(GrafanaOptions, {**OPTIONS, **bad})
    assert message in str(err.value) and "\n" not in str(err.value)


def test_defaults_read_six_hours_and_500_annotations_and_annotate_every_environment() -> None:
    options = opt.parse(GrafanaOptions, dict(OPTIONS))
    assert (options.lookback, options.limit, options.environments) == (6 * 3600, 500, [])


# Reading ------------------------------------------------------------------------------
async def test_reads_the_lookback_in_epoch_milliseconds_with_bearer_token() -> None:
    fake = GrafanaFake()
    await connector(fake, lookback="2h", limit=50, org_id=3).annotations()
    (sent,) = fake.requests
    now_ms = int(NOW.timestamp()) * 1000
    assert sent.method == "GET" and sent.url.path == "/api/annotations"
    assert dict(sent.url.params) == {
        "from": str(now_ms - 2 * 3600 * 1000),
        "to": str(now_ms),
        "limit": "50",
        "type": "annotation",
    }
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["x-grafana-org-id"] == "3"


async def test_maps_id_time_region_end_text_tags_author_service_and_environment() -> None:
    found = {a.id: a for a in await connector(GrafanaFake()).annotations()}
    assert set(found) == {"1192", "1190", "1187"}, "the item with a string time is skipped"
    deploy = found["1187"]
    assert deploy.at == datetime(2026, 8, 24, 9, 20, tzinfo=UTC)
    assert deploy.end == datetime(2026, 8, 24, 9, 25, tzinfo=UTC)
    assert deploy.text == "Deploy web v2.4.0 to prod (run #412, CAB-2291)"
    assert deploy.tags == ("deploy", "service:web", "env:prod", "version:2.4.0")
    assert (deploy.service, deploy.environment, deploy.author) == ("web", "prod", "ci-bot")
    assert (deploy.source, deploy.observed_at) == ("grafana", NOW)
    flag = found["1190"]
    assert flag.end is None, "a point annotation's timeEnd equals its time"
    assert (flag.service, flag.environment, flag.author) == ("payments", "staging", "alice")
    drill = found["1192"]
    assert (drill.service, drill.environment, drill.author) == ("", "", "dba-oncall")


async def test_an_unchanged_annotation_keeps_its_object_between_polls() -> None:
    fake = GrafanaFake()
    grafana = connector(fake)
    first = {a.id: a for a in await grafana.annotations()}
    fake.annotations[0] = {**fake.annotations[0], "text": "drill over"}
    second = {a.id: a for a in await grafana.annotations()}
    assert second["1187"] is first["1187"] and second["1190"] is first["1190"]
    assert second["1192"].text == "drill over"


async def test_a_response_that_is_not_a_list_is_a_one_line_error() -> None:
    fake = GrafanaFake(annotations={"message": "maintenance"})  # type: ignore[arg-type]
    with pytest.raises(Unreachable, match="did not return a list"):
        await connector(fake).annotations()


async def test_more_items_than_the_limit_are_cut_to_the_limit() -> None:
    item = GrafanaFake().annotations[0]
    fake = GrafanaFake(annotations=[{**item, "id": n} for n in range(40)])
    assert len(await connector(fake, limit=25).annotations()) == 25


async def test_a_body_past_the_response_cap_is_refused_not_buffered() -> None:
    item = GrafanaFake().annotations[0]
    fake = GrafanaFake(annotations=[{**item, "id": n} for n in range(200)])
    options = opt.parse(GrafanaOptions, dict(OPTIONS))
    opt.secrets_of(options)[0].resolve(ENV)
    client = httpx.AsyncClient(transport=CappedTransport(fake.transport(), 16 * 1024))
    grafana = GrafanaConnector("grafana", options, client=client, clock=FixedClock(NOW))
    with pytest.raises(Unreachable, match="larger than 16 KiB"):
        await grafana.annotations()


async def test_hostile_annotation_text_is_cleaned_by_the_hub_and_cut() -> None:
    item = GrafanaFake().annotations[0]
    hostile = "\x1b]0;pwned\x07[bold]red[/]\u202eevil\n" + "A" * 1_000_000
    fake = GrafanaFake(
        annotations=[{**item, "text": hostile, "tags": ["service:\x1b[2Jweb", "[/]"]}]
    )
    options = opt.parse(GrafanaOptions, dict(OPTIONS))
    opt.secrets_of(options)[0].resolve(ENV)
    spec = ConnectorSpec("grafana", "grafana", GrafanaConnector, options, 60.0, 10.0, 180.0)
    hub = Hub(
        [spec],
        [Environment("prod", 0, production=True)],
        clock=FixedClock(NOW),
        client_factory=lambda _: httpx.AsyncClient(transport=fake.transport()),
    )
    try:
        snap = await hub.refresh()
    finally:
        await hub.stop()
    assert snap.sources["grafana"].ok
    (note,) = snap.annotations
    assert "\x1b" not in note.text and "\x07" not in note.text and "\u202e" not in note.text
    assert note.text.startswith("^[]0;pwned^G[bold]red[/]<U+202E>evil\n")
    assert len(note.text) <= 2000
    assert note.service == "^[[2Jweb" and note.tags == ("service:^[[2Jweb", "[/]")


# Errors ------------------------------------------------------------------------------------
async def test_a_refused_token_is_unauthorized_and_the_echoed_token_is_redacted() -> None:
    fake = GrafanaFake()
    grafana = connector(fake)
    grafana.api.headers["Authorization"] = f"Bearer {TOKEN}-revoked"
    with pytest.raises(Unauthorized) as err:
        await grafana.annotations()
    assert "401" in str(err.value) and TOKEN not in str(err.value)


async def test_a_token_without_annotations_create_is_named_in_the_error() -> None:
    grafana = connector(GrafanaFake(post_status=403))
    with pytest.raises(Unauthorized, match="annotations:create"):
        await grafana.action_done(done())


async def test_a_grafana_that_is_down_is_unreachable() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    options = opt.parse(GrafanaOptions, dict(OPTIONS))
    opt.secrets_of(options)[0].resolve(ENV)
    client = httpx.AsyncClient(transport=httpx.MockTransport(down))
    grafana = GrafanaConnector("grafana", options, client=client, clock=FixedClock(NOW))
    with pytest.raises(Unreachable, match="grafana: GET /api/annotations failed: ConnectError"):
        await grafana.annotations()


# Writing -----------------------------------------------------------------------------------
async def test_a_done_action_is_posted_as_one_annotation_in_epoch_milliseconds() -> None:
    fake = GrafanaFake()
    await connector(fake, tags=["team:payments", "cockpit"]).action_done(done(ticket="CHG-2291"))
    (sent,) = [r for r in fake.requests if r.method == "POST"]
    assert sent.url.path == "/api/annotations"
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert fake.posted == [
        {
            "time": int(NOW.timestamp()) * 1000,
            "tags": [
                "cockpit",
                "action:rollback",
                "service:payments",
                "env:prod",
                "version:1.4.1",
                "team:payments",
            ],
            "text": "rollback payments 1.4.2→1.4.1 in prod by alice: 5xx since 1.4.2 "
            "(CHG-2291, audit #123)",
        }
    ]


async def test_a_configured_dashboard_gets_the_annotation_instead_of_the_org() -> None:
    fake = GrafanaFake()
    await connector(fake, dashboard_uid="uGlb_lG7z").action_done(done())
    assert fake.posted[0]["dashboardUID"] == "uGlb_lG7z"


async def test_only_the_configured_environments_are_annotated() -> None:
    fake = GrafanaFake()
    grafana = connector(fake, environments=["prod"])
    await grafana.action_done(done(environment="staging"))
    assert fake.posted == []
    await grafana.action_done(done(environment="prod"))
    assert len(fake.posted) == 1


async def test_the_summary_stays_one_line_and_leaves_out_what_is_unknown() -> None:
    fake = GrafanaFake()
    grafana = connector(fake)
    await grafana.action_done(
        done(kind=ActionKind.SYNC, from_version="", version="", reason="drift\n\x1b[31mfix")
    )
    body = fake.posted[0]
    assert body["text"] == "sync payments in prod by alice: drift^J^[[31mfix (audit #123)"
    assert body["tags"] == ["cockpit", "action:sync", "service:payments", "env:prod"]


def test_the_action_time_is_whole_epoch_milliseconds_without_float_rounding() -> None:
    from connectors.grafana.mapping import epoch_ms

    at = datetime(2026, 8, 24, 9, 35, 1, 999_999, tzinfo=UTC)
    assert epoch_ms(at) == int(NOW.timestamp()) * 1000 + 1999


def test_the_contract_kit_catches_annotations_stamped_with_another_source() -> None:
    class Misnamed(GrafanaConnector):
        async def annotations(self) -> Sequence[Annotation]:
            return [replace(a, source="elsewhere") for a in await super().annotations()]

    class Kit(TestGrafanaContract):
        connector_class = Misnamed

    with pytest.raises(AssertionError, match="annotations: source 'elsewhere'"):
        Kit().test_poll_returns_an_observation_of_domain_objects()
