"""Argo Rollouts (through the Kubernetes API): Rollouts as canaries, the plugin's actions.

Rollouts, their ReplicaSets and AnalysisRuns are mirrored by list-then-watch. Each
Rollout is a canary and a deployment (its stable version and revision history). Promote
(step, or full with param full=true), abort, retry (re-run), pause, resume and undo
(rollback) send exactly what `kubectl argo rollouts` sends (see patches.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from cockpit.connector import Capability
from cockpit.errors import Rejected
from cockpit.model import Action, ActionKind, ActionResult, Canary, Deployment, Revision
from connectors.kube.base import KubeConnector, KubeOptions, Memo, stamp
from connectors.kube.client import (
    ANALYSISRUNS,
    DEPLOYMENTS,
    JSON_PATCH,
    MERGE_PATCH,
    REPLICASETS,
    ROLLOUTS,
    Resource,
    selector,
)
from connectors.kube.objects import (
    Obj,
    container_image,
    controller_uid,
    ident,
    last_manager,
    meta,
    parse_time,
    pick_revision,
    revision,
    target_revision,
    version_of,
    without_label,
)
from connectors.rollouts import patches
from connectors.rollouts.canary import (
    HASH_LABEL,
    REVISION,
    actual_weight,
    analysis_runs,
    analysis_series,
    analysis_text,
    at_pause_step,
    pause_reasons,
    pause_text,
    phase_of,
    rollout_state,
    set_weight,
    started_at,
    step_index,
    steps_of,
)


@dataclass
class RolloutsOptions(KubeOptions):
    container: str = field(
        default="",
        metadata={"help": "The container whose image tag is the version; default: the first."},
    )
    analysis: bool = field(
        default=True,
        metadata={
            "help": "Mirror AnalysisRuns and summarise their measurements as the canary's verdict."
        },
    )
    chart_analysis: bool = field(
        default=False,
        metadata={
            "help": "Also chart AnalysisRun measurements as the canary's metric series (canary only, no baseline)."
        },
    )


class ArgoRolloutsConnector(KubeConnector):
    """Argo Rollouts canaries with promote, abort, retry, pause, resume and undo."""

    CAPABILITIES = frozenset({Capability.CANARY, Capability.ENVIRONMENTS})
    ACTIONS = frozenset(
        {
            ActionKind.PROMOTE,
            ActionKind.ABORT,
            ActionKind.RETRY,
            ActionKind.PAUSE,
            ActionKind.RESUME,
            ActionKind.ROLLBACK,
        }
    )
    Options = RolloutsOptions
    WATCHES = (ROLLOUTS, REPLICASETS, ANALYSISRUNS)
    WORKLOAD = (ROLLOUTS, "Rollout", REVISION)
    DESCRIPTION = "Argo Rollouts canaries: steps, weights, analysis; promote, abort, retry, undo"

    options: RolloutsOptions

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._memo: Memo[Canary] = Memo()
        self._deployments: Memo[Deployment] = Memo()

    def watched(self) -> tuple[Resource, ...]:
        return self.WATCHES if self.options.analysis else (ROLLOUTS, REPLICASETS)

    def label_selector(self, resource: Resource) -> str:
        if resource is REPLICASETS:
            return HASH_LABEL  # only ReplicaSets that a Rollout made
        return self.options.label_selector if resource is ROLLOUTS else ""

    async def canaries(self) -> Sequence[Canary]:
        await self.sync()
        sets = {
            (meta(rs).get("namespace"), (meta(rs).get("labels") or {}).get(HASH_LABEL)): rs
            for rs in self.objects(REPLICASETS)
        }
        runs = {ident(run): run for run in self.objects(ANALYSISRUNS)}
        out = []
        for ro in self.objects(ROLLOUTS):
            status, namespace = ro.get("status") or {}, meta(ro).get("namespace")
            used = [sets.get((namespace, status.get(k))) for k in ("stableRS", "currentPodHash")]
            used += [runs.get(f"{namespace}/{name}") for _, name, _ in analysis_runs(ro)]
            out.append(
                self._memo.get(
                    ident(ro), stamp(ro, *used), partial(self._to_canary, ro, sets, runs)
                )
            )
        self._memo.done()
        return tuple(out)

    async def deployments(self) -> Sequence[Deployment]:
        """What each Rollout runs for sure: its stable ReplicaSet, and the revisions before."""
        await self.sync()
        return self.owned_deployments(ROLLOUTS, self._deployments, self._to_deployment)

    def _to_deployment(self, ro: Obj, sets: list[Obj]) -> Deployment:
        container = self.options.container
        stable_hash = str((ro.get("status") or {}).get("stableRS") or "")
        stable = next(
            (rs for rs in sets if (meta(rs).get("labels") or {}).get(HASH_LABEL) == stable_hash),
            None,
        )
        template = ((stable or ro).get("spec") or {}).get("template") or {}
        version, digest = version_of(container_image(template, container))
        current = revision(stable, REVISION) if stable is not None else None
        history = []
        for rs in sorted(sets, key=lambda rs: revision(rs, REVISION) or 0, reverse=True):
            rev = revision(rs, REVISION)
            if rev and current and rev < current:
                rs_template = (rs.get("spec") or {}).get("template") or {}
                rs_version, rs_digest = version_of(container_image(rs_template, container))
                history.append(
                    Revision(
                        version=rs_version,
                        digest=rs_digest,
                        deployed_at=parse_time(meta(rs).get("creationTimestamp")),
                        deployed_by="",
                        id=str(rev),
                    )
                )
        status, health, message = rollout_state(ro)
        created = parse_time(meta(ro).get("creationTimestamp"))
        return Deployment(
            service=self.service_of(ro),
            environment=self.environment_of(ro),
            version=version,
            digest=digest,
            deployed_at=parse_time(meta(stable).get("creationTimestamp"), created)
            if stable is not None
            else created,
            deployed_by=last_manager(ro),
            status=status,
            health=health,
            source=self.name,
            observed_at=self.clock.now(),
            history=tuple(history),
            remote_id=ident(ro),
            message=message,
        )

    def _to_canary(
        self, ro: Obj, sets: dict[tuple[object, object], Obj], runs: dict[str, Obj]
    ) -> Canary:
        status = ro.get("status") or {}
        namespace = meta(ro).get("namespace")
        template = (ro.get("spec") or {}).get("template") or {}
        canary_version, canary_digest = version_of(
            container_image(template, self.options.container)
        )
        stable_hash, canary_hash = (
            str(status.get("stableRS") or ""),
            str(status.get("currentPodHash") or ""),
        )
        stable_rs = sets.get((namespace, stable_hash))
        baseline = (
            version_of(
                container_image(
                    (stable_rs.get("spec") or {}).get("template") or {}, self.options.container
                )
            )[0]
            if stable_rs is not None
            else stable_hash
        )
        steps = len(steps_of(ro))
        wanted, actual = set_weight(ro), actual_weight(ro)
        notes = [status.get("message") if status.get("abort") else "", pause_text(ro)]
        if actual is not None and actual != wanted:
            notes.append(f"set weight {wanted}%, actual {actual}%")
        if canary_hash and canary_hash != stable_hash:
            notes.append(f"stable {stable_hash} → canary {canary_hash}")
        notes.append(analysis_text(ro, runs))
        return Canary(
            service=self.service_of(ro),
            environment=self.environment_of(ro),
            baseline_version=baseline,
            canary_version=canary_version,
            step=min(step_index(ro) + 1, steps),
            steps=steps,
            weight=actual if actual is not None else wanted,
            phase=phase_of(ro),
            started_at=started_at(ro, sets.get((namespace, canary_hash))),
            source=self.name,
            observed_at=self.clock.now(),
            metrics=analysis_series(ro, runs) if self.options.chart_analysis else (),
            canary_digest=canary_digest,
            message="; ".join(str(n) for n in notes if n),
            remote_id=ident(ro),
            at_pause_step=at_pause_step(ro),
        )

    # Actions -------------------------------------------------------------------------
    async def execute(self, action: Action) -> ActionResult:
        kind = action.kind
        if kind not in self.ACTIONS:
            raise Rejected(f"{self.name} cannot {kind.value}")
        await self.sync()
        known = self.find(ROLLOUTS, action)
        namespace, name = str(meta(known)["namespace"]), str(meta(known)["name"])
        kube = await self.kube()
        ro = await kube.get(ROLLOUTS.item(namespace, name))
        if kind is ActionKind.ROLLBACK:
            return await self._undo(ro, action)
        full = kind is ActionKind.PROMOTE and action.param("full") == "true"
        plan = {
            ActionKind.PROMOTE: lambda: patches.promote_full(ro) if full else patches.promote(ro),
            ActionKind.ABORT: patches.abort,
            ActionKind.RETRY: patches.retry,
            ActionKind.PAUSE: patches.pause,
            ActionKind.RESUME: lambda: patches.resume(ro),
        }[kind]()
        if kind is ActionKind.RESUME and plan.spec is None and plan.status is None:
            raise Rejected(f"rollout {namespace}/{name} is not paused: nothing to resume")
        await self._send(namespace, name, plan)
        done = {
            ActionKind.PROMOTE: "fully promoted" if full else "promoted",
            ActionKind.ABORT: "aborted",
            ActionKind.RETRY: "retried",
            ActionKind.PAUSE: "paused",
            ActionKind.RESUME: "resumed",
        }[kind]
        if kind is ActionKind.RESUME:
            done += ": lifted " + " and ".join(
                (["the operator's pause"] if plan.spec else [])
                + [f"the {reason} pause" for reason in pause_reasons(ro) if plan.status]
            )
        return ActionResult(True, f"rollout {namespace}/{name} {done}", f"{namespace}/{name}")

    async def _send(self, namespace: str, name: str, plan: patches.Plan) -> None:
        kube = await self.kube()
        spec = plan.spec
        if plan.status is not None:
            status = await kube.patch(
                ROLLOUTS.item(namespace, name, "status"), plan.status, MERGE_PATCH, accept=(404,)
            )
            if status == 404:  # no status subresource (Rollouts v0.9): one unified patch
                spec = plan.unified
        if spec is not None:
            await kube.patch(ROLLOUTS.item(namespace, name), spec, MERGE_PATCH)

    async def _undo(self, ro: Obj, action: Action) -> ActionResult:
        """`kubectl argo rollouts undo [--to-revision=N]`: N from the history row, a number or
        an image tag."""
        namespace, name = str(meta(ro)["namespace"]), str(meta(ro)["name"])
        kube = await self.kube()
        listed = await kube.get(
            REPLICASETS.collection(namespace),
            {"labelSelector": selector((ro.get("spec") or {}).get("selector"))},
        )
        sets = [
            rs
            for rs in (listed or {}).get("items") or []
            if controller_uid(rs) == meta(ro).get("uid")
        ]
        wanted = (
            int(action.remote_id)
            if action.remote_id.isdigit()
            else target_revision(action.version, sets, REVISION, self.options.container)
        )
        rs = pick_revision(sets, REVISION, wanted)
        if rs is None:
            raise Rejected(
                f"unable to find specified revision {wanted} in history"
                if wanted
                else f"no revision found for rollout {name!r}"
            )
        rev = revision(rs, REVISION)
        template = without_label((rs.get("spec") or {}).get("template") or {}, HASH_LABEL)
        if template == without_label((ro.get("spec") or {}).get("template") or {}, HASH_LABEL):
            return ActionResult(
                True,
                f"skipped rollback (current template already matches revision {rev})",
                ident(ro),
            )
        target = ROLLOUTS.item(namespace, name)
        ref = (ro.get("spec") or {}).get("workloadRef")
        if ref:
            if ref.get("kind") not in ("Deployment", "ReplicaSet"):
                raise Rejected(
                    f"undo through a workloadRef of kind {ref.get('kind')!r} is not supported"
                )
            resource = DEPLOYMENTS if ref["kind"] == "Deployment" else REPLICASETS
            target = resource.item(namespace, str(ref.get("name", "")))
        await kube.patch(target, patches.undo(template), JSON_PATCH)
        version_now = version_of(container_image(template, self.options.container))[0]
        return ActionResult(
            True,
            f"rollout {namespace}/{name} rolled back to revision {rev} ({version_now})",
            ident(ro),
        )
