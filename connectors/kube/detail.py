"""The pods view of a Deployment or Rollout: ReplicaSets per revision, pods, events, logs.

Fetched on demand (three GETs: the workload's ReplicaSets and pods by its selector, the
namespace's events), never mirrored: a fleet's pods would dwarf everything else we watch.
Pod rows follow `kubectl get pods`: READY is ready/total containers, STATUS the phase
unless a container waits or terminated for a reason (CrashLoopBackOff, OOMKilled).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from cockpit.fleet.detail import (
    EVENTS_SHOWN,
    EventRow,
    LogTarget,
    PodRow,
    RevisionRow,
    ServiceDetail,
)
from cockpit.model import EPOCH
from connectors.kube.client import EVENTS, PODS, REPLICASETS, Kube, selector
from connectors.kube.objects import (
    Obj,
    container_image,
    controller_uid,
    meta,
    parse_time,
    revision,
    version_of,
)

EVENT_PAGE = 500  # the newest events of a busy namespace are enough for the last 20
LOG_IDLE = 3600.0  # seconds a followed log may stay quiet (an idle pod) before we reconnect


async def fetch(
    kube: Kube,
    owner: Obj,
    *,
    kind: str,
    annotation: str,
    container: str,
    source: str,
    service: str,
    environment: str,
    now: datetime,
) -> ServiceDetail:
    """Build the detail of `owner` (a Deployment or Rollout object from the mirror)."""
    m = meta(owner)
    namespace, name, uid = str(m.get("namespace", "")), str(m.get("name", "")), m.get("uid")
    query = {"labelSelector": selector((owner.get("spec") or {}).get("selector"))}
    listed = await kube.get(REPLICASETS.collection(namespace), query)
    sets = [rs for rs in (listed or {}).get("items") or [] if controller_uid(rs) == uid]
    pods_listed = await kube.get(PODS.collection(namespace), query)
    set_revision = {str(meta(rs).get("uid")): revision(rs, annotation) or 0 for rs in sets}
    pods = [p for p in (pods_listed or {}).get("items") or [] if controller_uid(p) in set_revision]
    current = revision(owner, annotation)
    revisions = sorted(
        (revision_row(rs, annotation, container, current) for rs in sets),
        key=lambda r: r.revision,
        reverse=True,
    )
    events_listed = await kube.get(EVENTS.collection(namespace), {"limit": EVENT_PAGE})
    about = {name} | {str(meta(o).get("name", "")) for o in (*sets, *pods)}
    events = sorted(
        (
            event_row(e)
            for e in (events_listed or {}).get("items") or []
            if (e.get("involvedObject") or {}).get("name") in about
        ),
        key=lambda e: e.at,
    )[-EVENTS_SHOWN:]
    return ServiceDetail(
        source=source,
        service=service,
        environment=environment,
        kind=kind,
        namespace=namespace,
        name=name,
        revisions=tuple(revisions),
        pods=tuple(
            sorted(
                (pod_row(p, set_revision.get(controller_uid(p), 0)) for p in pods),
                key=lambda p: (-p.revision, p.name),
            )
        ),
        events=tuple(events),
        observed_at=now,
    )


def revision_row(rs: Obj, annotation: str, container: str, current: int | None) -> RevisionRow:
    spec, status = rs.get("spec") or {}, rs.get("status") or {}
    rev = revision(rs, annotation) or 0
    version, _ = version_of(container_image(spec.get("template") or {}, container))
    return RevisionRow(
        name=str(meta(rs).get("name", "")),
        revision=rev,
        version=version,
        desired=int(spec.get("replicas") or 0),
        ready=int(status.get("readyReplicas") or 0),
        available=int(status.get("availableReplicas") or 0),
        current=rev == current,
    )


def pod_row(pod: Obj, rev: int) -> PodRow:
    status = pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    containers = tuple(
        str(c.get("name", "")) for c in (pod.get("spec") or {}).get("containers") or []
    )
    shown = str(status.get("reason") or status.get("phase") or "Unknown")
    for c in statuses:
        state = c.get("state") or {}
        why = (state.get("waiting") or {}).get("reason") or (state.get("terminated") or {}).get(
            "reason"
        )
        if why:
            shown = str(why)
    if meta(pod).get("deletionTimestamp"):
        shown = "Terminating"
    return PodRow(
        name=str(meta(pod).get("name", "")),
        ready=f"{sum(1 for c in statuses if c.get('ready'))}/{len(containers) or len(statuses)}",
        status=shown,
        restarts=sum(int(c.get("restartCount") or 0) for c in statuses),
        created=parse_time(meta(pod).get("creationTimestamp")),
        node=str((pod.get("spec") or {}).get("nodeName") or ""),
        revision=rev,
        containers=containers,
    )


def event_row(event: Obj) -> EventRow:
    """core/v1 Event: series and eventTime on new reporters, lastTimestamp on old ones."""
    involved = event.get("involvedObject") or {}
    series = event.get("series") or {}
    at = parse_time(
        series.get("lastObservedTime")
        or event.get("lastTimestamp")
        or event.get("eventTime")
        or meta(event).get("creationTimestamp"),
        EPOCH,
    )
    return EventRow(
        at=at,
        type=str(event.get("type") or ""),
        reason=str(event.get("reason") or ""),
        object=f"{involved.get('kind', '')}/{involved.get('name', '')}",
        message=str(event.get("message") or ""),
        count=int(series.get("count") or event.get("count") or 1),
    )


async def follow(kube: Kube, target: LogTarget, tail: int) -> AsyncIterator[str]:
    """`kubectl logs -f --tail=N`: the pod's log lines as they are written."""
    params = {"follow": "true", "tailLines": str(tail)}
    if target.container:
        params["container"] = target.container
    path = f"{PODS.item(target.namespace, target.pod)}/log"
    async with kube.stream(path, params, LOG_IDLE) as resp:
        async for line in resp.aiter_lines():
            yield line
