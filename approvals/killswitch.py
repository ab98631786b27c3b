"""The kill switch: an applied fix stays only if it proves itself before its deadline.

Like `commit confirmed` on a router: every applied change is armed with a deadline.
While it is watched, `sweep` checks its verification. Confirmation follows the
policy's mode (`health`: the verification passes; `human`: a person presses Keep;
`either`). At the deadline, or at once on "Roll back now", the snapshot is restored.

Deadlines live in a book (SQLite or Redis) and are claimed with a lease, so any process may sweep and
each deadline fires once; a claim whose holder died is taken over after the lease.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel

from approvals.audit import AuditEvent, AuditLog
from approvals.books import DeadlineBook, SQLiteDeadlineBook
from approvals.executor import Executor, RollbackFailed
from approvals.models import ExecutionRecord
from approvals.policy import Confirmation


class WatchState(StrEnum):
    """Where an armed fix stands."""

    WATCHING = "watching"
    KEPT = "kept"  # confirmed: the fix stays
    ROLLED_BACK = "rolled_back"
    ROLLBACK_FAILED = "rollback_failed"  # escalated loudly


class ArmedFix(BaseModel):
    """One applied fix under the kill switch."""

    id: str
    incident_id: str
    record: ExecutionRecord
    confirmation: Confirmation
    armed_at: float
    deadline: float
    state: WatchState = WatchState.WATCHING
    healthy_seen: bool = False
    decided_by: str | None = None
    reason: str = ""

    def seconds_left(self, now: float | None = None) -> float:
        """Seconds until the deadline (never negative)."""
        return max(0.0, self.deadline - (time.time() if now is None else now))


Notify = Callable[[ArmedFix], None]


class KillSwitch:
    """Armed fixes, their deadlines and their outcomes."""

    def __init__(
        self,
        book: DeadlineBook | Path | str,
        executor: Executor,
        *,
        audit: AuditLog | None = None,
        notify: Notify | None = None,
        lease_seconds: float = 60.0,
        owner: str | None = None,
        parallel: int = 16,
    ) -> None:
        self._executor = executor
        # Due fixes are checked and rolled back side by side: one slow rollback must not
        # push every other deadline back (100 fixes due at once would wait in line).
        self._parallel = parallel
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._audit = audit
        self._notify = notify
        self._lease = lease_seconds
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        self._book: DeadlineBook = (
            SQLiteDeadlineBook(book) if isinstance(book, (str, Path)) else book
        )

    # -- arming and pressing ----------------------------------------------------------

    def arm(
        self,
        fix_id: str,
        incident_id: str,
        record: ExecutionRecord,
        *,
        window_seconds: float,
        confirmation: Confirmation = Confirmation.HEALTH,
        now: float | None = None,
    ) -> ArmedFix:
        """Start watching an applied fix; it is rolled back at the deadline unless confirmed."""
        now = time.time() if now is None else now
        fix = ArmedFix(
            id=fix_id,
            incident_id=incident_id,
            record=record,
            confirmation=confirmation,
            armed_at=now,
            deadline=now + window_seconds,
        )
        self._book.insert(fix.id, fix.state.value, fix.deadline, fix.model_dump_json())
        self._record(fix, "killswitch.armed", "sre-bot", {"deadline": fix.deadline})
        return fix

    def get(self, fix_id: str) -> ArmedFix:
        """One armed fix (KeyError when unknown)."""
        body = self._book.get(fix_id)
        if body is None:
            raise KeyError(f"no armed fix {fix_id!r}")
        return ArmedFix.model_validate_json(body)

    def keep(self, fix_id: str, user: str, *, via: str | None = None) -> tuple[bool, ArmedFix]:
        """Keep fix: a person confirms the fix. Returns (decided now, the fix)."""
        fix = self.get(fix_id)
        if fix.state != WatchState.WATCHING:
            return False, fix
        new = fix.model_copy(
            update={"state": WatchState.KEPT, "decided_by": user, "reason": "kept by a person"}
        )
        if not self._cas(new, expect=WatchState.WATCHING):
            return False, self.get(fix_id)
        self._record(new, "fix.kept", user, {}, via)
        self._tell(new)
        return True, new

    def roll_back_now(
        self, fix_id: str, user: str, *, via: str | None = None
    ) -> tuple[bool, ArmedFix]:
        """Roll back now: restore the snapshot at once. Returns (acted now, the fix)."""
        if not self._claim(fix_id, time.time(), ignore_deadline=True):
            return False, self.get(fix_id)
        return True, self._roll_back(self.get(fix_id), user, "rollback requested by a person", via)

    # -- the sweeper ------------------------------------------------------------------

    def watching(self) -> list[ArmedFix]:
        """Every fix still under watch."""
        return [
            ArmedFix.model_validate_json(b)
            for b in self._book.with_state(WatchState.WATCHING.value)
        ]

    def sweep(self, now: float | None = None) -> list[ArmedFix]:
        """Check every watched fix once; confirm the healthy, roll back the overdue. Returns changes."""
        now = time.time() if now is None else now
        fixes = self.watching()
        if len(fixes) <= 1:
            results = [self._sweep_one(f, now) for f in fixes]
        else:
            results = list(self._workers().map(lambda f: self._sweep_one(f, now), fixes))
        return [f for f in results if f is not None]

    def _sweep_one(self, fix: ArmedFix, now: float) -> ArmedFix | None:
        if fix.confirmation != Confirmation.HUMAN or now >= fix.deadline:
            fix = self._check_health(fix)
        if fix.state == WatchState.KEPT:
            return fix
        if now >= fix.deadline and self._claim(fix.id, now):
            return self._roll_back(self.get(fix.id), "sre-bot", _overdue_reason(fix))
        return None

    def _workers(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._parallel, thread_name_prefix="killswitch")
            return self._pool

    def run(self, stop: threading.Event, interval: float = 1.0) -> None:
        """Sweep until `stop` is set (for a background thread in `serve`)."""
        while not stop.wait(interval):
            self.sweep()

    # -- internals --------------------------------------------------------------------

    def _check_health(self, fix: ArmedFix) -> ArmedFix:
        result = self._executor.verify(fix.record, timeout=0.0)
        if not result.ok:
            return fix
        if fix.confirmation == Confirmation.HUMAN:
            if not fix.healthy_seen:
                new = fix.model_copy(update={"healthy_seen": True})
                self._cas(new, expect=WatchState.WATCHING)
                return new
            return fix
        new = fix.model_copy(
            update={
                "state": WatchState.KEPT,
                "healthy_seen": True,
                "decided_by": "sre-bot",
                "reason": result.summary(),
            }
        )
        if self._cas(new, expect=WatchState.WATCHING):
            self._record(
                new, "fix.confirmed", "sre-bot", {"verification": result.summary()}, "sweeper"
            )
            self._tell(new)
            return new
        return self.get(fix.id)

    def _roll_back(
        self, fix: ArmedFix, actor: str, reason: str, via: str | None = "sweeper"
    ) -> ArmedFix:
        try:
            record = self._executor.rollback(fix.record)
            ok = record.rollback_verification is not None and record.rollback_verification.ok
            state = WatchState.ROLLED_BACK if ok else WatchState.ROLLBACK_FAILED
            why = reason if ok else f"{reason}; the rollback did not verify: {record.error or ''}"
        except RollbackFailed as e:
            record, state, why = fix.record, WatchState.ROLLBACK_FAILED, f"{reason}; {e}"
        new = fix.model_copy(
            update={"state": state, "record": record, "decided_by": actor, "reason": why}
        )
        self._cas(new, expect=WatchState.WATCHING)
        action = "fix.rolled_back" if state == WatchState.ROLLED_BACK else "fix.rollback_failed"
        self._record(new, action, actor, {"reason": why}, via)
        self._tell(new)
        return new

    def _claim(self, fix_id: str, now: float, *, ignore_deadline: bool = False) -> bool:
        """Take the right to roll back a fix, atomically; an expired lease may be taken over."""
        return self._book.claim(fix_id, self.owner, now, self._lease, due_only=not ignore_deadline)

    def _cas(self, new: ArmedFix, *, expect: WatchState) -> bool:
        return self._book.cas(new.id, expect.value, new.state.value, new.model_dump_json())

    def _record(
        self, fix: ArmedFix, action: str, actor: str, detail: dict, via: str | None = None
    ) -> None:
        if self._audit is not None:
            p = fix.record.proposal
            self._audit.append(
                AuditEvent(
                    incident_id=fix.incident_id,
                    action=action,
                    actor=actor,
                    via=via,
                    detail={"fix": fix.id, "verb": p.verb.value, "target": p.target, **detail},
                )
            )

    def _tell(self, fix: ArmedFix) -> None:
        if self._notify is not None:
            self._notify(fix)

    def close(self) -> None:
        """Stop the sweep workers and release the book's connection, when it has one."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        close = getattr(self._book, "close", None)
        if close is not None:
            close()


def _overdue_reason(fix: ArmedFix) -> str:
    if fix.confirmation == Confirmation.HUMAN:
        return "nobody pressed Keep before the deadline"
    return "the fix was not confirmed healthy before the deadline"
