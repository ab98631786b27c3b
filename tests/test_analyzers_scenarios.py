"""Analyzers, table-driven from scenario files through the real sandbox (k8sgpt style): one row
per analyzer concern. Each row serves a scenario, runs one rules specialist over the live
cluster (official client, Prometheus HTTP API), and asserts the exact finding that concern must
produce: its tag, the resource it names and the concrete word a person needs to see."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.models import Finding, Incident, TriggerSource
from agents.specialists import kubernetes, logs, metrics
from agents.tools.cluster import Cluster
from agents.tools.registry import tools_for
from sandbox.server import Sandbox
from tests.conftest import BUNDLED_SCENARIOS, SHARED_SCENARIOS

VARIANTS = Path(__file__).parent / "data" / "rules_engine_variants"
SPECIALISTS = {"kubernetes": kubernetes, "logs": logs, "metrics": metrics}

# (concern, scenario file, namespace, specialist, tag, resource, word in the summary or evidence)
ROWS = [
    (
        "crash loop with its last termination",
        SHARED_SCENARIOS / "checkout-missing-env.yaml",
        "shop",
        "kubernetes",
        "crashloop",
        "Deployment/shop/checkout-api",
        "exit code 1",
    ),
    (
        "rollout diff names the dropped env var",
        SHARED_SCENARIOS / "checkout-missing-env.yaml",
        "shop",
        "kubernetes",
        "rollout",
        "Deployment/shop/checkout-api",
        "env DATABASE_URL removed",
    ),
    (
        "OOM kill with the memory limit",
        BUNDLED_SCENARIOS / "search-indexer-oomkilled.yaml",
        "catalog-search",
        "kubernetes",
        "oomkilled",
        "Deployment/catalog-search/search-indexer",
        "768Mi",
    ),
    (
        "image pull failure with the missing tag",
        BUNDLED_SCENARIOS / "mobile-bff-image-tag-typo.yaml",
        "edge",
        "kubernetes",
        "image_pull",
        "Deployment/edge/mobile-bff",
        "v4.12.0",
    ),
    (
        "container config error names the missing Secret",
        BUNDLED_SCENARIOS / "notifier-missing-secret.yaml",
        "messaging",
        "kubernetes",
        "config_error",
        "Deployment/messaging/notification-sender",
        "smtp-credentials-v2",
    ),
    (
        "volume that cannot mount names the missing ConfigMap",
        VARIANTS / "release-mounts-missing-configmap.yaml",
        "maps",
        "kubernetes",
        "mount_failed",
        "Deployment/maps/geo-api",
        "geo-api-rules-v5",
    ),
    (
        "ConfigMap edited in place since its last apply",
        VARIANTS / "configmap-edited-in-place.yaml",
        "fx",
        "kubernetes",
        "config_drift",
        "ConfigMap/fx/fx-quotes-config",
        "PRICING_MODE",
    ),
    (
        "failing readiness probe with its status code",
        BUNDLED_SCENARIOS / "inventory-readiness-path.yaml",
        "warehouse",
        "kubernetes",
        "probe_failing",
        "Deployment/warehouse/inventory-api",
        "404",
    ),
    (
        "rollout diff names the new command",
        BUNDLED_SCENARIOS / "pricing-entrypoint-typo.yaml",
        "quotes",
        "kubernetes",
        "rollout",
        "Deployment/quotes/pricing-engine",
        "gunicron",
    ),
    (
        "Service targetPort no Pod exposes",
        SHARED_SCENARIOS / "catalog-wrong-target-port.yaml",
        "shop",
        "kubernetes",
        "target_port_mismatch",
        "Service/shop/catalog",
        "8081",
    ),
    (
        "Service selector that matches no Pod",
        BUNDLED_SCENARIOS / "payments-service-selector-mismatch.yaml",
        "billing",
        "kubernetes",
        "selector_mismatch",
        "Service/billing/payments-api",
        "app=payments-api",
    ),
    (
        "Deployment scaled to zero with its former size",
        BUNDLED_SCENARIOS / "recommender-scaled-to-zero.yaml",
        "personalization",
        "kubernetes",
        "scaled_to_zero",
        "Deployment/personalization/recommender",
        "ran 3 replicas",
    ),
    (
        "former size of a scaled-down Deployment from the controller's Event",
        VARIANTS / "scaled-to-zero-known-from-event.yaml",
        "find",
        "kubernetes",
        "scaled_to_zero",
        "Deployment/find/search-api",
        "ran 4 replicas",
    ),
    (
        "cordoned Node",
        BUNDLED_SCENARIOS / "ranker-gpu-node-cordoned.yaml",
        "ml-serving",
        "kubernetes",
        "cordoned",
        "Node/ip-10-8-6-118.us-east-2.compute.internal",
        "unschedulable",
    ),
    (
        "nodeSelector that only a cordoned Node matches",
        BUNDLED_SCENARIOS / "ranker-gpu-node-cordoned.yaml",
        "ml-serving",
        "kubernetes",
        "nodeselector_mismatch",
        "Deployment/ml-serving/ranker-inference",
        "cordoned",
    ),
    (
        "Pods refused by a ResourceQuota",
        BUNDLED_SCENARIOS / "collector-quota-exhausted.yaml",
        "ingest",
        "kubernetes",
        "quota_failed_create",
        "Deployment/ingest/event-collector",
        "exceeded quota: compute-quota",
    ),
    (
        "exhausted ResourceQuota",
        BUNDLED_SCENARIOS / "collector-quota-exhausted.yaml",
        "ingest",
        "kubernetes",
        "quota_exhausted",
        "ResourceQuota/ingest/compute-quota",
        "requests.cpu",
    ),
    (
        "deny-all NetworkPolicy over running Pods",
        BUNDLED_SCENARIOS / "orders-db-default-deny-policy.yaml",
        "orders-db",
        "kubernetes",
        "network_deny",
        "NetworkPolicy/orders-db/default-deny-ingress",
        "ingress",
    ),
    (
        "fatal config log line naming the variable",
        SHARED_SCENARIOS / "checkout-missing-env.yaml",
        "shop",
        "logs",
        "log_fatal_config",
        "Deployment/shop/checkout-api",
        "DATABASE_URL",
    ),
    (
        "callers' refused connections",
        SHARED_SCENARIOS / "catalog-wrong-target-port.yaml",
        "shop",
        "logs",
        "log_connection_refused",
        "Deployment/shop/frontend",
        "catalog.shop.svc:80",
    ),
    (
        "DNS failures to a host in a namespace that does not exist",
        BUNDLED_SCENARIOS / "shipping-rates-staging-host.yaml",
        "logistics",
        "logs",
        "log_dns_failure",
        "Deployment/logistics/shipping-rates",
        "logistics-staging",
    ),
    (
        "5xx ratio step change",
        SHARED_SCENARIOS / "catalog-wrong-target-port.yaml",
        "shop",
        "metrics",
        "error_ratio_step",
        "Service/shop/frontend",
        "stepped from",
    ),
]


def _collect(path: Path, namespace: str, specialist: str) -> list[Finding]:
    with Sandbox(path, port=0) as sandbox:
        cluster = Cluster.connect(sandbox.kubeconfig, sandbox.prometheus_url)
        incident = Incident(id="t", title="t", source=TriggerSource.CLI, namespace=namespace)
        return SPECIALISTS[specialist].collect(incident, tools_for(specialist, cluster, None))


def _text(f: Finding) -> str:
    return "\n".join([f.summary] + [e.text for e in f.evidence])


@pytest.mark.parametrize(
    ("path", "namespace", "specialist", "tag", "resource", "word"),
    [pytest.param(*row[1:], id=row[0]) for row in ROWS],
)
def test_analyzer_reports_the_concern_with_its_resource_and_evidence(
    path, namespace, specialist, tag, resource, word
):
    findings = _collect(path, namespace, specialist)
    tagged = [f for f in findings if tag in f.tags]
    assert [f.resource for f in tagged] == [resource], [(f.title, f.tags) for f in findings]
    assert word.lower() in _text(tagged[0]).lower(), _text(tagged[0])


def test_selector_near_miss_prefers_the_pods_that_serve_the_services_port():
    findings = _collect(
        BUNDLED_SCENARIOS / "payments-service-selector-mismatch.yaml", "billing", "kubernetes"
    )
    (mismatch,) = [f for f in findings if "selector_mismatch" in f.tags]
    assert mismatch.data["candidate_labels"][0] == {"app": "payments"}


def test_a_service_in_front_of_a_workload_scaled_to_zero_is_not_a_selector_typo():
    findings = _collect(
        BUNDLED_SCENARIOS / "recommender-scaled-to-zero.yaml", "personalization", "kubernetes"
    )
    service = [f for f in findings if f.resource == "Service/personalization/recommender"]
    assert [sorted(f.tags) for f in service] == [["no_endpoints", "no_pods"]]
    assert service[0].data["backends"] == ["Deployment/personalization/recommender"]


def test_callers_logging_only_an_ip_are_traced_to_the_service_behind_it():
    findings = _collect(BUNDLED_SCENARIOS / "recommender-scaled-to-zero.yaml", "web", "logs")
    (refused,) = [f for f in findings if "log_connection_refused" in f.tags]
    target = refused.data["targets"][0]
    assert (target["namespace"], target["service"]) == ("personalization", "recommender")


def test_a_latency_blip_that_has_recovered_is_not_a_step_change():
    findings = _collect(
        BUNDLED_SCENARIOS / "thumbnailer-latency-blip-false-alarm.yaml", "media", "metrics"
    )
    assert findings == []
