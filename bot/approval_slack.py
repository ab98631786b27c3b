"""The approval loop in Slack: proposal replies, what each button press does, fix outcomes.

`ApprovalFlow` (gate -> executor -> kill switch) decides; this module only renders and posts.
A press is answered from SQLite alone, so buttons in an old thread keep working after a
restart, on any replica.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_sdk.errors import SlackClientError

from agents.models import InvestigationResult, Proposal, Trigger
from approvals.gate import ApprovalRequest, GateError, RequestStatus, Route
from approvals.incident_graph import (
    Delivery,
    ExecutionOutcome,
    GateDecision,
    IncidentGraph,
    IncidentRuntime,
)
from approvals.killswitch import ArmedFix, WatchState
from approvals.store import ButtonPress, IncidentRecord
from bot import approval_blocks as ab
from bot.approval_flow import ApprovalFlow, ApprovalFlowError
from bot.blocks import Block, context, section
from bot.incidents import IncidentService

log = logging.getLogger(__name__)
Reply = Callable[[str], None]

_STATUS_OF = {
    WatchState.KEPT: "resolved",
    WatchState.ROLLED_BACK: "rolled back",
    WatchState.ROLLBACK_FAILED: "escalated",
}


def request_of(action: dict[str, Any]) -> tuple[str, int] | None:
    """(incident id, proposal index) from an Approve/Reject button value, or None."""
    try:
        value = json.loads(action.get("value") or "{}")
        return str(value["incident_id"]), int(value["proposal"])
    except (ValueError, KeyError, TypeError):
        return None


def fix_of(action: dict[str, Any]) -> str | None:
    """The fix id from a Keep / Roll back now button value, or None."""
    try:
        return str(json.loads(action.get("value") or "{}")["fix"])
    except (ValueError, KeyError, TypeError):
        return None


class SlackApprovals:
    """Connects the approval flow to one incident service (its Web API client and store)."""

    def __init__(self, flow: ApprovalFlow, service: IncidentService) -> None:
        self.flow = flow
        self.service = service
        self.client = service.client
        self.store = service.store
        flow.notify = self.on_fix
        flow.reconcile = self.redeliver
        # An incident's first round runs as the durable incident graph; presses resume it.
        service.incident_runner = self.run_incident
        self._resumer: IncidentGraph | None = None
        # Where each fix's "Applied" message is, to take its buttons away when it ends.
        self._applied_at: dict[str, tuple[str, str, list[Block]]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- background timers ----------------------------------------------------------------

    def start(self) -> None:
        """Run the kill-switch sweeper and request expiry in a background thread."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.flow.run, args=(self._stop,), name="approvals", daemon=True
            )
            self._thread.start()

    def close(self) -> None:
        """Stop the background thread and close the flow's databases."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.flow.close()

    # -- the incident graph -------------------------------------------------------------

    def _runtime(self, investigate: Callable[[], InvestigationResult] | None) -> IncidentRuntime:
        def run(trigger: Trigger, incident_id: str, hint: str | None) -> InvestigationResult:
            if investigate is None:  # a resume replays from the checkpoint, never from here
                raise ApprovalFlowError(f"incident {incident_id} has no investigation to resume")
            return investigate()

        return IncidentRuntime(
            gate=self.flow.gate,
            investigate=run,
            execute=self._execute_outcome,
            is_executed=self._armed,
        )

    def run_incident(
        self, record: IncidentRecord, investigate: Callable[[], InvestigationResult]
    ) -> InvestigationResult:
        """Run an incident's first round as the incident graph: it stops at the gate, if needed."""
        graph = IncidentGraph(self._runtime(investigate), self.flow.stores.checkpointer)
        assert record.trigger is not None
        state = graph.start(record.id, record.trigger, requested_by=record.requested_by)
        return state["result"]

    def _resume(self, request: ApprovalRequest, user: str, *, approve: bool, reason: str | None):
        """Hand a fresh decision to the incident's graph, on whatever process got the press."""
        if self._resumer is None:
            self._resumer = IncidentGraph(self._runtime(None), self.flow.stores.checkpointer)
        decision = GateDecision(request_id=request.id, user=user, approve=approve, reason=reason)
        delivery = self._resumer.deliver(request.incident_id, decision)
        # No graph thread knows this request (an incident from before the graph, a follow-up
        # round): the gate's fresh decision alone allows the execution.
        if delivery == Delivery.NO_GRAPH and approve:
            self._execute(request, user)

    def redeliver(self, min_age_seconds: float = 5.0) -> None:
        """Deliver approvals again that no process has executed yet.

        A press can land while the incident's graph is still on its way to the gate on
        another process; if that graph reaches its interrupt only after the press gave up
        waiting, nobody would resume it. This pass (run by every replica's sweeper) closes
        that gap durably; the gate's execution claim keeps it to one execution.
        """
        now = datetime.now(UTC)
        for req in self.flow.gate.approved_unexecuted():
            decided = req.decided_at or now
            if req.route != Route.NEEDS_APPROVAL or self._armed(req.id):
                continue  # auto-route fixes run from the graph that decided them
            if (now - decided).total_seconds() < min_age_seconds:
                continue
            if self._resumer is None:
                self._resumer = IncidentGraph(self._runtime(None), self.flow.stores.checkpointer)
            decision = GateDecision(
                request_id=req.id, user=req.decided_by or "?", approve=True, reason=req.reason
            )
            delivery = self._resumer.deliver(req.incident_id, decision, settle_seconds=0.0)
            if delivery in (Delivery.NO_GRAPH, Delivery.ALREADY):
                self._execute(req, req.decided_by or "sre-bot")

    # -- proposals ------------------------------------------------------------------------

    def proposal_reply(
        self, record: IncidentRecord, index: int, proposal: Proposal
    ) -> tuple[list[Block], bool, Callable[[], None] | None]:
        """The proposal's reply blocks, whether it awaits a person, and what to run after posting."""
        prepared = self.flow.prepare(record.id, index, proposal, requested_by=record.requested_by)
        req = prepared.request
        then = None
        if req.route == Route.AUTO and prepared.dry_run_error is None and not self._armed(req.id):
            then = lambda: self._execute(req, "policy:auto")  # noqa: E731
        awaiting = req.route == Route.NEEDS_APPROVAL and req.status == RequestStatus.PENDING
        return ab.request_blocks(record.id, index, prepared), awaiting, then

    def _armed(self, fix_id: str) -> bool:
        try:
            self.flow.kill_switch.get(fix_id)
            return True
        except KeyError:
            return False
        except ApprovalFlowError:
            return False

    # -- presses --------------------------------------------------------------------------

    def approve(self, body: dict[str, Any], action: dict[str, Any], reply: Reply) -> None:
        """Approve: execute exactly once, for the one press the gate calls fresh."""
        found = self._request(body, action, reply)
        if found is None:
            return
        req, _ = found
        user = _user(body)
        decision = self.flow.decide(
            req.id, user, approve=True, user_groups=self._groups(user), via=_via(body)
        )
        if not decision.fresh:
            reply(decision.message)
            return
        when = ab.slack_date(decision.request.decided_at or datetime.now(UTC))
        self._strip_buttons(
            body, decision.request, f":white_check_mark: Approved by <@{user}> {when}"
        )
        self._resume(decision.request, user, approve=True, reason=None)

    def open_reject(self, body: dict[str, Any], action: dict[str, Any], reply: Reply) -> None:
        """Reject: ask for an optional reason in a modal (refusals are answered at once)."""
        found = self._request(body, action, reply)
        if found is None:
            return
        req, _ = found
        user = _user(body)
        groups = self._groups(user)
        still_open = req.status == RequestStatus.PENDING and req.route == Route.NEEDS_APPROVAL
        if not still_open or not self.flow.policy.may_approve(user, groups):
            # Not decidable by this person: the gate says why, and changes nothing.
            decision = self.flow.decide(
                req.id, user, approve=False, user_groups=groups, via=_via(body)
            )
            reply(decision.message)
            return
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id") or ""
        view = ab.reject_modal(req.id, channel, container.get("message_ts") or "")
        try:
            self.client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackClientError as e:
            reply(f":x: Could not open the rejection form ({e}); try again.")

    def reject_submitted(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The rejection modal was submitted: record the rejection with its reason."""
        meta = json.loads(view.get("private_metadata") or "{}")
        user = _user(body)
        values = (view.get("state") or {}).get("values") or {}
        reason = ((values.get("reason") or {}).get("reason") or {}).get("value") or None
        decision = self.flow.decide(
            meta.get("request", ""),
            user,
            approve=False,
            reason=reason,
            user_groups=self._groups(user),
            via=f"slack:{meta.get('channel') or '?'}",
        )
        if not decision.fresh:
            self._ephemeral(meta.get("channel"), user, decision.message)
            return
        req = decision.request
        note = f":no_entry_sign: Rejected by <@{user}>" + (f": {reason}" if reason else "")
        self._strip_buttons(
            {
                "container": {
                    "channel_id": meta.get("channel"),
                    "message_ts": meta.get("message_ts"),
                }
            },
            req,
            note,
        )
        record = self.store.get_incident(req.incident_id)
        if record is not None:
            self.service.reply(record, f"{note} (`{req.proposal.kubectl()}`). Nothing was changed.")
            self.service.set_status(record.id, "diagnosed")
        self._resume(req, user, approve=False, reason=reason)

    def keep(self, body: dict[str, Any], action: dict[str, Any], reply: Reply) -> None:
        """Keep fix: a person confirms the applied change; the kill switch stands down."""
        self._fix_press(body, action, reply, keep=True)

    def roll_back(self, body: dict[str, Any], action: dict[str, Any], reply: Reply) -> None:
        """Roll back now: restore the snapshot at once."""
        self._fix_press(body, action, reply, keep=False)

    def _fix_press(
        self, body: dict[str, Any], action: dict[str, Any], reply: Reply, *, keep: bool
    ) -> None:
        fix_id, user = fix_of(action), _user(body)
        if fix_id is None:
            reply(":x: This button carries no fix.")
            return
        if not self.flow.policy.may_approve(user, self._groups(user)):
            reply(f"<@{user}> is not allowed to decide this fix; ask an approver.")
            return
        ks = self.flow.kill_switch
        try:
            via = _via(body)
            acted, fix = (
                ks.keep(fix_id, user, via=via) if keep else ks.roll_back_now(fix_id, user, via=via)
            )
        except KeyError:
            reply(f":x: Fix `{fix_id}` is unknown to this bot (was its store reset?).")
            return
        if not acted:
            reply(
                f"Already {fix.state.value.replace('_', ' ')} by {ab.who(fix.decided_by)}; nothing changed."
            )

    # -- execution and outcomes -------------------------------------------------------------

    def _execute_outcome(self, request: ApprovalRequest, approved_by: str) -> ExecutionOutcome:
        """The incident graph's execute step: apply, arm, and tell the thread."""
        fix_id, error = self._execute(request, approved_by)
        return ExecutionOutcome(request_id=request.id, fix_id=fix_id, error=error)

    def _execute(self, request: ApprovalRequest, approved_by: str) -> tuple[str | None, str | None]:
        """Apply an approved request and post the outcome; returns (fix id, error)."""
        record = self.store.get_incident(request.incident_id)
        if record is None:
            log.error("incident %s vanished before its fix ran", request.incident_id)
            return None, f"incident {request.incident_id} is unknown"
        self.service.set_status(record.id, "fixing")
        execution = self.flow.execute(request, approved_by)
        if execution.skipped:  # another press or replica got there first and says so itself
            return None, None
        if execution.fix is None:
            self.service.reply(record, f":x: The fix was not applied: {execution.error}")
            self.service.set_status(record.id, "failed")
            return None, execution.error
        fix = execution.fix
        blocks_ = ab.applied_blocks(fix)
        try:
            resp = self.client.chat_postMessage(
                channel=record.channel,
                thread_ts=record.thread_ts,
                text=f"Applied {fix.record.proposal.kubectl()}",
                blocks=blocks_,
            )
            self._applied_at[fix.id] = (resp["channel"], resp["ts"], blocks_)
        except SlackClientError as e:
            log.warning("could not post the applied fix for %s: %s", record.id, e)
        # The sweeper may already have decided the fix; never move a decided incident back.
        if self.flow.kill_switch.get(fix.id).state == WatchState.WATCHING:
            self.service.set_status(record.id, "watching")
        return fix.id, None

    def on_fix(self, fix: ArmedFix) -> None:
        """The kill switch decided a fix: say so in the thread and on the root message."""
        record = self.store.get_incident(fix.incident_id)
        if record is None:
            return
        text = ab.outcome_text(fix, self._oncall())
        self.service.reply(record, text)
        applied = self._applied_at.pop(fix.id, None)
        if applied is not None:
            channel, ts, blocks_ = applied
            try:
                self.client.chat_update(
                    channel=channel, ts=ts, text=text, blocks=ab.decided_blocks(blocks_, text)
                )
            except SlackClientError as e:
                log.warning("could not update the applied message of %s: %s", fix.id, e)
        self.service.set_status(record.id, _STATUS_OF[fix.state])

    # -- helpers ----------------------------------------------------------------------------

    def _request(
        self, body: dict[str, Any], action: dict[str, Any], reply: Reply
    ) -> tuple[ApprovalRequest, int] | None:
        parsed = request_of(action)
        if parsed is None:
            reply(":x: This button carries no incident.")
            return None
        incident_id, index = parsed
        if self.store.get_incident(incident_id) is None:
            reply(f":x: Incident `{incident_id}` is unknown to this bot (was its store reset?).")
            return None
        # Every press is kept, decided or not: who pressed what, from where.
        self.store.record_press(
            ButtonPress(
                incident_id=incident_id,
                action_id=action.get("action_id", ""),
                proposal_index=index,
                user=_user(body) or None,
            )
        )
        try:
            return self.flow.gate.get(f"{incident_id}:{index}"), index
        except GateError:
            reply(f":x: Incident `{incident_id}` has no proposal #{index + 1} awaiting a decision.")
            return None

    def _groups(self, user: str) -> list[str]:
        """The user's Slack user groups (ids and handles), asked only when the policy names groups."""
        wanted = self.flow.policy.approvers.groups
        if not wanted or user in self.flow.policy.approvers.users:
            return []
        try:
            resp = self.client.usergroups_list(include_users=True)
        except SlackClientError as e:
            log.warning("could not read user groups: %s", e)
            return []
        out: list[str] = []
        for group in resp.get("usergroups") or []:
            if user in (group.get("users") or []):
                out += [group.get("id", ""), group.get("handle", "")]
        return [g for g in out if g]

    def _oncall(self) -> str:
        groups = self.flow.policy.approvers.groups
        if not groups:
            return "<!here>"
        return " ".join(
            f"<!subteam^{g}>" if re.fullmatch(r"S[A-Z0-9]+", g) else f"@{g}" for g in groups
        )

    def _strip_buttons(self, body: dict[str, Any], req: ApprovalRequest, note: str) -> None:
        container = body.get("container") or {}
        channel, ts = container.get("channel_id"), container.get("message_ts")
        if not channel or not ts:
            return
        original = (body.get("message") or {}).get("blocks")
        blocks_ = (
            ab.decided_blocks(original, note)
            if original
            else [section(f"*Proposed fix*: `{req.proposal.kubectl()}`"), context(note)]
        )
        try:
            self.client.chat_update(channel=channel, ts=ts, text=note, blocks=blocks_)
        except SlackClientError as e:
            log.warning("could not update the request message %s: %s", ts, e)

    def _ephemeral(self, channel: str | None, user: str, text: str) -> None:
        if not channel:
            return
        try:
            self.client.chat_postEphemeral(channel=channel, user=user, text=text)
        except SlackClientError as e:
            log.warning("could not tell %s: %s", user, e)


def _user(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id") or "")


def _via(body: dict[str, Any]) -> str:
    """Where a press came from, for the audit log: `slack:<channel id>`."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id") or "?"
    return f"slack:{channel}"
