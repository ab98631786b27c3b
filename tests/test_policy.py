"""The approval policy: autonomy per target, risk per verb, approvers, and refusal of bad files."""

from __future__ import annotations

import textwrap

import pytest

from agents.models import Proposal, Verb
from approvals.policy import Autonomy, Confirmation, PolicyError, Risk, load_policy, risk_of

GOOD = """\
default_autonomy: approve
autonomy:
  - match: {namespaces: ["dev-*"]}
    autonomy: auto
  - match: {labels: {tier: payments}}
    autonomy: advise
approvers:
  users: [U111]
  groups: ["@sre-oncall"]
protected:
  namespaces: [kube-system, vault]
  resources: [Deployment/shop/ledger]
approval_ttl_seconds: 900
kill_switch_seconds: 120
confirmation: either
"""


def _write(tmp_path, text):
    p = tmp_path / "policy.yaml"
    p.write_text(textwrap.dedent(text))
    return p


def _proposal(verb, target="Deployment/shop/web", **params):
    return Proposal(verb=verb, target=target, parameters=params, rationale="r")


def test_a_good_policy_sets_autonomy_by_namespace_glob_and_labels(tmp_path):
    policy = load_policy(_write(tmp_path, GOOD))
    assert policy.autonomy_for("dev-alice") == Autonomy.AUTO
    assert policy.autonomy_for("shop", {"tier": "payments"}) == Autonomy.ADVISE
    assert policy.autonomy_for("shop") == Autonomy.APPROVE
    assert policy.approval_ttl_seconds == 900
    assert policy.kill_switch_seconds == 120
    assert policy.confirmation == Confirmation.EITHER


def test_no_policy_file_means_approve_everything_and_protect_kube_system():
    policy = load_policy(None)
    assert policy.autonomy_for("anything") == Autonomy.APPROVE
    assert policy.is_protected("Deployment/kube-system/coredns")
    assert not policy.is_protected("Deployment/shop/web")
    assert policy.approval_ttl_seconds == 1800


def test_protected_resources_by_namespace_name_and_label(tmp_path):
    policy = load_policy(_write(tmp_path, GOOD))
    assert policy.is_protected("Deployment/shop/ledger")
    assert policy.is_protected("Namespace/vault")
    assert policy.is_protected("Secret/vault/root")
    assert policy.is_protected("Deployment/shop/web", {"sre-bot.io/protected": "true"})
    assert not policy.is_protected("Deployment/shop/web", {"app": "web"})


def test_approvers_by_user_group_and_the_environment_shorthand(tmp_path):
    policy = load_policy(_write(tmp_path, GOOD), approvers=["U222"])
    assert policy.may_approve("U111")
    assert policy.may_approve("U222")
    assert policy.may_approve("U999", ["@sre-oncall"])
    assert not policy.may_approve("U999", ["@frontend"])
    assert policy.approvers.two_person_for_destructive


@pytest.mark.parametrize(
    ("proposal", "risk"),
    [
        (_proposal(Verb.ROLLOUT_UNDO), Risk.REVERSIBLE),
        (_proposal(Verb.SCALE, replicas=3), Risk.REVERSIBLE),
        (_proposal(Verb.SCALE, replicas=0), Risk.DESTRUCTIVE),
        (_proposal(Verb.DELETE), Risk.DESTRUCTIVE),
        (_proposal(Verb.DRAIN, target="Node/node-a"), Risk.DESTRUCTIVE),
        (_proposal(Verb.CORDON, target="Node/node-a"), Risk.REVERSIBLE),
    ],
)
def test_every_verb_has_a_risk_and_scale_to_zero_is_destructive(proposal, risk):
    assert risk_of(proposal) == risk


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("default_autonomy: approve\napprover:\n  users: [U1]\n", 2, "did you mean 'approvers'"),
        ("default_autonomy: yolo\n", 1, "default_autonomy"),
        (
            "autonomy:\n  - match: {namespaces: [a]}\n    autonomy: auto\n  - match: {namespace: [b]}\n    autonomy: auto\n",
            4,
            "unknown key",
        ),
        ("approval_ttl_seconds: -5\n", 1, "greater than 0"),
        ("default_autonomy: [unclosed\n", 2, "not valid YAML"),
        ("- just\n- a list\n", 1, "must be a mapping"),
    ],
)
def test_a_policy_with_a_mistake_is_refused_with_file_line_and_reason(tmp_path, text, line, words):
    path = _write(tmp_path, text)
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert err.value.line == line
    assert str(err.value).startswith(f"{path}:{line}: ")
    assert words in str(err.value)


def test_a_missing_policy_file_is_refused(tmp_path):
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "nope.yaml")
