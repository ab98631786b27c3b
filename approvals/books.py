"""Where the gate and the kill switch keep their records: two small interfaces, two backends.

The gate's approval requests and the kill switch's armed fixes are stored as JSON
bodies with one indexed status field. Every state change is a compare-and-set on that
status, and deadlines are claimed with a lease, so any number of processes (or
replicas on one Redis) can share them and each decision or deadline happens once.

`SQLiteApprovalBook` / `SQLiteDeadlineBook` are the embedded default;
`approvals/redis_store.py` has the Redis ones.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Protocol


class ApprovalBook(Protocol):
    """Approval requests by id, with compare-and-set on their status."""

    def insert(self, request_id: str, incident_id: str, status: str, body: str) -> bool:
        """Store a new request; False (and no change) when the id exists."""

    def get(self, request_id: str) -> str | None:
        """The stored body, or None."""

    def cas(self, request_id: str, expect: str, status: str, body: str) -> bool:
        """Replace the request only while its status is still `expect`."""

    def with_status(self, status: str) -> list[str]:
        """Bodies of every request in that status."""


class DeadlineBook(Protocol):
    """Armed fixes by id, ordered by deadline, with status CAS and leased claims."""

    def insert(self, fix_id: str, state: str, deadline: float, body: str) -> None:
        """Store a newly armed fix."""

    def get(self, fix_id: str) -> str | None:
        """The stored body, or None."""

    def cas(self, fix_id: str, expect: str, state: str, body: str) -> bool:
        """Replace the fix only while its state is still `expect`."""

    def with_state(self, state: str) -> list[str]:
        """Bodies of every fix in that state, earliest deadline first."""

    def claim(self, fix_id: str, owner: str, now: float, lease: float, *, due_only: bool) -> bool:
        """Take the right to act on a watching fix, atomically.

        Succeeds when nobody holds an unexpired lease (and, with `due_only`, the deadline
        has passed). A dead holder's claim is taken over once its lease ends.
        """


def sqlite_connect(path: Path | str) -> sqlite3.Connection:
    """A connection shared by threads, in autocommit mode, tolerant of other writers."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA busy_timeout=5000")
    return db


class SQLiteApprovalBook:
    """Approval requests in a SQLite table."""

    def __init__(self, path: Path | str) -> None:
        self._lock = threading.Lock()
        self._db = sqlite_connect(path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS approval_requests ("
            " id TEXT PRIMARY KEY, incident_id TEXT NOT NULL, status TEXT NOT NULL,"
            " body TEXT NOT NULL)"
        )

    def insert(self, request_id: str, incident_id: str, status: str, body: str) -> bool:
        """Store a new request; False when the id exists."""
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO approval_requests (id, incident_id, status, body)"
                " VALUES (?, ?, ?, ?)",
                (request_id, incident_id, status, body),
            )
            return cur.rowcount == 1

    def get(self, request_id: str) -> str | None:
        """The stored body, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM approval_requests WHERE id = ?", (request_id,)
            ).fetchone()
        return row[0] if row else None

    def cas(self, request_id: str, expect: str, status: str, body: str) -> bool:
        """Replace the request only while its status is still `expect`."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE approval_requests SET status = ?, body = ? WHERE id = ? AND status = ?",
                (status, body, request_id, expect),
            )
            return cur.rowcount == 1

    def with_status(self, status: str) -> list[str]:
        """Bodies of every request in that status."""
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM approval_requests WHERE status = ? ORDER BY id", (status,)
            ).fetchall()
        return [b for (b,) in rows]

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()


class SQLiteDeadlineBook:
    """Armed fixes in a SQLite table."""

    def __init__(self, path: Path | str) -> None:
        self._lock = threading.Lock()
        self._db = sqlite_connect(path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS kill_switches ("
            " id TEXT PRIMARY KEY, state TEXT NOT NULL, deadline REAL NOT NULL,"
            " claimed_by TEXT, lease_until REAL, body TEXT NOT NULL)"
        )

    def insert(self, fix_id: str, state: str, deadline: float, body: str) -> None:
        """Store a newly armed fix."""
        with self._lock:
            self._db.execute(
                "INSERT INTO kill_switches (id, state, deadline, body) VALUES (?, ?, ?, ?)",
                (fix_id, state, deadline, body),
            )

    def get(self, fix_id: str) -> str | None:
        """The stored body, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM kill_switches WHERE id = ?", (fix_id,)
            ).fetchone()
        return row[0] if row else None

    def cas(self, fix_id: str, expect: str, state: str, body: str) -> bool:
        """Replace the fix only while its state is still `expect`."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE kill_switches SET state = ?, body = ? WHERE id = ? AND state = ?",
                (state, body, fix_id, expect),
            )
            return cur.rowcount == 1

    def with_state(self, state: str) -> list[str]:
        """Bodies of every fix in that state, earliest deadline first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM kill_switches WHERE state = ? ORDER BY deadline", (state,)
            ).fetchall()
        return [b for (b,) in rows]

    def claim(self, fix_id: str, owner: str, now: float, lease: float, *, due_only: bool) -> bool:
        """Take the right to act on a watching fix, atomically (see DeadlineBook.claim)."""
        sql = (
            "UPDATE kill_switches SET claimed_by = ?, lease_until = ?"
            " WHERE id = ? AND state = 'watching' AND (claimed_by IS NULL OR lease_until < ?)"
        )
        args: tuple = (owner, now + lease, fix_id, now)
        if due_only:
            sql += " AND deadline <= ?"
            args += (now,)
        with self._lock:
            return self._db.execute(sql, args).rowcount == 1

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()
