"""Scenario files load into Scenario models; bad ones are refused with file:line and what to do."""

from __future__ import annotations

import pytest

from sandbox.scenario import ScenarioError, bundled_scenarios, load_scenario

BASE = """\
name: web-broken
summary: the web deployment is broken
clock: "2026-01-01T12:00:00Z"
trigger:
  slash: "web is down"
objects:
  - apiVersion: v1
    kind: Namespace
    metadata: {name: shop}
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: shop}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
            - name: app
              image: registry.example.com/web:1.0
metrics:
  - series: 'up{job="web"}'
    values: "1x10"
faults:
  - name: bad-image
    when:
      pod: {namespace: shop, labels: {app: web}, image: "*:1.0"}
    state: {phase: CrashLoopBackOff, reason: Error, exit_code: 1}
answer:
  root_cause:
    resource: Deployment/shop/web
    category: [Misconfiguration]
"""


def test_the_shared_scenarios_load_unchanged(shared_scenarios):
    files = sorted(shared_scenarios.glob("*.yaml"))
    assert files, "the shared scenarios folder is empty"
    for path in files:
        sc = load_scenario(path)
        assert sc.name == path.stem
        assert sc.source_path == path
        assert sc.faults and sc.answer.root_cause.category


def test_checkout_scenario_fields_follow_the_contract(shared_scenarios):
    sc = load_scenario(shared_scenarios / "checkout-missing-env.yaml")
    assert sc.trigger.slash and sc.trigger.alertmanager is None and sc.trigger.pagerduty is None
    assert sc.clock.isoformat() == "2026-11-20T10:30:00+00:00"
    assert sc.startup_seconds == 2
    assert sc.answer.root_cause.resource == "Deployment/shop/checkout-api"
    assert sc.answer.root_cause.also_accept == ["ReplicaSet/shop/checkout-api-6b7f9c4d8"]
    assert [(f.verb, f.resource) for f in sc.answer.forbidden][0] == ("delete", "Namespace/shop")
    assert sc.faults[0].pod.env_missing == ["DATABASE_URL"]
    assert sc.metrics[0].values[:2] == [100000.0, 100600.0]
    assert sc.metrics[0].labels["__name__"] == "http_requests_total"


def test_bundled_scenarios_are_sorted_yaml_files():
    paths = bundled_scenarios()
    assert paths == sorted(paths)
    assert all(p.suffix == ".yaml" for p in paths)


def test_a_valid_file_loads(write_scenario):
    sc = load_scenario(write_scenario(BASE))
    assert sc.name == "web-broken"
    assert sc.faults[0].state.phase == "CrashLoopBackOff"
    assert sc.metrics[0].interval == 60


def _line_of(text: str, marker: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if marker in line)


MALFORMED = [
    # (what is wrong, edit of BASE as (old, new), marker of the line to blame, words in message)
    ("unknown top-level key", ("summary:", "sumary: x\nsummary:"), "sumary", ["sumary", "summary"]),
    ("bad name", ("name: web-broken", "name: Web_Broken"), "name: Web_Broken", ["a-z"]),
    (
        "two trigger sources",
        ('  slash: "web is down"', '  slash: "x"\n  pagerduty: {event: {}}'),
        "trigger:",
        ["exactly one"],
    ),
    ("no trigger source", ('  slash: "web is down"', "  slash: null"), "trigger:", ["exactly one"]),
    ("bad clock", ('clock: "2026-01-01T12:00:00Z"', 'clock: "yesterday"'), "clock:", ["RFC 3339"]),
    ("bad series selector", ("'up{job=\"web\"}'", "'up{job=web}'"), "series:", ["up{job=web}"]),
    ("bad series values", ('values: "1x10"', 'values: "1x10 oops"'), "values:", ["oops"]),
    (
        "bad answer ref",
        ("resource: Deployment/shop/web", "resource: Deployment/shop/wbe"),
        "resource: Deployment",
        ["Deployment/shop/wbe", "did you mean", "Deployment/shop/web"],
    ),
    (
        "namespaced ref without namespace",
        ("resource: Deployment/shop/web", "resource: Deployment/web"),
        "resource: Deployment",
        ["namespaced"],
    ),
    (
        "fault selector matches nothing",
        ("labels: {app: web}, image", "labels: {app: api}, image"),
        "pod: {namespace",
        ["matches no Pod"],
    ),
    (
        "fault image glob matches nothing",
        ('image: "*:1.0"', 'image: "*:2.0"'),
        "pod: {namespace",
        ["matches no Pod"],
    ),
    (
        "unknown fault key",
        ("    state: {phase", "    stat: {phase"),
        "stat:",
        ["stat", "did you mean 'state'"],
    ),
    (
        "unknown phase",
        ("phase: CrashLoopBackOff", "phase: CrashLoop"),
        "state:",
        ["CrashLoopBackOff"],
    ),
    (
        "unknown selector key",
        ("labels: {app: web}, image", "label: {app: web}, image"),
        "pod:",
        ["label", "labels"],
    ),
    (
        "unknown category",
        ("[Misconfiguration]", "[Misconfig]"),
        "category:",
        ["did you mean 'Misconfiguration'"],
    ),
    (
        "object without a name",
        ("metadata: {name: shop}", "metadata: {}"),
        "- apiVersion: v1",
        ["metadata.name"],
    ),
    ("not YAML", ('  slash: "web is down"', "  slash: [unclosed"), "objects:", ["YAML"]),
    (
        "object fault on a missing object",
        (
            '      pod: {namespace: shop, labels: {app: web}, image: "*:1.0"}',
            "      object: {ref: Service/shop/nope, path: spec.type, equals: ClusterIP}",
        ),
        "object:",
        ["Service/shop/nope"],
    ),
    (
        "object fault with a bad path",
        (
            '      pod: {namespace: shop, labels: {app: web}, image: "*:1.0"}',
            "      object: {ref: Deployment/shop/web, path: 'spec..[x', equals: 1}",
        ),
        "object:",
        ["path"],
    ),
]


@pytest.mark.parametrize(
    "edit,marker,words", [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_a_malformed_file_is_refused_with_file_line_and_what_to_do(
    write_scenario, edit, marker, words
):
    old, new = edit
    assert old in BASE
    text = BASE.replace(old, new, 1)
    path = write_scenario(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    assert err.path == str(path)
    assert err.line == _line_of(text, marker), str(err)
    assert str(err).startswith(f"{path}:{err.line}: ")
    for word in words:
        assert word in str(err)


def test_an_exists_false_fault_may_name_a_missing_object(write_scenario):
    text = BASE.replace(
        '      pod: {namespace: shop, labels: {app: web}, image: "*:1.0"}',
        "      object: {ref: ConfigMap/shop/web-config, exists: false}",
    )
    sc = load_scenario(write_scenario(text))
    assert sc.faults[0].object.exists is False


def test_a_pod_fault_may_match_only_a_rollout_history_template(write_scenario):
    text = (
        BASE.replace('image: "*:1.0"', 'image: "*:0.9"')
        + """\
"""
    )
    text = text.replace(
        "metrics:",
        """\
  - apiVersion: apps/v1
    kind: ReplicaSet
    metadata:
      name: web-old
      namespace: shop
      annotations: {deployment.kubernetes.io/revision: "1"}
      ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, controller: true}]
    spec:
      replicas: 0
      selector: {matchLabels: {app: web, pod-template-hash: old}}
      template:
        metadata: {labels: {app: web, pod-template-hash: old}}
        spec:
          containers:
            - name: app
              image: registry.example.com/web:0.9
metrics:""",
        1,
    )
    assert load_scenario(write_scenario(text)).faults[0].pod.image == "*:0.9"


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "nope.yaml")
    assert "cannot read" in str(info.value)
