"""Nodes: NotReady, cordoned, and Pending Pods whose nodeSelector matches no usable Node (with
the cordoned Node that would match, when uncordoning it is the fix)."""

from __future__ import annotations

from agents.analyzers.objects import Obj, field_finding, meta, pod_owner_ref, ref
from agents.models import Finding

SPECIALIST = "kubernetes"


def node_ready(node: Obj) -> bool:
    """True when the Node's Ready condition is True."""
    for c in (node.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def analyze_nodes(nodes: list[Obj], pods: list[Obj] | None = None) -> list[Finding]:
    """Findings for NotReady and cordoned Nodes, and nodeSelector mismatches of Pending Pods."""
    findings: list[Finding] = []
    for n in nodes:
        resource = ref("Node", None, meta(n).get("name"))
        if not node_ready(n):
            findings.append(
                _f(resource, "Node NotReady", "Ready condition is not True", ["node_not_ready"], {})
            )
        if (n.get("spec") or {}).get("unschedulable"):
            findings.append(
                _f(
                    resource,
                    "Node cordoned",
                    "spec.unschedulable is true (cordoned)",
                    ["cordoned"],
                    {},
                )
            )
    usable = [n for n in nodes if node_ready(n) and not (n.get("spec") or {}).get("unschedulable")]
    seen: set[str] = set()
    for p in pods or []:
        if (p.get("status") or {}).get("phase") != "Pending":
            continue
        selector = (p.get("spec") or {}).get("nodeSelector") or {}
        if not selector or any(_matches(selector, n) for n in usable):
            continue
        owner = pod_owner_ref(p)
        if owner in seen:
            continue
        seen.add(owner)
        cordoned = [meta(n).get("name") for n in nodes if _matches(selector, n) and n not in usable]
        labels = sorted(
            {
                f"{k}={v}"
                for n in usable
                for k, v in (meta(n).get("labels") or {}).items()
                if k in selector
            }
        )
        sel = ",".join(f"{k}={v}" for k, v in selector.items())
        text = f"nodeSelector {sel} matches no Ready, schedulable Node"
        if cordoned:
            text += f"; matching Node(s) {', '.join(cordoned)} are cordoned or NotReady"
        elif labels:
            text += f"; Nodes carry {', '.join(labels)}"
        findings.append(
            _f(
                owner,
                "Pods unschedulable: nodeSelector matches no Node",
                text,
                ["nodeselector_mismatch", "unschedulable"],
                {
                    "node_selector": selector,
                    "matching_unusable_nodes": cordoned,
                    "node_labels": labels,
                },
            )
        )
    return findings


def _matches(selector: dict[str, str], node: Obj) -> bool:
    labels = meta(node).get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


def _f(resource: str, title: str, text: str, tags: list[str], data: dict) -> Finding:
    return field_finding(SPECIALIST, resource, f"{title}: {resource}", text, tags=tags, data=data)
