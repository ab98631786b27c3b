"""Config references: ConfigMaps, Secrets and keys a workload's containers name that do not exist.

Input is what `k8s_config_refs` returns: one dict per reference with `exists` / `key_exists`
resolved (Secret values are never read, only their key names)."""

from __future__ import annotations

from typing import Any

from agents.analyzers.objects import field_finding
from agents.models import Finding, Severity

SPECIALIST = "kubernetes"


def analyze_config_refs(workload: str, refs: list[dict[str, Any]]) -> list[Finding]:
    """One finding per missing, non-optional reference of `workload` (a Kind/ns/name ref)."""
    findings = [_drift(workload, r) for r in refs if r.get("drift")]
    for r in refs:
        if r.get("optional") or r.get("exists") is None:
            continue  # optional, or not readable by the bot (RBAC): no evidence either way
        if r.get("exists") and r.get("key_exists", True):
            continue
        what = f"{r['kind']} {r['name']}"
        if r.get("exists"):
            text = f"key {r.get('key')} not found in {what} (referenced by container {r.get('container')} via {r.get('via')})"
        else:
            text = f"{what} not found (referenced by container {r.get('container')} via {r.get('via')})"
        if r.get("env"):
            text += f" for env {r['env']}"
        findings.append(
            field_finding(
                SPECIALIST,
                workload,
                f"Missing config reference: {what}",
                text,
                tags=["config_ref_missing"],
                data=dict(r),
            )
        )
    return findings


def _drift(workload: str, r: dict[str, Any]) -> Finding:
    """A ConfigMap the workload reads that was edited in place since its last apply."""
    ns = workload.split("/")[1] if workload.count("/") == 2 else None
    resource = f"ConfigMap/{ns}/{r['name']}" if ns else f"ConfigMap/{r['name']}"
    keys = ", ".join(r["drift"])
    text = (
        f"ConfigMap {r['name']} (read by {workload} via {r.get('via')}) differs from its last "
        f"applied configuration in key(s) {keys}"
    )
    if r.get("edited_at"):
        text += f"; edited in place at {r['edited_at']}"
    return field_finding(
        SPECIALIST,
        resource,
        f"ConfigMap edited since its last apply: {resource}",
        text,
        tags=["config_drift"],
        data={"workload": workload, "restore": r["drift"], "edited_at": r.get("edited_at")},
        severity=Severity.WARNING,
    )
