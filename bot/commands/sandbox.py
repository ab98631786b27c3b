"""`sre-bot sandbox serve`: serve a scenario as a live cluster until Ctrl-C or SIGTERM."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

import click


def register(cli: click.Group) -> None:
    """Attach the `sandbox` command group."""
    cli.add_command(sandbox)


@click.group()
def sandbox() -> None:
    """The embedded demo cluster (Kubernetes API + Prometheus API on loopback)."""


@sandbox.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=0, show_default=True, help="Port; 0 picks a free one.")
@click.option("--speed", default=1.0, show_default=True, help="How fast sandbox time runs.")
@click.option(
    "--kubeconfig-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the kubeconfig (default: a temporary file).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line when ready.")
def serve(
    scenario: Path, host: str, port: int, speed: float, kubeconfig_out: Path | None, as_json: bool
) -> None:
    """Serve SCENARIO; prints the Kubernetes URL, the Prometheus URL and the kubeconfig path."""
    from sandbox.scenario import ScenarioError, load_scenario
    from sandbox.server import Sandbox, SandboxError

    try:
        loaded = load_scenario(scenario)
    except ScenarioError as e:
        click.echo(str(e), err=True)
        sys.exit(2)
    stop = threading.Event()
    # SIGTERM ends the serve loop the same way Ctrl-C does, and both exit 0.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        sb = Sandbox(
            loaded, host=host, port=port, speed=speed, kubeconfig_out=kubeconfig_out
        ).start()
    except SandboxError as e:
        click.echo(f"sre-bot sandbox: {e}", err=True)
        sys.exit(1)
    try:
        if as_json:
            line = {
                "kubernetes": sb.kubernetes_url,
                "prometheus": sb.prometheus_url,
                "kubeconfig": str(sb.kubeconfig),
            }
            click.echo(json.dumps(line))
        else:
            click.echo(f"Kubernetes API: {sb.kubernetes_url}")
            click.echo(f"Prometheus API: {sb.prometheus_url}")
            click.echo(f"kubeconfig:     {sb.kubeconfig}")
            click.echo(f"Try: kubectl --kubeconfig {sb.kubeconfig} get pods -A   (Ctrl-C stops)")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sb.stop()
