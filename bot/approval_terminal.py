"""The approval loop in the terminal: `sre-bot investigate --approve | --reject`, or a prompt.

The same gate, executor and kill switch as in Slack (`ApprovalFlow`), on the same SQLite file,
so the audit log holds terminal decisions too. The person at the terminal already holds the
cluster credentials, so they decide as `cli:<login>`.
"""

from __future__ import annotations

import getpass
import select
import socket
import sys
import time
import uuid
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.syntax import Syntax

from agents.models import InvestigationResult, Trigger, TriggerSource
from approvals.gate import ApprovalRequest, Route
from approvals.incident_graph import (
    ExecutionOutcome,
    GateDecision,
    IncidentGraph,
    IncidentRuntime,
)
from approvals.killswitch import ArmedFix, WatchState
from bot.approval_flow import ApprovalFlow
from bot.settings import Settings

# Where terminal decisions come from, for the audit log.
_CLI_VIA = f"cli:{socket.gethostname()}"


def decide_in_terminal(
    result: InvestigationResult,
    cluster: Any,
    *,
    approve: bool | None,
    settings: Settings,
    console: Console,
    flow: ApprovalFlow | None = None,
    approve_unattended: bool = False,
) -> ArmedFix | None:
    """Show the first proposal, take the decision, apply it and watch it under the kill switch.

    `flow`: use this one (the caller closes it, e.g. to read its audit log afterwards).
    `approve_unattended`: with no decision given and no terminal to ask at, approve with a
    notice (the demo) instead of refusing to guess (`investigate`). Returns the fix's end state.
    """
    if not result.proposals:
        console.print("No fix proposed; nothing to approve.")
        return None
    user = f"cli:{getpass.getuser()}"
    owns_flow = flow is None
    flow = flow or ApprovalFlow(settings, api_factory=lambda: cluster.api)
    flow.policy.approvers.users.append(user)
    try:
        incident_id = f"cli-{uuid.uuid4().hex[:10]}"
        prepared = flow.prepare(incident_id, 0, result.proposals[0], requested_by=None)
        req = prepared.request
        console.print(f"[bold]proposal[/] {req.proposal.kubectl()}  (risk: {req.risk.value})")
        if req.route in (Route.REFUSED, Route.ADVICE):
            why = prepared.why_refused or "advise mode: run it yourself if you agree"
            console.print(f"[yellow]not executed[/]: {why}")
            return None
        if prepared.diff:
            console.print(Syntax(prepared.diff, "diff", theme="ansi_dark"))
        if prepared.dry_run_error:
            console.print(f"[red]server-side dry run failed[/]: {prepared.dry_run_error}")
            return None
        console.print("[green]server-side dry run accepted[/]")
        # The same incident graph as in Slack: it stops at the gate (or runs an auto fix).
        graph = _incident_graph(flow, result)
        graph.start(incident_id, _trigger_of(result), requested_by=None)
        if req.route == Route.NEEDS_APPROVAL:
            if approve is None and not sys.stdin.isatty():
                if not approve_unattended:
                    console.print(
                        "Not approved: pass --approve or --reject (stdin is not a terminal)."
                    )
                    return None
                console.print(
                    f"[yellow]stdin is not a terminal: auto-approving as {user}[/] "
                    "(run it in a terminal to be asked)"
                )
                approve = True
            if approve is None:
                approve = click.confirm("Approve this change?", default=False)
            decision = flow.decide(req.id, user, approve=approve, via=_CLI_VIA)
            console.print(decision.message.replace(f"<@{user}>", user))
            if not (decision.fresh and approve):
                if decision.fresh:
                    graph.deliver(
                        incident_id, GateDecision(request_id=req.id, user=user, approve=False)
                    )
                return None
            graph.deliver(incident_id, GateDecision(request_id=req.id, user=user, approve=True))
        outcome = next(
            (e for e in graph.state(incident_id).get("executions", []) if e.request_id == req.id),
            None,
        )
        if outcome is None or outcome.fix_id is None:
            console.print(f"[red]not applied[/]: {outcome.error if outcome else 'not executed'}")
            return None
        return _watch(flow, outcome.fix_id, console, user)
    finally:
        if owns_flow:
            flow.close()


def _incident_graph(flow: ApprovalFlow, result: InvestigationResult) -> IncidentGraph:
    """The incident graph over an investigation already done (and shown) in this terminal."""

    def execute(request: ApprovalRequest, approved_by: str) -> ExecutionOutcome:
        execution = flow.execute(request, approved_by)
        fix_id = execution.fix.id if execution.fix else None
        return ExecutionOutcome(
            request_id=request.id, fix_id=fix_id, error=execution.error, skipped=execution.skipped
        )

    def is_executed(request_id: str) -> bool:
        try:
            flow.kill_switch.get(request_id)
            return True
        except KeyError:
            return False

    runtime = IncidentRuntime(
        gate=flow.gate,
        investigate=lambda trigger, incident_id, hint: result,
        execute=execute,
        is_executed=is_executed,
    )
    return IncidentGraph(runtime, flow.stores.checkpointer)


def _trigger_of(result: InvestigationResult) -> Trigger:
    return Trigger(source=TriggerSource.CLI, text=result.incident.title, requested_by="cli")


def _watch(flow: ApprovalFlow, fix_id: str, console: Console, user: str) -> ArmedFix:
    """The kill switch with a live countdown; `k` keeps the fix, `r` rolls it back now."""
    ks = flow.kill_switch
    executor = flow.executor()
    waiting = ""  # what the fix still waits for: shown live, and said again if it is undone
    with _keys() as read_key, console.status("") as status:
        while True:
            ks.sweep()
            fix = ks.get(fix_id)
            if fix.state != WatchState.WATCHING:
                break
            checks = executor.verify(fix.record, timeout=0).checks
            waiting = "; ".join(f"{c.name} ({c.detail})" for c in checks if not c.ok)
            status.update(
                f"kill switch: {fix.seconds_left():4.0f}s left; [bold]k[/] keep, "
                f"[bold]r[/] roll back; waiting for: {waiting or 'the next check'}"
            )
            key = read_key(0.25)
            if key == "k":
                ks.keep(fix_id, user, via=_CLI_VIA)
            elif key == "r":
                ks.roll_back_now(fix_id, user, via=_CLI_VIA)
    colour = "green" if fix.state == WatchState.KEPT else "red"
    console.print(f"[bold {colour}]{fix.state.value.replace('_', ' ')}[/]: {fix.reason}")
    if fix.state != WatchState.KEPT and waiting:
        console.print(f"  still failing when it was undone: {waiting}")
    return fix


@contextmanager
def _keys():
    """A non-blocking single-key reader when stdin is a terminal; otherwise it just waits."""
    if not sys.stdin.isatty():
        yield lambda timeout: time.sleep(timeout)
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)

    def read(timeout: float) -> str | None:
        ready, _, _ = select.select([sys.stdin], [], [], timeout)
        return sys.stdin.read(1).lower() if ready else None

    try:
        yield read
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
