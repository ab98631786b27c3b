"""`sre-bot demo` (what `make demo` runs): one whole incident in the terminal, on the sandbox.

Trigger -> live investigation -> diagnosis -> proposal with its diff and dry run -> approval
-> apply -> kill-switch countdown -> resolved, or rolled back at the deadline. The approval
part is the very loop `sre-bot investigate` runs (`decide_in_terminal`: gate, incident graph,
executor, kill switch), on a throwaway SQLite store so the demo never touches real state.
`sre-bot demo --rollback` runs a scenario whose first proposal does not heal.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from agents.models import Verb
from approvals.audit import AuditEvent
from approvals.killswitch import ArmedFix, WatchState

# A crash loop right after a deploy: the incident every on-call engineer has met.
DEFAULT_SCENARIO = "ledger-malformed-config"
# Kept out of sandbox/scenarios/ on purpose: eval must solve every scenario there.
ROLLBACK_SCENARIO = "rollback-does-not-heal"
DEFAULT_WINDOW = 15


class DemoError(click.ClickException):
    """The demo cannot start (unknown scenario, sandbox failed); the message says what to do."""


@dataclass
class DemoOutcome:
    """How the demo's incident ended, and the target as the cluster served it at the end."""

    exit_code: int
    fix: ArmedFix | None = None
    target_after: dict[str, Any] | None = None
    audit: list[AuditEvent] | None = None


def demo_scenarios() -> list[Path]:
    """The scenarios that exist only for the demo (sandbox/demos/), not scored by eval."""
    import sandbox

    return sorted((Path(sandbox.__file__).parent / "demos").glob("*.yaml"))


def resolve_scenario(choice: str | None) -> Path:
    """A scenario file from a path or a bundled (or demo) name; default: DEFAULT_SCENARIO."""
    from sandbox.scenario import ScenarioError, bundled_scenarios, load_scenario

    if choice and Path(choice).is_file():
        return Path(choice)
    bundled = bundled_scenarios()
    names: dict[str, Path] = {}
    for p in [*bundled, *demo_scenarios()]:
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


def run_demo(
    scenario: str | None,
    *,
    yes: bool,
    window: int,
    engine: str,
    console: Console,
) -> DemoOutcome:
    """Run the whole incident. Exit code 0 when it ends in a clean state (resolved, nothing to
    do, or rolled back as the kill switch intends); 1 when the loop itself broke."""
    from agents.investigation import investigate
    from agents.tools.cluster import Cluster
    from bot.approval_flow import ApprovalFlow
    from bot.approval_terminal import decide_in_terminal
    from bot.eval import trigger_of
    from bot.settings import Settings
    from bot.terminal import progress_printer, render_result
    from sandbox.scenario import load_scenario
    from sandbox.server import Sandbox

    path = resolve_scenario(scenario)
    sc = load_scenario(path)
    console.rule(f"[bold]sre-bot demo[/]: {sc.name}")
    console.print(escape(sc.summary))
    with tempfile.TemporaryDirectory(prefix="sre-bot-demo-") as state_dir:
        # Init arguments beat the environment: the user's store and policy stay untouched.
        settings = Settings(
            store=f"sqlite:///{Path(state_dir) / 'demo.db'}",
            kill_switch_seconds=window,
            policy=None,
            approvers=[],
            engine=engine,
        )
        sb = Sandbox(sc, port=0)
        sb.start()
        try:
            _show_sandbox(console, sb)
            trigger = trigger_of(sc, sb.world)
            console.print(f"[bold]trigger[/] ({trigger.source.value}): {sb.world.trigger_text()}")
            cluster = Cluster.connect(sb.kubeconfig, sb.prometheus_url)
            result = investigate(
                trigger,
                cluster,
                engine=engine,
                model=settings.model if engine == "llm" else None,
                on_progress=progress_printer(console),
            )
            render_result(console, result)
            flow = ApprovalFlow(settings, api_factory=lambda: cluster.api)
            try:
                approve = True if yes else None
                if yes:
                    console.print("[yellow]--yes: approving without asking[/]")
                fix = decide_in_terminal(
                    result,
                    cluster,
                    approve=approve,
                    settings=settings,
                    console=console,
                    flow=flow,
                    approve_unattended=True,
                )
                after = _target_now(cluster, fix)
                audit = list(flow.audit.events())
            finally:
                flow.close()
        finally:
            sb.stop()
    code = _show_outcome(console, result.proposals[0] if result.proposals else None, fix, after)
    _show_audit(console, audit)
    return DemoOutcome(exit_code=code, fix=fix, target_after=after, audit=audit)


def _show_sandbox(console: Console, sb: Any) -> None:
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


def _target_now(cluster: Any, fix: ArmedFix | None) -> dict[str, Any] | None:
    """The fix's target as the cluster serves it now (before the sandbox stops)."""
    if fix is None:
        return None
    from approvals.resources import KubeResources, Ref

    return KubeResources(cluster.api).get_or_none(Ref.parse(fix.record.proposal.target))


def _show_outcome(
    console: Console, proposal: Any, fix: ArmedFix | None, after: dict[str, Any] | None
) -> int:
    console.rule("[bold]outcome")
    if proposal is None:
        console.print("No fault that needs a change: nothing applied.")
        return 0
    if fix is None:
        console.print("Nothing was applied (see above).")
        return 0
    target = fix.record.proposal.target
    if fix.state == WatchState.KEPT:
        console.print(f"[bold green]resolved[/]: {target} healthy, the fix is kept ({fix.reason})")
        return 0
    if fix.state == WatchState.ROLLED_BACK:
        before = fix.record.snapshot.get(target) or {}
        same = (after or {}).get("spec", {}).get("template") == before.get("spec", {}).get(
            "template"
        )
        console.print(f"[bold red]rolled back[/]: {fix.reason}")
        if same:
            console.print(f"the cluster is back at its before-state: {target} as it was")
        if fix.record.proposal.verb == Verb.ROLLOUT_UNDO:
            # The previous revision failed the same way, so the rollout was not the cause.
            console.print(
                "why it did not heal: the previous revision fails the same way, so the cause is "
                "something both revisions share (a ConfigMap, a Secret, a dependency), not the "
                "rollout. Look at what changed around them."
            )
        return 0
    console.print(f"[bold red]{fix.state.value}[/]: {fix.reason}; a person must act now")
    return 1


def _show_audit(console: Console, events: list[AuditEvent]) -> None:
    if not events:
        return
    console.rule("[bold]audit trail[/] (what `sre-bot audit export` prints as JSON lines)")
    for e in events:
        d = e.detail
        detail = d.get("reason") or d.get("verification") or d.get("detail") or d.get("target")
        console.print(
            f"[dim]{e.at:%H:%M:%S}[/]  {e.action:<19} {e.actor:<10} {escape(str(detail or ''))}",
            no_wrap=True,
            overflow="ellipsis",
            highlight=False,
        )


@click.command("demo")
@click.option("--scenario", help="A bundled scenario's name, or a scenario file.")
@click.option(
    "--rollback",
    is_flag=True,
    help=f"The second demo ({ROLLBACK_SCENARIO}): a fix that does not heal is rolled back.",
)
@click.option("--yes", is_flag=True, help="Approve the proposal without asking.")
@click.option(
    "--window",
    type=click.IntRange(min=1),
    default=DEFAULT_WINDOW,
    show_default=True,
    help="Kill-switch window in seconds.",
)
@click.option("--engine", type=click.Choice(["rules", "llm"]), default="rules", show_default=True)
def demo_command(scenario: str | None, rollback: bool, yes: bool, window: int, engine: str) -> None:
    """A whole incident in the terminal, on the embedded sandbox cluster."""
    if rollback and scenario:
        raise DemoError("pass either --rollback or --scenario, not both")
    chosen = ROLLBACK_SCENARIO if rollback else scenario
    outcome = run_demo(chosen, yes=yes, window=window, engine=engine, console=Console())
    sys.exit(outcome.exit_code)


def register(cli: click.Group) -> None:
    """Attach `sre-bot demo`."""
    cli.add_command(demo_command)
