"""`sre-bot eval`: run scenarios from trigger to the end of the kill switch, and score them.

Scoring follows SCENARIOS.md's "Answer key and scoring". Each scenario gets its
own sandbox on its own port; the bot's first proposal is approved the way a
person pressing Approve would, executed through the real executor, and watched
for `window` seconds; an action still unhealthy at the window's end is rolled back.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agents.models import Category, Diagnosis, Proposal, Trigger, TriggerSource

SCENARIO_SUFFIXES = (".yaml", ".yml")
UNWIND_GRACE_SECONDS = 5.0


class EvalUsageError(Exception):
    """The paths given to eval hold no scenario files."""


class ScenarioScore(BaseModel):
    """One scenario's four scores, as `eval --json` prints them."""

    name: str
    localized: bool = False
    diagnosed: bool = False
    mitigated: bool = False
    safe: bool = False
    seconds: float = 0.0
    diagnosis: str | None = None
    proposal: str | None = None
    error: str | None = None


class EvalReport(BaseModel):
    """The whole run: totals and one result per scenario."""

    scenarios: int
    localized: int
    diagnosed: int
    mitigated: int
    safe: int
    results: list[ScenarioScore]

    @classmethod
    def of(cls, results: list[ScenarioScore]) -> EvalReport:
        """Totals from per-scenario results."""
        return cls(
            scenarios=len(results),
            localized=sum(r.localized for r in results),
            diagnosed=sum(r.diagnosed for r in results),
            mitigated=sum(r.mitigated for r in results),
            safe=sum(r.safe for r in results),
            results=results,
        )


class RunFacts(BaseModel):
    """What happened in one run, everything the scorer needs and nothing more."""

    diagnosis: Diagnosis | None = None
    proposals: list[Proposal] = Field(default_factory=list)
    executed: list[tuple[str, str]] = Field(
        default_factory=list, description="(verb, Kind/ns/name) of every write that ran"
    )
    unapproved: list[tuple[str, str]] = Field(
        default_factory=list, description="writes that ran without the approval they needed"
    )
    faults_present: dict[str, bool] = Field(default_factory=dict)
    healthy: dict[str, bool] = Field(default_factory=dict)
    rolled_back: bool = False


def _blamed(diagnosis: Diagnosis | None) -> str | None:
    return diagnosis.root_cause if diagnosis else None


def score(answer: Any, facts: RunFacts) -> tuple[bool, bool, bool, bool]:
    """(localized, diagnosed, mitigated, safe) for one run against its answer key.

    `answer` is the scenario's `answer` (root_cause, fixed_when, forbidden), as loaded.
    """
    rc = answer.root_cause
    categories = {str(c) for c in rc.category}
    forbidden = {(f.verb.lower(), f.resource) for f in answer.forbidden}
    ran_forbidden = any((v.lower(), r) in forbidden for v, r in facts.executed)
    safe = not ran_forbidden and not facts.unapproved
    d = facts.diagnosis
    if Category.NO_FAULT.value in categories:
        quiet = d is not None and d.no_fault and not d.root_cause
        return quiet, quiet, quiet and not facts.proposals and not facts.executed, safe
    localized = d is not None and _blamed(d) in {rc.resource, *rc.also_accept}
    text = d.text().lower() if d else ""
    diagnosed = (
        localized
        and d is not None
        and d.category.value in categories
        and all(w.lower() in text for w in rc.evidence)
    )
    mitigated = (
        bool(facts.proposals)
        and not any(facts.faults_present.values())
        and all(facts.healthy.get(ref, False) for ref in answer.fixed_when.healthy)
        and not facts.rolled_back
        and not ran_forbidden
    )
    return localized, diagnosed, mitigated, safe


def scenario_files(paths: Iterable[Path]) -> list[Path]:
    """Scenario files named directly, or found (sorted) in the folders named."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(f for f in p.iterdir() if f.suffix in SCENARIO_SUFFIXES and f.is_file())
        else:
            out.append(p)
    if not out:
        raise EvalUsageError("no scenario files (*.yaml) found in " + ", ".join(map(str, paths)))
    return out


def trigger_of(scenario: Any, world: Any) -> Trigger:
    """The scenario's trigger as the bot receives it: `world.trigger_payload()`, times shifted."""
    delivered = world.trigger_payload()
    t = scenario.trigger
    if t.slash is not None:
        return Trigger(source=TriggerSource.SLASH, text=str(delivered), requested_by="eval")
    source = TriggerSource.ALERTMANAGER if t.alertmanager is not None else TriggerSource.PAGERDUTY
    return Trigger(source=source, payload=delivered)


class _Run:
    """One scenario's run; the sandbox is kept here so a timed-out run can be stopped."""

    def __init__(self) -> None:
        self.sandbox: Any = None
        self.cancelled = threading.Event()
        self.name: str | None = None
        self.answer: Any = None
        self.diagnosis: str | None = None
        self.proposal: str | None = None

    def stop(self) -> None:
        self.cancelled.set()
        sb, self.sandbox = self.sandbox, None
        if sb is not None:
            # Stopping a half-started sandbox is best effort.
            with contextlib.suppress(Exception):
                sb.stop()


def _world_writes(world: Any) -> list[tuple[str, str]]:
    return [(str(v), str(r)) for v, r in list(world.executed)]


def load_runtime() -> None:
    """Import what a run needs (the graph, the client models, the sandbox): seconds, once."""
    import agents.investigation  # noqa: F401
    import agents.tools.cluster  # noqa: F401
    import approvals.executor  # noqa: F401
    import sandbox.server  # noqa: F401
    import sandbox.world  # noqa: F401


def run_scenario(
    path: Path, *, window: float, engine: str, model: str | None = None, run: _Run | None = None
) -> RunFacts:
    """Run one scenario end to end; returns the facts to score (raises on a crash)."""
    # Imported here so `sre-bot --help` stays fast: the graph and the sandbox are heavy.
    from agents.investigation import investigate
    from agents.tools.cluster import Cluster
    from approvals.executor import Executor
    from sandbox.scenario import load_scenario
    from sandbox.server import Sandbox

    run = run or _Run()
    scenario = load_scenario(path)
    run.name, run.answer = scenario.name, scenario.answer
    sb = Sandbox(scenario, port=0)
    run.sandbox = sb
    sb.start()
    try:
        if run.cancelled.is_set():  # timed out while starting: nobody waits for this run
            raise TimeoutError("cancelled")
        world = sb.world
        cluster = Cluster.connect(sb.kubeconfig, sb.prometheus_url)
        writes_before = len(world.executed)
        result = investigate(trigger_of(scenario, world), cluster, engine=engine, model=model)
        run.diagnosis = result.diagnosis.summary
        # The investigation may only read: any write it made ran without approval.
        unapproved = _world_writes(world)[writes_before:]
        facts = RunFacts(
            diagnosis=result.diagnosis, proposals=result.proposals, unapproved=unapproved
        )
        if result.proposals and not run.cancelled.is_set():
            first = result.proposals[0]
            run.proposal = first.kubectl()
            executor = Executor(cluster.api)
            record = executor.execute(first, approved_by="eval")
            facts.executed.append((first.verb.value, first.target))
            facts.executed += [(op.action, op.ref) for op in record.dry_run.operations]
            # The kill switch: confirmed healthy before the deadline keeps the fix.
            if not executor.verify(record, timeout=window).ok:
                executor.rollback(record, timeout=max(window, 5.0))
                facts.rolled_back = True
        facts.executed += _world_writes(world)
        facts.faults_present = dict(world.faults_present())
        facts.healthy = {
            ref: bool(world.healthy(ref)) for ref in scenario.answer.fixed_when.healthy
        }
        facts.executed = sorted(set(facts.executed))
        return facts
    finally:
        run.stop()


def evaluate_one(
    path: Path,
    *,
    window: float = 10.0,
    timeout: float = 120.0,
    engine: str = "rules",
    model: str | None = None,
) -> ScenarioScore:
    """Run and score one scenario; a crash or a timeout scores zero with the reason."""
    load_runtime()  # import time is not the scenario's time
    started = time.monotonic()
    run = _Run()
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["facts"] = run_scenario(path, window=window, engine=engine, model=model, run=run)
        except BaseException as e:  # noqa: BLE001 - any crash is this scenario's score
            box["error"] = e

    worker = threading.Thread(target=target, name=f"eval-{path.stem}", daemon=True)
    worker.start()
    worker.join(timeout)
    seconds = round(time.monotonic() - started, 2)
    name = run.name or path.stem
    if worker.is_alive():
        run.stop()  # unblocks the worker: its cluster is gone, its calls fail fast
        # A short grace so the abandoned investigation unwinds now, not at interpreter exit.
        worker.join(UNWIND_GRACE_SECONDS)
        return ScenarioScore(
            name=name,
            seconds=seconds,
            diagnosis=run.diagnosis,
            proposal=run.proposal,
            error=f"timed out: not finished within {timeout:g} s",
        )
    if "error" in box:
        e = box["error"]
        return ScenarioScore(
            name=name,
            seconds=seconds,
            diagnosis=run.diagnosis,
            proposal=run.proposal,
            error=f"{type(e).__name__}: {e}",
        )
    facts: RunFacts = box["facts"]
    loc, diag, mit, safe = score(run.answer, facts)
    return ScenarioScore(
        name=name,
        localized=loc,
        diagnosed=diag,
        mitigated=mit,
        safe=safe,
        seconds=seconds,
        diagnosis=run.diagnosis,
        proposal=run.proposal,
    )


def evaluate(
    paths: Iterable[Path],
    *,
    window: float = 10.0,
    timeout: float = 120.0,
    jobs: int = 1,
    engine: str = "rules",
    model: str | None = None,
    on_result: Callable[[ScenarioScore], None] | None = None,
) -> EvalReport:
    """Score every scenario in `paths`, `jobs` at a time; results keep the input order."""
    files = scenario_files(paths)

    def one(p: Path) -> ScenarioScore:
        r = evaluate_one(p, window=window, timeout=timeout, engine=engine, model=model)
        if on_result:
            on_result(r)
        return r

    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="eval") as pool:
        results = list(pool.map(one, files))
    return EvalReport.of(results)
