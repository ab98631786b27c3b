"""`sre-bot audit export [--incident ID]`: the audit log as JSON lines."""

from __future__ import annotations

import click

from approvals.audit import SQLiteAuditLog, export_jsonl
from bot.settings import Settings


def open_audit_log(settings: Settings) -> SQLiteAuditLog:
    """The audit log behind `SRE_BOT_STORE`."""
    if not settings.store.startswith("sqlite:///"):
        raise click.UsageError(f"audit export does not support the store {settings.store!r} yet")
    return SQLiteAuditLog(settings.store.removeprefix("sqlite:///"))


def register(cli: click.Group) -> None:
    """Attach the `audit` command group."""

    @cli.group()
    def audit() -> None:
        """Read the audit log: every request, decision, execution and rollback."""

    @audit.command("export")
    @click.option("--incident", "incident_id", help="Only this incident's events.")
    def export(incident_id: str | None) -> None:
        """Print the audit log as JSON lines (one event per line, oldest first)."""
        log = open_audit_log(Settings())
        try:
            for line in export_jsonl(log, incident_id):
                click.echo(line)
        finally:
            log.close()
