"""Investigation worker processes: the serving process acks, these processes investigate.

`sre-bot serve` must ack Slack within 3 seconds and answer webhooks promptly. An investigation
(LangGraph, the rules engine, parsing the cluster's answers) is CPU-heavy Python: run on the
serving process's threads it holds that process's GIL, and every ack queues behind it
(benchmarks/slack_ack.py: p99 ack 386 ms at 50 concurrent commands). So `serve` hands
incidents to `SRE_BOT_WORKERS` processes. Each builds its own incident service on the same
stores and Slack workspace (as a replica does), runs up to `threads` rounds at once (LLM rounds
mostly wait on the model), and runs at a lower CPU priority than the process that acks.

What crosses the process boundary is small and picklable: a job (open an incident, or run a
round of one) goes out; the round's result and the metric updates it made come back, so the
serving process's `/metrics` counts every investigation. A worker that dies is replaced; the
rounds it held are reported as failed in their threads, never silently dropped.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from agents.models import Severity, Trigger
from bot.settings import Settings

log = logging.getLogger(__name__)

# How much less CPU a worker gets than the serving process when both want it: nice 10 is a
# weight of 110 against 1024, so acks win the cores during a burst and investigations get the rest.
WORKER_NICE = 10
_POLL = 0.5  # seconds between liveness checks of the workers while results are quiet
_STOPPED = "sre-bot was stopped (a restart or a deploy) before this finished"


class WorkerLost(RuntimeError):
    """The worker process running a job died before it finished."""


@dataclass(frozen=True)
class Job:
    """One piece of background work: `kind` is "open" or "round"."""

    id: int
    kind: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class OpenRequest:
    """Open an incident from a worker: post its root message, store it, investigate it."""

    trigger: Trigger
    channel: str
    title: str
    severity: Severity = Severity.WARNING
    link: str | None = None
    external_key: str | None = None
    response_url: str | None = None  # where to tell the requester when opening fails


# -- metrics recorded in a worker, replayed in the serving process --------------------------


class _Recorder:
    """Stands in for one prometheus_client metric (or one of its label sets)."""

    def __init__(self, name: str, sink: Callable[[tuple[Any, ...]], None], labels=()) -> None:
        self._name, self._sink, self._labels = name, sink, tuple(labels)

    def labels(self, *values: str) -> _Recorder:
        return _Recorder(self._name, self._sink, values)

    def inc(self, amount: float = 1.0) -> None:
        self._sink((self._name, self._labels, "inc", amount))

    def observe(self, value: float) -> None:
        self._sink((self._name, self._labels, "observe", value))


class RecordingMetrics:
    """BotMetrics' interface in a worker: each update is kept until `drain` ships it home."""

    def __init__(self, names: list[str]) -> None:
        self._lock = threading.Lock()
        self._calls: list[tuple[Any, ...]] = []
        for name in names:
            setattr(self, name, _Recorder(name, self._record))

    def _record(self, call: tuple[Any, ...]) -> None:
        with self._lock:
            self._calls.append(call)

    def drain(self) -> list[tuple[Any, ...]]:
        """The updates since the last drain."""
        with self._lock:
            calls, self._calls = self._calls, []
        return calls


def replay(metrics: Any, calls: list[tuple[Any, ...]]) -> None:
    """Apply a worker's recorded updates to the serving process's BotMetrics."""
    for name, labels, op, value in calls:
        metric = getattr(metrics, name, None)
        if metric is None:
            continue
        if labels:
            metric = metric.labels(*labels)
        getattr(metric, op)(value)


# -- the worker process -----------------------------------------------------------------------


def _worker_main(settings: Settings, conn: Any, threads: int) -> None:
    """A worker's whole life: build an incident service, run jobs until told to stop.

    Jobs arrive on this worker's own pipe, and results leave on it: a worker killed mid-job
    can hold no lock another process needs (a shared multiprocessing.Queue would leave its
    lock taken and every other worker stuck)."""
    os.nice(WORKER_NICE)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the group; the parent stops us
    _exit_with_parent()
    from bot.app import build_worker_service
    from bot.metrics import metric_names

    metrics = RecordingMetrics(metric_names())
    service, close = build_worker_service(settings, metrics)
    pid = os.getpid()
    send_lock = threading.Lock()

    def send(msg: tuple[Any, ...]) -> None:
        with send_lock:
            conn.send(msg)

    def run(job: Job) -> None:
        outcome: Any = None
        error: str | None = None
        try:
            outcome = _run_job(service, job)
        except Exception as e:  # the job's own error handling already told the thread
            log.exception("job %s (%s) failed in worker %d", job.id, job.kind, pid)
            error = f"{type(e).__name__}: {e}"
        calls = metrics.drain()
        try:
            send(("done", job.id, (outcome, error), calls))
        except Exception:  # an unpicklable result must not lose the job's completion
            send(("done", job.id, (None, error), calls))

    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="investigation")
    send(("ready", None, None, []))
    try:
        while True:
            try:
                job = conn.recv()
            except EOFError:
                break
            if job is None:
                break
            pool.submit(run, job)
    finally:
        pool.shutdown(wait=True)
        close()


def _exit_with_parent() -> None:
    """Exit when the serving process is gone (even killed -9): no orphan workers, ever."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        log.error("the serving process exited; worker %d stops", os.getpid())
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _run_job(service: Any, job: Job) -> Any:
    if job.kind == "round":
        incident_id, hint = job.args
        return service.run_round(incident_id, hint)
    if job.kind == "open":
        (req,) = job.args
        return service.open_now(req, investigate=False)  # the round is a job of its own
    raise ValueError(f"unknown job kind {job.kind!r}")


# -- the pool, in the serving process -----------------------------------------------------------


@dataclass
class _Worker:
    proc: Any
    conn: Any
    jobs: set[int] = field(default_factory=set)  # ids of the jobs sent to it, not yet done
    ready: bool = False


class WorkerPool:
    """`processes` worker processes, each running up to `threads` jobs at once.

    The pool dispatches: a job goes to the ready worker with the fewest jobs in hand, or
    waits here until one has a free thread. So the pool always knows which worker holds
    which job, and a dead worker's jobs are reported, not lost."""

    def __init__(
        self,
        settings: Settings,
        processes: int,
        *,
        threads: int = 4,
        metrics: Any = None,
        on_lost: Callable[[Job, str], None] | None = None,
    ) -> None:
        if processes < 1:
            raise ValueError("a worker pool needs at least one process")
        self._settings = settings
        self._threads = threads
        self._metrics = metrics
        self.on_lost = on_lost
        # spawn, not fork: the serving process has threads (uvicorn, the sweeper) and locks.
        self._ctx = multiprocessing.get_context("spawn")
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # a worker became ready or took a job
        self._futures: dict[int, tuple[Job, Future[Any]]] = {}
        self._pending: deque[Job] = deque()
        self._workers: dict[int, _Worker] = {}
        self._closing = False
        self._start_failures = 0  # workers in a row that died before they were ready
        self._restarts = 0
        for _ in range(processes):
            self._spawn()
        self._collector = threading.Thread(target=self._collect, name="workers", daemon=True)
        self._collector.start()

    def _respawn(self) -> None:
        with self._lock:
            if not self._closing:
                self._spawn()

    def _spawn(self) -> None:
        ours, theirs = self._ctx.Pipe()
        proc = self._ctx.Process(
            target=_worker_main,
            args=(self._settings, theirs, self._threads),
            name="sre-bot-worker",
            daemon=True,
        )
        proc.start()
        theirs.close()
        self._workers[proc.pid] = _Worker(proc, ours)

    # -- what the serving process asks -------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """What `/healthz` says of the workers."""
        with self._lock:
            return {
                "ready": sum(w.ready for w in self._workers.values()),
                "processes": len(self._workers),
                "pids": sorted(self._workers),
                "running": sum(len(w.jobs) for w in self._workers.values()),
                "queued": len(self._pending),
                "restarts": self._restarts,
            }

    def wait_ready(self, timeout: float) -> bool:
        """Whether every worker has built its service within `timeout` seconds."""

        def all_ready() -> bool:
            return bool(self._workers) and all(w.ready for w in self._workers.values())

        with self._changed:
            return self._changed.wait_for(all_ready, timeout)

    def submit(self, kind: str, *args: Any) -> Future[Any]:
        """Queue a job; the future resolves with its result (or WorkerLost).

        Once the pool is stopping a job is not run but reported through `on_lost`, so the
        incident's thread says it was not investigated."""
        job = Job(next(self._ids), kind, args)
        future: Future[Any] = Future()
        with self._lock:
            closing = self._closing
            if not closing:
                self._futures[job.id] = (job, future)
                self._pending.append(job)
                self._dispatch()
        if closing:
            self._fail([(job, future)], _STOPPED)
        return future

    def shutdown(self, wait: bool = True, timeout: float = 60.0) -> None:
        """Stop the workers. With `wait`, queued and running jobs get up to `timeout` seconds;
        whatever is unfinished then is reported through `on_lost`, never dropped silently."""
        deadline = time.monotonic() + (timeout if wait else 0.0)
        if wait:  # let every queued job reach a worker first
            with self._changed:
                self._changed.wait_for(lambda: not self._pending, timeout)
        with self._lock:
            self._closing = True
            workers = list(self._workers.values())
        for w in workers:
            with contextlib.suppress(OSError):
                w.conn.send(None)  # finish what you hold, then exit
        for w in workers:
            w.proc.join(max(0.0, deadline - time.monotonic()))
            if w.proc.is_alive():
                w.proc.terminate()
                w.proc.join(5)
        self._collector.join(timeout=10)  # it buries the workers, reporting what they held
        with self._lock:
            unfinished = list(self._futures.values())
            self._futures.clear()
            self._pending.clear()
        self._fail(unfinished, _STOPPED)

    def _fail(self, entries: list[tuple[Job, Future[Any]]], reason: str) -> None:
        for job, future in entries:
            if self.on_lost is not None:
                try:
                    self.on_lost(job, reason)
                except Exception:
                    log.exception("could not report lost job %s", job.id)
            if not future.done():
                future.set_exception(WorkerLost(reason))

    # -- dispatch and results (the lock held) ------------------------------------------------

    def _dispatch(self) -> None:
        while self._pending and not self._closing:
            free = [w for w in self._workers.values() if w.ready and len(w.jobs) < self._threads]
            if not free:
                return
            w = min(free, key=lambda w: len(w.jobs))
            job = self._pending.popleft()
            try:
                w.conn.send(job)
            except OSError:  # it just died; the collector will notice and replace it
                self._pending.appendleft(job)
                w.ready = False
                continue
            w.jobs.add(job.id)

    def _collect(self) -> None:
        while True:
            with self._lock:
                if self._closing and not self._workers:
                    return
                by_conn = {w.conn: w for w in self._workers.values()}
                by_sentinel = {w.proc.sentinel: w for w in self._workers.values()}
            for ready in multiprocessing.connection.wait([*by_conn, *by_sentinel], _POLL):
                if ready in by_conn:
                    self._receive(by_conn[ready])
            for w in by_sentinel.values():
                if not w.proc.is_alive():
                    self._bury(w)

    def _receive(self, w: _Worker) -> bool:
        """Take one message from `w`; False when there is none (or the pipe has closed)."""
        try:
            if not w.conn.poll():
                return False
            kind, job_id, payload, calls = w.conn.recv()
        except (EOFError, OSError):
            return False  # it exited: the sentinel says so
        if calls and self._metrics is not None:
            replay(self._metrics, calls)
        entry = None
        with self._lock:
            if kind == "ready":
                w.ready = True
            else:
                w.jobs.discard(job_id)
                entry = self._futures.pop(job_id, None)
            self._dispatch()
            self._changed.notify_all()
        if kind != "ready" and entry is not None:
            outcome, error = payload
            if error is None:
                entry[1].set_result(outcome)
            else:
                entry[1].set_exception(RuntimeError(error))
        return True

    def _bury(self, w: _Worker) -> None:
        """A worker exited: take what it had sent, fail what it held, start another."""
        while self._receive(w):  # results it sent before it went (a pipe at EOF ends this)
            pass
        lost: list[tuple[Job, Future[Any]]] = []
        reason = (
            _STOPPED
            if self._closing
            else f"investigation worker {w.proc.pid} exited with code {w.proc.exitcode}"
        )
        with self._lock:
            if self._workers.pop(w.proc.pid, None) is None:
                return
            w.conn.close()
            for job_id in w.jobs:
                entry = self._futures.pop(job_id, None)
                if entry is not None:
                    lost.append(entry)
            if not self._closing:
                # A worker that dies before it is ready (a store it cannot open, a bad
                # setting) would die again at once: back off, 2 s doubling to 60 s.
                self._restarts += 1
                self._start_failures = 0 if w.ready else self._start_failures + 1
                delay = min(60, 2**self._start_failures) if self._start_failures else 0
                log.error("%s; starting another in %d s", reason, delay)
                if delay:
                    timer = threading.Timer(delay, self._respawn)
                    timer.daemon = True
                    timer.start()
                else:
                    self._spawn()
        self._fail(lost, reason)
