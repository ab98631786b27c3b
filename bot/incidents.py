"""The incident service: open an incident thread, investigate in the background, post progress.

One incident is one Slack thread (root message `ts`) and one LangGraph thread (`thread_id` =
incident id). Every trigger (slash command, mention, PagerDuty, Alertmanager) comes through
here, so the thread looks the same whatever opened it.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from agents.models import (
    Finding,
    InvestigationResult,
    ProgressEvent,
    Severity,
    Trigger,
)
from agents.redact import redact
from approvals.store import IncidentRecord, StateStore
from bot import blocks
from bot.metrics import BotMetrics
from bot.settings import Settings
from bot.workers import Job, OpenRequest, WorkerPool

log = logging.getLogger(__name__)

ProgressCallback = Callable[[ProgressEvent], None]
# (record, index, proposal) -> (reply blocks, awaits a person, what to run once posted)
ProposalHook = Callable[
    [IncidentRecord, int, Any], tuple[list[dict[str, Any]], bool, Callable[[], None] | None]
]
# (record, investigate-and-post) -> the result; runs the round as the durable incident graph
IncidentRunner = Callable[[IncidentRecord, Callable[[], InvestigationResult]], InvestigationResult]


class Investigator(Protocol):
    """Runs one investigation round; `agents.investigation.investigate` bound to a cluster."""

    def __call__(
        self,
        trigger: Trigger,
        *,
        incident_id: str,
        on_progress: ProgressCallback,
        hint: str | None,
        prior_findings: list[Finding],
    ) -> InvestigationResult: ...


class IncidentError(Exception):
    """An incident could not be opened or found; the message says what to do."""


def engine_investigator(settings: Settings) -> Investigator:
    """The real investigation engine against the cluster named by the settings."""

    def run(
        trigger: Trigger,
        *,
        incident_id: str,
        on_progress: ProgressCallback,
        hint: str | None,
        prior_findings: list[Finding],
    ) -> InvestigationResult:
        # Imported here: the engine (LangGraph, the kubernetes client) is heavy and only the
        # background workers need it, not the 3-second ack path.
        from agents.investigation import investigate
        from agents.tools.cluster import Cluster

        cluster = Cluster.connect(settings.kubeconfig, settings.prometheus_url)
        return investigate(
            trigger,
            cluster,
            engine=settings.engine,
            model=settings.model,
            runbooks_dir=settings.runbooks_dir,
            on_progress=on_progress,
            incident_id=incident_id,
            hint=hint,
            prior_findings=prior_findings,
        )

    return run


class SharedWebClient(WebClient):
    """A WebClient that every thread shares, as slack_sdk's synchronous client allows.

    Bolt deep-copies each request, context and client included, before it hands it to a lazy
    listener. Copying the client (retry handlers, logger, headers) was half of the CPU an ack
    costs; the copy shares this client instead.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> SharedWebClient:
        return self


def web_client(settings: Settings) -> WebClient:
    """The Slack Web API client: `SRE_BOT_SLACK_API_URL`, retries on 429, 5xx and resets."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return SharedWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
            ConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


def new_incident_id() -> str:
    """A short, unique, readable incident id (also the LangGraph thread_id)."""
    return f"inc-{uuid.uuid4().hex[:10]}"


@dataclass
class _Round:
    """What one investigation round has posted so far, and what it could not post."""

    record: IncidentRecord
    lock: threading.Lock = field(default_factory=threading.Lock)
    specialists_posted: set[str] = field(default_factory=set)
    diagnosis_posted: bool = False
    proposals_posted: int = 0
    unposted: list[str] = field(default_factory=list)
    awaiting: bool = False
    after: list[Callable[[], None]] = field(default_factory=list)
    # The incident graph runs this round: it executes auto-mode fixes itself, after the gate.
    graph: bool = False


class IncidentService:
    """Opens incidents, runs their investigations in the background and keeps the thread current."""

    def __init__(
        self,
        settings: Settings,
        client: WebClient,
        store: StateStore,
        investigator: Investigator,
        metrics: BotMetrics | None = None,
        workers: int = 8,
        inline: bool = False,
    ) -> None:
        self.settings = settings
        self.client = client
        self.store = store
        self.investigator = investigator
        self.metrics = metrics or BotMetrics()
        # Inline on FaaS (Lambda): the lazy listener's own invocation is the background, and
        # a thread left running after it returns would be frozen with the function.
        self.inline = inline
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="investigation")
        # Set by the approvals wiring (bot.app): renders proposals through the gate.
        self.proposal_hook: ProposalHook | None = None
        # Set by the approvals wiring too: an incident's first round runs as the incident
        # graph (investigate -> gate -> wait for a decision -> execute), resumable anywhere.
        self.incident_runner: IncidentRunner | None = None
        # Set by `build_bot(workers=N)`: rounds (and slash-command openings) run in worker
        # processes instead of this process's threads (bot.workers).
        self.workers: WorkerPool | None = None

    def shutdown(self, wait: bool = True, timeout: float = 60.0) -> None:
        """Stop accepting work; with `wait`, let running investigations finish (worker
        processes get `timeout` seconds; what they have not finished by then is reported in
        its thread)."""
        if self.workers is not None:
            self.workers.shutdown(wait=wait, timeout=timeout)
        self._pool.shutdown(wait=wait, cancel_futures=not wait)

    # -- opening -------------------------------------------------------------------------

    def open(
        self,
        trigger: Trigger,
        *,
        channel: str,
        title: str,
        severity: Severity = Severity.WARNING,
        link: str | None = None,
        external_key: str | None = None,
        investigate: bool = True,
    ) -> tuple[IncidentRecord, Future[InvestigationResult | None] | None]:
        """Post the root message, store the thread mapping, start the investigation."""
        incident_id = new_incident_id()
        record = IncidentRecord(
            id=incident_id,
            title=title.strip()[:140] or "Incident",
            source=trigger.source,
            severity=severity,
            channel=channel,
            langgraph_thread_id=incident_id,
            external_key=external_key,
            link=link,
            requested_by=trigger.requested_by,
            trigger=trigger,
            total=blocks.SPECIALISTS_TOTAL,
        )
        try:
            resp = self.client.chat_postMessage(
                channel=channel, text=blocks.root_text(record), blocks=blocks.root_blocks(record)
            )
        except SlackClientError as e:
            self.metrics.slack_failures.labels("chat.postMessage").inc()
            raise IncidentError(
                f"could not post the incident to channel {channel}: {_slack_reason(e)}. "
                "Invite the bot to the channel, or check SRE_BOT_INCIDENT_CHANNEL."
            ) from e
        record.thread_ts = resp["ts"]
        record.channel = resp.get("channel") or channel
        self.store.create_incident(record)
        self.metrics.incidents_opened.labels(trigger.source.value).inc()
        future = self.start_round(record.id) if investigate else None
        return record, future

    def open_later(self, req: OpenRequest) -> Future[Any] | None:
        """Open an incident in a worker process when there are workers, else right here.

        For callers already off the ack path (a lazy listener): with workers even the root
        message is posted from a worker, so the serving process only acks."""
        if self.workers is not None:
            # Opening and investigating are two jobs, so a lost round is reported in its thread.
            opened = self.workers.submit("open", req)
            opened.add_done_callback(self._investigate_opened)
            return opened
        self.open_now(req)
        return None

    def _investigate_opened(self, opened: Future[Any]) -> None:
        if opened.exception() is None and opened.result():
            self.start_round(opened.result())

    def open_now(self, req: OpenRequest, *, investigate: bool = True) -> str | None:
        """Open (and investigate) an incident; a failure goes to `req.response_url` if any."""
        try:
            record, _ = self.open(
                req.trigger,
                channel=req.channel,
                title=req.title,
                severity=req.severity,
                link=req.link,
                external_key=req.external_key,
                investigate=investigate,
            )
        except IncidentError as e:
            if not req.response_url:
                raise
            _tell_requester(req.response_url, f":x: {e}")
            return None
        return record.id

    def start_round(
        self, incident_id: str, *, hint: str | None = None
    ) -> Future[InvestigationResult | None]:
        """Run one more investigation round in the background (a mention, a repeat alert)."""
        if self.workers is not None:
            return self.workers.submit("round", incident_id, hint)
        if not self.inline:
            return self._pool.submit(self.run_round, incident_id, hint)
        done: Future[InvestigationResult | None] = Future()
        done.set_result(self.run_round(incident_id, hint))
        return done

    def report_lost(self, job: Job, reason: str) -> None:
        """A worker died holding `job`: say so in the incident's thread, never stay silent."""
        if job.kind == "round":
            incident_id = job.args[0]
            record = self.store.get_incident(incident_id)
            if record is None:
                log.error("round of unknown incident %s lost: %s", incident_id, reason)
                return
            self.metrics.investigations.labels("error").inc()
            self.reply(
                record,
                f":x: The investigation stopped: {reason}. "
                "Mention me in this thread to run another round.",
            )
            self.set_status(incident_id, "failed")
        else:
            (req,) = job.args
            log.error("opening an incident for %r was lost: %s", req.title, reason)
            if req.response_url:
                _tell_requester(
                    req.response_url, f":x: Could not open the incident: {reason}. Run it again."
                )

    def follow_up(
        self, channel: str, thread_ts: str, hint: str, user: str | None = None
    ) -> tuple[IncidentRecord, Future[InvestigationResult | None]] | None:
        """Another round in an incident thread, with its earlier findings and the new hint."""
        record = self.store.find_by_thread(channel, thread_ts)
        if record is None:
            return None
        self.reply(record, f"<@{user}> asked for another round: {hint}" if user else hint)
        return record, self.start_round(record.id, hint=hint)

    # -- thread updates ------------------------------------------------------------------

    def reply(
        self, record: IncidentRecord, text: str, blocks_: list[dict[str, Any]] | None = None
    ) -> bool:
        """Post one reply in the incident thread. False (and logged) when Slack refused it."""
        try:
            self.client.chat_postMessage(
                channel=record.channel,
                thread_ts=record.thread_ts,
                text=blocks.truncate(text, 300),
                blocks=blocks_ or [blocks.section(text)],
            )
            return True
        except SlackClientError as e:
            self.metrics.slack_failures.labels("chat.postMessage").inc()
            log.warning("could not post to incident %s: %s", record.id, _slack_reason(e))
            return False

    def set_status(self, incident_id: str, status: str, **changes: Any) -> IncidentRecord:
        """Change an incident's status and update its root message in place."""
        record = self.store.update_incident(incident_id, status=status, **changes)
        self.refresh_root(record)
        return record

    def refresh_root(self, record: IncidentRecord) -> None:
        """Re-render the root message from the stored record."""
        try:
            self.client.chat_update(
                channel=record.channel,
                ts=record.thread_ts,
                text=blocks.root_text(record),
                blocks=blocks.root_blocks(record),
            )
        except SlackClientError as e:
            self.metrics.slack_failures.labels("chat.update").inc()
            log.warning("could not update incident %s root: %s", record.id, _slack_reason(e))

    # -- the background round -------------------------------------------------------------

    def run_round(self, incident_id: str, hint: str | None) -> InvestigationResult | None:
        """Run one investigation round here and now (what start_round runs in the background)."""
        record = self.store.get_incident(incident_id)
        if record is None or record.trigger is None:
            log.error("incident %s vanished before its investigation started", incident_id)
            return None
        prior = list(record.findings)
        if hint or prior:
            record = self.set_status(incident_id, "investigating", done=0)
        # Follow-up rounds (a hint, earlier findings) stay outside the graph: the incident's
        # graph thread is already at or past its gate.
        runner = self.incident_runner if not (hint or prior) else None
        rnd = _Round(record, graph=runner is not None)
        started = time.monotonic()
        investigated: list[InvestigationResult] = []

        def investigate_and_post() -> InvestigationResult:
            result = self.investigator(
                record.trigger,
                incident_id=incident_id,
                on_progress=lambda ev: self._on_progress(rnd, ev),
                hint=hint,
                prior_findings=prior,
            )
            self.metrics.investigations.labels("ok").inc()
            self.metrics.investigation_seconds.observe(time.monotonic() - started)
            self._finish(rnd, result)
            investigated.append(result)
            return result

        try:
            return runner(record, investigate_and_post) if runner else investigate_and_post()
        except Exception as e:  # the thread must say so, whatever broke
            if investigated:  # the thread already shows the diagnosis; only the gate broke
                log.exception("approval gate of %s failed", incident_id)
                self.reply(record, f":x: The approval gate failed: {e}")
                return investigated[0]
            log.exception("investigation of %s failed", incident_id)
            self.metrics.investigations.labels("error").inc()
            self.reply(record, f":x: The investigation failed: {e}")
            self.set_status(incident_id, "failed")
            return None

    def _on_progress(self, rnd: _Round, event: ProgressEvent) -> None:
        # Specialists finish on several threads at once; one lock keeps replies and root
        # updates in a consistent order.
        with rnd.lock:
            if event.kind == "specialist_done" and event.specialist:
                self._post_specialist(
                    rnd, event.specialist, event.findings, event.done, event.total
                )
            elif event.kind == "diagnosis" and event.diagnosis and not rnd.diagnosis_posted:
                rnd.diagnosis_posted = True
                self._post(rnd, blocks.diagnosis_blocks(event.diagnosis), event.diagnosis.summary)
            elif event.kind == "proposal" and event.proposal:
                self._post_proposal(rnd, event.proposal)
            elif event.kind == "round" and event.total:
                rnd.record = self.store.update_incident(rnd.record.id, done=0, total=event.total)
                self.refresh_root(rnd.record)
            elif event.kind == "error" and event.message:
                self._post(rnd, [blocks.context(f":warning: {event.message}")], event.message)

    def _post_specialist(
        self, rnd: _Round, specialist: str, findings: list[Finding], done: int, total: int
    ) -> None:
        rnd.specialists_posted.add(specialist)
        summary = f"{specialist}: " + "; ".join(f.title for f in findings) if findings else ""
        self._post(rnd, blocks.specialist_blocks(specialist, findings), summary or specialist)
        done = done or len(rnd.specialists_posted)
        record = self.store.get_incident(rnd.record.id) or rnd.record
        rnd.record = self.store.update_incident(
            record.id,
            done=done,
            total=max(total, done) or record.total,
            findings=[*record.findings, *findings],
        )
        self.refresh_root(rnd.record)

    def _post_proposal(self, rnd: _Round, proposal: Any) -> None:
        index = rnd.proposals_posted
        rnd.proposals_posted += 1
        blocks_, awaiting, then = blocks.proposal_blocks(rnd.record.id, index, proposal), True, None
        if self.proposal_hook is not None:
            try:
                blocks_, awaiting, then = self.proposal_hook(rnd.record, index, proposal)
            except Exception:  # the proposal must reach the thread even if the gate broke
                log.exception("approval gate failed on proposal %d of %s", index, rnd.record.id)
        rnd.awaiting = rnd.awaiting or awaiting
        if then is not None and not rnd.graph:
            rnd.after.append(then)
        self._post(rnd, blocks_, proposal.kubectl())

    def _finish(self, rnd: _Round, result: InvestigationResult) -> None:
        with rnd.lock:
            # Whatever the engine did not stream, post from the result, so nothing is lost.
            if not rnd.diagnosis_posted:
                rnd.diagnosis_posted = True
                self._post(rnd, blocks.diagnosis_blocks(result.diagnosis), result.diagnosis.summary)
            for proposal in result.proposals[rnd.proposals_posted :]:
                self._post_proposal(rnd, proposal)
            if rnd.unposted:
                self._post_consolidated(rnd)
            status = "awaiting approval" if rnd.awaiting else "diagnosed"
            done = max(rnd.record.done, len(rnd.specialists_posted))
            self.set_status(rnd.record.id, status, done=done, findings=result.findings)
            after, rnd.after = rnd.after, []
        for run in after:  # auto-mode fixes: after the thread says what they are
            run()

    def _post(self, rnd: _Round, blocks_: list[dict[str, Any]], summary: str) -> None:
        record = rnd.record
        try:
            self.client.chat_postMessage(
                channel=record.channel,
                thread_ts=record.thread_ts,
                text=blocks.truncate(summary, 300),
                blocks=blocks_,
            )
        except SlackClientError as e:
            # The retry handlers already tried; keep the text for one consolidated message.
            self.metrics.slack_failures.labels("chat.postMessage").inc()
            log.warning("reply in %s not posted (%s); kept for later", record.id, _slack_reason(e))
            rnd.unposted.append(_blocks_text(blocks_))

    def _post_consolidated(self, rnd: _Round) -> None:
        lines, rnd.unposted = rnd.unposted, []
        try:
            self.client.chat_postMessage(
                channel=rnd.record.channel,
                thread_ts=rnd.record.thread_ts,
                text="Updates that could not be posted one by one",
                blocks=blocks.failure_summary(lines),
            )
        except SlackClientError as e:
            self.metrics.slack_failures.labels("chat.postMessage").inc()
            log.error(
                "incident %s: could not post these updates to Slack (%s):\n%s",
                rnd.record.id,
                _slack_reason(e),
                redact("\n".join(lines)),
            )


def _tell_requester(response_url: str, text: str) -> None:
    """An ephemeral message to whoever ran the command, through its response_url."""
    WebhookClient(response_url, timeout=10).send(
        text=text, response_type="ephemeral", replace_original=False
    )


def _blocks_text(blocks_: list[dict[str, Any]]) -> str:
    """The readable text of some blocks (for the consolidated fallback message)."""
    parts: list[str] = []
    for b in blocks_:
        text = b.get("text")
        if isinstance(text, dict) and b.get("type") == "section":
            parts.append(text.get("text", ""))
        for f in b.get("fields") or []:
            parts.append(f.get("text", ""))
    return "\n".join(parts)


def _slack_reason(e: Exception) -> str:
    if isinstance(e, SlackApiError):
        return str(e.response.get("error") or e.response.status_code)
    return str(e)
