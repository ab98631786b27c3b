"""Builders for small inline scenarios used by the world tests (tests/test_world_*.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sandbox.scenario import load_scenario
from sandbox.world import World

START = datetime(2031, 5, 4, 12, 0, 0, tzinfo=UTC)


def scenario_text(objects: str, faults: str = "", extra: str = "") -> str:
    """A scenario with namespace `shop`, two Ready nodes and the given objects (YAML list items)."""
    return f"""\
name: derive-test
summary: derivation
clock: "2026-01-01T12:00:00Z"
trigger: {{slash: "help"}}
{extra}
objects:
  - {{apiVersion: v1, kind: Namespace, metadata: {{name: shop}}}}
  - apiVersion: v1
    kind: Node
    metadata: {{name: node-a, labels: {{disk: ssd}}}}
    status:
      conditions: [{{type: Ready, status: "True"}}]
      allocatable: {{cpu: "4", memory: 8Gi, pods: "110"}}
  - apiVersion: v1
    kind: Node
    metadata: {{name: node-b, labels: {{disk: hdd}}}}
    status:
      conditions: [{{type: Ready, status: "True"}}]
      allocatable: {{cpu: "4", memory: 8Gi, pods: "110"}}
{objects}
faults:
{faults or "  []"}
answer:
  root_cause: {{resource: Namespace/shop, category: [Misconfiguration]}}
"""


def deployment(
    name: str = "web",
    replicas: int = 2,
    extra_spec: str = "",
    env: str = "",
    revision: str | None = None,
    container_extra: str = "",
) -> str:
    ann = (
        f'\n      annotations: {{deployment.kubernetes.io/revision: "{revision}"}}'
        if revision
        else ""
    )
    return f"""\
  - apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: {name}
      namespace: shop{ann}
    spec:
      replicas: {replicas}
      selector: {{matchLabels: {{app: {name}}}}}
      template:
        metadata: {{labels: {{app: {name}}}}}
        spec:{extra_spec}
          containers:
            - name: app
              image: registry.example.com/{name}:1.0
              ports: [{{containerPort: 8080, name: http}}]{env}{container_extra}
"""


def make_world(write_scenario, text: str, **kw) -> World:
    return World(load_scenario(write_scenario(text)), start=START, **kw)


def pods(world: World, prefix: str = "web") -> list[dict]:
    world.sync()
    return [p for p in world.store.list("Pod", "shop") if p["metadata"]["name"].startswith(prefix)]


def events(world: World, reason: str) -> list[dict]:
    return [e for e in world.store.list("Event") if e["reason"] == reason]


def ready(pod: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"]["conditions"])
