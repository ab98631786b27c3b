"""The Slack ack benchmark, small: it still drives a real `serve --http` and still measures.

Ten signed `/sre investigate` commands, five at a time, against a real bot process and a real
sandbox: every command acked with 200, every one gets its root message and a specialist reply.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.slack_ack import AckResult, pct, run  # noqa: E402


def test_ten_commands_are_all_acked_within_slacks_budget_and_each_gets_its_thread():
    result = run(commands=10, concurrency=5, settle_timeout=60)

    assert result.failures == []
    assert len(result.ack_seconds) == 10 and max(result.ack_seconds) < 3.0  # Slack's ack budget
    assert result.roots == 10 and result.lost == 0
    assert len(result.first_reply_seconds) == 10
    assert all(0 < s < 60 for s in result.first_reply_seconds)
    report = result.report()
    assert "nothing lost" in report and "p99" in report and "first specialist reply" in report


def test_a_command_without_a_root_message_is_reported_lost_and_fails_the_run():
    result = AckResult(
        commands=3,
        concurrency=1,
        send_seconds=1.0,
        ack_seconds=[0.01, 0.01, 0.01],
        first_reply_seconds=[1.0, 1.0],
        roots=2,
    )
    assert result.lost == 1 and not result.ok
    assert "1 LOST" in result.report()


def test_a_slow_p99_ack_fails_the_run_even_when_nothing_is_lost():
    fast = AckResult(1, 1, 1.0, [0.05] * 100, [1.0], roots=1)
    slow = AckResult(1, 1, 1.0, [0.05] * 98 + [0.5, 0.5], [1.0], roots=1)
    assert fast.ok and not slow.ok
    assert "MISSED" in slow.report() and "met" in fast.report()


def test_percentiles_use_the_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert pct(values, 50) == 50.0 and pct(values, 99) == 99.0 and pct([], 99) == 0.0
