"""`sre-bot investigate "TEXT"`: one incident from the terminal, shown as its Slack thread.

Against the current kubeconfig (KUBECONFIG, SRE_BOT_PROMETHEUS_URL), or against a scenario
file served by a sandbox that this command starts and stops itself.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from agents.models import InvestigationResult, Trigger, TriggerSource
from bot.settings import Settings


class InvestigateUsageError(Exception):
    """The command line does not describe an investigation; the message says what to add."""


def register(cli: click.Group) -> None:
    """Attach `investigate` to the `sre-bot` group."""
    cli.add_command(investigate_command)


@click.command("investigate")
@click.argument("text", required=False, default="")
@click.option(
    "--scenario",
    type=click.Path(path_type=Path),
    help="Serve this scenario file in a sandbox and investigate it (TEXT defaults to its trigger).",
)
@click.option(
    "--engine",
    type=click.Choice(["rules", "llm"]),
    default=None,
    help="Reasoning engine (default: SRE_BOT_ENGINE, else rules).",
)
@click.option("--json", "as_json", is_flag=True, help="Print only the InvestigationResult JSON.")
@click.option(
    "--kubeconfig", type=click.Path(path_type=Path), help="Kubeconfig (default: KUBECONFIG)."
)
@click.option("--prometheus", help="Prometheus base URL (default: SRE_BOT_PROMETHEUS_URL).")
@click.option(
    "--approve/--reject",
    "decision",
    default=None,
    help="Decide the first proposal without a prompt; it then runs under the kill switch.",
)
def investigate_command(
    text: str,
    scenario: Path | None,
    engine: str | None,
    as_json: bool,
    kubeconfig: Path | None,
    prometheus: str | None,
    decision: bool | None,
) -> None:
    """Investigate one incident described by TEXT and show the thread, diagnosis and proposals."""
    console = Console(stderr=False, highlight=False)
    # --approve/--reject (or a terminal to prompt at): the proposal goes through the gate.
    deciding = not as_json and (decision is not None or sys.stdin.isatty())
    try:
        settings = Settings()
        result = run_investigation(
            text,
            scenario=scenario,
            engine=engine or settings.engine,
            kubeconfig=kubeconfig,
            prometheus=prometheus,
            settings=settings,
            console=None if as_json else console,
            decide=_decider(decision, settings, console) if deciding else None,
        )
    except Exception as exc:
        if not isinstance(exc, _user_errors()):
            raise  # our bug: keep the traceback
        click.echo(f"error: {_one_line(exc)}", err=True)
        sys.exit(2)
    if as_json:
        click.echo(result.model_dump_json(indent=2))
        return
    if deciding:
        return  # already shown, before the decision
    from bot.terminal import render_result

    render_result(console, result)


def run_investigation(
    text: str,
    *,
    scenario: Path | None,
    engine: str,
    kubeconfig: Path | None,
    prometheus: str | None,
    settings: Settings,
    console: Console | None,
    decide: Any = None,
) -> InvestigationResult:
    """Connect (or start a sandbox), investigate with live progress, and return the result."""
    from agents.investigation import investigate
    from agents.tools.cluster import Cluster

    text = (text or "").strip()
    if not text and scenario is None:
        raise InvestigateUsageError(
            'say what is wrong: sre-bot investigate "checkout returns 500s" (or pass --scenario FILE)'
        )
    with ExitStack() as stack:
        if scenario is not None:
            sandbox, loaded = _start_sandbox(scenario)
            stack.callback(sandbox.stop)
            cluster = Cluster.connect(sandbox.kubeconfig, sandbox.prometheus_url)
            trigger = _trigger(text, loaded, sandbox.world)
        else:
            cluster = Cluster.connect(
                kubeconfig or settings.kubeconfig, prometheus or settings.prometheus_url
            )
            trigger = Trigger(source=TriggerSource.CLI, text=text, requested_by="cli")
        on_progress = None
        if console is not None:
            from bot.terminal import ThreadRenderer

            on_progress = stack.enter_context(ThreadRenderer(console))
        result = investigate(
            trigger,
            cluster,
            engine=engine,
            model=settings.model,
            runbooks_dir=settings.runbooks_dir,
            on_progress=on_progress,
        )
        if decide is not None:  # while the cluster (or the sandbox) is still up
            decide(result, cluster)
        return result
    raise AssertionError("unreachable")


def _decider(decision: bool | None, settings: Settings, console: Console) -> Any:
    """Gate -> executor -> kill switch for the terminal (bot/approval_terminal.py)."""

    def decide(result: InvestigationResult, cluster: Any) -> None:
        from bot.approval_terminal import decide_in_terminal
        from bot.terminal import render_result

        render_result(console, result)
        decide_in_terminal(result, cluster, approve=decision, settings=settings, console=console)

    return decide


def _start_sandbox(path: Path) -> tuple[Any, Any]:
    from sandbox.scenario import load_scenario
    from sandbox.server import Sandbox

    if not path.is_file():
        raise InvestigateUsageError(f"no scenario file at {path}")
    loaded = load_scenario(path)
    return Sandbox(path, port=0).start(), loaded


def _trigger(text: str, scenario: Any, world: Any) -> Trigger:
    if text:
        return Trigger(source=TriggerSource.CLI, text=text, requested_by="cli")
    from bot.eval import trigger_of

    return trigger_of(scenario, world)


def _user_errors() -> tuple[type[BaseException], ...]:
    """Errors a person can fix (config, cluster, scenario), as opposed to our bugs."""
    from kubernetes.client.rest import ApiException
    from pydantic import ValidationError

    from agents.intake import IntakeError
    from agents.investigation import InvestigationError
    from agents.llm.model import LLMConfigError
    from agents.tools.cluster import ClusterConfigError, ClusterUnreachable
    from sandbox.scenario import ScenarioError
    from sandbox.server import SandboxError

    return (
        InvestigateUsageError,
        InvestigationError,
        IntakeError,
        LLMConfigError,
        ClusterConfigError,
        ClusterUnreachable,
        ScenarioError,
        SandboxError,
        ApiException,
        ValidationError,
        OSError,
    )


def _one_line(exc: BaseException) -> str:
    from kubernetes.client.rest import ApiException

    if isinstance(exc, ApiException):
        return f"the Kubernetes API refused the request ({exc.status} {exc.reason})"
    return str(exc).strip() or type(exc).__name__
