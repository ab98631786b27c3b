"""ResourceQuota: admission of new Pods and `status.used`, worded as kube-apiserver words them."""

from __future__ import annotations

import contextlib
from typing import Any

from sandbox.quantity import QuantityError, format_quantity, parse_quantity
from sandbox.store import ObjectStore

Obj = dict[str, Any]
_TRACKED = (
    "pods",
    "count/pods",
    "requests.cpu",
    "requests.memory",
    "limits.cpu",
    "limits.memory",
    "cpu",
    "memory",
)


def pod_usage(spec: Obj) -> dict[str, float]:
    """What one Pod counts against a quota."""
    use = {"pods": 1.0, "count/pods": 1.0}
    for kind in ("requests", "limits"):
        for r in ("cpu", "memory"):
            total = 0.0
            for c in spec.get("containers") or []:
                res = c.get("resources") or {}
                raw = (res.get(kind) or {}).get(r)
                if raw is None and kind == "requests":
                    raw = (res.get("limits") or {}).get(r)  # requests default to limits
                if raw is not None:
                    with contextlib.suppress(QuantityError):
                        total += parse_quantity(raw)
            use[f"{kind}.{r}"] = total
    use["cpu"], use["memory"] = use["requests.cpu"], use["requests.memory"]
    return use


def _missing(spec: Obj, resource: str) -> list[str]:
    kind, r = resource.split(".") if "." in resource else ("requests", resource)
    out = []
    for c in spec.get("containers") or []:
        res = c.get("resources") or {}
        if r not in (res.get(kind) or {}) and r not in (res.get("limits") or {}):
            out.append(c.get("name", ""))
    return out


class QuotaBook:
    """Quotas of every namespace with what the existing Pods use, for one sync."""

    def __init__(self, store: ObjectStore, pods: list[Obj]) -> None:
        self.store = store
        self.quotas: dict[str, list[Obj]] = {}
        for q in store.list("ResourceQuota"):
            self.quotas.setdefault(q["metadata"].get("namespace", "default"), []).append(q)
        self.used: dict[tuple[str, str], dict[str, float]] = {}
        for q_list in self.quotas.values():
            for q in q_list:
                self.used[(q["metadata"]["namespace"], q["metadata"]["name"])] = dict.fromkeys(
                    self._hard(q), 0.0
                )
        if self.quotas:
            for pod in pods:
                if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                    continue
                self._add(pod["metadata"].get("namespace", "default"), pod_usage(pod["spec"]))

    @staticmethod
    def _hard(q: Obj) -> dict[str, float]:
        out = {}
        for k, v in ((q.get("spec") or {}).get("hard") or {}).items():
            if k in _TRACKED:
                try:
                    out[k] = parse_quantity(v)
                except QuantityError:
                    continue
        return out

    def _add(self, ns: str, use: dict[str, float]) -> None:
        for q in self.quotas.get(ns, ()):
            used = self.used[(ns, q["metadata"]["name"])]
            for k in used:
                used[k] += use.get(k, 0.0)

    def admit(self, ns: str, pod_name: str, spec: Obj) -> str | None:
        """None when the Pod may be created (its usage is then counted), else the Forbidden message."""
        use = pod_usage(spec)
        for q in self.quotas.get(ns, ()):
            qname = q["metadata"]["name"]
            hard = self._hard(q)
            missing = [
                f"{r} for: {','.join(names)}"
                for r in sorted(hard)
                if r not in ("pods", "count/pods") and (names := _missing(spec, r))
            ]
            if missing:
                return (
                    f'pods "{pod_name}" is forbidden: failed quota: {qname}: must specify '
                    + "; ".join(missing)
                )
            used = self.used[(ns, qname)]
            over = sorted(
                k
                for k, lim in hard.items()
                if use.get(k, 0.0) > 0 and used[k] + use.get(k, 0.0) > lim + 1e-9
            )
            if over:

                def show(values: dict[str, float], over: list[str] = over) -> str:
                    return ",".join(f"{k}={format_quantity(values[k], k)}" for k in over)

                return (
                    f'pods "{pod_name}" is forbidden: exceeded quota: {qname}, requested: '
                    f"{show(use)}, used: {show(used)}, limited: {show(hard)}"
                )
        self._add(ns, use)
        return None

    def write_status(self) -> None:
        """Set every quota's status.hard and status.used; touch only the ones that changed."""
        for (ns, name), used in self.used.items():
            q = self.store.find("ResourceQuota", ns, name)
            if q is None:
                continue
            hard = (q.get("spec") or {}).get("hard") or {}
            status = {
                "hard": dict(hard),
                "used": {k: format_quantity(used.get(k, 0.0), k) for k in hard if k in used},
            }
            if q.get("status") != status:
                q["status"] = status
                self.store.touch(q)
