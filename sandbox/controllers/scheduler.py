"""The scheduler: puts a Pod on a Ready, schedulable Node that fits, or says why none does."""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sandbox.quantity import QuantityError, parse_quantity

Obj = dict[str, Any]


def pod_requests(pod_spec: Obj) -> dict[str, float]:
    """Summed container requests (cpu in cores, memory in bytes); limits stand in for missing requests."""
    out = {"cpu": 0.0, "memory": 0.0}
    for c in pod_spec.get("containers") or []:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        for r in out:
            raw = req.get(r, lim.get(r))
            if raw is not None:
                with contextlib.suppress(QuantityError):
                    out[r] += parse_quantity(raw)
    return out


def node_ready(node: Obj) -> bool:
    """Whether a Node's Ready condition is True."""
    for c in (node.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def _tolerated(taint: Obj, tolerations: list[Obj]) -> bool:
    for t in tolerations:
        if t.get("effect") and t.get("effect") != taint.get("effect"):
            continue
        if t.get("operator") == "Exists" and (not t.get("key") or t.get("key") == taint.get("key")):
            return True
        if t.get("key") == taint.get("key") and t.get("value", "") == taint.get("value", ""):
            return True
    return False


@dataclass
class Scheduler:
    """One pass of scheduling: knows the Nodes and what is already placed on them."""

    nodes: list[Obj]
    used: dict[str, dict[str, float]] = field(default_factory=dict)

    def place(self, pod: Obj) -> None:
        """Count an already scheduled Pod against its Node."""
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            u = self.used.setdefault(node, {"cpu": 0.0, "memory": 0.0, "pods": 0.0})
            req = pod_requests(pod.get("spec") or {})
            u["cpu"] += req["cpu"]
            u["memory"] += req["memory"]
            u["pods"] += 1

    def schedule(self, pod: Obj) -> tuple[str | None, str]:
        """(node name, "") when the Pod fits somewhere, else (None, the FailedScheduling message)."""
        spec = pod.get("spec") or {}
        selector = spec.get("nodeSelector") or {}
        tolerations = spec.get("tolerations") or []
        req = pod_requests(spec)
        reasons: Counter[str] = Counter()
        best: tuple[float, str] | None = None
        for node in self.nodes:
            name = node["metadata"]["name"]
            labels = node["metadata"].get("labels") or {}
            taints = list((node.get("spec") or {}).get("taints") or [])
            if not node_ready(node):
                taints.append({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"})
            if (node.get("spec") or {}).get("unschedulable"):
                reasons["node(s) were unschedulable"] += 1
                continue
            if any(str(labels.get(k)) != str(v) for k, v in selector.items()):
                reasons["node(s) didn't match Pod's node affinity/selector"] += 1
                continue
            bad = [
                t
                for t in taints
                if t.get("effect") in ("NoSchedule", "NoExecute") and not _tolerated(t, tolerations)
            ]
            if bad:
                t = bad[0]
                reasons[
                    f"node(s) had untolerated taint {{{t.get('key')}: {t.get('value', '')}}}"
                ] += 1
                continue
            alloc = (node.get("status") or {}).get("allocatable") or {}
            u = self.used.get(name, {"cpu": 0.0, "memory": 0.0, "pods": 0.0})
            short = False
            for r, label in (("cpu", "Insufficient cpu"), ("memory", "Insufficient memory")):
                if r in alloc and req[r] > 0:
                    try:
                        if u[r] + req[r] > parse_quantity(alloc[r]) + 1e-9:
                            reasons[label] += 1
                            short = True
                    except QuantityError:
                        pass
            if "pods" in alloc and u["pods"] + 1 > float(alloc["pods"]):
                reasons["Too many pods"] += 1
                short = True
            if short:
                continue
            score = (u["pods"], name)
            if best is None or score < best:
                best = score
        if best is not None:
            return best[1], ""
        n = len(self.nodes)
        parts = ", ".join(f"{c} {r}" for r, c in sorted(reasons.items()))
        return None, (
            f"0/{n} nodes are available: {parts}. preemption: 0/{n} nodes are available: "
            f"{n} Preemption is not helpful for scheduling."
        )
