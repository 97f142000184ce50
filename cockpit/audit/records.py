"""An audit record: an event with its sequence number, time and place in the hash chain."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from json.scanner import make_scanner
from operator import itemgetter
from typing import Any, Generic, TypeVar

from cockpit.audit import canonical as c
from cockpit.audit.events import EMPTY_TARGET, Actor, AuditEvent, EventType, Target
from cockpit.errors import CockpitError

# Every key of a record body and the JSON type its value must have (R-B1: none is null).
SCHEMA: dict[str, type | tuple[type, ...]] = {
    "v": int,
    "seq": int,
    "ts": str,
    "event_type": str,
    "actor": dict,
    "target": dict,
    "action": str,
    "outcome": str,
    "reason": str,
    "ticket": str,
    "evidence": dict,
    "evidence_digest": str,
    "policy": dict,
    "request_id": str,
    "break_glass": bool,
    "extra": dict,
}
ACTOR_SCHEMA: dict[str, type | tuple[type, ...]] = {
    "user": str,
    "host": str,
    "ssh_client": str,
    "pid": int,
    "version": str,
    "principal": str,
    "signature": str,
    "key_fingerprint": str,
    "key_type": str,
    "agent_forwarded_suspected": bool,
}
TARGET_SCHEMA = dict.fromkeys(
    ("service", "environment", "from_version", "to_version", "digest", "source", "remote_id"), str
)
TS_FORMAT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")  # what utc_text writes


def _compiled(schema: Mapping[str, type | tuple[type, ...]]) -> tuple[int, Any, tuple[Any, ...]]:
    """A schema as its size, a getter of its values in schema order, and their types."""
    return len(schema), itemgetter(*schema), tuple(schema.values())


_COMPILED = (_compiled(SCHEMA), _compiled(ACTOR_SCHEMA), _compiled(TARGET_SCHEMA))
T = TypeVar("T")


class _Shared(Generic[T]):
    """One frozen object per distinct content of a record part, built on first sight.

    A log's records share a few actors and targets; a dict lookup instead of a frozen
    dataclass's __init__ each time saves 0.1 s of reading 20,000 records. The key is the
    part's values in schema order, and a part read here passed check_schema, so its types
    are fixed: no True posing as 1. Bounded: a log of all-distinct parts only clears it.
    """

    LIMIT = 4096

    def __init__(self, make: Callable[[Mapping[str, Any]], T], schema: Mapping[str, Any]):
        self._make, self._values = make, itemgetter(*schema)
        self._built: dict[tuple[Any, ...], T] = {}

    def __call__(self, part: Mapping[str, Any]) -> T:
        key = self._values(part)
        try:
            return self._built[key]
        except KeyError:
            if len(self._built) >= self.LIMIT:
                self._built.clear()
            made = self._built[key] = self._make(part)
            return made


_actor = _Shared(Actor.from_data, ACTOR_SCHEMA)
_target = _Shared(Target.from_data, TARGET_SCHEMA)


class AuditError(CockpitError):
    """The audit log cannot be written or read safely; the message says why."""


class DamagedLog(AuditError):
    """The log exists but its file or a record in it is damaged: a failed check, not a usage error."""


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """A record as stored: the canonical `body` is what the hash covers."""

    seq: int
    ts: datetime
    event_type: EventType
    actor: Actor
    target: Target | None
    action: str
    outcome: str
    reason: str
    ticket: str
    evidence: Mapping[str, Any]
    policy: Mapping[str, Any]
    request_id: str
    break_glass: bool
    extra: Mapping[str, Any]
    evidence_digest: str
    prev_hash: str  # hex
    hash: str  # hex
    body: bytes = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The body's fields plus prev_hash and hash: one line of a JSONL export."""
        data: dict[str, Any] = json.loads(self.body)
        data["prev_hash"] = self.prev_hash
        data["hash"] = self.hash
        return data

    def to_json(self) -> str:
        """One line of ASCII JSON (non-ASCII escaped), safe to print to a terminal."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))


def body_of(event: AuditEvent, seq: int, ts: datetime) -> bytes:
    """The canonical bytes of a new record."""
    return body_at(prepared(event), seq, ts)


def prepared(event: AuditEvent) -> dict[str, Any]:
    """Every field of the record but its place in the log (`seq`, `ts`), made plain.

    Making the event's values plain is most of the cost of a body (~250 of ~270 us for a
    promote with its gates); a writer that serialises appends does it before taking its
    lock, and only `body_at` under it."""
    evidence = c.plain(event.evidence)
    return {
        "v": c.FORMAT_VERSION,
        "event_type": str(event.event_type),
        "actor": c.plain(event.actor.to_data(), redact=False),
        "target": c.plain((event.target or EMPTY_TARGET).to_data(), redact=False),
        "action": c.plain(event.action),
        "outcome": c.plain(event.outcome),
        "reason": c.plain(event.reason),
        "ticket": c.plain(event.ticket),
        "evidence": evidence,
        "evidence_digest": c.digest(evidence),
        "policy": c.plain(event.policy),
        "request_id": c.plain(event.request_id),
        "break_glass": bool(event.break_glass),
        "extra": c.plain(event.extra),
    }


def body_at(fields: Mapping[str, Any], seq: int, ts: datetime) -> bytes:
    """The canonical bytes of the record `prepared` made, as record `seq` at `ts`."""
    data = {**fields, "seq": seq, "ts": c.utc_text(ts)}
    check_schema(data)
    return c.canonical(data)


def check_schema(data: Mapping[str, Any]) -> datetime:
    """The record's time; AuditError naming the first missing, null or mistyped field (R-B1)."""
    if not _types_fit(data):
        _raise_type_problem(data)
    if data["v"] != c.FORMAT_VERSION:
        raise AuditError(f"record format version {data['v']} is not known")
    if data["event_type"] not in EventType._value2member_map_:
        raise AuditError(f"event_type {data['event_type']!r} is not a known event type")
    if not data["outcome"]:
        raise AuditError("field outcome is empty")
    if not TS_FORMAT.fullmatch(data["ts"]):
        raise AuditError("field ts is not YYYY-MM-DDTHH:MM:SS.mmmZ")
    try:
        return c.parse_utc(data["ts"])
    except ValueError:
        raise AuditError(f"field ts {data['ts']!r} is not a real time") from None


def _types_fit(data: Mapping[str, Any]) -> bool:
    """Whether every part has exactly its schema's keys, each of exactly its type.

    What JSON decodes has exact types (no null, no bool where an int belongs), so this
    decides a stored record in a few C-level comparisons: reading 20,000 records took
    0.2 s in `_raise_type_problem`'s loop alone. Anything else (a str subclass, a tuple of
    types in a schema) takes that loop, which accepts it or names the problem."""
    actor, target = data.get("actor"), data.get("target")
    if type(data) is not dict or type(actor) is not dict or type(target) is not dict:
        return False
    (top_size, top, top_types), (actor_size, who, who_types), (target_size, on, on_types) = (
        _COMPILED
    )
    try:  # as many keys as the schema, and each of its keys (KeyError): exactly its keys
        return (
            len(data) == top_size
            and len(actor) == actor_size
            and len(target) == target_size
            and tuple(map(type, top(data))) == top_types
            and tuple(map(type, who(actor))) == who_types
            and tuple(map(type, on(target))) == on_types
        )
    except KeyError:
        return False


def _raise_type_problem(data: Mapping[str, Any]) -> None:
    for name, schema in (("", SCHEMA), ("actor.", ACTOR_SCHEMA), ("target.", TARGET_SCHEMA)):
        part = data if not name else data.get(name[:-1])
        if not isinstance(part, Mapping):
            raise AuditError(f"field {name[:-1]} is missing or not an object")
        for key, kind in schema.items():
            value = part.get(key)
            if value is None:
                raise AuditError(f"field {name}{key} is missing or null")
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise AuditError(
                    f"field {name}{key} is not of type {getattr(kind, '__name__', kind)}"
                )
        unknown = set(part) - set(schema)
        if unknown:
            raise AuditError(f"unknown field {name}{sorted(unknown)[0]}")


# The C scanner json.loads ends in, called without its Python layers (encoding detection,
# whitespace matching): 20,000 records 140 -> 100 ms.
_SCAN = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # typeshed: takes a decoder


def _decoded(body: bytes) -> Any:
    """json.loads(body). A body opening with "{" and no NUL after it is one json.loads reads
    as UTF-8, so it is scanned as that text at once; anything else (whitespace or more
    after the object, another encoding) goes through json.loads, errors and all."""
    if body[:1] == b"{" and body[1:2] != b"\x00":
        text = body.decode("utf-8", "surrogatepass")
        value, end = _SCAN(text, 0)
        if end == len(text):
            return value
    return json.loads(body)


def parse(body: bytes, prev_hash: bytes, hash_: bytes) -> AuditRecord:
    """The record stored as `body`; AuditError when it is not a valid record."""
    try:
        data = _decoded(body)
    except (ValueError, RecursionError):  # malformed JSON or UTF-8, or nested beyond reason
        raise AuditError("record body is not JSON") from None
    if not isinstance(data, dict):
        raise AuditError("record body is not a JSON object")
    ts = check_schema(data)
    return AuditRecord(
        seq=data["seq"],
        ts=ts,
        event_type=EventType._value2member_map_[data["event_type"]],  # type: ignore[arg-type]
        actor=_actor(data["actor"]),
        target=_target(data["target"]),
        action=data["action"],
        outcome=data["outcome"],
        reason=data["reason"],
        ticket=data["ticket"],
        evidence=data["evidence"],
        policy=data["policy"],
        request_id=data["request_id"],
        break_glass=data["break_glass"],
        extra=data["extra"],
        evidence_digest=data["evidence_digest"],
        prev_hash=prev_hash.hex(),
        hash=hash_.hex(),
        body=body,
    )


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of checking a log: `problem` says in words what is wrong, if anything."""

    ok: bool
    count: int  # records checked
    head_hash: str  # hex hash of the last good record (genesis when none)
    first_bad_seq: int | None = None
    problem: str = ""

    def describe(self) -> str:
        if self.ok:
            return f"audit log intact: {self.count} records, head {self.head_hash}"
        where = f"record {self.first_bad_seq}: " if self.first_bad_seq is not None else ""
        return f"audit log NOT intact: {where}{self.problem}"
