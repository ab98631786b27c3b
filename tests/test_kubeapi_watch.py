"""Watches stream JSON events as objects change; `stop()` ends them promptly."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from tests.conftest import SHARED_SCENARIOS
from tests.support.kube import start_sandbox, wait_for

CHECKOUT = SHARED_SCENARIOS / "checkout-missing-env.yaml"


@pytest.fixture
def sandbox():
    sb = start_sandbox(CHECKOUT)
    try:
        yield sb
    finally:
        sb.stop()


def _collect(url: str, params: dict, events: list, ready: threading.Event) -> None:
    with httpx.stream("GET", url, params=params, timeout=30) as r:
        ready.set()
        for line in r.iter_lines():
            if line:
                events.append(json.loads(line))


def test_watch_by_name_sends_current_state_then_modifications(sandbox):
    base = sandbox.kubernetes_url
    url = f"{base}/apis/apps/v1/namespaces/shop/deployments"
    events: list = []
    ready = threading.Event()
    params = {
        "watch": "true",
        "fieldSelector": "metadata.name=checkout-api",
        "timeoutSeconds": "10",
    }
    t = threading.Thread(target=_collect, args=(url, params, events, ready), daemon=True)
    t.start()
    wait_for(lambda: events, 10, "the initial ADDED event")
    assert events[0]["type"] == "ADDED"
    assert events[0]["object"]["metadata"]["name"] == "checkout-api"
    httpx.patch(
        f"{url}/frontend",
        content=b'{"metadata":{"labels":{"x":"1"}}}',
        headers={"Content-Type": "application/merge-patch+json"},
    )
    httpx.patch(
        f"{url}/checkout-api",
        content=b'{"metadata":{"labels":{"x":"1"}}}',
        headers={"Content-Type": "application/merge-patch+json"},
    )
    mod = wait_for(lambda: [e for e in events if e["type"] == "MODIFIED"], 10, "a MODIFIED event")
    assert all(e["object"]["metadata"]["name"] == "checkout-api" for e in events)
    assert mod[0]["object"]["metadata"]["labels"]["x"] == "1"


def test_stop_ends_open_watches_and_frees_the_port(sandbox):
    url = f"{sandbox.kubernetes_url}/api/v1/namespaces"
    events: list = []
    ready = threading.Event()
    t = threading.Thread(target=_collect, args=(url, {"watch": "1"}, events, ready), daemon=True)
    t.start()
    wait_for(lambda: events, 10, "the watch to start")
    started = time.monotonic()
    sandbox.stop()
    t.join(timeout=5)
    assert not t.is_alive()
    assert time.monotonic() - started < 3
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{sandbox.kubernetes_url}/version", timeout=2)
