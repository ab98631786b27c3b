"""Capacity and placement: Pods that cannot be scheduled (a cordoned Node, a nodeSelector
that matches nothing), Pods refused by an exhausted ResourceQuota, and NetworkPolicies that
deny all traffic to the Pods they select."""

from __future__ import annotations

import re

from agents.analyzers.quotas import quantity
from agents.correlation.candidate import DEPENDENCY_LOGS, Candidate, find, kref, ns_of
from agents.models import Category, Finding, Proposal, Verb


def scheduling(findings: list[Finding]) -> list[Candidate]:
    """Pending Pods: uncordon the Node they need, or fix a nodeSelector that matches none."""
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
                rollout = find(findings, "rollout", f.resource or "")
                props = []
                if rollout is not None:
                    props.append(
                        Proposal(
                            verb=Verb.ROLLOUT_UNDO,
                            target=f.resource,
                            parameters={"to_revision": findings[rollout].data["previous_revision"]},
                            rationale="the latest revision's nodeSelector matches no Node",
                            verification=f"{kref(f.resource)} rollout complete, pods Ready",
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
                            verification=f"{kref(f.resource)} pods scheduled and Ready",
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
        verification=f"node/{name} schedulable and Ready; {kref(f.resource or '')} pods Ready",
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


def quotas(findings: list[Finding]) -> list[Candidate]:
    """Pods refused by a quota: roll back a rollout that grew requests, else raise the quota."""
    out = []
    for i, f in enumerate(findings):
        if "quota_failed_create" not in f.tags or not f.resource:
            continue
        rollout = find(findings, "rollout", f.resource)
        if rollout is not None and any(
            c["field"].startswith("resources.") for c in findings[rollout].data.get("diff") or []
        ):
            r = findings[rollout]
            prop = Proposal(
                verb=Verb.ROLLOUT_UNDO,
                target=f.resource,
                parameters={"to_revision": r.data["previous_revision"]},
                rationale="the new revision's resource requests no longer fit the namespace quota",
                verification=f"{kref(f.resource)} rollout complete, pods Ready",
                undo=f"kubectl rollout undo {kref(f.resource)} --to-revision={r.data['revision']}",
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
            hard = {
                k: _enough(v, f.data.get("requested") or {}, k, f.data.get("missing_pods") or 1)
                for k, v in findings[q].data["exhausted"].items()
            }
            props.append(
                Proposal(
                    verb=Verb.PATCH,
                    target=quota,
                    parameters={"patch_type": "merge", "patch": {"spec": {"hard": hard}}},
                    rationale=f"{quota} is exhausted and refuses {f.resource}'s Pods",
                    verification=f"{kref(f.resource)} pods created and Ready",
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


def network_policies(findings: list[Finding]) -> list[Candidate]:
    """Deny-all NetworkPolicies over selected Pods, blamed harder when callers fail to reach
    the namespace they guard. A policy with no allow rule does nothing but deny, so removing
    it restores the traffic it cut (the executor's snapshot can re-create it)."""
    out = []
    for i, f in enumerate(findings):
        if "network_deny" not in f.tags or not f.resource:
            continue
        ns = ns_of(f.resource)
        blocked = [
            j
            for j, g in enumerate(findings)
            if DEPENDENCY_LOGS & set(g.tags)
            and any(t.get("namespace") == ns for t in g.data.get("targets") or [])
        ]
        targets = sorted(
            {
                f"{t['host']}:{t['port']}"
                for j in blocked
                for t in findings[j].data.get("targets") or []
                if t.get("namespace") == ns
            }
        )
        headline = f.summary
        if targets:
            headline += f"; callers cannot reach {', '.join(targets)}"
        allow = {t.lower(): [{}] for t in f.data.get("denied") or []}
        delete = Proposal(
            verb=Verb.DELETE,
            target=f.resource,
            rationale=f"{f.resource} has no allow rule: it only {f.summary}",
            expected_effect="traffic to the selected Pods flows again",
            verification="callers' connections succeed, error ratio < 1%",
            undo="re-create the policy from the snapshot",
        )
        patch = Proposal(
            verb=Verb.PATCH,
            target=f.resource,
            parameters={"patch_type": "merge", "patch": {"spec": allow}},
            rationale=f"allow the denied traffic while keeping {f.resource} in place",
            verification="callers' connections succeed, error ratio < 1%",
            undo="restore the policy's previous rules",
        )
        score = 0.75 + (0.1 if blocked else 0.05 * callers_any(findings))
        out.append(
            Candidate(
                f.resource,
                Category.NETWORK_ISSUE,
                score,
                headline,
                [i] + blocked,
                [delete, patch],
            )
        )
    return out


def _enough(usage: dict, requested: dict[str, str], key: str, missing: int) -> str:
    """A new hard limit: half again the old one, or enough for every missing Pod if more."""
    raised = raise_quantity(usage["hard"])
    per_pod = 1.0 if key in ("pods", "count/pods") else quantity(requested.get(key, 0))
    need = quantity(usage["used"]) + missing * per_pod
    if need <= quantity(raised):
        return raised
    m = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(usage["hard"]))
    unit = m.group(2) if m else ""
    scale = quantity(f"1{unit}") if unit else 1.0
    return f"{-(-need // scale):.0f}{unit}"


def callers_any(findings: list[Finding]) -> bool:
    """True when some caller's logs show it failing to reach a dependency."""
    return any(DEPENDENCY_LOGS & set(f.tags) for f in findings)


def raise_quantity(value: str) -> str:
    """A quota hard value raised by half (rounded up), keeping its unit."""
    m = re.fullmatch(r"(\d+)([A-Za-z]*)", str(value))
    if not m:
        return str(value)
    return f"{-(-int(m.group(1)) * 3 // 2)}{m.group(2)}"
