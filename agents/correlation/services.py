"""Services that cannot deliver traffic (a targetPort nothing listens on, a selector that
matches no Pod) and workloads scaled to zero: the callers' errors follow from them."""

from __future__ import annotations

from agents.correlation.candidate import (
    Candidate,
    callers,
    kref,
    name_of,
    ns_of,
    services_of,
    workload_callers,
)
from agents.models import Category, Finding, Proposal, Verb


def service_faults(findings: list[Finding]) -> list[Candidate]:
    """A candidate per Service with a port or selector mismatch, with the patch that fixes it."""
    out = []
    for i, f in enumerate(findings):
        tags = set(f.tags)
        if not f.resource or not ({"target_port_mismatch", "selector_mismatch"} & tags):
            continue
        cited = [i] + callers(findings, f.resource)
        bonus = 0.05 if len(cited) > 1 else 0.0
        if "target_port_mismatch" in tags:
            props = [p for p in [_fix_target_port(f)] if p]
            out.append(
                Candidate(
                    f.resource, Category.MISCONFIGURATION, 0.9 + bonus, f.summary, cited, props
                )
            )
        else:
            props = [p for p in [_fix_selector(f)] if p]
            out.append(
                Candidate(
                    f.resource, Category.MISCONFIGURATION, 0.88 + bonus, f.summary, cited, props
                )
            )
    return out


def _fix_target_port(f: Finding) -> Proposal | None:
    mm = f.data["mismatches"][0]
    port = mm.get("suggested_target_port")
    if port is None:
        return None
    ports = [
        {
            "name": m.get("name"),
            "port": m.get("port"),
            "targetPort": m.get("suggested_target_port") or m.get("target_port"),
        }
        for m in f.data["mismatches"]
    ]
    return Proposal(
        verb=Verb.PATCH,
        target=f.resource or "",
        parameters={
            "patch_type": "strategic",
            "patch": {
                "spec": {"ports": [{k: v for k, v in p.items() if v is not None} for p in ports]}
            },
        },
        rationale=(
            f"targetPort {mm['target_port']} is not a containerPort of the selected Pods; "
            f"they listen on {port}."
        ),
        expected_effect=f"Traffic reaches the Pods on {port}; endpoints become ready.",
        verification=(
            f"service/{name_of(f.resource or '')} has ready endpoints on port {port}, "
            "callers' 5xx ratio < 1%"
        ),
        undo=f"patch targetPort back to {mm['target_port']}",
    )


def _fix_selector(f: Finding) -> Proposal | None:
    near = f.data.get("candidate_labels") or []
    if not near:
        return None
    # The analyzer ranks near misses: Pods that serve the Service's port, closest labels first.
    # A merge patch drops keys set to null: keys the Pods do not carry must go.
    selector = {**dict.fromkeys(f.data["selector"]), **near[0]}
    return Proposal(
        verb=Verb.PATCH,
        target=f.resource or "",
        parameters={"patch_type": "merge", "patch": {"spec": {"selector": selector}}},
        rationale=(
            f"selector {f.data['selector']} matches no Pod; the Pods that serve this port "
            f"carry {near[0]}."
        ),
        expected_effect="The Service selects the Pods again; endpoints become ready.",
        verification=f"service/{name_of(f.resource or '')} has ready endpoints, callers' error ratio < 1%",
        undo=f"patch the selector back to {f.data['selector']}",
    )


def scaled_to_zero(findings: list[Finding]) -> list[Candidate]:
    """A candidate per workload scaled to zero, scaled back to what it ran before."""
    out = []
    for i, f in enumerate(findings):
        if "scaled_to_zero" not in f.tags or not f.resource:
            continue
        n = f.data.get("previous_replicas") or 1
        prop = Proposal(
            verb=Verb.SCALE,
            target=f.resource,
            parameters={"replicas": n},
            rationale=f"{f.resource} runs 0 replicas; it ran {n} before.",
            expected_effect=f"{n} Pods serve again.",
            verification=f"{kref(f.resource)} has {n}/{n} pods Ready, Service has ready endpoints",
            undo=f"kubectl scale {kref(f.resource)} -n {ns_of(f.resource)} --replicas=0",
        )
        empty = [
            j
            for j, g in enumerate(findings)
            if "no_endpoints" in g.tags and g.resource in services_of(findings, f.resource)
        ]
        cited = [i] + empty + workload_callers(findings, f.resource)
        out.append(Candidate(f.resource, Category.OPERATION_ERROR, 0.9, f.summary, cited, [prop]))
    return out
