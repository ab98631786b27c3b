"""Real kubectl writes against the sandbox: patch, scale, set, cordon, delete, apply, dry-run."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SHARED_SCENARIOS
from tests.support.kube import Kubectl, start_sandbox

CHECKOUT = SHARED_SCENARIOS / "checkout-missing-env.yaml"
NS = ("-n", "shop")


@pytest.fixture
def cluster(tmp_path):
    sb = start_sandbox(CHECKOUT)
    try:
        yield sb, Kubectl(sb.kubeconfig, tmp_path / "kubecache")
    finally:
        sb.stop()


def _container(k: Kubectl) -> dict:
    return k.json("get", "deploy", "checkout-api", *NS)["spec"]["template"]["spec"]["containers"][0]


def test_scale_uses_the_scale_subresource_and_is_recorded(cluster):
    sb, k = cluster
    k.out("scale", "deploy/checkout-api", *NS, "--replicas=5")
    assert k.json("get", "deploy", "checkout-api", *NS)["spec"]["replicas"] == 5
    assert ("patch", "Deployment/shop/checkout-api") in sb.world.executed


def test_set_image_env_and_resources_patch_only_the_named_container_fields(cluster):
    _, k = cluster
    k.out(
        "set", "image", "deploy/checkout-api", *NS, "app=registry.example.com/shop/checkout:2.15.0"
    )
    k.out("set", "env", "deploy/checkout-api", *NS, "FEATURE_X=on")
    k.out("set", "resources", "deploy/checkout-api", *NS, "--limits=memory=1Gi")
    c = _container(k)
    assert c["image"] == "registry.example.com/shop/checkout:2.15.0"
    assert {"name": "LOG_LEVEL", "value": "info"} in c["env"]
    assert {"name": "FEATURE_X", "value": "on"} in c["env"]
    assert c["resources"]["limits"]["memory"] == "1Gi"
    assert c["resources"]["requests"]["cpu"] == "200m"


def test_strategic_merge_patch_merges_containers_by_name_and_deletes_by_directive(cluster):
    _, k = cluster
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "env": [
                                {"name": "DATABASE_URL", "value": "postgres://x"},
                                {"name": "LOG_LEVEL", "$patch": "delete"},
                            ],
                        }
                    ]
                }
            }
        }
    }
    k.out("patch", "deploy", "checkout-api", *NS, "--type", "strategic", "-p", json.dumps(patch))
    c = _container(k)
    assert c["env"] == [{"name": "DATABASE_URL", "value": "postgres://x"}]
    assert c["image"] == "registry.example.com/shop/checkout:2.14.0"


def test_merge_patch_replaces_lists_and_json_patch_applies_operations(cluster):
    _, k = cluster
    k.out(
        "patch",
        "deploy",
        "checkout-api",
        *NS,
        "--type",
        "merge",
        "-p",
        '{"metadata":{"labels":{"team":"pay"}}}',
    )
    ops = [{"op": "replace", "path": "/spec/replicas", "value": 1}]
    k.out("patch", "deploy", "checkout-api", *NS, "--type", "json", "-p", json.dumps(ops))
    d = k.json("get", "deploy", "checkout-api", *NS)
    assert d["metadata"]["labels"]["team"] == "pay"
    assert d["spec"]["replicas"] == 1


def test_cordon_and_uncordon_toggle_schedulability(cluster):
    _, k = cluster
    k.out("cordon", "node-a")
    assert "Ready,SchedulingDisabled" in k.out("get", "node", "node-a")
    k.out("uncordon", "node-a")
    assert k.json("get", "node", "node-a")["spec"].get("unschedulable") in (None, False)


def test_delete_removes_the_object_and_records_the_write(cluster):
    sb, k = cluster
    k.out("delete", "secret", "checkout-db", *NS)
    p = k.run("get", "secret", "checkout-db", *NS, check=False)
    assert p.returncode == 1 and "NotFound" in p.stderr
    assert ("delete", "Secret/shop/checkout-db") in sb.world.executed


def test_server_dry_run_changes_nothing_and_records_nothing(cluster):
    sb, k = cluster
    before = k.json("get", "deploy", "checkout-api", *NS)
    k.out("scale", "deploy/checkout-api", *NS, "--replicas=9", "--dry-run=server")
    k.out("delete", "deploy", "checkout-api", *NS, "--dry-run=server")
    k.out("set", "image", "deploy/checkout-api", *NS, "app=nope:1", "--dry-run=server")
    after = k.json("get", "deploy", "checkout-api", *NS)
    assert after["spec"] == before["spec"]
    assert not [w for w in sb.world.executed if w[1] == "Deployment/shop/checkout-api"]


MANIFEST = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: checkout-api, namespace: shop}
spec:
  replicas: 4
  selector: {matchLabels: {app: checkout-api}}
  template:
    metadata: {labels: {app: checkout-api}}
    spec:
      containers:
      - name: app
        image: registry.example.com/shop/checkout:2.15.0
---
apiVersion: v1
kind: ConfigMap
metadata: {name: brand-new, namespace: shop}
data: {k: v}
"""


def test_apply_with_server_dry_run_reports_changes_without_storing_them(cluster):
    sb, k = cluster
    out = k.run("apply", "--dry-run=server", "-f", "-", stdin=MANIFEST).stdout
    assert "deployment.apps/checkout-api configured (server dry run)" in out
    assert "configmap/brand-new created (server dry run)" in out
    assert k.json("get", "deploy", "checkout-api", *NS)["spec"]["replicas"] == 3
    assert k.run("get", "cm", "brand-new", *NS, check=False).returncode == 1
    assert sb.world.executed == []


def test_create_of_an_existing_object_is_already_exists(cluster):
    _, k = cluster
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "checkout-db", "namespace": "shop"},
    }
    p = k.run("create", "-f", "-", stdin=json.dumps(secret), check=False)
    assert p.returncode == 1
    assert "AlreadyExists" in p.stderr and 'secrets "checkout-db" already exists' in p.stderr
