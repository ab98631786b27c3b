"""The terminal rendering of an incident thread: progress as it arrives, then the result."""

from __future__ import annotations

import io
import threading

from rich.console import Console

from agents.models import (
    Category,
    Diagnosis,
    Evidence,
    Finding,
    Incident,
    InvestigationResult,
    ProgressEvent,
    Proposal,
    Severity,
    TriggerSource,
    Verb,
)
from bot.terminal import ThreadRenderer, progress_printer, render_result

FINDING = Finding(
    specialist="logs",
    title="checkout-api exits: DATABASE_URL is not set",
    severity=Severity.CRITICAL,
    resource="Deployment/shop/checkout-api",
    evidence=[Evidence(kind="log", source="Pod/shop/checkout-api-x", text="FATAL DATABASE_URL")],
)


def _plain() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=False, width=120), out


def _ev(kind: str, **kw) -> ProgressEvent:
    return ProgressEvent(kind=kind, incident_id="inc-r", **kw)


def test_progress_counts_specialists_and_shows_each_ones_findings_as_they_arrive():
    console, out = _plain()
    show = progress_printer(console)
    show(_ev("started", message="checkout is throwing 500s"))
    show(_ev("round", total=4, message="round 1"))
    show(_ev("specialist_done", specialist="metrics", done=1, total=4))
    show(_ev("specialist_done", specialist="logs", findings=[FINDING], done=2, total=4))
    text = out.getvalue()
    assert "checkout is throwing 500s" in text
    assert "metrics (1 of 4 specialists done): 0 finding(s)" in text
    assert "logs (2 of 4 specialists done): 1 finding(s)" in text
    assert "checkout-api exits: DATABASE_URL is not set" in text
    assert "Deployment/shop/checkout-api" in text
    assert "FATAL DATABASE_URL" in text
    assert "\x1b[" not in text


def test_events_from_many_threads_are_rendered_whole():
    console, out = _plain()
    show = ThreadRenderer(console)
    threads = [
        threading.Thread(
            target=show,
            args=(_ev("specialist_done", specialist=f"s{i}", findings=[FINDING], done=i, total=8),),
        )
        for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=5)
    lines = out.getvalue().splitlines()
    for i, line in enumerate(lines):
        if "specialists done" in line:
            assert lines[i + 1].strip().startswith("- checkout-api exits")


def test_the_result_shows_diagnosis_and_each_proposal_with_its_kubectl_equivalent():
    console, out = _plain()
    result = InvestigationResult(
        incident=Incident(id="inc-r", title="checkout 500s", source=TriggerSource.CLI),
        findings=[FINDING],
        diagnosis=Diagnosis(
            root_cause="Deployment/shop/checkout-api",
            category=Category.MISCONFIGURATION,
            confidence=0.9,
            summary="Revision 7 dropped DATABASE_URL.",
        ),
        proposals=[
            Proposal(
                verb=Verb.ROLLOUT_UNDO,
                target="Deployment/shop/checkout-api",
                rationale="revision 6 worked",
            )
        ],
    )
    render_result(console, result)
    text = out.getvalue()
    assert "Revision 7 dropped DATABASE_URL." in text
    assert "Deployment/shop/checkout-api" in text and "Misconfiguration" in text
    assert "kubectl rollout undo deployment/checkout-api -n shop" in text


def test_an_error_event_is_shown_with_its_specialist():
    console, out = _plain()
    progress_printer(console)(
        _ev("error", specialist="metrics", message="Prometheus did not answer")
    )
    assert "error metrics: Prometheus did not answer" in out.getvalue()
