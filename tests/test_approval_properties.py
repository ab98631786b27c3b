"""Property-based tests of the approval invariants, against the real gate, kill switch and
executor on a live sandbox cluster.

Hypothesis generates sequences of presses (duplicates, races between threads on two gate
objects, unauthorised users, requesters approving their own destructive change, presses
after expiry), Keep / Roll back now, sweeps by another replica, restarts (new Gate and
KillSwitch objects on the same SQLite file) and time advancing. After every sequence:

1. no change executed without a valid approval (the sandbox's record of served writes, the
   audit log and the gate's book agree);
2. each proposal executed at most once;
3. every executed change was confirmed or rolled back by its deadline plus one sweeper tick.

Time is virtual (`now` is passed to the gate and the kill switch); the cluster is real.
"""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from agents.models import Proposal, Verb
from agents.tools.cluster import Cluster
from approvals.audit import AuditEvent, SQLiteAuditLog
from approvals.books import SQLiteApprovalBook, SQLiteDeadlineBook
from approvals.executor import ExecutionError, Executor
from approvals.gate import Gate, RequestStatus
from approvals.killswitch import KillSwitch, WatchState
from approvals.models import ExecutionEvent
from approvals.policy import ApprovalPolicy, Approvers, Confirmation, Risk
from approvals.resources import Ref
from approvals.verbs import writable_part
from sandbox.generate import generate_scenario
from sandbox.server import Sandbox

NS = "team-000"
APPROVERS = ["UAPPROVER", "UOTHER"]
REQUESTER = "UAPPROVER"  # an approver, so self-approval of destructive changes is tried
USERS = [*APPROVERS, "URANDOM"]
WINDOW = 5.0  # kill-switch window, virtual seconds
TTL = 8  # approval TTL, virtual seconds
TICK = 2.0  # the longest time advance between two sweeps: the sweeper's bound

users = st.sampled_from(USERS)
approvers = st.sampled_from(APPROVERS)
request_index = st.integers(0, 2)
approve = st.sampled_from([True, True, True, False])  # mostly Approve: executions are the point
press = st.tuples(st.just("press"), request_index, users, approve)
steps = st.lists(
    st.one_of(
        press,
        press,
        st.tuples(st.just("race"), request_index, st.lists(users, min_size=2, max_size=4), approve),
        st.tuples(st.just("advance"), st.floats(0.1, TICK)),
        st.tuples(st.just("sweep_other")),
        st.tuples(st.just("restart")),
        st.tuples(st.just("keep"), request_index, approvers),
        st.tuples(st.just("roll_back_now"), request_index, approvers),
    ),
    min_size=1,
    max_size=12,
)
kinds = st.lists(st.sampled_from(["restart", "scale_to_zero"]), min_size=1, max_size=3)


def _proposal(kind: str, i: int) -> Proposal:
    target = f"Deployment/{NS}/app-{i:03d}"
    if kind == "restart":
        return Proposal(verb=Verb.ROLLOUT_RESTART, target=target, rationale="restart it")
    return Proposal(verb=Verb.SCALE, target=target, parameters={"replicas": 0}, rationale="stop it")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """Three small Deployments (app-000 crash-loops) served as a live cluster, for the module."""
    import yaml

    path = tmp_path_factory.mktemp("props") / "three-apps.yaml"
    path.write_text(yaml.safe_dump(generate_scenario(pods=6, namespaces=1, per_deployment=2)))
    sb = Sandbox(path, port=0).start()
    yield sb
    sb.stop()


@pytest.fixture(scope="module")
def api(sandbox):
    """The official Kubernetes client against the sandbox."""
    return Cluster.connect(sandbox.kubeconfig, sandbox.prometheus_url).api


@dataclass
class Run:
    """One generated sequence against fresh books and the shared live cluster."""

    sandbox: Sandbox
    api: object
    db: Path
    policy: ApprovalPolicy
    requests: list[str]
    now: float
    incident: str = "inc-prop"
    executed: dict[str, int] = field(default_factory=dict)  # request id -> executions
    unexpected_writes: list[str] = field(default_factory=list)
    decided_at: dict[str, float] = field(default_factory=dict)  # fix id -> virtual time
    lock: threading.Lock = field(default_factory=threading.Lock)

    def open(self) -> None:
        """(Re)open the gate, kill switches and audit log on the SQLite file, as a new process."""
        self.audit = SQLiteAuditLog(self.db)
        self.gates = [Gate(SQLiteApprovalBook(self.db), self.policy, self.audit) for _ in (0, 1)]
        self.switches = [
            KillSwitch(SQLiteDeadlineBook(self.db), self._executor(None), audit=self.audit)
            for _ in (0, 1)
        ]

    def close(self) -> None:
        """Drop every connection (a restart, or the end of the example)."""
        for g in self.gates:
            g.close()
        for ks in self.switches:
            ks.close()
        self.audit.close()

    def _executor(self, request_id: str | None) -> Executor:
        def hook(event: ExecutionEvent) -> None:
            detail = {"request": request_id, **event.model_dump(mode="json", exclude={"at"})}
            self.audit.append(
                AuditEvent(
                    incident_id=self.incident,
                    action=f"execution.{event.kind}",
                    actor=event.approved_by or "sre-bot",
                    detail=detail,
                )
            )

        return Executor(self.api, audit=hook if request_id else None)  # type: ignore[arg-type]

    @property
    def clock(self) -> datetime:
        """The virtual now, for the gate."""
        return datetime.fromtimestamp(self.now, UTC)

    # -- the steps, each checking that writes happen only where they may ----------------

    def writes(self) -> int:
        """How many writes the cluster has served so far."""
        return len(self.sandbox.world.executed)

    def press(self, gate: Gate, index: int, user: str, approve: bool) -> int:
        """One press, executing on a fresh approval as the Slack handler does; returns writes allowed."""
        req_id = self.requests[index % len(self.requests)]
        d = gate.decide(req_id, user, approve=approve, now=self.clock)
        if not (d.fresh and d.status == RequestStatus.APPROVED):
            return 0
        try:
            record = self._executor(req_id).execute(d.request.proposal, approved_by=user)
        except ExecutionError:
            return 0  # refused in its dry run: nothing was written
        with self.lock:
            self.executed[req_id] = self.executed.get(req_id, 0) + 1
        self.switches[0].arm(
            req_id,
            self.incident,
            record,
            window_seconds=WINDOW,
            confirmation=self.policy.confirmation,
            now=self.now,
        )
        return len(record.dry_run.operations)

    def race(self, index: int, who: list[str], approve: bool) -> int:
        """Several users press at the same instant, on two gate objects (two processes)."""
        barrier = threading.Barrier(len(who))
        allowed: list[int] = []

        def one(i: int, user: str) -> None:
            barrier.wait()
            allowed.append(self.press(self.gates[i % 2], index, user, approve))

        threads = [threading.Thread(target=one, args=(i, u)) for i, u in enumerate(who)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        return sum(allowed)

    def fix_step(self, kind: str, index: int, user: str) -> None:
        """Keep or Roll back now on a request's fix, if it has one (approvers only, as in Slack)."""
        fix_id = self.requests[index % len(self.requests)]
        ks = self.switches[0]
        try:
            ks.get(fix_id)
        except KeyError:
            return
        if kind == "keep":
            ks.keep(fix_id, user)
        else:
            ks.roll_back_now(fix_id, user)

    def sweep(self, which: int = 0) -> None:
        """One sweeper pass at the virtual now: expiry, then deadlines."""
        self.gates[which].expire_due(self.clock)
        self.switches[which].sweep(now=self.now)

    def step(self, s: tuple) -> None:
        """Run one generated step and check that only a fresh approval or a rollback wrote."""
        before = self.writes()
        allowed = 0
        match s:
            case ("press", index, user, approve):
                allowed = self.press(self.gates[0], index, user, approve)
            case ("race", index, who, approve):
                allowed = self.race(index, who, approve)
            case ("advance", dt):
                self.now += dt
                self.sweep(0)
            case ("sweep_other",):
                self.sweep(1)
            case ("restart",):
                self.close()
                self.open()
            case ("keep" | "roll_back_now" as kind, index, user):
                self.fix_step(kind, index, user)
        rolled_back = self.note_decisions()
        wrote = self.writes() - before
        if wrote and not allowed and not rolled_back:
            self.unexpected_writes.append(f"{s!r} wrote {self.sandbox.world.executed[before:]}")

    def note_decisions(self) -> int:
        """Record the virtual time each fix left the watch; returns how many were rolled back now."""
        rolled = 0
        for fix_id in self.requests:
            if fix_id in self.decided_at:
                continue
            try:
                fix = self.switches[0].get(fix_id)
            except KeyError:
                continue
            if fix.state != WatchState.WATCHING:
                self.decided_at[fix_id] = self.now
                rolled += fix.state in (WatchState.ROLLED_BACK, WatchState.ROLLBACK_FAILED)
        return rolled


def _scale_back_up(run: Run, count: int) -> None:
    kube = Executor(run.api).kube  # type: ignore[arg-type]
    for i in range(count):
        ref = Ref.parse(f"Deployment/{NS}/app-{i:03d}")
        if kube.get_or_none(ref)["spec"]["replicas"] == 0:
            kube.patch(ref, {"spec": {"replicas": 2}}, "merge", dry_run=False)


def _spec(sandbox: Sandbox, ref: str) -> dict:
    _, ns, name = ref.split("/")
    with sandbox.world.store.lock:
        sandbox.world.sync()
        return writable_part(sandbox.world.store.get("Deployment", ns, name))["spec"]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(kinds=kinds, script=steps, mode=st.sampled_from(list(Confirmation)))
def test_no_change_without_approval_at_most_once_and_every_fix_decided_by_its_deadline(
    sandbox, api, tmp_path, kinds, script, mode
):
    policy = ApprovalPolicy(
        approvers=Approvers(users=APPROVERS), approval_ttl_seconds=TTL, confirmation=mode
    )
    db = Path(tempfile.mkdtemp(dir=tmp_path)) / "bot.db"
    import time

    run = Run(sandbox, api, db, policy, requests=[], now=time.time())
    run.open()
    _scale_back_up(run, len(kinds))  # an earlier example may have kept a scale to zero
    try:
        for i, kind in enumerate(kinds):
            req = run.gates[0].submit(
                run.incident, i, _proposal(kind, i), requested_by=REQUESTER, now=run.clock
            )
            run.requests.append(req.id)
        for s in script:
            run.step(s)
        # The sweeper keeps ticking until every deadline has passed.
        last = max((f.deadline for f in run.switches[0].watching()), default=run.now)
        while run.now <= last:
            run.step(("advance", TICK))
        _check_invariants(run)
    finally:
        run.close()


def _check_invariants(run: Run) -> None:
    events = list(run.audit.events(run.incident))
    assert not run.unexpected_writes, run.unexpected_writes
    for req_id in run.requests:
        req = run.gates[0].get(req_id)
        applied = [
            e
            for e in events
            if e.action == "execution.applied" and e.detail.get("request") == req_id
        ]
        approvals = [
            e
            for e in events
            if e.action == "proposal.approved" and e.detail.get("request") == req_id
        ]
        # 2. at most once
        assert run.executed.get(req_id, 0) <= 1 and len(applied) <= 1, req_id
        assert len(approvals) <= 1
        if not applied:
            continue
        # 1. only with a valid approval: an approver, in time, not the requester's own destructive
        assert req.status == RequestStatus.APPROVED
        assert req.decided_by in APPROVERS and approvals[0].actor == req.decided_by
        assert req.decided_at is not None and req.decided_at < req.expires_at
        if req.risk == Risk.DESTRUCTIVE:
            assert req.decided_by != req.requested_by
        assert applied[0].actor == req.decided_by
        # 3. decided by the deadline plus one sweeper tick; a rollback restored the snapshot
        fix = run.switches[0].get(req_id)
        assert fix.state != WatchState.WATCHING, fix
        assert run.decided_at[req_id] <= fix.deadline + TICK, (run.decided_at[req_id], fix)
        if fix.state == WatchState.ROLLED_BACK:
            before = writable_part(fix.record.snapshot.get(req.proposal.target))["spec"]
            assert _spec(run.sandbox, req.proposal.target) == before
    for req_id, count in run.executed.items():
        assert count == 1 and req_id in run.requests
    for req_id in run.executed:
        event(f"fix {run.switches[0].get(req_id).state.value}")
