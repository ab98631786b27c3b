"""`sre-bot sandbox serve`: one JSON line when ready, kubectl works, SIGTERM exits 0."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

from tests.conftest import SHARED_SCENARIOS
from tests.support.kube import Kubectl

CLI = [sys.executable, "-m", "bot.cli", "sandbox", "serve"]


def test_serve_prints_one_json_line_serves_kubectl_and_exits_cleanly_on_sigterm(tmp_path):
    kubeconfig = tmp_path / "kc"
    proc = subprocess.Popen(
        [
            *CLI,
            str(SHARED_SCENARIOS / "checkout-missing-env.yaml"),
            "--json",
            "--kubeconfig-out",
            str(kubeconfig),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready = json.loads(proc.stdout.readline())
        assert set(ready) == {"kubernetes", "prometheus", "kubeconfig"}
        assert ready["prometheus"] == ready["kubernetes"] + "/prometheus"
        assert ready["kubeconfig"] == str(kubeconfig)
        k = Kubectl(kubeconfig, tmp_path / "cache")
        assert "checkout-api" in k.out("get", "deploy", "-n", "shop")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_broken_scenario_names_file_and_line_and_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nclock: '2026-01-01T00:00:00Z'\nsurprise: 1\n")
    p = subprocess.run([*CLI, str(bad)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert f"{bad}:" in p.stderr
