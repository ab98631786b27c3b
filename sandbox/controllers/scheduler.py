"""The scheduler: puts a Pod on a Ready, schedulable Node that fits, or says why none does."""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import dataclass
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
class _Node:
    name: str
    labels: dict[str, Any]
    taints: list[Obj]
    unschedulable: bool
    alloc: dict[str, float]


def _node_view(node: Obj) -> _Node:
    taints = list((node.get("spec") or {}).get("taints") or [])
    if not node_ready(node):
        taints.append({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"})
    alloc = {}
    for r, raw in ((node.get("status") or {}).get("allocatable") or {}).items():
        if r in ("cpu", "memory", "pods"):
            with contextlib.suppress(QuantityError):
                alloc[r] = parse_quantity(raw)
    return _Node(
        node["metadata"]["name"],
        node["metadata"].get("labels") or {},
        [t for t in taints if t.get("effect") in ("NoSchedule", "NoExecute")],
        bool((node.get("spec") or {}).get("unschedulable")),
        alloc,
    )


_ZERO = [0.0, 0.0, 0.0]


class Scheduler:
    """One pass of scheduling: knows the Nodes and what is already placed on them.

    `requests` caches each Pod's summed requests by uid across passes (Pod specs do not change).
    """

    def __init__(self, nodes: list[Obj], requests: dict[str, dict[str, float]] | None = None):
        self.nodes = [_node_view(n) for n in nodes]
        self.used: dict[str, list[float]] = {n.name: [0.0, 0.0, 0.0] for n in self.nodes}
        self._requests = requests if requests is not None else {}
        # Pods of one template share node selector and tolerations: filter Nodes once for them.
        self._static: dict[str, list[_Node] | None] = {}

    def _req(self, pod: Obj) -> dict[str, float]:
        uid = pod["metadata"].get("uid", "")
        req = self._requests.get(uid)
        if req is None:
            req = self._requests[uid] = pod_requests(pod.get("spec") or {})
        return req

    def place(self, pod: Obj) -> None:
        """Count an already scheduled Pod against its Node."""
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            u = self.used.setdefault(node, [0.0, 0.0, 0.0])
            req = self._req(pod)
            u[0] += req["cpu"]
            u[1] += req["memory"]
            u[2] += 1

    def schedule(self, pod: Obj) -> tuple[str | None, str]:
        """(node name, "") when the Pod fits somewhere, else (None, the FailedScheduling message)."""
        spec = pod.get("spec") or {}
        klass = repr((spec.get("nodeSelector"), spec.get("tolerations")))
        if klass not in self._static:
            self._static[klass] = [
                n
                for n in self.nodes
                if not n.unschedulable
                and all(
                    str(n.labels.get(k)) == str(v)
                    for k, v in (spec.get("nodeSelector") or {}).items()
                )
                and not any(not _tolerated(t, spec.get("tolerations") or []) for t in n.taints)
            ]
        feasible = self._static[klass]
        if feasible:
            # The least loaded feasible Node, if the Pod fits there; else the full search says why.
            best = min(feasible, key=lambda n: (self.used.get(n.name, _ZERO)[2], n.name))
            if self._fits(best, self._req(pod)):
                return best.name, ""
        return self._search(pod)

    def _fits(self, node: _Node, req: dict[str, float]) -> bool:
        u = self.used.get(node.name, _ZERO)
        if "cpu" in node.alloc and req["cpu"] > 0 and u[0] + req["cpu"] > node.alloc["cpu"] + 1e-9:
            return False
        if (
            "memory" in node.alloc
            and req["memory"] > 0
            and u[1] + req["memory"] > node.alloc["memory"] + 1e-9
        ):
            return False
        return not ("pods" in node.alloc and u[2] + 1 > node.alloc["pods"])

    def _search(self, pod: Obj) -> tuple[str | None, str]:
        spec = pod.get("spec") or {}
        selector = spec.get("nodeSelector") or {}
        tolerations = spec.get("tolerations") or []
        req = self._req(pod)
        reasons: Counter[str] = Counter()
        best: tuple[float, str] | None = None
        for node in self.nodes:
            if node.unschedulable:
                reasons["node(s) were unschedulable"] += 1
                continue
            if selector and any(str(node.labels.get(k)) != str(v) for k, v in selector.items()):
                reasons["node(s) didn't match Pod's node affinity/selector"] += 1
                continue
            bad = [t for t in node.taints if not _tolerated(t, tolerations)]
            if bad:
                t = bad[0]
                reasons[
                    f"node(s) had untolerated taint {{{t.get('key')}: {t.get('value', '')}}}"
                ] += 1
                continue
            u = self.used.get(node.name, [0.0, 0.0, 0.0])
            short = False
            for i, r, label in (
                (0, "cpu", "Insufficient cpu"),
                (1, "memory", "Insufficient memory"),
            ):
                if r in node.alloc and req[r] > 0 and u[i] + req[r] > node.alloc[r] + 1e-9:
                    reasons[label] += 1
                    short = True
            if "pods" in node.alloc and u[2] + 1 > node.alloc["pods"]:
                reasons["Too many pods"] += 1
                short = True
            if short:
                continue
            score = (u[2], node.name)
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
