"""Record schema (R-B1), canonical JSON and redaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from cockpit.audit import AuditError, AuditEvent, EventType
from cockpit.audit import canonical as c
from cockpit.audit.records import ACTOR_SCHEMA, SCHEMA, TARGET_SCHEMA, body_of, check_schema, parse
from cockpit.audit.sqlite import SqliteStore
from cockpit.connect.options import Secret

from .conftest import ACTOR, event

T = datetime(2026, 11, 26, 3, 0, 0, 123456, tzinfo=UTC)


def test_every_required_field_is_present_and_non_null() -> None:
    data = json.loads(body_of(event(), 7, T))
    for key in SCHEMA:
        assert data[key] is not None, key
    for key in ACTOR_SCHEMA:
        assert data["actor"][key] is not None, key
    for key in TARGET_SCHEMA:
        assert data["target"][key] is not None, key
    assert data["ts"] == "2026-11-26T03:00:00.123Z"
    assert data["seq"] == 7


def test_an_event_without_target_still_has_a_complete_target_object() -> None:
    data = json.loads(body_of(event(target=None), 1, T))
    assert data["target"] == dict.fromkeys(TARGET_SCHEMA, "")
    assert parse(body_of(event(target=None), 1, T), bytes(32), bytes(32)).target is None


@pytest.mark.parametrize(
    "path",
    [*SCHEMA, *(f"actor.{k}" for k in ACTOR_SCHEMA), *(f"target.{k}" for k in TARGET_SCHEMA)],
)
def test_schema_rejects_a_record_missing_any_field(path: str) -> None:
    data = json.loads(body_of(event(), 1, T))
    part = data
    *parents, key = path.split(".")
    for p in parents:
        part = part[p]
    del part[key]
    with pytest.raises(AuditError, match=key):
        check_schema(data)
    part[key] = None
    with pytest.raises(AuditError, match=key):
        check_schema(data)


def test_schema_rejects_wrong_types_unknown_fields_and_unknown_event_types() -> None:
    data = json.loads(body_of(event(), 1, T))
    with pytest.raises(AuditError, match="seq"):
        check_schema(data | {"seq": "1"})
    with pytest.raises(AuditError, match="seq"):
        check_schema(data | {"seq": True})
    with pytest.raises(AuditError, match="unknown field mood"):
        check_schema(data | {"mood": "happy"})
    with pytest.raises(AuditError, match="not a known event type"):
        check_schema(data | {"event_type": "action.vanished"})


def test_event_types_form_a_closed_set() -> None:
    with pytest.raises(ValueError):
        AuditEvent("action.vanished", ACTOR, None, "promote", "x")  # type: ignore[arg-type]
    assert AuditEvent("app.start", ACTOR, None, "start", "ok").event_type is EventType.APP_START  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="outcome"):
        AuditEvent(EventType.APP_START, ACTOR, None, "start", "")


def test_canonical_bytes_do_not_depend_on_key_order() -> None:
    a = {"b": 1, "a": {"y": [1, 2], "x": "é"}, "c": True}
    b = {"c": True, "a": {"x": "é", "y": [1, 2]}, "b": 1}
    assert c.canonical(a) == c.canonical(b) == '{"a":{"x":"é","y":[1,2]},"b":1,"c":true}'.encode()
    assert c.digest(a) == c.digest(b)


def test_floats_become_strings_and_big_integers_too() -> None:
    plain = c.plain({"score": 0.1 + 0.2, "nan": float("nan"), "inf": float("-inf"), "big": 2**60})
    assert plain == {
        "score": "0.30000000000000004",
        "nan": "NaN",
        "inf": "-Infinity",
        "big": str(2**60),
    }
    assert b"." not in c.canonical({"n": 3, "m": -(2**53 - 1)})


def test_control_characters_are_escaped_and_lone_surrogates_replaced() -> None:
    assert c.canonical({"r": "a\x1b[31m\n\x7f"}) == b'{"r":"a\\u001b[31m\\n\x7f"}'
    assert c.canonical({"r": "x\udc80y"}).decode().startswith('{"r":"x\ufffd')


def test_timestamps_are_utc_with_milliseconds_from_any_zone() -> None:
    from zoneinfo import ZoneInfo

    local = datetime(2026, 3, 29, 3, 30, 0, 999999, tzinfo=ZoneInfo("Europe/Berlin"))
    assert c.utc_text(local) == "2026-03-29T01:30:00.999Z"
    with pytest.raises(ValueError):
        c.utc_text(datetime(2026, 1, 1))


def test_secrets_are_redacted_from_extra_evidence_policy_and_reason(store: SqliteStore) -> None:
    token = "ghp_" + "Z" * 36
    record = store.append(
        event(
            reason=f"rotating {token}",
            extra={
                "githubToken": "plain-value-here",
                "api_key": "k-123",
                "headers": {"Authorization": "Bearer abcdefghijklmnopqrstuvwxyz"},
                "note": "curl -H 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123'",
                "ref": Secret("env:GITHUB_TOKEN"),
                "aws": "AKIAABCDEFGHIJKLMNOP",
                "passed": True,
                "tokens_used": 3,
            },
            evidence={"gitlab": "glpat-abcdefghijklmnopqrstu"},
        )
    )
    text = record.body.decode()
    for secret in (
        token,
        "plain-value-here",
        "k-123",
        "abcdefghijklmnopqrstuvwxyz",
        "AKIAABCDEF",
        "glpat-",
    ):
        assert secret not in text
    assert record.extra["passed"] is True and record.extra["tokens_used"] == 3
    assert record.extra["ref"] == c.REDACTED
    assert record.target is not None and record.target.digest.startswith("sha256:abab")


def test_record_round_trips_through_its_body(store: SqliteStore) -> None:
    record = store.append(event(3, break_glass=True))
    again = parse(record.body, bytes.fromhex(record.prev_hash), bytes.fromhex(record.hash))
    assert again == record
    assert again.evidence_digest == c.digest(again.evidence)
    line = json.loads(record.to_json())
    assert line["hash"] == record.hash and line["break_glass"] is True
    assert record.to_json().isascii()
