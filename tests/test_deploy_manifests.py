"""The Kubernetes manifests in deploy/kubernetes, rendered by the real `kubectl kustomize` and
checked for least privilege, pod hardening and settings that sre-bot really reads.
The Dockerfile has its own tests in test_deploy_dockerfile.py."""

from __future__ import annotations

import inspect
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import kubernetes.client
import pytest
import yaml

from agents.tools import k8s_read
from approvals.policy import Autonomy, load_policy
from approvals.redis import parse_redis_url
from bot.settings import Settings
from tests.conftest import REPO
from tests.support.serve_process import serve_http
from tests.support.slack_double import SlackDouble

KUSTOMIZE = REPO / "deploy" / "kubernetes"
KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
READ_VERBS = {"get", "list", "watch"}
# What the verb catalogue writes (approvals/verbs.py, approvals/executor.py), and nothing more.
REMEDIATION_VERBS = READ_VERBS | {"patch", "delete", "create"}
CREATE_ALLOWED = {("", "pods/eviction"), ("networking.k8s.io", "networkpolicies")}
DELETE_ALLOWED = {("", "pods"), ("networking.k8s.io", "networkpolicies")}
NODE_ROLE = "sre-bot-remediate-nodes"
Obj = dict[str, Any]


def _render(path: Path) -> list[Obj]:
    out = subprocess.run(
        [KUBECTL, "kustomize", str(path)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, f"kubectl kustomize {path} failed:\n{out.stderr}"
    return [d for d in yaml.safe_load_all(out.stdout) if d]


@pytest.fixture(scope="module", params=["base", "overlays/with-redis"])
def rendered(request: pytest.FixtureRequest) -> list[Obj]:
    """Every object of one kustomization, as `kubectl apply -k` would send them."""
    return _render(KUSTOMIZE / request.param)


@pytest.fixture(scope="module")
def with_redis() -> list[Obj]:
    """The overlay people are told to apply first."""
    return _render(KUSTOMIZE / "overlays" / "with-redis")


def _one(objs: list[Obj], kind: str, name: str) -> Obj:
    found = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def _bot(objs: list[Obj]) -> tuple[Obj, Obj]:
    dep = _one(objs, "Deployment", "sre-bot")
    return dep, dep["spec"]["template"]["spec"]["containers"][0]


def _pairs(rule: Obj) -> set[tuple[str, str]]:
    return {(g, r) for g in rule.get("apiGroups", []) for r in rule.get("resources", [])}


def _roles(objs: list[Obj]) -> list[Obj]:
    return [o for o in objs if o["kind"] in ("Role", "ClusterRole")]


def _config(objs: list[Obj], dep: Obj) -> dict[str, str]:
    """The settings the bot container receives from ConfigMaps through envFrom."""
    values: dict[str, str] = {}
    container = dep["spec"]["template"]["spec"]["containers"][0]
    for src in container.get("envFrom", []):
        values.update(_one(objs, "ConfigMap", src["configMapRef"]["name"])["data"])
    return values


# ---- RBAC -------------------------------------------------------------------------------


def test_investigation_role_only_reads(rendered: list[Obj]) -> None:
    role = _one(rendered, "ClusterRole", "sre-bot-investigate")
    for rule in role["rules"]:
        assert set(rule["verbs"]) <= READ_VERBS, f"write verb in the investigation role: {rule}"


def test_investigation_role_cannot_read_secrets(rendered: list[Obj]) -> None:
    role = _one(rendered, "ClusterRole", "sre-bot-investigate")
    for rule in role["rules"]:
        assert "secrets" not in rule.get("resources", []), rule
        assert not rule.get("nonResourceURLs"), rule


def test_no_role_uses_a_wildcard(rendered: list[Obj]) -> None:
    roles = _roles(rendered)
    assert roles
    for role in roles:
        assert "aggregationRule" not in role, role["metadata"]["name"]
        for rule in role["rules"]:
            for field in ("verbs", "resources", "apiGroups", "resourceNames"):
                assert not any("*" in v for v in rule.get(field, [])), (role["metadata"], rule)


def test_investigation_role_covers_what_the_specialists_read(rendered: list[Obj]) -> None:
    role = _one(rendered, "ClusterRole", "sre-bot-investigate")
    readable = set().union(*(_pairs(r) for r in role["rules"] if set(r["verbs"]) >= READ_VERBS))
    needed = {("", r) for r in ("pods", "pods/log", "events", "services", "endpoints", "nodes")}
    needed |= {("", r) for r in ("namespaces", "configmaps", "persistentvolumeclaims")}
    needed |= {("", "resourcequotas"), ("autoscaling", "horizontalpodautoscalers")}
    needed |= {("apps", r) for r in ("deployments", "replicasets", "statefulsets", "daemonsets")}
    needed |= {("networking.k8s.io", "networkpolicies")}
    assert needed <= readable, f"missing: {sorted(needed - readable)}"


_CLIENT_APIS = (
    kubernetes.client.CoreV1Api,
    kubernetes.client.AppsV1Api,
    kubernetes.client.NetworkingV1Api,
    kubernetes.client.AutoscalingV2Api,
    kubernetes.client.PolicyV1Api,
    kubernetes.client.EventsV1Api,
    kubernetes.client.BatchV1Api,
)


def _rbac_of(method: str) -> tuple[str, str, str] | None:
    """(apiGroup, resource[/subresource], RBAC verb) of a kubernetes-client read method."""
    for api in _CLIENT_APIS:
        serialize = getattr(api, f"_{method}_serialize", None)
        if serialize is None:
            continue
        path = re.search(r"resource_path='([^']+)'", inspect.getsource(serialize))
        assert path, method
        parts = path[1].strip("/").split("/")
        group, rest = ("", parts[2:]) if parts[0] == "api" else (parts[1], parts[3:])
        if len(rest) > 2 and rest[:2] == ["namespaces", "{namespace}"]:
            rest = rest[2:]
        resource = rest[0] + (f"/{rest[2]}" if len(rest) > 2 else "")
        return group, resource, "list" if method.startswith("list_") else "get"
    return None


def _agent_reads() -> set[tuple[str, str, str]]:
    """Every Kubernetes read the agents make: literal client calls, plus the object readers."""
    methods: set[str] = set()
    for src in (REPO / "agents").rglob("*.py"):
        methods |= set(re.findall(r"\.((?:list|read)_[a-z_]+)\b", src.read_text()))
    for _factory, suffix, namespaced in k8s_read._READERS.values():
        methods.add(f"read_namespaced_{suffix}" if namespaced else f"read_{suffix}")
    return {r for m in methods if (r := _rbac_of(m))}


def test_investigation_role_grants_every_read_the_agents_make_except_secrets(
    rendered: list[Obj],
) -> None:
    role = _one(rendered, "ClusterRole", "sre-bot-investigate")
    granted = {(g, r, v) for rule in role["rules"] for g, r in _pairs(rule) for v in rule["verbs"]}
    reads = _agent_reads()
    assert ("", "pods/log", "get") in reads and ("apps", "replicasets", "list") in reads
    # Secret lookups are refused on purpose (403): the Pod's events still name a missing one.
    missing = {r for r in reads - granted if r[:2] != ("", "secrets")}
    assert not missing, f"the agents read these, the ClusterRole does not grant them: {missing}"


def test_remediation_is_namespaced_except_the_documented_node_role(rendered: list[Obj]) -> None:
    writers = [r for r in _roles(rendered) if r["metadata"]["name"] != "sre-bot-investigate"]
    cluster = [r["metadata"]["name"] for r in writers if r["kind"] == "ClusterRole"]
    assert cluster == [NODE_ROLE]
    node_role = _one(rendered, "ClusterRole", NODE_ROLE)
    assert [(_pairs(r), set(r["verbs"])) for r in node_role["rules"]] == [
        ({("", "nodes")}, {"get", "patch"})
    ]
    namespaced = [r for r in writers if r["kind"] == "Role"]
    assert {r["metadata"]["namespace"] for r in namespaced} == {"shop"}


def test_remediation_roles_grant_only_the_catalogue_verbs(rendered: list[Obj]) -> None:
    for role in (r for r in _roles(rendered) if r["kind"] == "Role"):
        for rule in role["rules"]:
            verbs = set(rule["verbs"])
            assert verbs <= REMEDIATION_VERBS, rule
            if "create" in verbs:
                assert _pairs(rule) <= CREATE_ALLOWED, rule
            if "delete" in verbs:
                assert _pairs(rule) <= DELETE_ALLOWED, rule
            assert not any(r == "secrets" or r.endswith("/exec") for _, r in _pairs(rule)), rule


def test_remediation_role_grants_what_each_catalogue_verb_writes(rendered: list[Obj]) -> None:
    role = _one(rendered, "Role", "sre-bot-remediate")
    granted = {(g, r, v) for rule in role["rules"] for g, r in _pairs(rule) for v in rule["verbs"]}
    needed = {
        ("apps", "deployments", "patch"),  # restart, undo, set image/env/resources, patch
        ("apps", "deployments/scale", "patch"),  # scale
        ("apps", "replicasets", "get"),  # rollout undo reads the old template
        ("apps", "replicasets", "list"),
        ("", "pods", "delete"),
        ("", "pods/eviction", "create"),  # drain
        ("", "services", "patch"),  # selector fixes
        ("", "resourcequotas", "patch"),  # exhausted quota
        ("networking.k8s.io", "networkpolicies", "delete"),  # deny-all policy
    }
    assert needed <= granted, f"missing: {sorted(needed - granted)}"


def test_every_binding_binds_the_bot_service_account_to_a_rendered_role(
    rendered: list[Obj],
) -> None:
    bindings = [o for o in rendered if o["kind"] in ("RoleBinding", "ClusterRoleBinding")]
    assert len(bindings) == 3
    sa = _one(rendered, "ServiceAccount", "sre-bot")
    for b in bindings:
        ref = b["roleRef"]
        role = _one(rendered, ref["kind"], ref["name"])
        if ref["kind"] == "Role":
            assert role["metadata"]["namespace"] == b["metadata"]["namespace"]
        assert b["subjects"] == [
            {"kind": "ServiceAccount", "name": "sre-bot", "namespace": sa["metadata"]["namespace"]}
        ]
    dep, _ = _bot(rendered)
    assert dep["spec"]["template"]["spec"]["serviceAccountName"] == "sre-bot"


# ---- the Deployment -----------------------------------------------------------------------


def test_bot_pods_run_non_root_on_a_read_only_root_fs(rendered: list[Obj]) -> None:
    for dep in (o for o in rendered if o["kind"] == "Deployment"):
        pod = dep["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, c["name"]
            assert sc["allowPrivilegeEscalation"] is False, c["name"]
            assert sc["capabilities"]["drop"] == ["ALL"], c["name"]
            assert "add" not in sc["capabilities"], c["name"]
            assert c["resources"]["requests"] and c["resources"]["limits"], c["name"]


def test_bot_runs_two_replicas_of_serve_http_with_probes_on_healthz(rendered: list[Obj]) -> None:
    dep, c = _bot(rendered)
    assert dep["spec"]["replicas"] == 2
    assert c["args"] == ["serve", "--http", "--port", "3000"]
    assert c["image"].startswith("ghcr.io/") and ":" in c["image"]
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports == {"http": 3000}
    for probe in ("livenessProbe", "readinessProbe"):
        get = c[probe]["httpGet"]
        assert get["path"] == "/healthz"
        assert ports.get(get["port"], get["port"]) == 3000


def test_pdb_and_service_select_the_bot_pods(rendered: list[Obj]) -> None:
    dep, _ = _bot(rendered)
    labels = dep["spec"]["template"]["metadata"]["labels"]
    pdb = _one(rendered, "PodDisruptionBudget", "sre-bot")
    svc = _one(rendered, "Service", "sre-bot")
    for selector in (pdb["spec"]["selector"]["matchLabels"], svc["spec"]["selector"]):
        assert selector and selector.items() <= labels.items()
    assert pdb["spec"]["minAvailable"] < dep["spec"]["replicas"]
    assert svc["spec"]["ports"][0]["targetPort"] == "http"


def _setting_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names |= set(alias.choices) if alias is not None else {f"SRE_BOT_{name.upper()}"}
    return names


def test_every_env_var_the_deployment_sets_is_a_real_setting(rendered: list[Obj]) -> None:
    dep, c = _bot(rendered)
    set_here = {e["name"] for e in c["env"]} | set(_config(rendered, dep))
    assert set_here - _setting_names() == set()
    for e in c["env"]:
        ref = e["valueFrom"]["secretKeyRef"]  # credentials only ever come from the Secret
        assert (ref["name"], ref["key"]) == ("sre-bot-secrets", e["name"])
    assert {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"} <= {
        e["name"] for e in c["env"] if not e["valueFrom"]["secretKeyRef"].get("optional")
    }
    assert {"SRE_BOT_PAGERDUTY_SECRET", "SRE_BOT_ALERTMANAGER_TOKEN"} <= set_here


def test_the_configmap_values_are_valid_settings(
    rendered: list[Obj], monkeypatch: pytest.MonkeyPatch
) -> None:
    dep, _ = _bot(rendered)
    for key, value in _config(rendered, dep).items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    # Two replicas need shared state: the store must be Redis, never a per-pod SQLite file.
    assert settings.store.startswith("redis://")
    assert parse_redis_url(settings.store).url == settings.store
    assert settings.policy == Path("/etc/sre-bot/policy.yaml")


def test_policy_configmap_is_mounted_where_sre_bot_policy_points_and_loads(
    rendered: list[Obj], tmp_path: Path
) -> None:
    dep, c = _bot(rendered)
    policy_path = Path(_config(rendered, dep)["SRE_BOT_POLICY"])
    volumes = {v["name"]: v for v in dep["spec"]["template"]["spec"]["volumes"]}
    mount = next(m for m in c["volumeMounts"] if Path(m["mountPath"]) == policy_path.parent)
    assert mount["readOnly"] is True
    cm_ref = volumes[mount["name"]]["configMap"]
    item = next(i for i in cm_ref["items"] if i["path"] == policy_path.name)
    text = _one(rendered, "ConfigMap", cm_ref["name"])["data"][item["key"]]
    (tmp_path / "policy.yaml").write_text(text)
    policy = load_policy(tmp_path / "policy.yaml")
    assert policy.is_protected("Deployment/kube-system/coredns")
    assert policy.is_protected("Deployment/sre-bot/sre-bot")  # the bot never fixes itself
    assert policy.autonomy_for("shop", {"tier": "critical"}) == Autonomy.APPROVE
    assert policy.autonomy_for("kube-public") == Autonomy.OBSERVE
    assert policy.approvers.two_person_for_destructive is True


def test_the_bot_serves_with_the_deployments_configuration_on_redis(
    with_redis: list[Obj], redis_server: Any, tmp_path: Path
) -> None:
    """The rendered ConfigMaps, as the pod sees them, start a real bot on a real Redis: only
    the hosts change (Redis and Slack on loopback) and the policy's mount point (tmp_path)."""
    dep, c = _bot(with_redis)
    env = _config(with_redis, dep)
    volumes = {v["name"]: v for v in dep["spec"]["template"]["spec"]["volumes"]}
    for mount in c["volumeMounts"]:
        cm = volumes[mount["name"]].get("configMap")
        for item in (cm or {}).get("items", []):
            data = _one(with_redis, "ConfigMap", cm["name"])["data"][item["key"]]
            mounted = tmp_path / mount["mountPath"].lstrip("/") / item["path"]
            mounted.parent.mkdir(parents=True, exist_ok=True)
            mounted.write_text(data)
            if env["SRE_BOT_POLICY"] == f"{mount['mountPath']}/{item['path']}":
                env["SRE_BOT_POLICY"] = str(mounted)
    assert env["SRE_BOT_POLICY"].startswith(str(tmp_path)), "the policy is not mounted"
    env["SRE_BOT_STORE"] = redis_server.url_with_prefix()
    with SlackDouble() as slack:
        env |= {"SRE_BOT_SLACK_API_URL": slack.base_url}
        env |= {e["name"]: f"test-{e['name'].lower()}" for e in c["env"]}
        with serve_http(env) as port:
            health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
            assert health.status_code == 200  # it serves only once the Redis store answered


def test_redis_overlay_serves_the_store_url_and_admits_only_the_bot(
    with_redis: list[Obj],
) -> None:
    dep, _ = _bot(with_redis)
    url = _config(with_redis, dep)["SRE_BOT_STORE"]
    m = re.fullmatch(r"redis://([^.:/]+)\.([^.:/]+)\.svc:(\d+)/\d+", url)
    assert m, url
    svc = _one(with_redis, "Service", m[1])
    assert svc["metadata"]["namespace"] == m[2]
    assert [p["port"] for p in svc["spec"]["ports"]] == [int(m[3])]
    redis = _one(with_redis, "Deployment", "redis")
    assert (
        svc["spec"]["selector"].items() <= redis["spec"]["template"]["metadata"]["labels"].items()
    )
    netpol = _one(with_redis, "NetworkPolicy", "redis")
    allowed = netpol["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
    assert allowed.items() <= dep["spec"]["template"]["metadata"]["labels"].items()
