"""`sre-bot audit export [--incident ID]`: the audit log as JSON lines."""

from __future__ import annotations

import click

from approvals.audit import AuditLog, export_jsonl
from approvals.store import StoreError
from approvals.stores import open_audit_log as open_audit_log_at
from bot.settings import Settings


def open_audit_log(settings: Settings) -> AuditLog:
    """The audit log behind `SRE_BOT_STORE` (SQLite or Redis)."""
    try:
        return open_audit_log_at(settings.store)
    except StoreError as e:
        raise click.ClickException(str(e)) from e


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
            close = getattr(log, "close", None)
            if close is not None:
                close()
