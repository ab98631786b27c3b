"""Server-side printing: pod STATUS and RESTARTS as kubectl shows them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sandbox.kubeapi.tables import table
from sandbox.kubeapi.timefmt import human_duration, rfc3339

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)


def _pod(
    state: dict, *, restarts: int = 0, ready: bool = False, last_finished: datetime | None = None
):
    cs = {"name": "app", "ready": ready, "restartCount": restarts, "state": state}
    if last_finished:
        cs["lastState"] = {
            "terminated": {"exitCode": 1, "reason": "Error", "finishedAt": rfc3339(last_finished)}
        }
    return {
        "kind": "Pod",
        "metadata": {
            "name": "p",
            "namespace": "shop",
            "creationTimestamp": rfc3339(NOW - timedelta(minutes=25)),
        },
        "spec": {"nodeName": "node-a", "containers": [{"name": "app"}]},
        "status": {"phase": "Running", "podIP": "10.1.2.3", "containerStatuses": [cs]},
    }


def _cells(pod):
    return table("Pod", [pod], NOW, include="Metadata", resource_version="1")["rows"][0]["cells"]


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ({"waiting": {"reason": "CrashLoopBackOff"}}, "CrashLoopBackOff"),
        ({"waiting": {"reason": "ImagePullBackOff"}}, "ImagePullBackOff"),
        ({"waiting": {"reason": "CreateContainerConfigError"}}, "CreateContainerConfigError"),
        ({"terminated": {"reason": "Completed", "exitCode": 0}}, "Completed"),
        ({"terminated": {"exitCode": 137}}, "ExitCode:137"),
        ({"running": {}}, "Running"),
    ],
)
def test_pod_status_column_follows_container_states(state, status):
    assert _cells(_pod(state))[2] == status


def test_restarts_column_says_when_the_last_restart_was():
    cells = _cells(
        _pod(
            {"waiting": {"reason": "CrashLoopBackOff"}},
            restarts=5,
            last_finished=NOW - timedelta(seconds=32),
        )
    )
    assert cells[1] == "0/1" and cells[3] == "5 (32s ago)" and cells[4] == "25m"


def test_wide_cells_carry_ip_and_node_and_rows_carry_metadata():
    doc = table(
        "Pod", [_pod({"running": {}}, ready=True)], NOW, include="Metadata", resource_version="1"
    )
    assert [c["name"] for c in doc["columnDefinitions"]][:6] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
        "IP",
    ]
    assert doc["rows"][0]["cells"][5:7] == ["10.1.2.3", "node-a"]
    assert doc["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (5, "5s"),
        (119, "119s"),
        (150, "2m30s"),
        (600, "10m"),
        (3 * 3600 + 600, "3h10m"),
        (3 * 86400, "3d"),
        (800 * 86400, "2y70d"),
    ],
)
def test_ages_read_like_kubectl(seconds, text):
    assert human_duration(seconds) == text


def test_row_cache_redoes_ages_and_follows_new_versions():
    """A cached row shows the same cells as a fresh one, ages move on, a write shows at once."""
    import orjson

    from sandbox.kubeapi.tables import RowCache

    cache = RowCache()
    pod = _pod(
        {"waiting": {"reason": "CrashLoopBackOff"}},
        restarts=3,
        last_finished=NOW - timedelta(seconds=40),
    )
    pod["metadata"] |= {"uid": "u-1", "resourceVersion": "7"}

    def both(obj, now):
        cached = table("Pod", [obj], now, include="Metadata", resource_version="7", cache=cache)
        fresh = table("Pod", [obj], now, include="Metadata", resource_version="7")
        return orjson.loads(orjson.dumps(cached)), fresh

    for now in (NOW, NOW + timedelta(minutes=3)):
        cached, fresh = both(pod, now)
        assert cached == fresh
    assert cached["rows"][0]["cells"][3:5] == ["3 (3m40s ago)", "28m"]

    fixed = {**pod, "metadata": {**pod["metadata"], "resourceVersion": "8"}}
    fixed["status"] = {
        **pod["status"],
        "containerStatuses": [
            {"name": "app", "ready": True, "restartCount": 3, "state": {"running": {}}}
        ],
    }
    cached, fresh = both(fixed, NOW)
    assert cached == fresh
    assert cached["rows"][0]["cells"][1:3] == ["1/1", "Running"]
    assert len(cache) == 1
