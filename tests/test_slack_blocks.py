"""Block Kit rendering within Slack's limits (3,000 characters per text, 50 blocks), redacted."""

from __future__ import annotations

import json

from agents.models import Category, Diagnosis, Evidence, Finding, Proposal, TriggerSource, Verb
from approvals.store import IncidentRecord
from bot import blocks


def _texts(bs: list[dict]) -> list[str]:
    out = []
    for b in bs:
        if isinstance(b.get("text"), dict):
            out.append(b["text"]["text"])
        out += [f["text"] for f in b.get("fields", [])]
        out += [e["text"] for e in b.get("elements", []) if isinstance(e.get("text"), str)]
    return out


def test_long_evidence_is_cut_to_3000_characters_with_a_note():
    finding = Finding(
        specialist="logs",
        title="stack trace",
        evidence=[Evidence(kind="log", source="Pod/shop/a", text="x" * 10_000)],
    )
    rendered = blocks.specialist_blocks("logs", [finding])
    assert all(len(t) <= 3000 for t in _texts(rendered))
    assert any("truncated:" in t and "more characters" in t for t in _texts(rendered))


def test_a_message_never_has_more_than_50_blocks_and_says_what_was_left_out():
    findings = [Finding(specialist="kubernetes", title=f"pod {i} crashing") for i in range(80)]
    rendered = blocks.specialist_blocks("kubernetes", findings)
    assert len(rendered) == 50
    assert "32 more blocks not shown" in json.dumps(rendered[-1])


def test_the_root_message_shows_source_link_severity_status_and_progress():
    record = IncidentRecord(
        id="inc-1",
        title="checkout down",
        source=TriggerSource.PAGERDUTY,
        link="https://acme.pagerduty.com/incidents/Q1",
        status="diagnosed",
        done=3,
        total=4,
    )
    text = json.dumps(blocks.root_blocks(record))
    assert "<https://acme.pagerduty.com/incidents/Q1|pagerduty>" in text
    assert "warning" in text and "diagnosed" in text and "3 of 4 specialists done" in text


def test_a_header_longer_than_150_characters_is_cut():
    record = IncidentRecord(id="inc-1", title="t" * 140, source=TriggerSource.SLASH)
    record.title = "t" * 400
    assert len(blocks.root_blocks(record)[0]["text"]["text"]) <= 150


def test_secrets_in_evidence_are_redacted():
    diagnosis = Diagnosis(
        root_cause="Deployment/shop/api",
        category=Category.MISCONFIGURATION,
        confidence=0.9,
        summary="bad DSN",
        evidence=[Evidence(kind="log", source="Pod/shop/a", text="postgres://u:hunter2pw@db/x")],
    )
    assert "hunter2pw" not in json.dumps(blocks.diagnosis_blocks(diagnosis))


def test_a_proposal_carries_its_kubectl_and_approve_reject_buttons_with_the_incident():
    proposal = Proposal(
        verb=Verb.ROLLOUT_UNDO, target="Deployment/shop/api", rationale="the last rollout broke it"
    )
    rendered = blocks.proposal_blocks("inc-9", 1, proposal)
    assert "kubectl rollout undo deployment/api -n shop" in json.dumps(rendered)
    buttons = rendered[-1]["elements"]
    assert [b["action_id"] for b in buttons] == ["approve", "reject"]
    assert all(json.loads(b["value"]) == {"incident_id": "inc-9", "proposal": 1} for b in buttons)


def test_an_inconclusive_diagnosis_is_never_shown_as_no_fault_found():
    d = Diagnosis(
        category=Category.NO_FAULT, confidence=0.0, summary="The model failed", inconclusive=True
    )
    text = blocks.diagnosis_blocks(d)[0]["text"]["text"]
    assert "Inconclusive" in text and "no fault found" not in text
