"""The rules supervisor's reasoning: findings in, a ranked Diagnosis and the least risky Proposal
out. Rules are generic (they read tags and structured `data` the analyzers attach), never names
of particular services. Each rule yields a Candidate; the strongest candidate wins."""

from __future__ import annotations

from dataclasses import dataclass, field

from agents.models import Category, Diagnosis, Evidence, Finding, Incident, Proposal, Verb

POD_FAILURES = {
    "crashloop",
    "oomkilled",
    "image_pull",
    "config_error",
    "not_ready",
    "unschedulable",
}
DEPENDENCY_LOGS = {"log_connection_refused", "log_timeout", "log_dns_failure"}


@dataclass
class Candidate:
    """One possible root cause with its score, the findings behind it and its fix."""

    resource: str
    category: Category
    score: float
    headline: str
    cited: list[int] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)


def correlate(incident: Incident, findings: list[Finding]) -> tuple[Diagnosis, list[Proposal]]:
    """The diagnosis (root cause, category, confidence, cited evidence) and proposals."""
    candidates = (
        _workload_failures(findings)
        + _service_faults(findings)
        + _scaled_to_zero(findings)
        + _scheduling(findings)
        + _quotas(findings)
        + _network_policies(findings)
    )
    if not candidates:
        return _fallback(findings), []
    for c in candidates:
        if _in_scope(c.resource, incident):
            c.score += 0.02  # the workload the person or alert named wins ties
    best = max(candidates, key=lambda c: c.score)
    best.cited += _supporting(best.resource, findings, best.cited)
    evidence: list[Evidence] = []
    for i in dict.fromkeys(best.cited):
        evidence += findings[i].evidence
    explanation = "\n".join(
        f"[{i}] {findings[i].title}: {findings[i].summary}" for i in dict.fromkeys(best.cited)
    )
    others = [c for c in sorted(candidates, key=lambda c: -c.score) if c is not best][:2]
    if others:
        explanation += "\nAlso considered: " + "; ".join(
            f"{c.resource} ({c.score:.2f})" for c in others
        )
    diagnosis = Diagnosis(
        root_cause=best.resource,
        category=best.category,
        confidence=round(min(best.score, 0.99), 2),
        summary=f"{best.resource}: {best.headline}",
        explanation=explanation,
        evidence=evidence[:12],
        findings_cited=list(dict.fromkeys(best.cited)),
    )
    return diagnosis, best.proposals


def next_question(incident: Incident, findings: list[Finding]) -> str | None:
    """A follow-up for another bounded round: callers failing to reach a Service in a namespace
    not yet examined -> look at that Service and its Pods."""
    if not incident.namespace:
        return None  # the first round already looked cluster-wide
    seen = {f.resource for f in findings if f.resource}
    for f in findings:
        if not DEPENDENCY_LOGS & set(f.tags):
            continue
        for t in f.data.get("targets") or []:
            if t.get("service") and t.get("namespace") and t["namespace"] != incident.namespace:
                ref = f"Service/{t['namespace']}/{t['service']}"
                if ref not in seen:
                    return f"Look at {ref}: {f.resource} logs '{f.tags[0][4:]}' to {t['host']}:{t['port']}"
    return None


# --- rules -------------------------------------------------------------------------------------


def _workload_failures(findings: list[Finding]) -> list[Candidate]:
    out = []
    for i, f in enumerate(findings):
        tags = set(f.tags)
        if not (POD_FAILURES & tags) or not f.resource or not f.resource.startswith("Deployment/"):
            continue
        if "unschedulable" in tags and _has(findings, "nodeselector_mismatch", f.resource):
            continue  # the scheduling rule explains it better
        cited = [i]
        rollout = _find(findings, "rollout", f.resource)
        category = _category(tags, findings, f.resource)
        if rollout is not None and "previous_healthy" in findings[rollout].tags:
            r = findings[rollout]
            cited.append(rollout)
            diff = (
                "; ".join(c["text"] for c in r.data.get("diff") or []) or "pod template unchanged"
            )
            headline = (
                f"revision {r.data['revision']} broke it ({f.summary}); the previous revision "
                f"{r.data['previous_revision']} was healthy. Changes: {diff}"
            )
            prop = Proposal(
                verb=Verb.ROLLOUT_UNDO,
                target=f.resource,
                parameters={"to_revision": r.data["previous_revision"]},
                rationale=f"Roll back to revision {r.data['previous_revision']}, the last healthy template ({diff}).",
                expected_effect="Pods return to the previous template and become Ready.",
                verification=f"{_kref(f.resource)} rollout complete, all pods Ready, 5xx ratio < 1%",
                undo=f"kubectl rollout undo {_kref(f.resource)} -n {_ns(f.resource)} --to-revision={r.data['revision']}",
            )
            out.append(
                Candidate(
                    f.resource,
                    category,
                    0.9 if r.data.get("diff") else 0.75,
                    headline,
                    cited,
                    [prop],
                )
            )
        else:
            cited += _all(findings, "config_ref_missing", f.resource)
            out.append(Candidate(f.resource, category, 0.6, f.summary, cited, []))
    return out


def _category(tags: set[str], findings: list[Finding], resource: str) -> Category:
    if "oomkilled" in tags:
        return Category.RESOURCE_EXHAUSTION
    if _has(findings, "log_auth_failure", resource):
        return Category.AUTHENTICATION_ISSUE
    rollout = _find(findings, "rollout", resource)
    fields = (
        {c["field"] for c in (findings[rollout].data.get("diff") or [])}
        if rollout is not None
        else set()
    )
    if "crashloop" in tags and _has(findings, "log_panic", resource) and fields <= {"image"}:
        return Category.CODE_DEFECT
    return Category.MISCONFIGURATION


def _service_faults(findings: list[Finding]) -> list[Candidate]:
    out = []
    for i, f in enumerate(findings):
        tags = set(f.tags)
        if not f.resource or not ({"target_port_mismatch", "selector_mismatch"} & tags):
            continue
        cited = [i] + _callers(findings, f.resource)
        bonus = 0.05 if len(cited) > 1 else 0.0
        if "target_port_mismatch" in tags:
            mm = f.data["mismatches"][0]
            port = mm.get("suggested_target_port")
            ports = [
                {
                    "name": m.get("name"),
                    "port": m.get("port"),
                    "targetPort": m.get("suggested_target_port") or m.get("target_port"),
                }
                for m in f.data["mismatches"]
            ]
            props = []
            if port is not None:
                props.append(
                    Proposal(
                        verb=Verb.PATCH,
                        target=f.resource,
                        parameters={
                            "patch_type": "strategic",
                            "patch": {
                                "spec": {
                                    "ports": [
                                        {k: v for k, v in p.items() if v is not None} for p in ports
                                    ]
                                }
                            },
                        },
                        rationale=f"targetPort {mm['target_port']} is not a containerPort of the selected Pods; they listen on {port}.",
                        expected_effect=f"Traffic reaches the Pods on {port}; endpoints become ready.",
                        verification=f"service/{_name(f.resource)} has ready endpoints on port {port}, callers' 5xx ratio < 1%",
                        undo=f"patch targetPort back to {mm['target_port']}",
                    )
                )
            out.append(
                Candidate(
                    f.resource, Category.MISCONFIGURATION, 0.9 + bonus, f.summary, cited, props
                )
            )
        else:
            near = f.data.get("candidate_labels") or []
            props = []
            if len(near) == 1:
                props.append(
                    Proposal(
                        verb=Verb.PATCH,
                        target=f.resource,
                        parameters={
                            "patch_type": "merge",
                            "patch": {"spec": {"selector": {**f.data["selector"], **near[0]}}},
                        },
                        rationale=f"selector {f.data['selector']} matches no Pod; the workload's Pods carry {near[0]}.",
                        expected_effect="The Service selects the Pods again; endpoints become ready.",
                        verification=f"service/{_name(f.resource)} has ready endpoints, callers' error ratio < 1%",
                        undo=f"patch the selector back to {f.data['selector']}",
                    )
                )
            out.append(
                Candidate(
                    f.resource, Category.MISCONFIGURATION, 0.88 + bonus, f.summary, cited, props
                )
            )
    return out


def _scaled_to_zero(findings: list[Finding]) -> list[Candidate]:
    out = []
    for i, f in enumerate(findings):
        if "scaled_to_zero" in f.tags and f.resource:
            n = f.data.get("previous_replicas") or 1
            prop = Proposal(
                verb=Verb.SCALE,
                target=f.resource,
                parameters={"replicas": n},
                rationale=f"{f.resource} runs 0 replicas; it ran {n} before.",
                expected_effect=f"{n} Pods serve again.",
                verification=f"{_kref(f.resource)} has {n}/{n} pods Ready, Service has ready endpoints",
                undo=f"kubectl scale {_kref(f.resource)} -n {_ns(f.resource)} --replicas=0",
            )
            out.append(
                Candidate(
                    f.resource,
                    Category.OPERATION_ERROR,
                    0.85,
                    f.summary,
                    [i] + _callers(findings, f.resource),
                    [prop],
                )
            )
    return out


def _scheduling(findings: list[Finding]) -> list[Candidate]:
    out = []
    cordoned = [i for i, f in enumerate(findings) if "cordoned" in f.tags]
    for i, f in enumerate(findings):
        tags = set(f.tags)
        if "nodeselector_mismatch" in tags:
            nodes = f.data.get("matching_unusable_nodes") or []
            if nodes:
                node = f"Node/{nodes[0]}"
                cited = [i] + [j for j in cordoned if findings[j].resource == node]
                out.append(_uncordon(node, f, cited, 0.88))
            else:
                rollout = _find(findings, "rollout", f.resource or "")
                props = []
                if rollout is not None:
                    props.append(
                        Proposal(
                            verb=Verb.ROLLOUT_UNDO,
                            target=f.resource,
                            parameters={"to_revision": findings[rollout].data["previous_revision"]},
                            rationale="the latest revision's nodeSelector matches no Node",
                            verification=f"{_kref(f.resource)} rollout complete, pods Ready",
                            undo="kubectl rollout undo again",
                        )
                    )
                else:
                    props.append(
                        Proposal(
                            verb=Verb.PATCH,
                            target=f.resource,
                            parameters={
                                "patch_type": "strategic",
                                "patch": {
                                    "spec": {
                                        "template": {
                                            "spec": {
                                                "nodeSelector": dict.fromkeys(
                                                    f.data["node_selector"]
                                                )
                                            }
                                        }
                                    }
                                },
                            },
                            rationale=f"nodeSelector {f.data['node_selector']} matches no Node",
                            verification=f"{_kref(f.resource)} pods scheduled and Ready",
                            undo=f"restore nodeSelector {f.data['node_selector']}",
                        )
                    )
                out.append(
                    Candidate(f.resource, Category.MISCONFIGURATION, 0.8, f.summary, [i], props)
                )
        elif "unschedulable" in tags and cordoned:
            node = findings[cordoned[0]].resource
            out.append(_uncordon(node, f, [cordoned[0], i], 0.8))
    return out


def _uncordon(node: str, f: Finding, cited: list[int], score: float) -> Candidate:
    name = node.split("/", 1)[1]
    prop = Proposal(
        verb=Verb.UNCORDON,
        target=node,
        rationale=f"{node} is cordoned (spec.unschedulable) and it is where {f.resource}'s Pods must run.",
        expected_effect="Pending Pods get scheduled on the node.",
        verification=f"node/{name} schedulable and Ready; {_kref(f.resource or '')} pods Ready",
        undo=f"kubectl cordon {name}",
    )
    return Candidate(
        node,
        Category.OPERATION_ERROR,
        score,
        f"{node} is cordoned (spec.unschedulable: true) and {f.resource} cannot schedule: {f.summary}",
        cited,
        [prop],
    )


def _quotas(findings: list[Finding]) -> list[Candidate]:
    out = []
    for i, f in enumerate(findings):
        if "quota_failed_create" not in f.tags or not f.resource:
            continue
        rollout = _find(findings, "rollout", f.resource)
        if rollout is not None and any(
            c["field"].startswith("resources.") for c in findings[rollout].data.get("diff") or []
        ):
            r = findings[rollout]
            prop = Proposal(
                verb=Verb.ROLLOUT_UNDO,
                target=f.resource,
                parameters={"to_revision": r.data["previous_revision"]},
                rationale="the new revision's resource requests no longer fit the namespace quota",
                verification=f"{_kref(f.resource)} rollout complete, pods Ready",
                undo=f"kubectl rollout undo {_kref(f.resource)} --to-revision={r.data['revision']}",
            )
            out.append(
                Candidate(
                    f.resource,
                    Category.CAPACITY_ISSUE,
                    0.85,
                    f"{f.summary}; {r.summary}",
                    [i, rollout],
                    [prop],
                )
            )
            continue
        quota = f.data.get("quota")
        q = next(
            (
                j
                for j, g in enumerate(findings)
                if g.resource == quota and "quota_exhausted" in g.tags
            ),
            None,
        )
        props = []
        if quota and q is not None:
            hard = {k: _raise(v["hard"]) for k, v in findings[q].data["exhausted"].items()}
            props.append(
                Proposal(
                    verb=Verb.PATCH,
                    target=quota,
                    parameters={"patch_type": "merge", "patch": {"spec": {"hard": hard}}},
                    rationale=f"{quota} is exhausted and refuses {f.resource}'s Pods",
                    verification=f"{_kref(f.resource)} pods created and Ready",
                    undo="restore the previous quota hard limits",
                )
            )
        out.append(
            Candidate(
                quota or f.resource,
                Category.CAPACITY_ISSUE,
                0.8,
                f.summary,
                [i] + ([q] if q is not None else []),
                props,
            )
        )
    return out


def _network_policies(findings: list[Finding]) -> list[Candidate]:
    out = []
    for i, f in enumerate(findings):
        if "network_deny" in f.tags and f.resource:
            allow = {t.lower(): [{}] for t in f.data.get("denied") or []}
            prop = Proposal(
                verb=Verb.PATCH,
                target=f.resource,
                parameters={"patch_type": "merge", "patch": {"spec": allow}},
                rationale=f"{f.resource} {f.summary}",
                verification="callers' connections succeed, error ratio < 1%",
                undo="restore the policy's previous rules",
            )
            out.append(
                Candidate(
                    f.resource,
                    Category.NETWORK_ISSUE,
                    0.75 + 0.05 * bool(_callers_any(findings)),
                    f.summary,
                    [i],
                    [prop],
                )
            )
    return out


def _fallback(findings: list[Finding]) -> Diagnosis:
    serious = [(i, f) for i, f in enumerate(findings) if f.severity != "info" and f.resource]
    if not serious:
        return Diagnosis(
            root_cause=None,
            category=Category.NO_FAULT,
            confidence=0.6,
            summary="No fault found: workloads, services, nodes, logs and metrics look healthy.",
        )
    i, f = serious[0]
    category = (
        Category.DEPENDENCY_FAILURE
        if DEPENDENCY_LOGS & set(f.tags)
        else Category.CODE_DEFECT
        if "log_panic" in f.tags
        else Category.MISCONFIGURATION
    )
    return Diagnosis(
        root_cause=f.resource,
        category=category,
        confidence=0.3,
        summary=f"{f.resource}: {f.summary}",
        explanation=f"[{i}] {f.title}",
        evidence=f.evidence,
        findings_cited=[i],
    )


# --- helpers -----------------------------------------------------------------------------------


def _find(findings: list[Finding], tag: str, resource: str) -> int | None:
    return next(
        (i for i, f in enumerate(findings) if tag in f.tags and f.resource == resource), None
    )


def _all(findings: list[Finding], tag: str, resource: str) -> list[int]:
    return [i for i, f in enumerate(findings) if tag in f.tags and f.resource == resource]


def _has(findings: list[Finding], tag: str, resource: str) -> bool:
    return _find(findings, tag, resource) is not None


def _callers(findings: list[Finding], service_ref: str) -> list[int]:
    """Log findings of callers that fail to reach this Service (by DNS name in the target)."""
    _, ns, name = (service_ref.split("/") + ["", ""])[:3]
    out = []
    for i, f in enumerate(findings):
        if DEPENDENCY_LOGS & set(f.tags):
            caller_ns = (f.resource or "//").split("/")[1]
            for t in f.data.get("targets") or []:
                if t.get("service") == name and (t.get("namespace") or caller_ns) == ns:
                    out.append(i)
                    break
    return out


def _callers_any(findings: list[Finding]) -> bool:
    return any(DEPENDENCY_LOGS & set(f.tags) for f in findings)


def _supporting(resource: str, findings: list[Finding], cited: list[int]) -> list[int]:
    """Other findings about the blamed resource (its logs, its config refs)."""
    return [
        i
        for i, f in enumerate(findings)
        if f.resource == resource and i not in cited and f.severity != "info"
    ][:4]


def _in_scope(resource: str, incident: Incident) -> bool:
    names = {incident.workload, incident.service} - {None}
    return _name(resource) in names


def _name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _ns(ref: str) -> str:
    parts = ref.split("/")
    return parts[1] if len(parts) == 3 else ""


def _kref(ref: str) -> str:
    kind, _, rest = ref.partition("/")
    return f"{kind.lower()}/{rest.rsplit('/', 1)[-1]}"


def _raise(value: str) -> str:
    """A quota hard value raised by half (rounded up), keeping its unit."""
    import re

    m = re.fullmatch(r"(\d+)([A-Za-z]*)", str(value))
    if not m:
        return str(value)
    return f"{-(-int(m.group(1)) * 3 // 2)}{m.group(2)}"
