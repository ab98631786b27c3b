"""The executor's pure parts: merge patches, diffs, redaction, recreatable snapshots."""

from __future__ import annotations

from approvals.executor import recreatable, redact, render_diff
from approvals.verbs import merge_patch, writable_part


def test_merge_patch_sets_changes_nulls_removals_and_replaces_lists_whole() -> None:
    before = {"spec": {"replicas": 2, "paused": True, "c": [{"name": "a", "image": "x:1"}]}}
    after = {"spec": {"replicas": 3, "c": [{"name": "a", "image": "x:2"}], "new": {"k": "v"}}}
    assert merge_patch(before, after) == {
        "spec": {
            "replicas": 3,
            "paused": None,
            "c": [{"name": "a", "image": "x:2"}],
            "new": {"k": "v"},
        }
    }
    assert merge_patch(after, after) == {}


def test_writable_part_leaves_out_status_and_server_metadata() -> None:
    obj = {
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "uid": "u",
            "resourceVersion": "9",
            "labels": {"app": "web"},
            "annotations": {"deployment.kubernetes.io/revision": "4", "team": "shop"},
        },
        "spec": {"replicas": 1},
        "status": {"readyReplicas": 1},
    }
    assert writable_part(obj) == {
        "kind": "Deployment",
        "metadata": {"labels": {"app": "web"}, "annotations": {"team": "shop"}},
        "spec": {"replicas": 1},
    }


def test_diff_is_unified_yaml_per_object_and_skips_unchanged_ones() -> None:
    a = {"kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 2}}
    b = {"kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 3}}
    diff = render_diff(
        {"Deployment/shop/web": a, "Node/n": a}, {"Deployment/shop/web": b, "Node/n": a}
    )
    assert diff.startswith("--- Deployment/shop/web (before)\n+++ Deployment/shop/web (after)")
    assert "-  replicas: 2\n+  replicas: 3" in diff
    assert "Node/n" not in diff


def test_deleted_objects_diff_to_nothing_and_secrets_are_redacted() -> None:
    secret = {"kind": "Secret", "metadata": {"name": "db"}, "data": {"password": "c2VjcmV0"}}
    diff = render_diff({"Secret/shop/db": secret}, {"Secret/shop/db": None})
    assert "+++ Secret/shop/db (deleted)" in diff
    assert "c2VjcmV0" not in diff and "password: <redacted>" in diff
    assert secret["data"]["password"] == "c2VjcmV0", "redaction works on a copy"
    assert redact({"kind": "ConfigMap", "data": {"a": "b"}}) == {
        "kind": "ConfigMap",
        "data": {"a": "b"},
    }


def test_recreatable_strips_server_set_fields() -> None:
    svc = {
        "kind": "Service",
        "metadata": {"name": "s", "uid": "u", "resourceVersion": "3", "creationTimestamp": "t"},
        "spec": {"clusterIP": "10.0.0.1", "ports": [{"port": 80}]},
        "status": {"loadBalancer": {}},
    }
    assert recreatable(svc) == {
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"ports": [{"port": 80}]},
    }
