"""Log tools: one Pod's log (current or previous container), and a workload's logs folded into
signatures. Logs are redacted (by Tool.run) and treated strictly as data."""

from __future__ import annotations

from kubernetes.client.rest import ApiException
from pydantic import Field

from agents.analyzers.logs import signatures
from agents.analyzers.objects import meta, pod_owner_ref
from agents.tools.base import Tool, ToolArgs, ToolError, ToolResult
from agents.tools.cluster import Cluster, ClusterUnreachable
from agents.tools.k8s_read import list_pods, namespaced

MAX_PODS = 40
PODS_PER_WORKLOAD = 2


class PodLogArgs(ToolArgs):
    namespace: str
    pod: str
    container: str | None = None
    previous: bool = Field(False, description="the previous (crashed) container's log")
    tail: int = Field(200, ge=1, le=5000, description="last N lines")


class SignatureArgs(ToolArgs):
    namespace: str | None = Field(None, description="omit for all namespaces (kube-system skipped)")
    selector: str | None = Field(None, description="label selector of the Pods, e.g. app=checkout")
    pod: str | None = Field(None, description="one Pod instead of a selector")
    tail: int = Field(500, ge=1, le=5000)


def pod_log(
    cluster: Cluster, ns: str, pod: str, container: str | None, previous: bool, tail: int
) -> str:
    """A Pod's log text; '' when the (previous) container has none."""
    kw: dict = {"tail_lines": tail, "previous": previous}
    if container:
        kw["container"] = container
    try:
        return cluster.call(cluster.core().read_namespaced_pod_log, pod, ns, **kw) or ""
    except ApiException as exc:
        if exc.status in (400, 404) and previous:
            return ""  # no previous container: not an error for an investigation
        raise ToolError(
            f"log of Pod {ns}/{pod}: HTTP {exc.status} {exc.reason}; check the Pod and container names"
        ) from exc
    except ClusterUnreachable as exc:
        raise ToolError(str(exc)) from exc


def _crashed(pod: dict) -> bool:
    return any(
        (cs.get("restartCount") or 0) > 0 or (cs.get("lastState") or {}).get("terminated")
        for cs in (pod.get("status") or {}).get("containerStatuses") or []
    )


def services_by_ip(cluster: Cluster) -> dict[str, dict[str, str]]:
    """Cluster IP -> {"namespace", "service"} for every Service: callers often log only the IP
    they dialled. Empty when Services cannot be listed."""
    core = cluster.core()
    try:
        svcs = namespaced(
            cluster, None, core.list_namespaced_service, core.list_service_for_all_namespaces
        )
    except ToolError:
        return {}
    out = {}
    for s in svcs:
        ip = (s.get("spec") or {}).get("clusterIP")
        if ip and ip != "None":
            out[ip] = {"namespace": meta(s).get("namespace"), "service": meta(s).get("name")}
    return out


def build(cluster: Cluster) -> list[Tool]:
    """The log tools bound to one cluster."""

    def logs_pod(a: PodLogArgs) -> ToolResult:
        text = pod_log(cluster, a.namespace, a.pod, a.container, a.previous, a.tail)
        return ToolResult(text=text or "(empty log)", data={"text": text})

    def logs_signatures(a: SignatureArgs) -> ToolResult:
        pods = list_pods(cluster, a.namespace, a.selector)
        if a.pod:
            pods = [p for p in pods if meta(p).get("name") == a.pod]
        # A few Pods per workload: replicas print the same lines, and logs are the costly call.
        chosen: dict[str, list[dict]] = {}
        for p in pods:
            group = chosen.setdefault(pod_owner_ref(p), [])
            if len(group) < PODS_PER_WORKLOAD and sum(map(len, chosen.values())) < MAX_PODS:
                group.append(p)
        by_workload: dict[str, list[dict]] = {}
        lines: list[str] = []
        for ref, group in chosen.items():
            texts = []
            for p in group:
                name, ns = meta(p).get("name"), meta(p).get("namespace")
                texts.append(pod_log(cluster, ns, name, None, False, a.tail))
                if _crashed(p):
                    texts.append(pod_log(cluster, ns, name, None, True, a.tail))
            sigs = signatures("\n".join(t for t in texts if t))
            if not sigs:
                continue
            by_workload[ref] = sigs
            lines.append(f"{ref}:")
            lines += [
                f"  {s['count']}x [{','.join(s['classes']) or ('error' if s['errorish'] else 'info')}] "
                f"{s['example'].splitlines()[0][:240]}"
                + (f"  (first {s['first_seen']}, last {s['last_seen']})" if s["first_seen"] else "")
                for s in sigs[:8]
            ]
        return ToolResult(
            text="\n".join(lines) or "no log lines",
            data={"by_workload": by_workload, "services_by_ip": services_by_ip(cluster)},
        )

    return [
        Tool(
            "logs_pod",
            "One Pod's log (current or previous container), last N lines.",
            PodLogArgs,
            logs_pod,
            narrow_hint="pass a smaller tail=",
        ),
        Tool(
            "logs_signatures",
            "A workload's log lines grouped into signatures with counts, first/last seen and classes.",
            SignatureArgs,
            logs_signatures,
            narrow_hint="pass a narrower selector= or pod=",
        ),
    ]
