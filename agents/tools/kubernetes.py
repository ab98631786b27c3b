"""Kubernetes tools, through the official client only. Each returns a compact text for people and
models, and the raw objects (plain API dicts) in `data` for the analyzers.

Secret values are never returned: Secrets are reduced to their metadata and key names the moment
they are read."""

from __future__ import annotations

from pydantic import Field

from agents.analyzers.objects import meta, revision
from agents.analyzers.rollouts import template_diff
from agents.tools.base import Tool, ToolArgs, ToolError, ToolResult
from agents.tools.cluster import Cluster
from agents.tools.k8s_read import (
    config_refs,
    event_line,
    list_events,
    list_pods,
    namespaced,
    pod_line,
    read_object,
)

NS_DESC = "namespace; omit for all namespaces (kube-system skipped)"


class NamespaceArgs(ToolArgs):
    namespace: str | None = Field(None, description=NS_DESC)


class PodsArgs(NamespaceArgs):
    selector: str | None = Field(None, description="label selector, e.g. app=checkout")
    limit: int = Field(200, ge=1, le=1000)


class ObjectArgs(ToolArgs):
    kind: str = Field(
        description="Pod, Deployment, ReplicaSet, Service, Endpoints, Node, ConfigMap, Secret, ResourceQuota, NetworkPolicy, StatefulSet, DaemonSet, Namespace"
    )
    name: str
    namespace: str | None = Field(None, description="required for namespaced kinds")


class EventsArgs(NamespaceArgs):
    name: str | None = Field(None, description="only events about objects with this name prefix")
    limit: int = Field(50, ge=1, le=500)


class WorkloadArgs(ToolArgs):
    namespace: str
    name: str = Field(description="Deployment name")


class ServicesArgs(NamespaceArgs):
    name: str | None = Field(None, description="one Service; omit for all in the namespace")


class NoArgs(ToolArgs):
    pass


def _yaml_text(obj: dict) -> str:
    import yaml

    m = dict(meta(obj))
    m.pop("managedFields", None)  # noise for readers; analyzers keep it in data
    return yaml.safe_dump({**obj, "metadata": m}, sort_keys=False, default_flow_style=False)


def _optional_list(cluster: Cluster, ns: str | None, ns_method, all_method) -> list[dict]:
    """A listing that may be absent (a kind the cluster does not serve, or RBAC): empty."""
    try:
        return namespaced(cluster, ns, ns_method, all_method)
    except ToolError:
        return []


def build(cluster: Cluster) -> list[Tool]:
    """The Kubernetes tools bound to one cluster."""

    def k8s_list_pods(a: PodsArgs) -> ToolResult:
        pods = list_pods(cluster, a.namespace, a.selector)[: a.limit]
        lines = [pod_line(p) for p in pods]
        return ToolResult(text="\n".join(lines) or "no pods", data={"pods": pods})

    def k8s_describe(a: ObjectArgs) -> ToolResult:
        obj = read_object(cluster, a.kind, a.name, a.namespace)
        events = [
            e
            for e in list_events(cluster, a.namespace)
            if (e.get("involvedObject") or {}).get("name") == a.name
        ]
        text = (
            _yaml_text(obj)
            + "\nEvents:\n"
            + ("\n".join(event_line(e) for e in events[-20:]) or "  <none>")
        )
        return ToolResult(text=text, data={"object": obj, "events": events})

    def k8s_events(a: EventsArgs) -> ToolResult:
        evs = list_events(cluster, a.namespace)
        if a.name:
            evs = [
                e
                for e in evs
                if str((e.get("involvedObject") or {}).get("name", "")).startswith(a.name)
            ]
        evs = evs[-a.limit :]
        return ToolResult(
            text="\n".join(event_line(e) for e in evs) or "no events", data={"events": evs}
        )

    def k8s_rollout_history(a: WorkloadArgs) -> ToolResult:
        dep = read_object(cluster, "Deployment", a.name, a.namespace)
        apps = cluster.apps()
        rss = [
            rs
            for rs in namespaced(
                cluster,
                a.namespace,
                apps.list_namespaced_replica_set,
                apps.list_replica_set_for_all_namespaces,
            )
            if any(
                o.get("kind") == "Deployment" and o.get("name") == a.name
                for o in meta(rs).get("ownerReferences") or []
            )
        ]
        rss.sort(key=revision)
        pods = list_pods(cluster, a.namespace)
        lines = [
            f"deployment/{a.name} revision {revision(dep)}, replicas {(dep.get('spec') or {}).get('replicas')}"
        ]
        for rs in rss:
            imgs = ",".join(
                c.get("image", "")
                for c in (((rs.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
                    "containers"
                )
                or []
            )
            st = rs.get("status") or {}
            lines.append(
                f"  revision {revision(rs)}  {meta(rs).get('name')}  created {meta(rs).get('creationTimestamp')}  replicas {(rs.get('spec') or {}).get('replicas')} ready {st.get('readyReplicas', 0)}  {imgs}"
            )
        if len(rss) >= 2:
            lines.append(f"changes revision {revision(rss[-2])} -> {revision(rss[-1])}:")
            lines += [f"  {c['text']}" for c in template_diff(rss[-2], rss[-1])] or [
                "  (pod template unchanged)"
            ]
        return ToolResult(
            text="\n".join(lines), data={"deployment": dep, "replicasets": rss, "pods": pods}
        )

    def k8s_services_endpoints(a: ServicesArgs) -> ToolResult:
        core = cluster.core()
        svcs = namespaced(
            cluster, a.namespace, core.list_namespaced_service, core.list_service_for_all_namespaces
        )
        if a.name:
            svcs = [s for s in svcs if meta(s).get("name") == a.name]
            if not svcs:
                raise ToolError(f"Service {a.name} not found in {a.namespace or 'any namespace'}")
        eps = namespaced(
            cluster,
            a.namespace,
            core.list_namespaced_endpoints,
            core.list_endpoints_for_all_namespaces,
        )
        pods = list_pods(cluster, a.namespace)
        apps = cluster.apps()
        # Workload templates tell "selector matches nothing" from "workload runs no Pods".
        workloads = [
            {**w, "kind": kind}
            for kind, ns_method, all_method in (
                (
                    "Deployment",
                    apps.list_namespaced_deployment,
                    apps.list_deployment_for_all_namespaces,
                ),
                (
                    "StatefulSet",
                    apps.list_namespaced_stateful_set,
                    apps.list_stateful_set_for_all_namespaces,
                ),
            )
            for w in _optional_list(cluster, a.namespace, ns_method, all_method)
        ]
        by = {(meta(e).get("namespace"), meta(e).get("name")): e for e in eps}
        lines = []
        for s in svcs:
            m, spec = meta(s), s.get("spec") or {}
            ep = by.get((m.get("namespace"), m.get("name"))) or {}
            ready = [
                f"{ad.get('ip')}:{','.join(str(p.get('port')) for p in sub.get('ports') or [])}"
                for sub in ep.get("subsets") or []
                for ad in sub.get("addresses") or []
            ]
            not_ready = sum(
                len(sub.get("notReadyAddresses") or []) for sub in ep.get("subsets") or []
            )
            ports = ", ".join(
                f"{p.get('port')}->{p.get('targetPort')}" for p in spec.get("ports") or []
            )
            lines.append(
                f"{m.get('namespace')}/{m.get('name')} selector={spec.get('selector')} ports {ports}; ready endpoints: {', '.join(ready) or 'none'}; not ready: {not_ready}"
            )
        return ToolResult(
            text="\n".join(lines) or "no services",
            data={"services": svcs, "endpoints": eps, "pods": pods, "workloads": workloads},
        )

    def k8s_nodes(a: NoArgs) -> ToolResult:
        nodes = (cluster.call_json(cluster.core().list_node) or {}).get("items") or []
        lines = []
        for n in nodes:
            ready = next(
                (
                    c.get("status")
                    for c in (n.get("status") or {}).get("conditions") or []
                    if c.get("type") == "Ready"
                ),
                "Unknown",
            )
            lines.append(
                f"{meta(n).get('name')} Ready={ready} unschedulable={bool((n.get('spec') or {}).get('unschedulable'))} labels={meta(n).get('labels')}"
            )
        return ToolResult(text="\n".join(lines) or "no nodes", data={"nodes": nodes})

    def k8s_config_refs(a: WorkloadArgs) -> ToolResult:
        dep = read_object(cluster, "Deployment", a.name, a.namespace)
        refs = config_refs(cluster, dep, a.namespace)
        lines = [
            f"{r['kind']} {r['name']}"
            + (f" key {r['key']}" if r.get("key") else "")
            + f" (container {r['container']}, {r['via']}{', optional' if r['optional'] else ''}): "
            + (
                f"unknown ({r['unknown']})"
                if r["exists"] is None
                else "exists"
                if r["exists"] and r.get("key_exists", True)
                else "MISSING KEY"
                if r["exists"]
                else "MISSING"
            )
            for r in refs
        ]
        return ToolResult(
            text="\n".join(lines) or "no ConfigMap/Secret references", data={"refs": refs}
        )

    def k8s_network_policies(a: NamespaceArgs) -> ToolResult:
        net = cluster.networking()
        pols = namespaced(
            cluster,
            a.namespace,
            net.list_namespaced_network_policy,
            net.list_network_policy_for_all_namespaces,
        )
        pods = list_pods(cluster, a.namespace)
        lines = [
            f"{meta(p).get('namespace')}/{meta(p).get('name')} podSelector={(p.get('spec') or {}).get('podSelector')} types={(p.get('spec') or {}).get('policyTypes')} ingress={len((p.get('spec') or {}).get('ingress') or [])} egress={len((p.get('spec') or {}).get('egress') or [])}"
            for p in pols
        ]
        return ToolResult(
            text="\n".join(lines) or "no NetworkPolicies", data={"policies": pols, "pods": pods}
        )

    def k8s_quotas(a: NamespaceArgs) -> ToolResult:
        core, apps = cluster.core(), cluster.apps()
        qs = namespaced(
            cluster,
            a.namespace,
            core.list_namespaced_resource_quota,
            core.list_resource_quota_for_all_namespaces,
        )
        evs = [e for e in list_events(cluster, a.namespace) if e.get("reason") == "FailedCreate"]
        rss = namespaced(
            cluster,
            a.namespace,
            apps.list_namespaced_replica_set,
            apps.list_replica_set_for_all_namespaces,
        )
        lines = [
            f"{meta(q).get('namespace')}/{meta(q).get('name')} hard={(q.get('status') or {}).get('hard') or (q.get('spec') or {}).get('hard')} used={(q.get('status') or {}).get('used')}"
            for q in qs
        ]
        lines += [event_line(e) for e in evs[-10:]]
        return ToolResult(
            text="\n".join(lines) or "no ResourceQuotas",
            data={"quotas": qs, "events": evs, "replicasets": rss},
        )

    def k8s_deployments(a: NamespaceArgs) -> ToolResult:
        apps = cluster.apps()
        deps = namespaced(
            cluster,
            a.namespace,
            apps.list_namespaced_deployment,
            apps.list_deployment_for_all_namespaces,
        )
        rss = namespaced(
            cluster,
            a.namespace,
            apps.list_namespaced_replica_set,
            apps.list_replica_set_for_all_namespaces,
        )
        lines = [
            f"{meta(d).get('namespace')}/{meta(d).get('name')} revision {revision(d)} replicas {(d.get('spec') or {}).get('replicas')} ready {(d.get('status') or {}).get('readyReplicas', 0)} updated {(d.get('status') or {}).get('updatedReplicas', 0)}"
            for d in deps
        ]
        return ToolResult(
            text="\n".join(lines) or "no Deployments",
            data={"deployments": deps, "replicasets": rss},
        )

    narrow = "pass namespace= (or a selector/name) to narrow"
    return [
        Tool(
            "k8s_list_pods",
            "List Pods with phase, waiting reason, last termination, readiness and restarts.",
            PodsArgs,
            k8s_list_pods,
            narrow_hint=narrow,
        ),
        Tool(
            "k8s_describe",
            "One object (as YAML, Secret values never shown) and its Events.",
            ObjectArgs,
            k8s_describe,
            narrow_hint="describe a narrower object",
        ),
        Tool(
            "k8s_events",
            "Recent Events, oldest first.",
            EventsArgs,
            k8s_events,
            narrow_hint="pass namespace=, name= or a smaller limit=",
        ),
        Tool(
            "k8s_rollout_history",
            "A Deployment's revisions (ReplicaSets) and the pod-template diff of the latest rollout.",
            WorkloadArgs,
            k8s_rollout_history,
        ),
        Tool(
            "k8s_services_endpoints",
            "Services with selector, ports->targetPorts and their ready/not-ready endpoints.",
            ServicesArgs,
            k8s_services_endpoints,
            narrow_hint=narrow,
        ),
        Tool("k8s_nodes", "Nodes with Ready, cordon state and labels.", NoArgs, k8s_nodes),
        Tool(
            "k8s_config_refs",
            "ConfigMaps/Secrets/keys a Deployment references and whether each exists (never Secret values).",
            WorkloadArgs,
            k8s_config_refs,
        ),
        Tool(
            "k8s_network_policies",
            "NetworkPolicies with their pod selectors and rule counts.",
            NamespaceArgs,
            k8s_network_policies,
            narrow_hint=narrow,
        ),
        Tool(
            "k8s_quotas",
            "ResourceQuotas (hard/used) and FailedCreate events.",
            NamespaceArgs,
            k8s_quotas,
            narrow_hint=narrow,
        ),
        Tool(
            "k8s_deployments",
            "Deployments with revision, desired/ready/updated replicas.",
            NamespaceArgs,
            k8s_deployments,
            narrow_hint=narrow,
        ),
    ]
