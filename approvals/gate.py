"""The gate: a proposal becomes a change only through an authorised, recorded decision.

`Gate.submit` classifies a proposal under the policy and opens an approval request
(or says why none is needed or allowed). `Gate.decide` records one decision with a
compare-and-set, so two approvers pressing at the same instant still produce one
execution: only the caller that receives `Decision.fresh` may execute.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field

from agents.models import Proposal
from approvals.audit import AuditEvent, AuditLog
from approvals.books import ApprovalBook, SQLiteApprovalBook
from approvals.policy import ApprovalPolicy, Autonomy, Risk, risk_of


def _utcnow() -> datetime:
    return datetime.now(UTC)


class RequestStatus(StrEnum):
    """Where an approval request stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


class Route(StrEnum):
    """What the policy makes of a proposal."""

    REFUSED = "refused"  # protected target, or observe-only: never executed
    ADVICE = "advice"  # advise mode: shown with its kubectl command, no buttons
    NEEDS_APPROVAL = "needs_approval"  # buttons; waits for an approver
    AUTO = "auto"  # auto mode and reversible: runs at once under the kill switch


class ApprovalRequest(BaseModel):
    """One proposal waiting for (or past) its decision."""

    id: str
    incident_id: str
    proposal: Proposal
    risk: Risk
    route: Route
    requested_by: str | None = None
    created_at: datetime = Field(default_factory=_utcnow)
    expires_at: datetime
    status: RequestStatus = RequestStatus.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None


class Decision(BaseModel):
    """The result of one press: whether it decided anything, and what the presser is told."""

    fresh: bool = Field(description="True only for the single press that made the decision")
    status: RequestStatus
    message: str
    request: ApprovalRequest


class GateError(Exception):
    """A request that does not exist."""


class Gate:
    """Approval requests and their decisions, persisted in a book (SQLite or Redis), audited."""

    def __init__(
        self,
        book: ApprovalBook | Path | str,
        policy: ApprovalPolicy,
        audit: AuditLog | None = None,
    ) -> None:
        self.policy = policy
        self._audit = audit
        self._book: ApprovalBook = (
            SQLiteApprovalBook(book) if isinstance(book, (str, Path)) else book
        )

    # -- opening a request ------------------------------------------------------------

    def submit(
        self,
        incident_id: str,
        index: int,
        proposal: Proposal,
        *,
        requested_by: str | None = None,
        target_labels: dict[str, str] | None = None,
        now: datetime | None = None,
        via: str | None = None,
    ) -> ApprovalRequest:
        """Classify a proposal and record its request; the route says what happens next."""
        now = now or _utcnow()
        risk = risk_of(proposal)
        namespace = _namespace_of(proposal.target)
        autonomy = self.policy.autonomy_for(namespace, target_labels)
        if self.policy.is_protected(proposal.target, target_labels) or autonomy == Autonomy.OBSERVE:
            route = Route.REFUSED
        elif autonomy == Autonomy.ADVISE:
            route = Route.ADVICE
        elif autonomy == Autonomy.AUTO and risk != Risk.DESTRUCTIVE:
            route = Route.AUTO
        else:
            route = Route.NEEDS_APPROVAL
        req = ApprovalRequest(
            id=f"{incident_id}:{index}",
            incident_id=incident_id,
            proposal=proposal,
            risk=risk,
            route=route,
            requested_by=requested_by,
            created_at=now,
            expires_at=now + timedelta(seconds=self.policy.approval_ttl_seconds),
        )
        if route == Route.AUTO:
            req.status, req.decided_by, req.decided_at = RequestStatus.APPROVED, "policy:auto", now
        fresh = self._book.insert(req.id, incident_id, req.status.value, req.model_dump_json())
        stored = self.get(req.id)
        if fresh:
            self._record(
                req, "approval.requested", req.requested_by or "sre-bot", {"route": route}, via
            )
        return stored

    def get(self, request_id: str) -> ApprovalRequest:
        """One request. Raises GateError when there is none."""
        body = self._book.get(request_id)
        if body is None:
            raise GateError(f"no approval request {request_id!r}")
        return ApprovalRequest.model_validate_json(body)

    # -- deciding ---------------------------------------------------------------------

    def decide(
        self,
        request_id: str,
        user: str,
        *,
        approve: bool,
        user_groups: list[str] | None = None,
        reason: str | None = None,
        now: datetime | None = None,
        via: str | None = None,
    ) -> Decision:
        """Record one press. Exactly one press per request gets `fresh=True`."""
        now = now or _utcnow()
        req = self.get(request_id)
        if req.status != RequestStatus.PENDING:
            return self._already(req)
        if req.route != Route.NEEDS_APPROVAL:
            return Decision(fresh=False, status=req.status, request=req, message=_route_msg(req))
        if not self.policy.may_approve(user, user_groups):
            self._record(req, "approval.refused", user, {"why": "not an approver"}, via)
            return Decision(
                fresh=False,
                status=req.status,
                request=req,
                message=f"<@{user}> is not allowed to decide this change; ask an approver.",
            )
        if (
            approve
            and req.risk == Risk.DESTRUCTIVE
            and self.policy.approvers.two_person_for_destructive
            and user == req.requested_by
        ):
            self._record(req, "approval.refused", user, {"why": "two-person rule"}, via)
            return Decision(
                fresh=False,
                status=req.status,
                request=req,
                message="This change is destructive: someone other than the requester must approve it.",
            )
        if now >= req.expires_at:
            new = req.model_copy(update={"status": RequestStatus.EXPIRED, "decided_at": now})
            self._cas(new)
            return self._already(self.get(request_id))
        status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
        new = req.model_copy(
            update={"status": status, "decided_by": user, "decided_at": now, "reason": reason}
        )
        if not self._cas(new):
            return self._already(self.get(request_id))
        self._record(
            new, f"proposal.{status.value}", user, {"reason": reason} if reason else {}, via
        )
        verb = "Approved" if approve else "Rejected"
        return Decision(fresh=True, status=status, request=new, message=f"{verb} by <@{user}>.")

    def claim_execution(self, request_id: str) -> bool:
        """The right to execute an approved request: granted once, ever.

        Decisions are exactly-once, but an approved request can still reach execution twice
        (a graph replayed after a crash, two resumes racing). Only the first claim wins.
        """
        req = self.get(request_id)
        if req.status != RequestStatus.APPROVED:
            return False
        return self._book.insert(
            f"{request_id}#execution", req.incident_id, "executed", req.model_dump_json()
        )

    def approved_unexecuted(self) -> list[ApprovalRequest]:
        """Approved requests nobody has claimed for execution yet (to deliver them again)."""
        out = []
        for body in self._book.with_status(RequestStatus.APPROVED.value):
            req = ApprovalRequest.model_validate_json(body)
            if self._book.get(f"{req.id}#execution") is None:
                out.append(req)
        return out

    def expire_due(self, now: datetime | None = None) -> list[ApprovalRequest]:
        """Mark every pending request past its TTL as expired; returns them."""
        now = now or _utcnow()
        expired = []
        for body in self._book.with_status(RequestStatus.PENDING.value):
            req = ApprovalRequest.model_validate_json(body)
            if now >= req.expires_at:
                new = req.model_copy(update={"status": RequestStatus.EXPIRED, "decided_at": now})
                if self._cas(new):
                    self._record(new, "approval.expired", "sre-bot", {}, "sweeper")
                    expired.append(new)
        return expired

    # -- internals --------------------------------------------------------------------

    def _cas(self, new: ApprovalRequest) -> bool:
        """Write `new` only if the stored request is still pending (compare-and-set)."""
        return self._book.cas(
            new.id, RequestStatus.PENDING.value, new.status.value, new.model_dump_json()
        )

    def _already(self, req: ApprovalRequest) -> Decision:
        when = req.decided_at.strftime("%Y-%m-%d %H:%M:%S UTC") if req.decided_at else "?"
        if req.status == RequestStatus.EXPIRED:
            msg = (
                f"This request expired at {req.expires_at:%Y-%m-%d %H:%M:%S UTC}; nothing changed."
            )
        else:
            who = req.decided_by or "?"
            who = who if who.startswith("policy:") else f"<@{who}>"
            msg = f"Already {req.status.value} by {who} at {when}; nothing changed."
        return Decision(fresh=False, status=req.status, request=req, message=msg)

    def _record(
        self,
        req: ApprovalRequest,
        action: str,
        actor: str,
        detail: dict,
        via: str | None = None,
    ) -> None:
        if self._audit is None:
            return
        detail = {
            "request": req.id,
            "verb": req.proposal.verb.value,
            "target": req.proposal.target,
            "risk": req.risk.value,
            **detail,
        }
        self._audit.append(
            AuditEvent(
                incident_id=req.incident_id, action=action, actor=actor, via=via, detail=detail
            )
        )

    def close(self) -> None:
        """Release the book's connection, when it has one."""
        close = getattr(self._book, "close", None)
        if close is not None:
            close()


def _namespace_of(ref: str) -> str | None:
    parts = ref.split("/")
    if len(parts) == 3:
        return parts[1]
    return parts[1] if parts[0] == "Namespace" else None


def _route_msg(req: ApprovalRequest) -> str:
    return {
        Route.REFUSED: "The policy does not allow sre-bot to change this target.",
        Route.ADVICE: "This namespace is in advise mode: run the command yourself if you agree.",
        Route.AUTO: "The policy applied this reversible change automatically.",
        Route.NEEDS_APPROVAL: "",
    }[req.route]
