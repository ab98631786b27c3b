"""`sre-bot investigate`: the thread in the terminal, --json, and clear errors (exit 2)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from click.testing import CliRunner

from bot.cli import cli


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_json_prints_only_the_investigation_result(shared_scenarios):
    res = CliRunner().invoke(
        cli,
        [
            "investigate",
            "--scenario",
            str(shared_scenarios / "checkout-missing-env.yaml"),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert (
        data["diagnosis"]["root_cause"].endswith("checkout-api")
        or "checkout-api" in data["diagnosis"]["root_cause"]
    )
    assert data["incident"]["workload"] == "checkout-api"
    assert data["engine"] == "rules"


def test_piped_output_is_plain_text_with_progress_diagnosis_and_kubectl(shared_scenarios):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "investigate",
            "--scenario",
            str(shared_scenarios / "catalog-wrong-target-port.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "\x1b[" not in out  # no colour codes when piped
    assert "4 of 4 specialists done" in out
    assert "Service/shop/catalog" in out
    assert "kubectl " in out
    assert out.index("specialists done") < out.index("Diagnosis")


def test_free_text_overrides_the_scenarios_trigger(shared_scenarios):
    res = CliRunner().invoke(
        cli,
        [
            "investigate",
            "frontend is slow",
            "--json",
            "--scenario",
            str(shared_scenarios / "catalog-wrong-target-port.yaml"),
        ],
    )
    assert res.exit_code == 0, res.output
    incident = json.loads(res.stdout)["incident"]
    assert incident["source"] == "cli" and incident["text"] == "frontend is slow"


def test_an_unreachable_cluster_is_a_clear_error_with_exit_code_2(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": "c", "cluster": {"server": f"http://127.0.0.1:{_closed_port()}"}}
                ],
                "users": [{"name": "u", "user": {}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    res = CliRunner().invoke(
        cli, ["investigate", "checkout is down", "--kubeconfig", str(kubeconfig)]
    )
    assert res.exit_code == 2
    assert "did not answer" in res.stderr
    assert "Traceback" not in res.output


def test_a_bad_scenario_file_is_a_clear_error_with_exit_code_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsummary: x\nnot_a_key: 1\n")
    res = CliRunner().invoke(cli, ["investigate", "--scenario", str(bad)])
    assert res.exit_code == 2
    assert res.stderr.startswith("error: ")
    assert "Traceback" not in res.output


def test_without_text_or_scenario_it_says_what_to_type():
    res = CliRunner().invoke(cli, ["investigate"])
    assert res.exit_code == 2
    assert 'sre-bot investigate "' in res.stderr
