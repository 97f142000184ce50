"""The connector contract kit: a test class any connector, ours or a third party's, runs.

Subclass `ConnectorContract` in a test module (the name must start with `Test`), set
`connector_class` and `options`, and for an HTTP connector return an `httpx.MockTransport`
serving recorded payloads from `transport()`. Needs only pytest; async work runs inside
`asyncio.run`, so no asyncio plugin is required.

    class TestMyConnector(ConnectorContract):
        connector_class = MyConnector
        options = {"url": "https://ci.example", "token": "env:CI_TOKEN"}
        env = {"CI_TOKEN": "t0ken"}

        def transport(self):
            return httpx.MockTransport(my_recorded_handler)
"""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from cockpit.clock import FixedClock
from cockpit.connect import options as opt
from cockpit.connector import CAPABILITY_METHODS, Capability, Connector, contract_problems
from cockpit.errors import ConfigError, ConnectorError
from cockpit.model import (
    Action,
    ActionKind,
    Alert,
    Annotation,
    Canary,
    CanaryMetrics,
    ChangeWindow,
    Deployment,
    DriftReport,
    Evidence,
    Gate,
    Observation,
    PendingApproval,
    PipelineRun,
)

EXPECTED_TYPES: dict[Capability, type] = {
    Capability.PIPELINES: PipelineRun,
    Capability.ENVIRONMENTS: Deployment,
    Capability.CANARY: Canary,
    Capability.METRICS: CanaryMetrics,
    Capability.DRIFT: DriftReport,
    Capability.ALERTS: Alert,
    Capability.ANNOTATIONS: Annotation,
    Capability.APPROVALS: PendingApproval,
    Capability.GATES: Gate,
    Capability.WINDOWS: ChangeWindow,
    Capability.EVIDENCE: Evidence,
}
SOURCE_STAMPED = (
    PipelineRun,
    Deployment,
    Canary,
    CanaryMetrics,
    DriftReport,
    Alert,
    Annotation,
    PendingApproval,
    Evidence,
)


class ConnectorContract:
    """Contract tests. Override the class attributes and `transport()`."""

    connector_class: ClassVar[type[Connector]]
    options: ClassVar[dict[str, Any]] = {}
    env: ClassVar[dict[str, str]] = {}
    instance_name: ClassVar[str] = "under-test"
    now: ClassVar[datetime] = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

    # Hooks ---------------------------------------------------------------------------
    def transport(self) -> Any:
        """An httpx transport serving recorded payloads (HTTP connectors only)."""
        return None

    def failing_transport(self, status: int) -> Any:
        import httpx

        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(status, json={"message": "recorded failure"})

        return httpx.MockTransport(handler)

    def parsed_options(self) -> Any:
        return opt.parse(self.connector_class.Options, dict(self.options), env=self.env)

    def make(self, transport: Any = None) -> tuple[Connector, Any]:
        clock = FixedClock(self.now)
        client = None
        if self.connector_class.USES_HTTP:
            import httpx

            client = httpx.AsyncClient(
                transport=transport or self.transport(), base_url="http://contract.invalid"
            )
        options = self.parsed_options()
        for secret in opt.secrets_of(options):
            secret._value = self.env.get(secret.ref.partition(":")[2], "contract-secret")
        return self.connector_class(self.instance_name, options, client=client, clock=clock), client

    def run(self, coro_factory: Any, transport: Any = None) -> Any:
        async def go() -> Any:
            connector, client = self.make(transport)
            try:
                return await coro_factory(connector)
            finally:
                await connector.aclose()
                if client is not None:
                    await client.aclose()

        return asyncio.run(go())

    # The contract ----------------------------------------------------------------------
    def test_class_honours_contract(self) -> None:
        assert contract_problems(self.connector_class) == []

    def test_declares_something(self) -> None:
        assert self.connector_class.CAPABILITIES or self.connector_class.ACTIONS

    def test_options_parse_and_refuse_unknown_keys(self) -> None:
        assert dataclasses.is_dataclass(self.parsed_options())
        try:
            opt.parse(
                self.connector_class.Options,
                {**self.options, "surely_not_an_option": 1},
                env=self.env,
            )
        except ConfigError as exc:
            assert "unknown key" in str(exc)
        else:
            raise AssertionError("an unknown option key was accepted")

    def test_poll_returns_an_observation_of_domain_objects(self) -> None:
        obs = self.run(lambda c: c.poll())
        assert isinstance(obs, Observation)
        assert obs.source == self.instance_name
        assert obs.observed_at.tzinfo is not None
        for cap in self.connector_class.CAPABILITIES:
            items = getattr(obs, CAPABILITY_METHODS[cap][1])
            assert isinstance(items, tuple), f"{cap.value}: expected a tuple"
            for item in items:
                assert isinstance(item, EXPECTED_TYPES[cap]), f"{cap.value}: {type(item).__name__}"
        for name in (
            "deployments",
            "runs",
            "canaries",
            "metrics",
            "drift",
            "alerts",
            "annotations",
            "approvals",
            "evidence",
        ):
            for item in getattr(obs, name):
                if isinstance(item, SOURCE_STAMPED):
                    assert item.source == self.instance_name, f"{name}: source {item.source!r}"

    def test_named_changes_are_what_changed(self) -> None:
        """A connector that names its changes (`Observation.changed`) lets the hub clean and
        index only the objects it names: a new object left out would skip the cleaning of
        its text. Two polls in one session; every hint against the previous tuple must hold."""

        async def two_polls(connector: Connector) -> tuple[Observation, Observation]:
            return await connector.poll(), await connector.poll()

        first, second = self.run(two_polls)
        assert changes_problems(first, second) == []

    def test_capability_methods_answer(self) -> None:
        for cap in self.connector_class.CAPABILITIES:
            method = CAPABILITY_METHODS[cap][0]
            result = self.run(lambda c, m=method: getattr(c, m)())
            assert isinstance(result, Sequence), f"{method}() must return a sequence"

    def test_undeclared_actions_are_rejected(self) -> None:
        missing = [k for k in ActionKind if k not in self.connector_class.ACTIONS]
        for kind in missing:
            action = Action(kind=kind, service="svc", environment="env", source=self.instance_name)
            try:
                self.run(lambda c, a=action: c.execute(a))
            except ConnectorError:
                continue
            raise AssertionError(f"{kind.value} is not declared but did not raise ConnectorError")

    def test_http_failures_map_onto_the_error_tree(self) -> None:
        if not self.connector_class.USES_HTTP:
            return
        for status in (401, 404, 500, 503):
            try:
                self.run(lambda c: c.poll(), transport=self.failing_transport(status))
            except ConnectorError:
                continue
            except Exception as exc:
                raise AssertionError(
                    f"HTTP {status} raised {type(exc).__name__}, not a ConnectorError"
                ) from exc
            # A connector may legitimately treat a 404 as "nothing there".
            assert status == 404, f"HTTP {status} did not raise"

    def test_module_does_not_import_textual(self) -> None:
        module = self.connector_class.__module__
        code = f"import sys, {module}; print('textual' in sys.modules)"
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "False", f"{module} imports textual"


def changes_problems(previous: Observation, obs: Observation) -> list[str]:
    """What is wrong with `obs.changed` after `previous`: for each field whose hint is made
    against the tuple `previous` held (the only hints the hub acts on), the field must now
    hold exactly that tuple without `removed`, plus `added`, object by object."""
    from collections import Counter

    problems = []
    for hint in obs.changed:
        now = getattr(obs, hint.field, None)
        if not isinstance(now, tuple):
            problems.append(f"changed names {hint.field!r}, which is not a tuple field")
            continue
        if hint.before is not getattr(previous, hint.field):
            continue  # the hub ignores a hint made against another tuple
        expected = Counter(map(id, hint.before))
        expected.subtract(map(id, hint.removed))
        expected.update(map(id, hint.added))
        if any(n < 0 for n in expected.values()) or +expected != Counter(map(id, now)):
            problems.append(
                f"{hint.field}: the tuple is not `before` without `removed` plus `added` "
                "(by identity): an object left out would not be cleaned"
            )
    return problems
