"""Investigation worker processes behind a real `sre-bot serve --http` (bot/workers.py).

The serving process acks; its workers open incidents and investigate them against the real
sandbox, post through the Slack Web API double, and send their metrics home. A worker killed
mid-round is replaced and the incident's thread says the round stopped. Workers never outlive
the serving process, even when it is killed with SIGKILL.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.support.bot_runtime import BOT_TOKEN, SIGNING_SECRET, sandbox_for, slash_fields
from tests.support.kube import wait_for
from tests.support.serve_process import port_of, start_serve, stop_process, workers_ready
from tests.support.slack_double import SlackDouble, sign

REPO = Path(__file__).resolve().parents[1]
NOTIFIER = REPO / "sandbox" / "scenarios" / "notifier-missing-secret.yaml"

# Real processes: keep them on one xdist worker, away from the other process-heavy tests.
pytestmark = pytest.mark.xdist_group("serve-processes")


@contextmanager
def serving(slack: SlackDouble, sb, tmp_path: Path, workers: int) -> Iterator[tuple[object, str]]:
    """`sre-bot serve --http` with `workers` worker processes; yields (process, base URL)."""
    env = {
        "SRE_BOT_STORE": f"sqlite:///{tmp_path / 'bot.db'}",
        "KUBECONFIG": str(sb.kubeconfig),
        "SRE_BOT_PROMETHEUS_URL": sb.prometheus_url,
        "SRE_BOT_SLACK_API_URL": slack.base_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SRE_BOT_WORKERS": str(workers),
    }
    log = tmp_path / "serve.log"
    proc = start_serve(env, log, new_session=True)
    try:
        base = f"http://127.0.0.1:{port_of(proc, log, timeout=60)}"
        workers_ready(proc, log, timeout=120)
        yield proc, base
    finally:
        stop_process(proc)


def _slash(base: str, slack: SlackDouble, text: str, channel: str) -> httpx.Response:
    body = urlencode(slash_fields(text, slack.response_url, channel=channel))
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(SIGNING_SECRET, body)}
    return httpx.post(f"{base}/slack/events", content=body, headers=headers, timeout=30)


def _health(base: str) -> dict:
    return httpx.get(f"{base}/healthz", timeout=10).json()


def _replies(slack: SlackDouble, channel: str) -> list[str]:
    return [
        str(c.args.get("text"))
        for c in slack.calls_of("chat.postMessage")
        if c.args.get("channel") == channel and c.args.get("thread_ts")
    ]


def _alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped has exited: it counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_workers_investigate_at_lower_priority_and_the_server_counts_their_rounds(slack, tmp_path):
    with sandbox_for(NOTIFIER) as sb, serving(slack, sb, tmp_path, workers=2) as (proc, base):
        status = _health(base)["workers"]
        assert status["ready"] == 2 and len(status["pids"]) == 2
        assert proc.pid not in status["pids"]
        for pid in status["pids"]:
            assert os.getpriority(os.PRIO_PROCESS, pid) >= 10  # acks win the CPU

        r = _slash(base, slack, "investigate notification-sender rollout is stuck", "CWORK")
        assert r.status_code == 200 and "investigating" in r.text

        # The worker posted the root message and the round's replies, and the root ended
        # the round showing its outcome.
        def finished() -> bool:
            return any(
                c.args.get("channel") == "CWORK"
                and any(s in str(c.args.get("text")) for s in ("[awaiting approval", "[diagnosed"))
                for c in slack.calls_of("chat.update")
            )

        slack.wait_for(finished, timeout=60)
        roots = [
            c
            for c in slack.calls_of("chat.postMessage")
            if c.args.get("channel") == "CWORK" and not c.args.get("thread_ts")
        ]
        assert len(roots) == 1
        assert len(_replies(slack, "CWORK")) >= 5  # four specialists and the diagnosis

        # Counted where Prometheus scrapes: the serving process, not the worker.
        def counted() -> str | None:
            text = httpx.get(f"{base}/metrics", timeout=10).text
            return text if 'sre_bot_investigations_total{outcome="ok"} 1.0' in text else None

        metrics = wait_for(counted, 30, "the worker's round in /metrics")
        assert 'sre_bot_incidents_opened_total{source="slash"} 1.0' in metrics
        assert "sre_bot_investigation_seconds_count 1.0" in metrics


def test_a_worker_killed_mid_round_is_replaced_and_the_thread_says_the_round_stopped(
    slack, tmp_path
):
    with sandbox_for(NOTIFIER) as sb, serving(slack, sb, tmp_path, workers=1) as (_, base):
        sb.latency = 0.5  # every cluster call takes half a second: the round is long
        (victim,) = _health(base)["workers"]["pids"]
        assert _slash(base, slack, "investigate notifier is failing", "CKILL").status_code == 200

        # The round has begun once the worker updates the root message's progress.
        slack.wait_for(
            lambda: [c for c in slack.calls_of("chat.update") if c.args.get("channel") == "CKILL"],
            timeout=60,
        )
        os.kill(victim, signal.SIGKILL)

        stopped = slack.wait_for(
            lambda: [t for t in _replies(slack, "CKILL") if "investigation stopped" in t],
            timeout=60,
        )
        assert f"worker {victim} exited" in stopped[0]
        sb.latency = 0.0

        def replaced() -> list[int] | None:
            status = _health(base)["workers"]
            fresh = [p for p in status["pids"] if p != victim]
            return fresh if status["ready"] == 1 and fresh else None

        wait_for(replaced, 120, "a replacement worker")
        # The replacement takes new work.
        assert _slash(base, slack, "investigate notifier again", "CAGAIN").status_code == 200
        slack.wait_for(lambda: len(_replies(slack, "CAGAIN")) >= 1, timeout=60)


def test_workers_exit_when_the_serving_process_is_killed(slack, tmp_path):
    with sandbox_for(NOTIFIER) as sb, serving(slack, sb, tmp_path, workers=2) as (proc, base):
        pids = _health(base)["workers"]["pids"]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        wait_for(lambda: not any(_alive(p) for p in pids), 30, "the workers to exit")


def test_a_worker_that_cannot_start_is_retried_with_backoff_not_in_a_tight_loop(tmp_path):
    from bot.settings import Settings
    from bot.workers import WorkerPool

    not_a_dir = tmp_path / "a-file"
    not_a_dir.write_text("")
    settings = Settings(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        store=f"sqlite:///{not_a_dir / 'bot.db'}",  # every worker fails to open its store
    )
    pool = WorkerPool(settings, 1)
    try:
        wait_for(lambda: pool.status()["restarts"] >= 2, 60, "two restarts")
        status = pool.status()
        assert status["ready"] == 0
        # 2 s, then 4 s between attempts: a third restart cannot come within 3 s of the second.
        assert pool.wait_ready(3.0) is False
        assert pool.status()["restarts"] == 2
    finally:
        pool.shutdown(wait=False)


def test_sigterm_lets_rounds_drain_and_says_so_in_the_thread_of_one_cut_off(slack, tmp_path):
    with sandbox_for(NOTIFIER) as sb, serving(slack, sb, tmp_path, workers=1) as (proc, base):
        sb.latency = 0.5  # the round outlasts the 2 s drain the tests' serve gets
        assert _slash(base, slack, "investigate notifier is failing", "CTERM").status_code == 200
        slack.wait_for(
            lambda: [c for c in slack.calls_of("chat.update") if c.args.get("channel") == "CTERM"],
            timeout=60,
        )
        proc.send_signal(signal.SIGTERM)  # what Kubernetes sends on a deploy
        assert proc.wait(timeout=30) == 0
        stopped = slack.wait_for(
            lambda: [t for t in _replies(slack, "CTERM") if "stopped (a restart or a deploy)" in t],
            timeout=10,
        )
        assert "Mention me" in stopped[0]
