"""The approval loop in the terminal: `sre-bot investigate --approve | --reject`, or a prompt.

The same gate, executor and kill switch as in Slack (`ApprovalFlow`), on the same SQLite file,
so the audit log holds terminal decisions too. The person at the terminal already holds the
cluster credentials, so they decide as `cli:<login>`.
"""

from __future__ import annotations

import getpass
import select
import sys
import time
import uuid
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.syntax import Syntax

from agents.models import InvestigationResult
from approvals.gate import Route
from approvals.killswitch import WatchState
from bot.approval_flow import ApprovalFlow
from bot.settings import Settings


def decide_in_terminal(
    result: InvestigationResult,
    cluster: Any,
    *,
    approve: bool | None,
    settings: Settings,
    console: Console,
) -> WatchState | None:
    """Show the first proposal, take the decision, apply it and watch it under the kill switch."""
    if not result.proposals:
        console.print("No fix proposed; nothing to approve.")
        return None
    user = f"cli:{getpass.getuser()}"
    flow = ApprovalFlow(settings, api_factory=lambda: cluster.api)
    flow.policy.approvers.users.append(user)
    try:
        prepared = flow.prepare(
            f"cli-{uuid.uuid4().hex[:10]}", 0, result.proposals[0], requested_by=None
        )
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
        if approve is None:
            if not sys.stdin.isatty():
                console.print("Not approved: pass --approve or --reject (stdin is not a terminal).")
                return None
            approve = click.confirm("Approve this change?", default=False)
        decision = flow.decide(req.id, user, approve=approve)
        console.print(decision.message.replace(f"<@{user}>", user))
        if not (decision.fresh and approve):
            return None
        execution = flow.execute(decision.request, user)
        if execution.fix is None:
            console.print(f"[red]not applied[/]: {execution.error}")
            return None
        return _watch(flow, execution.fix.id, console, user)
    finally:
        flow.close()


def _watch(flow: ApprovalFlow, fix_id: str, console: Console, user: str) -> WatchState:
    """The kill switch with a live countdown; `k` keeps the fix, `r` rolls it back now."""
    ks = flow.kill_switch
    with _keys() as read_key, console.status("") as status:
        while True:
            ks.sweep()
            fix = ks.get(fix_id)
            if fix.state != WatchState.WATCHING:
                break
            key = read_key(0.25)
            if key == "k":
                ks.keep(fix_id, user)
            elif key == "r":
                ks.roll_back_now(fix_id, user)
            status.update(
                f"kill switch: {fix.seconds_left():4.0f}s left; [bold]k[/] keep, [bold]r[/] roll back"
            )
    colour = "green" if fix.state == WatchState.KEPT else "red"
    console.print(f"[bold {colour}]{fix.state.value.replace('_', ' ')}[/]: {fix.reason}")
    return fix.state


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
