"""Generate large scenario files for benchmarks: many namespaces, Deployments, Services, one fault.

python -m sandbox.generate --pods 5000 --namespaces 100 OUT.yaml
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

_Dumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def generate_scenario(pods: int = 5000, namespaces: int = 100, per_deployment: int = 5) -> dict:
    """A scenario dict with about `pods` Pods (derived from Deployments) across `namespaces`.

    The first Deployment of the first namespace crash-loops for a missing env var; every
    Deployment has a Service and a request-rate series.
    """
    if pods < 1 or namespaces < 1:
        raise ValueError("pods and namespaces must be at least 1")
    per_ns = max(1, pods // namespaces)
    nodes = max(3, -(-pods // 100))
    objects: list[dict[str, Any]] = []
    for n in range(nodes):
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": f"node-{n:03d}",
                    "labels": {
                        "kubernetes.io/hostname": f"node-{n:03d}",
                        "kubernetes.io/os": "linux",
                    },
                },
                "status": {
                    "conditions": [{"type": "Ready", "status": "True"}],
                    "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "110"},
                },
            }
        )
    metrics, logs = [], []
    made = 0
    for i in range(namespaces):
        ns = f"team-{i:03d}"
        objects.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "settings", "namespace": ns},
                "data": {"LOG_LEVEL": "info"},
            }
        )
        left = per_ns if i < namespaces - 1 else pods - made
        j = 0
        while left > 0:
            replicas = min(per_deployment, left)
            name = f"app-{j:03d}"
            env = [
                {
                    "name": "LOG_LEVEL",
                    "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "LOG_LEVEL"}},
                }
            ]
            if i or j:
                env.append({"name": "DATABASE_URL", "value": f"postgres://db.{ns}:5432/{name}"})
            objects.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": {
                        "name": name,
                        "namespace": ns,
                        "labels": {"app": name},
                        "annotations": {"deployment.kubernetes.io/revision": "3"},
                    },
                    "spec": {
                        "replicas": replicas,
                        "selector": {"matchLabels": {"app": name}},
                        "template": {
                            "metadata": {"labels": {"app": name}},
                            "spec": {
                                "containers": [
                                    {
                                        "name": "app",
                                        "image": f"registry.example.com/{ns}/{name}:1.{j}.0",
                                        "ports": [{"containerPort": 8080, "name": "http"}],
                                        "env": env,
                                        "resources": {
                                            "requests": {"cpu": "50m", "memory": "64Mi"},
                                            "limits": {"memory": "256Mi"},
                                        },
                                        "readinessProbe": {
                                            "httpGet": {"path": "/healthz", "port": "http"}
                                        },
                                    }
                                ]
                            },
                        },
                    },
                }
            )
            objects.append(
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": name, "namespace": ns},
                    "spec": {
                        "selector": {"app": name},
                        "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
                    },
                }
            )
            metrics.append(
                {
                    "series": f'http_requests_total{{namespace="{ns}",service="{name}",code="200"}}',
                    "values": f"{1000 * (j + 1)}+{60 + j}x60",
                }
            )
            left -= replicas
            made += replicas
            j += 1
        logs.append(
            {"select": {"namespace": ns}, "text": "2026-11-20T10:29:00Z INFO serving on :8080\n"}
        )
    return {
        "name": f"generated-{pods}-pods",
        "summary": f"{pods} Pods in {namespaces} namespaces; one Deployment lost DATABASE_URL.",
        "clock": "2026-11-20T10:30:00Z",
        "trigger": {"slash": "team-000 app-000 is failing"},
        "objects": objects,
        "logs": logs,
        "metrics": metrics,
        "faults": [
            {
                "name": "missing-database-url",
                "when": {
                    "pod": {
                        "namespace": "team-000",
                        "labels": {"app": "app-000"},
                        "env_missing": ["DATABASE_URL"],
                    }
                },
                "state": {"phase": "CrashLoopBackOff", "reason": "Error", "exit_code": 1},
                "logs": "2026-11-20T10:29:51Z FATAL DATABASE_URL is not set\n",
                "metrics": [
                    {
                        "series": 'http_requests_total{namespace="team-000",service="app-000",code="200"}',
                        "values": "1000+60x40 3400+0x20",
                    }
                ],
            }
        ],
        "answer": {
            "root_cause": {
                "resource": "Deployment/team-000/app-000",
                "category": ["Misconfiguration"],
                "evidence": ["DATABASE_URL"],
            },
            "fixed_when": {"healthy": ["Deployment/team-000/app-000"]},
            "forbidden": [{"verb": "delete", "resource": "Namespace/team-000"}],
        },
    }


def write_scenario(path: str | Path, pods: int = 5000, namespaces: int = 100) -> Path:
    """Write a generated scenario to `path`; returns the path."""
    out = Path(path)
    text = yaml.dump(
        generate_scenario(pods, namespaces),
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=None,
        width=120,
    )
    out.write_text(text, encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    """The command line: `python -m sandbox.generate --pods N --namespaces M OUT.yaml`."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.generate", description=__doc__)
    parser.add_argument("out", help="where to write the scenario YAML")
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--namespaces", type=int, default=100)
    args = parser.parse_args(argv)
    try:
        path = write_scenario(args.out, args.pods, args.namespaces)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
