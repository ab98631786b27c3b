"""Helpers for the Kubernetes API tests: run real kubectl against a sandbox, poll conditions."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

KUBECTL = "/usr/bin/kubectl"


class Kubectl:
    """Runs `/usr/bin/kubectl` against one sandbox, with its own discovery cache dir."""

    def __init__(self, kubeconfig: Path, cache_dir: Path) -> None:
        self.kubeconfig = kubeconfig
        self.cache_dir = cache_dir

    def run(self, *args: str, check: bool = True, stdin: str | None = None, timeout: float = 60):
        """Run kubectl; returns the CompletedProcess (raises with its output when check fails)."""
        cmd = [KUBECTL, f"--kubeconfig={self.kubeconfig}", f"--cache-dir={self.cache_dir}", *args]
        p = subprocess.run(cmd, capture_output=True, text=True, input=stdin, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({p.returncode}):\n{p.stderr}{p.stdout}"
            )
        return p

    def out(self, *args: str) -> str:
        """stdout of a kubectl run that must succeed."""
        return self.run(*args).stdout

    def json(self, *args: str) -> Any:
        """`kubectl ... -o json`, parsed."""
        return json.loads(self.out(*args, "-o", "json"))


def wait_for(cond: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll `cond` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(interval)  # polling interval, not synchronisation: the condition decides
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def start_sandbox(scenario_path: Path, **options: Any):
    """A started Sandbox (the real World, with its controllers) for a scenario file."""
    from sandbox.server import Sandbox

    return Sandbox(scenario_path, **options).start()
