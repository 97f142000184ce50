"""`cockpit audit report --pack FILE.zip`: the evidence pack an auditor checks on their own.

One zip, written to a temporary file beside FILE and renamed into place (a failure leaves
no half pack, and an older FILE untouched): report.html, records.jsonl, changes.csv,
verify.txt (what `cockpit audit verify` printed, run here), checkpoint.txt, controls.json,
MANIFEST.json (parameters and every file's SHA-256) and MANIFEST.sha256 (for sha256sum -c).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import io
import json
import os
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from contextlib import redirect_stdout, suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cockpit.audit import archive_read, export, report
from cockpit.audit.canonical import utc_text
from cockpit.audit.checkpoint import Checkpoint
from cockpit.audit.commands import Context, verify
from cockpit.audit.events import EventType
from cockpit.audit.pack_controls import STEPS, attempts, control_map, parse_controls
from cockpit.audit.pack_exceptions import KINDS, exceptions
from cockpit.audit.pack_html import to_html
from cockpit.audit.pack_model import Contents, LogIdentity, controls_json
from cockpit.audit.records import AuditError, AuditRecord, VerifyResult
from cockpit.cli.common import resolve_when
from cockpit.cli.exits import Exit
from cockpit.sanitize import clean

PACK_FORMAT = "cockpit-evidence-pack/1"
# A change's records before the period (its request and approvals): two-person requests
# stay open 24 h (cockpit.actions.twoperson.OPEN_FOR). After it: its outcome record, which
# the executor writes within its action timeout.
BEFORE, AFTER = timedelta(hours=24), timedelta(hours=1)
CONTENT = ("report.html", "records.jsonl", "changes.csv", "verify.txt", "checkpoint.txt")


def pack_cmd(ctx: Context) -> int:
    args = ctx.args
    if args.format or args.output:
        raise AuditError("--pack writes its own files: drop --format and -o")
    try:
        controls = parse_controls(args.controls)
    except ValueError as exc:
        raise AuditError(f"--controls: {exc}") from None
    if args.sign_key:  # the key signs last, after verify ran (and was recorded): check it now
        from cockpit.audit.sshsig import SignatureError, readable_key

        try:
            readable_key(args.sign_key)
        except SignatureError as exc:
            raise AuditError(f"no pack written: {exc}") from None
    now = ctx.clock.now()
    since = resolve_when(args.since, now) or now - timedelta(days=30)
    until = resolve_when(args.until, now) or now
    anchor_path, anchor_note, problems = _anchor(ctx)
    transcript, verify_exit = _verify_transcript(ctx, anchor_path)
    if verify_exit != Exit.OK:
        problems.append(transcript.splitlines()[1] if "\n" in transcript else transcript)
    with ctx.reader() as store:
        verified = store.verify()
        # Sealed records (cockpit audit seal) come from the archive's segments, the rest
        # from the live log; verify.txt (span-aware) vouches for both.
        archive = ctx.archive_dir()
        period = list(archive_read.across(store, archive, since, until))
        before = archive_read.across(store, archive, since - BEFORE, since, STEPS)
        after = archive_read.across(store, archive, until, until + AFTER, STEPS)
        context = attempts([*before, *period, *after])
        follow_up = [EventType.HOTFIX_FOLLOW_UP]
        follow_ups = list(archive_read.across(store, archive, since, None, follow_up))
        origin = store.origin
    if verified.ok and verify_exit != Exit.OK:  # intact alone, but not with its checkpoint
        why = problems[-1].removeprefix("audit log NOT intact: ")
        verified = VerifyResult(False, verified.count, verified.head_hash, None, why)
    elif not verified.ok and verified.describe() not in problems:
        problems.append(verified.describe())
    checkpoint_text, checkpoint_note = _checkpoint(ctx, origin, verified, anchor_path, anchor_note)
    built = report.build(
        period,
        production=ctx.production(),
        since=since,
        until=until,
        now=now,
        verified=verified,
        follow_ups=follow_ups,
    )
    changes = control_map(
        period, context, production=ctx.production(), verified=verified, controls=controls
    )
    contents = Contents(
        since=utc_text(since),
        until=utc_text(until),
        generated=utc_text(now),
        controls=controls,
        log=LogIdentity(origin, verified.count, verified.head_hash, verified.ok),
        verify_transcript=transcript,
        verify_ok=verify_exit == Exit.OK and verified.ok,
        checkpoint_text=checkpoint_text,
        checkpoint_note=checkpoint_note,
        changes=changes,
        findings=exceptions(built, period, context, changes, problems),
        report=built,
    )
    files = _files(contents, period)
    manifest = _manifest(contents, files, ctx, len(period))
    files["MANIFEST.json"] = manifest
    files["MANIFEST.sha256"] = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in files.items()
    ).encode()
    digest = write_zip(Path(args.pack), files, now)
    counts = {k: len(contents.findings_of(k)) for k in KINDS}
    print(
        clean(
            f"evidence pack {args.pack}: {len(period)} records, {len(changes)} production "
            f"change(s), {len(contents.findings)} exception(s); sha256:{digest}"
        )
    )
    if not verified.ok:  # not recorded: nothing is appended to a log that is not intact
        print(clean(f"warning (pack not recorded): {verified.describe()}"), file=sys.stderr)
        return Exit.FAILED
    ctx.record(
        EventType.AUDIT_EXPORTED,
        "success",
        format="pack",
        since=contents.since,
        until=contents.until,
        controls=list(controls),
        records=len(period),
        changes=len(changes),
        exceptions=counts,
        checkpoint=checkpoint_note,
        sha256="sha256:" + digest,
        output=str(args.pack),
    )
    return Exit.OK


def _anchor(ctx: Context) -> tuple[str | None, str, list[str]]:
    """The checkpoint to verify against: --checkpoint FILE, else the newest one the log
    records writing to a file that is still there; with a note, and any problem found."""
    given = ctx.args.checkpoint
    if given:
        Checkpoint.parse(Path(given).read_text(encoding="utf-8"))  # unreadable: usage error
        return given, f"given: {given}", []
    with ctx.reader() as store:  # sealed checkpoint records count too, newest first
        kinds = [EventType.AUDIT_CHECKPOINT]
        made = list(archive_read.across(store, ctx.archive_dir(), event_types=kinds))[::-1][:50]
        origin = store.origin
    for r in made:
        path = str(r.extra.get("output", ""))
        if not path or path == "(stdout)" or not os.path.isfile(path):
            continue
        try:
            found = Checkpoint.parse(Path(path).read_text(encoding="utf-8"))
        except (AuditError, OSError, UnicodeDecodeError) as exc:
            return (
                None,
                "none",
                [f"the checkpoint record {r.seq} wrote, {path}, is unusable: {exc}"],
            )
        if found.origin == origin:
            return path, f"found: {path} (written as record {r.seq})", []
    return None, "none", []


def _verify_transcript(ctx: Context, anchor: str | None) -> tuple[str, int]:
    """Run `cockpit audit verify` here, on the same log, and keep what it printed."""
    sub = copy.copy(ctx)
    sub.args = argparse.Namespace(
        **{
            **vars(ctx.args),
            "audit_command": "verify",
            "checkpoint": anchor,
            "deep": False,
            "allowed_signers": None,
            "principal": None,
        }
    )
    out = io.StringIO()
    with redirect_stdout(out):
        code = verify(sub)
    command = "$ cockpit audit verify" + (f" --checkpoint {anchor}" if anchor else "")
    return f"{command}\n{out.getvalue()}exit {int(code)}\n", int(code)


def _checkpoint(
    ctx: Context, origin: str, verified: VerifyResult, given: str | None, note: str
) -> tuple[str, str]:
    """checkpoint.txt: the given one, else one made now (signed with --sign-key), else none."""
    if ctx.args.checkpoint:
        return Path(ctx.args.checkpoint).read_text(encoding="utf-8"), note
    if not verified.ok:
        return "", "none: no checkpoint is made of a log that is not intact"
    cp = Checkpoint(origin, verified.count, verified.head_hash, ctx.clock.now())
    if ctx.args.sign_key:
        from cockpit.audit.sshsig import SignatureError

        try:
            cp = cp.sign(ctx.args.sign_key)
        except SignatureError as exc:
            raise AuditError(f"no pack written: {exc}") from None
    made = f"made now at {cp.size} records" + (", signed" if cp.signature else "")
    verified_against = f"; verify.txt checked the one {note}" if given else ""
    return cp.serialize(), made + verified_against


def _files(contents: Contents, period: Sequence[AuditRecord]) -> dict[str, bytes]:
    jsonl, csv_text = io.StringIO(), io.StringIO()
    export.write_jsonl(period, jsonl)
    report.to_csv(contents.report, csv_text)
    names = [n for n in CONTENT if n != "checkpoint.txt" or contents.checkpoint_text]
    listed = [*names[1:], "controls.json", "MANIFEST.json", "MANIFEST.sha256"]
    files = {
        "report.html": to_html(contents, listed).encode(),
        "records.jsonl": jsonl.getvalue().encode(),
        "changes.csv": csv_text.getvalue().encode(),
        "verify.txt": contents.verify_transcript.encode(),
    }
    if contents.checkpoint_text:
        files["checkpoint.txt"] = contents.checkpoint_text.encode()
    files["controls.json"] = controls_json(contents).encode()
    return files


def _manifest(contents: Contents, files: dict[str, bytes], ctx: Context, records: int) -> bytes:
    data: dict[str, Any] = {
        "format": PACK_FORMAT,
        "generated": contents.generated,
        "parameters": {
            "since": contents.since,
            "until": contents.until,
            "controls": list(contents.controls),
            "environments": list(ctx.args.environments or []) or "the config's production",
            "checkpoint": contents.checkpoint_note,
            "log": ctx.path,
        },
        "log": vars(contents.log),
        "verify": {"intact": contents.verify_ok, "transcript": "verify.txt"},
        "counts": {
            "records": records,
            "changes": len(contents.changes),
            "exceptions": {k: len(contents.findings_of(k)) for k in KINDS},
        },
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for name, data in files.items()
        },
    }
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode()


def write_zip(path: Path, files: dict[str, bytes], when: datetime) -> str:
    """Write the zip beside `path` and rename it into place; its SHA-256 (hex)."""
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    stamp = when.timetuple()[:6]
    sha = hashlib.sha256()
    try:
        with os.fdopen(fd, "w+b") as raw:
            with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as z:
                for name, data in files.items():
                    info = zipfile.ZipInfo(name, date_time=stamp)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = 0o600 << 16  # audit data stays private
                    z.writestr(info, data)
            raw.flush()
            os.fsync(raw.fileno())
            raw.seek(0)
            for chunk in iter(lambda: raw.read(1 << 20), b""):
                sha.update(chunk)
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return sha.hexdigest()
