"""The scale-out benchmark's world: one broken `checkout-api` per namespace, and each one's plan.

Each namespace repeats the `checkout-missing-env` fault (the last release dropped DATABASE_URL;
`rollout undo` to the previous revision heals). For the incidents planned to roll back, the
previous release never gets Ready either, so the undo cannot prove itself before the deadline.
"""

from __future__ import annotations

from typing import Any

KEPT, DEADLINE, ROLL_BACK_NOW = "kept", "deadline rollback", "roll back now"
PLANS = (KEPT, KEPT, DEADLINE, ROLL_BACK_NOW)


def plan_of(i: int) -> str:
    """How incident `i` is meant to end."""
    return PLANS[i % len(PLANS)]


def namespace_of(i: int) -> str:
    """The namespace holding incident `i`'s broken Deployment."""
    return f"shop-{i:03d}"


def _container(image: str, with_db: bool, ns: str) -> dict[str, Any]:
    env: list[dict[str, Any]] = [{"name": "LOG_LEVEL", "value": "info"}]
    if with_db:
        env.append(
            {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}}
        )
    return {
        "name": "app",
        "image": image,
        "ports": [{"containerPort": 8080, "name": "http"}],
        "env": env,
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
    }


def _replica_set(ns: str, name: str, revision: str, replicas: int, stamp: str, db: bool) -> dict:
    image = "registry.example.com/shop/checkout:" + ("2.13.2" if db else "2.14.0")
    labels = {"app": "checkout-api", "pod-template-hash": name.rsplit("-", 1)[1]}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": ns,
            "creationTimestamp": stamp,
            "labels": labels,
            "annotations": {"deployment.kubernetes.io/revision": revision},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "checkout-api",
                    "controller": True,
                }
            ],
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [_container(image, db, ns)]},
            },
        },
    }


def scenario(incidents: int) -> dict[str, Any]:
    """One broken checkout-api per namespace; the `deadline`/`roll back now` ones cannot heal."""
    # 2 Pods per Deployment, plus the surge of every rollout and the old Pods that linger while
    # the new ones start: room for 5 Pods per incident, so no rollout waits on capacity.
    nodes = max(2, -(-incidents * 5 // 110))
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": f"node-{n:03d}",
                "labels": {"kubernetes.io/hostname": f"node-{n:03d}", "kubernetes.io/os": "linux"},
            },
            "status": {
                "conditions": [{"type": "Ready", "status": "True"}],
                "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "110"},
            },
        }
        for n in range(nodes)
    ]
    metrics, logs, faults = [], [], []
    for i in range(incidents):
        ns = namespace_of(i)
        objects += [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "db", "namespace": ns},
                "type": "Opaque",
                "data": {"url": "cG9zdGdyZXM6Ly9kYjo1NDMyL2NoZWNrb3V0"},
            },
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {
                    "name": "checkout-api",
                    "namespace": ns,
                    "labels": {"app": "checkout-api"},
                    "annotations": {"deployment.kubernetes.io/revision": "7"},
                },
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": "checkout-api"}},
                    "template": {
                        "metadata": {"labels": {"app": "checkout-api"}},
                        "spec": {
                            "containers": [
                                _container("registry.example.com/shop/checkout:2.14.0", False, ns)
                            ]
                        },
                    },
                },
            },
            _replica_set(ns, "checkout-api-6b7f9c4d8", "7", 2, "2026-11-20T10:04:12Z", False),
            _replica_set(ns, "checkout-api-5c8d7b9f6", "6", 0, "2026-11-18T16:41:55Z", True),
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "checkout-api", "namespace": ns},
                "spec": {
                    "selector": {"app": "checkout-api"},
                    "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
                },
            },
        ]
        ok = f'http_requests_total{{namespace="{ns}",service="checkout-api",code="200"}}'
        metrics.append({"series": ok, "values": "100000+600x60"})
        logs.append(
            {
                "select": {"namespace": ns, "labels": {"app": "checkout-api"}},
                "text": "2026-11-20T10:29:58Z INFO  checkout-api listening on :8080\n",
            }
        )
        faults.append(
            {
                "name": f"missing-database-url-{i:03d}",
                "when": {
                    "pod": {
                        "namespace": ns,
                        "labels": {"app": "checkout-api"},
                        "env_missing": ["DATABASE_URL"],
                    }
                },
                "state": {"phase": "CrashLoopBackOff", "reason": "Error", "exit_code": 1},
                "logs": "2026-11-20T10:29:51Z FATAL config: required environment variable "
                "DATABASE_URL is not set\n",
                "metrics": [{"series": ok, "values": "100000+600x34 120400+0x25"}],
            }
        )
        if plan_of(i) != KEPT:
            # The previous release never gets Ready either: the undo cannot prove itself.
            faults.append(
                {
                    "name": f"previous-release-unready-{i:03d}",
                    "when": {
                        "pod": {
                            "namespace": ns,
                            "labels": {"app": "checkout-api"},
                            "image": "*:2.13.2",
                        }
                    },
                    "state": {"phase": "NotReady"},
                }
            )
    return {
        "name": f"scaleout-{incidents}",
        "summary": f"{incidents} namespaces, each with a checkout-api that lost DATABASE_URL.",
        "clock": "2026-11-20T10:30:00Z",
        "trigger": {"slash": f"checkout-api in {namespace_of(0)} is throwing 500s"},
        "objects": objects,
        "logs": logs,
        "metrics": metrics,
        "faults": faults,
        "answer": {
            "root_cause": {
                "resource": f"Deployment/{namespace_of(0)}/checkout-api",
                "category": ["Misconfiguration"],
                "evidence": ["DATABASE_URL"],
            },
            "fixed_when": {"healthy": [f"Deployment/{namespace_of(0)}/checkout-api"]},
        },
    }
