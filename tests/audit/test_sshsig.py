"""SSH-signed approvals and checkpoints, checked by the real ssh-keygen (R-B6)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from cockpit.audit import AuditError, Target, sshsig
from cockpit.audit.checkpoint import CHECKPOINT_NAMESPACE
from cockpit.audit.sqlite import SqliteStore
from cockpit.audit.sshsig import APPROVAL_NAMESPACE, SignatureError
from cockpit.clock import FixedClock

from .conftest import ACTOR, PROD, event, need


@dataclass
class Keys:
    alice: Path  # private key files; .pub next to them
    bob: Path
    allowed: Path  # allowed_signers: alice for approvals and checkpoints, bob for approvals


def keygen(path: Path, comment: str) -> Path:
    subprocess.run(
        [need("ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
    )
    return path


def pub(key: Path) -> str:
    kind, blob, *_ = Path(f"{key}.pub").read_text().split()
    return f"{kind} {blob}"


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    alice = keygen(tmp_path / "alice", "alice@corp")
    bob = keygen(tmp_path / "bob", "bob@corp")
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(
        f'alice@corp namespaces="{APPROVAL_NAMESPACE},{CHECKPOINT_NAMESPACE}" {pub(alice)}\n'
        f'bob@corp namespaces="{APPROVAL_NAMESPACE}" {pub(bob)}\n'
    )
    return Keys(alice, bob, allowed)


def approve(
    keys: Keys, clock: FixedClock, store: SqliteStore, key: Path | None = None, **kw: object
) -> tuple[bytes, str]:
    head = store.head()
    assert head is not None
    payload = sshsig.approval_payload(
        action="promote", target=PROD, prev_hash=head.hash, time=clock.now()
    )
    namespace = str(kw.pop("namespace", APPROVAL_NAMESPACE))
    return payload, sshsig.sign(payload, key=str(key or keys.alice), namespace=namespace)


def check(
    payload: bytes, sig: str, keys: Keys, clock: FixedClock, store: SqliteStore, **kw: object
) -> sshsig.SignedApproval:
    args: dict[str, object] = {
        "principal": "alice@corp",
        "allowed_signers": str(keys.allowed),
        "now": clock.now(),
        "nonce_used": store.nonce_used,
        "action": "promote",
        "target": PROD,
    }
    args.update(kw)
    return sshsig.verify_approval(payload, sig, **args)  # type: ignore[arg-type]


def test_a_good_signature_verifies_and_is_recorded(
    keys: Keys, clock: FixedClock, store: SqliteStore
) -> None:
    payload, sig = approve(keys, clock, store)
    clock.advance(30)
    signed = check(payload, sig, keys, clock, store)
    assert signed.verified.principal == "alice@corp"
    assert signed.verified.key_type == "ED25519"
    assert signed.verified.key_fingerprint.startswith("SHA256:")
    record = store.append(event(1, actor=signed.actor(ACTOR), extra=signed.extra()))
    assert (
        record.actor.principal == "alice@corp" and "BEGIN SSH SIGNATURE" in record.actor.signature
    )
    assert record.extra["approval_payload"] == payload.decode()
    assert sshsig.find_principals(sig, allowed_signers=str(keys.allowed), at=clock.now()) == [
        "alice@corp"
    ]
    assert store.verify().ok


def test_the_wrong_namespace_is_rejected(keys: Keys, clock: FixedClock, store: SqliteStore) -> None:
    payload, sig = approve(keys, clock, store, namespace="git")
    with pytest.raises(SignatureError, match="rejected"):
        check(payload, sig, keys, clock, store)


def test_a_key_outside_its_namespaces_option_is_rejected(
    keys: Keys, clock: FixedClock, store: SqliteStore
) -> None:
    payload, sig = approve(keys, clock, store, key=keys.bob, namespace=CHECKPOINT_NAMESPACE)
    with pytest.raises(SignatureError):
        check(
            payload, sig, keys, clock, store, principal="bob@corp", namespace=CHECKPOINT_NAMESPACE
        )


def test_a_tampered_payload_is_rejected(keys: Keys, clock: FixedClock, store: SqliteStore) -> None:
    payload, sig = approve(keys, clock, store)
    forged = payload.replace(b'"to_version":"1.5.0"', b'"to_version":"1.6.0"')
    assert forged != payload
    with pytest.raises(SignatureError, match="rejected"):
        check(forged, sig, keys, clock, store, target=None)


def test_another_principal_cannot_claim_the_signature(
    keys: Keys, clock: FixedClock, store: SqliteStore
) -> None:
    payload, sig = approve(keys, clock, store, key=keys.bob)
    with pytest.raises(SignatureError, match="rejected"):
        check(payload, sig, keys, clock, store, principal="alice@corp")
    assert (
        check(payload, sig, keys, clock, store, principal="bob@corp").verified.principal
        == "bob@corp"
    )


def test_an_expired_key_is_rejected_at_the_signing_time(
    keys: Keys, clock: FixedClock, store: SqliteStore
) -> None:
    keys.allowed.write_text(
        f'alice@corp namespaces="{APPROVAL_NAMESPACE}",valid-before="20260101" {pub(keys.alice)}\n'
    )
    payload, sig = approve(keys, clock, store)  # the clock says 2026-11-26
    with pytest.raises(SignatureError, match="rejected"):
        check(payload, sig, keys, clock, store)


def test_a_revoked_key_is_rejected(keys: Keys, clock: FixedClock, store: SqliteStore) -> None:
    krl = keys.allowed.with_name("revoked.krl")
    subprocess.run(
        [need("ssh-keygen"), "-q", "-k", "-f", str(krl), f"{keys.alice}.pub"], check=True
    )
    payload, sig = approve(keys, clock, store)
    with pytest.raises(SignatureError, match="rejected"):
        check(payload, sig, keys, clock, store, revoked=str(krl))
    payload, sig = approve(keys, clock, store, key=keys.bob)  # bob's key is not revoked
    assert check(payload, sig, keys, clock, store, principal="bob@corp", revoked=str(krl))


def test_a_replayed_nonce_is_rejected(keys: Keys, clock: FixedClock, store: SqliteStore) -> None:
    payload, sig = approve(keys, clock, store)
    signed = check(payload, sig, keys, clock, store)
    store.append(event(1, actor=signed.actor(ACTOR), extra=signed.extra()))
    with pytest.raises(SignatureError, match="replay"):
        check(payload, sig, keys, clock, store)
    # Even a caller that skips the check cannot log the same approval twice.
    with pytest.raises(AuditError, match="replay"):
        store.append(event(2, actor=signed.actor(ACTOR), extra=signed.extra()))
    assert store.verify().ok


def test_stale_future_and_mismatched_approvals_are_rejected(
    keys: Keys, clock: FixedClock, store: SqliteStore
) -> None:
    payload, sig = approve(keys, clock, store)
    with pytest.raises(SignatureError, match="different action"):
        check(payload, sig, keys, clock, store, action="rollback")
    with pytest.raises(SignatureError, match="different target"):
        check(payload, sig, keys, clock, store, target=Target("cart", "prod"))
    with pytest.raises(SignatureError, match="future"):
        check(payload, sig, keys, clock, store, now=clock.now() - timedelta(minutes=5))
    with pytest.raises(SignatureError, match="expired"):
        check(payload, sig, keys, clock, store, now=clock.now() + timedelta(hours=1))
    with pytest.raises(SignatureError, match="not a cockpit approval"):
        check(b'{"hello":"world"}', sig, keys, clock, store)


def test_a_signed_checkpoint_verifies_and_a_forged_one_does_not(
    keys: Keys, filled: SqliteStore
) -> None:
    cp = filled.checkpoint().sign(str(keys.alice))
    text = cp.serialize()
    assert "-----BEGIN SSH SIGNATURE-----" in text
    from cockpit.audit import Checkpoint

    again = Checkpoint.parse(text)
    assert again == cp
    assert again.verify_signature(
        principal="alice@corp", allowed_signers=str(keys.allowed)
    ).startswith("SHA256:")
    forged = Checkpoint.parse(text.replace("\n10\n", "\n9\n"))
    with pytest.raises(SignatureError):
        forged.verify_signature(principal="alice@corp", allowed_signers=str(keys.allowed))
    with pytest.raises(SignatureError):  # bob may not sign checkpoints
        filled.checkpoint().sign(str(keys.bob)).verify_signature(
            principal="bob@corp", allowed_signers=str(keys.allowed)
        )


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private ssh-agent on a socket in tmp_path, stopped by its pid afterwards."""
    sock = str(tmp_path / "agent.sock")
    proc = subprocess.Popen(
        [need("ssh-agent"), "-D", "-a", sock], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    proc.stdout.readline()  # "SSH_AUTH_SOCK=...; export ..." once it listens
    monkeypatch.setenv("SSH_AUTH_SOCK", sock)
    yield sock
    os.kill(proc.pid, signal.SIGTERM)
    proc.wait(timeout=10)


def test_signing_through_ssh_agent_without_the_private_key_file(
    keys: Keys, agent: str, clock: FixedClock, store: SqliteStore
) -> None:
    subprocess.run([need("ssh-add"), "-q", str(keys.alice)], check=True, capture_output=True)
    keys.alice.rename(keys.alice.with_suffix(".moved"))  # only the .pub and the agent remain
    payload = sshsig.approval_payload(
        action="promote", target=PROD, prev_hash="00" * 32, time=clock.now()
    )
    for key in (f"{keys.alice}.pub", None):  # an explicit public key, then the agent's first key
        sig = sshsig.sign(payload, key=key, namespace=APPROVAL_NAMESPACE)
        assert check(payload, sig, keys, clock, store).verified.principal == "alice@corp"


def test_signing_fails_cleanly_without_a_key(tmp_path: Path) -> None:
    need("ssh-keygen")
    with pytest.raises(SignatureError, match="signing failed"):
        sshsig.sign(b"x", key=str(tmp_path / "nope"), namespace=APPROVAL_NAMESPACE)
