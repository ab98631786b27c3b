"""The executor against a real sandbox: dry run, snapshot, diff, apply, verify, roll back."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agents.models import Proposal, Verb
from agents.tools.cluster import Cluster
from approvals.executor import (
    DryRunRejected,
    Executor,
    ProposalNotApplicable,
)
from approvals.models import ExecutionEvent, Outcome
from approvals.resources import KubeResources, Ref
from sandbox.server import Sandbox

SECRET_VALUE = "s3cr3t-password"

# A small healthy shop: a Deployment with rollout history, a Service, a ConfigMap, a Secret,
# two Nodes. One fault: pods with BROKEN=1 in their env crash (the scaled-to-zero canary has it),
# so a bad change can be seen.
SCENARIO = f"""
name: executor-playground
summary: A small healthy shop for executor tests.
clock: "2026-11-20T10:30:00Z"
startup_seconds: 0.5
trigger: {{slash: "nothing is wrong"}}
objects:
  - {{apiVersion: v1, kind: Namespace, metadata: {{name: shop}}}}
  - apiVersion: v1
    kind: Node
    metadata: {{name: node-a, labels: {{kubernetes.io/hostname: node-a}}}}
    status: {{conditions: [{{type: Ready, status: "True"}}], allocatable: {{cpu: "8", memory: 32Gi, pods: "110"}}}}
  - apiVersion: v1
    kind: Node
    metadata: {{name: node-b, labels: {{kubernetes.io/hostname: node-b}}}}
    status: {{conditions: [{{type: Ready, status: "True"}}], allocatable: {{cpu: "8", memory: 32Gi, pods: "110"}}}}
  - apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      namespace: shop
      labels: {{app: web}}
      annotations: {{deployment.kubernetes.io/revision: "2"}}
    spec:
      replicas: 2
      selector: {{matchLabels: {{app: web}}}}
      template:
        metadata: {{labels: {{app: web}}}}
        spec:
          containers:
            - name: app
              image: registry.example.com/web:2.0.0
              env: [{{name: LOG_LEVEL, value: info}}]
              resources: {{limits: {{memory: 256Mi}}}}
  - apiVersion: apps/v1
    kind: ReplicaSet
    metadata:
      name: web-7d9f8b6c5
      namespace: shop
      labels: {{app: web, pod-template-hash: 7d9f8b6c5}}
      annotations: {{deployment.kubernetes.io/revision: "2"}}
      ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: web, controller: true}}]
    spec:
      replicas: 2
      selector: {{matchLabels: {{app: web, pod-template-hash: 7d9f8b6c5}}}}
      template:
        metadata: {{labels: {{app: web, pod-template-hash: 7d9f8b6c5}}}}
        spec:
          containers:
            - name: app
              image: registry.example.com/web:2.0.0
              env: [{{name: LOG_LEVEL, value: info}}]
              resources: {{limits: {{memory: 256Mi}}}}
  - apiVersion: apps/v1
    kind: ReplicaSet
    metadata:
      name: web-5c4b3a291
      namespace: shop
      labels: {{app: web, pod-template-hash: 5c4b3a291}}
      annotations: {{deployment.kubernetes.io/revision: "1"}}
      ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: web, controller: true}}]
    spec:
      replicas: 0
      selector: {{matchLabels: {{app: web, pod-template-hash: 5c4b3a291}}}}
      template:
        metadata: {{labels: {{app: web, pod-template-hash: 5c4b3a291}}}}
        spec:
          containers:
            - name: app
              image: registry.example.com/web:1.9.0
              env: [{{name: LOG_LEVEL, value: debug}}]
              resources: {{limits: {{memory: 256Mi}}}}
  - apiVersion: v1
    kind: Service
    metadata: {{name: web, namespace: shop}}
    spec:
      selector: {{app: web}}
      ports: [{{name: http, port: 80, targetPort: 8080}}]
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: canary, namespace: shop, labels: {{app: canary}}}}
    spec:
      replicas: 0
      selector: {{matchLabels: {{app: canary}}}}
      template:
        metadata: {{labels: {{app: canary}}}}
        spec:
          containers:
            - name: app
              image: registry.example.com/web:2.1.0-rc1
              env: [{{name: BROKEN, value: "1"}}]
  - apiVersion: v1
    kind: ConfigMap
    metadata: {{name: web-config, namespace: shop}}
    data: {{mode: fast}}
  - apiVersion: v1
    kind: Secret
    metadata: {{name: web-db, namespace: shop}}
    type: Opaque
    data: {{password: {base64.b64encode(SECRET_VALUE.encode()).decode()}}}
faults:
  - name: broken-flag
    when:
      pod: {{namespace: shop, env_equals: {{BROKEN: "1"}}}}
    state: {{phase: CrashLoopBackOff, reason: Error, exit_code: 1}}
answer:
  root_cause: {{category: [NoFault]}}
"""


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    path = tmp_path / "playground.yaml"
    path.write_text(SCENARIO)
    sb = Sandbox(path, port=0).start()
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture
def cluster(sandbox: Sandbox) -> Cluster:
    return Cluster.connect(sandbox.kubeconfig, sandbox.prometheus_url)


@pytest.fixture
def events() -> list[ExecutionEvent]:
    return []


@pytest.fixture
def executor(cluster: Cluster, events: list[ExecutionEvent]) -> Executor:
    return Executor(cluster.api, audit=events.append)


@pytest.fixture
def kube(cluster: Cluster) -> KubeResources:
    return KubeResources(cluster.api)


WEB = "Deployment/shop/web"


def eventually(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Poll a condition until it holds or the timeout passes (never a bare sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def proposal(verb: Verb, target: str = WEB, **params: object) -> Proposal:
    return Proposal(verb=verb, target=target, parameters=params, rationale="test")


def template(kube: KubeResources) -> dict:
    return kube.get(Ref.parse(WEB))["spec"]["template"]


def container(kube: KubeResources) -> dict:
    return template(kube)["spec"]["containers"][0]


# (proposal, what must hold of the Deployment's object after apply)
DEPLOYMENT_CHANGES = {
    "rollout_restart": (
        proposal(Verb.ROLLOUT_RESTART),
        lambda d: (
            "kubectl.kubernetes.io/restartedAt"
            in d["spec"]["template"]["metadata"].get("annotations", {})
        ),
    ),
    "scale": (proposal(Verb.SCALE, replicas=3), lambda d: d["spec"]["replicas"] == 3),
    "set_image": (
        proposal(Verb.SET_IMAGE, container="app", image="registry.example.com/web:2.0.1"),
        lambda d: d["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":2.0.1"),
    ),
    "set_env": (
        proposal(Verb.SET_ENV, container="app", env={"FEATURE_X": "on", "LOG_LEVEL": None}),
        lambda d: (
            d["spec"]["template"]["spec"]["containers"][0]["env"]
            == [{"name": "FEATURE_X", "value": "on"}]
        ),
    ),
    "set_resources": (
        proposal(Verb.SET_RESOURCES, container="app", limits={"memory": "512Mi"}),
        lambda d: (
            d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"]
            == "512Mi"
        ),
    ),
    "patch": (
        proposal(
            Verb.PATCH,
            patch_type="strategic",
            patch={"spec": {"template": {"metadata": {"labels": {"tier": "gold"}}}}},
        ),
        lambda d: d["spec"]["template"]["metadata"]["labels"].get("tier") == "gold",
    ),
    "rollout_undo": (
        proposal(Verb.ROLLOUT_UNDO),
        lambda d: d["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":1.9.0"),
    ),
}


@pytest.mark.parametrize("name", sorted(DEPLOYMENT_CHANGES))
def test_deployment_verbs_dry_run_apply_verify_and_roll_back(
    name: str, executor: Executor, kube: KubeResources, sandbox: Sandbox
) -> None:
    prop, holds = DEPLOYMENT_CHANGES[name]
    before = kube.get(Ref.parse(WEB))

    dry, snapshot, diff = executor.dry_run(prop)
    assert holds(dry.would_be[WEB]), "the dry run answers the would-be object"
    assert kube.get(Ref.parse(WEB))["spec"] == before["spec"], "a dry run changes nothing"
    assert snapshot.get(WEB)["spec"] == before["spec"]
    assert diff.startswith(f"--- {WEB} (before)") and "\n+" in diff

    record = executor.execute(prop, approved_by="U1")
    assert holds(kube.get(Ref.parse(WEB))), "apply changes the world"
    assert record.outcome == Outcome.APPLIED and record.applied_at is not None

    result = executor.verify(record, timeout=15)
    assert result.ok, result.summary()
    assert sandbox.world.healthy(WEB)

    executor.rollback(record, timeout=15)
    after = kube.get(Ref.parse(WEB))
    assert after["spec"]["template"] == before["spec"]["template"]
    assert after["spec"]["replicas"] == before["spec"]["replicas"]
    assert record.outcome == Outcome.ROLLED_BACK, record.rollback_verification
    assert eventually(lambda: sandbox.world.healthy(WEB)), "the restored template rolls out"


def test_rollout_undo_takes_the_previous_revisions_template_without_its_hash(
    executor: Executor, kube: KubeResources
) -> None:
    executor.execute(proposal(Verb.ROLLOUT_UNDO))
    tmpl = template(kube)
    assert "pod-template-hash" not in tmpl["metadata"]["labels"]
    assert container(kube)["env"] == [{"name": "LOG_LEVEL", "value": "debug"}]


def test_rollout_undo_to_a_missing_revision_names_the_history(executor: Executor) -> None:
    with pytest.raises(ProposalNotApplicable, match=r"no revision 9.*\[1, 2\]"):
        executor.execute(proposal(Verb.ROLLOUT_UNDO, to_revision=9))


def test_unknown_container_is_refused_before_anything_runs(
    executor: Executor, events: list[ExecutionEvent]
) -> None:
    with pytest.raises(ProposalNotApplicable, match="no container 'api'.*app"):
        executor.execute(proposal(Verb.SET_IMAGE, container="api", image="x:1"))
    assert events == []


def test_a_change_the_server_refuses_in_dry_run_changes_nothing(
    executor: Executor, kube: KubeResources
) -> None:
    before = kube.get(Ref.parse(WEB))["spec"]
    bad = proposal(
        Verb.PATCH,
        patch_type="json",
        patch=[{"op": "test", "path": "/spec/replicas", "value": 99}],
    )
    with pytest.raises(DryRunRejected, match="nothing was changed"):
        executor.execute(bad)
    assert kube.get(Ref.parse(WEB))["spec"] == before


def test_a_change_that_never_gets_healthy_fails_verification_and_rolls_back(
    executor: Executor, kube: KubeResources, sandbox: Sandbox
) -> None:
    record = executor.execute(proposal(Verb.SET_ENV, container="app", env={"BROKEN": "1"}))
    result = executor.verify(record, timeout=2)
    assert not result.ok and result.timed_out
    assert record.outcome == Outcome.UNVERIFIED
    assert sandbox.world.faults_present()["broken-flag"]

    executor.rollback(record, timeout=15)
    assert record.outcome == Outcome.ROLLED_BACK
    assert eventually(lambda: not sandbox.world.faults_present()["broken-flag"])
    assert eventually(lambda: sandbox.world.healthy(WEB))


def test_every_step_is_reported_to_the_audit_hook(
    executor: Executor, events: list[ExecutionEvent]
) -> None:
    record = executor.execute(proposal(Verb.SCALE, replicas=1), approved_by="U42")
    executor.verify(record, timeout=15)
    assert [e.kind for e in events] == ["dry_run", "snapshot", "applied", "verified"]
    assert all(e.approved_by == "U42" and e.target == WEB for e in events)


def test_patch_on_a_service_is_verified_by_its_endpoints_and_its_backends(
    executor: Executor, kube: KubeResources
) -> None:
    svc = "Service/shop/web"
    prop = proposal(
        Verb.PATCH,
        target=svc,
        patch_type="merge",
        patch={"metadata": {"labels": {"team": "shop"}}},
    )
    record = executor.execute(prop)
    assert kube.get(Ref.parse(svc))["metadata"]["labels"] == {"team": "shop"}
    result = executor.verify(record, timeout=15)
    assert result.ok, result.summary()
    names = [c.name for c in result.checks]
    assert "Service/shop/web has ready endpoints" in names
    assert "Deployment/shop/web pods Ready" in names, "the Service's backends are checked too"
    assert not any("canary" in n for n in names), "a Deployment it does not select is not"
    executor.rollback(record, timeout=15)
    assert not kube.get(Ref.parse(svc))["metadata"].get("labels")


def test_delete_then_rollback_recreates_the_object_without_server_fields(
    executor: Executor, kube: KubeResources
) -> None:
    ref = Ref.parse("ConfigMap/shop/web-config")
    old = kube.get(ref)
    dry, _, _ = executor.dry_run(proposal(Verb.DELETE, target=str(ref)))
    assert kube.get_or_none(ref) is not None, "a dry-run delete deletes nothing"
    record = executor.execute(proposal(Verb.DELETE, target=str(ref)))
    assert kube.get_or_none(ref) is None
    assert executor.verify(record, timeout=5).ok
    executor.rollback(record, timeout=5)
    back = kube.get(ref)
    assert back["data"] == {"mode": "fast"}
    assert back["metadata"]["name"] == old["metadata"]["name"]
    assert record.outcome == Outcome.ROLLED_BACK


def test_secret_values_never_appear_in_the_diff_or_the_record(executor: Executor) -> None:
    record = executor.execute(proposal(Verb.DELETE, target="Secret/shop/web-db"))
    encoded = base64.b64encode(SECRET_VALUE.encode()).decode()
    assert "password: <redacted>" in record.diff
    assert encoded not in record.diff
    assert encoded not in record.dry_run.model_dump_json()
    executor.rollback(record, timeout=5)  # the snapshot keeps what a restore needs


def unschedulable(kube: KubeResources, node: str) -> bool:
    return bool((kube.get(Ref("Node", None, node)).get("spec") or {}).get("unschedulable"))


def _node_of_pods(kube: KubeResources) -> str:
    pods = kube.list("Pod", "shop", label_selector="app=web")
    return pods[0]["spec"]["nodeName"]


def test_cordon_and_uncordon_flip_schedulability_and_roll_back(
    executor: Executor, kube: KubeResources
) -> None:
    record = executor.execute(proposal(Verb.CORDON, target="Node/node-a"))
    assert unschedulable(kube, "node-a") is True
    assert executor.verify(record, timeout=5).ok
    executor.rollback(record, timeout=5)
    assert not unschedulable(kube, "node-a")

    executor.execute(proposal(Verb.CORDON, target="Node/node-a"))
    record = executor.execute(proposal(Verb.UNCORDON, target="Node/node-a"))
    assert not unschedulable(kube, "node-a")
    assert executor.verify(record, timeout=5).ok


def test_drain_snapshots_node_and_pods_evicts_them_and_rolls_back(
    executor: Executor, kube: KubeResources, sandbox: Sandbox
) -> None:
    name = _node_of_pods(kube)
    target = f"Node/{name}"
    on_node = {
        p["metadata"]["name"] for p in kube.list("Pod", "shop") if p["spec"].get("nodeName") == name
    }
    dry, snapshot, _ = executor.dry_run(proposal(Verb.DRAIN, target=target))
    assert {r.split("/")[-1] for r in dry.would_be if r.startswith("Pod/")} == on_node
    assert {o.ref for o in snapshot.objects} == {target} | {f"Pod/shop/{n}" for n in on_node}
    assert not unschedulable(kube, name), "a dry-run drain cordons nothing"
    still = {p["metadata"]["name"] for p in kube.list("Pod", "shop")}
    assert on_node <= still, "and evicts nothing"

    record = executor.execute(proposal(Verb.DRAIN, target=target))
    assert executor.verify(record, timeout=15).ok
    left = [p for p in kube.list("Pod", "shop") if p["spec"].get("nodeName") == name]
    assert left == []
    assert executor.verify(record, timeout=15).ok

    executor.rollback(record, timeout=15)
    assert not unschedulable(kube, name)
    assert record.outcome == Outcome.ROLLED_BACK
