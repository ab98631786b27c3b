"""The executor: dry run, snapshot, diff, apply, verify and roll back one approved proposal.

It decides nothing. The approval gate (policy, buttons, kill switch) decides
whether and when a proposal runs and calls `Executor.execute`; the kill switch
calls `verify` until its deadline and `rollback` when health never came.

    executor = Executor(api_client, audit=audit_log.record)
    record = executor.execute(proposal, approved_by="U123")   # dry run, snapshot, apply
    result = executor.verify(record, timeout=60)              # poll health
    if not result.ok:
        executor.rollback(record)                             # back to the snapshot
"""

from __future__ import annotations

import copy
import difflib
from typing import Any

import yaml
from kubernetes.client import ApiClient

from agents.models import Proposal
from approvals.models import (
    AuditHook,
    DryRunResult,
    ExecutionEvent,
    ExecutionRecord,
    ObjectSnapshot,
    Operation,
    Outcome,
    Snapshot,
    VerificationResult,
    utcnow,
)
from approvals.resources import KubeRequestError, KubeResources, Obj, Ref, UnknownKind
from approvals.verbs import Plan, PlanError, merge_patch, plan_for, writable_part
from approvals.verify import after_apply, after_rollback, poll

# Metadata the API server sets; a recreated object must not carry it.
SERVER_SET_METADATA = (
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "managedFields",
    "generation",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
REDACTED = "<redacted>"


class ExecutionError(Exception):
    """Base of everything the executor refuses or fails at; the message says what to do."""


class ProposalNotApplicable(ExecutionError):
    """The proposal does not fit the cluster (missing object, container, revision, ...)."""


class DryRunRejected(ExecutionError):
    """The API server refused the change in its dry run; nothing was changed."""

    def __init__(self, proposal: Proposal, error: KubeRequestError) -> None:
        self.proposal, self.error = proposal, error
        super().__init__(
            f"the API server rejected `{proposal.kubectl()}` in a dry run "
            f"({error.status} {error.reason}: {error.message}); nothing was changed. "
            "Fix the proposal's parameters or the cluster permissions and try again."
        )


class ApplyFailed(ExecutionError):
    """The change was accepted in its dry run but failed when applied; the record has the snapshot."""

    def __init__(self, record: ExecutionRecord, error: Exception) -> None:
        self.record = record
        super().__init__(
            f"applying `{record.proposal.kubectl()}` failed ({error}); part of it may have "
            "been applied. Roll back to the snapshot with Executor.rollback(record)."
        )


class RollbackFailed(ExecutionError):
    """Restoring the snapshot failed; a person has to look."""


def _display(obj: Obj | None) -> str:
    """An object as YAML for people: no status or bookkeeping, secrets' data redacted."""
    if obj is None:
        return ""
    shown = copy.deepcopy(obj)
    shown.pop("status", None)
    md = shown.get("metadata") or {}
    for k in ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp"):
        md.pop(k, None)
    return yaml.safe_dump(redact(shown), sort_keys=True, default_flow_style=False)


def redact(obj: Obj) -> Obj:
    """A Secret without its values (keys stay, so a reader sees what changed where)."""
    if obj.get("kind") != "Secret":
        return obj
    out = copy.deepcopy(obj)
    for field in ("data", "stringData"):
        if isinstance(out.get(field), dict):
            out[field] = {k: REDACTED for k in out[field]}
    return out


def render_diff(before: dict[str, Obj | None], after: dict[str, Obj | None]) -> str:
    """Unified diff of YAML, before -> after, for every object the change touches."""
    chunks = []
    for ref in before:
        a, b = _display(before[ref]), _display(after.get(ref))
        if a == b:
            continue
        lines = difflib.unified_diff(
            a.splitlines(keepends=True),
            b.splitlines(keepends=True),
            fromfile=f"{ref} (before)",
            tofile=f"{ref} (after)" if after.get(ref) is not None else f"{ref} (deleted)",
        )
        chunks.append("".join(lines))
    return "\n".join(chunks)


def recreatable(obj: Obj) -> Obj:
    """A snapshot made fit to create again: no status, no server-set metadata."""
    out = copy.deepcopy(obj)
    out.pop("status", None)
    md = out.setdefault("metadata", {})
    for k in SERVER_SET_METADATA:
        md.pop(k, None)
    spec = out.get("spec") or {}
    if out.get("kind") == "Service":  # the old cluster IP may be taken again by now
        spec.pop("clusterIP", None)
        spec.pop("clusterIPs", None)
    if out.get("kind") == "Pod":
        spec.pop("nodeName", None)
    return out


class Executor:
    """Carries out approved proposals against one cluster, through the official client."""

    def __init__(
        self,
        api: ApiClient,
        *,
        audit: AuditHook | None = None,
        field_manager: str = "sre-bot",
    ) -> None:
        self.kube = KubeResources(api, field_manager=field_manager)
        self._audit = audit

    def _emit(
        self, kind: str, prop: Proposal, approved_by: str | None, detail: str = "", **data: Any
    ) -> None:
        if self._audit is not None:
            self._audit(
                ExecutionEvent(
                    kind=kind,  # type: ignore[arg-type]
                    verb=prop.verb.value,
                    target=prop.target,
                    approved_by=approved_by,
                    detail=detail,
                    data=data,
                )
            )

    def _plan(self, proposal: Proposal) -> Plan:
        try:
            return plan_for(proposal, self.kube)
        except (PlanError, UnknownKind, ValueError) as e:
            raise ProposalNotApplicable(f"cannot run `{proposal.kubectl()}`: {e}") from e
        except KubeRequestError as e:
            raise ExecutionError(
                f"could not read the state `{proposal.kubectl()}` would change: {e}. "
                "Check that the cluster is reachable and the credentials may read it."
            ) from e

    def _run(self, ops: list[Operation], *, dry_run: bool) -> dict[str, Obj | None]:
        out: dict[str, Obj | None] = {}
        for op in ops:
            ref = Ref.parse(op.ref)
            if op.action == "patch":
                out[op.ref] = self.kube.patch(
                    ref, op.body, op.patch_type or "merge", dry_run=dry_run
                )
            elif op.action == "delete":
                self.kube.delete(ref, dry_run=dry_run)
                out[op.ref] = None
            elif op.action == "evict":
                self.kube.evict(ref.namespace or "default", ref.name, dry_run=dry_run)
                out[op.ref] = None
            elif op.action == "create":
                out[op.ref] = self.kube.create(op.body, dry_run=dry_run)
        return out

    def dry_run(self, proposal: Proposal) -> tuple[DryRunResult, Snapshot, str]:
        """Plan, snapshot and dry-run a proposal; returns the result, snapshot and diff."""
        plan = self._plan(proposal)
        snapshot = Snapshot(
            objects=[
                ObjectSnapshot(ref=str(r), object=plan.before.get(str(r))) for r in plan.touched
            ]
        )
        try:
            would_be = self._run(plan.operations, dry_run=True)
        except KubeRequestError as e:
            raise DryRunRejected(proposal, e) from e
        result = DryRunResult(
            operations=plan.operations,
            would_be={k: (redact(v) if v else v) for k, v in would_be.items()},
        )
        diff = render_diff(plan.before, {**plan.before, **would_be})
        return result, snapshot, diff

    def execute(self, proposal: Proposal, *, approved_by: str | None = None) -> ExecutionRecord:
        """Dry run, snapshot, diff, then apply. Raises `DryRunRejected` before changing anything."""
        dry, snapshot, diff = self.dry_run(proposal)
        self._emit("dry_run", proposal, approved_by, diff=diff)
        self._emit("snapshot", proposal, approved_by, refs=[o.ref for o in snapshot.objects])
        record = ExecutionRecord(
            proposal=proposal, approved_by=approved_by, dry_run=dry, diff=diff, snapshot=snapshot
        )
        try:
            applied = self._run(dry.operations, dry_run=False)
        except KubeRequestError as e:
            record.outcome, record.error = Outcome.FAILED, str(e)
            self._emit("apply_failed", proposal, approved_by, str(e))
            raise ApplyFailed(record, e) from e
        record.applied_at = utcnow()
        record.applied = {k: (redact(v) if v else v) for k, v in applied.items()}
        record.outcome = Outcome.APPLIED
        self._emit("applied", proposal, approved_by, proposal.kubectl())
        return record

    def verify(
        self, record: ExecutionRecord, *, timeout: float = 60.0, interval: float = 0.25
    ) -> VerificationResult:
        """Poll the target's health until it holds or `timeout` passes; updates the record."""
        result = poll(after_apply(self.kube, record), timeout=timeout, interval=interval)
        record.verification = result
        record.outcome = Outcome.VERIFIED if result.ok else Outcome.UNVERIFIED
        # A kill switch polls with timeout=0; only verdicts belong in the audit log, not polls.
        if result.ok or timeout > 0:
            self._emit(
                "verified", record.proposal, record.approved_by, result.summary(), ok=result.ok
            )
        return result

    def rollback(
        self, record: ExecutionRecord, *, timeout: float = 60.0, interval: float = 0.25
    ) -> ExecutionRecord:
        """Restore every object of the snapshot, then verify the before-state is back."""
        notes: list[str] = []
        try:
            for snap in record.snapshot.objects:
                notes += self._restore(Ref.parse(snap.ref), snap.object)
        except KubeRequestError as e:
            record.outcome, record.error = Outcome.ROLLBACK_FAILED, str(e)
            self._emit("failed", record.proposal, record.approved_by, f"rollback failed: {e}")
            raise RollbackFailed(
                f"rolling back `{record.proposal.kubectl()}` failed: {e}. The snapshot is in the "
                "execution record; restore it by hand (kubectl apply) and check the target."
            ) from e
        record.rolled_back_at = utcnow()
        result = poll(after_rollback(self.kube, record), timeout=timeout, interval=interval)
        record.rollback_verification = result
        record.outcome = Outcome.ROLLED_BACK if result.ok else Outcome.ROLLBACK_FAILED
        detail = "; ".join(notes + [result.summary()])
        self._emit("rolled_back", record.proposal, record.approved_by, detail, ok=result.ok)
        return record

    def _restore(self, ref: Ref, before: Obj | None) -> list[str]:
        current = self.kube.get_or_none(ref)
        if before is None:
            if current is not None:
                self.kube.delete(ref, dry_run=False)
                return [f"deleted {ref}, which the change created"]
            return []
        if current is None:
            owners = (before.get("metadata") or {}).get("ownerReferences") or []
            if ref.kind == "Pod" and any(o.get("controller") for o in owners):
                return [f"{ref} was replaced by its controller; not recreated"]
            self.kube.create(recreatable(before), dry_run=False)
            return [f"recreated {ref}"]
        body = merge_patch(writable_part(current), writable_part(before))
        if not body:
            return []
        self.kube.patch(ref, body, "merge", dry_run=False)
        return [f"restored {ref}"]
