"""SSH signatures for approvals and checkpoints, through `ssh-keygen -Y sign|verify`.

SSHSIG carries no time and no replay protection (PROTOCOL.sshsig), so an approval signs a
canonical payload holding the time, a nonce, the action, the target and the log head it
was made against; `verify_approval` checks freshness and refuses a nonce seen before.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cockpit.audit import canonical as c
from cockpit.audit.events import Actor, Target
from cockpit.errors import CockpitError
from cockpit.sanitize import clean

APPROVAL_NAMESPACE = "release-approval@cockpit"
PAYLOAD_TYPE = "cockpit-approval/v1"
_GOOD = re.compile(
    r'^Good "[^"]*" signature for (?P<principal>.+) with (?P<type>\S+) key (?P<fp>\S+)'
)
_ANY_KEY = re.compile(r'^Good "[^"]*" signature with (?P<type>\S+) key (?P<fp>\S+)')
TIMEOUT = 30.0


class SignatureError(CockpitError):
    """A signature could not be made, or did not verify. The message says why."""


@dataclass(frozen=True, slots=True)
class Verified:
    principal: str
    key_type: str  # as ssh-keygen names it: ED25519, ED25519-SK, RSA, ECDSA-SK ...
    key_fingerprint: str


def _ssh_keygen() -> str:
    path = shutil.which("ssh-keygen")
    if path is None:
        raise SignatureError("ssh-keygen is not installed (OpenSSH 8.8 or later is needed)")
    return path


def _run(args: list[str], payload: bytes) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            [_ssh_keygen(), *args], input=payload, capture_output=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise SignatureError("ssh-keygen timed out (is the agent waiting for a touch?)") from None


def _complaint(proc: subprocess.CompletedProcess[bytes]) -> str:
    text = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip().splitlines()
    return clean(text[-1] if text else f"ssh-keygen exit {proc.returncode}", limit=200)


def readable_key(key: str) -> None:
    """SignatureError unless `key` is a file this process can read: checked before a command
    does anything, so a mistyped path stops it before it verifies, writes or records."""
    try:
        with open(key, "rb") as f:
            f.read(1)
    except OSError as exc:
        raise SignatureError(f"cannot read the signing key {clean(key)}: {exc.strerror}") from None


def sign(payload: bytes, *, key: str | None, namespace: str) -> str:
    """The armored SSHSIG of `payload` by a key file, or a public key whose private half is
    in ssh-agent; with `key` None, the agent's first key."""
    with tempfile.TemporaryDirectory(prefix="cockpit-sign-") as tmp:
        if key is None:
            ssh_add = shutil.which("ssh-add")
            if ssh_add is None:
                raise SignatureError("ssh-add is not installed: cannot ask ssh-agent for a key")
            listed = subprocess.run(
                [ssh_add, "-L"], capture_output=True, timeout=TIMEOUT, check=False
            )
            first = listed.stdout.decode("utf-8", "replace").strip().splitlines()[:1]
            if listed.returncode != 0 or not first:
                raise SignatureError("no signing key given and ssh-agent has no keys")
            key = str(Path(tmp, "agent.pub"))
            Path(key).write_text(first[0] + "\n", encoding="utf-8")
        proc = _run(["-Y", "sign", "-q", "-n", namespace, "-f", key], payload)
    if proc.returncode != 0 or b"BEGIN SSH SIGNATURE" not in proc.stdout:
        raise SignatureError(f"signing failed: {_complaint(proc)}")
    return proc.stdout.decode("ascii")


def _verify_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%d%H%M%SZ")


def verify(
    payload: bytes,
    signature: str,
    *,
    principal: str,
    allowed_signers: str,
    namespace: str,
    at: datetime,
    revoked: str | None = None,
) -> Verified:
    """Check that `principal` signed `payload` in `namespace` with a key valid at `at` and
    not in the `revoked` key revocation list (a KRL or a file of public keys)."""
    with tempfile.TemporaryDirectory(prefix="cockpit-verify-") as tmp:
        sig = Path(tmp, "payload.sig")
        sig.write_text(signature, encoding="ascii")
        args = ["-Y", "verify", "-f", allowed_signers, "-I", principal, "-n", namespace]
        args += ["-s", str(sig), "-O", f"verify-time={_verify_time(at)}"]
        if revoked:
            args += ["-r", revoked]
        proc = _run(args, payload)
    match = _GOOD.match(proc.stdout.decode("utf-8", "replace"))
    if proc.returncode != 0 or match is None:
        raise SignatureError(f"signature rejected: {_complaint(proc)}")
    return Verified(match["principal"], match["type"], match["fp"])


def check_novalidate(payload: bytes, signature: str, *, namespace: str) -> Verified:
    """Check that `signature` is a good signature of `payload` by some key, without asking
    whose; the principal is empty and the key is named by its type and fingerprint."""
    with tempfile.TemporaryDirectory(prefix="cockpit-check-") as tmp:
        sig = Path(tmp, "payload.sig")
        sig.write_text(signature, encoding="ascii")
        proc = _run(["-Y", "check-novalidate", "-n", namespace, "-s", str(sig)], payload)
    match = _ANY_KEY.match(proc.stdout.decode("utf-8", "replace"))
    if proc.returncode != 0 or match is None:
        raise SignatureError(f"signature rejected: {_complaint(proc)}")
    return Verified("", match["type"], match["fp"])


def find_principals(signature: str, *, allowed_signers: str, at: datetime) -> list[str]:
    """The principals of allowed_signers whose key made `signature` (no payload check)."""
    with tempfile.TemporaryDirectory(prefix="cockpit-find-") as tmp:
        sig = Path(tmp, "payload.sig")
        sig.write_text(signature, encoding="ascii")
        args = ["-Y", "find-principals", "-f", allowed_signers, "-s", str(sig)]
        proc = _run([*args, "-O", f"verify-time={_verify_time(at)}"], b"")
    if proc.returncode != 0:
        return []
    return proc.stdout.decode("utf-8", "replace").split()


def approval_payload(
    *, action: str, target: Target, prev_hash: str, time: datetime, nonce: str | None = None
) -> bytes:
    """The canonical bytes an approver signs: what, where, which artifact, when, on which log."""
    return c.canonical(
        {
            "type": PAYLOAD_TYPE,
            "time": c.utc_text(time),
            "nonce": nonce or secrets.token_hex(16),
            "action": action,
            "target": c.plain(target.to_data(), redact=False),
            "prev_hash": prev_hash,
        }
    )


@dataclass(frozen=True, slots=True)
class SignedApproval:
    """A verified approval, ready to be written into an audit record."""

    payload: bytes
    signature: str
    verified: Verified
    nonce: str
    time: datetime

    def actor(self, base: Actor) -> Actor:
        return replace(
            base,
            principal=self.verified.principal,
            signature=self.signature,
            key_fingerprint=self.verified.key_fingerprint,
            key_type=self.verified.key_type,
        )

    def extra(self) -> dict[str, str]:
        """Stored in the record; the log refuses a second record with the same nonce."""
        return {"approval_nonce": self.nonce, "approval_payload": self.payload.decode("utf-8")}


def verify_approval(
    payload: bytes,
    signature: str,
    *,
    principal: str,
    allowed_signers: str,
    now: datetime,
    nonce_used: Callable[[str], bool],
    action: str | None = None,
    target: Target | None = None,
    namespace: str = APPROVAL_NAMESPACE,
    max_age: timedelta = timedelta(minutes=10),
    revoked: str | None = None,
) -> SignedApproval:
    """Verify a signed approval: fresh, unseen nonce, matching action and target, good key."""
    try:
        data = json.loads(payload)
        when = c.parse_utc(data["time"])
        nonce = str(data["nonce"])
    except (ValueError, KeyError, TypeError):
        raise SignatureError("the approval payload is not a cockpit approval") from None
    if data.get("type") != PAYLOAD_TYPE or len(nonce) < 16:
        raise SignatureError("the approval payload is not a cockpit approval")
    if action is not None and data.get("action") != action:
        raise SignatureError("the signed approval is for a different action")
    if target is not None and data.get("target") != target.to_data():
        raise SignatureError("the signed approval is for a different target")
    if when > now + timedelta(minutes=1):
        raise SignatureError("the approval is dated in the future")
    if now - when > max_age:
        raise SignatureError("the approval has expired; sign it again")
    if nonce_used(nonce):
        raise SignatureError("the approval's nonce was used before (replay)")
    verified = verify(
        payload,
        signature,
        principal=principal,
        allowed_signers=allowed_signers,
        namespace=namespace,
        at=when,
        revoked=revoked,
    )
    return SignedApproval(payload, signature, verified, nonce, when)
