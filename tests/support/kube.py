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


class StandInWorld:
    """A minimal World (objects served as given, no controllers) for API-layer tests.

    Used only until `sandbox.world.World` is available; it implements the World contract's
    names the HTTP layer needs.
    """

    def __init__(self, scenario: Any, speed: float = 1.0) -> None:
        import copy

        from sandbox.clock import SandboxClock
        from sandbox.store import ObjectStore

        self.store = ObjectStore()
        self.clock = SandboxClock(scenario.clock, speed=speed)
        self.executed: list[tuple[str, str]] = []
        self._logs = scenario.logs
        for obj in scenario.objects:
            self.store.create(copy.deepcopy(obj))

    def sync(self) -> None:
        """Nothing to derive in the stand-in."""

    def record_write(self, verb: str, ref: str) -> None:
        """Remember a served write."""
        self.executed.append((verb, ref))

    def pod_logs(
        self, ns: str, pod: str, container: str | None = None, previous: bool = False
    ) -> str:
        """The first log rule's text."""
        self.store.get("Pod", ns, pod)
        return self._logs[0].text if self._logs else ""

    def evict(self, ns: str, pod: str) -> None:
        """Evicting removes the Pod."""
        self.store.delete("Pod", ns, pod)


def world_is_real() -> bool:
    """True once `sandbox.world.World` exists (the controllers' engine)."""
    try:
        from sandbox.world import World  # noqa: F401
    except ImportError:
        return False
    return True


def start_sandbox(scenario_path: Path, **options: Any):
    """A started Sandbox for a scenario file: the real World when present, else the stand-in."""
    from sandbox.scenario import load_scenario
    from sandbox.server import Sandbox

    if world_is_real():
        return Sandbox(scenario_path, **options).start()
    speed = options.pop("speed", 1.0)
    return Sandbox.for_world(StandInWorld(load_scenario(scenario_path), speed), **options).start()
