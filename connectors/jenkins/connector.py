"""The Jenkins connector: Pipeline runs through wfapi, input steps approved or aborted."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import quote

import httpx

from cockpit.clock import Clock
from cockpit.connect.http import Api
from cockpit.connector import Capability, Connector
from cockpit.errors import Rejected, Unauthorized, Unreachable
from cockpit.model import (
    Action,
    ActionKind,
    ActionResult,
    Evidence,
    Observation,
    PendingApproval,
    PipelineRun,
)
from cockpit.sanitize import clean
from connectors.jenkins import mapping
from connectors.jenkins.evidence import TestReports
from connectors.jenkins.mapping import Json
from connectors.jenkins.options import JenkinsOptions, job_path

WAITING = "PAUSED_PENDING_INPUT"
EVIDENCE_WAIT = 5.0  # seconds a live poll waits for test report reads; the rest follow
_HEAD = re.compile(r"<head\b.*?</head>", re.S | re.I)
_TAG = re.compile(r"<[^>]*>")


def page_text(html: object) -> str:
    """The words of a Jenkins error page (its <head> and tags dropped), short and clean."""
    text = _TAG.sub(" ", _HEAD.sub(" ", str(html or "")))
    return clean(" ".join(text.split()), limit=200)


class JenkinsConnector(Connector):
    """Any Jenkins URL, with a user's API token over HTTP Basic."""

    CAPABILITIES = frozenset({Capability.PIPELINES, Capability.APPROVALS, Capability.EVIDENCE})
    ACTIONS = frozenset({ActionKind.APPROVE, ActionKind.REJECT})
    Options = JenkinsOptions
    DESCRIPTION = (
        "Jenkins Pipeline (wfapi): runs and stages; input steps as approvals (proceed/abort); "
        "JUnit test reports (when configured)"
    )

    def __init__(
        self, name: str, options: JenkinsOptions, *, client: httpx.AsyncClient | None, clock: Clock
    ) -> None:
        super().__init__(name, options, client=client, clock=clock)
        if client is None:
            raise ValueError("the Jenkins connector needs an HTTP client")
        token = options.api_token.reveal()
        basic = base64.b64encode(f"{options.username}:{token}".encode()).decode()
        self.api = Api(
            client,
            options.base,
            headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
            name=name,
            concurrency=options.concurrency,
            secrets=(token, basic),
            clock=lambda: self.clock.now().timestamp(),
        )
        self.reports = TestReports(self.api, name, clock)
        self.reports.kept.on_late = self.changed

    # Facts -------------------------------------------------------------------------------
    async def poll(self) -> Observation:
        runs, approvals = await self._observe(inputs=True)
        return Observation(
            source=self.name,
            observed_at=self.clock.now(),
            runs=tuple(runs),
            approvals=tuple(approvals),
            evidence=await self._evidence(runs),
        )

    async def pipelines(self) -> Sequence[PipelineRun]:
        return (await self._observe(inputs=False))[0]

    async def approvals(self) -> Sequence[PendingApproval]:
        return (await self._observe(inputs=True))[1]

    async def evidence(self) -> Sequence[Evidence]:
        return await self._evidence((await self._observe(inputs=False))[0])

    async def _evidence(self, runs: Sequence[PipelineRun]) -> tuple[Evidence, ...]:
        """Finished builds' JUnit reports, with `test_reports: true` (jenkins/evidence.py)."""
        if not self.options.test_reports:
            return ()
        self.reports.kept.wait = EVIDENCE_WAIT if self.live else None
        return await self.reports.read(runs)

    async def _observe(self, *, inputs: bool) -> tuple[list[PipelineRun], list[PendingApproval]]:
        ctx = mapping.Context(self.name, self.clock.now(), self.options)
        fetched = await asyncio.gather(*(self._job(job, inputs) for job in self.options.jobs))
        runs: list[PipelineRun] = []
        approvals: list[PendingApproval] = []
        for job, (items, pending) in zip(self.options.jobs, fetched, strict=True):
            with self._shape(job):
                runs += [self._run(job, item, ctx) for item in items]
                for item in items:
                    for waiting in pending.get(str(item["id"]), []):
                        approvals.append(mapping.approval(job, item, waiting, ctx))
        return runs, approvals

    def _run(self, job: str, item: Json, ctx: mapping.Context) -> PipelineRun:
        url = f"{self.options.base}/{job_path(job)}/{quote(str(item['id']), safe='')}/"
        return mapping.run(job, item, ctx, url)

    async def _job(self, job: str, inputs: bool) -> tuple[list[Json], dict[str, list[Json]]]:
        """A job's newest runs, and the inputs each paused run waits on."""
        runs = await self._list(f"{job_path(job)}/wfapi/runs")
        runs = runs[: self.options.runs_per_job]
        paused = [
            str(r.get("id")) for r in runs if isinstance(r, dict) and r.get("status") == WAITING
        ]
        pending: dict[str, list[Json]] = {}
        if inputs and paused:
            answers = await asyncio.gather(*(self._pending(job, run) for run in paused))
            pending = dict(zip(paused, answers, strict=True))
        return runs, pending

    async def _pending(self, job: str, run: str) -> list[Json]:
        return await self._list(f"{job_path(job)}/{quote(run, safe='')}/wfapi/pendingInputActions")

    async def _list(self, path: str, *, conditional: bool = True) -> list[Json]:
        body = await self.api.get(path, conditional=conditional)
        if not isinstance(body, list):
            raise Unreachable(f"{self.name}: {path} did not return a list")
        return body

    @contextmanager
    def _shape(self, job: str) -> Iterator[None]:
        """Payloads that do not have the documented shape become a clear, short error."""
        try:
            yield
        except KeyError as exc:
            detail = f"missing field {exc}"
        except (TypeError, ValueError, AttributeError) as exc:
            detail = str(exc)
        else:
            return
        raise Unreachable(
            clean(f"{self.name}: {job}: cannot use Jenkins' answer: {detail}", limit=200)
        ) from None

    async def aclose(self) -> None:
        await self.reports.aclose()

    # Actions -----------------------------------------------------------------------------
    async def execute(self, action: Action) -> ActionResult:
        """Proceed (approve) or abort (reject) an input step, by the documented endpoints."""
        if action.kind not in self.ACTIONS:
            raise Rejected(f"{self.name}: the Jenkins connector cannot {action.kind.value}")
        remote = action.remote_id or action.approval_id.removeprefix(f"{self.name}:")
        job, build, input_id = self._input(remote)
        run = f"{job_path(job)}/{quote(build, safe='')}"
        waiting = await self._list(f"{run}/wfapi/pendingInputActions", conditional=False)
        found = next((p for p in waiting if isinstance(p, dict) and p.get("id") == input_id), None)
        if found is None:
            raise Rejected(f"{self.name}: input {input_id} of {job} #{build} no longer waits")
        where = f"{run}/input/{quote(input_id, safe='')}"
        headers = await self._crumb()
        answer = f"input:{job}/{build}/{input_id}"
        if action.kind is ActionKind.REJECT:
            await self._post(f"{where}/abort", headers)
            return ActionResult(True, f"aborted input {input_id} of {job} #{build}", answer)
        declared = [str(i.get("name")) for i in found.get("inputs") or [] if isinstance(i, dict)]
        if not declared:
            await self._post(f"{where}/proceedEmpty", headers)
        else:
            values = [
                {"name": name, "value": value}
                for name in declared
                if (value := self._value(action, name))
            ]
            form = {"json": json.dumps({"parameter": values})}
            await self._post(f"{where}/proceed", headers, form)
        return ActionResult(True, f"proceeded input {input_id} of {job} #{build}", answer)

    def _value(self, action: Action, name: str) -> str:
        """An input parameter's value: given with the action, or the reason or ticket field."""
        if action.param(name):
            return action.param(name)
        if name == self.options.reason_parameter:
            return action.reason
        return action.ticket if name == self.options.ticket_parameter else ""

    def _input(self, remote: str) -> tuple[str, str, str]:
        """ "input:<job>/<build>/<input id>" -> its parts, for a configured job only."""
        rest = remote.removeprefix("input:")
        if rest != remote:
            for job in sorted(self.options.jobs, key=len, reverse=True):
                build, _, input_id = rest.removeprefix(job + "/").partition("/")
                if rest.startswith(job + "/") and build and input_id:
                    return job, build, input_id
        raise Rejected(
            f"{self.name}: {clean(remote, limit=80)!r} is not an input of a configured job "
            "('input:<job>/<build>/<input id>')"
        )

    async def _crumb(self) -> dict[str, str]:
        """The CSRF crumb header, when configured (API-token requests are exempt by default)."""
        if not self.options.crumb:
            return {}
        # Not JSON-decoded by Api: with CSRF protection off the 404 is an HTML page.
        resp = await self.api.request(
            "GET", "crumbIssuer/api/json", conditional=False, accept=(404,), expect_json=False
        )
        if resp.status == 404:
            return {}
        try:
            crumb = json.loads(resp.body)
            return {str(crumb["crumbRequestField"]): str(crumb["crumb"])}
        except (ValueError, TypeError, KeyError):
            raise Unreachable(f"{self.name}: crumbIssuer/api/json gave no usable crumb") from None

    async def _post(
        self, path: str, headers: dict[str, str], form: dict[str, str] | None = None
    ) -> None:
        # Jenkins answers these with an empty 200 or a redirect to an HTML page, never JSON.
        resp = await self.api.request(
            "POST",
            path,
            data=form,
            headers=headers,
            conditional=False,
            expect_json=False,
            accept=(403,),
        )
        if resp.status != 403:
            return
        why = page_text(resp.body)
        if "crumb" not in why.lower():
            raise Unauthorized(f"{self.name}: POST {path} -> 403: {why or 'forbidden'}")
        if not self.options.crumb:
            raise Unauthorized(f"{self.name}: CSRF crumb required: set `crumb: true`")
        # A crumb was sent and refused: it is bound to a session a proxy may not keep.
        raise Unauthorized(f"{self.name}: Jenkins refused the CSRF crumb: {why}")
