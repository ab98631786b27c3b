"""`sre-bot scenarios`: the bundled scenarios, one line each."""

from __future__ import annotations

import json
import sys

import click
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from sandbox.scenario import ScenarioError, bundled_scenarios, load_scenario


class ScenarioListing(BaseModel):
    """One bundled scenario as `sre-bot scenarios` lists it."""

    name: str
    trigger: str
    summary: str
    path: str
    error: str | None = None


def list_bundled() -> list[ScenarioListing]:
    """Every bundled scenario; one that does not load is listed with its error."""
    out = []
    for path in bundled_scenarios():
        try:
            s = load_scenario(path)
        except ScenarioError as e:
            out.append(
                ScenarioListing(
                    name=path.stem, trigger="?", summary="", path=str(path), error=str(e)
                )
            )
            continue
        out.append(
            ScenarioListing(
                name=s.name, trigger=s.trigger.source, summary=s.summary, path=str(path)
            )
        )
    return out


@click.command("scenarios")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def scenarios_command(as_json: bool) -> None:
    """List the bundled scenarios (name, trigger kind, summary)."""
    items = list_bundled()
    if as_json:
        click.echo(json.dumps([i.model_dump() for i in items]))
        return
    if not sys.stdout.isatty():
        for i in items:
            click.echo(f"{i.name}\t{i.trigger}\t{i.error or i.summary}")
        return
    table = Table(title="bundled scenarios")
    for col in ("name", "trigger", "summary"):
        table.add_column(col)
    for i in items:
        table.add_row(i.name, i.trigger, f"[red]{i.error}[/]" if i.error else i.summary)
    Console().print(table)
    Console().print("[dim]Try one: sre-bot demo --scenario NAME   Score them: sre-bot eval PATH[/]")


def register(cli: click.Group) -> None:
    """Attach `sre-bot scenarios`."""
    cli.add_command(scenarios_command)
