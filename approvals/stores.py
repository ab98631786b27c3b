"""Every piece of state the bot keeps, opened together from one URL (`SRE_BOT_STORE`).

`open_stores("sqlite:///path.db")` keeps everything in one SQLite file (the default);
`open_stores("redis://host:port/db")` puts it on one Redis shared by any number of
replicas (`?prefix=name` namespaces the keys, default `sre-bot`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver

from approvals.audit import AuditLog, SQLiteAuditLog
from approvals.books import ApprovalBook, DeadlineBook, SQLiteApprovalBook, SQLiteDeadlineBook
from approvals.checkpoint import close_checkpointer, redis_checkpointer, sqlite_checkpointer
from approvals.store import SQLiteStateStore, StateStore, StoreError


@dataclass
class Stores:
    """The state store, audit log, approval and deadline books and checkpointer of one URL."""

    url: str
    state: StateStore
    audit: AuditLog
    approvals: ApprovalBook
    deadlines: DeadlineBook
    checkpointer: BaseCheckpointSaver
    kind: str = field(default="sqlite")

    def close(self) -> None:
        """Release every connection (safe to call twice)."""
        for part in (self.state, self.audit, self.approvals, self.deadlines):
            close = getattr(part, "close", None)
            if close is not None:
                # one part failing to close must not leak the others
                with contextlib.suppress(Exception):
                    close()
        with contextlib.suppress(Exception):
            close_checkpointer(self.checkpointer)


def sqlite_path(url: str) -> Path:
    """The file of a `sqlite:///path` URL."""
    return Path(url.removeprefix("sqlite:///") or "sre-bot.db")


def open_stores(url: str) -> Stores:
    """Open the stores named by `url`; StoreError saying what to fix when it cannot."""
    url = (url or "").strip()
    if url.startswith("sqlite:///"):
        path = sqlite_path(url)
        state = SQLiteStateStore(path)  # raises StoreError for an unusable path
        return Stores(
            url=url,
            state=state,
            audit=SQLiteAuditLog(path),
            approvals=SQLiteApprovalBook(path),
            deadlines=SQLiteDeadlineBook(path),
            checkpointer=sqlite_checkpointer(path),
            kind="sqlite",
        )
    if url.startswith(("redis://", "rediss://")):
        from approvals.redis import (
            RedisApprovalBook,
            RedisAuditLog,
            RedisDeadlineBook,
            RedisStateStore,
            connect,
            parse_redis_url,
        )

        target = parse_redis_url(url)
        client = connect(target)
        # One client (a thread-safe connection pool) shared by every part; state closes it.
        return Stores(
            url=url,
            state=RedisStateStore(client, target.prefix, owns_client=True),
            audit=RedisAuditLog(client, target.prefix),
            approvals=RedisApprovalBook(client, target.prefix),
            deadlines=RedisDeadlineBook(client, target.prefix),
            checkpointer=redis_checkpointer(target.url, target.prefix),
            kind="redis",
        )
    raise StoreError(
        f"SRE_BOT_STORE must be sqlite:///path/to/file.db or redis://host:port/db, got {url!r}"
    )


def open_audit_log(url: str) -> AuditLog:
    """Only the audit log behind `url` (for `sre-bot audit export`); close it when done."""
    if url.startswith("sqlite:///"):
        return SQLiteAuditLog(sqlite_path(url))
    if url.startswith(("redis://", "rediss://")):
        from approvals.redis import RedisAuditLog, connect, parse_redis_url

        target = parse_redis_url(url)
        return RedisAuditLog(connect(target), target.prefix, owns_client=True)
    raise StoreError(
        f"SRE_BOT_STORE must be sqlite:///path/to/file.db or redis://host:port/db, got {url!r}"
    )
