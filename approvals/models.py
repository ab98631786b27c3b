"""What the executor records: dry runs, snapshots, diffs, verifications and outcomes.

One `ExecutionRecord` follows one approved proposal from its dry run to its end
(kept, or rolled back); the kill switch and the audit log read it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from agents.models import Proposal


def utcnow() -> datetime:
    """Aware UTC now (the executor's own clock, for records)."""
    return datetime.now(UTC)


class ObjectSnapshot(BaseModel):
    """One object's before-state, exactly as the server served it (None: it did not exist)."""

    ref: str
    object: dict[str, Any] | None = None


class Snapshot(BaseModel):
    """The before-state of every object a change touches (for drain: the node and its pods)."""

    taken_at: datetime = Field(default_factory=utcnow)
    objects: list[ObjectSnapshot] = Field(default_factory=list)

    def get(self, ref: str) -> dict[str, Any] | None:
        """The snapshot of one object, or None."""
        for o in self.objects:
            if o.ref == ref:
                return o.object
        return None


class Operation(BaseModel):
    """One API write the executor will make for a proposal."""

    action: Literal["patch", "create", "delete", "evict"]
    ref: str
    patch_type: Literal["strategic", "merge", "json"] | None = None
    body: Any = None
    description: str = ""


class DryRunResult(BaseModel):
    """The server's answer to the change with `dryRun=All`: what it would store."""

    operations: list[Operation]
    would_be: dict[str, dict[str, Any] | None] = Field(
        default_factory=dict, description="ref -> the object after the change (None: gone)"
    )
    warnings: list[str] = Field(default_factory=list)


class Check(BaseModel):
    """One health condition and whether it held."""

    name: str
    ok: bool
    detail: str = ""


class VerificationResult(BaseModel):
    """Whether the change reached the state it promised, within the time it was given."""

    ok: bool
    checks: list[Check] = Field(default_factory=list)
    seconds: float = 0.0
    timed_out: bool = False

    def summary(self) -> str:
        """One line for people: what held, or what did not."""
        failing = [c for c in self.checks if not c.ok]
        if self.ok:
            return f"verified in {self.seconds:.1f}s: " + "; ".join(c.name for c in self.checks)
        return "not verified: " + "; ".join(f"{c.name} ({c.detail})" for c in failing)


class Outcome(StrEnum):
    """Where one execution ended up."""

    DRY_RUN = "dry_run"  # only the dry run happened
    APPLIED = "applied"  # applied, not yet verified
    VERIFIED = "verified"  # applied and verified healthy
    UNVERIFIED = "unverified"  # applied, verification failed (the kill switch will act)
    ROLLED_BACK = "rolled_back"  # restored to the snapshot
    ROLLBACK_FAILED = "rollback_failed"
    FAILED = "failed"  # the apply itself failed


class ExecutionRecord(BaseModel):
    """One proposal's execution, from dry run to outcome."""

    proposal: Proposal
    approved_by: str | None = None
    dry_run: DryRunResult
    diff: str = Field("", description="unified diff of YAML, before -> after; secrets redacted")
    snapshot: Snapshot
    applied_at: datetime | None = None
    applied: dict[str, dict[str, Any] | None] = Field(
        default_factory=dict, description="ref -> the object the server stored"
    )
    outcome: Outcome = Outcome.DRY_RUN
    verification: VerificationResult | None = None
    rolled_back_at: datetime | None = None
    rollback_verification: VerificationResult | None = None
    error: str | None = None


class ExecutionEvent(BaseModel):
    """One step of an execution, as the audit log receives it."""

    kind: Literal[
        "dry_run", "snapshot", "applied", "apply_failed", "verified", "rolled_back", "failed"
    ]
    at: datetime = Field(default_factory=utcnow)
    verb: str
    target: str
    approved_by: str | None = None
    detail: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


AuditHook = Callable[[ExecutionEvent], None]
