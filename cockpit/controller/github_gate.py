"""GitHub deployment protection rules: the signed delivery, the request it files, and its state.

GitHub asks a custom protection rule (a GitHub App) with a `deployment_protection_rule`
webhook (action `requested`) and waits until the App POSTs `approved` or `rejected` to
the delivery's `deployment_callback_url`. The cockpit keeps each request in the audit log
itself, like the two-person queue (`cockpit.actions.twoperson`): `gate.requested` files
it, the executor's approve/reject records answer it, `gate.decided` fixes the answer,
`gate.callback_failed` / `gate.answered` tell whether GitHub has it. So every cockpit on
the same store sees the same queue, and a restarted controller knows what is still owed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cockpit.controller.webhooks_config import GithubGateConfig, github_environment
from cockpit.sanitize import clean

GATE_SOURCE = "github-gate"  # the built-in approvals source's name, and records' target.source
KIND = "github-protection-rule"
_DELIVERY = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_RUN = re.compile(r"/repos/([^/]+/[^/]+)/actions/runs/(\d+)/deployment_protection_rule$")
_TAG = re.compile(r"^v?\d+(\.\d+)*([-+][\w.-]+)?$")


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is `sha256=<hex HMAC-SHA256 of body>` under `secret`, compared in
    constant time. Missing, malformed and other-algorithm headers are all False."""
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode("ascii", "replace"))


def delivery_id(headers: Mapping[str, str]) -> str:
    """X-GitHub-Delivery when it looks like one (a GUID), else "" (never echoed raw)."""
    value = headers.get("x-github-delivery", "")
    return value if _DELIVERY.match(value) else ""


class NotOurs(ValueError):
    """A delivery the cockpit does not gate: its words say why (a 4xx to GitHub)."""


@dataclass(frozen=True)
class GateRequest:
    """One protection-rule request as filed: what GitHub waits on, in the cockpit's names."""

    delivery: str
    repo: str
    service: str
    environment: str  # the cockpit's name
    github_environment: str
    ref: str
    sha: str
    version: str  # what the GitHub connector calls this deployment's version
    run_id: str
    callback_url: str
    event: str
    sender: str

    def extra(self) -> dict[str, str]:
        return {
            "delivery": self.delivery,
            "repo": self.repo,
            "github_environment": self.github_environment,
            "ref": self.ref,
            "sha": self.sha,
            "run_id": self.run_id,
            "callback_url": self.callback_url,
            "event": self.event,
            "sender": self.sender,
        }

    def title(self) -> str:
        ref = self.ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
        return clean(
            f"GitHub {self.repo} {ref}@{self.sha[:7]} to {self.github_environment} "
            f"(run {self.run_id})",
            limit=160,
        )


def parse_request(payload: Any, delivery: str, cfg: GithubGateConfig) -> GateRequest:
    """The request a `deployment_protection_rule` delivery files; NotOurs when it is not one
    this cockpit gates (unmapped repository, callback outside the configured API)."""
    if not isinstance(payload, dict):
        raise NotOurs("the body is not a JSON object")
    repo_data = payload.get("repository") or {}
    repo = str(repo_data.get("full_name") or "") if isinstance(repo_data, dict) else ""
    service = cfg.services.get(repo)
    if service is None:
        raise NotOurs(f"repository {clean(repo, limit=100)!r} is not in webhooks.github.services")
    gh_env = str(payload.get("environment") or "")
    if not gh_env:
        raise NotOurs("the delivery names no environment")
    callback = str(payload.get("deployment_callback_url") or "")
    run = _callback_run(callback, cfg.api_url, repo)
    deployment = payload.get("deployment") or {}
    if not isinstance(deployment, dict):
        deployment = {}
    sha = str(deployment.get("sha") or payload.get("sha") or "")
    ref = str(deployment.get("ref") or payload.get("ref") or "")
    sender = payload.get("sender") or {}
    login = str(sender.get("login") or "") if isinstance(sender, dict) else ""
    return GateRequest(
        delivery=delivery,
        repo=repo,
        service=service,
        environment=github_environment(cfg, gh_env),
        github_environment=gh_env,
        ref=ref,
        sha=sha,
        version=_version(sha, ref, deployment.get("payload")),
        run_id=run,
        callback_url=callback,
        event=str(payload.get("event") or ""),
        sender=login,
    )


def _callback_run(url: str, api_url: str, repo: str) -> str:
    """The run id of a callback URL that lies under the configured API and names `repo`.

    The body is signed, but a signed body is still not a licence to make the controller
    POST a token anywhere: only the documented endpoint of the configured API is called."""
    api = urlsplit(api_url.rstrip("/"))
    got = urlsplit(url)
    m = _RUN.search(got.path)
    if (
        got.scheme != api.scheme
        or got.netloc != api.netloc
        or not got.path.startswith(api.path + "/repos/")
        or m is None
        or m.group(1).lower() != repo.lower()
        or got.query
    ):
        raise NotOurs("deployment_callback_url is not this repository's run under api_url")
    return m.group(2)


def _version(sha: str, ref: str, payload: object) -> str:
    """As the GitHub connector names it: payload.version, a tag, else the short sha."""
    if isinstance(payload, dict) and isinstance(payload.get("version"), str):
        return str(payload["version"])
    tag = ref.removeprefix("refs/tags/")
    return tag if _TAG.match(tag) else sha[:7]


def request_from_record(extra: Mapping[str, Any], target: Any) -> GateRequest:
    return GateRequest(
        delivery=str(extra.get("delivery", "")),
        repo=str(extra.get("repo", "")),
        service=target.service if target else "",
        environment=target.environment if target else "",
        github_environment=str(extra.get("github_environment", "")),
        ref=str(extra.get("ref", "")),
        sha=str(extra.get("sha", "")),
        version=target.to_version if target else "",
        run_id=str(extra.get("run_id", "")),
        callback_url=str(extra.get("callback_url", "")),
        event=str(extra.get("event", "")),
        sender=str(extra.get("sender", "")),
    )


@dataclass
class GateState:
    """Where one request stands, read back from the log."""

    request: GateRequest
    requested_at: datetime
    approvals: list[str] = field(default_factory=list)
    rejected_by: str = ""
    reject_reason: str = ""
    decided: str = ""  # approved / rejected, once gate.decided is on the log
    comment: str = ""
    waiting: list[str] = field(default_factory=list)  # approved, but the gates disagree
    failures: int = 0
    last_error: str = ""
    answered: bool = False

    @property
    def open(self) -> bool:
        return not self.answered


def states(records: Iterable[Any]) -> dict[str, GateState]:
    """Each request's state from the records, in log order (request id -> state)."""
    out: dict[str, GateState] = {}
    for r in records:
        kind = str(r.event_type)
        target = r.target
        if kind == "gate.requested":
            out[r.request_id] = GateState(request_from_record(r.extra, target), r.ts)
            continue
        if kind == "action.succeeded":
            if target is None or target.source != GATE_SOURCE:
                continue
            state = out.get(target.remote_id)
            if state is None:
                continue
            if r.action == "approve" and r.actor.user not in state.approvals:
                state.approvals.append(r.actor.user)
            elif r.action == "reject" and not state.rejected_by:
                state.rejected_by, state.reject_reason = r.actor.user, r.reason
            continue
        state = out.get(r.request_id)
        if state is None:
            continue
        if kind == "gate.decided":
            state.decided = r.outcome
            state.comment = str(r.extra.get("comment", ""))
        elif kind == "gate.changed":
            state.waiting = [str(w) for w in r.extra.get("reasons", [])]
        elif kind == "gate.callback_failed":
            state.failures += 1
            state.last_error = str(r.extra.get("error", ""))
        elif kind == "gate.answered":
            state.answered = True
    return out


GATE_EVENTS = (
    "gate.requested",
    "action.succeeded",
    "gate.decided",
    "gate.changed",
    "gate.callback_failed",
    "gate.answered",
)
