"""The shared models refuse what the design forbids."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from agents.models import Category, Diagnosis, Proposal, Trigger, TriggerSource, Verb


def test_a_proposal_outside_the_verb_catalogue_cannot_be_made():
    with pytest.raises(ValidationError):
        Proposal(verb="exec_shell", target="Deployment/shop/web", rationale="x")


def test_a_proposal_target_must_be_a_kind_namespace_name_reference():
    with pytest.raises(ValidationError, match="Kind/namespace/name"):
        Proposal(verb=Verb.SCALE, target="shop/web", rationale="x")


@pytest.mark.parametrize(
    ("verb", "target", "params", "command"),
    [
        (
            Verb.ROLLOUT_UNDO,
            "Deployment/shop/web",
            {},
            "kubectl rollout undo deployment/web -n shop",
        ),
        (
            Verb.SCALE,
            "Deployment/shop/web",
            {"replicas": 3},
            "kubectl scale deployment/web -n shop --replicas=3",
        ),
        (Verb.CORDON, "Node/node-a", {}, "kubectl cordon node-a"),
        (
            Verb.SET_ENV,
            "Deployment/shop/web",
            {"container": "app", "env": {"A": "1", "B": None}},
            "kubectl set env deployment/web -n shop -c app A=1 B-",
        ),
        (
            Verb.PATCH,
            "Service/shop/catalog",
            {
                "patch_type": "json",
                "patch": [{"op": "replace", "path": "/spec/ports/0/targetPort", "value": 8080}],
            },
            'kubectl patch service/catalog -n shop --type=json -p \'[{"op": "replace", "path": "/spec/ports/0/targetPort", "value": 8080}]\'',
        ),
    ],
)
def test_every_proposal_has_its_kubectl_equivalent(verb, target, params, command):
    p = Proposal(verb=verb, target=target, parameters=params, rationale="r")
    assert p.kubectl() == command


def test_a_webhook_trigger_needs_its_payload():
    with pytest.raises(ValidationError, match="payload"):
        Trigger(source=TriggerSource.PAGERDUTY)


def test_no_fault_is_a_diagnosis_without_a_resource():
    d = Diagnosis(category=Category.NO_FAULT, confidence=0.9, summary="nothing wrong")
    assert d.no_fault and d.root_cause is None


def test_an_inconclusive_diagnosis_is_not_a_no_fault_verdict():
    d = Diagnosis(
        category=Category.NO_FAULT, confidence=0.0, summary="model failed", inconclusive=True
    )
    assert not d.no_fault
