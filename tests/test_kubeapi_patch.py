"""Patch semantics: strategic merge follows Kubernetes merge keys and directives."""

from __future__ import annotations

import pytest

from sandbox.kubeapi.errors import ApiError
from sandbox.kubeapi.patch import JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, apply_patch

POD_SPEC = {
    "containers": [
        {
            "name": "app",
            "image": "a:1",
            "ports": [{"containerPort": 8080, "name": "http"}],
            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        },
        {"name": "sidecar", "image": "s:1"},
    ],
    "volumes": [{"name": "data", "emptyDir": {}}],
}
SERVICE = {
    "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8081}], "selector": {"app": "x"}}
}


@pytest.mark.parametrize(
    ("patch", "check"),
    [
        (
            {"containers": [{"name": "sidecar", "image": "s:2"}]},
            lambda o: [c["image"] for c in o["containers"]] == ["a:1", "s:2"],
        ),
        (
            {"containers": [{"name": "app", "env": [{"name": "C", "value": "3"}]}]},
            lambda o: [e["name"] for e in o["containers"][0]["env"]] == ["A", "B", "C"],
        ),
        (
            {"containers": [{"name": "app", "env": [{"name": "A", "$patch": "delete"}]}]},
            lambda o: [e["name"] for e in o["containers"][0]["env"]] == ["B"],
        ),
        (
            {"containers": [{"name": "app", "ports": [{"containerPort": 9090}]}]},
            lambda o: [p["containerPort"] for p in o["containers"][0]["ports"]] == [8080, 9090],
        ),
        (
            {"volumes": [{"name": "cache", "emptyDir": {}}]},
            lambda o: [v["name"] for v in o["volumes"]] == ["data", "cache"],
        ),
        (
            {"containers": [{"name": "new", "image": "n:1"}, {"$patch": "replace"}]},
            lambda o: [c["name"] for c in o["containers"]] == ["new"],
        ),
        (
            {"containers": [{"name": "sidecar", "$patch": "delete"}]},
            lambda o: [c["name"] for c in o["containers"]] == ["app"],
        ),
    ],
)
def test_strategic_merge_on_pod_spec_lists(patch, check):
    assert check(apply_patch(POD_SPEC, STRATEGIC_MERGE_PATCH, patch))


def test_strategic_merge_keys_service_ports_by_port():
    out = apply_patch(
        SERVICE, STRATEGIC_MERGE_PATCH, {"spec": {"ports": [{"port": 80, "targetPort": 8080}]}}
    )
    assert out["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": 8080}]


def test_strategic_merge_null_deletes_and_replace_directive_replaces_maps():
    out = apply_patch(
        SERVICE, STRATEGIC_MERGE_PATCH, {"spec": {"selector": {"$patch": "replace", "app": "y"}}}
    )
    assert out["spec"]["selector"] == {"app": "y"}
    assert (
        "selector"
        not in apply_patch(SERVICE, STRATEGIC_MERGE_PATCH, {"spec": {"selector": None}})["spec"]
    )


def test_merge_patch_replaces_lists_wholesale():
    out = apply_patch(POD_SPEC, MERGE_PATCH, {"volumes": [{"name": "only"}]})
    assert out["volumes"] == [{"name": "only"}]
    assert out["containers"] == POD_SPEC["containers"]


def test_json_patch_applies_and_reports_a_bad_path_as_invalid():
    out = apply_patch(
        POD_SPEC, JSON_PATCH, [{"op": "replace", "path": "/containers/0/image", "value": "a:2"}]
    )
    assert out["containers"][0]["image"] == "a:2"
    with pytest.raises(ApiError) as e:
        apply_patch(POD_SPEC, JSON_PATCH, [{"op": "remove", "path": "/nope/0"}])
    assert e.value.code == 422


def test_patching_never_mutates_the_original():
    apply_patch(POD_SPEC, STRATEGIC_MERGE_PATCH, {"containers": [{"name": "app", "image": "z"}]})
    assert POD_SPEC["containers"][0]["image"] == "a:1"


def test_server_side_apply_is_refused_with_what_to_use_instead():
    with pytest.raises(ApiError) as e:
        apply_patch(POD_SPEC, "application/apply-patch+yaml", {})
    assert e.value.code == 415 and "client-side" in e.value.message
