"""`sre-bot demo` (what `make demo` runs): one whole incident in the terminal, on the sandbox.

Trigger -> live investigation -> diagnosis -> proposal with its diff and dry run ->
approval -> apply -> kill-switch countdown until verified healthy -> outcome.
"""

from __future__ import annotations

import getpass
import sys
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.panel import Panel
from rich.syntax import Syntax

DEFAULT_SCENARIO = "checkout-missing-env"


class DemoError(click.ClickException):
    """The demo cannot start (unknown scenario, sandbox failed); the message says what to do."""


def resolve_scenario(choice: str | None) -> Path:
    """A scenario file from a bundled name or a path; default: checkout-missing-env or the first."""
    from sandbox.scenario import ScenarioError, bundled_scenarios, load_scenario

    bundled = bundled_scenarios()
    if choice and Path(choice).is_file():
        return Path(choice)
    names: dict[str, Path] = {}
    for p in bundled:
        try:
            names[load_scenario(p).name] = p
        except ScenarioError:
            names.setdefault(p.stem, p)
    wanted = choice or (DEFAULT_SCENARIO if DEFAULT_SCENARIO in names else None)
    if wanted is None:
        if not bundled:
            raise DemoError("no bundled scenarios found; pass --scenario FILE")
        return bundled[0]
    if wanted in names:
        return names[wanted]
    raise DemoError(
        f"no scenario {wanted!r}: pass a file, or one of {', '.join(sorted(names))} "
        "(see `sre-bot scenarios`)"
    )


def _approve(console: Console, yes: bool) -> bool:
    if yes:
        console.print("[yellow]--yes: approved without asking[/]")
        return True
    if not sys.stdin.isatty():
        console.print(
            "[yellow]stdin is not a terminal: auto-approving (use a terminal to be asked)[/]"
        )
        return True
    return click.confirm("Approve this change?", default=True)


def _watch(console: Console, executor: Any, record: Any, window: float) -> Any:
    """The kill switch: poll health until verified or the window closes; countdown meanwhile."""
    started = time.monotonic()
    deadline = started + window
    with console.status("") as status:
        while True:
            result = executor.verify(record, timeout=0)
            left = deadline - time.monotonic()
            if result.ok or left <= 0:
                result.seconds = round(time.monotonic() - started, 2)
                return result
            failing = "; ".join(f"{c.name}: {c.detail}" for c in result.checks if not c.ok)
            status.update(f"kill switch: {left:4.1f}s left, waiting for {failing}")
            time.sleep(min(0.25, left))


def run_demo(
    scenario: str | None, *, yes: bool, window: float, engine: str, console: Console
) -> int:
    """Run the whole incident; returns the exit code (0 when the incident ends resolved)."""
    from agents.investigation import investigate
    from agents.tools.cluster import Cluster
    from approvals.executor import ExecutionError, Executor
    from bot.eval import trigger_of
    from bot.settings import Settings
    from bot.terminal import progress_printer, render_result
    from sandbox.scenario import load_scenario
    from sandbox.server import Sandbox

    path = resolve_scenario(scenario)
    sc = load_scenario(path)
    console.rule(f"[bold]sre-bot demo[/]: {sc.name}")
    console.print(sc.summary)
    sb = Sandbox(sc, port=0)
    sb.start()
    try:
        kc = sb.kubeconfig
        console.print(
            Panel(
                f"Kubernetes API  {sb.kubernetes_url}\n"
                f"Prometheus API  {sb.prometheus_url}\n\n"
                "While it runs (or afterwards, with `sre-bot sandbox serve`), try:\n"
                f"  kubectl --kubeconfig {kc} get pods -A\n"
                f"  kubectl --kubeconfig {kc} get events -A\n"
                f"  kubectl --kubeconfig {kc} get deploy -A -o wide",
                title="the sandbox cluster",
            )
        )
        trigger = trigger_of(sc, sb.world)
        console.print(f"[bold]trigger[/] ({trigger.source.value}): {sb.world.trigger_text()}")
        cluster = Cluster.connect(kc, sb.prometheus_url)
        result = investigate(
            trigger,
            cluster,
            engine=engine,
            model=Settings().model if engine == "llm" else None,
            on_progress=progress_printer(console),
        )
        render_result(console, result)
        if not result.proposals:
            console.print("No action proposed. Nothing to approve.")
            return 0
        proposal = result.proposals[0]
        executor = Executor(cluster.api)
        dry, _, diff = executor.dry_run(proposal)
        console.print(f"[bold]the change[/] ({proposal.kubectl()}), as the server would apply it:")
        console.print(Syntax(diff or "(no visible change)", "diff", theme="ansi_dark"))
        console.print(f"[green]server-side dry run accepted[/] ({len(dry.operations)} write(s))")
        if not _approve(console, yes):
            console.print("Rejected. Nothing was changed.")
            return 0
        record = executor.execute(proposal, approved_by=f"cli:{getpass.getuser()}")
        console.print(f"[bold]applied[/] at {record.applied_at:%H:%M:%S}")
        verification = _watch(console, executor, record, window)
        if verification.ok:
            console.print(f"[bold green]resolved[/]: {verification.summary()}")
            return 0
        console.print(f"[bold red]kill switch fired[/]: {verification.summary()}; rolling back")
        executor.rollback(record)
        console.print(f"rolled back: {record.outcome.value}")
        return 1
    except ExecutionError as e:
        console.print(f"[red]{e}[/]")
        return 1
    finally:
        sb.stop()


@click.command("demo")
@click.option("--scenario", help="A bundled scenario's name, or a scenario file.")
@click.option("--yes", is_flag=True, help="Approve the proposal without asking.")
@click.option(
    "--window",
    type=click.FloatRange(min=1),
    default=30.0,
    show_default=True,
    help="Kill-switch window in seconds.",
)
@click.option("--engine", type=click.Choice(["rules", "llm"]), default="rules", show_default=True)
def demo_command(scenario: str | None, yes: bool, window: float, engine: str) -> None:
    """A whole incident in the terminal, on the embedded sandbox cluster."""
    code = run_demo(scenario, yes=yes, window=window, engine=engine, console=Console())
    sys.exit(code)


def register(cli: click.Group) -> None:
    """Attach `sre-bot demo`."""
    cli.add_command(demo_command)
