"""An independent verifier written from docs/audit-format.md alone, run on cockpit-written logs.

It imports nothing from cockpit.audit to read or check a log: only hashlib, json, base64
and sqlite3, and its own canonical encoder built from section 4 of the format document.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sqlite3
from pathlib import Path

from cockpit.audit import EventType
from cockpit.audit.sqlite import SqliteStore
from cockpit.clock import FixedClock

from .conftest import event

DOMAIN = bytes.fromhex("636f636b7069742d61756469742d763100")
GENESIS = bytes(32)
SHORT = {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r", 0x22: '\\"', 0x5C: "\\\\"}


def encode(value: object) -> str:
    """Section 4, by hand."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        assert abs(value) <= 2**53 - 1
        return str(value)
    if isinstance(value, str):
        out = []
        for ch in value:
            code = ord(ch)
            out.append(SHORT.get(code) or (f"\\u{code:04x}" if code < 0x20 else ch))
        return '"' + "".join(out) + '"'
    if isinstance(value, list):
        return "[" + ",".join(encode(v) for v in value) + "]"
    assert isinstance(value, dict), type(value)
    return "{" + ",".join(encode(k) + ":" + encode(value[k]) for k in sorted(value)) + "}"


def verify_db(path: Path, checkpoint: str | None = None) -> tuple[bool, int, str]:
    """Section 9: (ok, records checked, problem)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
        return False, 0, "the file is damaged"
    origin = db.execute("SELECT value FROM audit_meta WHERE key = 'origin'").fetchone()[0]
    hashes: dict[int, bytes] = {}
    prev, expected, last_ts = GENESIS, 1, ""
    rows = db.execute("SELECT seq, prev_hash, hash, CAST(body AS BLOB) FROM audit_log ORDER BY seq")
    for seq, prev_hash, hash_, body in rows:
        if seq != expected:
            return False, expected, f"record {expected} missing"
        record = json.loads(body)
        if record["seq"] != seq:
            return False, seq, f"record {seq} moved"
        if prev_hash != prev:
            return False, seq, f"record {seq}: broken link"
        if hashlib.sha256(DOMAIN + prev_hash + body).digest() != hash_:
            return False, seq, f"record {seq} edited"
        if record["ts"] < last_ts:
            return False, seq, f"record {seq}: time goes back"
        hashes[seq] = hash_
        prev, expected, last_ts = hash_, expected + 1, record["ts"]
    db.close()
    if checkpoint is not None:
        cp_origin, size, head, _time = checkpoint.split("\n")[:4]
        if cp_origin != origin:
            return False, 0, "another log"
        if int(size) >= expected:
            return False, expected, "truncated"
        if hashes.get(int(size), GENESIS) != base64.b64decode(head):
            return False, int(size), "rewritten"
    return True, expected - 1, ""


def test_the_documented_verifier_agrees_with_the_cockpit(db: Path, clock: FixedClock) -> None:
    with SqliteStore(str(db), clock=clock) as store:
        for n in range(20):
            clock.advance(0.5)
            store.append(
                event(n, reason=f"näive \x1b \u202e {n}", extra={"score": 0.5 + n, "neg": -n})
            )
        store.append(event(99, event_type=EventType.BREAKGLASS_USED, target=None, break_glass=True))
        cp = store.checkpoint().serialize()
        assert store.verify().ok
    assert verify_db(db, cp) == (True, 22, "")
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET body = replace(body, 'näive', 'naive') WHERE seq = 9")
    conn.commit()
    conn.close()
    assert verify_db(db) == (False, 9, "record 9 edited")
    with SqliteStore(str(db), clock=clock) as store:
        assert store.verify().first_bad_seq == 9


def test_the_documented_triggers_are_the_ones_a_new_log_has(db: Path, clock: FixedClock) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "audit-format.md").read_text(encoding="utf-8")
    documented = {
        " ".join(sql.split()) for sql in re.findall(r"^CREATE TRIGGER .*?END;", doc, re.M | re.S)
    }
    with SqliteStore(str(db), clock=clock):
        pass
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    stored = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    conn.close()
    assert documented == {" ".join(sql.split()) + ";" for (sql,) in stored}


def test_the_documented_encoder_reproduces_every_body(db: Path, clock: FixedClock) -> None:
    with SqliteStore(str(db), clock=clock) as store:
        store.append(event(1, reason='quote " backslash \\ tab \t nl \n bell \x07 del \x7f é 😀'))
        store.append(event(2, extra={"nested": {"b": [1, None, True], "a": "x"}, "Z": 1, "a": 2}))
        records = list(store.records())
    for record in records:
        assert encode(json.loads(record.body)).encode("utf-8") == record.body


def test_a_jsonl_export_verifies_by_re_encoding(
    db: Path, clock: FixedClock, tmp_path: Path
) -> None:
    from cockpit.audit.export import write_jsonl

    with SqliteStore(str(db), clock=clock) as store:
        for n in range(5):
            store.append(event(n, reason=f"ünïcode {n} \u2028"))
        out = tmp_path / "log.jsonl"
        with out.open("w") as f:
            write_jsonl(store.records(), f)
    prev = GENESIS
    for line in out.read_text().splitlines():
        data = json.loads(line)
        hash_, prev_hash = bytes.fromhex(data.pop("hash")), bytes.fromhex(data.pop("prev_hash"))
        assert prev_hash == prev
        assert hashlib.sha256(DOMAIN + prev_hash + encode(data).encode()).digest() == hash_
        prev = hash_
