"""The gate endpoints on the controller's HTTP server, mounted with one call.

    POST /webhooks/github                                GitHub App webhook (signed)
    GET|POST /gate/argo-rollouts/<service>/<environment> Argo Rollouts web metric
    POST /gate/flagger/confirm-promotion                 Flagger confirm-promotion hook
    POST /gate/flagger/confirm-rollout                   Flagger confirm-rollout hook

Only the sections present under `webhooks:` are served. Payload text is untrusted: it is
checked and cleaned before it reaches a record or the Approvals view, and an unsigned
GitHub delivery is refused (401, audited) before its body is even parsed.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import unquote

from cockpit.controller.gate_decisions import APPROVE
from cockpit.controller.gatekeeper import GateDeps, Gatekeeper
from cockpit.controller.github_gate import NotOurs, delivery_id, parse_request, signature_ok
from cockpit.controller.http import Request, Response, Router
from cockpit.controller.webhooks_config import flagger_target
from cockpit.sanitize import clean

log = logging.getLogger(__name__)
ARGO_PREFIX = "/gate/argo-rollouts/"
FLAGGER_HOOKS = {"confirm-promotion": True, "confirm-rollout": False}  # -> verdict needed


def mount(router: Router, deps: GateDeps) -> Gatekeeper:
    """Add the configured gate routes to `router`; the Gatekeeper returned must be run
    (`await keeper.run()` in a task) so approvals made on any cockpit reach GitHub."""
    keeper = Gatekeeper(deps)
    cfg = deps.config
    if cfg.github is not None:

        async def on_github(req: Request) -> Response:
            return await github(keeper, req)

        router.add("POST", "/webhooks/github", on_github)
    if cfg.argo_rollouts is not None and cfg.argo_rollouts.enabled:

        async def on_argo(req: Request) -> Response:
            return await argo_rollouts(keeper, req)

        for method in ("GET", "POST"):
            router.add_prefix(method, ARGO_PREFIX, on_argo)
    if cfg.flagger is not None:
        for hook in FLAGGER_HOOKS:
            router.add("POST", f"/gate/flagger/{hook}", _flagger_route(keeper, hook))
    return keeper


def _flagger_route(keeper: Gatekeeper, hook: str) -> Any:
    async def on_flagger(req: Request) -> Response:
        return await flagger(keeper, req, hook)

    return on_flagger


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


async def github(keeper: Gatekeeper, req: Request) -> Response:
    gh = keeper.deps.config.github
    assert gh is not None
    delivery = delivery_id(req.headers)
    header = req.headers.get("x-hub-signature-256")
    if not signature_ok(gh.secret.reveal(), req.body, header):
        why = "no X-Hub-Signature-256 header" if not header else "bad X-Hub-Signature-256"
        await keeper.refused("github", delivery, why, req.peer)
        return Response.json(401, {"error": why})
    event = req.headers.get("x-github-event", "")
    if event == "ping":
        return Response.json(200, {"ok": True, "pong": delivery})
    if event != "deployment_protection_rule":
        return Response.json(202, {"ignored": clean(event, limit=60) or "no X-GitHub-Event"})
    payload = _json(req.body)
    if not isinstance(payload, dict):
        return Response.json(400, {"error": "the body is not a JSON object"})
    if payload.get("action") != "requested":
        return Response.json(202, {"ignored": "action " + clean(payload.get("action"), limit=40)})
    if not delivery:
        return Response.json(400, {"error": "no usable X-GitHub-Delivery header"})
    try:
        request = parse_request(payload, delivery, gh)
        if not _known_environment(keeper, request.environment):
            # Else a GitHub environment nobody mapped would be judged by no policy's rules.
            shown = clean(request.github_environment, limit=60)
            raise NotOurs(f"GitHub environment {shown!r} maps to no environment of the cockpit")
    except NotOurs as exc:
        await keeper.refused("github", delivery, str(exc), req.peer)
        return Response.json(422, {"error": str(exc)})
    filed = await keeper.file(request)
    if not filed:
        return Response.json(200, {"duplicate": delivery})
    return Response.json(202, {"pending": delivery})


def _known_environment(keeper: Gatekeeper, name: str) -> bool:
    return keeper.deps.hub.snapshot.environment(name) is not None


async def argo_rollouts(keeper: Gatekeeper, req: Request) -> Response:
    parts = [unquote(p) for p in req.path[len(ARGO_PREFIX) :].split("/")]
    if len(parts) != 2 or not all(parts):
        return Response.json(404, {"error": "use /gate/argo-rollouts/<service>/<environment>"})
    service, environment = parts
    if not _known_environment(keeper, environment):
        return Response.json(404, {"error": f"unknown environment {clean(environment, limit=40)}"})
    answer = await keeper.canary_answer("argo-rollouts", service, environment)
    # Always 200: Argo counts an HTTP error as a failed measurement, not as "wait".
    return Response.json(200, answer.as_json(service, environment))


async def flagger(keeper: Gatekeeper, req: Request, hook: str) -> Response:
    cfg = keeper.deps.config.flagger
    assert cfg is not None
    payload = _json(req.body)
    if not isinstance(payload, dict):
        return Response.json(400, {"error": "the body is not a JSON object"})
    name, namespace = str(payload.get("name") or ""), str(payload.get("namespace") or "")
    target = flagger_target(cfg, namespace, name)
    if target is None:
        shown = clean(f"{namespace}/{name}", limit=120)
        return Response.json(403, {"error": f"canary {shown} is not in webhooks.flagger"})
    service, environment = target
    answer = await keeper.canary_answer(
        f"flagger-{hook}", service, environment, verdict_needed=FLAGGER_HOOKS[hook]
    )
    # Flagger goes on at 200 and waits (asks again) on anything else.
    status = 200 if answer.decision == APPROVE else 403
    return Response.json(status, answer.as_json(service, environment))
