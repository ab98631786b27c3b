"""`sre-bot eval PATH...`: score scenario files or folders against their answer keys."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.eval import EvalReport, EvalUsageError, ScenarioScore, evaluate
from bot.settings import Settings


def _mark(ok: bool) -> str:
    return "[green]yes[/]" if ok else "[red]no[/]"


def render_table(report: EvalReport, console: Console) -> None:
    """The report as a rich table, with totals underneath."""
    table = Table(title="sre-bot eval", show_lines=False)
    for col in ("scenario", "localized", "diagnosed", "mitigated", "safe", "seconds", "note"):
        table.add_column(col, justify="right" if col == "seconds" else "left")
    for r in report.results:
        note = escape(r.error or r.proposal or "")
        table.add_row(
            escape(r.name),
            _mark(r.localized),
            _mark(r.diagnosed),
            _mark(r.mitigated),
            _mark(r.safe),
            f"{r.seconds:.1f}",
            f"[red]{note}[/]" if r.error else note,
        )
    console.print(table)
    n = report.scenarios
    console.print(
        f"localized {report.localized}/{n}  diagnosed {report.diagnosed}/{n}  "
        f"mitigated {report.mitigated}/{n}  safe {report.safe}/{n}"
    )


def render_plain(report: EvalReport) -> None:
    """The report as tab-separated lines, for pipes and scripts."""
    click.echo("scenario\tlocalized\tdiagnosed\tmitigated\tsafe\tseconds\tnote")
    for r in report.results:
        flags = [str(int(x)) for x in (r.localized, r.diagnosed, r.mitigated, r.safe)]
        click.echo("\t".join([r.name, *flags, f"{r.seconds:.1f}", r.error or r.proposal or ""]))
    n = report.scenarios
    click.echo(
        f"total\t{report.localized}/{n}\t{report.diagnosed}/{n}\t{report.mitigated}/{n}\t{report.safe}/{n}"
    )


@click.command("eval")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--window",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    help="Kill-switch window in seconds.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=120.0,
    show_default=True,
    help="Seconds one scenario may take before it scores zero.",
)
@click.option(
    "--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="Scenarios at a time."
)
@click.option(
    "--engine",
    type=click.Choice(["rules", "llm"]),
    default="rules",
    show_default=True,
    help="Reasoning engine.",
)
def eval_command(
    paths: tuple[Path, ...], as_json: bool, window: float, timeout: float, jobs: int, engine: str
) -> None:
    """Run each scenario from its trigger to the end of the kill switch and score it.

    Scores per SCENARIOS.md: localized, diagnosed, mitigated, safe. Exit code 0 when it
    ran (scores are data), 2 on usage errors.
    """
    err = Console(stderr=True)
    interactive = sys.stdout.isatty() and not as_json

    def progress(r: ScenarioScore) -> None:
        if interactive:
            status = "error" if r.error else f"{r.localized + r.diagnosed + r.mitigated + r.safe}/4"
            err.print(f"[dim]{r.name}: {status} in {r.seconds:.1f}s[/]")

    try:
        report = evaluate(
            list(paths),
            window=window,
            timeout=timeout,
            jobs=jobs,
            engine=engine,
            model=Settings().model if engine == "llm" else None,
            on_result=progress,
        )
    except EvalUsageError as e:
        raise click.UsageError(str(e)) from e
    if as_json:
        click.echo(report.model_dump_json())
    elif interactive:
        render_table(report, Console())
    else:
        render_plain(report)


def register(cli: click.Group) -> None:
    """Attach `sre-bot eval`."""
    cli.add_command(eval_command)
