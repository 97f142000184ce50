"""The demo fleet's supply-chain documents: real formats, made from the seed, never fetched.

Per pipeline run, as its stages finish: after the build a CycloneDX SBOM and a DSSE
envelope with a SLSA v1 provenance statement signed by the demo's Ed25519 key; after the
tests a JUnit XML report (two attempts where the flaky test failed first); after the scan
GitHub's code-scanning alerts for the commit. Three services carry a problem each, so the
promote dialog shows every gate at work: the last service depends on a GPL-3.0-only
library, `catalog` (the third) has an open high alert, `search` (the fourth) a known-flaky
test. A run that failed its tests names its failing tests.

The signing key is public on purpose (it is the demo's): its public half is in the demo's
built-in policy (`cockpit.actions.supply_config.DEMO_PUBLIC_KEY`).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from cockpit.evidence_model import (
    CYCLONEDX_JSON,
    DSSE_ENVELOPE,
    GITHUB_CODE_SCANNING,
    JUNIT_XML,
)
from cockpit.model import Evidence, EvidenceKind, Status
from connectors.demo.digest import sha256_hex
from connectors.demo.sim_runs import RunState, tests_of

# sha256 of a sentence: the demo's key, public like the rest of the demo.
DEMO_KEY_SEED = bytes.fromhex("f7ee438d2a8a0cbc0b9172256109601236e863d5c39756acafe16ebad8922574")
DEMO_KEY_ID = "cockpit-demo-provenance"
BUILDER = "https://github.com/actions/runner/github-hosted"
OWNER = "acme-demo"
WORKFLOW = ".github/workflows/release.yml"
EVIDENCE_SERVICES = 100  # the first services have documents; past them a large fleet has none
FLAKY_TEST = "test_checkout_survives_upstream_timeout"
LIBRARIES = (  # (name, version, SPDX licence) every service depends on
    ("httpx", "0.28.1", "BSD-3-Clause"),
    ("pydantic", "2.9.2", "MIT"),
    ("urllib3", "2.2.3", "MIT"),
    ("protobuf", "5.28.2", "BSD-3-Clause"),
    ("opentelemetry-api", "1.27.0", "Apache-2.0"),
    ("structlog", "24.4.0", "MIT OR Apache-2.0"),
)
COPYLEFT = ("readline-compat", "8.2.0", "GPL-3.0-only")
MODULES = ("api", "models", "storage", "retry", "auth", "metrics")


@dataclass(frozen=True)
class Traits:
    """Which services the demo gives a supply-chain problem."""

    copyleft: str
    alerting: str
    flaky: str

    @staticmethod
    def of(services: list[str]) -> Traits:
        n = len(services)
        return Traits(copyleft=services[-1], alerting=services[2 % n], flaky=services[3 % n])


def progress(run: RunState) -> int:
    """How many of build, test and scan have finished: a run's documents change with it."""
    done = 0
    for status in run.stage_status[:3]:
        if status not in (Status.SUCCEEDED, Status.FAILED):
            break
        done += 1
    return done


def run_evidence(run: RunState, traits: Traits, source: str) -> tuple[Evidence, ...]:
    """The documents of one run as far as it has got."""
    out: list[Evidence] = []
    stages = run.stage_status
    finished = run.stage_finished

    def doc(kind: EvidenceKind, media: str, body: bytes, at: datetime | None, **kw: Any) -> None:
        out.append(
            Evidence(
                kind=kind,
                service=run.service,
                version=run.version,
                source=source,
                observed_at=at or run.queued_at,
                media_type=media,
                body=body,
                run_id=run.id,
                **kw,
            )
        )

    if stages[0] is Status.SUCCEEDED:
        digest = run.digest
        doc(
            EvidenceKind.SBOM,
            CYCLONEDX_JSON,
            sbom(run, traits),
            finished[0],
            subject=digest,
            ref=f"{run.id}/sbom.cdx.json",
        )
        doc(
            EvidenceKind.PROVENANCE,
            DSSE_ENVELOPE,
            provenance(run, digest),
            finished[0],
            subject=digest,
            ref=f"{run.id}/provenance.intoto.jsonl",
        )
    if stages[1] in (Status.SUCCEEDED, Status.FAILED):
        flaky = run.service == traits.flaky and run.number % 2 == 0 and run.fail_at != 1
        if flaky:  # the first attempt failed on the flaky test, the re-run passed
            doc(
                EvidenceKind.TESTS,
                JUNIT_XML,
                junit(run, flaky_failed=True),
                finished[1],
                subject=run.commit,
                ref=f"{run.id}/attempt-1/junit.xml",
                attempt=1,
            )
        doc(
            EvidenceKind.TESTS,
            JUNIT_XML,
            junit(run),
            finished[1],
            subject=run.commit,
            ref=f"{run.id}/attempt-{2 if flaky else 1}/junit.xml",
            attempt=2 if flaky else 1,
        )
    if stages[2] in (Status.SUCCEEDED, Status.FAILED):
        doc(
            EvidenceKind.SCAN,
            GITHUB_CODE_SCANNING,
            alerts(run, traits),
            finished[2],
            subject=run.commit,
            ref=f"{run.id}/code-scanning/alerts",
        )
    return tuple(out)


def _json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True).encode()


def sbom(run: RunState, traits: Traits) -> bytes:
    libs = [*LIBRARIES, *([COPYLEFT] if run.service == traits.copyleft else [])]
    return _json(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.5",
            "serialNumber": "urn:uuid:" + _uuid(f"sbom:{run.service}:{run.version}"),
            "version": 1,
            "metadata": {
                "component": {"type": "container", "name": run.service, "version": run.version}
            },
            "components": [
                {
                    "type": "library",
                    "name": name,
                    "version": version,
                    "purl": f"pkg:pypi/{name}@{version}",
                    "licenses": [{"expression": licence}]
                    if " " in licence
                    else [{"license": {"id": licence}}],
                }
                for name, version, licence in libs
            ],
        }
    )


def statement(run: RunState, digest: str) -> bytes:
    """The in-toto Statement with SLSA v1 provenance, as GitHub's generator writes it."""
    repo = f"https://github.com/{OWNER}/{run.service}"
    return _json(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [
                {
                    "name": f"registry.example/{OWNER}/{run.service}",
                    "digest": {"sha256": digest.removeprefix("sha256:")},
                }
            ],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {
                "buildDefinition": {
                    "buildType": "https://actions.github.io/buildtypes/workflow/v1",
                    "externalParameters": {
                        "workflow": {"ref": "refs/heads/main", "repository": repo, "path": WORKFLOW}
                    },
                    "resolvedDependencies": [
                        {"uri": f"git+{repo}@refs/heads/main", "digest": {"gitCommit": run.commit}}
                    ],
                },
                "runDetails": {
                    "builder": {"id": BUILDER},
                    "metadata": {"invocationId": f"{repo}/actions/runs/{run.number}/attempts/1"},
                },
            },
        }
    )


def provenance(run: RunState, digest: str) -> bytes:
    """A DSSE envelope over the statement, signed with the demo key (Ed25519 over PAE)."""
    payload = statement(run, digest)
    kind = b"application/vnd.in-toto+json"
    pae = b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)
    signature = _key().sign(pae)
    return _json(
        {
            "payloadType": kind.decode(),
            "payload": base64.b64encode(payload).decode(),
            "signatures": [{"keyid": DEMO_KEY_ID, "sig": base64.b64encode(signature).decode()}],
        }
    )


@lru_cache(maxsize=1)
def _key() -> Any:
    # cryptography loads with the first document, after the first frame (start-up time).
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(DEMO_KEY_SEED)


def junit(run: RunState, flaky_failed: bool = False) -> bytes:
    """JUnit XML agreeing with the run's test summary: the same totals and failures."""
    summary = tests_of(run)
    failed = 1 if flaky_failed else summary.failed
    n = summary.total
    # Names are the demo's own ([a-z0-9_.-]): written as they are, no escaping needed.
    cases = [
        f'    <testcase classname="tests.{run.service}.test_upstream" name="{FLAKY_TEST}" '
        f'time="0.010">{_TIMEOUT if flaky_failed else ""}</testcase>'
    ]
    for i in range(1, n):
        module = MODULES[i % len(MODULES)]
        body, name = "", f"test_{module}_case_{i:03d}"
        if not flaky_failed and i <= failed:
            # A real regression: new tests that caught it, failing in this run only.
            body = _failure(f"AssertionError: expected status 200, got {500 + i}")
            name = f"test_{module}_regression_{run.number}_{i}"
        elif i > n - 1 - summary.skipped:
            body = _SKIPPED
        cases.append(
            f'    <testcase classname="tests.{run.service}.test_{module}" '
            f'name="{name}" time="0.{10 + i * 37 % 100:03d}">{body}</testcase>'
        )
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n  <testsuite name="{run.service}" '
        f'tests="{n}" failures="{failed}" errors="0" skipped="{summary.skipped}">'
    )
    return "\n".join([head, *cases, "  </testsuite>", "</testsuites>", ""]).encode()


def _failure(message: str) -> str:
    return f'<failure message="{message}" type="AssertionError">{message}</failure>'


_TIMEOUT = _failure("TimeoutError: upstream did not answer within 2.0s")
_SKIPPED = '<skipped message="needs a live payment sandbox"/>'


def alerts(run: RunState, traits: Traits) -> bytes:
    """GitHub's code-scanning alerts open (or fixed) on the run's commit."""
    found = [
        _alert(
            run,
            1,
            "py/clear-text-logging-sensitive-data",
            "warning",
            "medium",
            "fixed",
            "src/logging.py",
        )
    ]
    if run.service == traits.alerting:
        found.append(
            _alert(run, 7, "py/sql-injection", "error", "high", "open", "src/storage/query.py")
        )
    if run.fail_at == 2:  # the scan stage failed on this run: it found something critical
        found.append(
            _alert(
                run, 9, "py/command-line-injection", "error", "critical", "open", "src/api/admin.py"
            )
        )
    return _json(found)


def _alert(
    run: RunState, number: int, rule: str, severity: str, level: str, state: str, path: str
) -> dict[str, Any]:
    url = f"https://github.com/{OWNER}/{run.service}/security/code-scanning/{number}"
    return {
        "number": number,
        "created_at": run.queued_at.isoformat().replace("+00:00", "Z"),
        "url": f"https://api.github.com/repos/{OWNER}/{run.service}/code-scanning/alerts/{number}",
        "html_url": url,
        "state": state,
        "rule": {
            "id": rule,
            "severity": severity,
            "security_severity_level": level,
            "description": rule.split("/", 1)[1].replace("-", " "),
            "tags": ["security"],
        },
        "tool": {"name": "CodeQL", "guid": None, "version": "2.19.1"},
        "most_recent_instance": {
            "ref": "refs/heads/main",
            "analysis_key": ".github/workflows/codeql.yml:analyze",
            "category": ".github/workflows/codeql.yml:analyze/language:python",
            "state": state,
            "commit_sha": run.commit,
            "message": {"text": rule.split("/", 1)[1].replace("-", " ")},
            "location": {"path": path, "start_line": 40 + number, "end_line": 40 + number},
            "classifications": [],
        },
    }


def _uuid(text: str) -> str:
    h = sha256_hex(text)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
