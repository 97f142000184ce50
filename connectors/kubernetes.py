"""Kubernetes apps/v1 Deployments: what runs where, rollout status as kubectl computes it.

Deployments (and, for history, their ReplicaSets) are mirrored by list-then-watch. The
actions are kubectl's own API calls: rollback is `kubectl rollout undo` (a JSON patch
of the template and annotations, from kubectl's polymorphichelpers/rollback.go) and
restart is `kubectl rollout restart` (a strategic merge patch of the restartedAt
annotation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cockpit.connector import Capability
from cockpit.errors import Rejected
from cockpit.model import Action, ActionKind, ActionResult, Deployment, Health, Revision, Status
from connectors.kube.base import KubeConnector, KubeOptions, Memo, require
from connectors.kube.client import (
    DEPLOYMENTS,
    JSON_PATCH,
    REPLICASETS,
    STRATEGIC_PATCH,
    Resource,
    selector,
)
from connectors.kube.objects import (
    Obj,
    condition,
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

REVISION = "deployment.kubernetes.io/revision"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
HASH_LABEL = "pod-template-hash"
# Annotations `rollout undo` keeps from the Deployment rather than copying from the ReplicaSet.
KEEP_ANNOTATIONS = (
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
)


@dataclass
class KubernetesOptions(KubeOptions):
    container: str = field(
        default="",
        metadata={"help": "The container whose image tag is the version; default: the first."},
    )
    history: bool = field(
        default=True,
        metadata={
            "help": "Mirror ReplicaSets too, for revision history (rollback targets) and deploy times."
        },
    )


def rollout_status(obj: Obj) -> tuple[Status, Health, str]:
    """`kubectl rollout status`'s decision, plus paused as suspended."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    name = meta(obj).get("name", "")
    if int(meta(obj).get("generation") or 0) > int(status.get("observedGeneration") or 0):
        return Status.RUNNING, Health.PROGRESSING, "waiting for spec update to be observed"
    if spec.get("paused"):
        return Status.WAITING, Health.SUSPENDED, "rollout paused"
    progressing = condition(obj, "Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        return Status.FAILED, Health.DEGRADED, f"deployment {name!r} exceeded its progress deadline"
    wanted = int(spec.get("replicas", 1))
    replicas = int(status.get("replicas") or 0)
    updated = int(status.get("updatedReplicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    if updated < wanted:
        why = f"{updated} out of {wanted} new replicas have been updated"
    elif replicas > updated:
        why = f"{replicas - updated} old replicas are pending termination"
    elif available < updated:
        why = f"{available} of {updated} updated replicas are available"
    else:
        return Status.SUCCEEDED, Health.HEALTHY, "successfully rolled out"
    return Status.RUNNING, Health.PROGRESSING, f"waiting for rollout to finish: {why}"


class KubernetesConnector(KubeConnector):
    """Deployments as deployments; rollback (rollout undo) and restart (rollout restart)."""

    CAPABILITIES = frozenset({Capability.ENVIRONMENTS})
    ACTIONS = frozenset({ActionKind.ROLLBACK, ActionKind.RESTART})
    Options = KubernetesOptions
    WATCHES = (DEPLOYMENTS, REPLICASETS)
    WORKLOAD = (DEPLOYMENTS, "Deployment", REVISION)
    DESCRIPTION = "Kubernetes Deployments: versions, rollout status, rollback and restart"

    options: KubernetesOptions

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._memo: Memo[Deployment] = Memo()
        self._seen: tuple[int, ...] = ()
        self._last: tuple[Deployment, ...] = ()

    def watched(self) -> tuple[Resource, ...]:
        return self.WATCHES if self.options.history else (DEPLOYMENTS,)

    def label_selector(self, resource: Resource) -> str:
        # ReplicaSets carry the pod template's labels, not the Deployment's.
        return self.options.label_selector if resource is DEPLOYMENTS else ""

    async def deployments(self) -> Sequence[Deployment]:
        await self.sync()
        generation = self.generation()
        if generation == self._seen:
            return self._last
        self._last = self.owned_deployments(DEPLOYMENTS, self._memo, self._to_deployment)
        self._seen = generation
        return self._last

    def _to_deployment(self, obj: Obj, sets: list[Obj]) -> Deployment:
        container = self.options.container
        template = (obj.get("spec") or {}).get("template") or {}
        version, digest = version_of(container_image(template, container))
        status, health, message = rollout_status(obj)
        current = revision(obj, REVISION)
        by_revision = sorted(
            ((revision(rs, REVISION) or 0, rs) for rs in sets), key=lambda p: p[0], reverse=True
        )
        deployed_at = self._deployed_at(
            obj, next((rs for r, rs in by_revision if r == current), None)
        )
        history = []
        for rev, rs in by_revision:
            if rev and current is not None and rev < current:
                rs_version, rs_digest = version_of(
                    container_image((rs.get("spec") or {}).get("template") or {}, container)
                )
                history.append(
                    Revision(
                        version=rs_version,
                        digest=rs_digest,
                        deployed_at=parse_time(meta(rs).get("creationTimestamp")),
                        deployed_by="",
                        id=str(rev),
                    )
                )
        return Deployment(
            service=self.service_of(obj),
            environment=self.environment_of(obj),
            version=version,
            digest=digest,
            deployed_at=deployed_at,
            deployed_by=last_manager(obj),
            status=status,
            health=health,
            source=self.name,
            observed_at=self.clock.now(),
            history=tuple(history),
            remote_id=ident(obj),
            message=message,
        )

    def _deployed_at(self, obj: Obj, current_rs: Obj | None) -> datetime:
        created = parse_time(meta(obj).get("creationTimestamp"))
        if current_rs is not None:
            return parse_time(meta(current_rs).get("creationTimestamp"), created)
        progressing = condition(obj, "Progressing") or {}
        if progressing.get("reason") == "NewReplicaSetAvailable":
            return parse_time(progressing.get("lastUpdateTime"), created)
        return created

    # Actions -------------------------------------------------------------------------
    async def execute(self, action: Action) -> ActionResult:
        if action.kind is ActionKind.ROLLBACK:
            return await self._rollback(action)
        if action.kind is ActionKind.RESTART:
            return await self._restart(action)
        raise Rejected(f"{self.name} cannot {action.kind.value}")

    async def _fresh(self, action: Action) -> tuple[Obj, str, str]:
        await self.sync()
        known = self.find(DEPLOYMENTS, action)
        namespace, name = meta(known)["namespace"], meta(known)["name"]
        kube = await self.kube()
        return await kube.get(DEPLOYMENTS.item(namespace, name)), namespace, name

    async def _rollback(self, action: Action) -> ActionResult:
        """`kubectl rollout undo [--to-revision=N]`: N from the history row, a number or a tag."""
        dep, namespace, name = await self._fresh(action)
        require(
            not (dep.get("spec") or {}).get("paused"),
            "you cannot rollback a paused deployment; resume it first and try again",
        )
        kube = await self.kube()
        listed = await kube.get(
            REPLICASETS.collection(namespace),
            {"labelSelector": selector((dep.get("spec") or {}).get("selector"))},
        )
        uid = meta(dep).get("uid")
        sets = [rs for rs in (listed or {}).get("items") or [] if controller_uid(rs) == uid]
        # The plan names the history row's revision; by hand, a version or revision number.
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
                else f"no rollout history found for deployment {name!r}"
            )
        rev = revision(rs, REVISION)
        template = (rs.get("spec") or {}).get("template") or {}
        current = (dep.get("spec") or {}).get("template") or {}
        if without_label(template, HASH_LABEL) == without_label(current, HASH_LABEL):
            return ActionResult(
                True,
                f"skipped rollback (current template already matches revision {rev})",
                ident(dep),
            )
        annotations = {
            k: v for k, v in (meta(dep).get("annotations") or {}).items() if k in KEEP_ANNOTATIONS
        }
        annotations.update(
            {
                k: v
                for k, v in (meta(rs).get("annotations") or {}).items()
                if k not in KEEP_ANNOTATIONS
            }
        )
        patch = [
            {
                "op": "replace",
                "path": "/spec/template",
                "value": without_label(template, HASH_LABEL),
            },
            {"op": "replace", "path": "/metadata/annotations", "value": annotations},
        ]
        await kube.patch(DEPLOYMENTS.item(namespace, name), patch, JSON_PATCH)
        version, _ = version_of(container_image(template, self.options.container))
        return ActionResult(
            True,
            f"deployment {namespace}/{name} rolled back to revision {rev} ({version})",
            ident(dep),
        )

    async def _restart(self, action: Action) -> ActionResult:
        """`kubectl rollout restart`: stamp the pod template with the local time."""
        dep, namespace, name = await self._fresh(action)
        spec = dep.get("spec") or {}
        require(
            not spec.get("paused"), "can't restart paused deployment (run rollout resume first)"
        )
        stamp = self.clock.now().astimezone().isoformat(timespec="seconds").replace("+00:00", "Z")
        annotations = ((spec.get("template") or {}).get("metadata") or {}).get("annotations") or {}
        if annotations.get(RESTARTED_AT) == stamp:
            raise Rejected(
                f"deployment {namespace}/{name} was restarted within this second already"
            )
        patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
        kube = await self.kube()
        await kube.patch(DEPLOYMENTS.item(namespace, name), patch, STRATEGIC_PATCH)
        return ActionResult(True, f"deployment {namespace}/{name} restarted", ident(dep))
