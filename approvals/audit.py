"""The audit log: every request, decision, execution and rollback, append-only.

`AuditLog` is the interface; `SQLiteAuditLog` is the embedded default. Events are
exported as JSON lines (`sre-bot audit export`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field


class AuditEvent(BaseModel):
    """One thing that happened to an incident, who did it, and when."""

    incident_id: str
    action: str = Field(
        description="e.g. investigation.started, proposal.approved, fix.rolled_back"
    )
    actor: str = Field("sre-bot", description="a Slack user id, 'sre-bot' or 'cli:<user>'")
    via: str | None = Field(
        None, description="where it came from: slack:<channel>, cli:<host>, pagerduty, sweeper"
    )
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    detail: dict[str, Any] = Field(default_factory=dict)


class AuditLog(Protocol):
    """Append-only event log."""

    def append(self, event: AuditEvent) -> None:
        """Record one event."""

    def events(self, incident_id: str | None = None) -> Iterator[AuditEvent]:
        """Every event in order of recording, optionally for one incident."""


class SQLiteAuditLog:
    """The audit log in a SQLite file (or `:memory:`); safe across threads and processes."""

    def __init__(self, path: Path | str) -> None:
        self._path = str(path)
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS audit_events ("
            " seq INTEGER PRIMARY KEY AUTOINCREMENT, incident_id TEXT NOT NULL,"
            " at TEXT NOT NULL, body TEXT NOT NULL)"
        )
        self._db.execute(
            "CREATE INDEX IF NOT EXISTS audit_by_incident ON audit_events(incident_id, seq)"
        )
        # Append-only: the database itself refuses edits and deletions.
        self._db.execute(
            "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit_events"
            " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
        )
        self._db.execute(
            "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit_events"
            " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
        )

    def append(self, event: AuditEvent) -> None:
        """Record one event."""
        with self._lock:
            self._db.execute(
                "INSERT INTO audit_events (incident_id, at, body) VALUES (?, ?, ?)",
                (event.incident_id, event.at.isoformat(), event.model_dump_json()),
            )

    def events(self, incident_id: str | None = None) -> Iterator[AuditEvent]:
        """Every event in order of recording, optionally for one incident."""
        with self._lock:
            if incident_id is None:
                rows = self._db.execute("SELECT body FROM audit_events ORDER BY seq").fetchall()
            else:
                rows = self._db.execute(
                    "SELECT body FROM audit_events WHERE incident_id = ? ORDER BY seq",
                    (incident_id,),
                ).fetchall()
        for (body,) in rows:
            yield AuditEvent.model_validate_json(body)

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()


def export_jsonl(log: AuditLog, incident_id: str | None = None) -> Iterator[str]:
    """The log as JSON lines, one event per line."""
    for event in log.events(incident_id):
        yield json.dumps(event.model_dump(mode="json"), sort_keys=True)
