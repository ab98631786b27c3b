"""The investigation graph: fan-out in parallel, rounds bounded, findings streamed as they land.

These tests give the graph a tiny deterministic Team so each behaviour is isolated; the real
specialists against a real sandbox are in test_graph_sandbox.py.
"""

from __future__ import annotations

import threading
import time

from langgraph.checkpoint.memory import InMemorySaver

from agents.graph import Progress, Team, build_graph
from agents.intake import intake
from agents.models import Category, Diagnosis, Finding, ProgressEvent, Trigger, TriggerSource
from agents.state import Assignment, SpecialistReport, SupervisorDecision

NAMES = ("kubernetes", "metrics", "logs", "runbooks")
TRIGGER = Trigger(source=TriggerSource.CLI, text="checkout is down")


def _finding(name: str, title: str = "saw something") -> Finding:
    return Finding(specialist=name, title=title, resource="Deployment/shop/checkout-api")


def _specialist(
    name: str, delay: float = 0.0, gate: threading.Event | None = None, opened: list | None = None
):
    def run(incident, assignment: Assignment) -> SpecialistReport:
        if gate is not None:
            opened.append(gate.wait(timeout=5))
        if delay:
            time.sleep(delay)  # injected latency, as a slow API would add
        title = f"{name}: {assignment.question or 'first look'}"
        return SpecialistReport(findings=[_finding(name, title)], summary=title)

    return run


def _supervisor(questions: list[str | None]):
    """Round 1 asks everyone; each later round asks the next question, until none is left."""

    def decide(state) -> SupervisorDecision:
        rnd = state.get("round", 0)
        if rnd >= len(questions):
            return SupervisorDecision()
        q = questions[rnd]
        if rnd > 0 and not q:
            return SupervisorDecision()
        return SupervisorDecision(
            assignments=[Assignment(specialist=n, question=q) for n in NAMES], question=q
        )

    return decide


def _diagnose(state):
    n = len(state.get("findings", []))
    return Diagnosis(category=Category.NO_FAULT, confidence=0.5, summary=f"{n} findings"), []


def _run(specialists, supervisor=None, max_rounds=2, events=None, checkpointer=None):
    progress = Progress("inc-t", events.append if events is not None else None)
    team = Team(
        intake=lambda t, iid, hint: intake(t, iid, hint=hint),
        supervisor=supervisor or _supervisor([None]),
        specialists=specialists,
        diagnose=_diagnose,
        progress=progress,
    )
    graph = build_graph(team, checkpointer or InMemorySaver())
    return graph.invoke(
        {"trigger": TRIGGER, "incident_id": "inc-t", "max_rounds": max_rounds, "findings": []},
        config={"configurable": {"thread_id": "inc-t"}},
    )


def test_specialists_run_in_parallel_so_a_round_takes_about_the_slowest_one():
    specialists = {n: _specialist(n, delay=0.3) for n in NAMES}
    stamps: list[tuple[float, ProgressEvent]] = []

    class Stamped(list):
        def append(self, e: ProgressEvent) -> None:
            stamps.append((time.monotonic(), e))

    state = _run(specialists, events=Stamped())
    started = [t for t, e in stamps if e.kind == "specialist_started"]
    done = [t for t, e in stamps if e.kind == "specialist_done"]
    fan_out = max(done) - min(started)
    assert len(state["findings"]) == 4
    # Four 0.3 s specialists one after another would take 1.2 s.
    assert fan_out <= 0.3 * 1.3, f"fan-out took {fan_out:.2f}s for 4 x 0.3s specialists"


def test_each_specialists_findings_are_reported_as_soon_as_it_finishes():
    fast_reported = threading.Event()
    events: list[ProgressEvent] = []

    def sink(e: ProgressEvent) -> None:
        events.append(e)
        if e.kind == "specialist_done" and e.specialist == "metrics":
            fast_reported.set()

    specialists = {n: _specialist(n) for n in NAMES}
    # The logs specialist cannot finish until the metrics specialist's findings were reported.
    opened: list[bool] = []
    specialists["logs"] = _specialist("logs", gate=fast_reported, opened=opened)
    progress = Progress("inc-t", sink)
    team = Team(
        intake=lambda t, iid, hint: intake(t, iid, hint=hint),
        supervisor=_supervisor([None]),
        specialists=specialists,
        diagnose=_diagnose,
        progress=progress,
    )
    build_graph(team).invoke(
        {"trigger": TRIGGER, "incident_id": "inc-t", "max_rounds": 2, "findings": []}
    )
    assert opened == [True], "metrics' findings were held back until the round ended"
    done = [e for e in events if e.kind == "specialist_done"]
    assert [e.done for e in done] == [1, 2, 3, 4]
    assert all(e.total == 4 for e in done)
    metrics_done = next(e for e in done if e.specialist == "metrics")
    assert metrics_done.findings[0].title == "metrics: first look"


def test_events_follow_the_flow_started_rounds_specialists_diagnosis():
    events: list[ProgressEvent] = []
    _run({n: _specialist(n) for n in NAMES}, events=events)
    kinds = [e.kind for e in events]
    assert kinds[0] == "started"
    assert kinds[1] == "round"
    assert kinds.count("specialist_started") == 4
    assert kinds.count("specialist_done") == 4
    assert kinds[-1] == "diagnosis"
    assert all(e.incident_id == "inc-t" for e in events)


def test_a_second_round_asks_the_sharper_question_and_keeps_both_rounds_findings():
    state = _run(
        {n: _specialist(n) for n in NAMES},
        supervisor=_supervisor([None, "why does checkout-api crash?"]),
    )
    assert state["round"] == 2
    titles = {f.title for f in state["findings"]}
    assert "kubernetes: first look" in titles
    assert "kubernetes: why does checkout-api crash?" in titles
    assert len(state["findings"]) == 8


def test_rounds_are_bounded_by_max_rounds_whatever_the_supervisor_wants():
    state = _run(
        {n: _specialist(n) for n in NAMES},
        supervisor=_supervisor([None, "q2", "q3", "q4"]),
        max_rounds=2,
    )
    assert state["round"] == 2
    assert not any("q3" in f.title for f in state["findings"])


def test_a_finding_already_reported_is_not_reported_again_in_a_later_round():
    def same_every_time(incident, assignment):
        return SpecialistReport(findings=[_finding("kubernetes", "crashloop")])

    state = _run(
        {"kubernetes": same_every_time},
        supervisor=lambda s: SupervisorDecision(
            assignments=[Assignment(specialist="kubernetes", question="again")]
        ),
        max_rounds=2,
    )
    assert state["round"] == 2
    assert [f.title for f in state["findings"]] == ["crashloop"]


def test_a_failing_specialist_reports_an_error_and_the_others_still_count():
    def broken(incident, assignment):
        raise RuntimeError("prometheus said 502")

    events: list[ProgressEvent] = []
    specialists = {n: _specialist(n) for n in NAMES} | {"metrics": broken}
    state = _run(specialists, events=events)
    assert len(state["findings"]) == 3
    errors = [e for e in events if e.kind == "error"]
    assert errors and "prometheus said 502" in errors[0].message
    assert state["diagnosis"].summary == "3 findings"


def test_a_broken_progress_sink_does_not_stop_the_investigation():
    def sink(e):
        raise ValueError("slack is down")

    progress = Progress("inc-t", sink)
    team = Team(
        intake=lambda t, iid, hint: intake(t, iid, hint=hint),
        supervisor=_supervisor([None]),
        specialists={n: _specialist(n) for n in NAMES},
        diagnose=_diagnose,
        progress=progress,
    )
    state = build_graph(team).invoke(
        {"trigger": TRIGGER, "incident_id": "inc-t", "max_rounds": 1, "findings": []}
    )
    assert state["diagnosis"].summary == "4 findings"


def test_the_checkpointer_keeps_the_incident_under_its_thread_id():
    saver = InMemorySaver()
    _run({n: _specialist(n) for n in NAMES}, checkpointer=saver)
    saved = saver.get_tuple({"configurable": {"thread_id": "inc-t"}})
    assert saved is not None
    values = saved.checkpoint["channel_values"]
    assert values["incident"].id == "inc-t"
    assert values["diagnosis"].summary == "4 findings"
