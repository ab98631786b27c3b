"""The state store: incidents and their Slack threads, webhook dedup keys, dead letters, presses.

`StateStore` is the interface; `SQLiteStateStore` is the default implementation. A Redis
implementation (the scale-out issue) implements the same methods and passes the same tests.
`open_store(url)` picks the implementation from `SRE_BOT_STORE`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agents.models import Finding, Severity, Trigger, TriggerSource


class StoreError(Exception):
    """The state store could not be opened or used."""


def _now() -> datetime:
    return datetime.now(UTC)


# Statuses an incident moves through, as its root message shows them.
OPEN_STATUSES = (
    "investigating",
    "diagnosed",
    "awaiting approval",
    "fixing",
    "watching",
    "failed",
)
CLOSED_STATUSES = ("resolved", "rolled back", "escalated")


class IncidentRecord(BaseModel):
    """One incident as the bot tracks it: its Slack thread and its LangGraph thread."""

    id: str
    title: str
    source: TriggerSource
    severity: Severity = Severity.WARNING
    status: str = "investigating"
    channel: str | None = None
    thread_ts: str | None = Field(None, description="ts of the root message; replies thread on it")
    langgraph_thread_id: str = ""
    external_key: str | None = Field(
        None, description="the source's own key: PagerDuty incident id, Alertmanager groupKey"
    )
    link: str | None = None
    requested_by: str | None = None
    done: int = 0
    total: int = 0
    trigger: Trigger | None = Field(None, description="what opened it, for follow-up rounds")
    findings: list[Finding] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)

    @property
    def is_open(self) -> bool:
        """True until the incident is resolved, rolled back or escalated."""
        return self.status not in CLOSED_STATUSES


class DeadLetter(BaseModel):
    """A delivery that authenticated but could not be processed, kept verbatim for replay."""

    id: int = 0
    source: str
    reason: str
    headers: dict[str, str] = Field(default_factory=dict)
    body: str
    received_at: datetime = Field(default_factory=_now)
    replayed_at: datetime | None = None


class ButtonPress(BaseModel):
    """A press of a button in an incident thread, recorded for the approval gate."""

    incident_id: str
    action_id: str
    proposal_index: int | None = None
    user: str | None = None
    pressed_at: datetime = Field(default_factory=_now)


class StateStore(ABC):
    """Where the bot keeps what must survive a restart."""

    @abstractmethod
    def create_incident(self, record: IncidentRecord) -> None:
        """Store a new incident. Its id must be new."""

    @abstractmethod
    def get_incident(self, incident_id: str) -> IncidentRecord | None:
        """The incident with this id, or None."""

    @abstractmethod
    def update_incident(self, incident_id: str, **changes: Any) -> IncidentRecord:
        """Change fields of an incident and return it as stored."""

    @abstractmethod
    def find_by_thread(self, channel: str, thread_ts: str) -> IncidentRecord | None:
        """The incident whose root message is `thread_ts` in `channel`."""

    @abstractmethod
    def find_by_external_key(self, key: str) -> IncidentRecord | None:
        """The most recent incident opened for this PagerDuty id or Alertmanager groupKey."""

    @abstractmethod
    def list_incidents(self, *, open_only: bool = False, limit: int = 50) -> list[IncidentRecord]:
        """Incidents, newest first."""

    @abstractmethod
    def claim_delivery(self, source: str, delivery_id: str) -> bool:
        """True the first time a delivery id is seen for a source, False for a repeat."""

    @abstractmethod
    def add_dead_letter(self, letter: DeadLetter) -> int:
        """Keep a delivery that could not be processed; returns its id."""

    @abstractmethod
    def list_dead_letters(self, *, include_replayed: bool = False) -> list[DeadLetter]:
        """Dead letters, oldest first."""

    @abstractmethod
    def get_dead_letter(self, letter_id: int) -> DeadLetter | None:
        """One dead letter, or None."""

    @abstractmethod
    def mark_replayed(self, letter_id: int) -> None:
        """Note that a dead letter was replayed successfully."""

    @abstractmethod
    def record_press(self, press: ButtonPress) -> None:
        """Record a button press for the approval gate to act on."""

    @abstractmethod
    def presses(self, incident_id: str) -> list[ButtonPress]:
        """Presses recorded for an incident, oldest first."""

    def close(self) -> None:  # noqa: B027 - optional for implementations without resources
        """Release connections."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY,
    channel TEXT,
    thread_ts TEXT,
    external_key TEXT,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_thread ON incidents (channel, thread_ts);
CREATE INDEX IF NOT EXISTS incidents_key ON incidents (external_key);
CREATE TABLE IF NOT EXISTS deliveries (
    source TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (source, delivery_id)
);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    replayed INTEGER NOT NULL DEFAULT 0,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS button_presses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL,
    doc TEXT NOT NULL
);
"""


class SQLiteStateStore(StateStore):
    """The default store: one SQLite file, safe to share between threads and processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One connection guarded by a lock: listeners and background investigations
            # run on many threads; WAL lets another process (a restarted bot) read meanwhile.
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as e:
            raise StoreError(f"cannot open the SQLite store at {self.path}: {e}") from e
        self._lock = threading.RLock()

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock, self._db:
            return self._db.execute(sql, args).fetchall()

    def create_incident(self, record: IncidentRecord) -> None:
        """Store a new incident. Its id must be new."""
        try:
            self._run(
                "INSERT INTO incidents (id, channel, thread_ts, external_key, status, created_at, doc)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.id,
                    record.channel,
                    record.thread_ts,
                    record.external_key,
                    record.status,
                    record.created_at.isoformat(),
                    record.model_dump_json(),
                ),
            )
        except sqlite3.IntegrityError as e:
            raise StoreError(f"incident {record.id} already exists") from e

    def get_incident(self, incident_id: str) -> IncidentRecord | None:
        """The incident with this id, or None."""
        rows = self._run("SELECT doc FROM incidents WHERE id = ?", (incident_id,))
        return IncidentRecord.model_validate_json(rows[0][0]) if rows else None

    def update_incident(self, incident_id: str, **changes: Any) -> IncidentRecord:
        """Change fields of an incident and return it as stored."""
        with self._lock:
            current = self.get_incident(incident_id)
            if current is None:
                raise StoreError(f"no incident {incident_id}")
            data = current.model_dump()
            data.update(changes, updated_at=_now())
            record = IncidentRecord.model_validate(data)
            self._run(
                "UPDATE incidents SET channel = ?, thread_ts = ?, external_key = ?, status = ?,"
                " doc = ? WHERE id = ?",
                (
                    record.channel,
                    record.thread_ts,
                    record.external_key,
                    record.status,
                    record.model_dump_json(),
                    incident_id,
                ),
            )
            return record

    def find_by_thread(self, channel: str, thread_ts: str) -> IncidentRecord | None:
        """The incident whose root message is `thread_ts` in `channel`."""
        rows = self._run(
            "SELECT doc FROM incidents WHERE channel = ? AND thread_ts = ?", (channel, thread_ts)
        )
        return IncidentRecord.model_validate_json(rows[0][0]) if rows else None

    def find_by_external_key(self, key: str) -> IncidentRecord | None:
        """The most recent incident opened for this PagerDuty id or Alertmanager groupKey."""
        rows = self._run(
            "SELECT doc FROM incidents WHERE external_key = ? ORDER BY created_at DESC LIMIT 1",
            (key,),
        )
        return IncidentRecord.model_validate_json(rows[0][0]) if rows else None

    def list_incidents(self, *, open_only: bool = False, limit: int = 50) -> list[IncidentRecord]:
        """Incidents, newest first."""
        if open_only:
            marks = ",".join("?" * len(CLOSED_STATUSES))
            rows = self._run(
                f"SELECT doc FROM incidents WHERE status NOT IN ({marks})"
                " ORDER BY created_at DESC LIMIT ?",
                (*CLOSED_STATUSES, limit),
            )
        else:
            rows = self._run("SELECT doc FROM incidents ORDER BY created_at DESC LIMIT ?", (limit,))
        return [IncidentRecord.model_validate_json(r[0]) for r in rows]

    def claim_delivery(self, source: str, delivery_id: str) -> bool:
        """True the first time a delivery id is seen for a source, False for a repeat."""
        with self._lock, self._db:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO deliveries (source, delivery_id, seen_at) VALUES (?, ?, ?)",
                (source, delivery_id, _now().isoformat()),
            )
            return cur.rowcount == 1

    def add_dead_letter(self, letter: DeadLetter) -> int:
        """Keep a delivery that could not be processed; returns its id."""
        with self._lock, self._db:
            cur = self._db.execute(
                "INSERT INTO dead_letters (doc) VALUES (?)",
                (letter.model_dump_json(exclude={"id"}),),
            )
            return int(cur.lastrowid or 0)

    def _letter(self, row: tuple[Any, ...]) -> DeadLetter:
        data = json.loads(row[1])
        data["id"] = row[0]
        return DeadLetter.model_validate(data)

    def list_dead_letters(self, *, include_replayed: bool = False) -> list[DeadLetter]:
        """Dead letters, oldest first."""
        where = "" if include_replayed else " WHERE replayed = 0"
        rows = self._run(f"SELECT id, doc FROM dead_letters{where} ORDER BY id")
        return [self._letter(r) for r in rows]

    def get_dead_letter(self, letter_id: int) -> DeadLetter | None:
        """One dead letter, or None."""
        rows = self._run("SELECT id, doc FROM dead_letters WHERE id = ?", (letter_id,))
        return self._letter(rows[0]) if rows else None

    def mark_replayed(self, letter_id: int) -> None:
        """Note that a dead letter was replayed successfully."""
        with self._lock:
            letter = self.get_dead_letter(letter_id)
            if letter is None:
                raise StoreError(f"no dead letter {letter_id}")
            letter.replayed_at = _now()
            self._run(
                "UPDATE dead_letters SET replayed = 1, doc = ? WHERE id = ?",
                (letter.model_dump_json(exclude={"id"}), letter_id),
            )

    def record_press(self, press: ButtonPress) -> None:
        """Record a button press for the approval gate to act on."""
        self._run(
            "INSERT INTO button_presses (incident_id, doc) VALUES (?, ?)",
            (press.incident_id, press.model_dump_json()),
        )

    def presses(self, incident_id: str) -> list[ButtonPress]:
        """Presses recorded for an incident, oldest first."""
        rows = self._run(
            "SELECT doc FROM button_presses WHERE incident_id = ? ORDER BY id", (incident_id,)
        )
        return [ButtonPress.model_validate_json(r[0]) for r in rows]

    def close(self) -> None:
        """Close the SQLite connection."""
        with self._lock:
            self._db.close()


def open_store(url: str) -> StateStore:
    """The store named by `SRE_BOT_STORE`: `sqlite:///path/to/file.db` or `redis://host:port/db`.

    `approvals.stores.open_stores` opens this together with the audit log, books and checkpointer.
    """
    if url.startswith("sqlite:///"):
        return SQLiteStateStore(url.removeprefix("sqlite:///") or "sre-bot.db")
    if url.startswith(("redis://", "rediss://")):
        from approvals.redis import RedisStateStore, connect, parse_redis_url

        target = parse_redis_url(url)
        return RedisStateStore(connect(target), target.prefix, owns_client=True)
    raise StoreError(
        f"SRE_BOT_STORE must be sqlite:///path/to/file.db or redis://host:port/db, got {url!r}"
    )
