"""Kubernetes specialist, rules mode: list what is in scope through the tools and run the
analyzers over it. Independent of the other specialists (runs in its own thread)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from agents.analyzers.config_refs import analyze_config_refs
from agents.analyzers.deployments import analyze_deployments
from agents.analyzers.network_policies import analyze_network_policies
from agents.analyzers.nodes import analyze_nodes
from agents.analyzers.objects import meta, parse_time, pod_owner_ref, pod_ready
from agents.analyzers.pods import analyze_pods
from agents.analyzers.quotas import analyze_quotas
from agents.analyzers.rollouts import analyze_rollout
from agents.analyzers.services import analyze_services
from agents.models import Finding, Incident
from agents.specialists.scope import call, namespaces
from agents.tools.base import Tool

MAX_ROLLOUTS = 15
ROLLOUT_WORKERS = 6
RECENT_ROLLOUT = timedelta(hours=2)  # a change this recent is a suspect


def collect(incident: Incident, tools: list[Tool], question: str | None = None) -> list[Finding]:
    """Findings about Pods, rollouts, Services, Nodes, quotas, config refs and NetworkPolicies."""
    findings: list[Finding] = []
    for ns in namespaces(incident, question):
        findings += _collect_namespace(incident, tools, ns)
    nodes = call(tools, "k8s_nodes")
    if nodes:
        pods = (call(tools, "k8s_list_pods", limit=1000) or _empty("pods")).data["pods"]
        findings += analyze_nodes(nodes.data["nodes"], pods)
    return _dedupe(findings)


def _collect_namespace(incident: Incident, tools: list[Tool], ns: str | None) -> list[Finding]:
    findings: list[Finding] = []
    pods = (call(tools, "k8s_list_pods", namespace=ns, limit=1000) or _empty("pods")).data["pods"]
    events = (call(tools, "k8s_events", namespace=ns, limit=500) or _empty("events")).data["events"]
    pod_findings = analyze_pods(pods, events, datetime.now(UTC))
    findings += pod_findings
    deps = call(tools, "k8s_deployments", namespace=ns)
    deployments = deps.data["deployments"] if deps else []
    replicasets = deps.data["replicasets"] if deps else []
    findings += analyze_deployments(deployments, replicasets, events)

    troubled = {f.resource for f in pod_findings}
    now = datetime.now(UTC)
    wanted = [
        d
        for d in deployments
        if f"Deployment/{meta(d).get('namespace')}/{meta(d).get('name')}" in troubled
        or meta(d).get("name") in (incident.workload, incident.service)
        or not _all_ready(d, pods)
        or _recent_rollout(d, replicasets, now)
    ]

    def rollout_findings(d: dict) -> list[Finding]:
        m, out = meta(d), []
        hist = call(tools, "k8s_rollout_history", namespace=m.get("namespace"), name=m.get("name"))
        if hist:
            out += analyze_rollout(
                hist.data["deployment"], hist.data["replicasets"], hist.data["pods"], now
            )
        ref = f"Deployment/{m.get('namespace')}/{m.get('name')}"
        if ref in troubled:
            refs = call(tools, "k8s_config_refs", namespace=m.get("namespace"), name=m.get("name"))
            if refs:
                out += analyze_config_refs(ref, refs.data["refs"])
        return out

    # One round trip per suspect Deployment: side by side, not one after another.
    with ThreadPoolExecutor(ROLLOUT_WORKERS, thread_name_prefix="k8s-rollouts") as pool:
        for found in pool.map(rollout_findings, wanted[:MAX_ROLLOUTS]):
            findings += found

    svc = call(tools, "k8s_services_endpoints", namespace=ns)
    if svc:
        findings += analyze_services(
            svc.data["services"],
            svc.data["endpoints"],
            svc.data["pods"],
            svc.data.get("workloads"),
        )
    quotas = call(tools, "k8s_quotas", namespace=ns)
    if quotas:
        findings += analyze_quotas(
            quotas.data["quotas"], quotas.data["events"], quotas.data["replicasets"]
        )
    pols = call(tools, "k8s_network_policies", namespace=ns)
    if pols:
        findings += analyze_network_policies(pols.data["policies"], pols.data["pods"])
    return findings


def _all_ready(deployment: dict, pods: list[dict]) -> bool:
    ref = f"Deployment/{meta(deployment).get('namespace')}/{meta(deployment).get('name')}"
    mine = [p for p in pods if pod_owner_ref(p) == ref]
    want = (deployment.get("spec") or {}).get("replicas")
    return bool(mine) and all(pod_ready(p) for p in mine) and (want is None or len(mine) >= want)


def _recent_rollout(deployment: dict, replicasets: list[dict], now: datetime) -> bool:
    """True when the Deployment's newest ReplicaSet was created within RECENT_ROLLOUT."""
    name, ns = meta(deployment).get("name"), meta(deployment).get("namespace")
    created = [
        parse_time(meta(rs).get("creationTimestamp"))
        for rs in replicasets
        if meta(rs).get("namespace") == ns
        and any(o.get("name") == name for o in meta(rs).get("ownerReferences") or [])
    ]
    newest = max((c for c in created if c is not None), default=None)
    return newest is not None and now - newest <= RECENT_ROLLOUT


def _empty(key: str):
    from agents.tools.base import ToolResult

    return ToolResult(text="", data={key: []})


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen, out = set(), []
    for f in findings:
        key = (f.title, f.resource, f.summary)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
