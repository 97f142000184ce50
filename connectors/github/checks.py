"""GitHub's GraphQL API: the jobs and pending reviews of many workflow runs in one query.

REST needs a request per run for its jobs (and another for a waiting run's pending
deployments); one GraphQL query answers both for a few hundred runs of any repositories
(up to NODES nodes), an alias per run (`node(id:)` with the run's REST `node_id`). A run's
jobs are its check suite's check runs (for Actions a check run's databaseId is the job's
id); they and the pending deployment requests are turned into the REST shapes `fetch` and
`mapping` read, so one mapping serves both paths. Field names and enums follow GitHub's
public schema (WorkflowRun.checkSuite, CheckSuite.checkRuns with CheckRunFilter,
CheckRun.steps, WorkflowRun.pendingDeploymentRequests, DeploymentRequest,
DeploymentReviewer); the queries were checked against it (octokit/graphql-schema).

Steps are read only where a stage's name shows one (a running job's current step, a
failed job's failing step), through check runs filtered by status or conclusion: steps of
every job would multiply the query's point cost. Whenever GraphQL's answer is not the
whole story (more check runs, steps or reviewers than asked, a job that needs steps that
were not asked, a node that is no workflow run) the run is read through REST instead:
never a partial picture.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cockpit.connect.http import Api
from cockpit.errors import Unreachable
from connectors.github import graphql
from connectors.github.tasks import gather

Json = Mapping[str, Any]

NODES = 150_000  # the most nodes a query may ask for (GitHub refuses over 500,000)
JOBS = 100  # check runs per run; a run with more is read through REST
TELLING = 10  # failed or running check runs per run whose steps are read
STEPS = 50  # steps per such check run
REQUESTS = 10  # pending deployment requests per waiting run
REVIEWERS = 10  # reviewers per request (GitHub allows 6 per environment)

FAILED = ("failure", "timed_out", "startup_failure")  # conclusions mapping shows a step of
_UNSETTLED = ("failure", "timed_out", "startup_failure", "cancelled", "action_required", "stale")


def _fragments() -> dict[str, str]:
    """The fragments by name (built per query, so the limits above are read when used)."""
    return {
        "Jobs": f"""fragment Jobs on WorkflowRun {{
  databaseId
  checkSuite {{ checkRuns(first: {JOBS}) {{ pageInfo {{ hasNextPage }} nodes {{ ...Job }} }} }}
}}""",
        "Failing": f"""fragment Failing on WorkflowRun {{
  checkSuite {{
    failing: checkRuns(first: {TELLING}, filterBy: {{conclusions: [FAILURE, TIMED_OUT, STARTUP_FAILURE]}}) {{
      pageInfo {{ hasNextPage }} nodes {{ databaseId ...Steps }} }} }}
}}""",
        "Running": f"""fragment Running on WorkflowRun {{
  checkSuite {{
    running: checkRuns(first: {TELLING}, filterBy: {{status: IN_PROGRESS}}) {{
      pageInfo {{ hasNextPage }} nodes {{ databaseId ...Steps }} }} }}
}}""",
        "Pending": f"""fragment Pending on WorkflowRun {{
  pendingDeploymentRequests(first: {REQUESTS}) {{ pageInfo {{ hasNextPage }} nodes {{
    currentUserCanApprove waitTimer waitTimerStartedAt environment {{ databaseId name }}
    reviewers(first: {REVIEWERS}) {{ pageInfo {{ hasNextPage }} nodes {{
      __typename ... on User {{ login databaseId }} ... on Team {{ slug name databaseId }} }} }}
  }} }}
}}""",
        "Job": "fragment Job on CheckRun "
        "{ databaseId name status conclusion startedAt completedAt detailsUrl }",
        "Steps": f"""fragment Steps on CheckRun {{
  steps(first: {STEPS}) {{
    pageInfo {{ hasNextPage }} nodes {{ number name status conclusion startedAt completedAt }} }}
}}""",
    }


@dataclass(frozen=True)
class Read:
    """One run's jobs and pending deployments, in the REST shapes."""

    jobs: list[dict[str, Any]]
    pending: list[dict[str, Any]]


def suited(raw: Json) -> bool:
    """Whether GraphQL can stand in for REST for this run's jobs: a first attempt (a re-run's
    check suite may also hold the earlier attempts' check runs, which REST's jobs list
    leaves out) with a node id."""
    return int(raw.get("run_attempt") or 1) == 1 and bool(raw.get("node_id"))


def parts(raw: Json) -> list[str]:
    """The fragments a run needs: its jobs; steps of the jobs likely to show one; reviews."""
    state, conclusion = raw.get("status"), raw.get("conclusion")
    wanted = ["Jobs"]
    if state == "completed":
        if conclusion in _UNSETTLED:
            wanted.append("Failing")
    else:
        wanted.append("Running")
    if state == "waiting":
        wanted.append("Pending")
    return wanted


def nodes(raw: Json) -> int:
    """The nodes `parts(raw)` may ask for, counted as GitHub counts them (each connection's
    `first` times its parents')."""
    per = {"Jobs": JOBS, "Failing": TELLING * (1 + STEPS), "Running": TELLING * (1 + STEPS)}
    per["Pending"] = REQUESTS * (1 + REVIEWERS)
    return sum(per[p] for p in parts(raw))


def batches(runs: Sequence[tuple[str, Json]]) -> list[list[tuple[str, Json]]]:
    """Runs in queries of at most NODES nodes each (a few big queries beat many small ones:
    GraphQL queries go out a few at a time)."""
    out: list[list[tuple[str, Json]]] = []
    size = NODES
    for item in runs:
        count = nodes(item[1])
        if size + count > NODES:
            out.append([])
            size = 0
        out[-1].append(item)
        size += count
    return out


def jobs_query(runs: Sequence[Json]) -> tuple[str, dict[str, str]]:
    """Each run's check runs (and what `parts` adds), one alias per run, and the budget."""
    heads, lines, variables, used = [], [], {}, set()
    for i, raw in enumerate(runs):
        variables[f"w{i}"] = str(raw["node_id"])
        heads.append(f"$w{i}: ID!")
        wanted = parts(raw)
        used.update(wanted)
        lines.append(f"  w{i}: node(id: $w{i}) {{ {' '.join('...' + p for p in wanted)} }}")
    used.add("Job")
    if used & {"Failing", "Running"}:
        used.add("Steps")
    fragments = [text for name, text in _fragments().items() if name in used]
    query = (
        f"query({', '.join(heads)}) {{\n"
        + "\n".join(lines)
        + "\n  rateLimit { cost limit remaining resetAt }\n}\n"
        + "\n".join(fragments)
    )
    return query, variables


def read(node: Json) -> Read | None:
    """A `jobs_query` alias as REST-shaped jobs and pending deployments; None when the
    answer is not complete (then REST reads the run)."""
    suite = node.get("checkSuite")
    listed = suite.get("checkRuns") if isinstance(suite, Mapping) else None
    if not isinstance(listed, Mapping) or listed["pageInfo"]["hasNextPage"]:
        return None
    steps: dict[int, list[dict[str, Any]]] = {}
    for key in ("failing", "running"):
        part = suite.get(key) if isinstance(suite, Mapping) else None
        if part is None:
            continue
        if part["pageInfo"]["hasNextPage"]:
            return None
        for check in part["nodes"]:
            found = check["steps"]
            if found["pageInfo"]["hasNextPage"]:
                return None
            steps[int(check["databaseId"])] = [_step(s) for s in found["nodes"]]
    jobs = []
    for check in listed["nodes"]:
        job = _job(check, steps.get(int(check["databaseId"])))
        if job["steps"] is None:
            if _telling(job):
                return None  # its stage names a step GraphQL was not asked for
            job["steps"] = []
        jobs.append(job)
    pending: list[dict[str, Any]] = []
    requests = node.get("pendingDeploymentRequests")
    if requests is not None:
        if requests["pageInfo"]["hasNextPage"]:
            return None
        for request in requests["nodes"]:
            if request["reviewers"]["pageInfo"]["hasNextPage"]:
                return None
            pending.append(_pending(request))
    return Read(jobs, pending)


def _telling(job: Json) -> bool:
    return job["status"] == "in_progress" or (
        job["status"] == "completed" and job["conclusion"] in FAILED
    )


def _lower(value: object) -> str | None:
    """GraphQL spells the enums upper-case, REST lower-case."""
    return str(value).lower() if value is not None else None


def _job(node: Json, steps: list[dict[str, Any]] | None) -> dict[str, Any]:
    """A CheckRun node as the REST job object (steps None: not asked)."""
    return {
        "id": int(node["databaseId"]),
        "name": node["name"],
        "status": _lower(node["status"]),
        "conclusion": _lower(node.get("conclusion")),
        "started_at": node.get("startedAt"),
        "completed_at": node.get("completedAt"),
        "html_url": node.get("detailsUrl"),
        "steps": steps,
    }


def _step(node: Json) -> dict[str, Any]:
    return {
        "number": int(node["number"]),
        "name": node["name"],
        "status": _lower(node["status"]),
        "conclusion": _lower(node.get("conclusion")),
        "started_at": node.get("startedAt"),
        "completed_at": node.get("completedAt"),
    }


def _pending(node: Json) -> dict[str, Any]:
    """A DeploymentRequest node as REST's pending deployment object."""
    env = node["environment"]
    reviewers = []
    for who in node["reviewers"]["nodes"]:
        kind = who.get("__typename")
        if kind == "Team":
            reviewer = {"slug": who.get("slug"), "name": who.get("name")}
        else:
            reviewer = {"login": who.get("login")}
        reviewers.append({"type": kind, "reviewer": {**reviewer, "id": who.get("databaseId")}})
    return {
        "environment": {"id": int(env["databaseId"]), "name": env["name"]},
        "wait_timer": int(node.get("waitTimer") or 0),
        "wait_timer_started_at": node.get("waitTimerStartedAt"),
        "current_user_can_approve": bool(node["currentUserCanApprove"]),
        "reviewers": reviewers,
    }


class Checks:
    """Many runs' jobs and pending reviews, up to NODES nodes a query, the queries concurrent
    (the GraphQL endpoint's own bound keeps GitHub's cap of 100 requests in flight)."""

    def __init__(self, api: Api) -> None:
        self.api = api  # the GraphQL endpoint
        self.budget: graphql.Budget | None = None

    async def read(self, runs: Sequence[tuple[str, Json]]) -> list[Read | None]:
        """Each (repository, REST run)'s jobs and pending deployments, in order."""
        answers = await gather(self._ask(b) for b in batches(runs))
        return [found for answer in answers for found in answer]

    async def _ask(self, batch: Sequence[tuple[str, Json]]) -> list[Read | None]:
        labels = [f"{repo}: run {raw.get('id')}" for repo, raw in batch]
        query, variables = jobs_query([raw for _, raw in batch])
        nodes, budget = await graphql.ask(self.api, query, variables, labels, prefix="w")
        self.budget = graphql.newest(self.budget, budget)
        out = []
        for label, node in zip(labels, nodes, strict=True):
            try:
                out.append(read(node))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise Unreachable(
                    f"{self.api.name}: {label}: unexpected GraphQL shape ({exc!r:.80})"
                ) from None
        return out
