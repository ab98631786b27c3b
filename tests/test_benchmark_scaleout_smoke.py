"""The scale-out benchmark, small: it still runs end to end and still checks what it claims.

Six incidents on three real `sre-bot serve --http` replicas over one real Redis: every one
approved on another replica, kept or rolled back, each execution counted exactly once.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from approvals.audit import AuditEvent  # noqa: E402
from approvals.stores import open_stores  # noqa: E402
from benchmarks.scaleout import pct, run  # noqa: E402
from benchmarks.scaleout_checks import Tracked, violations  # noqa: E402
from benchmarks.scaleout_world import DEADLINE, KEPT, ROLL_BACK_NOW, plan_of, scenario  # noqa: E402


def test_six_incidents_on_three_replicas_execute_once_each_and_end_as_planned():
    result = run(incidents=6, replicas=3, window=5, timeout=90)

    assert result.violations == []
    assert result.outcomes == {
        "confirmed": 4,
        "rolled back (deadline)": 1,
        "rolled back (pressed)": 1,
    }
    assert len(result.ack_seconds) == 6 and max(result.ack_seconds) < 3.0  # Slack's ack budget
    assert len(result.rollback_delays) == 1 and 0 <= result.rollback_delays[0] < 5.0
    report = result.report()
    assert "lost or doubled executions: 0" in report and "p99" in report


def test_the_plan_mixes_kept_and_rolled_back_fixes_half_and_half():
    plans = [plan_of(i) for i in range(200)]
    assert plans.count(KEPT) == 100
    assert plans.count(DEADLINE) == 50 and plans.count(ROLL_BACK_NOW) == 50


def test_only_fixes_planned_to_fail_have_a_previous_release_that_never_gets_ready():
    doc = scenario(4)
    unready = {f["when"]["pod"]["namespace"] for f in doc["faults"] if "unready" in f["name"]}
    assert unready == {"shop-002", "shop-003"}


def test_a_doubled_write_to_the_cluster_is_reported_even_when_the_audit_log_looks_right(
    tmp_path,
):
    stores = open_stores(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        for action in ("proposal.approved", "execution.applied", "killswitch.armed"):
            stores.audit.append(AuditEvent(incident_id="inc-1", action=action))
        stores.audit.append(AuditEvent(incident_id="inc-1", action="fix.confirmed"))
        t = Tracked(i=0, plan=KEPT, opener=0, incident_id="inc-1")
        ref = "Deployment/shop-000/checkout-api"
        assert violations([t], stores, [("patch", ref)]) == []
        found = violations([t], stores, [("patch", ref), ("patch", ref)])
        assert found == ["shop-000: 2 writes served to the Deployment, expected 1"]
        stores.audit.append(AuditEvent(incident_id="inc-1", action="execution.applied"))
        assert violations([t], stores, [("patch", ref)]) == [
            "shop-000: execution.applied recorded 2 times"
        ]
    finally:
        stores.close()


def test_percentiles_use_the_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert pct(values, 50) == 50.0 and pct(values, 99) == 99.0 and pct([], 99) == 0.0
