"""The whole GitHub gate on the team store: the leading controller takes the signed delivery,
an operator approves from the command line under their own database role, and the
controller tells a fake GitHub (a local HTTP server) `approved`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

from cockpit import config
from cockpit.clock import SystemClock
from cockpit.controller.github_gate import GATE_SOURCE
from cockpit.controller.http import Request, Response, Router, Server
from cockpit.controller.run import Controller
from tests.cli import cockpit
from tests.controller.controller_kit import PASSWORD_VAR, make_team
from tests.controller.gate_kit import SECRET, TOKEN, fixture, signed
from tests.pgserver import PostgresServer
from tests.team.kit import operator_role, until

HOOKS = """\
identities: {{carol: {{github: octocat}}}}
webhooks:
  github:
    secret: env:HOOK_SECRET
    token: env:GATE_TOKEN
    api_url: http://127.0.0.1:{port}
    services: {{acme/cart: gate-e2e}}
    environments: {{production: prod}}
"""
DELIVERY = "5a1e7d2c-0b9f-4c1a-9e55-3f2d1c0b9a88"


class FakeGitHub:
    """The callback endpoint on loopback: keeps each POST, answers 204."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, str], Any]] = []
        router = Router()
        router.add_prefix("POST", "/repos/", self.review)
        self.server = Server(router)

    async def review(self, req: Request) -> Response:
        self.posts.append((req.path, req.headers, json.loads(req.body)))
        return Response(204)


async def test_the_controller_answers_github_once_an_operator_approved(
    pg_server: PostgresServer, pg_url: str, tmp_path: Path
) -> None:
    github = FakeGitHub()
    await github.server.start()
    team = make_team(pg_server, pg_url, tmp_path)
    hooks = HOOKS.format(port=github.server.port)
    team.config.write_text(team.config.read_text() + hooks)
    secrets = {"HOOK_SECRET": SECRET, "GATE_TOKEN": TOKEN}
    settings = config.load(str(team.config), env={**team.env(), **secrets})
    controller = Controller(settings, host="127.0.0.1", port=0, clock=SystemClock())
    stop = asyncio.Event()
    running = asyncio.create_task(controller.run(stop))
    try:
        await until(lambda: controller.role == "leader", 30, "lead")
        payload = fixture("github_deployment_protection_rule.json")
        callback = f"http://127.0.0.1:{github.server.port}/repos/acme/cart/actions/runs/77/deployment_protection_rule"
        payload["deployment_callback_url"] = callback
        body = json.dumps(payload).encode()
        headers = {"X-GitHub-Event": "deployment_protection_rule",
                   "X-GitHub-Delivery": DELIVERY, "X-Hub-Signature-256": signed(body)}  # fmt: skip
        hook = f"http://127.0.0.1:{controller.server.port}/webhooks/github"
        async with httpx.AsyncClient(timeout=10) as http:
            # The leader mounts the gates once its term has started (503 until then).
            deadline = asyncio.get_running_loop().time() + 30
            while (
                answer := await http.post(hook, content=body, headers=headers)
            ).status_code == 503:
                assert asyncio.get_running_loop().time() < deadline, answer.text
                await asyncio.sleep(0.05)
        assert answer.status_code == 202, answer.text

        # An operator, under their own database role, approves from another process.
        role, url = operator_role(pg_server, pg_url, "cockpit_writer")
        operator = tmp_path / "operator.yaml"
        operator.write_text(team.config.read_text().replace(team.role, role))
        password = url.split(":", 2)[2].split("@", 1)[0]
        env = {**team.env(), **secrets, PASSWORD_VAR: password}
        done = await asyncio.to_thread(
            cockpit, "-c", str(operator), "approve", f"{GATE_SOURCE}:{DELIVERY}",
            "--reason", "release notes read, go", "--yes", env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr

        # The leader looks every 2 s: the answer leaves within about that of the approval.
        took = await until(lambda: bool(github.posts), 15, "the callback to GitHub")
        print(f"approval recorded -> callback received: {took:.2f}s")
        assert took < 5
        [(path, headers, sent)] = github.posts
        assert path == "/repos/acme/cart/actions/runs/77/deployment_protection_rule"
        assert headers["authorization"] == f"Bearer {TOKEN}"
        assert (sent["environment_name"], sent["state"]) == ("production", "approved")
        await until(lambda: "gate.answered" in _kinds(team), 10, "gate.answered")
        kinds = _kinds(team)
        for kind in ("gate.requested", "action.succeeded", "gate.decided", "gate.answered"):
            assert kind in kinds
        assert TOKEN not in json.dumps(team.records()) and SECRET not in json.dumps(team.records())
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
        await github.server.close()


def _kinds(team: Any) -> list[str]:
    return [str(r["event_type"]) for r in team.records()]
