"""NetworkPolicies that deny traffic: a policy selecting Pods with an Ingress (or Egress) type and
no rules allows nothing in (or out)."""

from __future__ import annotations

from agents.analyzers.objects import Obj, field_finding, labels_match, match_labels, meta, ref
from agents.models import Finding

SPECIALIST = "kubernetes"


def analyze_network_policies(policies: list[Obj], pods: list[Obj]) -> list[Finding]:
    """Findings for deny-all policies that select at least one Pod (tag `network_deny`)."""
    findings = []
    for pol in policies:
        spec = pol.get("spec") or {}
        ns = meta(pol).get("namespace")
        selector = match_labels(spec.get("podSelector"))
        selected = [
            meta(p).get("name")
            for p in pods
            if meta(p).get("namespace") == ns
            and (not selector or labels_match(selector, meta(p).get("labels")))
        ]
        if not selected:
            continue
        types = spec.get("policyTypes") or (["Ingress"] + (["Egress"] if "egress" in spec else []))
        denied = [t for t in types if not spec.get(t.lower())]
        if not denied:
            continue
        resource = ref("NetworkPolicy", pol)
        sel = ",".join(f"{k}={v}" for k, v in selector.items()) or "all pods"
        text = f"denies all {'/'.join(denied).lower()} for {sel} ({len(selected)} pod(s): {', '.join(selected[:5])})"
        findings.append(
            field_finding(
                SPECIALIST,
                resource,
                f"NetworkPolicy denies traffic: {resource}",
                text,
                tags=["network_deny"],
                data={"denied": denied, "selector": selector, "pods": selected},
            )
        )
    return findings
