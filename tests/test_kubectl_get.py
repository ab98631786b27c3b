"""Real kubectl reads from the sandbox: get, describe, output formats, selectors, tables."""

from __future__ import annotations

import pytest

from tests.conftest import SHARED_SCENARIOS
from tests.support.kube import Kubectl, start_sandbox

CHECKOUT = SHARED_SCENARIOS / "checkout-missing-env.yaml"


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory):
    sb = start_sandbox(CHECKOUT)
    try:
        yield Kubectl(sb.kubeconfig, tmp_path_factory.mktemp("kubecache"))
    finally:
        sb.stop()


def _header(text: str) -> list[str]:
    return text.splitlines()[0].split()


def test_get_pods_all_namespaces_prints_ready_status_restarts(kubectl):
    out = kubectl.out("get", "pods", "-A")
    assert _header(out) == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert "checkout-api-" in out


def test_get_pods_wide_adds_ip_and_node(kubectl):
    out = kubectl.out("get", "pods", "-n", "shop", "-o", "wide")
    assert _header(out)[:8] == [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "IP",
        "NODE",
        "NOMINATED",
    ]


def test_get_deployments_prints_ready_up_to_date_available(kubectl):
    out = kubectl.out("get", "deploy", "-n", "shop")
    assert _header(out) == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert "checkout-api" in out and "frontend" in out


def test_get_deployments_wide_shows_images_and_selector(kubectl):
    out = kubectl.out("get", "deploy", "checkout-api", "-n", "shop", "-o", "wide")
    assert "registry.example.com/shop/checkout:2.14.0" in out
    assert "app=checkout-api" in out


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ("replicasets", "checkout-api-6b7f9c4d8"),
        ("services", "checkout-api"),
        ("endpoints", "checkout-api"),
        ("nodes", "node-a"),
        ("namespaces", "shop"),
        ("secrets", "checkout-db"),
    ],
)
def test_get_lists_each_kind_the_scenario_has(kubectl, resource, expected):
    assert expected in kubectl.out("get", resource, "-A")


@pytest.mark.parametrize(
    "resource",
    [
        "events",
        "configmaps",
        "networkpolicies",
        "persistentvolumeclaims",
        "horizontalpodautoscalers",
        "resourcequotas",
        "statefulsets",
        "daemonsets",
        "storageclasses",
    ],
)
def test_get_kinds_the_scenario_lacks_answers_cleanly(kubectl, resource):
    p = kubectl.run("get", resource, "-A")
    assert p.returncode == 0
    assert "error" not in p.stderr.lower()


def test_label_selector_filters(kubectl):
    out = kubectl.out("get", "deploy", "-n", "shop", "-l", "app=frontend", "-o", "name")
    assert out.split() == ["deployment.apps/frontend"]


def test_field_selector_filters(kubectl):
    out = kubectl.out(
        "get", "rs", "-A", "--field-selector", "metadata.name=checkout-api-5c8d7b9f6", "-o", "name"
    )
    assert out.split() == ["replicaset.apps/checkout-api-5c8d7b9f6"]


def test_single_object_as_yaml_and_json(kubectl):
    yaml_out = kubectl.out("get", "deploy", "checkout-api", "-n", "shop", "-o", "yaml")
    assert "kind: Deployment" in yaml_out and "name: checkout-api" in yaml_out
    obj = kubectl.json("get", "svc", "checkout-api", "-n", "shop")
    assert obj["kind"] == "Service" and obj["spec"]["selector"] == {"app": "checkout-api"}


def test_jsonpath_output(kubectl):
    out = kubectl.out(
        "get",
        "deploy",
        "checkout-api",
        "-n",
        "shop",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    )
    assert out == "registry.example.com/shop/checkout:2.14.0"


def test_list_as_json_has_list_kind_and_items(kubectl):
    doc = kubectl.json("get", "nodes")
    assert doc["kind"] == "List"
    assert sorted(i["metadata"]["name"] for i in doc["items"]) == ["node-a", "node-b"]


def test_describe_deployment_service_node(kubectl):
    assert "Replicas:" in kubectl.out("describe", "deployment", "checkout-api", "-n", "shop")
    assert "Selector:" in kubectl.out("describe", "service", "checkout-api", "-n", "shop")
    assert "node-a" in kubectl.out("describe", "node", "node-a")


def test_describe_pod_shows_containers_and_events_section(kubectl):
    pod = kubectl.out("get", "pods", "-n", "shop", "-l", "app=frontend", "-o", "name").split()[0]
    out = kubectl.out("describe", pod, "-n", "shop")
    assert "Containers:" in out and "Events:" in out


def test_missing_object_is_a_not_found_error(kubectl):
    p = kubectl.run("get", "deploy", "nope", "-n", "shop", check=False)
    assert p.returncode == 1
    assert 'deployments.apps "nope" not found' in p.stderr


def test_explain_reads_the_openapi_schema(kubectl):
    out = kubectl.out("explain", "deployment.spec.template.spec.containers")
    assert "containers" in out.lower()
