"""The approval loop without Slack: gate -> executor -> kill switch, shared by Slack and the CLI.

`ApprovalFlow` owns the gate, the audit log and the kill switch on the bot's store
(`SRE_BOT_STORE`: a SQLite file or a Redis), so any process on that store (a restarted bot,
another replica, the CLI, the Lambda sweeper) sees the same requests and deadlines. It decides nothing itself: the policy does (`approvals/`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from agents.models import Proposal
from agents.redact import redact
from approvals.audit import AuditEvent
from approvals.executor import ExecutionError, Executor
from approvals.gate import ApprovalRequest, Decision, Gate, Route
from approvals.killswitch import ArmedFix, KillSwitch, Notify
from approvals.models import DryRunResult, ExecutionEvent, ExecutionRecord
from approvals.policy import ApprovalPolicy, load_policy
from approvals.stores import Stores, open_stores
from bot.settings import Settings

log = logging.getLogger(__name__)

ApiFactory = Callable[[], object]


class ApprovalFlowError(Exception):
    """The approval loop cannot run (no cluster, no store); the message says what to set."""


@dataclass
class PreparedProposal:
    """A proposal after the gate and the server-side dry run: everything its reply shows."""

    request: ApprovalRequest
    dry_run: DryRunResult | None
    diff: str
    dry_run_error: str | None = None
    why_refused: str | None = None

    @property
    def route(self) -> Route:
        """What the policy made of the proposal."""
        return self.request.route


@dataclass
class Execution:
    """The outcome of running an approved proposal: armed under the kill switch, or an error."""

    fix: ArmedFix | None
    error: str | None = None
    skipped: bool = False  # another caller already executed this request: nothing was done


def digest(objects: object) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces) of a snapshot or applied objects."""
    canonical = json.dumps(objects, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def cluster_api(settings: Settings) -> object:
    """The Kubernetes ApiClient the executor changes the cluster through."""
    from agents.tools.cluster import Cluster

    return Cluster.connect(settings.kubeconfig, settings.prometheus_url).api


class ApprovalFlow:
    """Gate, executor and kill switch for one bot (or one terminal session)."""

    def __init__(
        self,
        settings: Settings,
        *,
        policy: ApprovalPolicy | None = None,
        api_factory: ApiFactory | None = None,
        notify: Notify | None = None,
        stores: Stores | None = None,
    ) -> None:
        self.settings = settings
        self.policy = policy or load_policy(settings.policy, approvers=settings.approvers)
        # Shared with the bot when it passes its stores; otherwise ours to open and close.
        self._owns_stores = stores is None
        self.stores = stores or open_stores(settings.store)
        self.audit = self.stores.audit
        self.gate = Gate(self.stores.approvals, self.policy, self.audit)
        self.notify = notify
        # Set by the Slack side: hands approved-but-unexecuted requests to their graph again.
        self.reconcile: Callable[[], None] | None = None
        self._api_factory = api_factory or (lambda: cluster_api(settings))
        self._api: object | None = None
        self._kill_switch: KillSwitch | None = None
        self._lock = threading.Lock()

    @property
    def window_seconds(self) -> int:
        """The kill-switch window: the policy's, else `SRE_BOT_KILL_SWITCH_SECONDS`."""
        return self.policy.kill_switch_seconds or self.settings.kill_switch_seconds

    # -- the cluster side, built on first use (the bot starts without touching the cluster) --

    def _cluster(self) -> object:
        with self._lock:
            if self._api is None:
                try:
                    self._api = self._api_factory()
                except Exception as e:  # ClusterConfigError and friends: say what to set
                    raise ApprovalFlowError(f"no cluster to change: {e}") from e
            return self._api

    def executor(self, incident_id: str | None = None) -> Executor:
        """An executor whose steps (dry run, snapshot, apply, verify) go to the audit log."""
        hook = self._audit_hook(incident_id) if incident_id else None
        return Executor(self._cluster(), audit=hook)  # type: ignore[arg-type]

    @property
    def kill_switch(self) -> KillSwitch:
        """The kill switch on the shared store (built with the cluster connection)."""
        if self._kill_switch is None:
            executor = self.executor()
            with self._lock:
                if self._kill_switch is None:
                    self._kill_switch = KillSwitch(
                        self.stores.deadlines, executor, audit=self.audit, notify=self._tell
                    )
        return self._kill_switch

    def _tell(self, fix: ArmedFix) -> None:
        if self.notify is not None:
            try:
                self.notify(fix)
            except Exception:  # a Slack outage must not stop the sweeper
                log.exception("could not report fix %s (%s)", fix.id, fix.state)

    def _audit_hook(self, incident_id: str) -> Callable[[ExecutionEvent], None]:
        def hook(event: ExecutionEvent) -> None:
            detail = event.model_dump(mode="json", exclude={"at", "kind"})
            self.audit.append(
                AuditEvent(
                    incident_id=incident_id,
                    action=f"execution.{event.kind}",
                    actor=event.approved_by or "sre-bot",
                    detail=detail,
                )
            )

        return hook

    # -- the loop ---------------------------------------------------------------------

    def prepare(
        self, incident_id: str, index: int, proposal: Proposal, *, requested_by: str | None
    ) -> PreparedProposal:
        """Dry-run the proposal on the server, then open its request under the policy."""
        dry: DryRunResult | None = None
        diff, error, labels = "", None, None
        try:
            dry, snapshot, diff = self.executor().dry_run(proposal)
            target = snapshot.get(proposal.target) or {}
            labels = (target.get("metadata") or {}).get("labels") or None
        except (ExecutionError, ApprovalFlowError) as e:
            error = str(e)
        request = self.gate.submit(
            incident_id, index, proposal, requested_by=requested_by, target_labels=labels
        )
        why = None
        if request.route == Route.REFUSED:
            protected = self.policy.is_protected(proposal.target, labels)
            why = "the target is protected" if protected else "the target is observe-only"
        return PreparedProposal(
            request=request, dry_run=dry, diff=redact(diff), dry_run_error=error, why_refused=why
        )

    def decide(
        self,
        request_id: str,
        user: str,
        *,
        approve: bool,
        user_groups: list[str] | None = None,
        reason: str | None = None,
        via: str | None = None,
    ) -> Decision:
        """Record one press (the gate's compare-and-set makes exactly one of them fresh)."""
        return self.gate.decide(
            request_id, user, approve=approve, user_groups=user_groups, reason=reason, via=via
        )

    def execute(self, request: ApprovalRequest, approved_by: str) -> Execution:
        """Apply an approved request and arm its kill switch, at most once per request."""
        if not self.gate.claim_execution(request.id):
            return Execution(fix=None, skipped=True)
        try:
            record: ExecutionRecord = self.executor(request.incident_id).execute(
                request.proposal, approved_by=approved_by
            )
        except (ExecutionError, ApprovalFlowError) as e:
            return Execution(fix=None, error=redact(str(e)))
        # The record of what changed: digests of the before-state and of what the server stored.
        before = {o.ref: o.object for o in record.snapshot.objects}
        self.audit.append(
            AuditEvent(
                incident_id=request.incident_id,
                action="execution.digests",
                actor=approved_by,
                detail={
                    "request": request.id,
                    "target": request.proposal.target,
                    "before_digest": digest(before),
                    "after_digest": digest(record.applied),
                },
            )
        )
        fix = self.kill_switch.arm(
            request.id,
            request.incident_id,
            record,
            window_seconds=self.window_seconds,
            confirmation=self.policy.confirmation,
        )
        return Execution(fix=fix)

    def sweep_once(self) -> None:
        """One pass of the timers: due kill-switch deadlines, expired approval requests."""
        self.gate.expire_due()
        if self.reconcile is not None:
            self.reconcile()
        try:
            self.kill_switch.sweep()
        except ApprovalFlowError as e:
            log.debug("kill switch idle: %s", e)

    def run(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Sweep until `stop` is set (the background thread of `serve`)."""
        while not stop.is_set():
            try:
                self.sweep_once()
            except Exception:  # keep sweeping: a deadline missed is worse than a log line
                log.exception("approval sweeper pass failed")
            stop.wait(interval)

    def close(self) -> None:
        """Close the store connections, when this flow opened them."""
        if self._owns_stores:
            self.stores.close()
