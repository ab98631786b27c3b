"""An incident in the terminal, shown the way its Slack thread shows it.

The root message first, then each specialist's findings as they arrive ("2 of 4 specialists
done"), then the diagnosis and the proposals with their kubectl equivalents. Colour and a
live status line on a terminal; plain lines when piped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from agents.models import (
    Diagnosis,
    Finding,
    Incident,
    InvestigationResult,
    ProgressEvent,
    Proposal,
    Severity,
)

_SEVERITY_STYLE = {Severity.CRITICAL: "bold red", Severity.WARNING: "yellow", Severity.INFO: "dim"}
MAX_FINDINGS_SHOWN = 5


class ThreadRenderer:
    """Renders ProgressEvents as they arrive (from any thread); a context manager on a tty.

    Used as a context manager it keeps a live status line ("2 of 4 specialists done") at the
    bottom; without one it prints lines only (what `sre-bot demo` uses).
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self._lock = threading.Lock()
        self._status = None
        self._total = 0

    def __enter__(self) -> ThreadRenderer:
        if self.console.is_terminal:
            self._status = self.console.status("investigating...")
            self._status.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def __call__(self, event: ProgressEvent) -> None:
        """Show one event; rich's console is thread-safe, the lock keeps blocks together."""
        with self._lock:
            self._render(event)

    def _render(self, ev: ProgressEvent) -> None:
        c = self.console
        match ev.kind:
            case "started":
                c.print(f"[bold]:rotating_light: {escape(ev.message)}[/]  [dim]{ev.incident_id}[/]")
            case "round":
                self._total = ev.total
                c.print(f"[dim]-- asking {ev.total} specialist(s): {escape(ev.message)}[/]")
                self._set_status(f"0 of {ev.total} specialists done")
            case "specialist_started":
                pass
            case "specialist_done":
                c.print(
                    f"[cyan]{ev.specialist}[/] ({ev.done} of {ev.total} specialists done): "
                    f"{len(ev.findings)} finding(s)"
                )
                for line in finding_lines(ev.findings):
                    c.print(f"  {line}")
                self._set_status(f"{ev.done} of {ev.total} specialists done")
            case "diagnosis":
                self._set_status("diagnosis ready")
            case "proposal":
                pass
            case "error":
                who = f"{ev.specialist}: " if ev.specialist else ""
                c.print(f"[red]error[/] {escape(who + ev.message)}")

    def _set_status(self, text: str) -> None:
        if self._status is not None:
            self._status.update(text)


def progress_printer(console: Console) -> Callable[[ProgressEvent], None]:
    """An `on_progress` callback that prints the thread's replies as they happen."""
    return ThreadRenderer(console)


def finding_lines(findings: list[Finding]) -> list[str]:
    """One marked-up line per finding (the first few), with its resource and best evidence."""
    lines = []
    for f in findings[:MAX_FINDINGS_SHOWN]:
        style = _SEVERITY_STYLE.get(f.severity, "")
        where = f" [dim]{escape(f.resource)}[/]" if f.resource else ""
        lines.append(f"- [{style}]{escape(f.title)}[/]{where}")
        if f.evidence:
            lines.append(f"    [dim]{escape(_short(f.evidence[0].text, 140))}[/]")
    if len(findings) > MAX_FINDINGS_SHOWN:
        lines.append(f"[dim]... and {len(findings) - MAX_FINDINGS_SHOWN} more[/]")
    return lines


def render_incident_header(console: Console, incident: Incident) -> None:
    """The root message of the thread."""
    where = "/".join(p for p in (incident.namespace, incident.workload or incident.service) if p)
    console.print(
        f"[bold]Incident {incident.id}[/] [{_SEVERITY_STYLE.get(incident.severity, '')}]"
        f"{incident.severity.value}[/] from {incident.source.value}"
        + (f"  [dim]{escape(where)}[/]" if where else "")
    )
    if incident.link:
        console.print(f"[dim]{escape(incident.link)}[/]")


def render_result(console: Console, result: InvestigationResult) -> None:
    """The diagnosis and the proposals, as the thread's last replies."""
    render_incident_header(console, result.incident)
    console.print(_diagnosis_panel(result.diagnosis, result))
    if result.proposals:
        console.print(_proposals_table(result.proposals))
        # Commands on their own unwrapped lines, so they can be copied as they are.
        console.print("kubectl equivalent:")
        for i, p in enumerate(result.proposals, 1):
            console.print(f"  {i}. {escape(p.kubectl())}", soft_wrap=True, highlight=False)
    else:
        console.print("[dim]No remediation proposed.[/]")


def _diagnosis_panel(d: Diagnosis, result: InvestigationResult) -> Panel:
    blame = escape(d.root_cause) if d.root_cause else "no resource blamed"
    body = [
        f"[bold]{escape(d.summary)}[/]",
        f"root cause: [bold]{blame}[/]   category: {d.category.value}   "
        f"confidence: {d.confidence:.0%}",
    ]
    if d.explanation:
        body.append(escape(d.explanation))
    for e in d.evidence[:5]:
        body.append(f"[dim]- {e.kind} {escape(e.source)}:[/] {escape(_short(e.text, 160))}")
    footer = (
        f"{result.engine} engine, {result.rounds} round(s), {len(result.findings)} finding(s), "
        f"{result.seconds:.1f}s"
    )
    return Panel("\n".join(body), title="Diagnosis", subtitle=footer, expand=False)


def _proposals_table(proposals: list[Proposal]) -> Table:
    table = Table(title="Proposed remediation (nothing runs without Approve)", show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("action")
    table.add_column("why")
    table.add_column("expected effect")
    for i, p in enumerate(proposals, 1):
        table.add_row(
            str(i),
            f"{p.verb.value} {escape(p.target)}",
            escape(p.rationale),
            escape(p.expected_effect),
        )
    return table


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."
